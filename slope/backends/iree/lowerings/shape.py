"""Lowerings of the shape primitives (reshape/squeeze/expand_dims, broadcast_in_dim, transpose,
slice, pad, rev, concatenate)."""
from __future__ import annotations

import math

from slope.backends.iree.emitter import dense_attr, lowering
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.primitives.shape import _slice_strides


@lowering("broadcast_in_dim")
def _broadcast_in_dim(ctx, args, in_avals, out_avals, *, shape, broadcast_dimensions):
    return [ctx.generic("stablehlo.broadcast_in_dim", args, in_avals, out_avals,
                        f"broadcast_dimensions = {dense_attr(broadcast_dimensions)}")]


@lowering("reshape")
def _reshape_op(ctx, args, in_avals, out_avals, *, shape):
    return [ctx.generic("stablehlo.reshape", args, in_avals, out_avals)]


@lowering("transpose")
def _transpose(ctx, args, in_avals, out_avals, *, perm):
    return [ctx.generic("stablehlo.transpose", args, in_avals, out_avals, f"permutation = {dense_attr(perm)}")]


def _signed_twin(dtype):
    return {8: dt.int8, 16: dt.int16, 32: dt.int32, 64: dt.int64}[dtype.bits]


@lowering("slice")
def _slice(ctx, args, in_avals, out_avals, *, start_indices, limit_indices, strides=None):
    st = _slice_strides(len(start_indices), strides)
    if in_avals[0].shape == out_avals[0].shape and all(s == 1 for s in st):
        return [args[0]]
    y = ctx.generic("stablehlo.slice", args, in_avals, out_avals,
                    f"start_indices = {dense_attr(start_indices)}, limit_indices = {dense_attr(limit_indices)}, "
                    f"strides = {dense_attr(st)}")
    return [fence_noncontiguous_view(ctx, y, in_avals[0], out_avals[0], st)]


def fence_noncontiguous_view(ctx, y, in_aval, out_aval, strides):
    """y (a slice or dynamic_slice of an operand of in_aval) through an optimization_barrier when the
    innermost non-unit dim of the result is not contiguous in the operand (a stride there, or operand
    dims cut after it). IREE 3.13 fuses a slice into its consumer as a view of the operand, and a
    reverse, a reverse reduce_window (scan) or a gather cannot be compiled with such a view ("LLVM
    Translation failed for operation: builtin.unrealized_conversion_cast"; docs/stablehlo-notes.md
    pitfall 22)."""
    inner = [d for d, n in enumerate(out_aval.shape) if n > 1]
    if inner and strides[inner[-1]] * math.prod(in_aval.shape[inner[-1] + 1:]) != 1:
        return ctx.barrier([y], [out_aval])[0]
    return y


@lowering("pad")
def _pad(ctx, args, in_avals, out_avals, *, low, high, interior):
    # In float64 the operand goes through a barrier. IREE 3.13 folds a pad of a constant with a
    # constant value into a constant, and two such in one float64 module fail to compile ("'stream.yield'
    # op used resource not listed in explicit captures"; the gradient w.r.t. a padding value pads zeros
    # with 1); a barrier on the padding value instead avoids that but makes two pads of computed
    # operands fail the same way (docs/stablehlo-notes.md sections 24 and 27). float32 has neither.
    operand = args[0]
    if in_avals[0].dtype.name == "float64":
        operand = ctx.barrier([operand], [in_avals[0]])[0]
    return [ctx.pad(operand, args[1], in_avals[0], out_avals[0], low, high, interior)]


@lowering("rev")
def _rev(ctx, args, in_avals, out_avals, *, dimensions):
    a = in_avals[0]
    if not dimensions or a.size == 0:
        return [args[0]]
    attrs = f"dimensions = {dense_attr(sorted(dimensions))}"
    if not a.dtype.is_unsigned:
        return [ctx.generic("stablehlo.reverse", args, in_avals, out_avals, attrs)]
    # IREE 3.13 cannot legalize a reverse of unsigned ints: go through the signed twin
    signed = Aval(a.shape, _signed_twin(a.dtype))
    y = ctx.generic("stablehlo.bitcast_convert", args, [a], [signed])
    y = ctx.generic("stablehlo.reverse", [y], [signed], [signed], attrs)
    return [ctx.generic("stablehlo.bitcast_convert", [y], [signed], [a])]


@lowering("concatenate")
def _concatenate(ctx, args, in_avals, out_avals, *, dimension):
    if len(args) == 1:
        return [args[0]]
    return [ctx.generic("stablehlo.concatenate", args, in_avals, out_avals, f"dimension = {dimension} : i64")]


@lowering("squeeze", "expand_dims")
def _reshape(ctx, args, in_avals, out_avals, **params):
    if in_avals[0].shape == out_avals[0].shape:
        return [args[0]]
    return [ctx.generic("stablehlo.reshape", args, in_avals, out_avals)]
