"""Dense linear algebra as slope programs (StableHLO has no LAPACK): Gaussian elimination with partial
pivoting (solve, inv, det, slogdet), Cholesky, triangular solves. Each is unrolled over the matrix
size n (n steps of O(n^2) elementwise work, batched over leading dims), so it suits small and medium
n (the program grows with n); derivatives are those of the unrolled algorithm (exact up to rounding).
Pivot choices are data (an argmax per step, applied as one-hot row swaps), so everything works under
jit, grad and vmap."""
from __future__ import annotations

import collections as _collections

from slope import lax
from slope.core import dtypes as dt
from slope.errors import DTypeError, ShapeError, describe
from slope.ops.arithmetic import abs, add, div, log, mul, sign, sqrt, sub, where
from slope.ops.promotion import as_array, astype, broadcast_shapes, broadcast_to
from slope.ops.reductions import argmax, prod
from slope.ops.reductions import sum as _sum
from slope.ops.shape import squeeze, stack, unsqueeze
from slope.ops.layout import diagonal, mT

__all__ = []  # reached as slope.linalg.<name> (slope/ops/linalg.py)

_SlogDet = _collections.namedtuple("slogdet", ["sign", "logabsdet"])


def _square(op, A):
    A = as_array(A, op)
    if not A.dtype.is_float:
        if A.dtype.is_bool:
            raise DTypeError(f"{op}: expects a floating-point matrix, got {A.aval.str_short()}")
        A = astype(A, dt.default_float)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: expects a (batch of) square matrix (..., n, n), got {A.aval.str_short()}")
    return A


def _iota_vec(A, n):
    return lax.iota(shape=tuple(A.shape[:-2]) + (n,), dimension=A.ndim - 2, dtype=dt.int32)


def _e(A, k, n):
    """The one-hot vector e_k (n,) in A's dtype."""
    return astype(lax.eq(lax.iota(shape=(n,), dimension=0, dtype=dt.int32), lax.full(shape=(n,), value=k, dtype=dt.int32)),
                  A.dtype)


def _col(M, k):
    """M[..., :, k] as a one-hot contraction: its transpose is a broadcast, not a pad (IREE 3.13 fails to
    compile some f64 gradient programs full of the pads that slices transpose to: docs/stablehlo-notes.md)."""
    return _sum(mul(M, _e(M, k, M.shape[-1])), -1)


def _rowk(M, k):
    """M[..., k, :] as a one-hot contraction (see _col)."""
    return _sum(mul(M, unsqueeze(_e(M, k, M.shape[-2]), -1)), -2)


def _at(v, k):
    """v[..., k] as a one-hot contraction (see _col)."""
    return _sum(mul(v, _e(v, k, v.shape[-1])), -1)


def _row(M, onehot):
    """sum_i onehot[..., i] * M[..., i, :]: the row picked by a one-hot vector."""
    return _sum(mul(unsqueeze(onehot, -1), M), -2)


def _eliminate(A, B):
    """Gaussian elimination with partial pivoting of [A | B]: (U, B', sign of the row permutation)."""
    n = A.shape[-1]
    rows = _iota_vec(A, n)
    sgn = lax.full(shape=tuple(A.shape[:-2]), value=1, dtype=A.dtype)
    for k in range(n):
        col = abs(_col(A, k))
        below = lax.ge(rows, lax.full(shape=tuple(rows.shape), value=k, dtype=dt.int32))
        col = where(below, col, lax.full(shape=tuple(col.shape), value=-1, dtype=A.dtype))
        p = lax.convert(argmax(col, -1), dtype=dt.int32)
        ep = astype(lax.eq(rows, lax.broadcast_in_dim(p, shape=tuple(rows.shape),
                                                      broadcast_dimensions=tuple(range(p.ndim)))), A.dtype)
        ek = astype(lax.eq(rows, lax.full(shape=tuple(rows.shape), value=k, dtype=dt.int32)), A.dtype)
        swap = unsqueeze(sub(ek, ep), -1)
        A = add(A, mul(swap, sub(_row(A, ep), _row(A, ek))))
        if B is not None:
            B = add(B, mul(swap, sub(_row(B, ep), _row(B, ek))))
        moved = lax.ne(p, lax.full(shape=tuple(p.shape), value=k, dtype=dt.int32))
        sgn = where(moved, lax.neg(sgn), sgn)
        pivot_row = _rowk(A, k)
        f = div(_col(A, k), unsqueeze(_at(_col(A, k), k), -1))
        f = where(lax.gt(rows, lax.full(shape=tuple(rows.shape), value=k, dtype=dt.int32)), f,
                  lax.full(shape=tuple(f.shape), value=0, dtype=A.dtype))
        if B is not None:
            B = sub(B, mul(unsqueeze(f, -1), unsqueeze(_rowk(B, k), -2)))
        A = sub(A, mul(unsqueeze(f, -1), unsqueeze(pivot_row, -2)))
    return A, B, sgn


def _back_substitute(U, B, unit=False):
    """X with U X = B for upper-triangular U, row by row from the last."""
    n = U.shape[-1]
    xs = [None] * n
    for i in reversed(range(n)):
        r = _rowk(B, i)
        for j in range(i + 1, n):
            r = sub(r, mul(unsqueeze(_at(_rowk(U, i), j), -1), xs[j]))
        xs[i] = r if unit else div(r, unsqueeze(_at(_rowk(U, i), i), -1))
    return stack(xs, -2)


def _forward_substitute(L, B, unit=False):
    """X with L X = B for lower-triangular L, row by row from the first."""
    n = L.shape[-1]
    xs = []
    for i in range(n):
        r = _rowk(B, i)
        for j in range(i):
            r = sub(r, mul(unsqueeze(_at(_rowk(L, i), j), -1), xs[j]))
        xs.append(r if unit else div(r, unsqueeze(_at(_rowk(L, i), i), -1)))
    return stack(xs, -2)


def _batched(op, A, B):
    """A (..., n, n) and B (..., n, k) broadcast to one batch; B given as (..., n) is a vector (torch's rule:
    B.shape == A.shape[:-1])."""
    B = as_array(B, op)
    vector = B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]) or B.ndim == 1
    if vector:
        B = unsqueeze(B, -1)
    if B.ndim < 2 or B.shape[-2] != A.shape[-1]:
        raise ShapeError(f"{op}: A {A.aval.str_short()} and B {B.aval.str_short()} do not fit (B must be (..., n, k) "
                         "or (..., n))")
    d = dt.promote(A.dtype, B.dtype)
    A, B = astype(A, d), astype(B, d)
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]), op=op)
    return broadcast_to(A, batch + tuple(A.shape[-2:])), broadcast_to(B, batch + tuple(B.shape[-2:])), vector


def solve(A, B, *, left=True):
    """X with A X = B (torch.linalg.solve), by Gaussian elimination with partial pivoting; a singular A
    gives inf/NaN entries (torch raises)."""
    A = _square("solve", A)
    if not left:
        return mT(solve(mT(A), mT(as_array(B, "solve"))))
    A, B, vector = _batched("solve", A, B)
    U, C, _ = _eliminate(A, B)
    X = _back_substitute(U, C)
    return squeeze(X, -1) if vector else X


def inv(A):
    """The inverse of a (batch of) square matrix (torch.linalg.inv)."""
    A = _square("inv", A)
    n = A.shape[-1]
    eye = astype(lax.eq(lax.iota(shape=(n, n), dimension=0, dtype=dt.int32),
                        lax.iota(shape=(n, n), dimension=1, dtype=dt.int32)), A.dtype)
    return solve(A, broadcast_to(eye, tuple(A.shape)))


def _diag(U):
    return diagonal(U, 0, -2, -1)


def det(A):
    """Determinant (torch.linalg.det): the product of the pivots times the permutation's sign."""
    A = _square("det", A)
    if A.shape[-1] == 0:
        return lax.full(shape=tuple(A.shape[:-2]), value=1, dtype=A.dtype)
    U, _, sgn = _eliminate(A, None)
    return mul(sgn, prod(_diag(U), -1))


def slogdet(A):
    """(sign, log|det|) (torch.linalg.slogdet): log|det| without overflow; a singular A gives (0, -inf)."""
    A = _square("slogdet", A)
    U, _, sgn = _eliminate(A, None)
    d = _diag(U)
    s = mul(sgn, prod(sign(d), -1))
    return _SlogDet(s, _sum(log(abs(d)), -1))


def cholesky(A, *, upper=False):
    """L with A = L L^T for a symmetric positive-definite A (torch.linalg.cholesky; only the lower
    triangle of A is read); upper=True returns L^T. A matrix that is not positive definite gives NaN
    entries (torch raises)."""
    A = _square("cholesky", A)
    n = A.shape[-1]
    rows = _iota_vec(A, n)
    cols = []
    for j in range(n):
        s = _col(A, j)
        for k in range(j):
            s = sub(s, mul(cols[k], unsqueeze(_at(cols[k], j), -1)))
        d = sqrt(_at(s, j))
        jj = lax.full(shape=tuple(rows.shape), value=j, dtype=dt.int32)
        col = where(lax.gt(rows, jj), div(s, unsqueeze(d, -1)),
                    where(lax.eq(rows, jj), broadcast_to(unsqueeze(d, -1), tuple(s.shape)),
                          lax.full(shape=tuple(s.shape), value=0, dtype=A.dtype)))
        cols.append(col)
    L = stack(cols, -1) if n else A
    if upper:
        return mT(L)
    return L


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B for a triangular A (torch.linalg.solve_triangular; left=False solves X A = B)."""
    A = _square("solve_triangular", A)
    if not left:
        return mT(solve_triangular(mT(A), mT(as_array(B, "solve_triangular")), upper=not upper,
                                   unitriangular=unitriangular))
    B = as_array(B, "solve_triangular")
    if B.ndim < 2:
        raise ShapeError(f"solve_triangular: B must be (..., n, k), got {describe([A.aval, B.aval])}")
    A, B, _ = _batched("solve_triangular", A, B)
    return (_back_substitute if upper else _forward_substitute)(A, B, unitriangular)
