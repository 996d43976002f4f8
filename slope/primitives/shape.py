"""Shape primitives: reshape, broadcast_in_dim, transpose, slice, pad, rev, concatenate, squeeze, expand_dims.

All are linear (pad jointly in operand and padding value): transpose rules undo the data movement.
"""
from __future__ import annotations

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import backend, dtypes as dt, jitlog
from slope.core.aval import Aval
from slope.core.program import UndefPrimal
from slope.core.tensor import Tensor
from slope.errors import DTypeError, ShapeError, describe
from slope.primitives.rules import bdim_at_front, linear_jvp, moveaxis
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Verify

LINEAR = ("float32", "float64", "int32", "uint32", "bool")  # data movement: any dtype (uint32 for the PRNG)

# ---------------------------------------------------------------- reshape


def _view(rule, name):
    """Eager reshape, squeeze and expand_dims: the same row-major buffer seen with the new shape (no
    IREE program: compiling one module per shape cost ~0.3 s each, and copied the data)."""
    def eager(x, **params):
        (out,) = rule(x.aval, **params)
        if jitlog.enabled():
            jitlog.host(f"{name}{''.join(f' {k}={v}' for k, v in params.items())} of {x.aval}", [out],
                        "a view of the same buffer, no IREE program")
        return [Tensor(backend.get().view(x._buf, out), out)]

    return eager


def _reshape_rule(x, *, shape):
    if any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ShapeError(f"reshape: cannot reshape {x.str_short()} ({x.size} elements) to {tuple(shape)}")
    return [Aval(shape, x.dtype)]


def _reshape_vmap(axis_size, args, dims, *, shape):
    x = moveaxis(args[0], dims[0], 0)
    return [lax.reshape(x, shape=(axis_size, *shape))], [0]


reshape = register(Spec(
    name="reshape",
    eager=_view(_reshape_rule, "reshape"),
    jvp=linear_jvp("reshape"),
    abstract_eval=_reshape_rule,
    reference=ref.reshape,
    transpose=lambda cts, x, *, shape: [lax.reshape(cts[0], shape=x.aval.shape)],
    vmap=_reshape_vmap,
    verify=Verify(dtypes=LINEAR),
    error_inputs=lambda: [ErrorInput([np.ones((2, 3), np.float32)], {"shape": (4,)}, ShapeError, "reshape: cannot reshape f32\\[2,3\\]")],
    doc="the same elements in row-major order with a new shape of equal size",
))

# ---------------------------------------------------------------- broadcast_in_dim


def _bid_rule(x, *, shape, broadcast_dimensions):
    bd = tuple(broadcast_dimensions)
    ok = len(bd) == x.ndim and len(set(bd)) == len(bd) and all(0 <= d < len(shape) for d in bd)
    ok = ok and list(bd) == sorted(bd) and all(x.shape[i] in (1, shape[d]) for i, d in enumerate(bd))
    if not ok:
        raise ShapeError(f"broadcast_in_dim: cannot broadcast {x.str_short()} to {tuple(shape)} "
                         f"with broadcast_dimensions={bd}")
    return [Aval(shape, x.dtype)]


def _bid_transpose(cts, x, *, shape, broadcast_dimensions):
    ct = cts[0]
    xs = x.aval.shape
    new_dims = tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)
    expanded = tuple(d for i, d in enumerate(broadcast_dimensions) if xs[i] == 1 and shape[d] != 1)
    summed = lax.reduce_sum(ct, axes=tuple(sorted(new_dims + expanded))) if new_dims + expanded else ct
    return [lax.reshape(summed, shape=xs) if summed.shape != xs else summed]


def _bid_vmap(axis_size, args, dims, *, shape, broadcast_dimensions):
    x = moveaxis(args[0], dims[0], 0)
    bd = (0,) + tuple(d + 1 for d in broadcast_dimensions)
    return [lax.broadcast_in_dim(x, shape=(axis_size, *shape), broadcast_dimensions=bd)], [0]


broadcast_in_dim = register(Spec(
    name="broadcast_in_dim",
    jvp=linear_jvp("broadcast_in_dim"),
    abstract_eval=_bid_rule,
    reference=ref.broadcast_in_dim,
    transpose=_bid_transpose,
    vmap=_bid_vmap,
    verify=Verify(dtypes=LINEAR),
    error_inputs=lambda: [ErrorInput([np.ones((2,), np.float32)], {"shape": (3,), "broadcast_dimensions": (0,)},
                                     ShapeError, "broadcast_in_dim: cannot broadcast f32\\[2\\] to \\(3,\\)"),
                          # each condition alone: too few dims, a repeated dim, dims out of range
                          ErrorInput([np.ones((2, 3), np.float32)], {"shape": (2, 3), "broadcast_dimensions": (0,)},
                                     ShapeError, "broadcast_in_dim: cannot broadcast f32\\[2,3\\] to \\(2, 3\\) "
                                     "with broadcast_dimensions=\\(0,\\)"),
                          ErrorInput([np.ones((2, 2), np.float32)], {"shape": (2, 3), "broadcast_dimensions": (0, 0)},
                                     ShapeError, "broadcast_in_dim: cannot broadcast f32\\[2,2\\] to \\(2, 3\\)"),
                          ErrorInput([np.ones((1,), np.float32)], {"shape": (2,), "broadcast_dimensions": (-1,)},
                                     ShapeError, "broadcast_in_dim: cannot broadcast f32\\[1\\] to \\(2,\\)"),
                          ErrorInput([np.ones((2,), np.float32)], {"shape": (2,), "broadcast_dimensions": (1,)},
                                     ShapeError, "broadcast_in_dim: cannot broadcast f32\\[2\\] to \\(2,\\)")],
    doc="expand: operand dim i becomes output dim broadcast_dimensions[i] (size 1 or equal)",
))

# ---------------------------------------------------------------- transpose


def _transpose_rule(x, *, perm):
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(f"transpose: perm {tuple(perm)} is not a permutation of the dims of {x.str_short()}")
    return [Aval(tuple(x.shape[p] for p in perm), x.dtype)]


def _transpose_vmap(axis_size, args, dims, *, perm):
    x = moveaxis(args[0], dims[0], 0)
    return [lax.transpose(x, perm=(0,) + tuple(p + 1 for p in perm))], [0]


transpose = register(Spec(
    name="transpose",
    jvp=linear_jvp("transpose"),
    abstract_eval=_transpose_rule,
    reference=ref.transpose,
    transpose=lambda cts, x, *, perm: [lax.transpose(cts[0], perm=tuple(int(i) for i in np.argsort(perm)))],
    vmap=_transpose_vmap,
    verify=Verify(dtypes=LINEAR),
    error_inputs=lambda: [ErrorInput([np.ones((2, 3), np.float32)], {"perm": (0, 0)}, ShapeError,
                                     "transpose: perm \\(0, 0\\) is not a permutation")],
    doc="permute dims: out.shape[i] = x.shape[perm[i]]",
))


# ================================================================ slice, pad, rev, concatenate, squeeze, expand_dims
# All linear in their data operands (pad: in operand and padding value jointly). Params are tuples of ints,
# one entry per operand dim; the user-level wrappers (slope.ops: getitem, pad, flip, cat ...) normalize
# negative dims and Python conventions before binding these.

DATA = LINEAR


def _ints(vals):
    return tuple(int(v) for v in vals)


def _is_int_seq(vals):
    try:
        return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals)
    except TypeError:
        return False


def _check_lengths(where, ndim, **seqs):
    for what, vals in seqs.items():
        if not _is_int_seq(vals) or len(vals) != ndim:
            raise ShapeError(f"{where}: {what} must be {ndim} ints (one per dimension), got {vals!r}")


def _zero_scalar(dtype):
    return lax.full(shape=(), value=0, dtype=dtype)


def _insert(seq, pos, val):
    seq = list(seq)
    seq.insert(pos, val)
    return tuple(seq)


# ---------------------------------------------------------------- slice


def _slice_strides(n, strides):
    return (1,) * n if strides is None else _ints(strides)


def _slice_rule(x, *, start_indices, limit_indices, strides=None):
    where = (f"slice: {x.str_short()} with start_indices={tuple(start_indices)}, "
             f"limit_indices={tuple(limit_indices)}, strides={None if strides is None else tuple(strides)}")
    st = (1,) * x.ndim if strides is None else strides
    _check_lengths(where, x.ndim, start_indices=start_indices, limit_indices=limit_indices, strides=st)
    shape = []
    for i, (a, b, s, n) in enumerate(zip(start_indices, limit_indices, st, x.shape)):
        if not 0 <= a <= b <= n:
            raise ShapeError(f"{where}: dimension {i} needs 0 <= start <= limit <= {n}")
        if s < 1:
            raise ShapeError(f"{where}: strides must be >= 1")
        shape.append(-(-(b - a) // s))
    return [Aval(shape, x.dtype)]


def _slice_transpose(cts, x, *, start_indices, limit_indices, strides=None):
    """Scatter the cotangent back: zeros before, between (stride - 1) and after the taken elements."""
    ct, shape = cts[0], x.aval.shape
    st = _slice_strides(len(shape), strides)
    out = tuple(ct.shape)
    if any(n == 0 for n in out):
        return [lax.full(shape=shape, value=0, dtype=ct.dtype)]
    high = tuple(n - (a + (m - 1) * s + 1) for n, a, m, s in zip(shape, start_indices, out, st))
    return [lax.pad(ct, _zero_scalar(ct.dtype), low=_ints(start_indices), high=high,
                    interior=tuple(s - 1 for s in st))]


def _slice_vmap(axis_size, args, dims, *, start_indices, limit_indices, strides=None):
    (x,), (d,) = args, dims
    st = _slice_strides(len(start_indices), strides)
    return [lax.slice(x, start_indices=_insert(start_indices, d, 0), limit_indices=_insert(limit_indices, d, axis_size),
                      strides=_insert(st, d, 1))], [d]


def _slice_edges(dtype):
    """strides omitted (None: all 1), a stride longer than the dim, an empty dim, size-1 dims, 0-d."""
    d = np.dtype(dtype.np)
    x = (np.arange(12) % 5).astype(d).reshape(4, 3)
    return [([x], {"start_indices": (1, 0), "limit_indices": (3, 3)}),
            ([x], {"start_indices": (1, 2), "limit_indices": (4, 3), "strides": (5, 2)}),
            ([np.zeros((0, 3), d)], {"start_indices": (0, 1), "limit_indices": (0, 3), "strides": (1, 1)}),
            ([x[:1, :1]], {"start_indices": (0, 0), "limit_indices": (1, 1), "strides": (2, 1)}),
            ([x[0, 0]], {"start_indices": (), "limit_indices": (), "strides": ()})]


slice = register(Spec(  # noqa: A001  (the primitive is called slice, like lax.slice)
    name="slice",
    jvp=linear_jvp("slice"),
    abstract_eval=_slice_rule,
    reference=ref.slice,
    transpose=_slice_transpose,
    vmap=_slice_vmap,
    verify=Verify(dtypes=DATA, edge_cases=_slice_edges),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32)], {"start_indices": (0, 2), "limit_indices": (2, 4), "strides": (1, 1)},
                   ShapeError, "slice: f32\\[2,3\\] .*dimension 1 needs 0 <= start <= limit <= 3"),
        ErrorInput([np.ones((2, 3), np.float32)], {"start_indices": (0,), "limit_indices": (2,), "strides": (1,)},
                   ShapeError, "slice: f32\\[2,3\\] .*start_indices must be 2 ints"),
        ErrorInput([np.ones((4,), np.float32)], {"start_indices": (0,), "limit_indices": (4,), "strides": (0,)},
                   ShapeError, "slice: f32\\[4\\] .*strides must be >= 1"),
    ],
    doc="static strided slice x[start:limit:stride] per dim (0 <= start <= limit <= dim, stride >= 1)",
))

# ---------------------------------------------------------------- pad


def _pad_rule(x, padding_value, *, low, high, interior):
    where = f"pad: {describe([x, padding_value])} with low={tuple(low)}, high={tuple(high)}, interior={tuple(interior)}"
    if padding_value.shape != ():
        raise ShapeError(f"{where}: padding_value must be 0-d")
    if padding_value.dtype is not x.dtype:
        raise DTypeError(f"{where}: padding_value must have the operand's dtype")
    _check_lengths(where, x.ndim, low=low, high=high, interior=interior)
    if any(i < 0 for i in interior):
        raise ShapeError(f"{where}: interior padding must be >= 0")
    shape = [lo + hi + n + max(n - 1, 0) * it for lo, hi, n, it in zip(low, high, x.shape, interior)]
    if any(n < 0 for n in shape):
        raise ShapeError(f"{where}: negative padding removes more than the whole dimension (result {tuple(shape)})")
    return [Aval(shape, x.dtype)]


def _pad_transpose(cts, x, padding_value, *, low, high, interior):
    """d/dx: undo the edges (negative edges re-grow as zeros), then take every (interior+1)-th element.
    d/dpadding_value: the sum of the cotangent over the padded positions."""
    ct = cts[0]
    shape = x.aval.shape if isinstance(x, UndefPrimal) else tuple(x.shape)
    zero = _zero_scalar(ct.dtype)
    out = [None, None]
    if isinstance(x, UndefPrimal):
        core = lax.pad(ct, zero, low=tuple(-v for v in low), high=tuple(-v for v in high), interior=(0,) * len(shape))
        out[0] = lax.slice(core, start_indices=(0,) * len(shape), limit_indices=tuple(core.shape),
                         strides=tuple(i + 1 for i in interior))
    if isinstance(padding_value, UndefPrimal):
        mask = lax.pad(lax.full(shape=shape, value=0, dtype=ct.dtype), lax.full(shape=(), value=1, dtype=ct.dtype),
                     low=_ints(low), high=_ints(high), interior=_ints(interior))
        masked = lax.mul(ct, mask)
        out[1] = lax.reduce_sum(masked, axes=tuple(range(ct.ndim))) if ct.ndim else masked
    return out


def _pad_vmap(axis_size, args, dims, *, low, high, interior):
    (x, v), (dx, dv) = args, dims
    if dv is None:
        return [lax.pad(x, v, low=_insert(low, dx, 0), high=_insert(high, dx, 0), interior=_insert(interior, dx, 0))], [dx]
    # one padding value per batch element: pad with zero, then select the padding value where the mask says so
    x = bdim_at_front(x, dx, axis_size)
    v = moveaxis(v, dv, 0)
    padded = lax.pad(x, _zero_scalar(x.dtype), low=(0, *low), high=(0, *high), interior=(0, *interior))

    unit = tuple(x.shape[1:])
    mask = lax.pad(lax.full(shape=unit, value=0, dtype=dt.int32), lax.full(shape=(), value=1, dtype=dt.int32),
                 low=_ints(low), high=_ints(high), interior=_ints(interior))
    out_shape = tuple(padded.shape)
    mask = lax.ne(mask, lax.full(shape=tuple(mask.shape), value=0, dtype=dt.int32))
    mask = lax.broadcast_in_dim(mask, shape=out_shape, broadcast_dimensions=tuple(range(1, len(out_shape))))
    vb = lax.broadcast_in_dim(v, shape=out_shape, broadcast_dimensions=(0,))
    return [lax.select(mask, vb, padded)], [0]


pad = register(Spec(
    name="pad",
    jvp=linear_jvp("pad"),
    abstract_eval=_pad_rule,
    reference=ref.pad,
    transpose=_pad_transpose,
    vmap=_pad_vmap,
    verify=Verify(dtypes=DATA),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32), np.float32(0)], {"low": (0, -2), "high": (0, -2), "interior": (0, 0)},
                   ShapeError, "pad: f32\\[2,3\\], f32\\[\\] .*negative padding removes more than the whole dimension"),
        ErrorInput([np.ones((2,), np.float32), np.zeros((1,), np.float32)], {"low": (0,), "high": (0,), "interior": (0,)},
                   ShapeError, "pad: f32\\[2\\], f32\\[1\\] .*padding_value must be 0-d"),
        ErrorInput([np.ones((2,), np.float32), np.int32(0)], {"low": (0,), "high": (0,), "interior": (0,)},
                   DTypeError, "pad: f32\\[2\\], i32\\[\\] .*padding_value must have the operand's dtype"),
        ErrorInput([np.ones((2,), np.float32), np.float32(0)], {"low": (0,), "high": (0,), "interior": (-1,)},
                   ShapeError, "pad: .*interior padding must be >= 0"),
    ],
    doc="pad with a 0-d value: interior padding between elements, then low/high edges (negative edges crop)",
))

# ---------------------------------------------------------------- rev


def _rev_rule(x, *, dimensions):
    if not _is_int_seq(dimensions) or len(set(dimensions)) != len(dimensions) or any(
            not 0 <= d < x.ndim for d in dimensions):
        raise ShapeError(f"rev: dimensions {tuple(dimensions) if _is_int_seq(dimensions) else dimensions!r} "
                         f"must be distinct dims of {x.str_short()}")
    return [x]


rev = register(Spec(
    name="rev",
    jvp=linear_jvp("rev"),
    abstract_eval=_rev_rule,
    reference=ref.rev,
    transpose=lambda cts, x, *, dimensions: [lax.rev(cts[0], dimensions=dimensions)],
    vmap=lambda axis_size, args, dims, *, dimensions: (
        [lax.rev(args[0], dimensions=tuple(d + (d >= dims[0]) for d in dimensions))], [dims[0]]),
    verify=Verify(dtypes=DATA),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32)], {"dimensions": (2,)}, ShapeError,
                   "rev: dimensions \\(2,\\) must be distinct dims of f32\\[2,3\\]"),
        ErrorInput([np.ones((2, 3), np.float32)], {"dimensions": (1, 1)}, ShapeError, "rev: dimensions \\(1, 1\\)"),
    ],
    doc="flip: reverse the order of elements along each listed dimension",
))

# ---------------------------------------------------------------- concatenate


def _concat_rule(*xs, dimension):
    if not xs:
        raise ShapeError("concatenate: needs at least one operand")
    where = f"concatenate: operands {describe(xs)} along dimension {dimension!r}"
    if len({a.dtype for a in xs}) > 1:
        raise DTypeError(f"{where}: operands must have one dtype")
    nd = xs[0].ndim
    if any(a.ndim != nd for a in xs):
        raise ShapeError(f"{where}: operands must have equal ranks")
    if not isinstance(dimension, (int, np.integer)) or isinstance(dimension, bool) or not 0 <= dimension < nd:
        raise ShapeError(f"{where}: dimension out of range for rank {nd}")
    for a in xs:
        if any(a.shape[i] != xs[0].shape[i] for i in range(nd) if i != dimension):
            raise ShapeError(f"{where}: operands must have equal sizes except along the dimension")
    shape = list(xs[0].shape)
    shape[dimension] = sum(a.shape[dimension] for a in xs)
    return [Aval(shape, xs[0].dtype)]


def _concat_transpose(cts, *xs, dimension):
    ct = cts[0]
    out, offset = [], 0
    for x in xs:
        shape = x.aval.shape if isinstance(x, UndefPrimal) else tuple(x.shape)
        n = shape[dimension]
        if isinstance(x, UndefPrimal):
            start = tuple(offset if i == dimension else 0 for i in range(len(shape)))
            limit = tuple(offset + n if i == dimension else s for i, s in enumerate(shape))
            out.append(lax.slice(ct, start_indices=start, limit_indices=limit, strides=(1,) * len(shape)))
        else:
            out.append(None)
        offset += n
    return out


def _concat_vmap(axis_size, args, dims, *, dimension):
    batched = [d for d in dims if d is not None]
    if all(d == batched[0] for d in dims):
        d = batched[0]
        return [lax.concatenate(*args, dimension=dimension + (dimension >= d))], [d]
    args = [bdim_at_front(x, d, axis_size) for x, d in zip(args, dims)]
    return [lax.concatenate(*args, dimension=dimension + 1)], [0]


concatenate = register(Spec(
    name="concatenate",
    jvp=linear_jvp("concatenate"),
    abstract_eval=_concat_rule,
    reference=ref.concatenate,
    transpose=_concat_transpose,
    vmap=_concat_vmap,
    verify=Verify(dtypes=DATA),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32), np.ones((3, 3), np.float32)], {"dimension": 1}, ShapeError,
                   "concatenate: operands f32\\[2,3\\], f32\\[3,3\\] along dimension 1: operands must have equal sizes"),
        ErrorInput([np.ones((2,), np.float32), np.ones((2,), np.int32)], {"dimension": 0}, DTypeError,
                   "concatenate: operands f32\\[2\\], i32\\[2\\] .*one dtype"),
        ErrorInput([np.ones((2,), np.float32), np.ones((2, 1), np.float32)], {"dimension": 0}, ShapeError,
                   "concatenate: .*equal ranks"),
        ErrorInput([np.float32(1), np.float32(2)], {"dimension": 0}, ShapeError,
                   "concatenate: operands f32\\[\\], f32\\[\\] along dimension 0: dimension out of range for rank 0"),
        ErrorInput([], {"dimension": 0}, ShapeError, "concatenate: needs at least one operand"),
    ],
    doc="cat: join operands (one dtype, equal sizes off the dimension, empty ones allowed) along dimension",
))

# ---------------------------------------------------------------- squeeze / expand_dims


def _squeeze_rule(x, *, dimensions):
    ok = _is_int_seq(dimensions) and len(set(dimensions)) == len(dimensions) and all(
        0 <= d < x.ndim for d in dimensions)
    if not ok or any(x.shape[d] != 1 for d in dimensions):
        raise ShapeError(f"squeeze: dimensions {tuple(dimensions) if _is_int_seq(dimensions) else dimensions!r} "
                         f"must be distinct size-1 dims of {x.str_short()}")
    return [Aval(tuple(n for i, n in enumerate(x.shape) if i not in dimensions), x.dtype)]


def _squeeze_vmap(axis_size, args, dims, *, dimensions):
    (x,), (d,) = args, dims
    new = tuple(sorted(i + (i >= d) for i in dimensions))
    return [lax.squeeze(x, dimensions=new)], [d - sum(1 for i in new if i < d)]


squeeze = register(Spec(
    name="squeeze",
    eager=_view(_squeeze_rule, "squeeze"),
    jvp=linear_jvp("squeeze"),
    abstract_eval=_squeeze_rule,
    reference=ref.squeeze,
    transpose=lambda cts, x, *, dimensions: [lax.expand_dims(cts[0], dimensions=tuple(sorted(dimensions)))],
    vmap=_squeeze_vmap,
    verify=Verify(dtypes=DATA),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32)], {"dimensions": (0,)}, ShapeError,
                   "squeeze: dimensions \\(0,\\) must be distinct size-1 dims of f32\\[2,3\\]"),
        ErrorInput([np.ones((1, 3), np.float32)], {"dimensions": (2,)}, ShapeError, "squeeze: dimensions \\(2,\\)"),
        ErrorInput([np.ones((1, 3), np.float32)], {"dimensions": (0, 0)}, ShapeError, "squeeze: dimensions \\(0, 0\\)"),
    ],
    doc="remove the listed size-1 dims",
))


def _expand_dims_rule(x, *, dimensions):
    nd = x.ndim + (len(dimensions) if _is_int_seq(dimensions) else 0)
    if not _is_int_seq(dimensions) or len(set(dimensions)) != len(dimensions) or any(
            not 0 <= d < nd for d in dimensions):
        raise ShapeError(f"expand_dims: dimensions {tuple(dimensions) if _is_int_seq(dimensions) else dimensions!r} "
                         f"must be distinct positions in the rank-{nd} result for {x.str_short()}")
    rest = iter(x.shape)
    return [Aval(tuple(1 if i in dimensions else next(rest) for i in range(nd)), x.dtype)]


def _expand_dims_vmap(axis_size, args, dims, *, dimensions):
    x = moveaxis(args[0], dims[0], 0)
    return [lax.expand_dims(x, dimensions=tuple(d + 1 for d in dimensions))], [0]


expand_dims = register(Spec(
    name="expand_dims",
    eager=_view(_expand_dims_rule, "expand_dims"),
    jvp=linear_jvp("expand_dims"),
    abstract_eval=_expand_dims_rule,
    reference=ref.expand_dims,
    transpose=lambda cts, x, *, dimensions: [lax.squeeze(cts[0], dimensions=tuple(sorted(dimensions)))],
    vmap=_expand_dims_vmap,
    verify=Verify(dtypes=DATA),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32)], {"dimensions": (3,)}, ShapeError,
                   "expand_dims: dimensions \\(3,\\) must be distinct positions in the rank-3 result for f32\\[2,3\\]"),
        ErrorInput([np.ones((2,), np.float32)], {"dimensions": (0, 0)}, ShapeError, "expand_dims: dimensions \\(0, 0\\)"),
    ],
    doc="insert size-1 dims at the listed positions of the result",
))
