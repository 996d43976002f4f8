"""Derivatives at non-differentiable points follow JAX (jax/_src/lax/lax.py), as each spec's doc says.

Each case is checked in forward and reverse mode, eagerly and under jit, so that a convention cannot
hold in one mode and not the other. The pow cases are regressions: a zero tangent times log(x < 0)
(NaN) used to poison the Hessian of x**3 at negative x.
"""
import numpy as np
import pytest

import slope
from slope import lax


def modes(f):
    """f as forward-mode and reverse-mode derivative, eager and jitted: name -> function of x."""
    g = slope.grad(lambda x: f(x).sum())
    fwd = slope.jacfwd(f)
    return {"grad": g, "jit(grad)": slope.jit(g), "jacfwd-diag": lambda x: _diag(fwd(x)),
            "jit(jacfwd)-diag": lambda x: _diag(slope.jit(fwd)(x))}


def _diag(j):
    j = np.asarray(j)
    return np.diagonal(j) if j.ndim == 2 else j


def check_derivative(f, x, expected, dtype=np.float32):
    for name, d in modes(f).items():
        got = np.asarray(d(slope.tensor(np.asarray(x, dtype))))
        np.testing.assert_array_equal(got, np.asarray(expected, dtype), err_msg=name)


# ---------------------------------------------------------------- pow (regression)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow_hessian_is_finite_at_negative_and_zero_base(dtype):
    x = slope.tensor(np.array([-2.0, 0.0, 3.0, -0.5], dtype))
    cube = lambda v: (v**3).sum()  # noqa: E731  (exponent is a constant tensor with a zero tangent)
    expected_h = np.diag(6 * np.array([-2.0, 0.0, 3.0, -0.5]))
    for h in (slope.hessian(cube), slope.jit(slope.hessian(cube))):
        np.testing.assert_allclose(np.asarray(h(x)), expected_h, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(slope.grad(cube)(x)), 3 * np.array([4.0, 0.0, 9.0, 0.25]), rtol=1e-6)
    # reverse-over-reverse as well (zero cotangents must not meet inf/NaN coefficients either)
    g2 = slope.grad(lambda v: slope.grad(cube)(v).sum())(x)
    np.testing.assert_allclose(np.asarray(g2), 6 * np.array([-2.0, 0.0, 3.0, -0.5]), rtol=1e-6)


def test_pow_derivatives_at_the_guarded_points():
    f = lambda a, b: lax.pow(a, b)  # noqa: E731
    t = lambda v: slope.tensor(np.float64(v))  # noqa: E731
    # d/dx x**0 = 0 even at x = 0 (x**-1 would be inf); d/dy 0**y = 0 (JAX); d/dy (-2)**y = 0 (documented)
    assert slope.grad(f, argnums=0)(t(0.0), t(0.0)).item() == 0.0
    assert slope.grad(f, argnums=1)(t(0.0), t(2.0)).item() == 0.0
    assert slope.grad(f, argnums=1)(t(-2.0), t(3.0)).item() == 0.0
    # the exact values elsewhere, including the mixed second derivative at y = 0 (1/x)
    assert slope.grad(f, argnums=1)(t(2.0), t(3.0)).item() == pytest.approx(8 * np.log(2.0), rel=1e-12)
    assert slope.grad(f, argnums=0)(t(-2.0), t(3.0)).item() == pytest.approx(12.0, rel=1e-12)
    mixed = slope.grad(lambda b: slope.grad(f, argnums=0)(t(0.3), b))(t(0.0)).item()
    assert mixed == pytest.approx(1 / 0.3, rel=1e-12)
    mixed_at_1 = slope.grad(lambda b: slope.grad(f, argnums=0)(t(0.3), b))(t(1.0)).item()
    assert mixed_at_1 == pytest.approx(1 + np.log(0.3), rel=1e-12)


def test_integer_pow_has_a_zero_tangent():
    x = slope.tensor(np.array([2, -3], np.int32))
    y, ty = slope.jvp(lambda a: lax.pow(a, slope.tensor(np.array([3, 2], np.int32))), (x,), (slope.zeros_like(x),))
    assert y.tolist() == [8, 9] and ty.tolist() == [0, 0]


# ---------------------------------------------------------------- abs, sign, relu, maximum, rounding, clamp


def test_abs_derivative_is_one_at_both_zeros_like_jax():
    check_derivative(lambda v: lax.abs(v), [-2.0, -0.0, 0.0, 3.0], [-1.0, 1.0, 1.0, 1.0])


def test_maximum_and_minimum_ties_split_the_gradient():
    y = slope.tensor(np.array([1.0, 1.0, 1.0], np.float32))
    check_derivative(lambda v: lax.maximum(v, y), [0.0, 1.0, 2.0], [0.0, 0.5, 1.0])
    check_derivative(lambda v: lax.minimum(y, v), [0.0, 1.0, 2.0], [1.0, 0.5, 0.0])
    # both operands the same variable: the halves add up to the full derivative
    check_derivative(lambda v: lax.maximum(v, v), [1.0, -1.0], [1.0, 1.0])
    # NaN: neither operand equals the result
    check_derivative(lambda v: lax.maximum(v, lax.full(shape=(1,), value=float("nan"), dtype=slope.float32)),
                     [1.0], [0.0])


def test_relu_derivative_is_zero_at_zero_but_maximum_with_zero_gives_half():
    check_derivative(lambda v: slope.relu(v), [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0])
    check_derivative(lambda v: slope.maximum(v, 0.0), [-1.0, 0.0, 2.0], [0.0, 0.5, 1.0])


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "sign"])
def test_piecewise_constant_ops_have_zero_derivative_also_at_their_jumps(name):
    op = getattr(lax, name)
    check_derivative(lambda v: op(v), [-1.0, -0.5, 0.0, 0.5, 1.5, 2.3], [0.0] * 6)


def test_clamp_derivative_at_and_around_the_bounds():
    lo = slope.tensor(np.full(5, -1.0, np.float32))
    hi = slope.tensor(np.full(5, 1.0, np.float32))
    x = [-2.0, -1.0, 0.0, 1.0, 2.0]
    check_derivative(lambda v: lax.clamp(lo, v, hi), x, [0.0, 0.0, 1.0, 0.0, 0.0])
    xt = slope.tensor(np.array(x, np.float32))
    g_lo = slope.grad(lambda a: lax.clamp(a, xt, hi).sum())(lo).tolist()
    g_hi = slope.jit(slope.grad(lambda b: lax.clamp(lo, xt, b).sum()))(hi).tolist()
    assert g_lo == [1.0, 0.0, 0.0, 0.0, 0.0] and g_hi == [0.0, 0.0, 0.0, 0.0, 1.0]


# ---------------------------------------------------------------- reductions, scans, sort


def test_reduce_max_ties_share_the_gradient_equally():
    x = slope.tensor(np.array([[3.0, 1.0, 3.0, 3.0], [0.0, 2.0, -1.0, 2.0]], np.float32))
    for g in (slope.grad(lambda v: lax.reduce_max(v, axes=(1,)).sum()),
              slope.jit(slope.grad(lambda v: lax.reduce_max(v, axes=(1,)).sum()))):
        np.testing.assert_allclose(np.asarray(g(x)), [[1 / 3, 0, 1 / 3, 1 / 3], [0, 0.5, 0, 0.5]], rtol=1e-6)


def test_cummax_tangent_goes_to_the_latest_tied_holder():
    x = slope.tensor(np.array([1.0, 3.0, 3.0, 2.0, 3.0, 5.0], np.float32))
    w = slope.tensor(np.array([1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0], np.float32))
    g = slope.jit(slope.grad(lambda v: (lax.cummax(v, axis=0) * w).sum()))(x)
    # out = [1, 3, 3, 3, 3, 5]: positions 1 | 2 | 2 (latest holder before 3) | 4 | 5 hold the max
    assert g.tolist() == [1.0, 10.0, 1100.0, 0.0, 10000.0, 100000.0]


def test_sort_ties_send_each_tangent_along_the_stable_permutation():
    x = slope.tensor(np.array([2.0, 1.0, 2.0, 1.0], np.float32))
    t = slope.tensor(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    for f in (lambda v: lax.sort(v, dimension=0)[0], slope.jit(lambda v: lax.sort(v, dimension=0)[0])):
        y, ty = slope.jvp(f, (x,), (t,))
        assert y.tolist() == [1.0, 1.0, 2.0, 2.0] and ty.tolist() == [2.0, 4.0, 1.0, 3.0]
