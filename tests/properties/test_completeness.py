"""Every registered primitive declares every rule, or says why not (an explicit exemption)."""
import inspect

import pytest

from slope import reference
from slope.backends.iree.emitter import LOWERINGS
from slope.primitives import REGISTRY
from slope.testing import COLUMNS, MissingRule, exemption

RULES = ("abstract_eval", "reference", "jvp", "transpose", "vmap", "sample", "error_inputs")
# rules a primitive may lack by nature, given an exemption with a reason
OPTIONAL = ("reference", "jvp", "transpose", "vmap", "sample", "error_inputs")
NAMES = sorted(REGISTRY)


@pytest.mark.parametrize("name", NAMES)
def test_every_rule_is_declared_or_exempted(name):
    spec = REGISTRY[name]
    for rule in RULES:
        if getattr(spec, rule) is not None:
            continue
        assert rule in OPTIONAL, f"{name}: the {rule} rule is mandatory"
        reason = spec.exempt.get(rule) or (spec.exempt.get("grad") if rule == "jvp" else None)
        assert reason, f"{name}: no {rule} rule and no exemption for it (add spec.exempt[{rule!r}] = reason)"


@pytest.mark.parametrize("name", NAMES)
def test_every_primitive_has_a_stablehlo_lowering(name):
    assert name in LOWERINGS, f"{name}: no lowering in slope/backends/iree/lowerings"


@pytest.mark.parametrize("name", NAMES)
def test_exemptions_have_reasons_and_known_keys(name):
    spec = REGISTRY[name]
    known = set(RULES) | set(COLUMNS) | {"grad", "transpose_keys", "transpose_indices"}
    for key, reason in spec.exempt.items():
        assert key in known, f"{name}: unknown exemption key {key!r}"
        assert isinstance(reason, str) and len(reason.split()) >= 2, f"{name}: exemption {key!r} needs a real reason"


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
            assert "transpose" not in spec.exempt, f"{name}: has a transpose rule and an exemption for it"


def test_specs_are_immutable_once_made():
    """Everything a check needs is declared when a spec is made; nothing patches it afterwards."""
    import dataclasses

    spec = REGISTRY["add"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.jvp = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.exempt = {}
