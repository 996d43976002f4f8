"""Norms and distances: torch.norm, torch.linalg.vector_norm / matrix_norm / norm, torch.cdist.
The 2-norm's derivative at 0 is 0 (a subgradient, as torch), not NaN."""
from __future__ import annotations

import math

from slope import lax
from slope.core import dtypes as dt
from slope.errors import DomainError, DTypeError, ShapeError
from slope.ops.arithmetic import abs, mul, pow, sqrt, sub, where
from slope.ops.promotion import as_array, astype, normalize_axes, normalize_dim
from slope.ops.reductions import amax, amin
from slope.ops.reductions import sum as _sum
from slope.ops.shape import squeeze, unsqueeze

__all__ = ["cdist", "norm"]


def _float_input(op, x, dtype):
    x = as_array(x, op)
    if dtype is not None:
        x = astype(x, dt.dtype(dtype, op))
    if not x.dtype.is_float:
        raise DTypeError(f"{op}: expects a floating-point tensor, got {x.aval.str_short()} (pass dtype= to convert)")
    return x


def _safe_sqrt(s):
    """sqrt with derivative 0 (not inf * 0 = NaN) where s == 0."""
    zero = lax.eq(s, lax.full(shape=tuple(s.shape), value=0, dtype=s.dtype))
    return where(zero, lax.full(shape=tuple(s.shape), value=0, dtype=s.dtype),
                 sqrt(where(zero, lax.full(shape=tuple(s.shape), value=1, dtype=s.dtype), s)))


def _vector_norm(x, ord, dims, keepdim):
    if ord in (2, 2.0):
        return _safe_sqrt(_sum(mul(x, x), dims, keepdim))
    a = abs(x)
    if ord == math.inf:
        return amax(a, dims, keepdim)
    if ord == -math.inf:
        return amin(a, dims, keepdim)
    if ord == 0:
        return _sum(astype(lax.ne(x, lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype)), x.dtype), dims, keepdim)
    if ord == 1:
        return _sum(a, dims, keepdim)
    s = _sum(pow(a, float(ord)), dims, keepdim)
    return pow(s, 1.0 / float(ord))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.vector_norm: (sum |x|^ord)^(1/ord) over dim (all dims when None); ord inf/-inf is the
    max/min of |x|, ord 0 the number of nonzeros."""
    x = _float_input("vector_norm", x, dtype)
    if isinstance(ord, (str, bool)):
        raise DomainError(f"vector_norm: ord must be a number, got {ord!r}")
    dims = normalize_axes("vector_norm", dim, x.ndim)
    return _vector_norm(x, ord, dims, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """torch.linalg.matrix_norm for ord 'fro', 'nuc', 1, -1, 2, -2, inf, -inf over the two dims `dim` ('nuc',
    2 and -2 from the singular values: slope.linalg.svdvals)."""
    A = _float_input("matrix_norm", A, dtype)
    if A.ndim < 2:
        raise ShapeError(f"matrix_norm: expects a tensor of at least 2 dims, got {A.aval.str_short()}")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ShapeError(f"matrix_norm: dim must be a pair of dims, got {dim!r}")
    r, c = (normalize_dim("matrix_norm", d, A.ndim) for d in dim)
    if r == c:
        raise ShapeError(f"matrix_norm: dims must differ, got {tuple(dim)}")
    if ord == "fro":
        return _vector_norm(A, 2, tuple(sorted((r, c))), keepdim)
    if ord in ("nuc", 2, -2):  # from the singular values (slope.linalg.svdvals: Jacobi, sizes up to a few dozen)
        from slope.ops.decomp import svdvals
        from slope.ops.layout import movedim
        S = svdvals(movedim(A, (r, c), (-2, -1)))
        out = _sum(S, -1) if ord == "nuc" else S[..., 0] if ord == 2 else S[..., -1]
        if keepdim:
            for d in sorted((r, c)):
                out = unsqueeze(out, d)
        return out
    if ord not in (1, -1, math.inf, -math.inf):
        raise DomainError(f"matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {ord!r}")
    inner, outer = (r, c) if ord in (1, -1) else (c, r)  # 1: max column sum; inf: max row sum
    s = _sum(abs(A), inner, keepdim=True)
    out = (amax if ord > 0 else amin)(s, outer, keepdim=True)
    return out if keepdim else squeeze(out, (r, c))


def linalg_norm(x, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: ord=None is the 2-norm of the flattened x (dim=None) or of the vectors along one
    dim, the Frobenius norm for two dims; with ord and dim=None, x must be 1-d (vector) or 2-d (matrix)."""
    x = _float_input("norm", x, dtype)
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = (dim,)
    if dim is None:
        if ord is None:
            return _vector_norm(x, 2, tuple(range(x.ndim)), keepdim)
        if x.ndim == 1:
            return vector_norm(x, ord, None, keepdim)
        if x.ndim == 2:
            return matrix_norm(x, ord, (0, 1), keepdim)
        raise ShapeError(f"norm: with ord={ord!r} and dim=None the input must be 1-d or 2-d, got {x.aval.str_short()}")
    if len(dim) == 1:
        return vector_norm(x, 2 if ord is None else ord, dim, keepdim)
    if len(dim) == 2:
        return matrix_norm(x, "fro" if ord is None else ord, dim, keepdim)
    raise ShapeError(f"norm: dim must be an int or a pair of dims, got {dim!r}")


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: p='fro' (and any number) is the vector p-norm over dim (all dims when None) - for two
    dims 'fro' is the Frobenius norm, the same thing; p='nuc' is the nuclear norm of the matrices over dim (the last two when None)."""
    x = _float_input("norm", input, dtype)
    if p == "nuc":
        return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim)
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise DomainError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
    return _vector_norm(x, p, normalize_axes("norm", dim, x.ndim), keepdim)


def cdist(x1, x2, p=2.0):
    """torch.cdist: the p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M),
    shape (..., P, R); computed from the differences (exact, memory P * R * M)."""
    x1, x2 = _float_input("cdist", x1, None), _float_input("cdist", x2, None)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: expects (..., P, M) and (..., R, M) tensors with the same M, got "
                         f"{x1.aval.str_short()} and {x2.aval.str_short()}")
    if isinstance(p, str) or p < 0:
        raise DomainError(f"cdist: p must be a non-negative number, got {p!r}")
    d = sub(unsqueeze(x1, -2), unsqueeze(x2, -3))  # (..., P, R, M)
    return _vector_norm(d, p, (d.ndim - 1,), False)
