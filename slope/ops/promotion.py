"""Operand handling shared by every user-level op: Python/NumPy scalars and arrays to tensors, NumPy
broadcasting, PyTorch's dtype promotion (scalars weakly typed), dim and axis normalization."""
from __future__ import annotations

import builtins

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import Tensor, as_tensor, tensor
from slope.core.trace import Tracer
from slope.errors import DTypeError, ShapeError, describe

__all__ = ["broadcast_shapes", "broadcast_to", "expand", "astype"]


_py_max, _py_sum = builtins.max, builtins.sum


def is_array(x):
    return isinstance(x, (Tensor, Tracer))


def as_array(x):
    return x if is_array(x) else as_tensor(x)


def broadcast_shapes(*shapes, op="broadcast"):
    ndim = _py_max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{op}: cannot broadcast shapes {' and '.join(map(str, map(tuple, shapes)))}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to(x, shape):
    x = as_array(x)
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    if len(shape) < x.ndim or broadcast_shapes(x.shape, shape, op="broadcast_to") != shape:
        raise ShapeError(f"broadcast_to: cannot broadcast {x.aval.str_short()} to {shape}")
    lead = len(shape) - x.ndim
    return lax.broadcast_in_dim(x, shape=shape, broadcast_dimensions=tuple(range(lead, len(shape))))


def expand(x, *shape):
    shape = shape_arg(shape)
    x = as_array(x)
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return broadcast_to(x, shape)


def operands(op, *xs, dtype=None):
    """Tensors broadcast to one shape and promoted to one dtype; Python and NumPy scalars are weakly typed."""
    xs = [dt.python_scalar(x) for x in xs]
    for x in xs:
        if not (is_array(x) or isinstance(x, np.ndarray)):
            check_scalar(op, x)
    arrays = [x for x in xs if is_array(x) or isinstance(x, np.ndarray)]
    arrays = [as_array(x) for x in arrays]
    if not arrays:
        xs = [tensor(x) for x in xs]
        arrays = xs
    if dtype is None:
        dtype = arrays[0].dtype
        for a in arrays[1:]:
            dtype = dt.promote(dtype, a.dtype)
        for x in xs:
            if not (is_array(x) or isinstance(x, np.ndarray)):
                dtype = dt.scalar_dtype(x, dtype)
    try:
        shape = broadcast_shapes(*[a.shape for a in arrays], op=op)
    except ShapeError:
        raise ShapeError(f"{op}: cannot broadcast operands {describe([a.aval for a in arrays])}") from None
    out = []
    for x in xs:
        if is_array(x) or isinstance(x, np.ndarray):
            x = astype(as_array(x), dtype)
            out.append(broadcast_to(x, shape))
        else:
            problem = dt.scalar_misfit(x, dtype)
            if problem:
                raise DTypeError(f"{op}: scalar operand {problem}")
            out.append(lax.full(shape=shape, value=x, dtype=dtype))
    return out


def check_scalar(op, x):
    if not isinstance(x, (bool, int, float)):
        raise DTypeError(f"{op}: unsupported operand type {type(x).__name__}")
    return x


def float_operands(op, *xs):
    """Math like div/exp on integers works in the default float dtype (as in PyTorch)."""
    xs = operands(op, *xs)
    if not xs[0].dtype.is_float:
        xs = [astype(x, dt.default_float) for x in xs]
    return xs


def zeros_of(x):
    return lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype)


def astype(x, dtype):
    x = as_array(x)
    dtype = dt.dtype(dtype)
    return x if x.dtype is dtype else lax.convert(x, dtype=dtype)


def shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def normalize_dim(op, d, ndim):
    if not -_py_max(ndim, 1) <= d < _py_max(ndim, 1):
        raise ShapeError(f"{op}: dim {d} out of range for a {ndim}-d tensor")
    return d % ndim if ndim else 0


def normalize_axes(op, dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(sorted({normalize_dim(op, d, ndim) for d in dims}))


def is_static_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
