"""Tensor constructors: ones, zeros, full, arange, eye, linspace (randn/rand/randint live in slope.random).

Sizes must be ints (a float or a string raises ArgumentError), dtypes ones slope supports and the
device 'cpu' (or None); a result larger than the memory available raises OutOfMemoryError before
anything is allocated."""
from __future__ import annotations

import math

from slope import lax
from slope.core import dtypes as dt, memory
from slope.core.aval import Aval
from slope.errors import ArgumentError, DomainError, DTypeError
from slope.ops.promotion import as_array, int_arg, is_array, sizes_arg

__all__ = ["arange", "eye", "full", "full_like", "linspace", "ones", "ones_like", "zeros", "zeros_like"]


def _shape(op, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return sizes_arg(op, shape)


def _fill(op, shape, value, dtype):
    value = dt.python_scalar(value)
    if not isinstance(value, (bool, int, float)):
        shown = value.aval.str_short() if is_array(value) else repr(value)
        raise DTypeError(f"{op}: fill_value must be a Python number or bool, got {type(value).__name__} {shown}")
    problem = dt.scalar_misfit(value, dtype)
    if problem:
        raise DTypeError(f"{op}: {problem}")
    memory.check(op, [Aval(shape, dtype)])
    return lax.full(shape=shape, value=value, dtype=dtype)


def full(shape, fill_value, dtype=None, device=None):
    dt.check_device("full", device)
    fill_value = dt.python_scalar(fill_value)
    if dtype is None:
        dtype = dt.bool_ if isinstance(fill_value, bool) else dt.default_int if isinstance(fill_value, int) else dt.default_float
    shape = _shape("full", (shape,))
    return _fill("full", shape, fill_value, dt.dtype(dtype, "full"))


def ones(*shape, dtype=None, device=None):
    dt.check_device("ones", device)
    return _fill("ones", _shape("ones", shape), 1, dt.dtype_or(dtype, dt.default_float, "ones"))


def zeros(*shape, dtype=None, device=None):
    dt.check_device("zeros", device)
    return _fill("zeros", _shape("zeros", shape), 0, dt.dtype_or(dtype, dt.default_float, "zeros"))


def _like(op, x, value, dtype, device):
    dt.check_device(op, device)
    x = as_array(x, op)
    return _fill(op, tuple(x.shape), value, dt.dtype_or(dtype, x.dtype, op))


def ones_like(x, dtype=None, device=None):
    return _like("ones_like", x, 1, dtype, device)


def zeros_like(x, dtype=None, device=None):
    return _like("zeros_like", x, 0, dtype, device)


def full_like(x, fill_value, dtype=None, device=None):
    return _like("full_like", x, fill_value, dtype, device)


def _number(op, what, v):
    v = dt.python_scalar(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ArgumentError(f"{op}: {what} must be a number, got {type(v).__name__} {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise DomainError(f"{op}: {what} must be finite, got {v}")
    return v


def arange(start, stop=None, step=1, dtype=None, device=None):
    """Like torch.arange: [start, stop) by step; int64 unless any bound is a float (then the default float)."""
    dt.check_device("arange", device)
    if stop is None:
        start, stop = 0, start
    start, stop, step = (_number("arange", w, v) for w, v in (("start", start), ("end", stop), ("step", step)))
    if step == 0:
        raise DomainError("arange: step must be nonzero")
    if dtype is None:
        if any(isinstance(v, float) for v in (start, stop, step)):
            dtype = dt.default_float
        else:
            dtype = dt.default_int
    dtype = dt.dtype(dtype, "arange")
    if dtype.is_bool:
        raise DTypeError("arange: dtype must be numeric, got bool")
    n = max(0, math.ceil((stop - start) / step))
    memory.check("arange", [Aval((n,), dtype)])
    for what, v in (("start", start), ("step", step), ("end", stop - step if n else start)):
        problem = dt.scalar_misfit(v, dtype)
        if problem:
            raise DTypeError(f"arange: {what} {problem}")
    idx = lax.iota(shape=(n,), dimension=0, dtype=dtype)
    if step != 1:
        idx = lax.mul(idx, lax.full(shape=(n,), value=step, dtype=dtype))
    if start != 0:
        idx = lax.add(idx, lax.full(shape=(n,), value=start, dtype=dtype))
    return idx


def linspace(start, stop, steps, dtype=None, device=None):
    dt.check_device("linspace", device)
    start, stop = _number("linspace", "start", start), _number("linspace", "end", stop)
    steps = int_arg("linspace", "steps", steps)
    if steps < 0:
        raise DomainError(f"linspace: steps must be non-negative, got {steps}")
    dtype = dt.dtype_or(dtype, dt.default_float, "linspace")
    memory.check("linspace", [Aval((steps,), dtype)])
    if steps == 1:
        return full((1,), float(start), dtype)
    i = lax.iota(shape=(steps,), dimension=0, dtype=dtype)
    delta = (stop - start) / (steps - 1)
    return lax.add(lax.mul(i, lax.full(shape=(steps,), value=delta, dtype=dtype)),
                   lax.full(shape=(steps,), value=start, dtype=dtype))


def eye(n, m=None, dtype=None, device=None):
    dt.check_device("eye", device)
    n, m = sizes_arg("eye", (n, n if m is None else m))
    dtype = dt.dtype_or(dtype, dt.default_float, "eye")
    memory.check("eye", [Aval((n, m), dtype)])
    r = lax.iota(shape=(n, m), dimension=0, dtype=dt.int32)
    c = lax.iota(shape=(n, m), dimension=1, dtype=dt.int32)
    return lax.convert(lax.eq(r, c), dtype=dtype)
