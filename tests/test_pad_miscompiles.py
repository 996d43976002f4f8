"""Pads that IREE 3.13 miscompiles or rejects (docs/stablehlo-notes.md pitfalls 20-21, §19): each
program runs eagerly and under slope.jit, with grad, vmap and grad-of-grad, in float32 and float64,
against NumPy and the math.

* Two pads in a row with the same padding value, one of them with interior padding, came out
  wrong: IREE's FoldSuccessiveTensorInsertSliceOps and MLIR's FoldInsertPadIntoFill merge the two
  `insert_slice`s a pad becomes and drop the strides (pad(pad(v, interior 1), low 1) of [10, 20]
  gave [0, 10, 20, 0]). Gradients create such chains: the second derivative of a single interior
  pad was half what it should be.
* A pad right after a sort, or two pads in a row with different padding values after any
  computed value, failed to compile ("'linalg.generic' op write affecting operations on global
  resources are restricted to workgroup distributed contexts"): the pads' `insert_slice`s were
  fused into the producer's dispatch.

Truth: NumPy (slope.reference.pad), gradients of sum(f(x) * w) by central differences of the float64
NumPy program (exact: every program is linear or piecewise linear), and, since every program has
f(s x) = s (f(x) - f(0)) + f(0) for s > 0, d^2/ds^2 sum(f(s x)^2) = 2 sum((f(x) - f(0))^2).
Each class's checks run in one jitted module per dtype (and once eagerly, op by op).
"""
import itertools

import numpy as np
import pytest
from testutil import assert_close

import slope
from slope import lax
from slope import reference as ref
from slope.testing.dryrun import precompile_eager


def pad(x, value, low, high, interior=None):
    v = lax.full(shape=(), value=value, dtype=x.dtype)
    return lax.pad(x, v, low=low, high=high, interior=interior or (0,) * len(low))


def np_pad(x, value, low, high, interior=None):
    return ref.pad(x, np.asarray(value, x.dtype), low=low, high=high, interior=interior or (0,) * len(low))


def np_sort(x, dimension):
    return np.sort(x, axis=dimension)


def np_cummax(x, axis):
    return np.maximum.accumulate(x, axis=axis)


# name: (program written with ops=(pad, sort, cummax), input shape); the same code runs on slope and NumPy
SLOPE_OPS = (pad, lambda x, dimension: lax.sort(x, dimension=dimension)[0], lambda x, axis: lax.cummax(x, axis=axis))
NUMPY_OPS = (np_pad, np_sort, np_cummax)

STRIDED = {  # class 1: two pads with one padding value, one of them with interior padding
    "interior_then_edge": (lambda x, pad, sort, cummax: pad(pad(x, 0.0, (0,), (0,), (1,)), 0.0, (1,), (0,)), (2,)),
    "edge_then_interior": (lambda x, pad, sort, cummax: pad(pad(x, 0.0, (2,), (1,)), 0.0, (1,), (0,), (1,)), (3,)),
    "interior_then_crop_2d": (lambda x, pad, sort, cummax: pad(pad(x, 1.5, (1, 0), (0, 0), (0, 2)), 1.5, (-1, 1), (2, -1)),
                              (3, 2)),
    "one_interior_pad": (lambda x, pad, sort, cummax: pad(x, 0.0, (1,), (0,), (1,)), (3,)),  # its derivatives chain pads
}
FUSED = {  # class 2: pads that IREE fused into their producer's dispatch
    "pad_after_sort_dim0": (lambda x, pad, sort, cummax: pad(sort(x, 0), 0.0, (1, 0), (0, 1)), (4, 3)),
    "pad_after_sort_dim1": (lambda x, pad, sort, cummax: pad(sort(x, 1), 0.0, (0, 1), (1, 0), (1, 0)), (3, 4)),
    "two_pad_values_after_cummax": (lambda x, pad, sort, cummax: pad(pad(cummax(x, 0), 0.0, (1, 0), (0, 0)), 1.0, (0, 1),
                                                                     (0, 0)), (4, 3)),
}
S0 = 1.5


def _inputs(programs, dtype):
    rng = np.random.default_rng(7)
    out = {}
    for name, (prog, shape) in programs.items():
        n = int(np.prod(shape))
        x = (rng.permutation(n).reshape(shape) + 1.0 + rng.uniform(0, 0.5, shape)).astype(dtype)  # distinct: no ties
        xb = np.stack([x, -x, x[::-1].copy() if x.ndim == 1 else x * 2]).astype(dtype)
        w = rng.standard_normal(prog(x, *NUMPY_OPS).shape).astype(dtype)
        out[name] = (x, xb, w)
    return out


def _transforms(programs):
    """Everything the test compares for each program: f(x), grad of sum(f(x) * w), vmap(f), and
    d^2/ds^2 sum(f(s x)^2) at s = S0."""
    def run(xs, xbs, ws, s):
        outs = []
        for (prog, _), x, xb, w in zip(programs.values(), xs, xbs, ws):
            f = lambda v, prog=prog: prog(v, *SLOPE_OPS)  # noqa: E731
            g = slope.grad(lambda v, f=f, w=w: (f(v) * w).sum())(x)
            hh = slope.grad(slope.grad(lambda t, f=f, x=x: (f(x * t) ** 2).sum()))(s)
            outs.append((f(x), g, slope.vmap(f)(xb), hh))
        return outs
    return run


def _expected(programs, inputs):
    out = []
    for (prog, _), (x, xb, w) in zip(programs.values(), inputs.values()):
        f = lambda v, prog=prog: prog(v, *NUMPY_OPS)  # noqa: E731
        wide = x.astype(np.float64)
        eps = 0.125  # inputs are >= 0.5 apart: every difference is taken on one linear piece
        grad = np.zeros_like(wide)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(wide)
            e[i] = eps
            grad[i] = np.sum((f(wide + e) - f(wide - e)) * w) / (2 * eps)
        core = f(wide) - f(np.zeros_like(wide))
        out.append((f(x), grad, np.stack([f(b) for b in xb]), 2 * np.sum(core ** 2)))
    return out


def _check(programs, dtype):
    inputs = _inputs(programs, dtype)
    run = _transforms(programs)
    args = [[slope.tensor(v[k]) for v in inputs.values()] for k in range(3)]
    s = slope.tensor(np.asarray(S0, dtype))
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    jitted = slope.jit(run)
    program = jitted.lower(*args, s).program
    # eager runs op by op: compile the ops it binds (those of the staged program) a few dozen per module
    precompile_eager(program.eqns)
    for mode, fn in [("eager", run), ("jit", jitted)]:
        got = fn(*args, s)
        for name, outs, want in zip(programs, got, _expected(programs, inputs)):
            for what, o, w in zip(("value", "grad", "vmap", "grad of grad"), outs, want):
                try:
                    assert o.numpy().dtype == dtype
                    assert_close(o.numpy(), w, **tol)
                except AssertionError as err:
                    raise AssertionError(f"{name}, {what}, {mode}: {err}") from None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chained_pads_with_interior_padding_keep_their_strides(dtype):
    _check(STRIDED, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pads_after_sort_and_after_pads_with_another_value_compile(dtype):
    _check(FUSED, dtype)


def test_issue_examples():
    """The two programs of the issue, verbatim."""
    z = lambda: lax.full(shape=(), value=0.0, dtype=slope.float32)  # noqa: E731
    f = lambda v: lax.pad(lax.pad(v, z(), low=(0,), high=(0,), interior=(1,)), z(), low=(1,), high=(0,), interior=(0,))  # noqa: E731
    x = slope.tensor(np.array([10.0, 20.0], np.float32))
    assert f(x).tolist() == slope.jit(f)(x).tolist() == [0.0, 10.0, 0.0, 20.0]
    x = slope.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    gg = slope.grad(slope.grad(lambda s: (lax.pad(x * s, z(), low=(1,), high=(0,), interior=(1,)) ** 2).sum()))
    s = slope.tensor(np.float32(1.5))
    assert float(gg(s)) == float(slope.jit(gg)(s)) == 28.0  # 2 * (1 + 4 + 9)


def test_interior_pad_then_cropping_pad_then_strided_slice():
    """Regression (found by the gather checks): under jit, an interior pad followed by a pad with a
    negative (cropping) edge and a strided slice gave wrong values on IREE 3.13 (16 of these 20)."""
    a = np.arange(1, 25, dtype=np.float32).reshape(2, 3, 4)
    cases = list(itertools.product([1, 2], [(-1, -1), (-2, 0), (0, -2), (-1, 1), (1, -1)], [0, 1]))

    def run(v):
        return [pad(pad(v, 0.0, (0, 0, 0), (0, 0, 0), (0, 0, it)), 0.0, (0, 0, lo), (0, 0, hi))[..., s::2]
                for it, (lo, hi), s in cases]

    for (it, (lo, hi), s), got in zip(cases, slope.jit(run)(slope.tensor(a))):
        want = np_pad(np_pad(a, 0.0, (0, 0, 0), (0, 0, 0), (0, 0, it)), 0.0, (0, 0, lo), (0, 0, hi))[..., s::2]
        np.testing.assert_array_equal(got.numpy(), want, err_msg=f"interior {it}, edges {lo, hi}, start {s}")
