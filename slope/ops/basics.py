"""PyTorch's tensor basics: clone, new_* constructors, any/all, isnan and friends, isclose/allclose/equal,
nan_to_num, div's rounding modes, boolean masks in `x[...]`, item assignment and in-place methods.

slope's buffers are immutable, so an in-place op is a functional update that rebinds the object:
`x.add_(y)` computes `x + y` (cast to x's dtype, x's shape) and makes the Tensor `x` hold the new
buffer, or makes the tracer `x` stand for the new value (`Tracer._assign`: under jit the program's
later equations read the new value; an input keeps its own). Earlier results are unaffected, and so
are other tensors made from x (`x[0]`, `x.view(...)` are copies, not views as in PyTorch)."""
from __future__ import annotations

import builtins

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import Tensor, tensor
from slope.core.trace import Tracer, full_raise
from slope.errors import ArgumentError, DTypeError, ShapeError, TracerError
from slope.ops import arithmetic as A
from slope.ops import indexing
from slope.ops.creation import full, ones, zeros
from slope.ops.promotion import (
    as_array,
    astype,
    broadcast_to,
    is_array,
    normalize_axes,
    operands,
)
from slope.ops.reductions import sum as _sum
from slope.ops.shape import reshape

__all__ = [
    "all",
    "allclose",
    "any",
    "clone",
    "div",
    "equal",
    "getitem",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "nan_to_num",
    "numel",
    "setitem",
]

_py_any, _py_all = builtins.any, builtins.all


def numel(x):
    return as_array(x, "numel").aval.size


def clone(x):
    """A new tensor with x's value (in-place updates of one do not reach the other)."""
    x = as_array(x, "clone")
    if isinstance(x, Tensor):
        return Tensor(x._buf, x.aval)  # buffers are immutable: sharing one is a copy
    return lax.reshape(x, shape=tuple(x.shape))  # a new tracer for the same value


def _truth(op, x):
    x = as_array(x, op)
    return x if x.dtype.is_bool else lax.ne(x, lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype))


def any(x, dim=None, keepdim=False):
    """True where some element along dim is nonzero (torch.any; False for an empty reduction)."""
    b = _truth("any", x)
    normalize_axes("any", dim, b.ndim)
    return A.gt(_sum(astype(b, dt.int64), dim, keepdim), 0)


def all(x, dim=None, keepdim=False):
    """True where every element along dim is nonzero (torch.all; True for an empty reduction)."""
    b = _truth("all", x)
    normalize_axes("all", dim, b.ndim)
    return A.eq(_sum(astype(lax.not_(b), dt.int64), dim, keepdim), 0)


def _const(x, value):
    return lax.full(shape=tuple(x.shape), value=value, dtype=x.dtype)


def _bools(x, value):
    return lax.full(shape=tuple(x.shape), value=value, dtype=dt.bool_)


def isnan(x):
    x = as_array(x, "isnan")
    return lax.ne(x, x) if x.dtype.is_float else _bools(x, False)


def isinf(x):
    x = as_array(x, "isinf")
    return lax.eq(lax.abs(x), _const(x, float("inf"))) if x.dtype.is_float else _bools(x, False)


def isposinf(x):
    x = as_array(x, "isposinf")
    return lax.eq(x, _const(x, float("inf"))) if x.dtype.is_float else _bools(x, False)


def isneginf(x):
    x = as_array(x, "isneginf")
    return lax.eq(x, _const(x, float("-inf"))) if x.dtype.is_float else _bools(x, False)


def isfinite(x):
    x = as_array(x, "isfinite")
    return lax.lt(lax.abs(x), _const(x, float("inf"))) if x.dtype.is_float else _bools(x, True)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b| elementwise (torch.isclose); equal infinities are close, NaN only
    with equal_nan=True. Integers compare in float64."""
    for what, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(dt.python_scalar(v), (int, float)) or v < 0:
            raise ArgumentError(f"isclose: {what} must be a non-negative number, got {v!r}")
    a, b = operands("isclose", a, b)
    if a.dtype.is_bool:
        return lax.eq(a, b)
    if not a.dtype.is_float:
        a, b = astype(a, dt.float64), astype(b, dt.float64)
    close = A.le(A.abs(A.sub(a, b)), A.add(A.mul(A.abs(b), float(rtol)), float(atol)))
    close = lax.or_(lax.eq(a, b), lax.and_(close, lax.and_(isfinite(a), isfinite(b))))
    return lax.or_(close, lax.and_(isnan(a), isnan(b))) if equal_nan else close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Python bool: every element isclose (torch.allclose; needs concrete tensors)."""
    return builtins.bool(all(isclose(a, b, rtol, atol, equal_nan)).item())


def equal(a, b) -> bool:
    """Python bool: same shape and equal elements (torch.equal; needs concrete tensors)."""
    a, b = as_array(a, "equal"), as_array(b, "equal")
    if tuple(a.shape) != tuple(b.shape):
        return False
    return builtins.bool(all(A.eq(a, b)).item())


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf (default: the dtype's largest finite value), -inf -> neginf (its
    smallest); the gradient passes where x is finite (torch.nan_to_num)."""
    x = as_array(x, "nan_to_num")
    if not x.dtype.is_float:
        return x
    try:
        info = np.finfo(x.dtype.np)
    except ValueError:  # bfloat16
        import ml_dtypes

        info = ml_dtypes.finfo(x.dtype.np)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    for what, v in (("nan", nan), ("posinf", hi), ("neginf", lo)):
        if isinstance(v, bool) or not isinstance(dt.python_scalar(v), (int, float)):
            raise ArgumentError(f"nan_to_num: {what} must be a number, got {type(v).__name__} {v!r}")
    out = lax.select(isnan(x), _const(x, float(nan)), x)
    out = lax.select(isposinf(x), _const(x, float(hi)), out)
    return lax.select(isneginf(x), _const(x, float(lo)), out)


def div(x, y, *, rounding_mode=None):
    """x / y: true division (integers give floats) or, with rounding_mode="trunc" / "floor", the
    quotient rounded toward zero / down, in the promoted dtype (torch.div)."""
    if rounding_mode is None:
        return A.div(x, y)
    if rounding_mode == "floor":
        return A.floor_divide(x, y)
    if rounding_mode != "trunc":
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    x, y = operands("div", x, y)
    if x.dtype.is_bool:
        raise DTypeError(f"div: rounding_mode='trunc' needs numeric operands, got {x.aval.str_short()}")
    if not x.dtype.is_float:
        return lax.div(x, y)  # integer division truncates
    q = lax.div(x, y)
    return lax.select(lax.lt(q, _const(q, 0)), lax.ceil(q), lax.floor(q))


# ---------------------------------------------------------------- boolean masks and item assignment


def _is_mask(v):
    if is_array(v):
        return v.dtype.is_bool
    if isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, (list, tuple, np.ndarray)):
        a = np.asarray(v)
        return a.dtype == np.bool_ and a.ndim > 0
    return False


def _mask_error(op, v):
    return TracerError(f"{op}: a boolean mask traced by {v._trace.main.trace_type.__name__} ({v.aval.str_short()}) "
                       "selects a data-dependent number of elements; use slope.where(mask, x, other) or "
                       "x.masked_fill(mask, value) instead")


def _expand_masks(op, x, idx):
    """idx with each boolean mask replaced by the integer indices of its True entries (NumPy's rule);
    a mask must match the dims it indexes. Masks must be concrete (their True count is the result's size)."""
    items = list(idx) if isinstance(idx, tuple) else [idx]
    if not _py_any(_is_mask(v) for v in items):
        return idx
    out, d = [], 0
    for v in items:
        if _is_mask(v):
            if isinstance(v, Tracer):
                raise _mask_error(op, v)
            a = np.asarray(v)
            want = tuple(x.shape[d:d + a.ndim])
            if Ellipsis not in out and a.shape != want:
                raise ShapeError(f"{op}: the mask shape {a.shape} does not match the indexed dims {want} of "
                                 f"{x.aval.str_short()}")
            out.extend(np.nonzero(a))
            d += a.ndim
        else:
            out.append(v)
            d += 0 if v is None or v is Ellipsis else 1
    return tuple(out)


def getitem(x, idx):
    """x[idx] (see slope.ops.indexing.getitem), also with boolean masks (eagerly: the result's size is
    the number of True entries; under jit use where/masked_fill)."""
    x = as_array(x, "getitem")
    return indexing.getitem(x, _expand_masks("getitem", x, idx))


def setitem(x, idx, value):
    """x with x[idx] = value, as a new tensor (value is cast to x's dtype and broadcast to x[idx]'s shape).
    A boolean mask with a scalar (or broadcastable) value is a where, also under jit."""
    x = as_array(x, "setitem")
    value = as_array(dt.python_scalar(value), "setitem")
    value = astype(value, x.dtype)  # (a float into an integer tensor truncates, as in PyTorch)
    if is_array(idx) and idx.dtype.is_bool and tuple(idx.shape) == tuple(x.shape[:idx.ndim]) and value.aval.size == 1:
        mask = reshape(idx, *idx.shape, *[1] * (x.ndim - idx.ndim)) if x.ndim > idx.ndim else idx
        return lax.select(broadcast_to(mask, tuple(x.shape)), broadcast_to(reshape(value), tuple(x.shape)), x)
    idx = _expand_masks("setitem", x, idx)
    n = x.aval.size
    pos = lax.reshape(lax.iota(shape=(n,), dimension=0, dtype=dt.int64), shape=tuple(x.shape))
    sel = indexing.getitem(pos, idx)
    try:
        value = broadcast_to(value, tuple(sel.shape), op="setitem")
    except ShapeError:
        raise ShapeError(f"setitem: cannot assign a value of shape {tuple(value.shape)} to x[...] of shape "
                         f"{tuple(sel.shape)} (x is {x.aval.str_short()})") from None
    m = sel.aval.size
    out = lax.scatter(lax.reshape(x, shape=(n,)), lax.reshape(sel, shape=(m, 1)), lax.reshape(value, shape=(m,)))
    return lax.reshape(out, shape=tuple(x.shape))


# ---------------------------------------------------------------- in-place updates


def _castable(src, dst):
    """PyTorch's can_cast for in-place results: never float -> int/bool or int -> bool."""
    return not ((src.is_float and not dst.is_float) or (dst.is_bool and not src.is_bool))


def assign(x, new, op, cast=False):
    """Make x hold `new` (an in-place op's result): x's shape stays; the dtype is cast to x's when
    PyTorch would (cast=True: always, as copy_ and x[i] = v). Returns x."""
    if not is_array(x):
        raise DTypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    new = as_array(new, op)
    if tuple(new.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: the result's shape {tuple(new.shape)} does not match {x.aval.str_short()} (an in-place "
                         "op cannot change the shape)")
    if new.dtype is not x.dtype:
        if not cast and not _castable(new.dtype, x.dtype):
            raise DTypeError(f"{op}: the result type {new.dtype.name} cannot be cast to {x.aval.str_short()}'s dtype "
                             "in place (as in PyTorch); use the out-of-place op")
        new = astype(new, x.dtype)
    if isinstance(x, Tensor):
        if not isinstance(new, Tensor):
            raise TracerError(f"{op}: cannot update a concrete tensor {x.aval.str_short()} in place with a value traced by "
                              f"{new._trace.main.trace_type.__name__}: the tensor lives outside the transformation; "
                              "use the out-of-place op (x = x + y) or make the tensor inside the function")
        x._buf, x.aval = new._buf, new.aval
        return x
    main = x._trace.main
    if not isinstance(new, Tracer) or new._trace.main.level < main.level:
        new = full_raise(x._trace, new)
    if new._trace.main is not main or type(new) is not type(x):
        raise TracerError(f"{op}: cannot update a value traced by {main.trace_type.__name__} in place with one traced by "
                          f"{new._trace.main.trace_type.__name__} (an inner transformation); use the out-of-place op")
    x._assign(new)
    return x


def fill(x, value):
    """x.fill_(value)'s new value: value (a number or 0-d tensor) cast to x's dtype, in x's shape."""
    x = as_array(x, "fill_")
    v = as_array(dt.python_scalar(value), "fill_")
    if v.ndim:
        raise ShapeError(f"fill_: value must be a number or a 0-d tensor, got {v.aval.str_short()}")
    return broadcast_to(astype(v, x.dtype), tuple(x.shape))


def copy_from(x, src):
    """x.copy_(src)'s new value: src cast to x's dtype and broadcast to x's shape."""
    x, src = as_array(x, "copy_"), as_array(src, "copy_")
    return broadcast_to(astype(src, x.dtype), tuple(x.shape), op="copy_")


def new_full(x, size, fill_value, dtype=None, device=None):
    x = as_array(x, "new_full")
    return full(size, fill_value, dtype=x.dtype if dtype is None else dtype, device=device)


def new_zeros(x, *size, dtype=None, device=None):
    x = as_array(x, "new_zeros")
    return zeros(*size, dtype=x.dtype if dtype is None else dtype, device=device)


def new_ones(x, *size, dtype=None, device=None):
    x = as_array(x, "new_ones")
    return ones(*size, dtype=x.dtype if dtype is None else dtype, device=device)


def new_tensor(x, data, dtype=None, device=None):
    x = as_array(x, "new_tensor")
    return tensor(data, dtype=x.dtype if dtype is None else dtype, device=device)

