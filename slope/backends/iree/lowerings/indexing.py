"""Lowerings of the indexing primitives (gather, scatter, scatter_add, dynamic_slice,
dynamic_update_slice), with the index clean-up IREE needs (slope/primitives/indexing.py says why)."""
from __future__ import annotations

import math

from slope.backends.iree.emitter import dense_attr, lowering, mlir_type
from slope.backends.iree.lowerings.shape import fence_noncontiguous_view
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.primitives.indexing import INDEX_CAP


def _attr_list(vals):
    return "[" + ", ".join(str(int(v)) for v in vals) + "]"


def _dense(vals):
    return dense_attr(list(vals))


def _const_vec(ctx, vals, dtype):
    a = Aval((len(vals),), dtype)
    return ctx.op(f"stablehlo.constant dense<[{', '.join(str(int(v)) for v in vals)}]> : {mlir_type(a)}", a), a


def _bcast(ctx, x, x_aval, shape, dims):
    return ctx.generic("stablehlo.broadcast_in_dim", [x], [x_aval], [Aval(shape, x_aval.dtype)],
                       f"broadcast_dimensions = {_dense(dims)}")


def _columns(ctx, vals, aval):
    """A tensor of aval's shape (..., k) whose column j holds vals[j]."""
    vec, va = _const_vec(ctx, vals, aval.dtype)
    return _bcast(ctx, vec, va, aval.shape, [aval.ndim - 1])


def _region(ctx, op, scalar):
    """A reduce/scatter body `(x, y) -> op(x, y)`; op None returns y (replace)."""
    t = mlir_type(scalar)
    x, y, r = ctx.fresh(), ctx.fresh(), ctx.fresh()
    if op is None:
        body = f'"stablehlo.return"({y}) : ({t}) -> ()'
    else:
        body = f'{r} = "{op}"({x}, {y}) : ({t}, {t}) -> {t}\n        "stablehlo.return"({r}) : ({t}) -> ()'
    return f"{{\n      ^bb0({x}: {t}, {y}: {t}):\n        {body}\n    }}"


def _lower_signed(ctx, idx, aval):
    """i32/i64 indices that agree with idx on every index that can be in range."""
    d = aval.dtype
    if d is dt.int32 or d is dt.int64:
        return idx, aval
    if d.is_unsigned and d.bits >= 32:
        idx = ctx.binary("stablehlo.minimum", idx, ctx.constant(INDEX_CAP, aval), aval)
    out = Aval(aval.shape, dt.int64 if d.bits == 64 else dt.int32)
    return ctx.generic("stablehlo.convert", [idx], [aval], [out]), out


def _lower_clamp(ctx, idx, aval, dims):
    hi = _columns(ctx, [max(n - 1, 0) for n in dims], aval)
    return ctx.generic("stablehlo.clamp", [ctx.constant(0, aval), idx, hi], [aval] * 3, [aval])


def _lower_in_bounds(ctx, idx, aval, dims):
    """bool B: every index of the row lies in [0, dims[j])."""
    b, sb = Aval(aval.shape, dt.bool_), Aval((), dt.bool_)
    ok = ctx.binary("stablehlo.and", ctx.compare("GE", idx, ctx.constant(0, aval), aval),
                    ctx.compare("LT", idx, _columns(ctx, dims, aval), aval), b)
    return ctx.generic("stablehlo.reduce", [ok, ctx.constant(True, sb)], [b, sb], [Aval(aval.shape[:-1], dt.bool_)],
                       f"dimensions = {_dense([aval.ndim - 1])}", _region(ctx, "stablehlo.and", sb))


def _emit_gather(ctx, operand, op_aval, idx, idx_aval, out_aval):
    # The barrier keeps IREE 3.13 from fusing a slice strided along its last dim into the gather, which
    # fails in LLVM translation (builtin.unrealized_conversion_cast; docs/stablehlo-notes.md §0,
    # pitfall 19). IREE did not fuse an elementwise producer into a gather either: it costs nothing.
    # A one-element operand crosses it as 0-d: fenced as (1, 1) and also used unfenced (by the argmin that
    # indexes it, fuzzer program 1548), it failed to compile like pitfall 33's conv kernel.
    operand = ctx.barrier([operand], [op_aval], unit_as_scalar=True)[0]
    nb, k, r = idx_aval.ndim - 1, idx_aval.shape[-1], op_aval.ndim
    fields = []
    if r > k:
        fields.append(f"offset_dims = {_attr_list(range(nb, nb + r - k))}")
    fields += [f"collapsed_slice_dims = {_attr_list(range(k))}", f"start_index_map = {_attr_list(range(k))}",
               f"index_vector_dim = {nb}"]
    sizes = [1] * k + list(op_aval.shape[k:])
    return ctx.generic("stablehlo.gather", [operand, idx], [op_aval, idx_aval], [out_aval],
                       f"dimension_numbers = #stablehlo.gather<{', '.join(fields)}>, slice_sizes = {_dense(sizes)}, "
                       f"indices_are_sorted = false")


def _emit_scatter(ctx, operand, op_aval, idx, idx_aval, upd, upd_aval, combiner):
    nb, k, r = idx_aval.ndim - 1, idx_aval.shape[-1], op_aval.ndim
    fields = []
    if r > k:
        fields.append(f"update_window_dims = {_attr_list(range(nb, nb + r - k))}")
    fields += [f"inserted_window_dims = {_attr_list(range(k))}", f"scatter_dims_to_operand_dims = {_attr_list(range(k))}",
               f"index_vector_dim = {nb}"]
    return ctx.generic("stablehlo.scatter", [operand, idx, upd], [op_aval, idx_aval, upd_aval], [op_aval],
                       f"scatter_dimension_numbers = #stablehlo.scatter<{', '.join(fields)}>, "
                       f"indices_are_sorted = false, unique_indices = false",
                       _region(ctx, combiner, Aval((), op_aval.dtype)))


@lowering("gather")
def _gather(ctx, args, in_avals, out_avals):
    (op, idx), (oa, ia), (out,) = args, in_avals, out_avals
    k, nb = ia.shape[-1], ia.ndim - 1
    if out.size == 0:
        return [ctx.constant(0, out)]
    if k == 0:
        return [ctx.generic("stablehlo.broadcast_in_dim", [op], [oa], [out],
                            f"broadcast_dimensions = {_dense(range(nb, nb + oa.ndim))}")]
    idx, ia = _lower_signed(ctx, idx, ia)
    idx = _lower_clamp(ctx, idx, ia, oa.shape[:k])
    return [_emit_gather(ctx, op, oa, idx, ia, out)]


def _scatter_lower(combiner):
    def lower(ctx, args, in_avals, out_avals):
        (op, idx, upd), (oa, ia, ua) = args, in_avals
        k, nb = ia.shape[-1], ia.ndim - 1
        rows = math.prod(ia.shape[:-1])
        if rows == 0 or ua.size == 0 or any(n == 0 for n in oa.shape[:k]):
            return [op]  # nothing is written (rows into an empty dim are all out of range)
        if k == 0:  # every row writes the whole operand
            if combiner is not None:
                s = ctx.generic("stablehlo.reduce", [upd, ctx.constant(0, Aval((), oa.dtype))], [ua, Aval((), oa.dtype)],
                                [oa], f"dimensions = {_dense(range(nb))}", _region(ctx, combiner, Aval((), oa.dtype)))
                return [ctx.binary(combiner, op, s, oa)]
            flat = Aval((rows, *oa.shape), oa.dtype)
            u = ctx.generic("stablehlo.reshape", [upd], [ua], [flat])
            last = Aval((1, *oa.shape), oa.dtype)
            u = ctx.generic("stablehlo.slice", [u], [flat], [last], f"start_indices = {_dense([rows - 1] + [0] * oa.ndim)}, "
                            f"limit_indices = {_dense(flat.shape)}, strides = {_dense([1] * flat.ndim)}")
            return [ctx.generic("stablehlo.reshape", [u], [last], [oa])]
        idx, ia = _lower_signed(ctx, idx, ia)
        batch = ia.shape[:-1]
        ok = _lower_in_bounds(ctx, idx, ia, oa.shape[:k])
        idx = _lower_clamp(ctx, idx, ia, oa.shape[:k])
        b = Aval(batch, dt.bool_)
        if combiner is None:  # replace: only the last row writing each place may write
            ids_aval = Aval(batch, dt.int32)
            ids = ctx.generic("stablehlo.iota", [], [], [Aval((rows,), dt.int32)], "iota_dimension = 0 : i64")
            ids = ctx.generic("stablehlo.reshape", [ids], [Aval((rows,), dt.int32)], [ids_aval])
            ids_ok = ctx.select(ok, ids, ctx.constant(-1, ids_aval), ids_aval)
            places = Aval(oa.shape[:k], dt.int32)
            last = _emit_scatter(ctx, ctx.constant(-1, places), places, idx, ia, ids_ok, ids_aval, "stablehlo.maximum")
            won = ctx.compare("EQ", _emit_gather(ctx, last, places, idx, ia, ids_aval), ids, ids_aval)
            ok = ctx.binary("stablehlo.and", ok, won, b)
        sentinel = _columns(ctx, [oa.shape[0]] + [0] * (k - 1), ia)
        idx = ctx.select(_bcast(ctx, ok, b, ia.shape, range(nb)), idx, sentinel, ia)
        grown = Aval((oa.shape[0] + 1, *oa.shape[1:]), oa.dtype)
        zero = Aval((), oa.dtype)
        # The fence before the pad: IREE 3.13 folds the (fenced) pad of a constant operand (zeros, an
        # iota) into a constant and then scatters in place into the constant's storage, so that a
        # jitted scatter_add accumulated across calls (docs/stablehlo-notes.md pitfall 23).
        op = ctx.barrier([op], [oa])[0]
        # The pad's result is not fenced: IREE 3.13 merges equal fenced values, and two
        # scatters into one fenced buffer both ran in place on it, so that one gradient got another's
        # update too (docs/stablehlo-notes.md pitfall 34). A pad result shared by two scatters is
        # copied. The pad sits between a barrier and a scatter, so no pad chain forms (pitfalls 20-21).
        padded = ctx.pad(op, ctx.constant(0, zero), oa, grown, [0] * oa.ndim, [1] + [0] * (oa.ndim - 1),
                         [0] * oa.ndim, fenced=False)
        out = _emit_scatter(ctx, padded, grown, idx, ia, upd, ua, combiner)
        return [ctx.generic("stablehlo.slice", [out], [grown], [oa], f"start_indices = {_dense([0] * oa.ndim)}, "
                            f"limit_indices = {_dense(oa.shape)}, strides = {_dense([1] * oa.ndim)}")]

    return lower


@lowering("dynamic_slice")
def _dynamic_slice(ctx, args, in_avals, out_avals, *, slice_sizes):
    oa, out = in_avals[0], out_avals[0]
    if out.size == 0:
        return [ctx.constant(0, out)]
    if oa.shape == out.shape:  # every start clamps to 0
        return [args[0]]
    y = ctx.generic("stablehlo.dynamic_slice", args, in_avals, out_avals, f"slice_sizes = {_dense(slice_sizes)}")
    return [fence_noncontiguous_view(ctx, y, oa, out, (1,) * oa.ndim)]  # pitfall 22, as slice


@lowering("dynamic_update_slice")
def _dynamic_update_slice(ctx, args, in_avals, out_avals):
    oa, ua = in_avals[0], in_avals[1]
    if ua.size == 0:
        return [args[0]]
    if ua.shape == oa.shape:  # every start clamps to 0
        return [args[1]]
    operand = ctx.fresh_copy(args[0], oa)  # IREE would otherwise update the caller's buffer in place
    y = ctx.generic("stablehlo.dynamic_update_slice", [operand, *args[1:]], in_avals, out_avals)
    # Fenced result: IREE 3.13 fused an interior pad of it (with a broadcast update) into one dispatch
    # that codegen rejects ("write affecting operations on global resources are restricted to
    # workgroup distributed contexts"; docs/stablehlo-notes.md pitfall 25). The result is a buffer
    # of its own (updated in place), so the fence moves no data.
    return ctx.barrier([y], out_avals)


lowering("scatter_add")(_scatter_lower("stablehlo.add"))
lowering("scatter")(_scatter_lower(None))
