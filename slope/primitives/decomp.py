"""eigh and svd: the symmetric eigendecomposition and the thin singular value decomposition.

StableHLO has no LAPACK, so both are slope programs (`jacobi_eigh` / `jacobi_svd` below, written with
lax primitives): cyclic Jacobi rotations in a parallel (round-robin) order, n/2
disjoint rotations per round applied as one orthogonal matrix, n - 1 rounds (n even; n rounds for odd n)
per sweep, a fixed number of sweeps (SWEEPS). The lowering runs the sweeps as a loop (stablehlo.while)
whose body is one sweep, its rounds unrolled: the program grows as n rounds of n x n matmuls, which
suits n up to a few dozen (unrolled, the ten sweeps made the programs ten times larger, and IREE's
compile time with them: slope/backends/iree/lowerings/decomp.py). eigh rotates A two-sidedly (A <- J^T A J); svd rotates the
columns of A one-sidedly (Hestenes: A <- A J until its columns are orthogonal; their norms are the
singular values). Jacobi converges quadratically: SWEEPS sweeps reach the dtype's rounding for the
sizes above (eigenvalues and singular values to ~eps * ||A||, vectors to ~eps * ||A|| / gap).

Results are canonical: eigenvalues ascending, singular values descending; each eigenvector (each left
singular vector, with its right one) is signed so that its entry of largest magnitude (the first such)
is positive. The derivatives are the matrix-calculus ones (jvp rules, which bind eigh/svd again, so
higher orders follow), defined for distinct eigenvalues / distinct nonzero singular values (ties give
inf/NaN, as in PyTorch and JAX).
"""
from __future__ import annotations

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.errors import DTypeError, ShapeError
from slope.primitives.rules import moveaxis
from slope.primitives.spec import REGISTRY, ErrorInput, Spec, register
from slope.primitives.verify import Exempt, Verify

SWEEPS = 10  # Jacobi sweeps (each of n - 1 or n rounds)


# ---------------------------------------------------------------- lax helpers (batched over leading dims)


def _full(shape, value, dtype):
    return lax.full(shape=tuple(shape), value=value, dtype=dtype)


def _bcast(x, shape, dims):
    return lax.broadcast_in_dim(x, shape=tuple(shape), broadcast_dimensions=tuple(dims))


def _mm(a, b):
    """a @ b for (..., m, k) @ (..., k, n) with equal leading dims."""
    nb = a.ndim - 2
    return lax.dot_general(a, b, contracting_dims=((nb + 1,), (nb,)), batch_dims=(tuple(range(nb)), tuple(range(nb))))


def _mT(a):
    perm = tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2)
    return lax.transpose(a, perm=perm)


def _const_matrix(shape, fn, dtype):
    """A (..., r, c) matrix fn(i, j) of int32 row/col iotas, as dtype, broadcast to shape."""
    r, c = shape[-2], shape[-1]
    i = lax.iota(shape=(r, c), dimension=0, dtype=dt.int32)
    j = lax.iota(shape=(r, c), dimension=1, dtype=dt.int32)
    m = fn(i, j)
    m = lax.convert(m, dtype=dtype) if m.dtype is not dtype else m
    return _bcast(m, shape, (len(shape) - 2, len(shape) - 1))


def _eye(shape, dtype):
    return _const_matrix(shape, lambda i, j: lax.eq(i, j), dtype)


def _diag(a):
    """The diagonal (..., n) of (..., n, n)."""
    return lax.reduce_sum(lax.mul(a, _eye(a.shape, a.dtype)), axes=(a.ndim - 1,))


def _col_vec(v, shape):  # (..., n) -> (..., n, n) varying along rows
    return _bcast(v, shape, tuple(range(v.ndim - 1)) + (v.ndim - 1,))


def _row_vec(v, shape):  # (..., n) -> (..., n, n) varying along columns
    return _bcast(v, shape, tuple(range(v.ndim - 1)) + (v.ndim,))


def _int_const(shape, value):
    return _full(shape, value, dt.int32)


def _partner(r, n_players, n):
    """The round-robin pairing of round r for n_players (even) players, as an n x n int32 0/1 matrix
    M[i, j] = (j == partner(i)) over the first n players (the circle method: i, j < n_players - 1
    pair when i + j == 2r mod (n_players - 1); the one with 2i == 2r pairs with the last player)."""
    k = n_players - 1

    def fn(i, j):
        shape = tuple(i.shape)
        two_r = _int_const(shape, (2 * r) % k)
        kk = _int_const(shape, k)
        last = _int_const(shape, n_players - 1)
        p = lax.rem(lax.add(lax.sub(two_r, i), kk), kk)  # (2r - i) mod k, for i < k
        p = lax.select(lax.eq(p, i), last, p)
        p = lax.select(lax.eq(i, last), _int_const(shape, r % k), p)
        return lax.eq(j, p)

    return _const_matrix((n, n), fn, dt.int32)


def _rotation(d, dp, off, M, is_p, shape, dtype):
    """The orthogonal J of one round: for each pair (p, q), J[p,p] = J[q,q] = c, J[p,q] = s, J[q,p] = -s with
    the angle that zeroes the off-diagonal entry of the 2x2 symmetric [[a_pp, a_pq], [a_pq, a_qq]]."""
    z = _full(d.shape, 0, dtype)
    delta = lax.select(is_p, lax.sub(dp, d), lax.sub(d, dp))  # a_qq - a_pp
    neg = lax.lt(delta, z)
    two_off = lax.add(off, off)
    theta = lax.atan2(lax.select(neg, lax.neg(two_off), two_off), lax.abs(delta))  # |2 theta| <= pi/2
    theta = lax.mul(theta, _full(d.shape, 0.5, dtype))
    c, s = lax.cos(theta), lax.sin(theta)
    sigma_s = lax.select(is_p, s, lax.neg(s))
    J = lax.add(lax.mul(_eye(shape, dtype), _col_vec(c, shape)), lax.mul(M, _col_vec(sigma_s, shape)))
    return J


def _round_setup(r, n, batch, dtype):
    n_players = n + (n % 2)
    Mi = _partner(r, n_players, n)  # (n, n) int32
    shape = tuple(batch) + (n, n)
    M = _bcast(lax.convert(Mi, dtype=dtype), shape, (len(batch), len(batch) + 1))
    idx = lax.iota(shape=(n,), dimension=0, dtype=dt.int32)
    partner_idx = lax.reduce_sum(lax.mul(Mi, _bcast(idx, (n, n), (1,))), axes=(1,))
    paired = lax.reduce_max(Mi, axes=(1,))  # 0 where i sits out (odd n)
    is_p = lax.and_(lax.lt(idx, partner_idx), lax.ne(paired, _int_const((n,), 0)))
    is_p = _bcast(is_p, tuple(batch) + (n,), (len(batch),))
    return M, is_p


def _rounds(n):
    return (n - 1 if n % 2 == 0 else n) if n > 1 else 0


def _sign_canonical(V, dtype):
    """+-1 per column (..., n) making each column's first largest-magnitude entry positive."""
    a = lax.abs(V)
    col = V.ndim - 2
    i = lax.argmax(a, axis=col, index_dtype=dt.int32)  # (..., k)
    rows = lax.iota(shape=tuple(V.shape), dimension=col, dtype=dt.int32)
    onehot = lax.eq(rows, _bcast(i, V.shape, tuple(d for d in range(V.ndim) if d != col)))
    pick = lax.reduce_sum(lax.select(onehot, V, _full(V.shape, 0, dtype)), axes=(col,))
    return lax.select(lax.lt(pick, _full(pick.shape, 0, dtype)), _full(pick.shape, -1, dtype),
                      _full(pick.shape, 1, dtype))


def _permute_columns(V, order):
    """V[..., :, order] for an int32 order (..., k), as a one-hot matmul (exact)."""
    n, k = V.shape[-1], order.shape[-1]
    shape = tuple(order.shape[:-1]) + (n, k)
    rows = lax.iota(shape=shape, dimension=len(shape) - 2, dtype=dt.int32)
    P = lax.convert(lax.eq(rows, _row_vec(order, shape)), dtype=V.dtype)
    return _mm(V, P)


def _lower_symmetric(a):
    """The symmetric matrix whose lower triangle is a's (what LAPACK's eigh with UPLO='L' reads)."""
    shape = tuple(a.shape)
    on_or_below = _const_matrix(shape, lambda i, j: lax.ge(i, j), a.dtype)
    below = _const_matrix(shape, lambda i, j: lax.gt(i, j), a.dtype)
    return lax.add(lax.mul(a, on_or_below), _mT(lax.mul(a, below)))


def jacobi_eigh(A):
    """[w ascending, V canonical]: A = V diag(w) V^T for the symmetric matrix of A's lower triangle
    (..., n, n): eigh_start, SWEEPS x eigh_sweep, eigh_finish (the lowering runs the sweeps as a loop)."""
    state = eigh_start(A)
    for _ in range(SWEEPS):
        state = eigh_sweep(*state)
    return eigh_finish(*state)


def eigh_start(A):
    """[A, V]: the symmetric matrix of A's lower triangle, and V = I."""
    A = _lower_symmetric(A)
    return [A, _eye(tuple(A.shape), A.dtype)]


def eigh_sweep(A, V):
    """One Jacobi sweep: every pair of indices rotated once (A <- J^T A J, V <- V J per round)."""
    n, dtype, batch = A.shape[-1], A.dtype, tuple(A.shape[:-2])
    shape = tuple(A.shape)
    for r in range(_rounds(n)):
        M, is_p = _round_setup(r, n, batch, dtype)
        d = _diag(A)
        dp = lax.reduce_sum(lax.mul(M, _row_vec(d, shape)), axes=(A.ndim - 1,))  # d[partner(i)]
        off = lax.reduce_sum(lax.mul(M, A), axes=(A.ndim - 1,))  # A[i, partner(i)]
        J = _rotation(d, dp, off, M, is_p, shape, dtype)
        A = _mm(_mT(J), _mm(A, J))
        V = _mm(V, J)
    return [A, V]


def eigh_finish(A, V):
    """[w ascending, V canonical] from the rotated A (diagonal up to rounding) and V."""
    shape = tuple(A.shape)
    w = _diag(A)
    order = lax.argsort(w, dimension=w.ndim - 1, index_dtype=dt.int32)
    w = lax.sort(w, dimension=w.ndim - 1, num_keys=1)[0]
    V = _permute_columns(V, order)
    return [w, lax.mul(V, _row_vec(_sign_canonical(V, A.dtype), shape))]


def jacobi_svd(A):
    """[U, S descending, Vh]: the thin SVD of A (..., m, n): svd_start, SWEEPS x svd_sweep, svd_finish
    (the lowering runs the sweeps as a loop)."""
    state = svd_start(A)
    for _ in range(SWEEPS):
        state = svd_sweep(*state)
    return svd_finish(*state, wide=A.shape[-2] < A.shape[-1])


def svd_start(A):
    """[W, V]: A (its transpose if it is wide: the sweeps orthogonalize the columns of a tall W) and V = I."""
    W = _mT(A) if A.shape[-2] < A.shape[-1] else A
    n = W.shape[-1]
    return [W, _eye(tuple(W.shape[:-2]) + (n, n), W.dtype)]


def svd_sweep(W, V):
    """One one-sided Jacobi sweep: every pair of columns of W rotated once (W <- W J, V <- V J per round)."""
    n, dtype, batch = W.shape[-1], W.dtype, tuple(W.shape[:-2])
    sq = batch + (n, n)
    for r in range(_rounds(n)):
        M, is_p = _round_setup(r, n, batch, dtype)
        d = lax.reduce_sum(lax.mul(W, W), axes=(W.ndim - 2,))  # column norms^2
        dp = lax.reduce_sum(lax.mul(M, _row_vec(d, sq)), axes=(W.ndim - 1,))
        off = lax.reduce_sum(lax.mul(W, _mm(W, M)), axes=(W.ndim - 2,))  # <w_i, w_partner(i)>
        J = _rotation(d, dp, off, M, is_p, sq, dtype)
        W = _mm(W, J)
        V = _mm(V, J)
    return [W, V]


def svd_finish(W, V, wide: bool):
    """[U, S descending, Vh] from the orthogonalized W and V (of A's transpose if `wide`: U and Vh swap
    roles, and the signs follow the left vectors)."""
    dtype = W.dtype
    S = lax.sqrt(lax.reduce_sum(lax.mul(W, W), axes=(W.ndim - 2,)))
    order = lax.argsort(lax.neg(S), dimension=S.ndim - 1, index_dtype=dt.int32)
    W, V = _permute_columns(W, order), _permute_columns(V, order)
    S = lax.neg(lax.sort(lax.neg(S), dimension=S.ndim - 1, num_keys=1)[0])
    zero = lax.eq(S, _full(S.shape, 0, dtype))
    safe = lax.select(zero, _full(S.shape, 1, dtype), S)
    U = lax.div(W, _row_vec(safe, W.shape))
    sgn = _sign_canonical(U, dtype)
    U, Vh = lax.mul(U, _row_vec(sgn, U.shape)), _mT(lax.mul(V, _row_vec(sgn, V.shape)))
    if not wide:
        return [U, S, Vh]
    V, Uh = _mT(Vh), _mT(U)
    sgn = _sign_canonical(V, dtype)  # re-sign by the left vectors
    return [lax.mul(V, _row_vec(sgn, V.shape)), S, lax.mul(Uh, _col_vec(sgn, Uh.shape))]


# ---------------------------------------------------------------- eigh


def _matrix_rule(op, a, square):
    if not a.dtype.is_float:
        raise DTypeError(f"{op}: expects a floating-point matrix, got {a.str_short()}")
    if a.ndim < 2:
        raise ShapeError(f"{op}: expects a (batch of) matrix (..., m, n), got {a.str_short()}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{op}: expects a (batch of) square matrix (..., n, n), got {a.str_short()}")


def _eigh_rule(a):
    _matrix_rule("eigh", a, True)
    return [Aval(a.shape[:-1], a.dtype), Aval(a.shape, a.dtype)]


def _recip_gaps(w, shape, dtype, squares=False):
    """F[..., i, j] = 1 / (w_j - w_i) for i != j, 0 on the diagonal (w_j^2 - w_i^2 with squares)."""
    eye = _eye(shape, dtype)
    wr, wc = _row_vec(w, shape), _col_vec(w, shape)
    if squares:
        wr, wc = lax.mul(wr, wr), lax.mul(wc, wc)
    return lax.sub(lax.div(_full(shape, 1, dtype), lax.add(eye, lax.sub(wr, wc))), eye)


def _eigh_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    w, v = eigh.bind(a)
    da = _lower_symmetric(da)  # eigh reads the lower triangle
    shape, dtype = tuple(a.shape), a.dtype
    vt_da_v = _mm(_mT(v), _mm(da, v))
    dw = _diag(vt_da_v)
    dv = _mm(v, lax.mul(_recip_gaps(w, shape, dtype), vt_da_v))
    return [w, v], [dw, dv]


def _batched_vmap(name):
    """The algorithms batch over leading dims: move the vmapped dim first."""
    def rule(axis_size, args, dims):
        (x,), (d,) = args, dims
        outs = REGISTRY[name].bind(moveaxis(x, d, 0))
        return outs, [0] * len(outs)
    return rule


def _decomp_errors(op):
    def inputs():
        return [
            ErrorInput([np.ones((2, 3), np.float32)], {}, ShapeError, f"{op}: expects a \\(batch of\\) square matrix"),
            ErrorInput([np.ones((3,), np.float32)], {}, ShapeError, f"{op}: expects a \\(batch of\\) matrix"),
            ErrorInput([np.ones((2, 2), np.int32)], {}, DTypeError, f"{op}: expects a floating-point matrix, got i32"),
        ]
    return inputs


eigh = register(Spec(
    name="eigh",
    abstract_eval=_eigh_rule,
    reference=ref.eigh,
    jvp=_eigh_jvp,
    vmap=_batched_vmap("eigh"),
    multiple_results=True,
    verify=Verify(exempt={"transpose": Exempt.NOT_LINEAR}),
    error_inputs=lambda: _decomp_errors("eigh")(),
    doc="(w, V) with A = V diag(w) V^T for the symmetric A of the lower triangle: w ascending, each column of V signed so its largest "
        "entry is positive (parallel cyclic Jacobi, 10 sweeps); derivatives for distinct eigenvalues",
))


# ---------------------------------------------------------------- svd (thin)


def _svd_rule(a):
    _matrix_rule("svd", a, False)
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    batch = tuple(a.shape[:-2])
    return [Aval(batch + (m, k), a.dtype), Aval(batch + (k,), a.dtype), Aval(batch + (k, n), a.dtype)]


def _svd_jvp(primals, tangents):
    """JAX's svd_jvp_rule for real matrices: dS = U^T dA V; ds = diag(dS); F = 1/(s_j^2 - s_i^2) off the
    diagonal; dU = U (F o (dS S + S dS^T)) + (I - U U^T) dA V / s; dV likewise."""
    (a,), (da,) = primals, tangents
    u, s, vt = svd.bind(a)
    dtype = a.dtype
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    v = _mT(vt)
    ksq = tuple(a.shape[:-2]) + (k, k)
    dS = _mm(_mT(u), _mm(da, v))
    ds = _diag(dS)
    F = _recip_gaps(s, ksq, dtype, squares=True)
    dSS = lax.mul(dS, _row_vec(s, ksq))  # dS diag(s)
    SdS = lax.mul(_col_vec(s, ksq), dS)  # diag(s) dS
    du = _mm(u, lax.mul(F, lax.add(dSS, _mT(dSS))))
    dv = _mm(v, lax.mul(F, lax.add(SdS, _mT(SdS))))
    if m > n:
        dav = _mm(da, v)
        du = lax.add(du, lax.div(lax.sub(dav, _mm(u, _mm(_mT(u), dav))), _row_vec(s, dav.shape)))
    if n > m:
        dau = _mm(_mT(da), u)
        dv = lax.add(dv, lax.div(lax.sub(dau, _mm(v, _mm(vt, dau))), _row_vec(s, dau.shape)))
    return [u, s, vt], [du, ds, _mT(dv)]


svd = register(Spec(
    name="svd",
    abstract_eval=_svd_rule,
    reference=ref.svd,
    jvp=_svd_jvp,
    vmap=_batched_vmap("svd"),
    multiple_results=True,
    verify=Verify(exempt={"transpose": Exempt.NOT_LINEAR}),
    error_inputs=lambda: [
        ErrorInput([np.ones((3,), np.float32)], {}, ShapeError, "svd: expects a \\(batch of\\) matrix"),
        ErrorInput([np.ones((2, 2), np.int32)], {}, DTypeError, "svd: expects a floating-point matrix, got i32"),
    ],
    doc="thin (U, S, Vh), A = U diag(S) Vh: S descending, each column of U (with the row of Vh) signed so its "
        "largest entry is positive (one-sided Jacobi, 10 sweeps); derivatives for distinct nonzero S",
))
