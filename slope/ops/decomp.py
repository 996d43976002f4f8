"""Dense linear algebra as slope programs (StableHLO has no LAPACK): Gaussian elimination with partial
pivoting (solve, inv, det, slogdet), Cholesky, triangular solves. Each is unrolled over the matrix
size n (n steps of O(n^2) elementwise work, batched over leading dims), so it suits small and medium
n (the program grows with n); derivatives are those of the unrolled algorithm (exact up to rounding).
Pivot choices are data (an argmax per step, applied as one-hot row swaps), so everything works under
jit, grad and vmap."""
from __future__ import annotations

import collections as _collections

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.errors import ArgumentError, DTypeError, ShapeError, describe
from slope.ops.arithmetic import abs, add, div, log, mul, sign, sqrt, stop_gradient, sub, where
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
        A = add(A, mul(swap, unsqueeze(sub(_row(A, ep), _row(A, ek)), -2)))
        if B is not None:
            B = add(B, mul(swap, unsqueeze(sub(_row(B, ep), _row(B, ek)), -2)))
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
    triangle of A is read; the gradient is the symmetric one, as torch's); upper=True returns L^T. A matrix that is not positive definite gives NaN
    entries (torch raises)."""
    A = _square("cholesky", A)
    from slope.ops.layout import mT, tril
    sym = mul(add(A, mT(A)), 0.5)  # the lower triangle's value with the symmetric gradient (as torch)
    A = add(sym, stop_gradient(sub(add(tril(A), mT(tril(A, -1))), sym)))
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


# ---------------------------------------------------------------- eigh, svd (primitives: slope/primitives/decomp.py), qr

_Eigh = _collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])
_SVD = _collections.namedtuple("svd", ["U", "S", "Vh"])
_TorchSVD = _collections.namedtuple("svd", ["U", "S", "V"])
_QR = _collections.namedtuple("qr", ["Q", "R"])
_Lstsq = _collections.namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


def _float_matrix(op, A):
    A = as_array(A, op)
    if not A.dtype.is_float:
        if A.dtype.is_bool:
            raise DTypeError(f"{op}: expects a floating-point matrix, got {A.aval.str_short()}")
        A = astype(A, dt.default_float)
    if A.ndim < 2:
        raise ShapeError(f"{op}: expects a (batch of) matrix (..., m, n), got {A.aval.str_short()}")
    return A


def _mT(A):
    from slope.ops.layout import mT
    return mT(A)


def eigh(A, UPLO="L"):
    """(eigenvalues, eigenvectors) of a symmetric matrix (torch.linalg.eigh): eigenvalues ascending, A = V diag(w)
    V^T. Only the lower (UPLO='L') or upper ('U') triangle of A is read; the gradient is the symmetric one
    (as torch). Parallel cyclic Jacobi with a fixed 10 sweeps (slope/primitives/decomp.py): accurate to
    float rounding for n up to a few dozen (a loop of 10 sweeps of n rounds of n x n products). Each
    eigenvector is signed so its largest entry is positive (LAPACK's signs are arbitrary); derivatives need
    distinct eigenvalues."""
    from slope.ops.layout import tril, triu
    A = _square("eigh", A)
    if UPLO not in ("L", "U"):
        raise ArgumentError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    tri = add(tril(A), _mT(tril(A, -1))) if UPLO == "L" else add(triu(A), _mT(triu(A, 1)))
    sym = mul(add(A, _mT(A)), 0.5)
    w, V = lax.eigh(add(sym, stop_gradient(sub(tri, sym))))  # the triangle's value, the symmetric gradient
    return _Eigh(w, V)


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of a symmetric matrix, ascending (torch.linalg.eigvalsh; see eigh)."""
    return eigh(A, UPLO).eigenvalues


def _complement(Q):
    """(..., m, m - k) orthonormal columns orthogonal to the k orthonormal columns of Q (..., m, k)."""
    full = qr(Q, mode="complete").Q
    m, k = Q.shape[-2], Q.shape[-1]
    return _columns(full, k, m)


def _columns(M, lo, hi):
    """M[..., :, lo:hi] as a product with a 0/1 matrix (see _col)."""
    n = M.shape[-1]
    pick = astype(lax.eq(lax.iota(shape=(n, hi - lo), dimension=0, dtype=dt.int32),
                         add(lax.iota(shape=(n, hi - lo), dimension=1, dtype=dt.int32), lo)), M.dtype)
    from slope.ops.linalg import matmul
    return matmul(M, pick)


def svd(A, full_matrices=True):
    """(U, S, Vh) with A = U diag(S) Vh (torch.linalg.svd): S descending. One-sided Jacobi with a fixed 10
    sweeps (slope/primitives/decomp.py): singular values to ~eps * ||A||, vectors to ~eps * ||A|| / gap,
    for sizes up to a few dozen. Each column of U is signed so its largest entry is positive (with the row of
    Vh). full_matrices=True completes U or Vh of a non-square A with an orthonormal basis of the complement
    (not unique: it differs from LAPACK's); derivatives need distinct nonzero singular values."""
    from slope.ops.shape import cat
    A = _float_matrix("svd", A)
    U, S, Vh = lax.svd(A)
    m, n = A.shape[-2], A.shape[-1]
    if full_matrices and m > n:
        U = cat([U, stop_gradient(_complement(U))], -1)
    if full_matrices and n > m:
        Vh = cat([Vh, _mT(stop_gradient(_complement(_mT(Vh))))], -2)
    return _SVD(U, S, Vh)


def svdvals(A):
    """The singular values, descending (torch.linalg.svdvals; see svd)."""
    return lax.svd(_float_matrix("svdvals", A))[1]


def torch_svd(A, some=True, compute_uv=True):
    """torch.svd (deprecated in torch): (U, S, V) with V = Vh^T; some=True is the thin SVD."""
    U, S, Vh = svd(A, full_matrices=not some)
    if not compute_uv:
        from slope.ops.creation import zeros_like
        return _TorchSVD(zeros_like(U), S, _mT(zeros_like(Vh)))
    return _TorchSVD(U, S, _mT(Vh))


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R (torch.linalg.qr): Householder reflections as LAPACK's geqrf/orgqr make them, so
    R's diagonal has LAPACK's signs (R[k, k] = -sign(a) * norm, a the leading entry of the column
    reflected). mode 'reduced' (Q: (..., m, k), R: (..., k, n), k = min(m, n)), 'complete' (Q: m x m,
    R: m x n) or 'r' (Q empty). Unrolled over the k columns; differentiable through the reflections."""
    if mode not in ("reduced", "complete", "r"):
        raise ArgumentError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    A = _float_matrix("qr", A)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    rows = lax.iota(shape=tuple(A.shape[:-2]) + (m,), dimension=A.ndim - 2, dtype=dt.int32)
    eye = astype(lax.eq(lax.iota(shape=(m, m), dimension=0, dtype=dt.int32),
                        lax.iota(shape=(m, m), dimension=1, dtype=dt.int32)), A.dtype)
    Q, R = broadcast_to(eye, tuple(A.shape[:-2]) + (m, m)), A
    zero = lax.full(shape=tuple(A.shape[:-2]), value=0, dtype=A.dtype)
    one = lax.full(shape=tuple(A.shape[:-2]), value=1, dtype=A.dtype)
    for j in range(k if m > 1 else 0):
        if j == m - 1:  # a 1-row reflection: LAPACK leaves it as the identity
            break
        jj = lax.full(shape=tuple(rows.shape), value=j, dtype=dt.int32)
        x = where(lax.ge(rows, jj), _col(R, j), lax.full(shape=tuple(rows.shape), value=0, dtype=A.dtype))
        alpha = _at(x, j)
        below = where(lax.gt(rows, jj), x, lax.full(shape=tuple(rows.shape), value=0, dtype=A.dtype))
        bnorm2 = _sum(mul(below, below), -1)
        trivial = lax.eq(bnorm2, zero)  # nothing below the diagonal: H = I (tau = 0), as LAPACK
        norm = sqrt(add(mul(alpha, alpha), where(trivial, one, bnorm2)))
        beta = where(lax.ge(alpha, zero), lax.neg(norm), norm)
        tau = where(trivial, zero, div(sub(beta, alpha), beta))
        v = add(div(below, unsqueeze(where(trivial, one, sub(alpha, beta)), -1)), _e(A, j, m))  # v[j] = 1
        # R <- (I - tau v v^T) R ; Q <- Q (I - tau v v^T)
        vR = _sum(mul(unsqueeze(v, -1), R), -2)  # v^T R  (..., n)
        R = sub(R, mul(unsqueeze(mul(unsqueeze(tau, -1), v), -1), unsqueeze(vR, -2)))
        Qv = _sum(mul(Q, unsqueeze(v, -2)), -1)  # Q v  (..., m)
        Q = sub(Q, mul(unsqueeze(mul(unsqueeze(tau, -1), Qv), -1), unsqueeze(v, -2)))
    from slope.ops.layout import triu
    R = triu(R)
    if mode == "complete":
        return _QR(Q, R)
    if mode == "r":
        return _QR(lax.full(shape=(0,), value=0, dtype=A.dtype), _rows(R, 0, k))
    return _QR(_columns(Q, 0, k), _rows(R, 0, k))


def _rows(M, lo, hi):
    return _mT(_columns(_mT(M), lo, hi))


def _default_rtol(A, S, atol, rtol):
    m, n = A.shape[-2], A.shape[-1]
    if rtol is None:
        rtol = 0.0 if atol not in (None, 0) else max(m, n) * float(np.finfo(A.dtype.np).eps)
    smax = S[..., 0] if S.shape[-1] else lax.full(shape=tuple(S.shape[:-1]), value=0, dtype=S.dtype)
    tol = mul(unsqueeze(smax, -1), rtol)
    if atol is not None:
        from slope.ops.arithmetic import maximum
        tol = maximum(tol, atol)
    return tol


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse (torch.linalg.pinv) from the SVD: singular values at most
    max(atol, rtol * max(S)) count as 0 (rtol defaults to max(m, n) * eps when atol is not given)."""
    A = _float_matrix("pinv", A)
    U, S, Vh = lax.svd(A)
    from slope.ops.arithmetic import gt
    keep = gt(S, _default_rtol(A, S, atol, rtol))
    inv_s = where(keep, div(1.0, where(keep, S, lax.full(shape=tuple(S.shape), value=1, dtype=S.dtype))),
                  lax.full(shape=tuple(S.shape), value=0, dtype=S.dtype))
    from slope.ops.linalg import matmul
    return matmul(mul(_mT(Vh), unsqueeze(inv_s, -2)), _mT(U))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values above max(atol, rtol * max(S)) (torch.linalg.matrix_rank), int64."""
    A = _float_matrix("matrix_rank", A)
    S = svdvals(A)
    from slope.ops.arithmetic import gt
    return _sum(astype(gt(S, _default_rtol(A, S, atol, rtol)), dt.default_int), -1)


def lstsq(A, B, rcond=None, *, driver=None):
    """torch.linalg.lstsq: the minimum-norm least-squares solution pinv(A) @ B (what CPU torch's default
    'gelsy' gives for full-rank A), with rank; residuals and singular_values are empty, as gelsy's."""
    A = _float_matrix("lstsq", A)
    B = as_array(B, "lstsq")
    from slope.ops.linalg import matmul
    X = matmul(pinv(A, rtol=rcond), B)
    empty = lax.full(shape=(0,), value=0, dtype=A.dtype)
    return _Lstsq(X, empty, matrix_rank(A, rtol=rcond), empty)


def cond(A, p=None):
    """The condition number (torch.linalg.cond): S_max / S_min for p None or 2 (-2: the reciprocal), else
    norm(A, p) * norm(inv(A), p)."""
    from slope.ops.norms import matrix_norm
    A = _float_matrix("cond", A)
    if p in (None, 2, -2):
        S = svdvals(A)
        r = div(S[..., 0], S[..., -1])
        return r if p != -2 else div(1.0, r)
    return mul(matrix_norm(A, p), matrix_norm(inv(A), p))


def matrix_power(A, n):
    """A @ A @ ... (n times; n = 0 gives the identity, n < 0 powers the inverse) (torch.linalg.matrix_power)."""
    from slope.ops.linalg import matmul
    A = as_array(A, "matrix_power")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"matrix_power: expects a (batch of) square matrix, got {A.aval.str_short()}")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise ArgumentError(f"matrix_power: n must be an int, got {n!r}")
    if n < 0:
        A, n = inv(A), -n
    m = A.shape[-1]
    out = broadcast_to(astype(lax.eq(lax.iota(shape=(m, m), dimension=0, dtype=dt.int32),
                                     lax.iota(shape=(m, m), dimension=1, dtype=dt.int32)), A.dtype), tuple(A.shape))
    base = A
    while n:  # square-and-multiply
        if n & 1:
            out = matmul(out, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return out
