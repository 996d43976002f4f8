"""Elementwise arithmetic, comparisons, logic and unary math with broadcasting and promotion
(PyTorch semantics: integer division and math in float, bool + bool is or)."""
from __future__ import annotations

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.errors import ArgumentError, DomainError, DTypeError, describe
from slope.ops import eager
from slope.ops.promotion import (
    as_array, astype, broadcast_shapes, broadcast_to, check_scalar, float_operands, is_array, operands, zeros_of,
)

__all__ = [
    "add", "sub", "mul", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "atan2", "div",
    "floor_divide", "remainder", "fmod", "pow", "logical_and", "logical_or", "logical_xor", "logical_not",
    "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "rsqrt", "expm1", "log1p", "sigmoid", "erf", "neg",
    "abs", "sign", "floor", "ceil", "round", "clamp", "where", "stop_gradient",
]


def _binary(op, name=None, on_bool=None):
    """A broadcasting, promoting binary op; `on_bool` is the primitive for two bool operands
    (PyTorch: bool + bool is logical or, bool * bool logical and)."""
    name = name or getattr(op, "__name__", "op")

    def f(x, y):
        x, y = operands(name, x, y)
        return (on_bool or op)(x, y) if x.dtype.is_bool else op(x, y)

    return eager.binary(f, name)


def _no_bool_sub(x, y):
    raise DTypeError(f"sub: subtracting bool tensors is not supported ({describe([x.aval, y.aval])}); "
                     "use logical_xor or ~ (as in PyTorch)")


_add = _binary(lax.add, "add", on_bool=lax.or_)


_sub = _binary(lax.sub, "sub", on_bool=_no_bool_sub)


def add(x, y, *, alpha=1):
    """x + alpha * y, broadcasting and promoting (torch.add)."""
    return _add(x, y) if alpha == 1 else _add(x, mul(y, alpha))


def sub(x, y, *, alpha=1):
    """x - alpha * y, broadcasting and promoting (torch.sub)."""
    return _sub(x, y) if alpha == 1 else _sub(x, mul(y, alpha))


mul = _binary(lax.mul, "mul", on_bool=lax.and_)


maximum = _binary(lax.maximum, "maximum")


minimum = _binary(lax.minimum, "minimum")


eq = _binary(lax.eq, "eq")


ne = _binary(lax.ne, "ne")


lt = _binary(lax.lt, "lt")


le = _binary(lax.le, "le")


gt = _binary(lax.gt, "gt")


ge = _binary(lax.ge, "ge")


atan2 = lambda y, x: lax.atan2(*float_operands("atan2", y, x))  # noqa: E731


def div(x, y):
    """True division (integers are promoted to float, like PyTorch)."""
    return lax.div(*float_operands("div", x, y))


div = eager.binary(div, "div")


def floor_divide(x, y):
    x, y = operands("floor_divide", x, y)
    if x.dtype.is_float:
        return lax.floor(lax.div(x, y))
    q = lax.div(x, y)
    fix = lax.and_(lax.ne(lax.rem(x, y), lax.full(shape=x.shape, value=0, dtype=x.dtype)),
                   lax.ne(lax.lt(x, zeros_of(x)), lax.lt(y, zeros_of(y))))
    return lax.select(fix, lax.sub(q, lax.full(shape=q.shape, value=1, dtype=q.dtype)), q)


def remainder(x, y):
    """Python-style modulo: result has the sign of y."""
    x, y = operands("remainder", x, y)
    r = lax.rem(x, y)
    wrong = lax.and_(lax.ne(r, zeros_of(r)), lax.ne(lax.lt(r, zeros_of(r)), lax.lt(y, zeros_of(y))))
    r = lax.select(wrong, lax.add(r, y), r)
    # -2.0 % 2 is 0.0 in Python and PyTorch, not rem's -0.0 (adding +0.0 keeps the tangent; 2.0 % -2 stays +0.0)
    return lax.add(r, zeros_of(r)) if r.dtype.is_float else r


def fmod(x, y):
    return lax.rem(*operands("fmod", x, y))


def pow(x, y):
    """x ** y with broadcasting and promotion. An integer (or bool) tensor to a negative Python int raises
    DomainError, as NumPy does; for an integer *tensor* exponent the value is data: a negative exponent
    gives the integer power of XLA, 1 for a base of 1, +-1 for -1 and 0 for any other base (0 included)."""
    x, y = dt.python_scalar(x), dt.python_scalar(y)
    if (is_array(x) and not x.dtype.is_float and isinstance(y, int) and not isinstance(y, bool) and y < 0):
        raise DomainError(f"pow: Integers to negative integer powers are not allowed ({x.aval.str_short()} ** {y}); "
                          "use a float base, e.g. x.float() ** -1")
    if not is_array(y) and isinstance(y, (int, float)) and is_array(x):
        if y == 2:
            return mul(x, x)
        if isinstance(y, int) and not x.dtype.is_float:
            return lax.pow(*operands("pow", x, y))
    return lax.pow(*float_operands("pow", x, y) if not _int_pow(x, y) else operands("pow", x, y))


def _int_pow(x, y):
    dts = [v.dtype for v in (x, y) if is_array(v)]
    return all(not d.is_float for d in dts) and not any(isinstance(v, float) for v in (x, y))


def _truth(x):
    """x != 0 as bool (torch's logical ops read any dtype that way)."""
    return x if x.dtype.is_bool else lax.ne(x, lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype))


def _logical(name, prim):
    def f(x, y):
        x, y = operands(name, x, y)
        return prim(_truth(x), _truth(y))

    f.__name__ = name
    return f


logical_and = _logical("logical_and", lax.and_)


logical_or = _logical("logical_or", lax.or_)


logical_xor = _logical("logical_xor", lax.xor)


def logical_not(x):
    """x == 0 as bool, for any dtype (torch.logical_not); ~x is the bitwise not (ops.bitwise_not)."""
    x = as_array(x, 'logical_not')
    return lax.not_(_truth(x))


def _unary_float(prim):
    def f(x):
        x = as_array(x, prim.__self__.name)
        if not x.dtype.is_float:
            x = astype(x, dt.default_float)
        return prim(x)

    return eager.unary(f, prim.__self__.name)  # prim is a spec's bound `bind`


exp, log, sin, cos, tan, tanh = map(_unary_float, (lax.exp, lax.log, lax.sin, lax.cos, lax.tan, lax.tanh))


sqrt, rsqrt, expm1, log1p, sigmoid = map(_unary_float, (lax.sqrt, lax.rsqrt, lax.expm1, lax.log1p, lax.logistic))


erf = _unary_float(lax.erf)


def neg(x):
    return lax.neg(as_array(x, 'neg'))


def abs(x):
    """|x|; derivative sign(x), 0 at +-0 (PyTorch's convention; slope.lax.abs gives 1 there, as JAX)."""
    x = as_array(x, 'abs')
    if not x.dtype.is_float:
        return lax.abs(x)
    zero = zeros_of(x)
    return lax.select(lax.ne(x, zero), lax.abs(x), zero)  # (NaN != 0: abs(NaN) is NaN)


neg, abs = eager.unary(neg, "neg"), eager.unary(abs, "abs")


def sign(x):
    return lax.sign(as_array(x, 'sign'))


def _rounding(prim):
    def f(x):
        x = as_array(x, prim.__self__.name)
        return x if not x.dtype.is_float else prim(x)

    return f


floor, ceil, _round = _rounding(lax.floor), _rounding(lax.ceil), _rounding(lax.round)


def round(x, *, decimals=0):
    """Round half to even (torch.round); with decimals, to that many decimal places (negative: tens,
    hundreds...) as torch does: round(x * 10**decimals) / 10**decimals."""
    if decimals == 0:
        return _round(x)
    x = as_array(x, "round")
    if not x.dtype.is_float:
        raise DTypeError(f"round: decimals is only supported for floating-point tensors, got {x.aval.str_short()}")
    decimals = int(decimals)
    scale = 10.0 ** (decimals if decimals > 0 else -decimals)  # (this module's abs is the tensor op)
    if decimals > 0:
        return div(_round(mul(x, scale)), scale)
    return mul(_round(div(x, scale)), scale)


def _extreme_of(x, sign):
    """A tensor like x filled with its dtype's -inf/+inf (or the integer min/max): an absent clamp bound."""
    if x.dtype.is_float:
        value = sign * float("inf")
    else:
        info = np.iinfo(x.dtype.np)
        value = int(info.max if sign > 0 else info.min)
    return lax.full(shape=tuple(x.shape), value=value, dtype=x.dtype)


def clamp(x, min=None, max=None):
    """min(max(x, min), max) with broadcasting and promotion (torch.clamp; min > max gives max). The
    clamp primitive computes it; the derivative is PyTorch's: x's gradient passes where
    min <= x <= max (bounds included), a tensor min's where x < min, a tensor max's where x > max.
    (slope.lax.clamp keeps JAX's rule: nothing passes at the bounds.)"""
    x = as_array(x, 'clamp')
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    for bound in (min, max):
        if bound is not None and not is_array(bound) and not isinstance(bound, np.ndarray):
            check_scalar("clamp", dt.python_scalar(bound))
    given = [b for b in (min, max) if b is not None]
    x, *bounds = operands("clamp", x, *given)
    if x.dtype.is_bool:
        raise DTypeError(f"clamp: expected a numeric tensor, got {x.aval.str_short()}")
    lo = bounds.pop(0) if min is not None else _extreme_of(x, -1)
    hi = bounds.pop(0) if max is not None else _extreme_of(x, 1)
    out = lax.clamp(lo, x, hi)
    if not x.dtype.is_float:
        return out
    return lax.select(lax.and_(lax.ge(x, lo), lax.le(x, hi)), x, out)  # x's tangent at the bounds too


def where(cond, x, y):
    """x where cond is True, else y (broadcasting). cond must be a bool tensor (as in PyTorch): compare
    first, e.g. where(m != 0, x, y); other dtypes raise DTypeError. (slope.where(cond) alone is
    selection.where's.)"""
    if not is_array(cond) and not isinstance(cond, (bool, np.bool_, np.ndarray, list, tuple)):
        raise DTypeError(f"where: condition must be a bool tensor, got {type(cond).__name__} {cond!r:.60}")
    cond = as_array(cond)
    if not cond.dtype.is_bool:
        raise DTypeError(f"where: condition must be a bool tensor, got {cond.aval.str_short()} "
                         "(compare first, e.g. where(c != 0, x, y))")
    x, y = operands("where", x, y)
    shape = broadcast_shapes(cond.shape, x.shape, op="where")
    return lax.select(broadcast_to(cond, shape), broadcast_to(x, shape), broadcast_to(y, shape))


def stop_gradient(x):
    x = as_array(x, 'stop_gradient')
    return lax.stop_gradient(x) if x.dtype.is_float else x
