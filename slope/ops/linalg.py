"""Matrix products with NumPy's matmul rules (1-d operands are vectors, leading dims batch)."""
from __future__ import annotations

from slope import lax
from slope.core import dtypes as dt
from slope.errors import DTypeError, ShapeError, describe
from slope.ops.promotion import as_array, astype, broadcast_shapes, broadcast_to
from slope.ops.arithmetic import mul
from slope.ops.shape import reshape, squeeze

__all__ = ["matmul", "dot", "outer"]


def matmul(x, y):
    """NumPy matmul: 1-d operands are vectors, leading dims broadcast as batch dims."""
    x, y = as_array(x, 'matmul'), as_array(y, 'matmul')
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"matmul: operands must be at least 1-d, got {describe([x.aval, y.aval])}")
    if x.dtype is not y.dtype:
        d = dt.promote(x.dtype, y.dtype)
        x, y = astype(x, d), astype(y, d)
    if x.dtype.is_bool:
        raise DTypeError(f"matmul: bool operands are not supported, got {describe([x.aval, y.aval])}")
    xv, yv = x.ndim == 1, y.ndim == 1
    if xv:
        x = reshape(x, 1, x.shape[0])
    if yv:
        y = reshape(y, y.shape[0], 1)
    if x.shape[-1] != y.shape[-2]:
        raise ShapeError(f"matmul: inner dimensions differ: {describe([x.aval, y.aval])} "
                         f"({x.shape[-1]} != {y.shape[-2]})")
    batch = broadcast_shapes(x.shape[:-2], y.shape[:-2], op="matmul")
    nb = len(batch)
    x = broadcast_to(x, batch + tuple(x.shape[-2:]))
    y = broadcast_to(y, batch + tuple(y.shape[-2:]))
    out = lax.dot_general(x, y, contracting_dims=((nb + 1,), (nb,)), batch_dims=(tuple(range(nb)), tuple(range(nb))))
    if xv:
        out = squeeze(out, -2)
    if yv:
        out = squeeze(out, -1)
    return out


def dot(x, y):
    return matmul(x, y)


def outer(x, y):
    """The outer product of two 1-d tensors (torch.outer); other ranks raise ShapeError."""
    x, y = as_array(x, 'outer'), as_array(y, 'outer')
    if x.ndim != 1 or y.ndim != 1:
        raise ShapeError(f"outer: expects two 1-d tensors, got {describe([x.aval, y.aval])}")
    return mul(reshape(x, -1, 1), reshape(y, 1, -1))
