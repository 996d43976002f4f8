"""What the ci profile really draws: each cell draws its own examples, and the samplers' first
examples exercise the structure of each parameter space (issue 14 item 1: slices were 0-d or empty,
only self-inverse permutations were drawn, float32 and float64 drew the same examples)."""
import numpy as np
import pytest

from slope.primitives import REGISTRY
from slope.primitives.verify import Verify
from slope.testing import strategies
from slope.testing.primitive import drawn_examples


def _params(name, check="vjp", dtype="float32"):
    return [ex.params for ex in drawn_examples(name, check, dtype, profile="ci")]


def test_seeds_are_stable_and_differ_per_cell():
    a = strategies.stable_seed("transpose", "vjp", "float32")
    assert a == strategies.stable_seed("transpose", "vjp", "float32")
    assert len({a, strategies.stable_seed("transpose", "vjp", "float64"),
                strategies.stable_seed("transpose", "second_order", "float32")}) == 3


def test_float32_and_float64_and_columns_draw_different_examples():
    def key(exs):
        return [(ex.params, [np.asarray(a, np.float64).round(6).tolist() for a in ex.args]) for ex in exs]

    f32 = key(drawn_examples("sin", "jvp", "float32", "ci"))
    assert f32 != key(drawn_examples("sin", "jvp", "float64", "ci"))
    assert f32 != key(drawn_examples("sin", "linearize", "float32", "ci"))


def test_transpose_draws_permutations_that_are_not_their_own_inverse():
    perms = [p["perm"] for p in _params("transpose")]
    assert any(tuple(p[i] for i in p) != tuple(range(len(p))) for p in perms), perms


def test_slices_have_starts_strides_and_are_not_empty():
    ps = _params("slice")
    assert any(any(s > 0 for s in p["start_indices"]) and any(s > 1 for s in p["strides"])
               and all(lim > st for st, lim in zip(p["start_indices"], p["limit_indices"])) and p["strides"]
               for p in ps), ps


def test_pads_have_interior_padding_and_negative_edges():
    ps = _params("pad")
    assert any(any(i > 0 for i in p["interior"]) for p in ps), ps
    assert any(any(v < 0 for v in p["low"] + p["high"]) for p in ps), ps


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_max"])
def test_reductions_over_several_axes(name):
    assert any(len(p["axes"]) >= 2 for p in _params(name)), _params(name)


def test_gathers_index_some_but_not_all_dims():
    exs = drawn_examples("gather", "vjp", "float32", "ci")
    assert any(0 < ex.args[1].shape[-1] < ex.args[0].ndim for ex in exs)


def test_structured_primitives_draw_more_examples_than_smooth_unary_ones():
    assert len(drawn_examples("transpose", "jit", "float32", "ci")) > len(drawn_examples("exp", "jit", "float32", "ci"))


@pytest.mark.parametrize("name", ["abs", "maximum", "minimum", "clamp", "reduce_max", "reduce_min", "sort"])
def test_kinks_are_declared_and_the_edge_cases_reach_them(name):
    """Every primitive with a conventional derivative at a kink declares it, and one of its edge
    cases sits on the kink with finite values (so the derivative checks compare the convention)."""
    v = REGISTRY[name].verify
    assert v.on_derivative_kink is not None and v.kink_derivative is not None and v.edge_cases is not None
    on_kink = [args for args, params in v.edge_cases(REGISTRY[name].verify.dtypes[0])
               if all(np.all(np.isfinite(a)) for a in args if np.asarray(a).dtype.kind == "f")
               and v.on_derivative_kink(*args, **params)]
    assert on_kink


def test_kink_derivative_needs_on_derivative_kink():
    with pytest.raises(ValueError, match="kink_derivative needs on_derivative_kink"):
        Verify(kink_derivative=lambda args, ts: ts)


def test_dtype_blind_rules_are_spot_checked_at_other_dtypes():
    """Examples go where bugs hide: a rule's structure is drawn at full budget at the main dtype; vmap at
    a second dtype and every check of the float64 column draw one random example (a lowering at that
    dtype, or a derivative rule slightly off under float64's tight tolerance, shows on any)."""
    full = len(drawn_examples("reduce_max", "vmap", "float32", "ci"))
    assert full > 1
    assert len(drawn_examples("reduce_max", "vmap", "int32", "ci")) == 1
    assert len(drawn_examples("reduce_max", "jit", "int32", "ci")) == full  # each dtype's lowering: full budget
    assert len(drawn_examples("reduce_max", "jit", "float64", "ci")) == 1
    assert len(drawn_examples("reduce_max", "vjp", "float32", "ci")) > 1
    assert len(drawn_examples("reduce_max", "vjp", "float64", "ci")) == 1


@pytest.mark.parametrize("check", ["vjp", "linearize"])
def test_jit_call_spot_checks_reach_a_nested_jit(check):
    """The float64 column draws one example: it must still hold a jit_call inside the program, which
    alone reaches partial_eval_program's nested branch (a mutant there survived ci/mutation.py --seed 23)."""
    (ex,) = drawn_examples("jit_call", check, "float64", "ci")
    assert any(e.spec.name == "jit_call" for e in ex.params["program"].eqns)
