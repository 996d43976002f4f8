"""Lowerings of sort and argsort: a stable, NaN-last sort IREE gets right (docs/stablehlo-notes.md)."""
from __future__ import annotations

from slope.backends.iree.emitter import dense_attr, lowering, region_builder, region_text
from slope.backends.iree.lowerings.scan import _bool, nan_aware_compare
from slope.core import dtypes as dt
from slope.core.aval import Aval


def _reverse(ctx, x, aval, attrs):
    """stablehlo.reverse; unsigned ints go through their signed twin (IREE cannot legalize a ui32 reverse)."""
    if not aval.dtype.is_unsigned:
        return ctx.generic("stablehlo.reverse", [x], [aval], [aval], attrs)
    signed = Aval(aval.shape, {8: dt.int8, 16: dt.int16, 32: dt.int32, 64: dt.int64}[aval.dtype.bits])
    y = ctx.generic("stablehlo.bitcast_convert", [x], [aval], [signed])
    y = ctx.generic("stablehlo.reverse", [y], [signed], [signed], attrs)
    return ctx.generic("stablehlo.bitcast_convert", [y], [signed], [aval])


def emit_stable_sort(ctx, args, in_avals, dimension, num_keys, index_dtype=dt.int32):
    """Sort args along dimension by the first num_keys (lexicographically), ties by position.

    Returns the SSA names of the sorted operands followed by the permutation (index_dtype).
    """
    shape = in_avals[0].shape
    iota_aval = Aval(shape, index_dtype)
    # IREE 3.13 sorts in place in the operands' buffers. (1) For a function argument that buffer is the
    # caller's: the input tensor comes back sorted. (2) An operand computed from constants only is
    # hoisted into a global, and the in-place write then fails to compile ("write affecting operations
    # on global resources"). So: an optimization_barrier (stops the hoisting), then a reverse (a fresh
    # buffer; it cannot be folded away) with the original positions as the tie-break operand. The
    # comparator is a total order, so sorting the reversed data gives exactly the same result.
    # (3) A consumer that writes the sorted values into a bigger buffer (a pad: IREE makes it an
    # insert_slice) was fused into the sort's dispatch, which codegen rejects ("write affecting
    # operations on global resources are restricted to workgroup distributed contexts"): the
    # results go through a barrier too (docs/stablehlo-notes.md pitfall 21).
    iota = ctx.generic("stablehlo.iota", [], [], [iota_aval], f"iota_dimension = {dimension} : i64")
    fenced = ctx.barrier(list(args) + [iota], list(in_avals) + [iota_aval])
    rev = f"dimensions = {dense_attr([dimension])}"
    copies = [_reverse(ctx, a, av, rev) for a, av in zip(fenced, in_avals)]
    pos = ctx.binary("stablehlo.subtract", ctx.constant(shape[dimension] - 1, iota_aval), fenced[-1], iota_aval)
    operands, avals = copies + [pos], list(in_avals) + [iota_aval]
    scalars = [Aval((), a.dtype) for a in avals]
    r = region_builder(ctx)
    block = []
    for k, s in enumerate(scalars):
        block += [(f"%a{k}", s), (f"%b{k}", s)]
    last = len(avals) - 1
    # build from the innermost tie-break outwards: before = lt_k or (eq_k and before_{k+1})
    before = r.compare("LT", f"%a{last}", f"%b{last}", scalars[last])
    for k in reversed(range(num_keys)):
        lt, eq = nan_aware_compare(r, f"%a{k}", f"%b{k}", scalars[k], "LT", nan_first=False)
        before = r.binary("stablehlo.or", lt, r.binary("stablehlo.and", eq, before, _bool()), _bool())
    region = region_text(r, block, [(before, _bool())])
    outs = ctx.generic("stablehlo.sort", operands, avals, avals, f"dimension = {dimension} : i64, is_stable = true", region)
    return ctx.barrier(outs if isinstance(outs, list) else [outs], avals)


@lowering("sort")
def _sort(ctx, args, in_avals, out_avals, *, dimension, num_keys=1):
    n = in_avals[0].shape[dimension]
    if n <= 1 or in_avals[0].size == 0:
        return list(args)
    return emit_stable_sort(ctx, args, in_avals, dimension, num_keys)[:-1]


@lowering("argsort")
def _argsort(ctx, args, in_avals, out_avals, *, dimension, index_dtype):
    x = in_avals[0]
    if x.shape[dimension] <= 1 or x.size == 0:
        return [ctx.generic("stablehlo.iota", [], [], out_avals, f"iota_dimension = {dimension} : i64")]
    return [emit_stable_sort(ctx, args, in_avals, dimension, 1, index_dtype)[-1]]
