"""Every registered primitive declares every rule, or says why not (an explicit exemption)."""
import inspect

import pytest

from slope import reference
from slope.backends.iree.emitter import LOWERINGS
from slope.primitives import REGISTRY
from slope.primitives.verify import EXEMPTABLE, Exempt, Verify
from slope.testing import COLUMNS, MissingRule, exemption
from slope.testing.primitive import has_rule
from slope.testing.samplers import SAMPLERS

RULES = ("abstract_eval", "reference", "jvp", "transpose", "vmap", "sample", "error_inputs")
# rules a primitive may lack by nature, given an exemption with a reason
OPTIONAL = ("reference", "jvp", "transpose", "vmap", "sample", "error_inputs")
NAMES = sorted(REGISTRY)


@pytest.mark.parametrize("name", NAMES)
def test_every_rule_is_declared_or_exempted(name):
    spec = REGISTRY[name]
    for rule in RULES:
        if has_rule(spec, rule):  # "sample": a sampler registered under its name in slope.testing.samplers
            continue
        assert rule in OPTIONAL, f"{name}: the {rule} rule is mandatory"
        ex = spec.verify.exempt
        reason = ex.get(rule) or (ex.get("grad") if rule == "jvp" else None)
        assert reason, f"{name}: no {rule} rule and no exemption for it (add verify=Verify(exempt={{{rule!r}: ...}}))"


def test_every_sampler_samples_a_registered_primitive():
    """No dead samplers: each SAMPLERS key names a registered primitive (a renamed or removed primitive
    must take its sampler along), and no primitive has both a sampler and an exemption for one."""
    dead = sorted(set(SAMPLERS) - set(REGISTRY))
    assert not dead, f"samplers of no registered primitive: {dead}"
    both = sorted(n for n in SAMPLERS if "sample" in REGISTRY[n].verify.exempt)
    assert not both, f"primitives with a sampler and an exemption for it: {both}"


@pytest.mark.parametrize("name", NAMES)
def test_every_primitive_has_a_stablehlo_lowering(name):
    assert name in LOWERINGS, f"{name}: no lowering in slope/backends/iree/lowerings"


def test_the_exemptable_names_cover_every_check_column():
    """The primitives layer declares what may be exempted; every column of the harness is among it."""
    assert set(COLUMNS) <= EXEMPTABLE, set(COLUMNS) - EXEMPTABLE
    assert set(OPTIONAL) <= EXEMPTABLE


@pytest.mark.parametrize("name", NAMES)
def test_exemptions_have_reasons_and_known_keys(name):
    spec = REGISTRY[name]
    for key, reason in spec.verify.exempt.items():
        assert key in EXEMPTABLE, f"{name}: unknown exemption key {key!r}"
        assert isinstance(reason, Exempt), f"{name}: exemption {key!r} needs an Exempt reason"


def test_verify_rejects_unknown_keys_and_free_text_reasons():
    with pytest.raises(ValueError, match="unknown exemption key 'transpose_indices'"):
        Verify(exempt={"transpose_indices": Exempt.NOT_LINEAR})
    with pytest.raises(TypeError, match="must be an Exempt member"):
        Verify(exempt={"transpose": "not linear"})
    assert all(len(r.value.split()) >= 4 for r in Exempt), "every reason is a sentence"


@pytest.mark.parametrize("name", NAMES)
def test_every_cell_is_planned(name):
    for column in COLUMNS:
        try:
            exemption(REGISTRY[name], column)
        except MissingRule as e:
            pytest.fail(str(e))


@pytest.mark.parametrize("name", NAMES)
def test_doc_and_reference_location(name):
    spec = REGISTRY[name]
    assert spec.doc and "\n" not in spec.doc, f"{name}: needs a one-line doc"
    if spec.reference is not None:
        module = inspect.getmodule(spec.reference)
        assert module is not None and module.__name__.startswith(reference.__name__), (
            f"{name}: the oracle must live in slope/reference/, found in {module}")


def test_linear_primitives_are_exactly_the_ones_with_transpose():
    """A spec with a transpose rule must not claim to be non-linear, and vice versa."""
    for name in NAMES:
        spec = REGISTRY[name]
        if spec.transpose is not None:
            assert "transpose" not in spec.verify.exempt, f"{name}: has a transpose rule and an exemption for it"


def test_specs_are_immutable_once_made():
    """Everything a check needs is declared when a spec is made; nothing patches it afterwards."""
    import dataclasses

    spec = REGISTRY["add"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.jvp = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.verify = Verify()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.verify.dtypes = ()
    with pytest.raises(TypeError):
        REGISTRY["sign"].verify.exempt["grad"] = Exempt.NOT_LINEAR
