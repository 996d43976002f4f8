"""Indexing primitives: gather, scatter_add, scatter (gather_nd style), dynamic_slice, dynamic_update_slice.

Semantics are those of slope.reference.indexing:

* `indices` has shape B + (k,): each of its rows indexes the first k operand dims and names the whole
  window operand.shape[k:]. gather's result is B + operand.shape[k:]; scatter's updates have that shape.
* gather clamps every index into [0, dim - 1] (XLA). IREE 3.13 does not clamp some gather forms (it reads
  garbage), so the lowering clamps explicitly.
* scatter_add / scatter drop any row with an index out of range. IREE 3.13 writes such rows out of bounds
  (heap corruption), so the lowering sends them to a sentinel row of a padded operand that is then sliced
  off (docs/stablehlo-notes.md §14).
* scatter (replace) with duplicate rows: the last row wins. StableHLO leaves the order of duplicate
  updates unspecified, so the lowering first finds each position's winning row with an order-independent
  `max` scatter of row numbers and sends every losing row to the sentinel too.
* dynamic_slice / dynamic_update_slice clamp their start indices into [0, dim - size] (StableHLO; IREE agrees).
* Index operands may have any integer dtype; unsigned values above 2**31 - 1 are capped first (they are
  out of range for every dim either way).

Derivatives: all five are linear in their data operands (scatter/scatter_add/dynamic_update_slice jointly
in operand and update), never in the integer indices. gather's transpose is scatter_add (of the clamped
indices); scatter_add's transpose is the identity for the operand and a gather that gives dropped rows a
zero cotangent for the updates; scatter's transpose zeroes the overwritten positions for the operand and
passes the cotangent only to the rows that won.
"""
from __future__ import annotations

import math

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.core.program import UndefPrimal
from slope.errors import DTypeError, ShapeError, describe
from slope.primitives.rules import moveaxis
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Verify


def _undef(x):
    return isinstance(x, UndefPrimal)


def _shape_of(x):
    return tuple(x.aval.shape) if _undef(x) else tuple(x.shape)


DATA = ("float32", "float64", "int32", "uint32", "bool")  # data movement: any dtype
ADD = ("float32", "float64", "int32", "uint32")  # scatter_add adds: no bool
INDEX_CAP = 2**31 - 1  # larger (unsigned) indices are out of range for every dim: cap them before converting

# ================================================================ slope-level index helpers (used by the rules)


def _signed(idx):
    """The slope-level twin of _lower_signed."""
    d = idx.dtype
    if d is dt.int32 or d is dt.int64:
        return idx
    if d.is_unsigned and d.bits >= 32:
        idx = lax.minimum(idx, lax.full(shape=tuple(idx.shape), value=INDEX_CAP, dtype=d))
    return lax.convert(idx, dtype=dt.int64 if d.bits == 64 else dt.int32)


def _column_const(shape, vals, dtype):
    """A constant (..., k) tensor whose column j holds vals[j]."""
    lead = tuple(shape[:-1]) + (1,)
    cols = [lax.full(shape=lead, value=int(v), dtype=dtype) for v in vals]
    return cols[0] if len(cols) == 1 else lax.concatenate(*cols, dimension=len(shape) - 1)


def clamp_indices(idx, dims):
    """Indices with column j clamped into [0, dims[j] - 1]: what gather reads."""
    idx = _signed(idx)
    if not dims:
        return idx
    shape = tuple(idx.shape)
    return lax.clamp(lax.full(shape=shape, value=0, dtype=idx.dtype), idx,
                   _column_const(shape, [max(n - 1, 0) for n in dims], idx.dtype))


def in_bounds(idx, dims):
    """bool B: the rows that scatter writes (every index in range)."""
    batch = tuple(idx.shape[:-1])
    if not dims:
        return lax.full(shape=batch, value=True, dtype=dt.bool_)
    idx = _signed(idx)
    shape = tuple(idx.shape)
    ok = lax.and_(lax.ge(idx, lax.full(shape=shape, value=0, dtype=idx.dtype)), lax.lt(idx, _column_const(shape, dims, idx.dtype)))
    low = lax.reduce_min(lax.convert(ok, dtype=dt.int32), axes=(len(shape) - 1,))
    return lax.ne(low, lax.full(shape=batch, value=0, dtype=dt.int32))


def scatter_winners(idx, dims):
    """bool B: the rows whose update survives a scatter (in range, and no later row writes the same place)."""
    batch = tuple(idx.shape[:-1])
    rows = math.prod(batch)
    ids = lax.iota(shape=(rows,), dimension=0, dtype=dt.int32)
    ids = lax.reshape(ids, shape=batch) if batch != (rows,) else ids
    last = lax.scatter(lax.full(shape=tuple(dims), value=-1, dtype=dt.int32), idx, ids)  # the last writer of each place
    return lax.eq(lax.gather(last, idx), ids)


def _bmask(mask, shape):
    """Broadcast a B-shaped mask over the trailing window dims of `shape`."""
    return lax.broadcast_in_dim(mask, shape=tuple(shape), broadcast_dimensions=tuple(range(mask.ndim)))


def _where(mask, x):
    return lax.select(_bmask(mask, x.shape), x, lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype))


def _move_batch(x, d, size, pos):
    """x with its batch dim at `pos`; an unbatched x (d None) is broadcast along a new dim there."""
    if d is None:
        shape = list(x.shape)
        shape.insert(pos, size)
        return lax.broadcast_in_dim(x, shape=tuple(shape),
                                    broadcast_dimensions=tuple(i if i < pos else i + 1 for i in range(x.ndim)))
    return moveaxis(x, d, pos)


def _with_batch_column(idx):
    """Indices batched along dim 0 get a leading index column that selects the operand's batch element."""
    idx = _signed(idx)
    shape = tuple(idx.shape)
    col = lax.iota(shape=shape[:-1] + (1,), dimension=0, dtype=idx.dtype)
    return lax.concatenate(col, idx, dimension=len(shape) - 1)


# ================================================================ gather


def _index_rule(name, operand, indices, *others):
    where = f"{name}: {describe([operand, indices, *others])}"
    if not indices.dtype.is_int:
        raise DTypeError(f"{where}: indices must have an integer dtype")
    if indices.ndim < 1:
        raise ShapeError(f"{where}: indices must have rank >= 1 (their last dim is the index vector)")
    k = indices.shape[-1]
    if k > operand.ndim:
        raise ShapeError(f"{where}: index vectors of length {k} exceed the operand rank {operand.ndim}")
    return where, k, tuple(indices.shape[:-1])


def _gather_rule(operand, indices):
    where, k, batch = _index_rule("gather", operand, indices)
    if math.prod(batch) > 0 and any(operand.shape[j] == 0 for j in range(k)):
        raise ShapeError(f"{where}: cannot index into an empty dimension")
    return [Aval(batch + tuple(operand.shape[k:]), operand.dtype)]


def _gather_jvp(primals, tangents):
    (x, idx), (tx, _) = primals, tangents
    return [lax.gather(x, idx)], [lax.gather(tx, idx)]


def _gather_transpose(cts, operand, indices):
    if _undef(indices):
        raise TypeError("gather is not linear in its indices")
    ct = cts[0]
    shape = operand.aval.shape
    k = indices.shape[-1]
    zeros = lax.full(shape=shape, value=0, dtype=ct.dtype)
    return [lax.scatter_add(zeros, clamp_indices(indices, shape[:k]), ct), None]


def _gather_vmap(axis_size, args, dims):
    (x, idx), (dx, di) = args, dims
    if di is not None and di == idx.ndim - 1:  # batch dim after the index vector: put it in front
        idx, di = moveaxis(idx, di, 0), 0
    if di is None:  # the batch dim becomes the first window dim
        k = idx.shape[-1]
        return [lax.gather(moveaxis(x, dx, k), idx)], [idx.ndim - 1]
    if dx is None:
        return [lax.gather(x, idx)], [di]
    return [lax.gather(moveaxis(x, dx, 0), _with_batch_column(moveaxis(idx, di, 0)))], [0]


def _gather_edge_cases(dtype):
    """uint32 indices of 2^31 and more clamp to the last row: converted to int32 without the cap at
    INDEX_CAP they would turn negative and clamp to row 0 (the samplers draw only int32/int64)."""
    x = (np.arange(12).reshape(4, 3) % 7).astype(dtype.np)
    u = np.uint32
    return [([x, np.array([[0], [2], [2**31 - 1], [2**31], [2**32 - 1]], u)], {}),
            ([x, np.array([[2**31, 1], [1, 2**32 - 1], [3, 2]], u)], {})]


gather = register(Spec(
    name="gather",
    abstract_eval=_gather_rule,
    reference=ref.gather,
    jvp=_gather_jvp,
    transpose=_gather_transpose,
    vmap=_gather_vmap,
    verify=Verify(dtypes=DATA, edge_cases=_gather_edge_cases),
    error_inputs=lambda: [
        ErrorInput([np.ones((4, 3), np.float32), np.zeros((2, 1), np.float32)], {}, DTypeError,
                   "gather: f32\\[4,3\\], f32\\[2,1\\]: indices must have an integer dtype"),
        ErrorInput([np.ones((4,), np.float32), np.zeros((2, 2), np.int32)], {}, ShapeError,
                   "gather: f32\\[4\\], i32\\[2,2\\]: index vectors of length 2 exceed the operand rank 1"),
        ErrorInput([np.ones((4,), np.float32), np.int32(0)], {}, ShapeError, "gather: .*indices must have rank >= 1"),
        ErrorInput([np.ones((0, 3), np.float32), np.zeros((2, 1), np.int32)], {}, ShapeError,
                   "gather: f32\\[0,3\\], i32\\[2,1\\]: cannot index into an empty dimension"),
    ],
    doc="out[b] = operand[indices[b]] (rows of indices index the first k dims, clamped into range); linear in the operand, not the indices",
))

# ================================================================ scatter_add / scatter


def _scatter_edge_cases(dtype):
    """Index rows of two columns into an operand whose second dim has size 1, some out of range (in the
    first dim, below zero, in the size-1 dim): the lowering drops those rows by sending them to a spare
    row (index [n, 0]); a sentinel off by one in the size-1 dim would write past the buffer (the samplers'
    operands have no size-1 dim)."""
    x = (np.arange(6).reshape(3, 1, 2) % 5).astype(dtype.np)
    idx = np.array([[0, 0], [3, 0], [1, 0], [-1, 0], [2, 1], [2, 0]], np.int32)
    upd = (np.arange(12).reshape(6, 2) % 3 + 1).astype(dtype.np)
    return [([x, idx, upd], {})]


def _scatter_rule(name):
    def rule(operand, indices, updates):
        where, k, batch = _index_rule(name, operand, indices, updates)
        if updates.dtype is not operand.dtype:
            raise DTypeError(f"{where}: updates must have the operand's dtype")
        if name == "scatter_add" and operand.dtype.is_bool:
            raise DTypeError(f"{where}: cannot add bool updates")
        want = batch + tuple(operand.shape[k:])
        if tuple(updates.shape) != want:
            raise ShapeError(f"{where}: updates must have shape indices.shape[:-1] + operand.shape[{k}:] = {want}")
        return [operand]

    return rule


def _scatter_jvp(name):
    def jvp(primals, tangents):
        (x, idx, u), (tx, _, tu) = primals, tangents
        prim = getattr(lax, name)
        return [prim(x, idx, u)], [prim(tx, idx, tu)]

    return jvp


def _scatter_add_transpose(cts, operand, indices, updates):
    if _undef(indices):
        raise TypeError("scatter_add is not linear in its indices")
    ct = cts[0]
    dims = tuple(ct.shape[:indices.shape[-1]])
    upd_ct = None
    if _undef(updates):  # a dropped row contributed nothing, so its cotangent is zero
        upd_ct = _where(in_bounds(indices, dims), lax.gather(ct, indices))
    return [ct if _undef(operand) else None, None, upd_ct]


def _scatter_transpose(cts, operand, indices, updates):
    if _undef(indices):
        raise TypeError("scatter is not linear in its indices")
    ct = cts[0]
    dims = tuple(ct.shape[:indices.shape[-1]])
    op_ct = upd_ct = None
    if _undef(operand):  # overwritten places lose their cotangent
        u_shape = _shape_of(updates)
        op_ct = lax.scatter(ct, indices, lax.full(shape=u_shape, value=0, dtype=ct.dtype))
    if _undef(updates):  # only the rows that won see the cotangent of their place
        upd_ct = _where(scatter_winners(indices, dims), lax.gather(ct, indices))
    return [op_ct, None, upd_ct]


def _scatter_vmap(name):
    def rule(axis_size, args, dims):
        (x, idx, u), (dx, di, du) = args, dims
        prim = getattr(lax, name)
        if di is not None and di == idx.ndim - 1:
            idx, di = moveaxis(idx, di, 0), 0
        if di is None:  # the batch dim becomes the first window dim of operand and updates
            k, nb = idx.shape[-1], idx.ndim - 1
            return [prim(_move_batch(x, dx, axis_size, k), idx, _move_batch(u, du, axis_size, nb))], [k]
        x, u = _move_batch(x, dx, axis_size, 0), _move_batch(u, du, axis_size, 0)
        return [prim(x, _with_batch_column(moveaxis(idx, di, 0)), u)], [0]

    return rule


def _scatter_errors(name):
    def errors():
        return [
            ErrorInput([np.ones((4, 3), np.float32), np.zeros((2, 1), np.int32), np.ones((2, 4), np.float32)], {},
                       ShapeError, f"{name}: f32\\[4,3\\], i32\\[2,1\\], f32\\[2,4\\]: updates must have shape "
                                   f"indices.shape\\[:-1\\] \\+ operand.shape\\[1:\\] = \\(2, 3\\)"),
            ErrorInput([np.ones((4,), np.float32), np.zeros((2, 1), np.int32), np.ones((2,), np.int32)], {},
                       DTypeError, f"{name}: f32\\[4\\], i32\\[2,1\\], i32\\[2\\]: updates must have the operand's dtype"),
            ErrorInput([np.ones((4,), np.float32), np.zeros((2, 1), np.float32), np.ones((2,), np.float32)], {},
                       DTypeError, f"{name}: .*indices must have an integer dtype"),
            *([ErrorInput([np.ones((4,), bool), np.zeros((2, 1), np.int32), np.ones((2,), bool)], {},
                          DTypeError, "scatter_add: bool\\[4\\], i32\\[2,1\\], bool\\[2\\]: cannot add bool updates")]
              if name == "scatter_add" else []),
        ]

    return errors


scatter_add = register(Spec(
    name="scatter_add",
    abstract_eval=_scatter_rule("scatter_add"),
    reference=ref.scatter_add,
    jvp=_scatter_jvp("scatter_add"),
    transpose=_scatter_add_transpose,
    vmap=_scatter_vmap("scatter_add"),
    verify=Verify(dtypes=ADD, edge_cases=_scatter_edge_cases),
    error_inputs=_scatter_errors("scatter_add"),
    doc="operand[indices[b]] += updates[b]; duplicate rows accumulate, rows with an out-of-range index are dropped; linear in operand and updates jointly",
))

scatter = register(Spec(
    name="scatter",
    abstract_eval=_scatter_rule("scatter"),
    reference=ref.scatter,
    jvp=_scatter_jvp("scatter"),
    transpose=_scatter_transpose,
    vmap=_scatter_vmap("scatter"),
    verify=Verify(dtypes=DATA, edge_cases=_scatter_edge_cases),
    error_inputs=_scatter_errors("scatter"),
    doc="operand[indices[b]] = updates[b]; on duplicate rows the last wins, rows with an out-of-range index are dropped; linear in operand and updates jointly",
))

# ================================================================ dynamic_slice / dynamic_update_slice


def _check_starts(where, operand, starts):
    if len(starts) != operand.ndim:
        raise ShapeError(f"{where}: needs one start index per operand dim ({operand.ndim}), got {len(starts)}")
    if any(s.shape != () for s in starts):
        raise ShapeError(f"{where}: start indices must be 0-d")
    if any(not s.dtype.is_int for s in starts):
        raise DTypeError(f"{where}: start indices must be integers")
    if len({s.dtype for s in starts}) > 1:
        raise DTypeError(f"{where}: start indices must share one dtype")


def _ds_rule(operand, *starts, slice_sizes):
    where = f"dynamic_slice: {describe([operand, *starts])} with slice_sizes={tuple(slice_sizes)}"
    _check_starts(where, operand, starts)
    if len(slice_sizes) != operand.ndim or any(not 0 <= z <= n for z, n in zip(slice_sizes, operand.shape)):
        raise ShapeError(f"{where}: needs 0 <= slice_sizes[i] <= operand.shape[i] for every dim")
    return [Aval(tuple(slice_sizes), operand.dtype)]


def _ds_jvp(primals, tangents, *, slice_sizes):
    (x, *starts), (tx, *_) = primals, tangents
    return [lax.dynamic_slice(x, *starts, slice_sizes=slice_sizes)], [lax.dynamic_slice(tx, *starts, slice_sizes=slice_sizes)]


def _ds_transpose(cts, operand, *starts, slice_sizes):
    if any(_undef(s) for s in starts):
        raise TypeError("dynamic_slice is not linear in its start indices")
    ct = cts[0]
    zeros = lax.full(shape=operand.aval.shape, value=0, dtype=ct.dtype)
    return [lax.dynamic_update_slice(zeros, ct, *starts)] + [None] * len(starts)


def _window_indices(size, starts, sdims, shape, sizes):
    """(size, *sizes, r) indices of every element of each batch element's clamped window."""
    grid = (size, *sizes)
    cols = []
    for j, (s, d) in enumerate(zip(starts, sdims)):
        s = _move_batch(_signed(s), d, size, 0)
        lo = lax.full(shape=(size,), value=0, dtype=s.dtype)
        s = lax.clamp(lo, s, lax.full(shape=(size,), value=shape[j] - sizes[j], dtype=s.dtype))
        col = lax.add(lax.broadcast_in_dim(s, shape=grid, broadcast_dimensions=(0,)),
                    lax.iota(shape=grid, dimension=j + 1, dtype=s.dtype))
        cols.append(lax.reshape(col, shape=grid + (1,)))
    return cols[0] if len(cols) == 1 else lax.concatenate(*cols, dimension=len(grid))


def _zero_start(starts):
    return lax.full(shape=(), value=0, dtype=starts[0].dtype if starts else dt.int32)


def _ds_vmap(axis_size, args, dims, *, slice_sizes):
    (x, *starts), (dx, *ds) = args, dims
    if all(d is None for d in ds):  # one window for all: slice the batch dim whole
        starts = list(starts)
        starts.insert(dx, _zero_start(starts))
        sizes = list(slice_sizes)
        sizes.insert(dx, axis_size)
        return [lax.dynamic_slice(x, *starts, slice_sizes=tuple(sizes))], [dx]
    # one window per batch element: gather its elements one by one
    shape = tuple(x.shape) if dx is None else tuple(n for i, n in enumerate(x.shape) if i != dx)
    idx = _window_indices(axis_size, starts, ds, shape, tuple(slice_sizes))
    if dx is None:
        return [lax.gather(x, idx)], [0]
    return [lax.gather(moveaxis(x, dx, 0), _with_batch_column(idx))], [0]


def _ds_edge_cases(dtype):
    """Starts clamped into range from below (negative, and 0 next to one) and from above; under vmap with a
    batched start each member's window is clamped on its own. One operand shape and slice size: start
    values are operands, so all of them run one program per check."""
    x = (np.arange(12).reshape(4, 3) % 7 + 1).astype(dtype.np)
    i = np.int32
    return [([x, i(a), i(b)], {"slice_sizes": (2, 2)}) for a, b in ((-2, 0), (3, -1), (0, 5))]


dynamic_slice = register(Spec(
    name="dynamic_slice",
    abstract_eval=_ds_rule,
    reference=ref.dynamic_slice,
    jvp=_ds_jvp,
    transpose=_ds_transpose,
    vmap=_ds_vmap,
    verify=Verify(dtypes=DATA, edge_cases=_ds_edge_cases),
    error_inputs=lambda: [
        ErrorInput([np.ones((4, 3), np.float32), np.int32(0)], {"slice_sizes": (2, 2)}, ShapeError,
                   "dynamic_slice: f32\\[4,3\\], i32\\[\\] with slice_sizes=\\(2, 2\\): needs one start index per operand dim"),
        ErrorInput([np.ones((4,), np.float32), np.int32(0)], {"slice_sizes": (5,)}, ShapeError,
                   "dynamic_slice: .*needs 0 <= slice_sizes\\[i\\] <= operand.shape\\[i\\]"),
        ErrorInput([np.ones((4,), np.float32), np.float32(0)], {"slice_sizes": (2,)}, DTypeError,
                   "dynamic_slice: f32\\[4\\], f32\\[\\] .*start indices must be integers"),
        ErrorInput([np.ones((4,), np.float32), np.zeros((1,), np.int32)], {"slice_sizes": (2,)}, ShapeError,
                   "dynamic_slice: .*start indices must be 0-d"),
        ErrorInput([np.ones((4, 3), np.float32), np.int32(0), np.int64(0)], {"slice_sizes": (2, 2)}, DTypeError,
                   "dynamic_slice: .*start indices must share one dtype"),
    ],
    doc="operand[s:s+size] per dim; 0-d int starts clamped into [0, dim - size]; linear in the operand, not the starts",
))


def _dus_rule(operand, update, *starts):
    where = f"dynamic_update_slice: {describe([operand, update, *starts])}"
    if update.dtype is not operand.dtype:
        raise DTypeError(f"{where}: update must have the operand's dtype")
    if update.ndim != operand.ndim or any(u > n for u, n in zip(update.shape, operand.shape)):
        raise ShapeError(f"{where}: update must have the operand's rank and fit inside it")
    _check_starts(where, operand, starts)
    return [operand]


def _dus_jvp(primals, tangents):
    (x, u, *starts), (tx, tu, *_) = primals, tangents
    return [lax.dynamic_update_slice(x, u, *starts)], [lax.dynamic_update_slice(tx, tu, *starts)]


def _dus_transpose(cts, operand, update, *starts):
    if any(_undef(s) for s in starts):
        raise TypeError("dynamic_update_slice is not linear in its start indices")
    ct = cts[0]
    u_shape = _shape_of(update)
    op_ct = upd_ct = None
    if _undef(operand):  # the overwritten window loses its cotangent
        op_ct = lax.dynamic_update_slice(ct, lax.full(shape=u_shape, value=0, dtype=ct.dtype), *starts)
    if _undef(update):
        upd_ct = lax.dynamic_slice(ct, *starts, slice_sizes=u_shape)
    return [op_ct, upd_ct] + [None] * len(starts)


def _dus_vmap(axis_size, args, dims):
    (x, u, *starts), (dx, du, *ds) = args, dims
    if all(d is None for d in ds):  # one window for all: it spans the whole batch dim
        d = dx if dx is not None and dx == du else 0
        x, u = _move_batch(x, dx, axis_size, d), _move_batch(u, du, axis_size, d)
        starts = list(starts)
        starts.insert(d, _zero_start(starts))
        return [lax.dynamic_update_slice(x, u, *starts)], [d]
    # one window per batch element: scatter its elements (in range after clamping, so none is dropped)
    shape = tuple(x.shape) if dx is None else tuple(n for i, n in enumerate(x.shape) if i != dx)
    u_shape = tuple(u.shape) if du is None else tuple(n for i, n in enumerate(u.shape) if i != du)
    idx = _window_indices(axis_size, starts, ds, shape, u_shape)
    x, u = _move_batch(x, dx, axis_size, 0), _move_batch(u, du, axis_size, 0)
    return [lax.scatter(x, _with_batch_column(idx), u)], [0]


def _dus_edge_cases(dtype):
    """Partial updates (one inside, one whose starts are clamped back into range): the cases where an
    in-place lowering would write into the caller's operand."""
    def data(shape, offset):
        return (np.arange(int(np.prod(shape))).reshape(shape) % 7 + offset).astype(dtype.np)

    i = np.int32
    return [([data((4, 3), 1), data((2, 2), 3), i(1), i(1)], {}),
            ([data((5,), 1), data((2,), 4), i(4)], {}),
            ([data((5,), 1), data((2,), 4), i(-1)], {})]  # clamped up to 0 (vmap: a batched start, too)


dynamic_update_slice = register(Spec(
    name="dynamic_update_slice",
    abstract_eval=_dus_rule,
    reference=ref.dynamic_update_slice,
    jvp=_dus_jvp,
    transpose=_dus_transpose,
    vmap=_dus_vmap,
    verify=Verify(dtypes=DATA, edge_cases=_dus_edge_cases),
    error_inputs=lambda: [
        ErrorInput([np.ones((4,), np.float32), np.ones((5,), np.float32), np.int32(0)], {}, ShapeError,
                   "dynamic_update_slice: f32\\[4\\], f32\\[5\\], i32\\[\\]: update must have the operand's rank and fit"),
        ErrorInput([np.ones((4,), np.float32), np.ones((2,), np.int32), np.int32(0)], {}, DTypeError,
                   "dynamic_update_slice: .*update must have the operand's dtype"),
        ErrorInput([np.ones((4, 3), np.float32), np.ones((2, 2), np.float32), np.int32(0)], {}, ShapeError,
                   "dynamic_update_slice: .*needs one start index per operand dim"),
    ],
    doc="operand with update written at the 0-d int starts, clamped into [0, dim - update size]; linear in operand and update jointly",
))
