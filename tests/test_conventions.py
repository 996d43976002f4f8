"""Derivatives at non-differentiable points follow JAX (jax/_src/lax/lax.py), as each spec's doc says.

Each case is checked in forward and reverse mode, so that a convention cannot hold in one mode and
not the other. A test's derivatives are staged in one slope.jit module (eager transformations compile
every primitive of every rule as a module of its own); the abs case also runs grad eagerly. The pow cases
are regressions: a zero tangent times log(x < 0) (NaN) used to poison the Hessian of x**3 at negative
x (the jitted Hessian below catches the old rule: NaN at -2, 0 and -0.5).
"""
import numpy as np
import pytest

import slope
from slope import lax


def modes(f):
    """f's derivative in reverse mode (grad of the sum) and forward mode (the Jacobian)."""
    return {"grad": slope.grad(lambda x: f(x).sum()), "jacfwd": slope.jacfwd(f)}


def _diag(j):
    j = np.asarray(j)
    return np.diagonal(j) if j.ndim == 2 else j


def check_derivatives(cases, dtype=np.float32, eager=False):
    """cases: (f, x, expected elementwise derivative). Both modes of every case run in one jitted
    module; eager=True also runs grad eagerly."""
    xs = [slope.tensor(np.asarray(x, dtype)) for _, x, _ in cases]

    def run_all(*xs):
        return [{name: d(x) for name, d in modes(f).items()} for (f, _, _), x in zip(cases, xs)]

    runs = {"jit": slope.jit(run_all)(*xs)}
    if eager:
        runs["eager"] = [{"grad": modes(f)["grad"](x)} for (f, _, _), x in zip(cases, xs)]
    for how, results in runs.items():
        assert len(results) == len(cases)
        for k, ((_, _, expected), got) in enumerate(zip(cases, results)):
            assert set(got) == ({"grad", "jacfwd"} if how == "jit" else {"grad"})
            for name, value in got.items():
                np.testing.assert_array_equal(_diag(value), np.asarray(expected, dtype),
                                              err_msg=f"case {k}: {how}({name})")


# ---------------------------------------------------------------- pow (regression)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow_hessian_is_finite_at_negative_and_zero_base(dtype):
    v = np.array([-2.0, 0.0, 3.0, -0.5])
    x = slope.tensor(v.astype(dtype))
    cube = lambda v: (v**3).sum()  # noqa: E731  (exponent is a constant tensor with a zero tangent)
    # reverse-over-reverse as well (zero cotangents must not meet inf/NaN coefficients either)
    derivs = lambda x: (slope.hessian(cube)(x), slope.grad(cube)(x),  # noqa: E731
                        slope.grad(lambda v: slope.grad(cube)(v).sum())(x))
    h, g, g2 = slope.jit(derivs)(x)
    np.testing.assert_allclose(np.asarray(h), np.diag(6 * v), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g), 3 * v**2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g2), 6 * v, rtol=1e-6)


def test_pow_derivatives_at_the_guarded_points():
    f = lambda a, b: lax.pow(a, b)  # noqa: E731
    t = lambda v: slope.tensor(np.float64(v))  # noqa: E731

    @slope.jit
    def derivs(zero, one, two, three, minus_two, x03):
        # d/dx x**0 = 0 even at x = 0 (x**-1 would be inf); d/dy 0**y = 0 (JAX); d/dy (-2)**y = 0 (documented)
        guarded = [slope.grad(f, argnums=0)(zero, zero), slope.grad(f, argnums=1)(zero, two),
                   slope.grad(f, argnums=1)(minus_two, three)]
        # the exact values elsewhere, including the mixed second derivative at y = 0 (1/x)
        exact = [slope.grad(f, argnums=1)(two, three), slope.grad(f, argnums=0)(minus_two, three),
                 slope.grad(lambda b: slope.grad(f, argnums=0)(x03, b))(zero),
                 slope.grad(lambda b: slope.grad(f, argnums=0)(x03, b))(one)]
        return guarded, exact

    guarded, exact = derivs(t(0.0), t(1.0), t(2.0), t(3.0), t(-2.0), t(0.3))
    assert [g.item() for g in guarded] == [0.0, 0.0, 0.0]
    expected = [8 * np.log(2.0), 12.0, 1 / 0.3, 1 + np.log(0.3)]
    assert [e.item() for e in exact] == pytest.approx(expected, rel=1e-12)


def test_integer_pow_has_a_zero_tangent():
    x = slope.tensor(np.array([2, -3], np.int32))
    y, ty = slope.jit(lambda x: slope.jvp(lambda a: lax.pow(a, slope.tensor(np.array([3, 2], np.int32))), (x,),
                                          (slope.zeros_like(x),)))(x)
    assert y.tolist() == [8, 9] and ty.tolist() == [0, 0] and ty.dtype is slope.int32


# ---------------------------------------------------------------- abs, sign, relu, maximum, rounding, clamp


def test_abs_derivative_is_one_at_both_zeros_like_jax():
    check_derivatives([(lambda v: lax.abs(v), [-2.0, -0.0, 0.0, 3.0], [-1.0, 1.0, 1.0, 1.0])], eager=True)


def test_maximum_and_minimum_ties_split_the_gradient():
    y = slope.tensor(np.array([1.0, 1.0, 1.0], np.float32))
    check_derivatives([
        (lambda v: lax.maximum(v, y), [0.0, 1.0, 2.0], [0.0, 0.5, 1.0]),
        (lambda v: lax.minimum(y, v), [0.0, 1.0, 2.0], [1.0, 0.5, 0.0]),
        # both operands the same variable: the halves add up to the full derivative
        (lambda v: lax.maximum(v, v), [1.0, -1.0], [1.0, 1.0]),
        # NaN: neither operand equals the result
        (lambda v: lax.maximum(v, lax.full(shape=(1,), value=float("nan"), dtype=slope.float32)), [1.0], [0.0]),
    ])


def test_relu_derivative_is_zero_at_zero_but_maximum_with_zero_gives_half():
    check_derivatives([(lambda v: slope.relu(v), [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
                       (lambda v: slope.maximum(v, 0.0), [-1.0, 0.0, 2.0], [0.0, 0.5, 1.0])])


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "sign"])
def test_piecewise_constant_ops_have_zero_derivative_also_at_their_jumps(name):
    op = getattr(lax, name)
    check_derivatives([(lambda v: op(v), [-1.0, -0.5, 0.0, 0.5, 1.5, 2.3], [0.0] * 6)])


def test_clamp_derivative_at_and_around_the_bounds():
    lo = slope.tensor(np.full(5, -1.0, np.float32))
    hi = slope.tensor(np.full(5, 1.0, np.float32))
    x = [-2.0, -1.0, 0.0, 1.0, 2.0]
    check_derivatives([(lambda v: lax.clamp(lo, v, hi), x, [0.0, 0.0, 1.0, 0.0, 0.0])])
    xt = slope.tensor(np.array(x, np.float32))
    g_lo, g_hi = slope.jit(lambda lo, hi: (slope.grad(lambda a: lax.clamp(a, xt, hi).sum())(lo),
                                           slope.grad(lambda b: lax.clamp(lo, xt, b).sum())(hi)))(lo, hi)
    assert g_lo.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0] and g_hi.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]


# ---------------------------------------------------------------- reductions, scans, sort


def test_reduce_max_ties_share_the_gradient_equally():
    x = slope.tensor(np.array([[3.0, 1.0, 3.0, 3.0], [0.0, 2.0, -1.0, 2.0]], np.float32))
    g = slope.jit(slope.grad(lambda v: lax.reduce_max(v, axes=(1,)).sum()))(x)
    np.testing.assert_allclose(np.asarray(g), [[1 / 3, 0, 1 / 3, 1 / 3], [0, 0.5, 0, 0.5]], rtol=1e-6)


def test_cummax_tangent_goes_to_the_latest_tied_holder():
    x = slope.tensor(np.array([1.0, 3.0, 3.0, 2.0, 3.0, 5.0], np.float32))
    w = slope.tensor(np.array([1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0], np.float32))
    g = slope.jit(slope.grad(lambda v: (lax.cummax(v, axis=0) * w).sum()))(x)
    # out = [1, 3, 3, 3, 3, 5]: positions 1 | 2 | 2 (latest holder before 3) | 4 | 5 hold the max
    assert g.tolist() == [1.0, 10.0, 1100.0, 0.0, 10000.0, 100000.0]


def test_sort_ties_send_each_tangent_along_the_stable_permutation():
    x = slope.tensor(np.array([2.0, 1.0, 2.0, 1.0], np.float32))
    t = slope.tensor(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    f = lambda v: lax.sort(v, dimension=0)[0]  # noqa: E731
    # jvp of the op, and jvp of a jitted function (through the jit_call rule), in one module
    results = slope.jit(lambda x, t: [slope.jvp(g, (x,), (t,)) for g in (f, slope.jit(f))])(x, t)
    assert len(results) == 2
    for y, ty in results:
        assert y.tolist() == [1.0, 1.0, 2.0, 2.0] and ty.tolist() == [2.0, 4.0, 1.0, 3.0]
