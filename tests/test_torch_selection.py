"""PyTorch's scatter/select family (slope/ops/selection.py) against NumPy loops written from torch's
documented semantics: eager, jit, float64 gradients against central differences, vmap."""
import itertools

import numpy as np
import pytest
from oracle import check, f32

import slope

IDX = np.array([[0, 2, 1, 0], [2, 2, 0, 1]], np.int32)  # targets along dim 0 of a (3, 5) x; duplicates


def np_scatter(x, dim, index, src, reduce=None, include_self=True):
    out = np.array(x, dtype=np.float64 if x.dtype.kind == "f" else x.dtype, copy=True)
    seen = {}
    for pos in itertools.product(*map(range, index.shape)):
        tgt = list(pos)
        tgt[dim] = index[pos]
        tgt = tuple(tgt)
        v = src[pos] if np.ndim(src) else src
        seen.setdefault(tgt, []).append(v)
    for tgt, vs in seen.items():
        if reduce is None:
            out[tgt] = vs[-1]
            continue
        vals = ([x[tgt]] if include_self else []) + vs
        fn = {"sum": np.sum, "prod": np.prod, "amax": np.max, "amin": np.min, "mean": np.mean}[reduce]
        r = fn(vals)
        if reduce == "mean" and x.dtype.kind != "f":
            r = np.floor_divide(np.sum(vals), len(vals))
        out[tgt] = r
    return out.astype(x.dtype)


def test_masked_fill():
    m = np.array([True, False, True, False])
    check(lambda x: x.masked_fill(slope.tensor(m), -1.5), lambda x: np.where(m, -1.5, x).astype(x.dtype), f32(3, 4))
    check(lambda x, v: slope.masked_fill(x, slope.tensor(m), v), lambda x, v: np.where(m, v, x), f32(3, 4),
          np.float32(2.0), vmap=False)
    with pytest.raises(slope.DTypeError, match="masked_fill: mask must be a bool tensor"):
        slope.tensor(f32(2)).masked_fill(slope.tensor([1, 0]), 0.0)


def test_scatter_and_scatter_add():
    src = f32(2, 4, seed=1)
    # duplicates pick the last row-major write, so only the unduplicated targets are differentiable in src
    check(lambda x, s: x.scatter(0, IDX, s), lambda x, s: np_scatter(x, 0, IDX, s), f32(3, 5), src, grad=False)
    uniq = np.array([[0, 2, 1, 0], [2, 1, 0, 1]], np.int32)
    check(lambda x, s: x.scatter(0, uniq, s), lambda x, s: np_scatter(x, 0, uniq, s), f32(3, 5), src)
    check(lambda x: x.scatter(1, IDX, value=7.0), lambda x: np_scatter(x, 1, IDX, 7.0), f32(3, 5))
    check(lambda x, s: x.scatter_add(0, IDX, s), lambda x, s: np_scatter(x, 0, IDX, s, "sum"), f32(3, 5), f32(3, 4))
    check(lambda x, s: x.scatter(0, IDX, s, reduce="multiply"), lambda x, s: np_scatter(x, 0, IDX, s, "prod"),
          f32(3, 5), src, vmap=False)
    with pytest.raises(slope.OutOfBoundsError, match="scatter: index 3 is out of bounds for dimension 0 with size 3"):
        slope.scatter(slope.tensor(f32(3, 5)), 0, [[3]], slope.tensor(f32(1, 1)))
    with pytest.raises(slope.ShapeError, match="scatter_add: index must have the rank of x"):
        slope.scatter_add(slope.tensor(f32(3, 5)), 0, [1], slope.tensor(f32(1)))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    src = f32(2, 4, seed=1)
    check(lambda x, s: x.scatter_reduce(0, IDX, s, reduce, include_self=include_self),
          lambda x, s: np_scatter(x, 0, IDX, s, reduce, include_self), f32(3, 5), src, vmap=reduce == "amax",
          grad_rtol=1e-4)


def test_scatter_reduce_integers():
    x, s = np.arange(15, dtype=np.int32).reshape(3, 5), np.array([[5, -3, 2, 7], [1, 1, 4, 9]], np.int32)
    for reduce in ("mean", "amin", "prod"):
        check(lambda x, s, r=reduce: x.scatter_reduce(0, IDX, s, r), lambda x, s, r=reduce: np_scatter(x, 0, IDX, s, r),
              x, s, vmap=False)


def test_index_put_take():
    i0, i1 = np.array([0, 2, 0]), np.array([1, 1, 1])
    v = f32(3, seed=1)

    def np_acc(x, v):
        out = x.astype(np.float64)
        np.add.at(out, (i0, i1), v)
        return out.astype(x.dtype)

    check(lambda x, v: x.index_put((slope.tensor(i0[1:]), slope.tensor(i1[1:])), v[1:]),
          lambda x, v: _put(x, i0[1:], i1[1:], v[1:]), f32(3, 4), v)
    check(lambda x, v: x.index_put((slope.tensor(i0), slope.tensor(i1)), v, accumulate=True), np_acc, f32(3, 4), v)
    check(lambda x: x.index_put((slope.tensor(np.array([2, 0])),), 0.5), lambda x: _put(x, [2, 0], None, 0.5),
          f32(3, 4))
    idx = np.array([[0, 11], [-1, 5]])
    check(lambda x: x.take(slope.tensor(idx)), lambda x: np.take(x, idx), f32(3, 4))
    with pytest.raises(slope.OutOfBoundsError, match="take: index 12 is out of bounds"):
        slope.take(slope.tensor(f32(3, 4)), [12])


def _put(x, i0, i1, v):
    out = x.copy()
    if i1 is None:
        out[np.asarray(i0)] = v
    else:
        out[np.asarray(i0), np.asarray(i1)] = v
    return out


def test_data_dependent_ops_eager_and_errors_under_jit():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], np.float32)
    t = slope.tensor(a)
    np.testing.assert_array_equal(t.nonzero().numpy(), np.argwhere(a))
    assert [c.tolist() for c in slope.nonzero(t, as_tuple=True)] == [c.tolist() for c in np.nonzero(a)]
    assert [c.tolist() for c in slope.where(t != 0)] == [c.tolist() for c in np.nonzero(a)]
    vals, inv, counts = slope.unique(t, return_inverse=True, return_counts=True)
    ev, ei, ec = np.unique(a, return_inverse=True, return_counts=True)
    assert vals.tolist() == ev.tolist() and inv.tolist() == ei.reshape(a.shape).tolist() and counts.tolist() == ec.tolist()
    assert slope.unique(slope.tensor([3, 1, 3])).tolist() == [1, 3]
    np.testing.assert_array_equal(t.masked_select(t > 0).numpy(), a[a > 0])
    for op in (lambda x: x.nonzero(), lambda x: slope.unique(x), lambda x: x.masked_select(x > 0),
               lambda x: slope.where(x > 0)):
        with pytest.raises(slope.TracerError, match="depends on the values"):
            slope.jit(op)(t)


def test_searchsorted_bucketize():
    seq = np.array([1.0, 2.0, 2.0, 5.0], np.float32)
    vals = np.array([[0.0, 2.0, 3.0], [5.0, 6.0, 2.0]], np.float32)
    for right in (False, True):
        side = "right" if right else "left"
        check(lambda v, r=right: slope.searchsorted(slope.tensor(seq), v, right=r),
              lambda v, s=side: np.searchsorted(seq, v, side=s).astype(np.int32), vals, grad=False)
        check(lambda b, r=right: slope.bucketize(slope.tensor(vals), b, right=r),
              lambda b, r=right: np.digitize(vals, b, right=not r).astype(np.int32), seq, grad=False, vmap=False)
    batched = np.sort(f32(2, 5), -1)
    got = slope.jit(lambda s, v: slope.searchsorted(s, v, side="right"))(slope.tensor(batched), slope.tensor(vals))
    want = np.stack([np.searchsorted(batched[i], vals[i], side="right") for i in range(2)])
    np.testing.assert_array_equal(got.numpy(), want)
    assert slope.searchsorted(slope.tensor(seq), 2.5).tolist() == 3


def test_median_kthvalue():
    check(lambda x: x.median(), lambda x: np.sort(x.ravel())[(x.size - 1) // 2], f32(3, 4))
    x = f32(3, 4)
    v, i = slope.tensor(x).median(1)
    np.testing.assert_array_equal(v.numpy(), np.sort(x, 1)[:, 1])
    np.testing.assert_array_equal(np.take_along_axis(x, i.numpy()[:, None], 1)[:, 0], v.numpy())
    check(lambda x: x.median(0, keepdim=True).values, lambda x: np.sort(x, 0)[(3 - 1) // 2][None], x)
    check(lambda x: slope.kthvalue(x, 3, 1).values, lambda x: np.sort(x, 1)[:, 2], x)
    check(lambda x: x.kthvalue(1, 0, True).indices, lambda x: np.argsort(x, 0)[:1].astype(np.int32), x, grad=False)
    nan = np.array([[1.0, np.nan, 0.0], [3.0, 2.0, 1.0]], np.float32)
    v, i = slope.jit(lambda x: x.median(1))(slope.tensor(nan))
    assert np.isnan(v.numpy()[0]) and i.tolist() == [1, 1] and v.numpy()[1] == 2.0
    with pytest.raises(slope.ShapeError, match=r"kthvalue: k must be an int in \[1, 4\]"):
        slope.kthvalue(slope.tensor(x), 5)
