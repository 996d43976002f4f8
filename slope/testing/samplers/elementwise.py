"""Samplers of the elementwise primitives (slope/primitives/elementwise.py): equally shaped operands."""
from __future__ import annotations

import numpy as np

from slope.core import dtypes as dt
from slope.testing.samplers.base import (
    away_from_integers,
    away_from_zero,
    draw_array,
    draw_shape,
    elementwise,
    sampled,
    register,
    sampler,
    strategies,
)


@sampler("rem")
def _rem_sample(draw, dtype):
    args, params = elementwise(2, fixes=[None, away_from_zero])(draw, dtype)
    x, y = args
    if dtype.is_float:  # keep x/y away from integers: rem jumps there
        q = x.astype(np.float64) / y.astype(np.float64)
        x = np.asarray(away_from_integers(q) * y.astype(np.float64), dtype=x.dtype)
    else:
        y = np.where(y == 0, 1, y).astype(y.dtype)
    return [x, y], params


@sampler("div")
def _div_sample(draw, dtype):
    args, params = elementwise(2, fixes=[None, away_from_zero])(draw, dtype)
    if dtype.is_int:
        args[1] = np.where(args[1] == 0, 1, args[1]).astype(args[1].dtype)
    return args, params


@sampler("maximum", "minimum", "ne", "lt", "le", "gt", "ge")
def _ties_sample(draw, dtype):
    args, params = elementwise(2)(draw, dtype)
    a, b = args
    if dtype.is_float:  # avoid near-ties (FD would straddle the kink) but keep exact ties sometimes
        close = (np.abs(a.astype(np.float64) - b.astype(np.float64)) < 0.1) & (a != b)
        b = np.where(close, a + np.asarray(0.5, a.dtype), b).astype(b.dtype)
    return [a, b], params


@sampler("pow")
def _pow_sample(draw, dtype):
    if dtype.is_int:
        shape = draw_shape(draw)
        return [draw_array(draw, shape, dtype, -4, 4), draw_array(draw, shape, dtype, -3, 4)], {}  # y < 0 too
    return elementwise(2, fixes=[lambda v: np.abs(v) + 0.3, None])(draw, dtype)


@sampler("shift_left", "shift_right_logical", "shift_right_arithmetic")
def _shift_sample(draw, dtype):
    shape = draw_shape(draw)
    info = np.iinfo(dtype.np)
    x = draw_array(draw, shape, dtype, max(info.min, -(2**31)), min(info.max, 2**32 - 1))
    s = draw_array(draw, shape, dtype, 0, dtype.bits + 3)  # includes amounts >= bit width
    return [x, s], {}


@sampler("select")
def _select_sample(draw, dtype):
    shape = draw_shape(draw)
    return [draw_array(draw, shape, dt.bool_), draw_array(draw, shape, dtype), draw_array(draw, shape, dtype)], {}


@sampler("clamp")
def _clamp_sample(draw, dtype):
    shape = draw_shape(draw)
    lo = draw_array(draw, shape, dtype, -2, -0.5)
    hi = draw_array(draw, shape, dtype, 0.5, 2)
    x = draw_array(draw, shape, dtype, -3, 3)
    if dtype.is_float:  # keep x off the clamp edges where the derivative jumps
        xf = x.astype(np.float64)
        near = (np.abs(xf - lo) < 0.05) | (np.abs(xf - hi) < 0.05)
        x = np.where(near, (lo.astype(np.float64) + hi.astype(np.float64)) / 2, xf).astype(dtype.np)
    return [lo, x, hi], {}


_CONVERT_TARGETS = [dt.float32, dt.float64, dt.int32, dt.int64, dt.uint32, dt.bool_]


@sampler("convert")
def _convert_sample(draw, dtype):
    target = draw(strategies().sampled_from(_CONVERT_TARGETS))
    shape = draw_shape(draw)
    if dtype.is_unsigned:
        x = draw_array(draw, shape, dtype, 0, 2**dtype.bits - 1)
    elif dtype.is_int:
        x = draw_array(draw, shape, dtype, -(2**40), 2**40)  # wraps when narrowed
    else:
        x = draw_array(draw, shape, dtype, -5, 5, fix=away_from_integers)
        mode = sampled(draw, ["boundary", "saturate", "in range"]) if target.is_int else "in range"
        if mode == "saturate":  # values outside the target's range saturate
            info = np.iinfo(target.np)
            big = draw_array(draw, shape, dt.float64, 1.5, 3.0) * float(info.max)
            neg = -draw_array(draw, shape, dt.float64, 1.5, 3.0) * max(float(-info.min), 1.0)
            x = np.where(x > 0, big, neg).astype(dtype.np)
        elif mode == "boundary":  # the target's limits: exact 2**31, -2**31 - 1, one step inside, NaN, inf
            info = np.iinfo(target.np)
            edges = np.array([float(info.max) + 1, float(info.min) - 1, float(info.min), float(info.max) - 128,
                              float(info.min) + 128, np.nan, np.inf, -np.inf, 0.5, -0.5], np.float64)
            pick = draw_array(draw, shape, dt.int32, 0, len(edges) - 1)
            x = np.where(draw_array(draw, shape, dt.bool_), edges[pick].astype(dtype.np), x).astype(dtype.np)
    return [x], {"dtype": target}


@sampler("bitcast")
def _bitcast_sample(draw, dtype):
    shape = draw_shape(draw)
    target = {32: [dt.int32, dt.uint32, dt.float32], 64: [dt.int64, dt.float64]}[dtype.bits]
    return [draw_array(draw, shape, dtype)], {"dtype": draw(strategies().sampled_from(target))}


# Primitives whose operands are plain elementwise draws, or a domain: name -> sampler.
_positive = elementwise(1, 0.2, 4.0)
for _name, _sampler in {
    **dict.fromkeys(("neg", "exp", "sin", "cos", "tanh", "logistic", "sign", "expm1", "erf", "not", "stop_gradient"),
                    elementwise(1)),
    **dict.fromkeys(("add", "sub", "mul", "eq", "and", "or", "xor"), elementwise(2)),
    "log": _positive, "sqrt": _positive, "rsqrt": _positive,
    "tan": elementwise(1, -1.2, 1.2),
    "abs": elementwise(1, fix=away_from_zero, int_range=(-20, 20)),
    "floor": elementwise(1, fix=away_from_integers),
    "ceil": elementwise(1, fix=away_from_integers),
    "round": elementwise(1, fix=lambda v: away_from_integers(v - 0.5) + 0.0),
    "log1p": elementwise(1, -0.8, 4.0),
    "atan2": elementwise(2, fixes=[away_from_zero, away_from_zero]),
}.items():
    register(_name, _sampler)
