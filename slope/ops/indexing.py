"""Indexing: NumPy/PyTorch `x[...]` (basic and integer-tensor indices), take/gather/index_select/index_add.

Static out-of-range integer indices raise ShapeError; integer *tensor* indices are data, so they
cannot be checked while tracing: negative ones wrap once (like NumPy) and the rest are clamped."""
from __future__ import annotations

import builtins

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import tensor
from slope.errors import DTypeError, ShapeError, describe
from slope.ops.promotion import as_array, astype, broadcast_shapes, broadcast_to, is_array, is_static_int, normalize_dim
from slope.ops.arithmetic import mul
from slope.ops.shape import permute, reshape, stack

_py_max, _py_sum = builtins.max, builtins.sum

__all__ = ["getitem", "take_along_axis", "take_along_dim", "gather", "index_select", "index_add"]


def _wrap_negative(i, n):
    """Index tensor with negative entries counted from the end of a dim of size n."""
    zero = lax.full(shape=tuple(i.shape), value=0, dtype=i.dtype)
    return lax.select(lax.lt(i, zero), lax.add(i, lax.full(shape=tuple(i.shape), value=n, dtype=i.dtype)), i)


def _index_tensor(op, v, n, d):
    """An integer index (array-like or tensor) for a dim of size n, as a signed int tensor with
    negatives wrapped; static values are bounds-checked."""
    if is_array(v):
        if not v.dtype.is_int:
            raise DTypeError(f"{op}: index tensors must have an integer dtype, got {v.aval.str_short()}"
                             + (" (boolean masks are not supported)" if v.dtype.is_bool else ""))
        if v.dtype.is_unsigned:  # never negative; int64 holds every uint32 value
            return astype(v, dt.int64 if v.dtype.bits >= 32 else dt.int32)
        return _wrap_negative(v, n)
    a = np.asarray(v)
    if a.dtype == np.bool_:
        raise DTypeError(f"{op}: boolean mask indices are not supported")
    if a.size == 0 and a.dtype.kind == "f":
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be integers, got {a.dtype} values")
    bad = (a < -n) | (a >= n)
    if np.any(bad):
        raise ShapeError(f"{op}: index {a[bad].flat[0]} is out of bounds for dimension {d} with size {n}")
    a = np.where(a < 0, a + n, a)
    return tensor(a.astype(np.int32 if n <= 2**31 - 1 else np.int64))


def _slice_params(s, n):
    """(start, limit, stride, reversed) of a Python slice on a dim of size n, as a forward strided slice
    (a negative step becomes a reversal followed by a positive-step slice)."""
    start, stop, step = s.indices(n)
    count = len(range(start, stop, step))
    if count == 0:
        return 0, 0, 1, False
    if step > 0:
        return start, start + (count - 1) * step + 1, step, False
    r = n - 1 - start
    return r, r + (count - 1) * -step + 1, -step, True


def _basic_slices(x, entries):
    """Apply the slice entries (one per dim; others keep the whole dim) with one rev and one slice."""
    starts, limits, strides, flips = [], [], [], []
    for d, (e, n) in enumerate(zip(entries, x.shape)):
        if isinstance(e, builtins.slice):
            a, b, s, r = _slice_params(e, n)
        else:
            a, b, s, r = 0, n, 1, False
        starts.append(a), limits.append(b), strides.append(s)
        if r:
            flips.append(d)
    if flips:
        x = lax.rev(x, dimensions=tuple(flips))
    if any(a != 0 or b != n or s != 1 for a, b, s, n in zip(starts, limits, strides, x.shape)):
        x = lax.slice(x, start_indices=tuple(starts), limit_indices=tuple(limits), strides=tuple(strides))
    return x


def getitem(x, idx):
    """x[idx] with NumPy semantics: ints (negative from the end), slices (any step), None, Ellipsis and
    integer arrays/tensors (advanced indexing, via gather). Boolean masks are not supported."""
    x = as_array(x)
    items = list(idx) if isinstance(idx, tuple) else [idx]
    kinds = []
    for v in items:
        if v is None:
            kinds.append("new")
        elif v is Ellipsis:
            kinds.append("ellipsis")
        elif isinstance(v, (bool, np.bool_)):
            raise DTypeError("getitem: boolean indices are not supported")
        elif is_static_int(v):
            kinds.append("int")
        elif isinstance(v, builtins.slice):
            kinds.append("slice")
        elif is_array(v) or isinstance(v, (list, np.ndarray)):
            kinds.append("array")
        else:
            raise DTypeError(f"getitem: unsupported index of type {type(v).__name__}")
    if kinds.count("ellipsis") > 1:
        raise ShapeError("getitem: an index can only have a single ellipsis (...)")
    used = _py_sum(k in ("int", "slice", "array") for k in kinds)
    if used > x.ndim:
        raise ShapeError(f"getitem: too many indices for a {x.ndim}-d tensor of shape {tuple(x.shape)}: {used} were indexed")
    fill = [builtins.slice(None)] * (x.ndim - used)
    if "ellipsis" in kinds:
        at = kinds.index("ellipsis")
        items, kinds = items[:at] + fill + items[at + 1:], kinds[:at] + ["slice"] * len(fill) + kinds[at + 1:]
    else:
        items, kinds = items + fill, kinds + ["slice"] * len(fill)
    new_axes = tuple(i for i, k in enumerate(kinds) if k == "new")
    if new_axes:  # a None becomes a size-1 dim indexed by a full slice
        x = lax.expand_dims(x, dimensions=new_axes)
        items = [builtins.slice(None) if k == "new" else v for v, k in zip(items, kinds)]
        kinds = ["slice" if k == "new" else k for k in kinds]
    shape = tuple(x.shape)
    if "array" not in kinds:
        ints = []
        for d, (v, k) in enumerate(zip(items, kinds)):
            if k == "int":
                n = shape[d]
                if not -n <= v < n:
                    raise ShapeError(f"getitem: index {v} is out of bounds for dimension {d} with size {n}")
                v = int(v) % n
                items[d] = builtins.slice(v, v + 1)
                ints.append(d)
        x = _basic_slices(x, items)
        return lax.squeeze(x, dimensions=tuple(ints)) if ints else x
    # advanced indexing: ints count as 0-d index arrays (so they take part in NumPy's adjacency rule)
    x = _basic_slices(x, [v if k == "slice" else None for v, k in zip(items, kinds)])
    adv = [d for d, k in enumerate(kinds) if k in ("int", "array")]
    index = [_index_tensor("getitem", items[d], shape[d], d) for d in adv]
    wide = dt.int64 if any(i.dtype is dt.int64 for i in index) else dt.int32
    index = [astype(i, wide) for i in index]
    bshape = broadcast_shapes(*[tuple(i.shape) for i in index], op="getitem")
    index = stack([broadcast_to(i, bshape) for i in index], dim=-1)
    rest = [d for d in range(x.ndim) if d not in adv]
    if adv + rest != list(range(x.ndim)):
        x = lax.transpose(x, perm=tuple(adv + rest))
    out = lax.gather(x, index)
    nb, first = len(bshape), adv[0]
    if adv == list(range(first, first + len(adv))) and first > 0 and nb:  # adjacent: the result dims stay in place
        perm = [nb + j for j in range(first)] + list(range(nb)) + [nb + j for j in range(first, len(rest))]
        out = lax.transpose(out, perm=tuple(perm))
    return out


def take_along_axis(x, indices, axis):
    """np.take_along_axis: out[..., j, ...] = x[..., indices[..., j, ...], ...] along axis (other dims
    broadcast); axis=None indexes the flattened x with 1-d indices."""
    x = as_array(x)
    if axis is None:
        x, axis = reshape(x, x.size), 0
    a = normalize_dim("take_along_axis", axis, x.ndim)
    idx = _index_tensor("take_along_axis", indices, x.shape[a], a)
    if idx.ndim != x.ndim:
        raise ShapeError(f"take_along_axis: indices must have the rank of x ({x.ndim}), got {idx.aval.str_short()}")
    shape = broadcast_shapes(tuple(1 if i == a else n for i, n in enumerate(x.shape)), tuple(idx.shape),
                             op="take_along_axis")
    x = broadcast_to(x, tuple(shape[i] if i != a else x.shape[a] for i in range(x.ndim)))
    cols = [broadcast_to(idx, shape) if i == a else lax.iota(shape=shape, dimension=i, dtype=idx.dtype)
            for i in range(x.ndim)]
    return lax.gather(x, stack(cols, dim=-1))


def take_along_dim(x, indices, dim=None):
    """torch.take_along_dim: take_along_axis with torch's argument names (dim=None: flattened x)."""
    return take_along_axis(x, indices, dim)


def gather(x, dim, index):
    """torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (and so on): index has x's rank,
    index.shape[d] <= x.shape[d] off dim, and the result has index's shape. Negative entries count
    from the end; out-of-range tensor entries are clamped (slope's gather semantics)."""
    x = as_array(x)
    d = normalize_dim("gather", dim, x.ndim)
    idx = _index_tensor("gather", index, x.shape[d], d)
    if idx.ndim != x.ndim or any(idx.shape[i] > x.shape[i] for i in range(x.ndim) if i != d):
        raise ShapeError(f"gather: index must have the rank of x and no larger size off dim {d}, got "
                         f"{describe([x.aval, idx.aval])}")
    cols = [idx if i == d else lax.iota(shape=tuple(idx.shape), dimension=i, dtype=idx.dtype) for i in range(x.ndim)]
    if x.ndim == 0:
        return x
    return lax.gather(x, stack(cols, dim=-1))


def index_select(x, dim, index):
    """Entries of x at the 1-d `index` along dim (torch.index_select; negative indices count from the end)."""
    x = as_array(x)
    d = normalize_dim("index_select", dim, x.ndim)
    idx = _index_tensor("index_select", index, x.shape[d], d)
    if idx.ndim != 1:
        raise ShapeError(f"index_select: index must be 1-d, got {idx.aval.str_short()}")
    moved = permute(x, d, *[i for i in range(x.ndim) if i != d])
    out = lax.gather(moved, lax.reshape(idx, shape=(idx.shape[0], 1)))
    return permute(out, *range(1, d + 1), 0, *range(d + 1, x.ndim))


def index_add(x, dim, index, source, alpha=1):
    """x with alpha * source[..., i, ...] added at index[i] along dim (torch.index_add; duplicates accumulate)."""
    x, source = as_array(x), as_array(source)
    d = normalize_dim("index_add", dim, x.ndim)
    idx = _index_tensor("index_add", index, x.shape[d], d)
    want = tuple(idx.shape[0] if i == d else n for i, n in enumerate(x.shape)) if idx.ndim == 1 else None
    if want is None or tuple(source.shape) != want:
        raise ShapeError(f"index_add: expected a 1-d index and a source of shape {want}, got "
                         f"{describe([idx.aval, source.aval])}")
    source = astype(source, x.dtype)
    if alpha != 1:
        source = mul(source, alpha)
    order = [d] + [i for i in range(x.ndim) if i != d]
    out = lax.scatter_add(permute(x, *order), lax.reshape(idx, shape=(idx.shape[0], 1)), permute(source, *order))
    return permute(out, *range(1, d + 1), 0, *range(d + 1, x.ndim))
