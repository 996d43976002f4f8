"""NumPy oracles for elementwise primitives (StableHLO semantics).

Every function keeps the input dtype (comparisons return bool); narrow
floats are computed in float32 and rounded once, and float64 inputs are
computed in float64 so finite-difference checks can use the same oracle.
"""
import math

import numpy as np

from ._common import as_dtype, is_float, is_int, wide

__all__ = [
    "neg", "exp", "log", "sin", "cos", "tan", "tanh", "logistic", "sqrt", "rsqrt",
    "abs", "sign", "floor", "ceil", "round", "expm1", "log1p", "erf", "not_",
    "convert", "bitcast", "stop_gradient",
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "rem", "atan2",
    "eq", "ne", "lt", "le", "gt", "ge", "and_", "or_", "xor",
    "shift_left", "shift_right_logical", "shift_right_arithmetic",
    "select", "clamp",
]


def _unary(name, fn):
    """Wrap fn(x) so it computes in the wide dtype and returns x's dtype."""
    def op(x):
        x = np.asarray(x)
        with np.errstate(all="ignore"):
            return as_dtype(fn(x.astype(wide(x.dtype), copy=False)), x.dtype)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}; output dtype == input dtype."
    return op


def _binary(name, fn, out_dtype=None):
    """Wrap fn(x, y) (same-dtype inputs); result is x's dtype or out_dtype."""
    def op(x, y):
        x, y = np.asarray(x), np.asarray(y)
        w = wide(x.dtype)
        with np.errstate(all="ignore"):
            r = fn(x.astype(w, copy=False), y.astype(w, copy=False))
        return as_dtype(r, out_dtype or x.dtype)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}" + (f" -> {np.dtype(out_dtype)}." if out_dtype else "; output dtype == input dtype.")
    return op


def _int_or_float(int_fn, float_fn):
    """Dispatch on the (already widened) dtype."""
    return lambda *a: float_fn(*a) if is_float(a[0].dtype) else int_fn(*a)


def _logistic(x):
    # exp(-|x|) never overflows; pick the algebraically equal form per sign.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_erf_vec = np.vectorize(math.erf, otypes=[np.float64])


def _identity(x):
    return x


# ---- unary -----------------------------------------------------------------
neg = _unary("neg", np.negative)
exp = _unary("exp", np.exp)
log = _unary("log", np.log)
sin = _unary("sin", np.sin)
cos = _unary("cos", np.cos)
tan = _unary("tan", np.tan)
tanh = _unary("tanh", np.tanh)
logistic = _unary("logistic", _logistic)
sqrt = _unary("sqrt", np.sqrt)
rsqrt = _unary("rsqrt", lambda x: 1 / np.sqrt(x))
abs = _unary("abs", np.abs)
sign = _unary("sign", np.sign)
floor = _unary("floor", _int_or_float(_identity, np.floor))
ceil = _unary("ceil", _int_or_float(_identity, np.ceil))
round = _unary("round", _int_or_float(_identity, np.round))  # half to even
expm1 = _unary("expm1", np.expm1)
log1p = _unary("log1p", np.log1p)
erf = _unary("erf", lambda x: _erf_vec(x.astype(np.float64)) if x.size else x)
not_ = _unary("not_", lambda x: np.logical_not(x) if x.dtype == np.bool_ else np.invert(x))


def stop_gradient(x):
    """Identity: stop_gradient only matters to autodiff."""
    return np.array(x, copy=True)


def convert(x, *, dtype):
    """Element type conversion.

    float->int truncates toward zero and saturates (NaN -> 0, +-inf/out of
    range -> int max/min), matching XLA's behaviour instead of NumPy's UB;
    anything->bool is x != 0.
    """
    x, dtype = np.asarray(x), np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(x != 0)
    if is_float(x.dtype) and is_int(dtype):
        info = np.iinfo(dtype)
        with np.errstate(all="ignore"):
            t = np.trunc(x.astype(np.float64))
            t = np.where(np.isnan(t), 0, t)
            hi = t >= float(info.max)  # float(max) rounds up for 64-bit: treat as overflow
            lo = t <= float(info.min)
            safe = np.where(hi | lo, 0, t).astype(dtype)
        return np.asarray(np.where(hi, info.max, np.where(lo, info.min, safe)).astype(dtype))
    return as_dtype(x, dtype)


def bitcast(x, *, dtype):
    """Reinterpret the bits as dtype; only equal bit widths are supported."""
    x, dtype = np.asarray(x), np.dtype(dtype)
    if x.dtype.itemsize != dtype.itemsize:
        raise ValueError(f"bitcast {x.dtype}->{dtype}: bit widths differ")
    return np.array(x, copy=True, order="C").view(dtype).reshape(x.shape)


# ---- binary ----------------------------------------------------------------
def _int_div(x, y):
    # C truncating division; XLA defines x/0 = -1 (all ones), INT_MIN/-1 = INT_MIN.
    zero = y == 0
    y1 = np.where(zero, 1, y).astype(y.dtype)
    q = (x - np.fmod(x, y1)) // y1  # exact division of a multiple of y1
    return np.where(zero, np.array(-1).astype(x.dtype), q)


def _int_rem(x, y):
    # C fmod: sign of the dividend; XLA defines x % 0 = x.
    zero = y == 0
    return np.where(zero, x, np.fmod(x, np.where(zero, 1, y).astype(y.dtype)))


def _int_pow(x, y):
    # Negative exponents: 1**n = 1, (-1)**n = +-1, anything else truncates to 0.
    neg_e = y < 0 if y.dtype.kind == "i" else np.zeros(y.shape, bool)
    r = np.power(x, np.where(neg_e, 0, y).astype(y.dtype))
    if x.dtype.kind == "i":
        odd = (y & 1) == 1
        neg_r = np.where(x == 1, 1, np.where(x == -1, np.where(odd, -1, 1), 0))
        r = np.where(neg_e, neg_r.astype(x.dtype), r)
    return r


add = _binary("add", np.add)
sub = _binary("sub", np.subtract)
mul = _binary("mul", np.multiply)
div = _binary("div", _int_or_float(_int_div, np.true_divide))
pow = _binary("pow", _int_or_float(_int_pow, np.power))
maximum = _binary("maximum", np.maximum)  # NaN-propagating, like XLA
minimum = _binary("minimum", np.minimum)
rem = _binary("rem", _int_or_float(_int_rem, np.fmod))
atan2 = _binary("atan2", np.arctan2)
eq = _binary("eq", np.equal, np.bool_)
ne = _binary("ne", np.not_equal, np.bool_)
lt = _binary("lt", np.less, np.bool_)
le = _binary("le", np.less_equal, np.bool_)
gt = _binary("gt", np.greater, np.bool_)
ge = _binary("ge", np.greater_equal, np.bool_)
and_ = _binary("and_", np.bitwise_and)  # logical on bool
or_ = _binary("or_", np.bitwise_or)
xor = _binary("xor", np.bitwise_xor)


def _shift(name, kind):
    """StableHLO shifts: the amount is read as unsigned; >= bit width saturates."""
    def op(x, y):
        x, y = np.asarray(x), np.asarray(y)
        bits = 8 * x.dtype.itemsize
        u, s = np.dtype(f"uint{bits}"), np.dtype(f"int{bits}")
        amount = y.astype(u)  # negative amounts become huge
        big = amount >= bits
        amount = np.where(big, 0, amount).astype(u)
        if kind == "left":
            r = np.where(big, 0, np.left_shift(x.astype(u), amount)).astype(u)
        elif kind == "logical":
            r = np.where(big, 0, np.right_shift(x.astype(u), amount)).astype(u)
        else:
            xs = x.astype(s)
            fill = np.where(xs < 0, -1, 0).astype(s)
            r = np.where(big, fill, np.right_shift(xs, amount.astype(s))).astype(s)
        return as_dtype(r, x.dtype)  # same-width int casts are bit-preserving
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{name} with StableHLO out-of-range rules."
    return op


shift_left = _shift("shift_left", "left")
shift_right_logical = _shift("shift_right_logical", "logical")
shift_right_arithmetic = _shift("shift_right_arithmetic", "arithmetic")


# ---- ternary ---------------------------------------------------------------
def select(pred, on_true, on_false):
    """pred ? on_true : on_false, elementwise."""
    on_true = np.asarray(on_true)
    return as_dtype(np.where(np.asarray(pred, dtype=bool), on_true, on_false), on_true.dtype)


def clamp(lo, x, hi):
    """minimum(maximum(x, lo), hi) (NaN-propagating)."""
    return minimum(maximum(x, lo), hi)
