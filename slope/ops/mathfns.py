"""PyTorch's elementwise math beyond the primitives, as composites chosen for accuracy: erfinv,
trunc/frac, reciprocal, log2/log10/exp2, hyperbolic and inverse trigonometric functions, hypot,
lerp, addcmul/addcdiv, logaddexp, xlogy, clamp_min/clamp_max; count_nonzero, logcumsumexp."""
from __future__ import annotations

import math

from slope import lax
from slope.core import dtypes as dt
from slope.errors import DTypeError
from slope.ops.arithmetic import (
    abs,
    add,
    atan2,
    ceil,
    clamp,
    div,
    erf,
    exp,
    expm1,
    floor,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    sign,
    sqrt,
    sub,
    where,
)
from slope.ops.promotion import as_array, astype, float_operands, normalize_dim
from slope.ops.reductions import logsumexp
from slope.ops.reductions import sum as _sum
from slope.ops.reductions import _finite_max, cumsum

__all__ = [
    "acos", "acosh", "addcdiv", "addcmul", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "asin", "asinh", "atan", "atanh", "clamp_max", "clamp_min", "clip", "cosh", "count_nonzero",
    "erfinv", "exp2", "fix", "frac", "hypot", "lerp", "log2", "log10", "logaddexp", "logcumsumexp", "negative",
    "reciprocal", "sgn", "sinh", "square", "trunc", "xlogy",
]


def _float(op, x):
    x = as_array(x, op)
    return x if x.dtype.is_float else astype(x, dt.default_float)


def _c(x, v):
    return lax.full(shape=tuple(x.shape), value=v, dtype=x.dtype)


def trunc(x):
    """Round toward zero (integers unchanged)."""
    x = as_array(x, "trunc")
    if not x.dtype.is_float:
        return x
    return where(lax.lt(x, _c(x, 0)), ceil(x), floor(x))


fix = trunc


def frac(x):
    """x - trunc(x), with x's sign."""
    x = as_array(x, "frac")
    if not x.dtype.is_float:
        raise DTypeError(f"frac: expects a floating-point tensor, got {x.aval.str_short()}")
    return sub(x, trunc(x))


def reciprocal(x):
    x = _float("reciprocal", x)
    return div(_c(x, 1), x)


def log2(x):
    x = _float("log2", x)
    return mul(log(x), 1 / math.log(2))


def log10(x):
    x = _float("log10", x)
    return mul(log(x), 1 / math.log(10))


def exp2(x):
    x = _float("exp2", x)
    return exp(mul(x, math.log(2)))


def sinh(x):
    """sinh via expm1 of |x|: accurate near 0, one exponential."""
    x = _float("sinh", x)
    u = expm1(abs(x))
    return mul(sign(x), mul(add(u, div(u, add(u, 1))), 0.5))


def cosh(x):
    x = _float("cosh", x)
    a = abs(x)
    return add(mul(exp(a), 0.5), mul(exp(lax.neg(a)), 0.5))


def _one_minus_sq(x):
    return mul(sub(_c(x, 1), x), add(_c(x, 1), x))  # (1 - x)(1 + x): exact near |x| = 1


def asin(x):
    x = _float("asin", x)
    return atan2(x, sqrt(_one_minus_sq(x)))


def acos(x):
    x = _float("acos", x)
    return atan2(sqrt(_one_minus_sq(x)), x)


def atan(x):
    x = _float("atan", x)
    return atan2(x, _c(x, 1))


def asinh(x):
    """sign(x) * log1p(|x| + x^2 / (1 + sqrt(1 + x^2))), log(2|x|) where x^2 would overflow."""
    x = _float("asinh", x)
    a = abs(x)
    big = lax.gt(a, _c(a, 1e10))
    sa = where(big, _c(a, 1), a)
    small = log1p(add(sa, div(mul(sa, sa), add(sqrt(add(mul(sa, sa), 1)), 1))))
    return mul(sign(x), where(big, add(log(a), math.log(2)), small))


def acosh(x):
    """log1p(t + sqrt(2t + t^2)) with t = x - 1; log(2x) for huge x; NaN below 1."""
    x = _float("acosh", x)
    big = lax.gt(x, _c(x, 1e10))
    t = sub(where(big, _c(x, 2), x), 1)
    return where(big, add(log(x), math.log(2)), log1p(add(t, sqrt(add(mul(t, 2), mul(t, t))))))


def atanh(x):
    x = _float("atanh", x)
    return mul(log1p(div(mul(x, 2), sub(_c(x, 1), x))), 0.5)


arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2 = asin, acos, atan, asinh, acosh, atanh, atan2


# Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): single-precision polynomials
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
               0.00943887047, 1.00167406, 2.83297682)


def _horner(coeffs, w):
    p = _c(w, coeffs[0])
    for c in coeffs[1:]:
        p = add(mul(p, w), c)
    return p


def erfinv(x):
    """Inverse error function on (-1, 1): +-inf at +-1, NaN outside. Giles' polynomial, refined by Newton
    steps on erf (two in float64; one in float32 for |x| < 0.9966, where erf is fine enough), so the
    derivative is sqrt(pi)/2 * exp(erfinv(x)^2) up to the residual of the last step."""
    x = _float("erfinv", x)
    one = _c(x, 1)
    inside = lax.lt(abs(x), one)
    xs = where(inside, x, _c(x, 0))
    w = lax.neg(log(_one_minus_sq(xs)))
    central = lax.lt(w, _c(w, 5))
    wc = sub(where(central, w, _c(w, 2.5)), 2.5)
    wt = sub(sqrt(where(central, _c(w, 9), w)), 3)
    y = mul(where(central, _horner(_GILES_CENTRAL, wc), _horner(_GILES_TAIL, wt)), xs)
    half_sqrt_pi = math.sqrt(math.pi) / 2
    for _ in range(2 if x.dtype.bits == 64 else 1):
        step = sub(y, mul(mul(sub(erf(y), xs), half_sqrt_pi), exp(mul(y, y))))
        # in float32 erf(y) near +-1 is too coarse for a Newton step: keep the polynomial in the tails
        y = step if x.dtype.bits == 64 else where(central, step, y)
    edge = where(lax.eq(abs(x), one), mul(sign(x), float("inf")), _c(x, float("nan")))
    return where(inside, y, edge)


def hypot(x, y):
    """sqrt(x^2 + y^2) without overflow or underflow in the squares."""
    x, y = float_operands("hypot", x, y)
    ax, ay = abs(x), abs(y)
    m, n = maximum(ax, ay), minimum(ax, ay)
    zero = lax.eq(m, _c(m, 0))
    safe = where(zero, _c(m, 1), m)
    r = div(n, safe)
    out = mul(safe, sqrt(add(mul(r, r), 1)))
    inf = lax.or_(lax.eq(ax, _c(ax, float("inf"))), lax.eq(ay, _c(ay, float("inf"))))
    return where(inf, _c(m, float("inf")), where(zero, _c(m, 0), out))


def lerp(input, end, weight):
    """input + weight * (end - input), computed as end - (end - input) * (1 - weight) for weight >= 0.5
    (torch's formula: exact at weight 0 and 1)."""
    input, end, weight = float_operands("lerp", input, end, weight)
    d = sub(end, input)
    return where(lax.lt(abs(weight), _c(weight, 0.5)), add(input, mul(weight, d)), sub(end, mul(d, sub(1, weight))))


def addcmul(input, tensor1, tensor2, *, value=1):
    return add(input, mul(mul(tensor1, tensor2), value) if value != 1 else mul(tensor1, tensor2))


def addcdiv(input, tensor1, tensor2, *, value=1):
    q = div(tensor1, tensor2)
    return add(input, mul(q, value) if value != 1 else q)


def logaddexp(x, y):
    """log(exp(x) + exp(y)) = max + log1p(exp(min - max)); equal infinities give that infinity. At a tie
    the gradient splits 1/2 - 1/2 (maximum's and minimum's rules)."""
    x, y = float_operands("logaddexp", x, y)
    m, n = maximum(x, y), minimum(x, y)
    inf = lax.eq(abs(m), _c(m, float("inf")))
    d = sub(n, where(inf, _c(m, 0), m))
    return where(inf, m, add(m, log1p(exp(d))))


def xlogy(x, y):
    """x * log(y), 0 where x == 0 (unless y is NaN); differentiable without NaN at x == y == 0."""
    x, y = float_operands("xlogy", x, y)
    zero = lax.and_(lax.eq(x, _c(x, 0)), lax.eq(y, y))
    return where(zero, _c(x, 0), mul(x, log(where(zero, _c(y, 1), y))))


def clamp_min(x, min):
    return clamp(x, min=min)


def clamp_max(x, max):
    return clamp(x, max=max)


clip = clamp


def sgn(x):
    """sign(x) for real tensors (torch.sgn)."""
    return sign(x)


def square(x):
    x = as_array(x, "square")
    return mul(x, x)


def negative(x):
    return lax.neg(as_array(x, "negative"))


def count_nonzero(x, dim=None):
    """Number of nonzero entries over dim (all when None), as an integer tensor."""
    x = as_array(x, "count_nonzero")
    nz = lax.ne(x, lax.full(shape=tuple(x.shape), value=False if x.dtype.is_bool else 0, dtype=x.dtype))
    return _sum(astype(nz, dt.default_int), dim)


def logcumsumexp(x, dim):
    """log(cumsum(exp(x))) along dim, each prefix computed as a stable logsumexp of the entries up to it
    (memory n^2 along dim for n <= 1024; longer dims shift by the dim's max instead, so a prefix more than
    ~87 (float32) below that max underflows to -inf)."""
    x = _float("logcumsumexp", x)
    if x.ndim == 0:
        normalize_dim("logcumsumexp", dim, 0)
        return x
    d = normalize_dim("logcumsumexp", dim, x.ndim)
    n = x.shape[d]
    if n > 1024:
        m = _finite_max(x, (d,))
        return add(log(cumsum(exp(sub(x, m)), d)), m)
    shape = tuple(x.shape[:d + 1]) + (n,) + tuple(x.shape[d + 1:])  # [..., j, i, ...]: entry j of prefix i
    xj = lax.broadcast_in_dim(x, shape=shape, broadcast_dimensions=tuple(i if i <= d else i + 1 for i in range(x.ndim)))
    j = lax.iota(shape=shape, dimension=d, dtype=dt.int32)
    i = lax.iota(shape=shape, dimension=d + 1, dtype=dt.int32)
    masked = where(lax.le(j, i), xj, lax.full(shape=shape, value=float("-inf"), dtype=x.dtype))
    return logsumexp(masked, d)
