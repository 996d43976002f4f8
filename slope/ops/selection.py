"""PyTorch's scatter/select family built on slope's gather/scatter primitives: masked_fill, scatter,
scatter_add, scatter_reduce, index_put, take; sort-based selections (median, kthvalue); searchsorted
and bucketize; and the ops whose result size depends on the data (nonzero, where(cond), unique,
masked_select), which run eagerly only: under a transformation they raise TracerError.

Index bounds follow slope.ops.indexing: indices known now are checked (OutOfBoundsError), traced ones
wrap once if negative and out-of-range rows are dropped by writes."""
from __future__ import annotations

import collections as _collections

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import Tensor, tensor
from slope.errors import DomainError, DTypeError, ShapeError, TracerError, describe
from slope.ops.arithmetic import add, div, floor_divide, maximum, minimum, mul
from slope.ops.arithmetic import where as _where
from slope.ops.indexing import _index_tensor, index_select
from slope.ops.promotion import (
    as_array,
    astype,
    broadcast_shapes,
    broadcast_to,
    check_scalar,
    is_array,
    normalize_dim,
)
from slope.ops.reductions import amax, amin, prod, sort
from slope.ops.reductions import sum as _sum
from slope.ops.shape import (
    flatten,
    narrow,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    unsqueeze,
)
from slope.ops.indexing import take_along_dim

__all__ = [
    "mode",
    "argwhere",
    "bucketize",
    "index_put",
    "kthvalue",
    "masked_fill",
    "masked_select",
    "median",
    "nonzero",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "searchsorted",
    "where",
    "take",
    "unique",
]


def masked_fill(x, mask, value):
    """x with `value` (a number or a 0-d tensor) where the bool `mask` (broadcast to x's shape) is True."""
    x, mask = as_array(x, "masked_fill"), as_array(mask, "masked_fill")
    if not mask.dtype.is_bool:
        raise DTypeError(f"masked_fill: mask must be a bool tensor, got {mask.aval.str_short()}")
    if broadcast_shapes(tuple(mask.shape), tuple(x.shape), op="masked_fill") != tuple(x.shape):
        raise ShapeError(f"masked_fill: mask {mask.aval.str_short()} does not broadcast to x {x.aval.str_short()}")
    if is_array(value):
        if value.ndim != 0:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got {value.aval.str_short()}")
        value = astype(value, x.dtype)
    else:
        check_scalar("masked_fill", dt.python_scalar(value))
        value = lax.full(shape=(), value=dt.python_scalar(value), dtype=x.dtype)
    return where(broadcast_to(mask, tuple(x.shape)), broadcast_to(value, tuple(x.shape)), x)


def _coords(op, x, d, index):
    """(full coordinates (*index.shape, ndim), index) for torch's scatter/gather along dim d."""
    idx = _index_tensor(op, index, x.shape[d], d)
    if idx.ndim != x.ndim or any(idx.shape[i] > x.shape[i] for i in range(x.ndim) if i != d):
        raise ShapeError(f"{op}: index must have the rank of x and no larger size off dim {d}, got "
                         f"{describe([x.aval, idx.aval])}")
    cols = [idx if i == d else lax.iota(shape=tuple(idx.shape), dimension=i, dtype=idx.dtype) for i in range(x.ndim)]
    return stack(cols, dim=-1), idx


def _src(op, x, idx, src):
    """src as updates of idx's shape (torch reads src[i][j] only where index has entries)."""
    if not is_array(src) and not isinstance(src, (list, tuple, np.ndarray)):
        check_scalar(op, dt.python_scalar(src))
        return lax.full(shape=tuple(idx.shape), value=dt.python_scalar(src), dtype=x.dtype)
    src = as_array(src, op)
    if src.ndim != idx.ndim or any(s < i for s, i in zip(src.shape, idx.shape)):
        raise ShapeError(f"{op}: src must have the rank of index and be at least as large in every dim, got "
                         f"{describe([idx.aval, src.aval])}")
    for i, n in enumerate(idx.shape):
        src = narrow(src, i, 0, n)
    return astype(src, x.dtype)


def scatter(x, dim, index, src=None, *, value=None, reduce=None):
    """torch.scatter: out[index[i][j]][j] = src[i][j] for dim=0 (and so on); src may be a number (or pass
    value=). On duplicate targets the last one in row-major order wins. reduce='add'/'multiply' combine
    with x instead (as torch's deprecated argument)."""
    x = as_array(x, "scatter")
    if x.ndim == 0:
        raise ShapeError("scatter: x must have at least 1 dim")
    src = value if src is None else src
    if src is None:
        raise ShapeError("scatter: needs src (a tensor) or value (a number)")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise DomainError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        return scatter_reduce(x, dim, index, src if is_array(src) else _full_like_index(x, dim, index, src),
                              "sum" if reduce == "add" else "prod")
    d = normalize_dim("scatter", dim, x.ndim)
    coords, idx = _coords("scatter", x, d, index)
    return lax.scatter(x, coords, _src("scatter", x, idx, src))


def _full_like_index(x, dim, index, v):
    shape = tuple(np.shape(index)) if not is_array(index) else tuple(index.shape)
    return lax.full(shape=shape, value=dt.python_scalar(v), dtype=x.dtype)


def scatter_add(x, dim, index, src):
    """torch.scatter_add: out[index[i][j]][j] += src[i][j] for dim=0; duplicates accumulate."""
    x = as_array(x, "scatter_add")
    if x.ndim == 0:
        raise ShapeError("scatter_add: x must have at least 1 dim")
    d = normalize_dim("scatter_add", dim, x.ndim)
    coords, idx = _coords("scatter_add", x, d, index)
    return lax.scatter_add(x, coords, _src("scatter_add", x, idx, src))


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(x, dim, index, src, reduce, *, include_self=True):
    """torch.scatter_reduce: each target x[index[i][j]][j] (dim=0) combined with every src[i][j] sent to it
    by reduce ('sum', 'prod', 'mean', 'amax', 'amin'); include_self=False leaves x out of the reduction at
    the targets (untargeted entries keep x). 'mean' divides by the number of values reduced (integer
    dtypes round toward -inf as torch does). prod/amax/amin compare every index with every position of
    dim (memory index.size * x.shape[dim])."""
    x = as_array(x, "scatter_reduce")
    if reduce not in _REDUCTIONS:
        raise DomainError(f"scatter_reduce: reduce must be one of {', '.join(_REDUCTIONS)}, got {reduce!r}")
    if x.ndim == 0:
        raise ShapeError("scatter_reduce: x must have at least 1 dim")
    d = normalize_dim("scatter_reduce", dim, x.ndim)
    coords, idx = _coords("scatter_reduce", x, d, index)
    src = _src("scatter_reduce", x, idx, src)
    ones = lax.full(shape=tuple(idx.shape), value=1, dtype=x.dtype)
    count = lax.scatter_add(lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype), coords, ones)
    hit = lax.gt(count, lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype))
    if reduce in ("sum", "mean"):
        base = x if include_self else where(hit, lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype), x)
        total = lax.scatter_add(base, coords, src)
        if reduce == "sum":
            return total
        n = add(count, 1) if include_self else where(hit, count, lax.full(shape=tuple(x.shape), value=1, dtype=x.dtype))
        if x.dtype.is_float:
            return div(total, n)
        return floor_divide(total, n)
    # one-hot over the targets: mask[t, ...] = (index[...] == t) along dim d
    n_d = x.shape[d]
    moved = permute(idx, d, *[i for i in range(idx.ndim) if i != d])  # (m, *rest)
    srcm = permute(src, d, *[i for i in range(idx.ndim) if i != d])
    shape = (n_d,) + tuple(moved.shape)
    targets = lax.iota(shape=shape, dimension=0, dtype=moved.dtype)
    mask = lax.eq(lax.broadcast_in_dim(moved, shape=shape, broadcast_dimensions=tuple(range(1, len(shape)))), targets)
    wide = lax.broadcast_in_dim(srcm, shape=shape, broadcast_dimensions=tuple(range(1, len(shape))))
    if reduce == "prod":
        neutral, combine, red = 1, mul, prod
    elif reduce == "amax":
        neutral, combine, red = _lowest(x.dtype), maximum, amax
    else:
        neutral, combine, red = _highest(x.dtype), minimum, amin
    r = red(where(mask, wide, lax.full(shape=shape, value=neutral, dtype=x.dtype)), 1)  # (n_d, *rest)
    r = permute(r, *range(1, d + 1), 0, *range(d + 1, x.ndim))  # back to x's dim order, index's sizes
    grow = [(0, n - m) for n, m in zip(x.shape, r.shape)]
    if any(hi for _, hi in grow):
        r = pad(r, tuple(v for lo_hi in reversed(grow) for v in lo_hi), value=neutral)
    out = combine(x, r) if include_self else r
    return where(hit, out, x)


def _lowest(d):
    return float("-inf") if d.is_float else int(np.iinfo(d.np).min) if not d.is_bool else False


def _highest(d):
    return float("inf") if d.is_float else int(np.iinfo(d.np).max) if not d.is_bool else True


def index_put(x, indices, values, accumulate=False):
    """torch.index_put: x[indices] = values (accumulate=True: +=), indices a tuple of integer tensors for
    the leading dims (broadcast together), values broadcast to the indexed shape. Duplicates: the last
    write wins, or they accumulate."""
    x = as_array(x, "index_put")
    if not isinstance(indices, (tuple, list)) or not indices:
        raise ShapeError(f"index_put: indices must be a non-empty tuple of index tensors, got {type(indices).__name__}")
    if len(indices) > x.ndim:
        raise ShapeError(f"index_put: {len(indices)} index tensors for a {x.ndim}-d tensor {x.aval.str_short()}")
    idx = [_index_tensor("index_put", v, x.shape[i], i) for i, v in enumerate(indices)]
    wide = dt.int64 if any(i.dtype is dt.int64 for i in idx) else dt.int32
    b = broadcast_shapes(*[tuple(i.shape) for i in idx], op="index_put")
    coords = stack([broadcast_to(astype(i, wide), b) for i in idx], dim=-1)
    target = b + tuple(x.shape[len(idx):])
    values = astype(as_array(values, "index_put"), x.dtype)
    if broadcast_shapes(tuple(values.shape), target, op="index_put") != target:
        raise ShapeError(f"index_put: values {values.aval.str_short()} do not broadcast to the indexed shape {target}")
    values = broadcast_to(values, target)
    return (lax.scatter_add if accumulate else lax.scatter)(x, coords, values)


def take(x, index):
    """torch.take: entries of the flattened x at `index` (any shape; negative counts from the end)."""
    x = as_array(x, "take")
    flat = flatten(x)
    idx = _index_tensor("take", index, flat.shape[0], 0)
    return reshape(index_select(flat, 0, flatten(idx)), *idx.shape)


# ------------------------------------------------------------------ data-dependent sizes (eager only)
def _concrete(op, x):
    if is_array(x) and not isinstance(x, Tensor):
        raise TracerError(f"{op}: the result's size depends on the values of {x.aval.str_short()}, which are not known "
                          f"while tracing (under jit, vmap or grad); call {op} outside the transformation")
    return as_array(x, op).numpy()


def where(cond, x=None, y=None):
    """torch.where: x where cond is True, else y (broadcasting; arithmetic.where); where(cond) alone is
    nonzero(cond, as_tuple=True) (eager only: its size depends on the data)."""
    if x is None and y is None:
        return nonzero(cond, as_tuple=True)
    return _where(cond, x, y)


def nonzero(x, *, as_tuple=False):
    """Indices of the nonzero entries (row-major): an (n, ndim) tensor, or with as_tuple=True one 1-d tensor
    per dim (torch.nonzero). Eager only: the size of the result depends on the data."""
    a = _concrete("nonzero", x)
    nz = np.nonzero(a) if a.ndim else np.nonzero(a.reshape(1))
    cols = [c.astype(dt.default_int.np) for c in nz]
    if as_tuple:
        return tuple(tensor(c) for c in cols)
    return tensor(np.stack(cols, -1) if cols else np.zeros((int(bool(a)), 0), dt.default_int.np))


def argwhere(x):
    return nonzero(x)


_Unique = _collections.namedtuple("unique", ["values", "inverse", "counts"])


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Distinct values of x in ascending order (torch.unique), with the index of each element's value
    (return_inverse, x's shape) and how often each occurs (return_counts); with dim, distinct slices.
    Eager only."""
    a = _concrete("unique", x)
    axis = None if dim is None else normalize_dim("unique", dim, a.ndim)
    vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis)
    inv = inv.reshape(a.shape if axis is None else (a.shape[axis],))
    out = [tensor(vals)]
    if return_inverse:
        out.append(tensor(inv.astype(dt.default_int.np)))
    if return_counts:
        out.append(tensor(counts.astype(dt.default_int.np)))
    return out[0] if len(out) == 1 else tuple(out)


def masked_select(x, mask):
    """The entries of x where the bool mask (broadcast with x) is True, as a 1-d tensor. Eager only."""
    xa, m = _concrete("masked_select", x), _concrete("masked_select", mask)
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_select: mask must be a bool tensor, got {as_array(mask).aval.str_short()}")
    shape = broadcast_shapes(xa.shape, m.shape, op="masked_select")
    return tensor(np.broadcast_to(xa, shape)[np.broadcast_to(m, shape)], dtype=as_array(x).dtype)


# ------------------------------------------------------------------ searching and order statistics
def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """torch.searchsorted: for each value, the index where it would be inserted into the last dim of
    sorted_sequence keeping it sorted (side='left': before equal entries; 'right'/right=True: after).
    A 1-d sequence serves any values; otherwise leading dims must match. Computed by comparing every
    value with every boundary (jit-able; memory values.size * sequence length)."""
    seq = as_array(sorted_sequence, "searchsorted")
    scalar = not is_array(values) and np.ndim(values) == 0
    vals = as_array(values, "searchsorted")
    if side is not None:
        if side not in ("left", "right"):
            raise DomainError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise DomainError("searchsorted: side='left' and right=True contradict each other")
        right = side == "right"
    if seq.ndim == 0:
        raise ShapeError("searchsorted: sorted_sequence must have at least 1 dim")
    if sorter is not None:
        seq = take_along_dim(seq, sorter, -1)
    if seq.ndim > 1 and tuple(seq.shape[:-1]) != tuple(vals.shape[:-1]):
        raise ShapeError(f"searchsorted: leading dims of sorted_sequence and values must match, got "
                         f"{describe([seq.aval, vals.aval])}")
    d = dt.promote(seq.dtype, vals.dtype)
    seq, vals = astype(seq, d), astype(vals, d)
    n = seq.shape[-1]
    v = unsqueeze(vals, -1)
    s = unsqueeze(seq, -2) if seq.ndim > 1 else seq
    below = (lax.le if right else lax.lt)(*[broadcast_to(t, tuple(vals.shape) + (n,)) for t in (s, v)])
    out = _sum(astype(below, dt.int32), -1, dtype=dt.int32)
    out = astype(out, dt.int32 if out_int32 else dt.default_int)
    return squeeze(out) if scalar else out


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """torch.bucketize: the bucket of each input value among the 1-d sorted boundaries (right=False:
    boundaries[i-1] < v <= boundaries[i])."""
    b = as_array(boundaries, "bucketize")
    if b.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-d, got {b.aval.str_short()}")
    return searchsorted(b, input, out_int32=out_int32, right=right)


_Median = _collections.namedtuple("median", ["values", "indices"])
_KthValue = _collections.namedtuple("kthvalue", ["values", "indices"])


def _select_sorted(op, x, dim, pos_of, keepdim, result):
    x = as_array(x, op)
    if x.ndim == 0:
        normalize_dim(op, dim, 0)
        x, d = reshape(x, 1), 0
    else:
        d = normalize_dim(op, dim, x.ndim)
    n = x.shape[d]
    if n == 0:
        raise ShapeError(f"{op}: cannot select from the empty dim {d} of {x.aval.str_short()}")
    values, indices = sort(x, d)
    pos = pos_of(x, d, n)  # keepdim-shaped int32 positions into the sorted dim
    v, i = take_along_dim(values, pos, d), take_along_dim(indices, pos, d)
    if not keepdim:
        v, i = squeeze(v, d), squeeze(i, d)
    return result(v, i)


def _median_pos(x, d, n):
    shape = tuple(1 if i == d else s for i, s in enumerate(x.shape))
    lower = lax.full(shape=shape, value=(n - 1) // 2, dtype=dt.int32)
    if not x.dtype.is_float:
        return lower
    nans = _sum(astype(lax.ne(x, x), dt.int32), d, keepdim=True, dtype=dt.int32)  # NaN sorts last: the first NaN is at n - nans
    return where(lax.gt(nans, lax.full(shape=shape, value=0, dtype=dt.int32)),
                 lax.sub(lax.full(shape=shape, value=n, dtype=dt.int32), nans), lower)


def median(x, dim=None, keepdim=False):
    """torch.median: the lower median (the smaller of the two middle values for an even count); NaN if
    the values hold a NaN. With dim, the pair (values, indices) along it."""
    if dim is None:
        x = as_array(x, "median")
        return _select_sorted("median", flatten(x), 0, _median_pos, False, _Median).values
    return _select_sorted("median", x, dim, _median_pos, keepdim, _Median)


def kthvalue(x, k, dim=-1, keepdim=False):
    """torch.kthvalue: (values, indices) of the k-th smallest entry (1-based) along dim."""
    x = as_array(x, "kthvalue")
    n = x.shape[normalize_dim("kthvalue", dim, x.ndim)] if x.ndim else 1
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= n):
        raise ShapeError(f"kthvalue: k must be an int in [1, {n}] for {x.aval.str_short()} along dim {dim}, got {k!r}")

    def pos(x, d, n):
        return lax.full(shape=tuple(1 if i == d else s for i, s in enumerate(x.shape)), value=k - 1, dtype=dt.int32)

    return _select_sorted("kthvalue", x, dim, pos, keepdim, _KthValue)


_Mode = _collections.namedtuple("mode", ["values", "indices"])


def mode(x, dim=-1, keepdim=False):
    """torch.mode: (values, indices) of the most frequent value along dim; among equally frequent values the
    smallest, at the index of its last occurrence (as torch). Counts by comparing all pairs along dim (memory
    n^2 per row). The values' gradient goes to the returned index."""
    from slope.ops.reductions import _take_at
    x = as_array(x, "mode")
    if x.ndim == 0:
        normalize_dim("mode", dim, 0)
        return _Mode(x, lax.full(shape=(), value=0, dtype=dt.default_int))
    d = normalize_dim("mode", dim, x.ndim)
    keys = astype(x, dt.int32) if x.dtype.is_bool else x
    from slope.ops.arithmetic import eq
    same = eq(unsqueeze(keys, d + 1), unsqueeze(keys, d))  # [.., i, j, ..] = x_i == x_j along d
    counts = _sum(astype(same, dt.default_int), d + 1)
    best = lax.eq(counts, broadcast_to(amax(counts, d, keepdim=True), tuple(counts.shape)))
    if keys.dtype.is_float:
        top = lax.full(shape=tuple(keys.shape), value=float("inf"), dtype=keys.dtype)
    else:
        top = lax.full(shape=tuple(keys.shape), value=int(np.iinfo(keys.dtype.np).max), dtype=keys.dtype)
    value = amin(where(best, keys, top), d, keepdim=True)
    pos = lax.iota(shape=tuple(x.shape), dimension=d, dtype=dt.default_int)
    hit = lax.eq(keys, broadcast_to(value, tuple(keys.shape)))
    idx = amax(where(hit, pos, lax.full(shape=tuple(x.shape), value=-1, dtype=dt.default_int)), d, keepdim=True)
    values = _take_at(x, idx, d)
    return _Mode(values, idx) if keepdim else _Mode(squeeze(values, d), squeeze(idx, d))
