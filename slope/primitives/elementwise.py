"""Elementwise primitives: unary math, binary arithmetic, comparisons, bitwise ops, select, clamp, convert.

Operands of one primitive have equal shapes (broadcasting happens in slope.ops, above the
primitives). Derivatives at non-differentiable points follow JAX (jax/_src/lax/lax.py):
  abs'(0) = abs'(-0) = 1 (JAX selects on x >= 0; PyTorch would give 0)
  maximum/minimum: exact ties split the tangent 1/2 - 1/2 (so maximum(x, 0) at 0 gives 1/2; slope.ops.relu
    is a select on x > 0 and gives relu'(0) = 0, like jax.nn.relu)
  floor/ceil/round/sign: zero derivative everywhere (also at the jumps)
  clamp: the tangent of x strictly inside (lo, hi), of lo strictly below, of hi strictly above; 0 at the bounds
  pow: d/dx is 0 where y == 0; d/dy is 0 where x <= 0 (see _pow_deriv)
  rem: d/dx = 1, d/dy = -trunc(x/y) (the jump points have FD-undefined derivatives)
"""
from __future__ import annotations

import inspect

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.core.program import UndefPrimal
from slope.errors import DTypeError, ShapeError, describe
from slope.primitives.rules import (
    check_same,
    vmap_elementwise,
    vmap_same_dims,
    zeros_like,
)
from slope.primitives.spec import REGISTRY, ErrorInput, Spec, register
from slope.primitives.verify import Exempt, Verify


def _const_like(x, v):
    """A constant with x's shape and dtype (rules build their coefficients with it)."""
    return lax.full(shape=tuple(x.shape), value=v, dtype=x.dtype)


def _is_undef(x):
    return isinstance(x, UndefPrimal)


FLOAT = ("float32", "float64")
INTS = ("int32",)
SIGNED = ("int32", "int64")
NUMS = FLOAT + SIGNED + ("uint32",)  # uint32: the PRNG's arithmetic (threefry) is unsigned
BITS = ("bool",) + SIGNED + ("uint32",)
KIND_OK = {
    "float": (lambda d: d.is_float, "a floating-point"),
    "numeric": (lambda d: not d.is_bool, "a numeric"),
    "signed": (lambda d: d.is_float or (d.is_int and not d.is_unsigned), "a floating-point or signed integer"),
    "int": (lambda d: d.is_int, "an integer"),
    "intbool": (lambda d: d.is_int or d.is_bool, "an integer or bool"),
    "any": (lambda d: True, "any"),
}


def _shape_rule(name, arity, kind, out_dtype=None):
    ok, what = KIND_OK[kind]

    def rule(*avals, **params):
        check_same(name, avals)
        if not ok(avals[0].dtype):
            raise DTypeError(f"{name}: expected {what} dtype, got {describe(avals)}")
        return [Aval(avals[0].shape, out_dtype or avals[0].dtype)]

    # the operands it takes, for signatures (slope/lax.pyi): x, or x and y
    rule.__signature__ = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY)
                                            for n in ("x", "y")[:arity]])
    return rule


def _register_elementwise(name, arity, kind, deriv, *, linear=None, out_dtype=None,
                          dtypes=FLOAT, ref_name=None, doc="", exempt=None, on_derivative_kink=None,
                          kink_derivative=None, edge_cases=None):
    """Make and register the Spec of an elementwise primitive from a table row."""
    ref_fn = getattr(ref, ref_name or name)
    exempt = dict(exempt or {})
    if linear is None:
        exempt.setdefault("transpose", Exempt.NOT_LINEAR)
    if deriv is None:
        exempt.setdefault("grad", Exempt.ZERO_DERIVATIVE)

    def jvp(primals, tangents):
        out = REGISTRY[name].bind(*primals)
        if deriv is None:
            return [out], [zeros_like(out)]
        terms = deriv(*primals, out, *tangents)
        return [out], [terms]

    spec = Spec(
        name=name,
        abstract_eval=_shape_rule(name, arity, kind, out_dtype),
        reference=ref_fn,
        jvp=jvp,
        transpose=linear,
        vmap=vmap_elementwise(name),
        doc=doc,
        error_inputs=_default_errors(name, arity, kind, dtypes),
        verify=Verify(dtypes=dtypes, exempt=exempt, on_derivative_kink=on_derivative_kink,
                      kink_derivative=kink_derivative, edge_cases=edge_cases or _EDGE_CASES.get(name)),
    )
    return register(spec)


def _short(np_dtype):
    return dt.dtype(np_dtype).short


def _default_errors(name, arity, kind, dtypes):
    """Every elementwise op must reject mismatched shapes and operands of a dtype it does not take."""
    good = dt.dtype(dtypes[0]).np
    wrong = {"float": [np.bool_, np.int32], "numeric": [np.bool_], "signed": [np.bool_, np.uint32],
             "intbool": [np.float32], "int": [np.float32, np.bool_]}.get(kind, [])

    def errors():
        out = []
        if arity > 1:
            out.append(_bad([np.ones(2, good)] + [np.ones(3, good)] * (arity - 1),
                            f"{name}: operands must have equal shapes", error=ShapeError))
            out.append(_bad([np.ones(2, good)] + [np.ones(2, np.float64 if good != np.float64 else np.float32)] * (arity - 1),
                            f"{name}: operands must have equal dtypes"))
        for w in wrong:
            out.append(_bad([np.ones(2, w)] * arity, f"{name}: expected {KIND_OK[kind][1]} dtype, got {_short(w)}\\[2\\]"))
        return out

    return errors


# ---------------------------------------------------------------- edge cases (checked in every column)
def _special(dtype):
    """Boundary values of a dtype: signed zeros, halves, infinities and NaN (floats); 0, +-1 and the
    extremes (integers); 0, 1, 2**31 and the maximum (unsigned)."""
    d = dt.dtype(dtype)
    if d.is_float:
        return np.array([0.0, -0.0, 0.5, -0.5, 1.5, -2.5, 2.5, 1.0, -3.0, np.inf, -np.inf, np.nan], d.np)
    if d.is_bool:
        return np.array([False, True])
    info = np.iinfo(d.np)
    vals = [0, 1, 2**31, info.max] if d.is_unsigned else [0, 1, -1, 7, info.min, info.max]
    return np.array(vals, d.np)


def _finite(v):
    return v[np.isfinite(v)] if v.dtype.kind == "f" else v


def _unary_edges(dtype):
    """The special values (0-d and as a vector), and the finite ones alone (which the derivative
    columns take: they skip inputs with a NaN or infinity)."""
    v = _special(dtype)
    return [([v], {}), ([_finite(v)], {}), ([v[:1].reshape(())], {})]


def _pairs(dtype):
    """(x, y) rows over the special values: every pair of the first few, ties included."""
    v = _special(dtype)[:8]
    x, y = np.meshgrid(v, v, indexing="ij")
    return x.reshape(-1), y.reshape(-1)


def _binary_edges(dtype):
    x, y = _pairs(dtype)
    return [([x, y], {})]


def _div_edges(dtype):
    d = dt.dtype(dtype)
    x, y = _pairs(dtype)
    if d.is_float:  # x / +-0 = +-inf or NaN
        return [([x, y], {}), ([np.array([1, -1, 0, 2.5], d.np), np.array([0.0, -0.0, 0.0, -0.0], d.np)], {})]
    info = np.iinfo(d.np)
    if d.is_unsigned:
        return [([x, y], {})]
    # x / 0 = -1, INT_MIN / -1 = INT_MIN (overflow), truncation toward 0 for negative quotients
    return [([x, y], {}), ([np.array([info.min, 7, -7, 0, info.max], d.np), np.array([-1, 0, 2, 0, -1], d.np)], {})]


def _rem_edges(dtype):
    d = dt.dtype(dtype)
    if d.is_float:  # the sign of x, x % +-0 = NaN, inf % y = NaN, x % inf = x
        x = np.array([5.5, -5.5, 5.5, -5.5, 1.0, np.inf, 2.0, 0.0, -0.0], d.np)
        y = np.array([2.0, 2.0, -2.0, -2.0, 0.0, 2.0, np.inf, 3.0, 3.0], d.np)
        return [([x, y], {})]
    if d.is_unsigned:
        return [([np.array([7, 2**31, 2**32 - 1, 5], d.np), np.array([0, 3, 2**31, 5], d.np)], {})]
    return [([np.array([7, -7, 7, -7, 5, np.iinfo(d.np).min], d.np),
              np.array([2, 2, -2, -2, 0, 3], d.np)], {})]


def _abs_kink(x):
    return bool(np.any(np.asarray(x) == 0))


def _abs_kink_derivative(args, ts):
    (x,), (t,) = args, ts
    return [np.where(np.asarray(x) >= 0, t, -t)]  # abs'(+-0) = 1, as JAX


def _extreme_kink_derivative(name):
    def deriv(args, ts):
        x, y = (np.asarray(a, np.float64) for a in args)
        tx, ty = ts
        wins = x > y if name == "maximum" else x < y
        return [np.where(x == y, (tx + ty) / 2, np.where(wins, tx, ty))]  # ties split 1/2 - 1/2

    return deriv


def _extreme_edges(dtype):
    d = dt.dtype(dtype)
    out = _binary_edges(dtype)
    if d.is_float:  # relu(x) = maximum(x, 0) at 0: a tie, derivative 1/2; ties of equal finite values
        out.append(([np.array([-1.0, 0.0, 2.0, -0.0], d.np), np.zeros(4, d.np)], {}))
        out.append(([np.array([[1.5, -2.0], [3.0, 0.25]], d.np), np.array([[1.5, -2.0], [-1.0, 0.25]], d.np)], {}))
    return out


def _pow_edges(dtype):
    """Integers: negative exponents (1**n = 1, (-1)**n = +-1, else 0), 0**0 = 1. Floats: 0**0 = 1,
    0**-1 = inf, negative bases with integer and non-integer exponents; a finite set for the derivatives."""
    d = dt.dtype(dtype)
    if d.is_int:
        return [([np.array([2, -2, 1, -1, -1, 0, 3, 0, -3], d.np), np.array([-1, -2, -3, -4, -3, 0, 0, 2, 3], d.np)], {})]
    x = np.array([0.0, 0.0, -2.0, -2.0, 2.0, 1.0, -1.0, 0.5, -0.0], d.np)
    y = np.array([0.0, -1.0, 3.0, 0.5, 0.0, 7.5, 2.0, -2.0, 3.0], d.np)
    return [([x, y], {}), ([np.array([2.0, 0.5, 1.5, 0.0], d.np), np.array([0.0, -2.0, 2.5, 2.0], d.np)], {})]


_EDGE_CASES = {
    **dict.fromkeys(("abs", "sign", "floor", "ceil", "round", "neg", "not"), _unary_edges),
    **dict.fromkeys(("add", "sub", "mul", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor"), _binary_edges),
    "div": _div_edges, "rem": _rem_edges, "pow": _pow_edges,
    "maximum": _extreme_edges, "minimum": _extreme_edges,
}


# ---------------------------------------------------------------- unary math
_UNARY = [
    # name, derivative(x, y, t) -> tangent, extra
    ("neg", lambda x, y, t: lax.neg(t), dict(kind="numeric", dtypes=FLOAT + SIGNED,
                                                              linear=lambda cts, x: [lax.neg(cts[0])], doc="-x (integers wrap: -INT_MIN = INT_MIN)")),
    ("exp", lambda x, y, t: lax.mul(t, y), dict(doc="e**x (f32 results below 1.2e-38 flush to 0 on IREE)")),
    ("log", lambda x, y, t: lax.div(t, x), dict(doc="natural logarithm: log(0) = -inf, log(x < 0) = NaN")),
    ("sin", lambda x, y, t: lax.mul(t, lax.cos(x)), dict(doc="sine (radians)")),
    ("cos", lambda x, y, t: lax.neg(lax.mul(t, lax.sin(x))), dict(doc="cosine (radians)")),
    ("tan", lambda x, y, t: lax.mul(t, lax.add(_const_like(y, 1), lax.mul(y, y))),
     dict(doc="tangent (radians)")),
    ("tanh", lambda x, y, t: lax.mul(t, lax.sub(_const_like(y, 1), lax.mul(y, y))), dict(doc="hyperbolic tangent")),
    ("logistic", lambda x, y, t: lax.mul(t, lax.mul(y, lax.sub(_const_like(y, 1), y))),
     dict(doc="sigmoid 1 / (1 + e**-x)")),
    ("sqrt", lambda x, y, t: lax.div(t, lax.mul(_const_like(y, 2), y)), dict(doc="square root: sqrt(-0) = -0, sqrt(x < 0) = NaN")),
    ("rsqrt", lambda x, y, t: lax.mul(t, lax.div(lax.mul(_const_like(y, -0.5), y), x)),
     dict(doc="1 / sqrt(x): rsqrt(0) = inf, rsqrt(x < 0) = NaN")),
    ("abs", lambda x, y, t: lax.select(lax.ge(x, _const_like(x, 0)), t, lax.neg(t)),
     dict(kind="signed", dtypes=FLOAT + SIGNED, on_derivative_kink=_abs_kink, kink_derivative=_abs_kink_derivative,
          doc="|x| (abs(INT_MIN) = INT_MIN); derivative sign(x) except abs'(+-0) = 1, as JAX")),
    ("sign", None, dict(kind="signed", dtypes=FLOAT + SIGNED, doc="-1, 0 or 1 (sign(-0.0) = -0.0, NaN stays NaN); zero derivative")),
    ("floor", None, dict(doc="round toward -inf; zero derivative (also at the jumps)")),
    ("ceil", None, dict(doc="round toward +inf; zero derivative (also at the jumps)")),
    ("round", None,
     dict(doc="round to nearest, ties to even (2.5 -> 2, -0.5 -> -0); zero derivative")),
    ("expm1", lambda x, y, t: lax.mul(t, lax.add(y, _const_like(y, 1))),
     dict(doc="e**x - 1, accurate for tiny x (f64 via Kahan's rewrite: IREE's is naive)")),
    ("log1p", lambda x, y, t: lax.div(t, lax.add(x, _const_like(x, 1))),
     dict(doc="log(1 + x), accurate for tiny x (f64 via Goldberg's rewrite: IREE's is naive)")),
    ("erf", lambda x, y, t: lax.mul(t, lax.mul(_const_like(x, 2 / np.sqrt(np.pi)), lax.exp(lax.neg(lax.mul(x, x))))),
     dict(doc="error function 2/sqrt(pi) * integral from 0 to x of e**-t**2 dt")),
    ("not", None, dict(kind="intbool", dtypes=BITS, ref_name="not_",
                                        doc="logical not (bool) / bitwise not (integers)")),
]
for _name, _deriv, _extra in _UNARY:
    _extra = dict(_extra)
    _kind = _extra.pop("kind", "float")
    _register_elementwise(_name, 1, _kind, _deriv, **_extra)


# ---------------------------------------------------------------- binary arithmetic
def _mul_transpose(cts, x, y):
    ct = cts[0]
    return [lax.mul(ct, y) if _is_undef(x) else None, lax.mul(x, ct) if _is_undef(y) else None]


def _div_transpose(cts, x, y):
    assert not _is_undef(y), "div is linear only in its numerator"
    return [lax.div(cts[0], y), None]


def _max_deriv(x, y, out, tx, ty):
    """maximum/minimum (JAX's rule): an operand equal to the result gets the tangent, exact ties split it
    equally (so maximum(x, 0) has derivative 1/2 at x == 0; relu in slope.ops uses a select and gives 0).
    Where the result is NaN neither operand equals it and the tangent is 0."""
    zero, one, half = _const_like(x, 0), _const_like(x, 1), _const_like(x, 0.5)
    x_hit, y_hit = lax.eq(x, out), lax.eq(y, out)
    wx = lax.select(x_hit, lax.select(y_hit, half, one), zero)
    wy = lax.select(y_hit, lax.select(x_hit, half, one), zero)
    return lax.add(lax.mul(tx, wx), lax.mul(ty, wy))


def _pow_deriv(x, y, out, tx, ty):
    """d/dx = y * x**(y-1) and d/dy = x**y * log(x), shaped so that no NaN/inf coefficient ever meets a
    zero tangent (slope has no symbolic zeros: a constant exponent still carries a zero tangent, and
    0 * log(-2) = NaN would poison first and second derivatives of x**3 at negative x).

    * d/dx = y * x**e with e = y - 1, except e = 1 at x == y == 0 (JAX guards every y == 0, which also
      zeroes the mixed second derivative d/dy d/dx = 1/x there): 0 * 0**-1 would be 0 * inf = NaN.
    * d/dy is x**y * log(x) where x > 0 and 0 where x <= 0. At x == 0 this is JAX's value (it uses
      log(1) there); for x < 0, x**y is not differentiable in y (it is real only at integer y) and JAX
      returns NaN when the exponent is really differentiated, but only skips the term for symbolically
      zero tangents. The coefficient is computed from a safe base (1 where x <= 0: the "double where"),
      so neither its forward value nor its derivatives nor a reverse-mode zero cotangent produce NaN.
    Integer pow is piecewise constant: zero tangent.
    """
    if not x.dtype.is_float:
        return zeros_like(out)
    one = _const_like(y, 1)
    both_0 = lax.and_(lax.eq(y, _const_like(y, 0)), lax.eq(x, _const_like(x, 0)))
    dx = lax.mul(tx, lax.mul(y, lax.pow(x, lax.select(both_0, one, lax.sub(y, one)))))
    pos = lax.gt(x, _const_like(x, 0))
    safe_x = lax.select(pos, x, _const_like(x, 1))
    dlog = lax.select(pos, lax.mul(lax.pow(safe_x, y), lax.log(safe_x)), _const_like(x, 0))
    return lax.add(dx, lax.mul(ty, dlog))


def _rem_deriv(x, y, out, tx, ty):
    q = lax.div(lax.sub(x, out), y)  # trunc(x / y), exact where rem is differentiable
    return lax.sub(tx, lax.mul(ty, q))


def _atan2_deriv(x, y, out, tx, ty):
    r2 = lax.add(lax.mul(x, x), lax.mul(y, y))
    return lax.div(lax.sub(lax.mul(tx, y), lax.mul(ty, x)), r2)


def _has_ties(a, b):
    """maximum/minimum: exact ties are where the gradient jumps (the 1/2 - 1/2 split has no Hessian)."""
    return bool(np.any(np.asarray(a) == np.asarray(b)))


_BINARY = [
    ("add", lambda x, y, o, tx, ty: lax.add(tx, ty),
     dict(kind="numeric", dtypes=NUMS, linear=lambda cts, x, y: [cts[0], cts[0]], doc="x + y (integers wrap)")),
    ("sub", lambda x, y, o, tx, ty: lax.sub(tx, ty),
     dict(kind="numeric", dtypes=NUMS, linear=lambda cts, x, y: [cts[0], lax.neg(cts[0])], doc="x - y (integers wrap)")),
    ("mul", lambda x, y, o, tx, ty: lax.add(lax.mul(tx, y), lax.mul(x, ty)),
     dict(kind="numeric", dtypes=NUMS, linear=_mul_transpose, doc="x * y (integers wrap)")),
    ("div", lambda x, y, o, tx, ty: lax.div(lax.sub(tx, lax.mul(ty, o)), y),
     dict(kind="numeric", dtypes=NUMS, linear=_div_transpose,
          doc="x / y; integers truncate toward zero, x / 0 = -1 (all bits set), INT_MIN / -1 = INT_MIN")),
    ("pow", _pow_deriv, dict(kind="numeric", dtypes=FLOAT + SIGNED,
                                                doc="x ** y as IEEE pow (0**0 = 1, negative base needs an integer exponent); d/dy = 0 where x <= 0")),
    ("maximum", _max_deriv,
     dict(kind="numeric", dtypes=NUMS, on_derivative_kink=_has_ties, kink_derivative=_extreme_kink_derivative("maximum"),
          doc="elementwise max, NaN-propagating; tied operands split the gradient 1/2 - 1/2 (JAX)")),
    ("minimum", _max_deriv,
     dict(kind="numeric", dtypes=NUMS, on_derivative_kink=_has_ties, kink_derivative=_extreme_kink_derivative("minimum"),
          doc="elementwise min, NaN-propagating; tied operands split the gradient 1/2 - 1/2 (JAX)")),
    ("rem", _rem_deriv,
     dict(kind="numeric", dtypes=NUMS, doc="C fmod: x - y * trunc(x / y), sign of x; integers: x % 0 = x")),
    ("atan2", _atan2_deriv,
     dict(doc="atan2(y=x0, x=x1): the angle of the point (x1, x0) in [-pi, pi]")),
]
for _name, _deriv, _extra in _BINARY:
    _extra = dict(_extra)
    _kind = _extra.pop("kind", "float")
    _register_elementwise(_name, 2, _kind, _deriv, **_extra)

# Derivative rules above take (x, y, out, tx, ty); unary ones (x, y, t). _register_elementwise calls
# deriv(*primals, out, *tangents), which matches both.


# ---------------------------------------------------------------- comparisons and bitwise
_SYMBOL = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
for _name in ["eq", "ne", "lt", "le", "gt", "ge"]:
    _register_elementwise(_name, 2, "any", None, out_dtype=dt.bool_,
                          dtypes=NUMS + ("bool",),
                          doc=f"x {_SYMBOL[_name]} y elementwise, bool result (floats: NaN compares unequal, -0.0 == 0.0; "
                              f"uint32 compares unsigned)")

for _name, _r in [("and", "and_"), ("or", "or_"), ("xor", "xor")]:
    _register_elementwise(_name, 2, "intbool", None, dtypes=BITS, ref_name=_r,
                          doc=f"logical {_name} (bool) / bitwise {_name} (integers)")


_SHIFT_DOC = {
    "shift_left": "x << y; amounts >= the bit width (or negative) give 0",
    "shift_right_logical": "x >> y filling with zeros; amounts >= the bit width (or negative) give 0",
    "shift_right_arithmetic": "x >> y filling with the sign bit (of the bits, also for uint32); amounts >= the bit "
                              "width (or negative) give all sign bits",
}
for _name in ["shift_left", "shift_right_logical", "shift_right_arithmetic"]:
    _register_elementwise(_name, 2, "int", None, dtypes=SIGNED + ("uint32",),
                          doc=_SHIFT_DOC[_name])


# ---------------------------------------------------------------- select, clamp
def _select_rule(pred, a, b):
    check_same("select", [pred, a, b], same_dtype=False)
    if not pred.dtype.is_bool:
        raise DTypeError(f"select: predicate must be bool, got {describe([pred, a, b])}")
    if a.dtype is not b.dtype:
        raise DTypeError(f"select: branches must have one dtype, got {describe([pred, a, b])}")
    return [a]


def _select_jvp(primals, tangents):
    p, a, b = primals
    _, ta, tb = tangents
    return [lax.select(p, a, b)], [lax.select(p, ta, tb)]


def _select_transpose(cts, p, a, b):
    assert not _is_undef(p), "select is not linear in its predicate"
    ct = cts[0]
    zeros = zeros_like(ct)
    return [None, lax.select(p, ct, zeros) if _is_undef(a) else None, lax.select(p, zeros, ct) if _is_undef(b) else None]


def _bad(args, match, error=DTypeError, **params):
    return ErrorInput([np.asarray(a) for a in args], params, error, match)


select = Spec(
    name="select",
    vmap=vmap_elementwise("select"),
    abstract_eval=_select_rule,
    reference=ref.select,
    jvp=_select_jvp,
    transpose=_select_transpose,
    verify=Verify(dtypes=NUMS + ("bool",)),
    error_inputs=lambda: [_bad([np.ones(2, np.float32), np.ones(2, np.float32), np.ones(2, np.float32)], "select: predicate must be bool"),
                          _bad([np.ones(2, bool), np.ones(2, np.float32), np.ones(2, np.int32)],
                               "select: branches must have one dtype, got bool\\[2\\], f32\\[2\\], i32\\[2\\]")],
    doc="where(pred, on_true, on_false) elementwise; the tangent of the chosen branch only (no NaN leaks from the other)",
)
register(select)


def _clamp_rule(lo, x, hi):
    check_same("clamp", [lo, x, hi])
    if x.dtype.is_bool:
        raise DTypeError(f"clamp: expected numeric operands, got {describe([lo, x, hi])}")
    return [x]


def _clamp_jvp(primals, tangents):
    """JAX's convention: x gets the tangent strictly inside (lo, hi), lo strictly below, hi strictly
    above; at x == lo or x == hi nobody does (the one-sided derivatives disagree there)."""
    lo, x, hi = primals
    tlo, tx, thi = tangents
    out = lax.clamp(lo, x, hi)
    zero = zeros_like(tx)
    inside = lax.and_(lax.gt(x, lo), lax.lt(x, hi))
    below = lax.and_(lax.gt(lo, x), lax.lt(lo, hi))
    t = lax.add(lax.add(lax.select(below, tlo, zero), lax.select(inside, tx, zero)), lax.select(lax.lt(hi, x), thi, zero))
    return [out], [t]


def _clamp_kink(lo, x, hi):
    lo, x, hi = (np.asarray(a) for a in (lo, x, hi))
    return bool(np.any((x == lo) | (x == hi) | (lo == hi)))


def _clamp_kink_derivative(args, ts):
    """_clamp_jvp's convention in NumPy: at x == lo or x == hi nobody gets the tangent."""
    lo, x, hi = (np.asarray(a, np.float64) for a in args)
    tlo, tx, thi = ts
    inside = (x > lo) & (x < hi)
    below = (lo > x) & (lo < hi)
    return [np.where(below, tlo, 0) + np.where(inside, tx, 0) + np.where(hi < x, thi, 0)]


def _clamp_edges(dtype):
    """x at each bound, below, inside and above; lo == hi; NaN and infinities (floats)."""
    d = dt.dtype(dtype)
    lo = np.array([1, 1, 1, 1, 1, 2], d.np)
    x = np.array([1, 4, 0, 2, 3, 2], d.np)
    hi = np.array([3, 3, 3, 3, 3, 2], d.np)
    cases = [([lo, x, hi], {})]
    if d.is_float:
        cases.append(([np.array([-1.0, -np.inf, 0.0], d.np), np.array([np.nan, 5.0, -np.inf], d.np),
                       np.array([1.0, np.inf, 1.0], d.np)], {}))
    return cases


clamp = Spec(
    name="clamp",
    vmap=vmap_elementwise("clamp"),
    abstract_eval=_clamp_rule,
    reference=ref.clamp,
    jvp=_clamp_jvp,
    verify=Verify(dtypes=NUMS, exempt={"transpose": Exempt.NOT_LINEAR}, edge_cases=_clamp_edges,
                  on_derivative_kink=_clamp_kink, kink_derivative=_clamp_kink_derivative),
    error_inputs=lambda: [
        _bad([np.zeros(2, np.float32), np.ones(3, np.float32), np.ones(2, np.float32)],
             "clamp: .*f32\\[2\\], f32\\[3\\], f32\\[2\\]", ShapeError),
        _bad([np.zeros(3, np.int32), np.ones(3, np.float32), np.ones(3, np.float32)], "clamp: .*i32\\[3\\], f32\\[3\\]"),
        _bad([np.zeros(3, bool), np.ones(3, bool), np.ones(3, bool)], "clamp: expected numeric operands"),
    ],
    doc="min(max(x, lo), hi) (same shapes); gradient to x strictly inside (lo, hi), to lo below, to hi above, none at the bounds",
)
register(clamp)


# ---------------------------------------------------------------- convert, bitcast, stop_gradient
def _convert_rule(x, *, dtype):  # Spec.check_call has rejected a dtype that is not a slope DType
    return [Aval(x.shape, dtype)]


def _convert_jvp(primals, tangents, *, dtype):
    (x,), (t,) = primals, tangents
    out = lax.convert(x, dtype=dtype)
    if x.dtype.is_float and dtype.is_float:
        return [out], [lax.convert(t, dtype=dtype)]
    return [out], [zeros_like(out)]


def _convert_transpose(cts, x, *, dtype):
    return [lax.convert(cts[0], dtype=x.aval.dtype)]


def _convert_edges(dtype):
    """Conversion boundaries to every target: exact +-2**31, -2**31 - 1, 2**32, 2**63, NaN, +-inf,
    halves (truncation), f64 values beyond float32's range; INT_MIN/INT_MAX and 2**24 + 1 (not a
    float32) from integers; 2**31 and the maximum from uint32."""
    d = dt.dtype(dtype)
    if d.is_float:
        vals = [2.0**31, -(2.0**31), -(2.0**31) - 1, 2.0**31 - 1, 2.0**32, 2.0**63, -(2.0**63), 2.0**64, np.nan, np.inf,
                -np.inf, 0.5, -0.5, -1.5, 1e10, -0.0, 1e300 if d.bits == 64 else 3e38]
    elif d.is_bool:
        vals = [True, False]
    elif d.is_unsigned:
        vals = [0, 2**31, 2**32 - 1, 2**24 + 1]
    elif d.bits == 32:
        vals = [-(2**31), 2**31 - 1, -1, 0, 2**24 + 1]
    else:
        vals = [2**31, -(2**31) - 1, 2**32 + 5, -1, 2**63 - 1, -(2**63), 2**53 + 1]
    x = np.array(vals, d.np)
    return [([x], {"dtype": t}) for t in (dt.float32, dt.float64, dt.int32, dt.int64, dt.uint32, dt.bool_)]


convert = register(Spec(
    name="convert",
    vmap=vmap_same_dims("convert"),
    abstract_eval=_convert_rule,
    reference=ref.convert,
    jvp=_convert_jvp,
    transpose=_convert_transpose,
    verify=Verify(dtypes=NUMS + ("bool",), edge_cases=_convert_edges),
    error_inputs=lambda: [_bad([np.ones(2, np.float32)], "convert: f32\\[2\\] to 'float32': the target must be a slope dtype",
                               dtype="float32")],
    doc="astype: float->int truncates toward zero and saturates (NaN -> 0), int->int wraps, to bool means != 0",
))


def _bitcast_rule(x, *, dtype):
    if x.dtype.bits != dtype.bits or x.dtype.is_bool or dtype.is_bool:
        raise DTypeError(f"bitcast: {x.str_short()} to {dtype.name} needs equal bit widths (and no bool)")
    return [Aval(x.shape, dtype)]


bitcast = register(Spec(
    name="bitcast",
    vmap=vmap_same_dims("bitcast"),
    abstract_eval=_bitcast_rule,
    reference=ref.bitcast,
    jvp=lambda primals, tangents, *, dtype: ([lax.bitcast(primals[0], dtype=dtype)],
                                             [zeros_like(lax.bitcast(primals[0], dtype=dtype))]),
    verify=Verify(dtypes=("float32", "int32", "uint32", "float64", "int64"),
                  exempt={"transpose": Exempt.BIT_REINTERPRETATION, "grad": Exempt.BIT_REINTERPRETATION}),
    error_inputs=lambda: [_bad([np.ones(2, np.float32)], "bitcast: .* needs equal bit widths", dtype=dt.float64)],
    doc="reinterpret the bits as another dtype of the same width (not bool); zero derivative",
))

stop_gradient = register(Spec(
    name="stop_gradient",
    vmap=vmap_same_dims("stop_gradient"),
    abstract_eval=lambda x: [x],
    reference=ref.stop_gradient,
    jvp=lambda primals, tangents: ([lax.stop_gradient(primals[0])], [zeros_like(primals[0])]),
    verify=Verify(dtypes=FLOAT + INTS + ("bool",),
                  exempt={"transpose": Exempt.ZERO_DERIVATIVE, "grad": Exempt.ZERO_DERIVATIVE,
                          "error_inputs": Exempt.NO_INVALID_INPUT}),
    doc="identity whose derivative is zero (no tangent or cotangent passes through)",
))
