"""Lowerings of argmax/argmin (a variadic reduce) and of the cumulative scans (reduce_window)."""
from __future__ import annotations

import numpy as np

from slope.backends.iree.emitter import dense_attr, lowering, region_builder, region_text
from slope.core import dtypes as dt
from slope.core.aval import Aval


def extreme_init(dtype, want_max):
    """Identity element of max (want_max) or min for dtype."""
    if dtype.is_float:
        return float("-inf") if want_max else float("inf")
    if dtype.is_bool:
        return not want_max
    info = np.iinfo(dtype.np)
    return int(info.min) if want_max else int(info.max)


def _bool(shape=()):
    return Aval(shape, dt.bool_)


def nan_aware_compare(r, a, b, aval, direction, nan_first):
    """(a strictly before b, a and b tie) for `compare(direction)`, with NaN placed before every
    number (nan_first: NaN counts as the max for argmax) or after it (sort puts NaN last); NaNs tie."""
    before = r.compare(direction, a, b, aval)
    tie = r.compare("EQ", a, b, aval)
    if not aval.dtype.is_float:
        return before, tie
    a_nan, b_nan = r.compare("NE", a, a, aval), r.compare("NE", b, b, aval)
    if nan_first:
        nan_order = r.binary("stablehlo.and", a_nan, r.unary("stablehlo.not", b_nan, _bool()), _bool())
    else:
        nan_order = r.binary("stablehlo.and", r.unary("stablehlo.not", a_nan, _bool()), b_nan, _bool())
    before = r.binary("stablehlo.or", before, nan_order, _bool())
    tie = r.binary("stablehlo.or", tie, r.binary("stablehlo.and", a_nan, b_nan, _bool()), _bool())
    return before, tie


def _arg_lower(name):
    want_max = name == "argmax"

    def lower(ctx, args, in_avals, out_avals, *, axis, index_dtype):
        x = in_avals[0]
        vs, is_ = Aval((), x.dtype), Aval((), index_dtype)
        iota_aval = Aval(x.shape, index_dtype)
        iota = ctx.generic("stablehlo.iota", [], [], [iota_aval], f"iota_dimension = {axis} : i64")
        vinit = ctx.constant(extreme_init(x.dtype, want_max), vs)
        iinit = ctx.constant(int(np.iinfo(index_dtype.np).max), is_)
        r = region_builder(ctx)
        av, ai, bv, bi = "%av", "%ai", "%bv", "%bi"
        better, same = nan_aware_compare(r, av, bv, vs, "GT" if want_max else "LT", nan_first=True)
        tie = r.binary("stablehlo.and", same, r.compare("LT", ai, bi, is_), _bool())
        pick = r.binary("stablehlo.or", better, tie, _bool())
        v = r.select(pick, av, bv, vs)
        i = r.select(pick, ai, bi, is_)
        region = region_text(r, [(av, vs), (ai, is_), (bv, vs), (bi, is_)], [(v, vs), (i, is_)])
        out_v = Aval(out_avals[0].shape, x.dtype)
        outs = ctx.generic("stablehlo.reduce", [args[0], iota, vinit, iinit], [x, iota_aval, vs, is_],
                           [out_v, out_avals[0]], f"dimensions = {dense_attr([axis])}", region)
        # IREE 3.x fails to compile a 2-result reduce whose index result feeds a fused consumer
        # (e.g. the transpose vmap adds: "linalg.yield expected 2 values"); the barrier keeps
        # the reduce in a dispatch of its own.
        outs = ctx.generic("stablehlo.optimization_barrier", outs, [out_v, out_avals[0]], [out_v, out_avals[0]])
        return [outs[1]]

    return lower


_SCAN_OP = {"cumsum": "stablehlo.add", "cumprod": "stablehlo.multiply",
            "cummax": "stablehlo.maximum", "cummin": "stablehlo.minimum"}


def _scan_init(name, dtype):
    if name == "cumsum":
        return 0
    if name == "cumprod":
        return 1
    return extreme_init(dtype, name == "cummax")


def _scan_lower(name):
    def lower(ctx, args, in_avals, out_avals, *, axis, reverse=False):
        x = in_avals[0]
        n = x.shape[axis]
        if x.size == 0 or n == 1:
            return [args[0]]
        if x.dtype.is_unsigned:  # IREE cannot legalize a ui32 reduce_window: scan the signed twin
            return [_unsigned_via_signed(ctx, args[0], x, lambda v, a: lower(ctx, [v], [a], [a], axis=axis, reverse=reverse)[0],
                                         flip_order=name in ("cummax", "cummin"))]
        s = Aval((), x.dtype)
        init = ctx.constant(_scan_init(name, x.dtype), s)
        r = region_builder(ctx)
        out = r.binary(_SCAN_OP[name], "%a", "%b", s)
        region = region_text(r, [("%a", s), ("%b", s)], [(out, s)])
        window = [n if i == axis else 1 for i in range(x.ndim)]
        pad = [((0, n - 1) if reverse else (n - 1, 0)) if i == axis else (0, 0) for i in range(x.ndim)]
        pad_text = "[" + ", ".join(f"[{lo}, {hi}]" for lo, hi in pad) + "]"
        attrs = (f"window_dimensions = {dense_attr(window)}, window_strides = {dense_attr([1] * x.ndim)}, "
                 f"padding = dense<{pad_text}> : tensor<{x.ndim}x2xi64>")
        return [ctx.generic("stablehlo.reduce_window", [args[0], init], [x, s], out_avals, attrs, region)]

    return lower


def _unsigned_via_signed(ctx, x, aval, fn, flip_order):
    """fn applied to the bits of unsigned x as the same-width signed type; for order-based ops the sign bit
    is flipped first (x ^ 0x80..0 maps unsigned order onto signed order) and back afterwards."""
    signed = Aval(aval.shape, {8: dt.int8, 16: dt.int16, 32: dt.int32, 64: dt.int64}[aval.dtype.bits])
    y = ctx.generic("stablehlo.bitcast_convert", [x], [aval], [signed])
    if flip_order:
        top = ctx.constant(-(1 << (aval.dtype.bits - 1)), signed)
        y = ctx.binary("stablehlo.xor", y, top, signed)
    y = fn(y, signed)
    if flip_order:
        y = ctx.binary("stablehlo.xor", y, top, signed)
    return ctx.generic("stablehlo.bitcast_convert", [y], [signed], [aval])


for _name in ("argmax", "argmin"):
    lowering(_name)(_arg_lower(_name))
for _name in _SCAN_OP:
    lowering(_name)(_scan_lower(_name))
