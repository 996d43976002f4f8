"""Lowerings of the elementwise primitives: most are one StableHLO op (ONE_OP); the rest work
around IREE 3.13 (f64 expm1/log1p, float pow, saturating float->int convert) or are comparisons."""
from __future__ import annotations

import numpy as np

from slope.backends.iree.emitter import lowering
from slope.core import dtypes as dt
from slope.core.aval import Aval

ONE_OP = {
    "neg": "stablehlo.negate",
    "exp": "stablehlo.exponential",
    "log": "stablehlo.log",
    "sin": "stablehlo.sine",
    "cos": "stablehlo.cosine",
    "tan": "stablehlo.tan",
    "tanh": "stablehlo.tanh",
    "logistic": "stablehlo.logistic",
    "sqrt": "stablehlo.sqrt",
    "rsqrt": "stablehlo.rsqrt",
    "abs": "stablehlo.abs",
    "sign": "stablehlo.sign",
    "floor": "stablehlo.floor",
    "ceil": "stablehlo.ceil",
    "round": "stablehlo.round_nearest_even",
    "erf": "chlo.erf",
    "not": "stablehlo.not",
    "add": "stablehlo.add",
    "sub": "stablehlo.subtract",
    "mul": "stablehlo.multiply",
    "div": "stablehlo.divide",
    "maximum": "stablehlo.maximum",
    "minimum": "stablehlo.minimum",
    "rem": "stablehlo.remainder",
    "atan2": "stablehlo.atan2",
    "and": "stablehlo.and",
    "or": "stablehlo.or",
    "xor": "stablehlo.xor",
    "shift_left": "stablehlo.shift_left",
    "shift_right_logical": "stablehlo.shift_right_logical",
    "shift_right_arithmetic": "stablehlo.shift_right_arithmetic",
    "select": "stablehlo.select",
    "clamp": "stablehlo.clamp",
}


def _one_op(op):
    def lower(ctx, args, in_avals, out_avals):
        return [ctx.generic(op, args, in_avals, out_avals)]

    return lower


for _name, _op in ONE_OP.items():
    lowering(_name)(_one_op(_op))


def _compare(direction):
    def lower(ctx, args, in_avals, out_avals):
        return [ctx.compare(direction, args[0], args[1], in_avals[0])]

    return lower


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    lowering(_name)(_compare(_name.upper()))


def _lower_accurate_small_x(op, kind):
    """f64 expm1/log1p are computed naively by IREE 3.13 (expm1(1e-20) = 0): use Kahan's/Goldberg's
    rewrites there (docs/stablehlo-notes.md §2). Other dtypes use the op directly."""

    def lower(ctx, args, in_avals, out_avals):
        a = in_avals[0]
        if a.dtype.bits != 64:
            return [ctx.unary(op, args[0], a)]
        x, one = args[0], ctx.constant(1, a)
        if kind == "expm1":
            u = ctx.unary("stablehlo.exponential", x, a)
            um1 = ctx.binary("stablehlo.subtract", u, one, a)
            small = ctx.binary("stablehlo.multiply", um1, ctx.binary("stablehlo.divide", x, ctx.unary("stablehlo.log", u, a), a), a)
            big_result = um1
        else:
            u = ctx.binary("stablehlo.add", x, one, a)
            um1 = ctx.binary("stablehlo.subtract", u, one, a)
            big_result = ctx.unary("stablehlo.log", u, a)
            small = ctx.binary("stablehlo.multiply", big_result, ctx.binary("stablehlo.divide", x, um1, a), a)
        big = ctx.compare("GT", ctx.unary("stablehlo.abs", x, a), one, a)
        r = ctx.select(big, big_result, small, a)
        return [ctx.select(ctx.compare("EQ", u, one, a), x, r, a)]

    return lower


@lowering("pow")
def _pow(ctx, args, in_avals, out_avals):
    """IREE's float power is NaN for every negative base and wrong for 0**0, 1**nan, (-1)**inf:
    compute |x|**y and fix sign and special cases as IEEE pow does (docs/stablehlo-notes.md §5)."""
    a = in_avals[0]
    x, y = args
    if not a.dtype.is_float:
        return [ctx.binary("stablehlo.power", x, y, a)]
    zero, one, two = ctx.constant(0, a), ctx.constant(1, a), ctx.constant(2, a)
    inf, nan = ctx.constant(float("inf"), a), ctx.constant(float("nan"), a)
    ax, ay = ctx.unary("stablehlo.abs", x, a), ctx.unary("stablehlo.abs", y, a)
    r = ctx.binary("stablehlo.power", ax, y, a)
    is_int = ctx.compare("EQ", ctx.unary("stablehlo.floor", y, a), y, a)
    is_odd = ctx.binary("stablehlo.and", is_int, ctx.compare("NE", ctx.binary("stablehlo.remainder", y, two, a), zero, a),
                        Aval(a.shape, dt.bool_))
    signed = ctx.select(is_odd, ctx.unary("stablehlo.negate", r, a), r, a)
    neg_base = ctx.select(is_int, signed, nan, a)
    res = ctx.select(ctx.compare("LT", x, zero, a), neg_base, r, a)
    b = Aval(a.shape, dt.bool_)
    minus1_inf = ctx.binary("stablehlo.and", ctx.compare("EQ", ax, one, a), ctx.compare("EQ", ay, inf, a), b)
    trivial = ctx.binary("stablehlo.or", ctx.binary("stablehlo.or", ctx.compare("EQ", y, zero, a),
                                                    ctx.compare("EQ", x, one, a), b), minus1_inf, b)
    return [ctx.select(trivial, one, res, a)]


lowering("expm1")(_lower_accurate_small_x("stablehlo.exponential_minus_one", "expm1"))
lowering("log1p")(_lower_accurate_small_x("stablehlo.log_plus_one", "log1p"))


def _opaque_full(ctx, value, aval):
    """A tensor of `value` that IREE cannot fold into its consumers (a fenced 0-d constant, broadcast)."""
    scalar = Aval((), aval.dtype)
    fenced = ctx.barrier([ctx.constant(value, scalar)], [scalar])[0]
    return ctx.generic("stablehlo.broadcast_in_dim", [fenced], [scalar], [aval], "broadcast_dimensions = array<i64>")


@lowering("convert")
def _convert(ctx, args, in_avals, out_avals, *, dtype):
    src = in_avals[0].dtype
    if dtype.is_bool and not src.is_bool:  # StableHLO convert to i1 truncates; slope means x != 0
        zero = ctx.constant(0, in_avals[0])
        return [ctx.compare("NE", args[0], zero, in_avals[0])]
    if src.is_bool and not dtype.is_bool:
        # select(x, 1, 0), not stablehlo.convert: IREE 3.13 fuses an i1 -> float convert into a consuming
        # matmul-like dot_general (linalg.vecmat) and then fails to compile it (i1 vs i8 block argument;
        # docs/stablehlo-notes.md §33). jacfwd's one-hot basis (convert(eq(iota, iota))) hits it.
        # The 1 and 0 go through a barrier: with literal branches IREE folds a consumer into them
        # (x + 1e-45 -> select(x, 1, 1e-45) at compile time, x * s -> select(x, s, 0)), and the
        # result kept subnormals that the same arithmetic on a float tensor flushes (pitfall 9).
        o = out_avals[0]
        return [ctx.select(args[0], _opaque_full(ctx, 1, o), _opaque_full(ctx, 0, o), o)]
    out = ctx.generic("stablehlo.convert", args, in_avals, out_avals)
    if src.is_float and dtype.is_int:
        # IREE gives INT_MIN (signed) or 0xFF..F (unsigned) for NaN, inf and out-of-range values:
        # saturate like XLA and the reference instead (NaN -> 0). A threshold rounded into the source
        # float type splits the values exactly where float64 does (no float lies strictly between).
        a, o = in_avals[0], out_avals[0]
        info = np.iinfo(dtype.np)
        x = args[0]
        hi = ctx.compare("GE", x, ctx.constant(float(info.max), a), a)
        lo = ctx.compare("LE", x, ctx.constant(float(info.min), a), a)
        out = ctx.select(hi, ctx.constant(int(info.max), o), out, o)
        out = ctx.select(lo, ctx.constant(int(info.min), o), out, o)
        out = ctx.select(ctx.compare("NE", x, x, a), ctx.constant(0, o), out, o)
    return [out]


@lowering("bitcast")
def _bitcast(ctx, args, in_avals, out_avals, *, dtype):
    return [ctx.generic("stablehlo.bitcast_convert", args, in_avals, out_avals)]


@lowering("stop_gradient")
def _stop_gradient(ctx, args, in_avals, out_avals):
    return list(args)
