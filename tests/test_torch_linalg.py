"""Products, einsum, norms and slope.linalg (solve/inv/det/slogdet/cholesky/solve_triangular) against
NumPy: eager, jit, float64 gradients against central differences, vmap."""
import numpy as np
import pytest
from oracle import check, f32

import slope


def spd(n, seed=0):
    a = f32(n, n, seed=seed).astype(np.float64)
    return (a @ a.T + n * np.eye(n)).astype(np.float32)


def test_products():
    a, b, v = f32(2, 3), f32(3, 4, seed=1), f32(3, seed=2)
    check(slope.mm, np.matmul, a, b)
    check(lambda x, y: x.bmm(y), np.matmul, f32(2, 2, 3), f32(2, 3, 4, seed=1))
    check(slope.mv, np.matmul, a, v)
    check(slope.vdot, np.dot, v, f32(3, seed=3))
    check(slope.inner, np.inner, a, f32(4, 3, seed=3))
    check(lambda c, x, y: slope.addmm(c, x, y, beta=0.5, alpha=2.0), lambda c, x, y: 0.5 * c + 2 * x @ y, f32(4), a, b)
    check(lambda c, x, y: c.addmv(x, y), lambda c, x, y: c + x @ y, f32(2), a, v)
    check(lambda c, x, y: slope.baddbmm(c, x, y), lambda c, x, y: c + x @ y, f32(1, 2, 4), f32(3, 2, 3), f32(3, 3, 4))
    check(lambda c, x, y: slope.addbmm(c, x, y), lambda c, x, y: c + (x @ y).sum(0), f32(2, 4), f32(3, 2, 3),
          f32(3, 3, 4), vmap=False)
    check(lambda x, y: slope.tensordot(x, y, ([0, 2], [1, 0])), lambda x, y: np.tensordot(x, y, ([0, 2], [1, 0])),
          f32(2, 3, 4), f32(4, 2, 5))
    check(lambda x, y: slope.tensordot(x, y, 1), lambda x, y: np.tensordot(x, y, 1), a, b)
    check(slope.kron, np.kron, f32(2, 3), f32(2, 2, seed=1))
    check(lambda x: x.kron(slope.tensor(f32(3, seed=2))), lambda x: np.kron(x, f32(3, seed=2)), f32(2), vmap=False)
    with pytest.raises(slope.ShapeError, match=r"mm: expects operands of 2-d, 2-d, got f32\[3\], f32\[3,4\]"):
        slope.mm(slope.tensor(v), slope.tensor(b))
    with pytest.raises(slope.ShapeError, match="bmm: batch sizes differ"):
        slope.bmm(slope.tensor(f32(2, 2, 3)), slope.tensor(f32(3, 3, 4)))


def test_dot_general_multiplies_in_a_wider_preferred_dtype():
    """preferred_dtype was once checked and then ignored: float32 operands with float64 asked for gave float32."""
    a, b = f32(2, 3), f32(3, 4, seed=1)
    matmul = {"contracting_dims": ((1,), (0,)), "batch_dims": ((), ())}
    out = slope.lax.dot_general(slope.tensor(a), slope.tensor(b), preferred_dtype=slope.float64, **matmul)
    assert out.dtype is slope.float64
    np.testing.assert_allclose(out.numpy(), a.astype(np.float64) @ b.astype(np.float64), rtol=1e-12)
    grad = slope.grad(lambda x: slope.lax.dot_general(x, slope.tensor(b), preferred_dtype=slope.float64,
                                                      **matmul).sum())(slope.tensor(a))
    assert grad.dtype is slope.float32
    np.testing.assert_allclose(grad.numpy(), np.broadcast_to(b.sum(1), (2, 3)), rtol=1e-6)
    i8 = slope.tensor(np.full((2, 3), 100, np.int8))  # 3 * 100 * 100 overflows int8 and int16
    gram = slope.jit(lambda x: slope.lax.dot_general(x, x, contracting_dims=((1,), (1,)), batch_dims=((), ()),
                                                     preferred_dtype=slope.int32))(i8)
    assert gram.dtype is slope.int32 and (gram.numpy() == 30000).all()
    with pytest.raises(slope.DTypeError, match="preferred_dtype=float16 must be float32"):
        slope.lax.dot_general(slope.tensor(a), slope.tensor(b), preferred_dtype=slope.float16, **matmul)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]), ("i,j->ij", [(3,), (4,)]), ("ij,ij->i", [(2, 3), (2, 3)]),
    ("ijk,jl,lk->i", [(2, 3, 4), (3, 5), (5, 4)]), ("iij->j", [(2, 2, 3)]),
    ("ij,kl,jk->il", [(2, 3), (4, 5), (3, 4)]), ("a...,...b->a...b", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum(eq, shapes):
    args = [f32(*s, seed=i) for i, s in enumerate(shapes)]
    check(lambda *xs: slope.einsum(eq, *xs), lambda *xs: np.einsum(eq, *xs), *args, rtol=2e-5,
          vmap=len(shapes[0]) > 1 and "..." not in eq)


def test_einsum_errors():
    with pytest.raises(slope.ShapeError, match="einsum: the equation 'ij,jk' has 2 operand terms, got 1"):
        slope.einsum("ij,jk", slope.tensor(f32(2, 3)))
    with pytest.raises(slope.ShapeError, match="einsum: term 'ijk' has 3 labels"):
        slope.einsum("ijk->i", slope.tensor(f32(2, 3)))


def test_norms():
    x = f32(3, 4)
    for p in (2, 1, 3.5, np.inf, -np.inf):
        check(lambda a, p=p: slope.linalg.vector_norm(a, p, 1), lambda a, p=p: np.linalg.norm(a, p, 1), x,
              grad=p not in (np.inf, -np.inf), rtol=2e-6, grad_rtol=1e-4)
    check(lambda a: slope.linalg.vector_norm(a, 0), lambda a: np.float32(np.count_nonzero(a)), x, grad=False)
    for o in ("fro", 1, -1, np.inf, -np.inf):
        check(lambda a, o=o: slope.linalg.matrix_norm(a, o), lambda a, o=o: np.linalg.norm(a, o, (-2, -1)),
              f32(2, 3, 4), grad=o == "fro", rtol=2e-6)
    check(lambda a: slope.linalg.norm(a), lambda a: np.linalg.norm(a), x, rtol=2e-6)
    check(lambda a: a.norm(dim=1, keepdim=True), lambda a: np.linalg.norm(a, axis=1, keepdims=True), x, rtol=2e-6)
    check(lambda a: slope.norm(a, 1), lambda a: np.abs(a).sum(), x)
    g = slope.grad(lambda a: slope.linalg.vector_norm(a))(slope.zeros(3))
    assert g.tolist() == [0.0, 0.0, 0.0]
    for o in ("nuc", 2, -2):  # from the singular values (slope.linalg.svdvals)
        check(lambda a, o=o: slope.linalg.matrix_norm(a, o), lambda a, o=o: np.linalg.norm(a, o, (-2, -1)),
              f32(3, 4), rtol=1e-5, grad_rtol=1e-5, vmap=False)


def test_cdist():
    a, b = f32(3, 2), f32(4, 2, seed=1)
    def ref(a, b, p):
        return np.linalg.norm(a[..., :, None, :] - b[..., None, :, :], p, -1)
    check(slope.cdist, lambda a, b: ref(a, b, 2), a, b, rtol=2e-6, grad_rtol=1e-4)
    check(lambda a, b: slope.cdist(a, b, 1.0), lambda a, b: ref(a, b, 1), f32(2, 3, 2), f32(2, 4, 2, seed=1), vmap=False)


def test_solve_inv_det_slogdet():
    A = f32(4, 4, seed=3)
    B = f32(4, 2, seed=4)
    check(slope.linalg.solve, np.linalg.solve, A, B, rtol=1e-4, atol=1e-5, grad_rtol=1e-3, grad_atol=1e-6)
    check(lambda a, b: slope.linalg.solve(a, b), lambda a, b: np.linalg.solve(a, b[:, None])[:, 0], A, f32(4, seed=5),
          rtol=1e-4, atol=1e-5, grad_rtol=1e-3, vmap=False)
    check(slope.linalg.inv, np.linalg.inv, A, rtol=1e-4, atol=1e-5, grad_rtol=1e-3)
    check(slope.linalg.det, np.linalg.det, A, rtol=1e-5, atol=1e-6, grad_rtol=1e-4)
    check(lambda a: tuple(slope.linalg.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)), A, rtol=1e-5, grad_rtol=1e-4)
    perm = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], np.float32)  # needs pivoting: a zero leading entry
    np.testing.assert_allclose(slope.linalg.det(slope.tensor(perm)).numpy(), 1.0)
    np.testing.assert_allclose(slope.tensor(perm).inverse().numpy(), perm.T)
    with pytest.raises(slope.ShapeError, match=r"det: expects a \(batch of\) square matrix"):
        slope.linalg.det(slope.tensor(f32(2, 3)))


def test_cholesky_solve_triangular():
    S = spd(4)
    # the symmetric gradient (torch's): the reference sees the symmetric part, the value is the lower triangle's
    check(slope.linalg.cholesky, lambda a: np.linalg.cholesky((a + a.T) / 2), S, rtol=1e-5, atol=1e-6, grad_rtol=1e-4,
          vmap=False)
    check(lambda a: a.cholesky(upper=True), lambda a: np.linalg.cholesky(a).T, S, rtol=1e-5, atol=1e-6, grad=False,
          vmap=False)
    batch = np.stack([spd(3, s) for s in range(2)])
    np.testing.assert_allclose(slope.jit(slope.vmap(slope.linalg.cholesky))(slope.tensor(batch)).numpy(),
                               np.linalg.cholesky(batch), rtol=1e-5, atol=1e-6)
    L = np.tril(f32(3, 3)) + 3 * np.eye(3, dtype=np.float32)
    check(lambda a, b: slope.linalg.solve_triangular(a, b, upper=False), lambda a, b: np.linalg.solve(np.tril(a), b),
          L, f32(3, 2, seed=1), rtol=1e-5, atol=1e-6, grad_rtol=1e-4, vmap=False)
    check(lambda a, b: slope.linalg.solve_triangular(a, b, upper=True), lambda a, b: np.linalg.solve(np.triu(a), b),
          L.T.copy(), f32(3, 2, seed=1),
          rtol=1e-5, atol=1e-6, grad_rtol=1e-4, vmap=False)
