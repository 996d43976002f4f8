"""Indexing: NumPy/PyTorch `x[...]` (basic and integer-tensor indices), take/gather/index_select/index_add.

The bounds policy (JAX's, checked where it can be): indices known now (Python ints, lists, NumPy
arrays, and concrete Tensors, i.e. eager and not traced) are checked, and an out-of-range one raises
OutOfBoundsError (an IndexError), as in NumPy and PyTorch. Traced index tensors (under jit, vmap,
grad... when the index itself is transformed) are data whose values are unknown while tracing:
negative entries wrap once (like NumPy), then reads (getitem, gather, index_select, take_along_dim)
clamp into range and writes (index_add) drop out-of-range rows, as JAX's gathers and scatters do."""
from __future__ import annotations

import builtins

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import Tensor, tensor
from slope.errors import DTypeError, OutOfBoundsError, ShapeError, describe
from slope.ops.promotion import (
    as_array, astype, broadcast_shapes, broadcast_to, check_scalar, is_array, is_static_int, normalize_dim,
)
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
    negatives wrapped. Indices known now (static values and concrete Tensors) are bounds-checked and
    raise OutOfBoundsError; traced ones are wrapped here and clamped (or dropped) by the primitive."""
    if is_array(v):
        if not v.dtype.is_int:
            raise DTypeError(f"{op}: index tensors must have an integer dtype, got {v.aval.str_short()}"
                             + (" (boolean masks are not supported)" if v.dtype.is_bool else ""))
        if not isinstance(v, Tensor):  # traced: its values are data, unknown while tracing
            if n == 0 and v.aval.size:
                raise OutOfBoundsError(f"{op}: index {v.aval.str_short()} is out of bounds for dimension {d} with "
                                       "size 0 (every index is)")
            if v.dtype.is_unsigned:  # never negative; int64 holds every uint32 value
                return astype(v, dt.int64 if v.dtype.bits >= 32 else dt.int32)
            return _wrap_negative(v, n)
        v = v.numpy()  # concrete: checked like a NumPy index
    a = np.asarray(v)
    if a.dtype == np.bool_:
        raise DTypeError(f"{op}: boolean mask indices are not supported")
    if a.size == 0 and a.dtype.kind == "f":
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be integers, got {a.dtype} values")
    bad = (a < -n) | (a >= n)
    if np.any(bad):
        raise OutOfBoundsError(f"{op}: index {a[bad].flat[0]} is out of bounds for dimension {d} with size {n}")
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
    integer arrays/tensors (advanced indexing, via gather). Boolean masks are not supported.

    Out-of-range indices known now (ints, lists, arrays, concrete tensors) raise OutOfBoundsError; a
    traced index tensor is clamped into range after negative entries wrap once (see the module doc)."""
    x = as_array(x, "getitem")
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
                    raise OutOfBoundsError(f"getitem: index {v} is out of bounds for dimension {d} with size {n}")
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


def take_along_axis(x, indices, axis, _op="take_along_axis"):
    """np.take_along_axis: out[..., j, ...] = x[..., indices[..., j, ...], ...] along axis (other dims
    broadcast); axis=None indexes the flattened x with 1-d indices. Out-of-range indices known now
    raise OutOfBoundsError; traced ones wrap once if negative, then clamp (see the module doc)."""
    x = as_array(x, _op)
    if axis is None:
        x, axis = reshape(x, x.aval.size), 0
    a = normalize_dim(_op, axis, x.ndim)
    idx = _index_tensor(_op, indices, x.shape[a], a)
    if idx.ndim != x.ndim:
        raise ShapeError(f"{_op}: indices must have the rank of x ({x.ndim}), got {idx.aval.str_short()}")
    shape = broadcast_shapes(tuple(1 if i == a else n for i, n in enumerate(x.shape)), tuple(idx.shape),
                             op=_op)
    x = broadcast_to(x, tuple(shape[i] if i != a else x.shape[a] for i in range(x.ndim)))
    cols = [broadcast_to(idx, shape) if i == a else lax.iota(shape=shape, dimension=i, dtype=idx.dtype)
            for i in range(x.ndim)]
    return lax.gather(x, stack(cols, dim=-1))


def take_along_dim(x, indices, dim=None):
    """torch.take_along_dim: take_along_axis with torch's argument names (dim=None: flattened x).
    Out-of-range indices known now raise OutOfBoundsError; traced ones wrap once if negative, then clamp."""
    return take_along_axis(x, indices, dim, _op="take_along_dim")


def gather(x, dim, index):
    """torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (and so on): index has x's rank,
    index.shape[d] <= x.shape[d] off dim, and the result has index's shape. Negative entries count
    from the end; out-of-range entries known now (lists, arrays, concrete tensors) raise
    OutOfBoundsError, traced ones are clamped into range (see the module doc)."""
    x = as_array(x, "gather")
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
    """Entries of x at the 1-d `index` along dim (torch.index_select; negative indices count from the end).
    Out-of-range indices known now raise OutOfBoundsError; traced ones wrap once if negative, then clamp."""
    x = as_array(x, "index_select")
    d = normalize_dim("index_select", dim, x.ndim)
    idx = _index_tensor("index_select", index, x.shape[d], d)
    if idx.ndim != 1:
        raise ShapeError(f"index_select: index must be 1-d, got {idx.aval.str_short()}")
    moved = permute(x, d, *[i for i in range(x.ndim) if i != d])
    out = lax.gather(moved, lax.reshape(idx, shape=(idx.shape[0], 1)))
    return permute(out, *range(1, d + 1), 0, *range(d + 1, x.ndim))


def index_add(x, dim, index, source, alpha=1):
    """x with alpha * source[..., i, ...] added at index[i] along dim (torch.index_add; duplicates accumulate).
    Out-of-range indices known now raise OutOfBoundsError; for a traced index, negative entries wrap
    once and rows still out of range are dropped (scatter semantics, as JAX's .at[].add)."""
    x, source = as_array(x, "index_add"), as_array(source, "index_add")
    d = normalize_dim("index_add", dim, x.ndim)
    idx = _index_tensor("index_add", index, x.shape[d], d)
    want = tuple(idx.shape[0] if i == d else n for i, n in enumerate(x.shape)) if idx.ndim == 1 else None
    if want is None or tuple(source.shape) != want:
        raise ShapeError(f"index_add: expected a 1-d index and a source of shape {want}, got "
                         f"{describe([idx.aval, source.aval])}")
    source = astype(source, x.dtype)
    if not is_array(alpha):
        check_scalar("index_add", dt.python_scalar(alpha))
    if alpha != 1:
        source = mul(source, alpha)
    order = [d] + [i for i in range(x.ndim) if i != d]
    out = lax.scatter_add(permute(x, *order), lax.reshape(idx, shape=(idx.shape[0], 1)), permute(source, *order))
    return permute(out, *range(1, d + 1), 0, *range(d + 1, x.ndim))
