"""Tensor methods a PyTorch user expects, each compared with NumPy (torch semantics spelled out)."""
import numpy as np
import pytest

import slope
from testutil import assert_close


@pytest.fixture
def x(rng):
    return rng.standard_normal((3, 5)).astype(np.float32)


def test_sort_argsort_methods(x):
    t = slope.tensor(x)
    values, indices = t.sort()
    np.testing.assert_array_equal(values.numpy(), np.sort(x, -1))
    np.testing.assert_array_equal(indices.numpy(), np.argsort(x, -1, kind="stable"))
    assert t.sort(dim=0, descending=True).values.tolist() == (-np.sort(-x, 0)).tolist()
    np.testing.assert_array_equal(t.argsort(dim=0).numpy(), np.argsort(x, 0, kind="stable"))
    np.testing.assert_array_equal(t.argsort(descending=True).numpy(), np.argsort(-x, -1, kind="stable"))


def test_cumulative_methods(x):
    t = slope.tensor(x)
    assert_close(t.cumprod(1), np.cumprod(x, 1))
    assert_close(t.cumsum(0), np.cumsum(x, 0))
    v, i = t.cummax(1)
    np.testing.assert_array_equal(v.numpy(), np.maximum.accumulate(x, 1))
    np.testing.assert_array_equal(np.take_along_axis(x, i.numpy(), 1), v.numpy())
    v, i = t.cummin(0)
    np.testing.assert_array_equal(v.numpy(), np.minimum.accumulate(x, 0))
    np.testing.assert_array_equal(np.take_along_axis(x, i.numpy(), 0), v.numpy())
    assert i.dtype is slope.int32


def test_cummax_indices_follow_torch_on_ties_and_nan():
    """torch.cummax: the index of the latest element equal to the running max; a NaN takes over."""
    t = slope.tensor(np.array([1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan], np.float32))
    v, i = t.cummax(0)
    assert i.tolist() == [0, 1, 2, 2, 4, 4, 6]
    assert np.isnan(v.numpy()[4:]).all() and v.tolist()[:4] == [1.0, 3.0, 3.0, 3.0]
    v, i = slope.tensor(np.array([2, 2, 1, 2], np.int32)).cummin(0)
    assert v.tolist() == [2, 2, 1, 1] and i.tolist() == [0, 1, 2, 2]
    v, i = slope.jit(lambda a: slope.cummax(a, 0, reverse=True))(slope.tensor(np.array([1.0, 4.0, 4.0, 2.0])))
    assert v.tolist() == [4.0, 4.0, 4.0, 2.0] and i.tolist() == [1, 1, 2, 3]


def test_cummax_values_are_differentiable():
    t = slope.tensor(np.array([1.0, 3.0, 2.0, 4.0], np.float32))
    g = slope.grad(lambda a: a.cummax(0).values.sum())(t)
    assert g.tolist() == [1.0, 2.0, 0.0, 1.0]


def test_split_chunk_narrow_methods(x):
    t = slope.tensor(x)
    parts = t.split(2, dim=1)
    assert [p.shape for p in parts] == [(3, 2), (3, 2), (3, 1)]
    np.testing.assert_array_equal(np.concatenate([p.numpy() for p in parts], 1), x)
    assert [p.shape for p in t.split([1, 2], 0)] == [(1, 5), (2, 5)]
    assert [p.shape for p in t.chunk(2, 0)] == [(2, 5), (1, 5)]
    np.testing.assert_array_equal(t.narrow(1, -3, 2).numpy(), x[:, 2:4])


def test_indexing_methods(x):
    t = slope.tensor(x)
    idx = np.array([[4, 0], [1, 1], [0, 3]])
    np.testing.assert_array_equal(t.gather(1, slope.tensor(idx)).numpy(), np.take_along_axis(x, idx, 1))
    np.testing.assert_array_equal(t.gather(0, [[2, 0, 1, 1, 0]]).numpy(), x[[2, 0, 1, 1, 0], range(5)][None])
    # torch.gather: index may be smaller than x off dim; the result has index's shape
    np.testing.assert_array_equal(t.gather(1, [[1], [0]]).numpy(), x[:2, [1, 0]].diagonal()[:, None])
    np.testing.assert_array_equal(t.take_along_dim(slope.tensor(idx), 1).numpy(), np.take_along_axis(x, idx, 1))
    np.testing.assert_array_equal(t.take_along_dim(slope.tensor(np.array([14, 0]))).numpy(), x.ravel()[[14, 0]])
    np.testing.assert_array_equal(t.index_select(1, [4, -1, 0]).numpy(), x[:, [4, 4, 0]])
    src = np.ones((3, 2), np.float32)
    expected = x.copy()
    np.add.at(expected, (slice(None), [1, 1]), 2 * src)
    np.testing.assert_array_equal(t.index_add(1, [1, 1], slope.tensor(src), alpha=2).numpy(), expected)


def test_gather_method_errors_and_gradient(x):
    t = slope.tensor(x)
    with pytest.raises(slope.ShapeError, match="gather: index must have the rank of x"):
        t.gather(1, [0, 1])
    with pytest.raises(slope.ShapeError, match="gather: index -9 is out of bounds for dimension 1 with size 5"):
        t.gather(1, [[-9]])
    g = slope.grad(lambda a: a.gather(1, slope.tensor(np.array([[0, 0], [1, 2], [4, 4]]))).sum())(t)
    expected = np.zeros_like(x)
    expected[0, 0], expected[1, 1], expected[1, 2], expected[2, 4] = 2, 1, 1, 2
    np.testing.assert_array_equal(g.numpy(), expected)


def test_named_arithmetic_comparison_and_logic_methods(x):
    t, y = slope.tensor(x), slope.tensor(x[::-1].copy())
    assert_close(t.add(y, alpha=2), x + 2 * x[::-1])
    assert_close(t.sub(1.5), x - 1.5)
    assert_close(t.mul(y), x * x[::-1])
    assert_close(t.div(2), x / 2)
    assert_close(t.multiply(y).subtract(t).divide(y), (x * x[::-1] - x) / x[::-1])
    assert_close(t.abs().pow(0.5), np.abs(x) ** 0.5)
    assert_close(t.matmul(y.T), x @ x[::-1].T)
    assert_close(t[0].dot(t[1]), x[0] @ x[1])
    assert_close(t[0].outer(t[1]), np.outer(x[0], x[1]))
    assert_close(t.atan2(y), np.arctan2(x, x[::-1]))
    assert_close(t.remainder(0.7), np.mod(x, np.float32(0.7)), atol=1e-5)
    assert_close(t.fmod(0.7), np.fmod(x, np.float32(0.7)), atol=1e-5)
    assert_close(t.floor_divide(0.7), np.floor_divide(x, np.float32(0.7)))
    assert_close(t.expm1(), np.expm1(x))
    assert_close((t.abs()).log1p(), np.log1p(np.abs(x)))
    assert_close(t.neg(), -x)
    assert_close(t.negative(), -x)
    assert_close(t.clip(-0.5, 0.5), np.clip(x, -0.5, 0.5))
    for name, fn in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                     ("gt", np.greater), ("ge", np.greater_equal)]:
        np.testing.assert_array_equal(getattr(t, name)(y).numpy(), fn(x, x[::-1]), err_msg=name)
    a, b = slope.tensor(np.array([True, False, True])), slope.tensor(np.array([True, True, False]))
    assert a.logical_and(b).tolist() == [True, False, False]
    assert a.logical_or(b).tolist() == [True, True, True]
    assert a.logical_xor(b).tolist() == [False, True, True]
    assert a.logical_not().tolist() == [False, True, False]


def test_methods_work_under_transforms(x):
    def f(a):
        v, _ = a.sort(dim=1)
        return (v.cumprod(1).narrow(1, 0, 3) * a.cummax(1).values.split(3, 1)[0]).sum()

    t = slope.tensor(x)
    np.testing.assert_allclose(np.asarray(slope.jit(f)(t)), np.asarray(f(t)), rtol=1e-5)
    g_jit, g = slope.jit(slope.grad(f))(t), slope.grad(f)(t)
    np.testing.assert_allclose(np.asarray(g_jit), np.asarray(g), rtol=1e-5, atol=1e-6)
    out = slope.vmap(lambda row: row.sort().values)(t)
    np.testing.assert_array_equal(out.numpy(), np.sort(x, -1))
