"""Regressions found by ci/torch_differential.py (issue #15), each shrunk to its smallest case and checked
against NumPy (the differential itself compares with torch and is not part of the suite)."""
import numpy as np
import pytest
from oracle import check, f32

import slope


# ---- silently wrong before: integer accumulation dtype, dim=(), cholesky's gradient

@pytest.mark.parametrize("fn,ref", [
    (lambda x: x.sum(), lambda x: np.sum(x, dtype=np.int64)),
    (lambda x: x.sum(0), lambda x: np.sum(x, 0, dtype=np.int64)),
    (lambda x: x.prod(), lambda x: np.prod(x, dtype=np.int64)),
    (lambda x: x.cumsum(0), lambda x: np.cumsum(x, 0, dtype=np.int64)),
    (lambda x: slope.cumprod(x, 0), lambda x: np.cumprod(x, 0, dtype=np.int64)),
], ids=["sum", "sum_dim", "prod", "cumsum", "cumprod"])
def test_int32_accumulates_in_int64(fn, ref):
    x = np.array([[2**30, 2**30], [3, -4]], np.int32)  # the int32 sum overflows
    out = fn(slope.tensor(x))
    assert out.dtype is slope.int64
    np.testing.assert_array_equal(out.numpy(), ref(x))


def test_bool_and_dtype_argument():
    m = np.array([True, False, True])
    assert slope.tensor(m).sum().dtype is slope.int64
    x = np.array([1, 2, 3], np.int32)
    out = slope.sum(slope.tensor(x), dtype=slope.float64)
    assert out.dtype is slope.float64 and out.item() == 6.0
    out = slope.cumsum(slope.tensor(f32(4)), dim=0, dtype=slope.float64)
    np.testing.assert_allclose(out.numpy(), np.cumsum(f32(4).astype(np.float64)), rtol=1e-12)


def test_empty_dim_tuple_reduces_every_dim():
    x = f32(2, 3)
    np.testing.assert_allclose(slope.tensor(x).sum(dim=()).numpy(), x.sum(), rtol=1e-6)
    np.testing.assert_allclose(slope.tensor(x).mean(dim=[]).numpy(), x.mean(), rtol=1e-6)


def test_axis_alias():
    x = f32(2, 3)
    check(lambda t: slope.sum(t, axis=0), lambda t: t.sum(0), x)
    check(lambda t: t.mean(axis=1, keepdim=True), lambda t: t.mean(1, keepdims=True), x)
    with pytest.raises(slope.ArgumentError, match="pass dim or axis, not both"):
        slope.sum(slope.tensor(x), dim=0, axis=0)


def test_cholesky_gradient_is_symmetric():
    """d/dA of <w, cholesky(A)> is the symmetric gradient (what torch returns), not the lower-triangular one."""
    a = f32(3, 3).astype(np.float64)
    a = a @ a.T + 3 * np.eye(3)
    w = np.tril(np.random.default_rng(1).standard_normal((3, 3)))

    def loss(m):
        return (slope.linalg.cholesky(m) * slope.tensor(w)).sum()

    g = slope.grad(loss)(slope.tensor(a)).numpy()
    eps, fd = 1e-6, np.zeros((3, 3))
    for i in range(3):  # finite differences along symmetric directions E_ij + E_ji, halved off the diagonal
        for j in range(3):
            e = np.zeros((3, 3))
            e[i, j] += 0.5
            e[j, i] += 0.5
            f = lambda m: float(np.sum(np.linalg.cholesky(m) * w))  # noqa: E731
            fd[i, j] = (f(a + eps * e) - f(a - eps * e)) / (2 * eps)
    np.testing.assert_allclose(g, g.T, atol=1e-12)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)


# ---- raised on valid input before

def test_batched_det_and_solve():
    a = f32(2, 3, 3)
    np.testing.assert_allclose(slope.tensor(a).det().numpy(), np.linalg.det(a), rtol=1e-5)
    b = f32(2, 3, 2, seed=1)
    check(slope.linalg.solve, np.linalg.solve, a, b, rtol=1e-4, atol=1e-5, vmap=False)


def test_logical_ops_read_nonzero_and_operators_are_bitwise():
    x, y = np.array([0, 1, 2, -3]), np.array([0, 0, 4, 1])
    np.testing.assert_array_equal(slope.logical_and(slope.tensor(x), slope.tensor(y)).numpy(), np.logical_and(x, y))
    np.testing.assert_array_equal(slope.logical_or(slope.tensor(x * 0.5), slope.tensor(y)).numpy(),
                                  np.logical_or(x, y))
    np.testing.assert_array_equal(slope.logical_not(slope.tensor(x)).numpy(), np.logical_not(x))
    np.testing.assert_array_equal((slope.tensor(x) & slope.tensor(y)).numpy(), x & y)
    np.testing.assert_array_equal((~slope.tensor(x)).numpy(), ~x)
    np.testing.assert_array_equal((slope.tensor(x) << 2).numpy(), x << 2)
    np.testing.assert_array_equal((slope.tensor(x) >> 1).numpy(), x >> 1)
    with pytest.raises(slope.DTypeError, match="bitwise_and: expects bool or integer operands"):
        slope.tensor(f32(2)) & slope.tensor(f32(2))


@pytest.mark.parametrize("op", ["mean", "var", "std"])
def test_float_only_reductions_raise_on_integers(op):
    with pytest.raises(slope.DTypeError, match=f"{op}: expects a floating-point tensor, got i64"):
        getattr(slope.tensor(np.arange(4)), op)()
    assert getattr(slope.tensor(np.arange(4)), op)(dtype=slope.float32).dtype is slope.float32 if op == "mean" else True


def test_softmax_dtype():
    x = f32(2, 3)
    out = slope.softmax(slope.tensor(x), -1, dtype=slope.float64)
    assert out.dtype is slope.float64
    e = np.exp(x.astype(np.float64) - x.max(-1, keepdims=True))
    np.testing.assert_allclose(out.numpy(), e / e.sum(-1, keepdims=True), rtol=1e-12)


# ---- silently wrong in the second run (new ops): meshgrid 'xy' shapes, logdet's gradient

def test_meshgrid_xy():
    a, b = np.arange(2.0), np.arange(3.0)
    for got, want in zip(slope.meshgrid(slope.tensor(a), slope.tensor(b), indexing="xy"),
                         np.meshgrid(a, b, indexing="xy")):
        np.testing.assert_array_equal(got.numpy(), want)
    for got, want in zip(slope.meshgrid(slope.tensor(a), slope.tensor(b), indexing="ij"),
                         np.meshgrid(a, b, indexing="ij")):
        np.testing.assert_array_equal(got.numpy(), want)


def test_logdet_gradient_is_finite():
    a = f32(3, 3).astype(np.float64)
    a = a @ a.T + 3 * np.eye(3)
    g = slope.grad(slope.logdet)(slope.tensor(a)).numpy()
    np.testing.assert_allclose(g, np.linalg.inv(a).T, rtol=1e-8)


# ---- the long tail (slope/ops/extras.py) against NumPy; eager-only ones here, the rest in the ops table

def test_eager_only_counts():
    x = np.array([0, 3, 1, 1, 3, 3])
    np.testing.assert_array_equal(slope.bincount(slope.tensor(x)).numpy(), np.bincount(x))
    np.testing.assert_array_equal(slope.bincount(slope.tensor(x), minlength=6).numpy(), np.bincount(x, minlength=6))
    w = f32(6)
    np.testing.assert_allclose(slope.bincount(slope.tensor(x), slope.tensor(w)).numpy(), np.bincount(x, w), rtol=1e-6)
    v = f32(20)
    np.testing.assert_array_equal(slope.histc(slope.tensor(v), bins=4, min=-2, max=2).numpy(),
                                  np.histogram(v, bins=4, range=(-2, 2))[0].astype(np.float32))


def test_layout_and_selection_extras():
    a, b = f32(2, 3), f32(2, 3, seed=1)
    t = slope.tensor
    np.testing.assert_array_equal(slope.hstack([t(a), t(b)]).numpy(), np.hstack([a, b]))
    np.testing.assert_array_equal(slope.vstack([t(a[0]), t(b[0])]).numpy(), np.vstack([a[0], b[0]]))
    np.testing.assert_array_equal(slope.dstack([t(a), t(b)]).numpy(), np.dstack([a, b]))
    np.testing.assert_array_equal(slope.column_stack([t(a[0]), t(b[0])]).numpy(), np.column_stack([a[0], b[0]]))
    np.testing.assert_array_equal(slope.diag_embed(t(a)).numpy(), np.stack([np.diag(r) for r in a]))
    np.testing.assert_array_equal(slope.block_diag(t(a), t(b[:1])).numpy()[:2, :3], a)
    np.testing.assert_array_equal(slope.tril_indices(3, 3).numpy(), np.stack(np.tril_indices(3)))
    np.testing.assert_array_equal(slope.triu_indices(3, 4, 1).numpy(), np.stack(np.triu_indices(3, 1, 4)))
    np.testing.assert_array_equal(t(a).index_fill(1, t(np.array([0, 2])), -1.0).numpy(),
                                  np.where(np.isin(np.arange(3), [0, 2]), -1.0, a).astype(np.float32))
    m = np.array([True, False, True, True])
    src = f32(4, seed=2)
    want = f32(4, seed=3).copy()
    want[m] = src[:3]
    np.testing.assert_array_equal(t(f32(4, seed=3)).masked_scatter(t(m), t(src)).numpy(), want)
    np.testing.assert_array_equal(t(np.arange(5.0)).unfold(0, 2, 2).numpy(), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(slope.isin(t(np.arange(5)), t(np.array([1, 3]))).numpy(), np.isin(np.arange(5), [1, 3]))
    np.testing.assert_array_equal(slope.cartesian_prod(t(np.arange(2)), t(np.arange(3))).numpy(),
                                  np.array([[i, j] for i in range(2) for j in range(3)]))
    assert slope.finfo(slope.float32).eps == float(np.finfo(np.float32).eps)
    assert slope.iinfo(slope.int32).max == 2**31 - 1
    assert slope.result_type(t(np.arange(2)), t(a)) is slope.float32
