"""The harness must catch wrong specs: each test-only spec below has one classic bug, and the
check that owns that property must fail on it (under the same Hypothesis profile as the suite)."""
import dataclasses

import numpy as np
import pytest

import slope
from slope import lax
from slope.backends.iree.emitter import LOWERINGS
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.primitives import REGISTRY
from slope.primitives.spec import _call_signature
from slope.testing import Mismatch, batched, check_primitive, run_check
from slope.testing.batched import run_jitted
from slope.testing.checks import NotApplicable
from slope.testing.samplers import SAMPLERS


@pytest.fixture(autouse=True)
def _restore_registries():
    """broken() files its copy's lowering and sampler by name; drop them after each test."""
    lowerings, samplers = dict(LOWERINGS), dict(SAMPLERS)
    yield
    for table, saved in ((LOWERINGS, lowerings), (SAMPLERS, samplers)):
        table.clear()
        table.update(saved)


def broken(name, lowering=None, **changes):
    """A copy of a registered spec (not registered itself) with some rules replaced, named after
    them; its StableHLO lowering is the original's, or `lowering`; its sampler the original's."""
    new_name = "_".join(["broken", name, *sorted(changes), *(["lowering"] if lowering else [])])
    LOWERINGS[new_name] = lowering or LOWERINGS[name]
    SAMPLERS[new_name] = SAMPLERS[name]
    return dataclasses.replace(REGISTRY[name], name=new_name, **changes)


def _wrong_sign_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return [lax.sin(x)], [lax.neg(lax.mul(lax.cos(x), t))]


def _self_jvp(spec):
    """A JVP that applies `spec` itself to the tangent, so that transposing reaches spec.transpose."""

    def jvp(primals, tangents, **params):
        return [spec.bind(primals[0], **params)], [spec.bind(tangents[0], **params)]

    return jvp


def _rev_vmap_ignoring_batch(axis_size, args, dims, *, dimensions):
    (x,), (d,) = args, dims
    return [lax.rev(x, dimensions=dimensions)], [d]  # forgot to shift the reversed dims past the batch dim


def _exp_shape_off_by_one(x):
    return [Aval(x.shape[:-1] + (x.shape[-1] + 1,), x.dtype) if x.shape else Aval((1,), x.dtype)]


def _exp_lowered_as_expm1(ctx, args, in_avals, out_avals):
    return [ctx.unary("stablehlo.exponential_minus_one", args[0], in_avals[0])]


def _dus_lowered_in_place(ctx, args, in_avals, out_avals):
    """dynamic_update_slice without its fresh copy: IREE then writes into the caller's buffer."""
    if in_avals[1].size == 0 or in_avals[1].shape == in_avals[0].shape:
        return [args[0] if in_avals[1].size == 0 else args[1]]
    return [ctx.generic("stablehlo.dynamic_update_slice", list(args), in_avals, out_avals)]


_GATHER = LOWERINGS["gather"]


def _gather_wrapping_unsigned_indices(ctx, args, in_avals, out_avals):
    """gather that converts uint32 indices to int32 without capping them: 2^31 and more turn negative
    and clamp to row 0 instead of the last row (a mutant of the lowering's cap survived verify)."""
    (x, idx), (xa, ia) = args, in_avals
    if ia.dtype is dt.uint32:
        i32 = Aval(ia.shape, dt.int32)
        idx, ia = ctx.generic("stablehlo.convert", [idx], [ia], [i32]), i32
    return _GATHER(ctx, [x, idx], [xa, ia], out_avals)


def _self_transposing(name, transpose):
    """A broken copy whose JVP binds the copy itself, so that vjp reaches its (wrong) transpose rule."""
    made = []  # specs are frozen: the JVP finds its own spec here once it is made
    spec = broken(name, transpose=transpose,
                  jvp=lambda primals, tangents, **params: _self_jvp(made[0])(primals, tangents, **params))
    made.append(spec)
    return spec


def _transpose_not_inverted(cts, x, *, perm):
    return [lax.transpose(cts[0], perm=perm)]  # the adjoint transposes by the inverse permutation


def _abs_jvp_zero_at_zero(primals, tangents):
    (x,), (t,) = primals, tangents  # PyTorch's abs'(0) = 0 where slope declares JAX's 1
    zero = lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype)
    return [lax.abs(x)], [lax.select(lax.gt(x, zero), t, lax.select(lax.lt(x, zero), lax.neg(t), zero))]


def _maximum_jvp_ties_to_x(primals, tangents):
    (x, y), (tx, ty) = primals, tangents  # ties give x's tangent where slope declares a 1/2 - 1/2 split
    return [lax.maximum(x, y)], [lax.select(lax.ge(x, y), tx, ty)]


CASES = {
    "jvp with the wrong sign": (lambda: broken("sin", jvp=_wrong_sign_jvp), ["jvp", "vjp", "linearize", "second_order"]),
    "transpose that is not the adjoint": (None, ["vjp"]),
    "vmap with the wrong batch dim": (lambda: broken("rev", vmap=_rev_vmap_ignoring_batch), ["vmap"]),
    "shape rule off by one": (lambda: broken("exp", abstract_eval=_exp_shape_off_by_one), ["abstract_eval"]),
    "lowering of another function": (lambda: broken("exp", lowering=_exp_lowered_as_expm1), ["eager", "jit"]),
    "lowering that writes into its operand": (lambda: broken("dynamic_update_slice", lowering=_dus_lowered_in_place),
                                              ["eager", "jit"]),
    # the edge cases index with uint32 values of 2^31 and more
    "gather lowering that wraps uint32 indices": (lambda: broken("gather", lowering=_gather_wrapping_unsigned_indices),
                                                   ["eager", "jit"]),
    # the samplers draw permutations that are not their own inverse (3-cycles)
    "transpose rule that forgot to invert its permutation": (lambda: _self_transposing("transpose", _transpose_not_inverted),
                                                             ["vjp"]),
    # the edge cases put inputs on kinks, where the declared convention (kink_derivative) is checked
    "abs'(0) = 0 instead of the declared 1": (lambda: broken("abs", jvp=_abs_jvp_zero_at_zero),
                                               ["jvp", "vjp", "linearize", "second_order"]),
    "maximum ties not split 1/2 - 1/2": (lambda: broken("maximum", jvp=_maximum_jvp_ties_to_x),
                                          ["jvp", "vjp", "linearize", "second_order"]),
}


def _neg_with_identity_transpose():
    made = []  # specs are frozen: the JVP finds its own spec here once it is made
    spec = broken("neg", transpose=lambda cts, x: [cts[0]],  # the adjoint of -x is -ct
                  jvp=lambda primals, tangents, **params: _self_jvp(made[0])(primals, tangents, **params))
    made.append(spec)
    return spec


def _make(case):
    factory, _ = CASES[case]
    return _neg_with_identity_transpose() if factory is None else factory()


@pytest.mark.parametrize("case,check", [(c, k) for c, (_, checks) in CASES.items() for k in checks])
def test_check_catches(case, check):
    spec = _make(case)
    with pytest.raises(Mismatch):
        run_check(spec, check, "float32")


def test_error_inputs_with_a_wrong_message_are_caught():
    spec = REGISTRY["add"]
    cases = spec.error_inputs()
    wrong = [dataclasses.replace(c, match="this text is not in the message") for c in cases]
    with pytest.raises(Mismatch):
        run_check(broken("add", error_inputs=lambda: wrong), "errors")


@pytest.mark.parametrize("case", list(CASES))
def test_check_primitive_reports_the_broken_column(case):
    spec = _make(case)
    results = check_primitive(spec, checks=CASES[case][1], raise_on_failure=False)
    assert {c for c, r in results.items() if r.status == "fail"} == set(CASES[case][1])


def test_check_primitive_passes_the_real_spec():
    results = check_primitive("neg", raise_on_failure=False)
    assert all(r.status in ("pass", "exempt") for r in results.values()), results


def test_errors_column_catches_a_primitive_that_accepts_unknown_params():
    """spec.py's call signature with names=None (a mutant of its VAR_KEYWORD test) lets lax.add(x, y,
    foo=1) through: the errors column binds one well-formed error input with a param it does not take."""
    spec = broken("add")
    lo, hi, _, required = spec_signature = _call_signature(spec)
    object.__setattr__(spec, "_signature", (lo, hi, None, required))
    with pytest.raises(Mismatch, match="not_a_param"):
        run_check(spec, "errors")
    assert spec_signature[2] == frozenset()  # the real signature: add takes no params


def test_errors_column_catches_a_param_check_that_accepts_the_wrong_kind(monkeypatch):
    """A mutant of spec.py's preferred_dtype check survived verify (--seed 23): no sampler draws that
    optional param. The errors column binds each checked param with a value of the wrong kind."""
    from slope.primitives import spec as spec_module

    monkeypatch.setitem(spec_module._PARAM_CHECKS, "preferred_dtype", lambda v: True)
    with pytest.raises(Mismatch, match="preferred_dtype"):
        run_check("dot_general", "errors")



_STAGED_TOGETHER = batched._staged_together  # the real one: conftest's dry run of a test patches it first


def _three_examples(body):
    """A stand-in for run_check's Hypothesis test: body on three explicit examples (the second is
    rejected by the check below)."""
    from hypothesis import Phase, example, given, settings, strategies

    test = settings(phases=[Phase.explicit], database=None)(given(ex=strategies.none())(body))
    for x in (np.arange(3, dtype=np.float32), np.float32(-7.0), np.float32(1.0)):
        test = example(ex=x)(test)
    return test


def _doubling_check(wrong_for=None):
    """A check in the shape of slope's: preparation, its one jitted call, then comparisons."""
    seen = []

    def check(spec, x):
        if x.ndim == 0 and x < 0:
            raise NotApplicable("negative")
        got = run_jitted(lambda t: lax.mul(t, lax.full(shape=t.shape, value=2.0, dtype=t.dtype)), "double", slope.tensor(x))
        seen.append(np.asarray(got))
        expected = 2 * x + (1 if wrong_for is not None and x.shape == wrong_for else 0)
        if not np.array_equal(np.asarray(got), expected):
            raise Mismatch(f"double({x}) = {got}")
    return check, seen


def test_batched_checks_hand_each_example_its_own_result(monkeypatch):
    sizes = []
    monkeypatch.setattr(batched, "_staged_together", lambda calls, name: (sizes.append(len(calls)),
                                                                          _STAGED_TOGETHER(calls, name))[1])
    check, seen = _doubling_check()
    assert batched.run_batched(REGISTRY["neg"], check, _three_examples, dry_run=False) is True
    assert sizes == [2]  # the rejected example stages nothing
    assert [s.tolist() for s in seen] == [2.0, [0.0, 2.0, 4.0]]


@pytest.mark.parametrize("wrong_for", [(), (3,)])
def test_a_batched_check_failing_for_one_example_is_given_up(wrong_for):
    """run_check then runs the check example by example under Hypothesis, which reports the failure."""
    check, _ = _doubling_check(wrong_for)
    outcome = batched.run_batched(REGISTRY["neg"], check, _three_examples, dry_run=False)
    assert outcome is not True and "double, 2 examples staged in batches of up to 8, failed on" in outcome


def test_a_batch_that_fails_where_each_example_alone_passes_warns(monkeypatch):
    """A batched program that goes wrong (here: its results swapped between examples) while every
    example alone passes is the kind of miscompile a composed program shows: run_check warns."""

    def swapped(calls, name):
        fn, args = _STAGED_TOGETHER(calls, name)
        return (lambda *a: fn(*a)[::-1]), args

    monkeypatch.setattr(batched, "_staged_together", swapped)
    with pytest.warns(batched.BatchWarning, match="each example alone passes"):
        run_check("cumsum", "jvp", "float32")


def test_a_passing_check_compiles_its_examples_a_batch_at_a_time(monkeypatch):
    sizes = []
    monkeypatch.setattr(batched, "_staged_together", lambda calls, name: (sizes.append(len(calls)),
                                                                          _STAGED_TOGETHER(calls, name))[1])
    run_check("cumsum", "vjp", "float32")
    assert sum(sizes) >= 6 and max(sizes) <= batched.CALLS_PER_PROGRAM  # cumsum draws 1.5 x 4 examples
    assert len(sizes) == -(-sum(sizes) // batched.CALLS_PER_PROGRAM)


def test_a_batch_too_large_for_one_program_is_split(monkeypatch):
    sizes = []
    monkeypatch.setattr(batched, "MAX_TEXT", 1)  # every program is too large to share one
    monkeypatch.setattr(batched, "_staged_together", lambda calls, name: (sizes.append(len(calls)),
                                                                          _STAGED_TOGETHER(calls, name))[1])
    run_check("cumsum", "vjp", "float32")
    first = sizes[0]  # the first batch, then each of its calls alone
    assert first > 1 and sizes[1:first + 1] == [1] * first


def test_the_jit_check_is_batched_where_its_programs_are_not_eagers(monkeypatch):
    """A primitive whose eager kernel is shape-polymorphic jits its static twin, and an ops row's
    jit program is its whole composite: those are staged together. Elsewhere a primitive staged
    alone is eager's very program, compiled once for both checks."""
    from slope.testing.primitive import batches

    assert batches("add", "jit") and batches("ops.softmax", "jit") and not batches("cumsum", "jit")
    sizes = []
    monkeypatch.setattr(batched, "_staged_together", lambda calls, name: (sizes.append(len(calls)),
                                                                          _STAGED_TOGETHER(calls, name))[1])
    run_check("add", "jit", "float32")
    assert sizes and max(sizes) > 1


def test_the_batched_jit_check_reads_back_the_operands_the_batch_ran_on(monkeypatch):
    """IREE may reuse an argument's buffer for a result (iree-org/iree#16168); batched, the jit check
    reads back the tensors its staged call was given, not fresh ones. Here the batch leaves operand 0
    of every call changed, as such a reuse would."""
    real = batched._batches

    def clobbering(calls):
        def run(fn):
            def ran(*flat):
                outs = fn(*flat)
                for (_, _, call_args) in calls:
                    call_args[0]._buf = slope.tensor(call_args[0].numpy() + 1)._buf
                return outs
            return ran
        return [(run(fn), args) for fn, args in real(calls)]

    monkeypatch.setattr(batched, "_batches", clobbering)
    with pytest.warns(batched.BatchWarning, match="changed operand 0"):
        run_check("add", "jit", "float32")
