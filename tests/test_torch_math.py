"""PyTorch's elementwise math composites and norms (slope/ops/mathfns.py, slope/ops/norms.py) against
NumPy: eager, jit, float64 gradients against central differences, vmap."""
import math

import numpy as np
import pytest
from oracle import check, f32

import slope

_erf = np.vectorize(math.erf, otypes=[np.float64])


def np_erfinv(x):
    x = np.asarray(x, np.float64)
    lo, hi = np.full(x.shape, -10.0), np.full(x.shape, 10.0)
    for _ in range(100):
        mid = (lo + hi) / 2
        below = _erf(mid) < x
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    out = (lo + hi) / 2
    for _ in range(3):  # Newton polishes tiny values bisection cannot resolve
        out = out - (_erf(out) - x) * math.sqrt(math.pi) / 2 * np.exp(out * out)
    with np.errstate(invalid="ignore", over="ignore"):
            return np.where(np.abs(x) == 1, np.sign(x) * np.inf, np.where(np.abs(x) > 1, np.nan, out))


def u(*shape, lo=-0.95, hi=0.95, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


UNARY = [
    ("sinh", np.sinh, f32(2, 3)), ("cosh", np.cosh, f32(2, 3)), ("asin", np.arcsin, u(2, 3)),
    ("acos", np.arccos, u(2, 3)), ("atan", np.arctan, f32(2, 3) * 3), ("asinh", np.arcsinh, f32(2, 3) * 4),
    ("acosh", np.arccosh, u(2, 3, lo=1.1, hi=9)), ("atanh", np.arctanh, u(2, 3)), ("log2", np.log2, u(2, 3, lo=0.1, hi=9)),
    ("log10", np.log10, u(2, 3, lo=0.1, hi=9)), ("exp2", np.exp2, f32(2, 3)), ("reciprocal", np.reciprocal, u(2, 3, lo=0.5, hi=3)),
    ("erfinv", np_erfinv, u(2, 3, lo=-0.99, hi=0.99)), ("square", np.square, f32(2, 3)),
]


@pytest.mark.parametrize("name,ref,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, ref, x):
    check(getattr(slope, name), lambda a: ref(a.astype(np.float64)).astype(a.dtype), x, rtol=2e-6, atol=1e-6,
          grad_rtol=1e-4, grad_atol=1e-6)
    if hasattr(slope.Tensor, name):
        np.testing.assert_allclose(getattr(slope.tensor(x), name)().numpy(), ref(x.astype(np.float64)), rtol=2e-6, atol=1e-6)


def test_special_values():
    edge = np.array([-1.0, 1.0, 1.5, 0.0, -0.0, 1e-30, 1 - 1e-7], np.float32)
    np.testing.assert_allclose(slope.erfinv(slope.tensor(edge)).numpy(), np_erfinv(edge), rtol=1e-5, atol=1e-40)
    big = np.array([1e20, -1e20, 1e-20, 0.0], np.float32)
    np.testing.assert_allclose(slope.asinh(slope.tensor(big)).numpy(), np.arcsinh(big.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(slope.sinh(slope.tensor(big[2:])).numpy(), np.sinh(big[2:]), rtol=1e-6)
    np.testing.assert_allclose(slope.acosh(slope.tensor(np.array([1.0, 1e20], np.float32))).numpy(),
                               np.arccosh(np.array([1.0, 1e20])), rtol=1e-6)
    x64 = np.array([0.3, -0.999, 1e-12], np.float64)
    np.testing.assert_allclose(slope.erfinv(slope.tensor(x64)).numpy(), np_erfinv(x64), rtol=1e-13)


def test_trunc_frac_round_decimals():
    x = np.array([-2.5, -1.7, -0.5, 0.5, 1.5, 2.5, 3.14159], np.float32)
    check(slope.trunc, np.trunc, x, grad=False)
    check(lambda a: a.frac(), lambda a: a - np.trunc(a), x, vmap=False)
    assert slope.fix(slope.tensor([3, -3])).tolist() == [3, -3]
    check(lambda a: a.round(decimals=2), lambda a: np.round(a, 2), x, grad=False, vmap=False)
    check(lambda a: slope.round(a, decimals=-1), lambda a: np.round(a, -1), x * 10, grad=False, vmap=False)
    assert slope.round(slope.tensor([0.5, 1.5, 2.5])).tolist() == [0.0, 2.0, 2.0]


def test_binary_composites():
    a, b = f32(2, 3), f32(2, 3, seed=1)
    check(slope.hypot, lambda a, b: np.hypot(a, b), a, b)
    check(lambda a, b: a.logaddexp(b), np.logaddexp, a, b)
    check(lambda a, b: slope.xlogy(a, b), lambda a, b: a * np.log(b), a, np.abs(b) + 0.1)
    check(lambda a, b: a.lerp(b, 0.3), lambda a, b: a + 0.3 * (b - a), a, b)
    check(lambda a, b, w: slope.lerp(a, b, w), lambda a, b, w: a + w * (b - a), a, b, u(2, 3, lo=0, hi=1))
    check(lambda a, b: a.addcmul(b, b, value=0.5), lambda a, b: a + 0.5 * b * b, a, b)
    check(lambda a, b: slope.addcdiv(a, a, b), lambda a, b: a + a / b, a, np.abs(b) + 0.5)
    check(lambda a, b: a.arctan2(b), np.arctan2, a, b)
    check(lambda a: a.clamp_min(0.1).clamp_max(0.5), lambda a: np.clip(a, 0.1, 0.5), a, grad=False)


def test_binary_special_values():
    inf = np.float32(np.inf)
    x = np.array([-inf, inf, 0.0, 1e30, 3.0], np.float32)
    y = np.array([-inf, inf, 0.0, 1e30, 4.0], np.float32)
    np.testing.assert_array_equal(slope.logaddexp(slope.tensor(x), slope.tensor(y)).numpy(), np.logaddexp(x, y))
    np.testing.assert_allclose(slope.hypot(slope.tensor(x), slope.tensor(y)).numpy(), np.hypot(x, y), rtol=1e-6)
    assert slope.xlogy(slope.tensor([0.0, 0.0, 1.0]), slope.tensor([0.0, np.nan, 0.0])).numpy().tolist()[0] == 0.0
    g = slope.grad(lambda a, b: slope.logaddexp(a, b), argnums=(0, 1))(slope.tensor(1.0), slope.tensor(1.0))
    assert [v.item() for v in g] == [0.5, 0.5]
    gx = slope.grad(lambda a: slope.xlogy(a, slope.tensor(0.0)))(slope.tensor(0.0))
    assert not np.isnan(gx.item())


def test_count_nonzero_logcumsumexp():
    x = np.array([[0.0, 1.0, 0.0], [2.0, -1.0, 0.0]], np.float32)
    check(slope.count_nonzero, lambda a: np.int32(np.count_nonzero(a)), x, grad=False)
    check(lambda a: a.count_nonzero(0), lambda a: np.count_nonzero(a, 0).astype(np.int32), x, grad=False)
    def lcse(a, d):
        return np.log(np.cumsum(np.exp(a.astype(np.float64)), d)).astype(a.dtype)
    check(lambda a: a.logcumsumexp(1), lambda a: lcse(a, 1), f32(3, 4), grad_rtol=1e-4)
    check(lambda a: slope.logcumsumexp(a, 0), lambda a: lcse(a, 0), f32(4, 2), grad_rtol=1e-4)
    far = np.array([-1000.0, 0.0, -2000.0], np.float32)
    np.testing.assert_allclose(slope.logcumsumexp(slope.tensor(far), 0).numpy(), [-1000.0, 0.0, 0.0])
