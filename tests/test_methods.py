"""Tensor methods a PyTorch user expects, each compared with NumPy (torch semantics spelled out).

Most tests stage their method calls in one slope.jit module (each eager op compiles a module of its
own); a method of each family is also called eagerly.
"""
import numpy as np
import pytest

import slope
from testutil import assert_close


@pytest.fixture
def x(rng):
    return rng.standard_normal((3, 5)).astype(np.float32)


def test_sort_argsort_methods(x):
    t = slope.tensor(x)
    values, indices = t.sort()  # eagerly
    np.testing.assert_array_equal(values.numpy(), np.sort(x, -1))
    np.testing.assert_array_equal(indices.numpy(), np.argsort(x, -1, kind="stable"))
    desc0, arg0, arg_desc = slope.jit(lambda t: (t.sort(dim=0, descending=True).values, t.argsort(dim=0),
                                                 t.argsort(descending=True)))(t)
    assert desc0.tolist() == (-np.sort(-x, 0)).tolist()
    np.testing.assert_array_equal(arg0.numpy(), np.argsort(x, 0, kind="stable"))
    np.testing.assert_array_equal(arg_desc.numpy(), np.argsort(-x, -1, kind="stable"))


def test_cumulative_methods(x):
    t = slope.tensor(x)
    assert_close(t.cumsum(0), np.cumsum(x, 0))  # eagerly
    cprod, (v, i), (v0, i0) = slope.jit(lambda t: (t.cumprod(1), t.cummax(1), t.cummin(0)))(t)
    assert_close(cprod, np.cumprod(x, 1))
    np.testing.assert_array_equal(v.numpy(), np.maximum.accumulate(x, 1))
    np.testing.assert_array_equal(np.take_along_axis(x, i.numpy(), 1), v.numpy())
    np.testing.assert_array_equal(v0.numpy(), np.minimum.accumulate(x, 0))
    np.testing.assert_array_equal(np.take_along_axis(x, i0.numpy(), 0), v0.numpy())
    assert i.dtype is slope.int64 and i0.dtype is slope.int64


def test_cummax_indices_follow_torch_on_ties_and_nan():
    """torch.cummax: the index of the latest element equal to the running max; a NaN takes over."""

    @slope.jit
    def scans(f, i, d):
        return f.cummax(0), i.cummin(0), slope.cummax(d, 0, reverse=True)

    (v, i), (vi, ii), (vr, ir) = scans(slope.tensor(np.array([1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan], np.float32)),
                                       slope.tensor(np.array([2, 2, 1, 2], np.int32)),
                                       slope.tensor(np.array([1.0, 4.0, 4.0, 2.0])))
    assert i.tolist() == [0, 1, 2, 2, 4, 4, 6]
    assert np.isnan(v.numpy()[4:]).all() and v.tolist()[:4] == [1.0, 3.0, 3.0, 3.0]
    assert vi.tolist() == [2, 2, 1, 1] and ii.tolist() == [0, 1, 2, 2]
    assert vr.tolist() == [4.0, 4.0, 4.0, 2.0] and ir.tolist() == [1, 1, 2, 3]


def test_cummax_values_are_differentiable():
    t = slope.tensor(np.array([1.0, 3.0, 2.0, 4.0], np.float32))
    g = slope.jit(slope.grad(lambda a: a.cummax(0).values.sum()))(t)
    assert g.tolist() == [1.0, 2.0, 0.0, 1.0]


def test_split_chunk_narrow_methods(x):
    t = slope.tensor(x)
    parts, split_list, chunks, narrow = slope.jit(lambda t: (t.split(2, dim=1), t.split([1, 2], 0), t.chunk(2, 0),
                                                             t.narrow(1, -3, 2)))(t)
    assert [p.shape for p in parts] == [(3, 2), (3, 2), (3, 1)]
    np.testing.assert_array_equal(np.concatenate([p.numpy() for p in parts], 1), x)
    assert [p.shape for p in split_list] == [(1, 5), (2, 5)]
    np.testing.assert_array_equal(np.concatenate([p.numpy() for p in split_list], 0), x)
    assert [p.shape for p in chunks] == [(2, 5), (1, 5)]
    np.testing.assert_array_equal(np.concatenate([p.numpy() for p in chunks], 0), x)
    np.testing.assert_array_equal(narrow.numpy(), x[:, 2:4])


def test_indexing_methods(x):
    t = slope.tensor(x)
    idx = np.array([[4, 0], [1, 1], [0, 3]])
    np.testing.assert_array_equal(t.gather(1, slope.tensor(idx)).numpy(), np.take_along_axis(x, idx, 1))  # eagerly
    src = np.ones((3, 2), np.float32)

    @slope.jit
    def indexing(t, idx, flat_idx, src):
        return (t.gather(0, [[2, 0, 1, 1, 0]]), t.gather(1, [[1], [0]]), t.take_along_dim(idx, 1),
                t.take_along_dim(flat_idx), t.index_select(1, [4, -1, 0]), t.index_add(1, [1, 1], src, alpha=2))

    g0, g_small, along, along_flat, selected, added = indexing(t, slope.tensor(idx), slope.tensor(np.array([14, 0])),
                                                               slope.tensor(src))
    np.testing.assert_array_equal(g0.numpy(), x[[2, 0, 1, 1, 0], range(5)][None])
    # torch.gather: index may be smaller than x off dim; the result has index's shape
    np.testing.assert_array_equal(g_small.numpy(), x[:2, [1, 0]].diagonal()[:, None])
    np.testing.assert_array_equal(along.numpy(), np.take_along_axis(x, idx, 1))
    np.testing.assert_array_equal(along_flat.numpy(), x.ravel()[[14, 0]])
    np.testing.assert_array_equal(selected.numpy(), x[:, [4, 4, 0]])
    expected = x.copy()
    np.add.at(expected, (slice(None), [1, 1]), 2 * src)
    np.testing.assert_array_equal(added.numpy(), expected)


def test_gather_method_errors_and_gradient(x):
    t = slope.tensor(x)
    with pytest.raises(slope.ShapeError, match="gather: index must have the rank of x"):
        t.gather(1, [0, 1])
    with pytest.raises(slope.ShapeError, match="gather: index -9 is out of bounds for dimension 1 with size 5"):
        t.gather(1, [[-9]])
    g = slope.jit(slope.grad(lambda a: a.gather(1, slope.tensor(np.array([[0, 0], [1, 2], [4, 4]]))).sum()))(t)
    expected = np.zeros_like(x)
    expected[0, 0], expected[1, 1], expected[1, 2], expected[2, 4] = 2, 1, 1, 2
    np.testing.assert_array_equal(g.numpy(), expected)


def test_named_arithmetic_comparison_and_logic_methods(x):
    t, y = slope.tensor(x), slope.tensor(x[::-1].copy())
    assert_close(t.add(y, alpha=2), x + 2 * x[::-1])  # eagerly
    comparisons = [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                   ("gt", np.greater), ("ge", np.greater_equal)]

    @slope.jit
    def methods(t, y, a, b):
        arithmetic = [t.sub(1.5), t.mul(y), t.div(2), t.multiply(y).subtract(t).divide(y), t.abs().pow(0.5),
                      t.matmul(y.T), t[0].dot(t[1]), t[0].outer(t[1]), t.atan2(y), t.expm1(), (t.abs()).log1p(),
                      t.neg(), t.negative(), t.clip(-0.5, 0.5), t.floor_divide(0.7)]
        remainders = [t.remainder(0.7), t.fmod(0.7)]
        compared = [getattr(t, name)(y) for name, _ in comparisons]
        logic = [a.logical_and(b), a.logical_or(b), a.logical_xor(b), a.logical_not()]
        return arithmetic, remainders, compared, logic

    arithmetic, remainders, compared, logic = methods(
        t, y, slope.tensor(np.array([True, False, True])), slope.tensor(np.array([True, True, False])))
    expected = [x - 1.5, x * x[::-1], x / 2, (x * x[::-1] - x) / x[::-1], np.abs(x) ** 0.5, x @ x[::-1].T,
                x[0] @ x[1], np.outer(x[0], x[1]), np.arctan2(x, x[::-1]), np.expm1(x), np.log1p(np.abs(x)),
                -x, -x, np.clip(x, -0.5, 0.5), np.floor_divide(x, np.float32(0.7))]
    assert len(arithmetic) == len(expected)
    for got, e in zip(arithmetic, expected):
        assert_close(got, e)
    assert_close(remainders[0], np.mod(x, np.float32(0.7)), atol=1e-5)
    assert_close(remainders[1], np.fmod(x, np.float32(0.7)), atol=1e-5)
    for (name, fn), got in zip(comparisons, compared):
        np.testing.assert_array_equal(got.numpy(), fn(x, x[::-1]), err_msg=name)
    assert [v.tolist() for v in logic] == [[True, False, False], [True, True, True], [False, True, True],
                                           [False, True, False]]


def test_methods_work_under_transforms(x):
    def f(a):
        v, _ = a.sort(dim=1)
        return (v.cumprod(1).narrow(1, 0, 3) * a.cummax(1).values.split(3, 1)[0]).sum()

    def f_np(a):
        return (np.cumprod(np.sort(a, 1), 1)[:, :3] * np.maximum.accumulate(a, 1)[:, :3]).sum()

    @slope.jit
    def transformed(t, t64):
        return f(t), slope.grad(f)(t), slope.grad(f)(t64), slope.vmap(lambda row: row.sort().values)(t)

    value, g, g64, out = transformed(slope.tensor(x), slope.tensor(x.astype(np.float64)))
    np.testing.assert_allclose(np.asarray(value), f_np(x), rtol=1e-5)
    # the float32 gradient against the same rules in float64, and those against float64 central differences
    np.testing.assert_allclose(np.asarray(g), np.asarray(g64), rtol=1e-5, atol=1e-6)
    eps, x64 = 1e-6, x.astype(np.float64)
    fd = np.array([(f_np(x64 + eps * e.reshape(x.shape)) - f_np(x64 - eps * e.reshape(x.shape))) / (2 * eps)
                   for e in np.eye(x.size)]).reshape(x.shape)
    np.testing.assert_allclose(np.asarray(g64), fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(out.numpy(), np.sort(x, -1))


def test_max_min_with_dim_return_values_and_indices(x):
    """Regression: x.max(1)[0] was the max of row 0 and `v, i = x.max(dim=1)` unpacked two rows."""
    t = slope.tensor(x)
    v, i = t.max(dim=1)  # eagerly
    assert_close(v, x.max(1))
    np.testing.assert_array_equal(i.numpy(), x.argmax(1))
    assert_close(t.max(1)[0], x.max(1))
    tied = slope.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])

    def staged(t, tied):
        return (t.max(1).values, t.max(1).indices, t.min(0, keepdim=True), slope.max(t, 0.25 * t), slope.min(t, t.T.T * 2),
                tied.max(1).indices, tied.min(1).indices, t.max(), slope.min(t))

    mx, ix, (mn, imn), emax, emin, tie_max, tie_min, all_max, all_min = slope.jit(staged)(t, tied)
    assert_close(mx, x.max(1))
    np.testing.assert_array_equal(ix.numpy(), x.argmax(1))
    assert_close(mn, x.min(0, keepdims=True))
    np.testing.assert_array_equal(imn.numpy(), x.argmin(0)[None])
    assert_close(emax, np.maximum(x, 0.25 * x))
    assert_close(emin, np.minimum(x, 2 * x))
    np.testing.assert_array_equal(tie_max.numpy(), [1, 0])  # the first maximum, as torch on CPU
    np.testing.assert_array_equal(tie_min.numpy(), [0, 2])
    assert_close(all_max, x.max())
    assert_close(all_min, x.min())
    g = slope.grad(lambda t: t.max(1).values.sum())(t)
    np.testing.assert_array_equal(g.numpy(), np.eye(5, dtype=np.float32)[x.argmax(1)])
    with pytest.raises(slope.ShapeError, match="max: dim must be an int"):
        t.max(dim=(0, 1))
    assert_close(t.amax((0, 1)), x.max())


def test_topk(x):
    t = slope.tensor(x)
    top = t.topk(2)  # eagerly
    np.testing.assert_array_equal(top.indices.numpy(), np.argsort(-x, -1, kind="stable")[:, :2])
    assert_close(top.values, -np.sort(-x, -1)[:, :2])
    low_v, low_i = slope.jit(lambda t: t.topk(3, dim=0, largest=False))(t)
    np.testing.assert_array_equal(low_i.numpy(), np.argsort(x, 0, kind="stable"))
    assert_close(low_v, np.sort(x, 0))
    with pytest.raises(slope.ShapeError, match=r"topk: k must be an int in \[0, 5\]"):
        t.topk(6)


def test_bool_arithmetic_follows_pytorch():
    """bool + bool is logical or, bool * bool logical and, bool - bool an error; an int scalar
    next to a bool tensor makes an int tensor (PyTorch's rules)."""
    a, b = slope.tensor([True, False, True, False]), slope.tensor([True, True, False, False])
    s, p, two, s_jit = a + b, a * b, a * 2, slope.jit(lambda a, b: [a + b, a * b, a + True, 2 * a])(a, b)
    assert s.dtype is slope.bool_ and s.tolist() == [True, True, True, False]
    assert p.dtype is slope.bool_ and p.tolist() == [True, False, False, False]
    assert two.dtype is slope.int64 and two.tolist() == [2, 0, 2, 0]
    assert [v.tolist() for v in s_jit] == [[True, True, True, False], [True, False, False, False],
                                           [True, True, True, True], [2, 0, 2, 0]]
    with pytest.raises(slope.DTypeError, match="sub: subtracting bool tensors is not supported"):
        a - b


def test_erf_method_and_function(x):
    from math import erf

    expected = np.vectorize(erf)(x.astype(np.float64))
    t = slope.tensor(x)
    assert_close(t.erf(), expected, rtol=1e-5, atol=1e-6)
    assert_close(slope.jit(slope.erf)(t), expected, rtol=1e-5, atol=1e-6)
    assert_close(slope.erf(slope.tensor([0, 1])), [0.0, erf(1.0)])  # integers compute in float32
