"""Matrix products with NumPy's matmul rules (1-d operands are vectors, leading dims batch), and the
torch.linalg namespace (slope.linalg): norms (ops/norms.py), solve/inv/det/slogdet/cholesky/
solve_triangular (ops/decomp.py), multi_dot, vecdot."""
from __future__ import annotations

from slope import lax
from slope.core import dtypes as dt
from slope.errors import DTypeError, ShapeError, describe
from slope.ops.promotion import as_array, astype, broadcast_shapes, broadcast_to
from slope.ops.arithmetic import mul
from slope.ops.shape import reshape, squeeze
from slope.ops import decomp, norms
from slope.ops.reductions import sum as _sum

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
    if y.ndim == 2 and nb:  # (..., m, k) @ (k, n): one dot over x's leading dims, y not copied per batch member
        out = lax.dot_general(x, y, contracting_dims=((nb + 1,), (0,)), batch_dims=((), ()))
        return squeeze(out, -1) if yv else out
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


# ---------------------------------------------------------------- the slope.linalg namespace (torch.linalg names)
def _namespace():  # imported late: these modules build on matmul above
    names = {"vector_norm": norms.vector_norm, "matrix_norm": norms.matrix_norm, "norm": norms.linalg_norm,
             "solve": decomp.solve, "inv": decomp.inv, "det": decomp.det, "slogdet": decomp.slogdet,
             "cholesky": decomp.cholesky, "solve_triangular": decomp.solve_triangular, "multi_dot": _multi_dot,
             "vecdot": _vecdot, "eigh": decomp.eigh, "eigvalsh": decomp.eigvalsh, "svd": decomp.svd,
             "svdvals": decomp.svdvals, "qr": decomp.qr, "pinv": decomp.pinv, "lstsq": decomp.lstsq,
             "matrix_rank": decomp.matrix_rank, "cond": decomp.cond, "matrix_power": decomp.matrix_power,
             "matmul": matmul, "diagonal": _diagonal, "cross": _cross}
    globals().update(names)


def _multi_dot(tensors):
    """torch.linalg.multi_dot: the product of a list of matrices (1-d first/last operands are vectors)."""
    if not isinstance(tensors, (list, tuple)) or len(tensors) < 2:
        raise ShapeError("multi_dot: expects a list of at least two tensors")
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out


def _vecdot(x, y, *, dim=-1):
    """torch.linalg.vecdot: sum over dim of x * y (broadcasting)."""
    return _sum(mul(x, y), dim)


def _diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: torch.diagonal with dim1=-2, dim2=-1 by default."""
    from slope.ops.layout import diagonal
    return diagonal(A, offset, dim1, dim2)


def _cross(x, y, *, dim=-1):
    """torch.linalg.cross: the cross product along dim (default the last)."""
    from slope.ops.extras import cross
    return cross(x, y, dim)
