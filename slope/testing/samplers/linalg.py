"""Sampler of dot_general (slope/primitives/linalg.py): a fixed set of contraction cases."""
from __future__ import annotations

import numpy as np

from slope.testing.samplers.base import draw_array, sampler, strategies

DOT_CASES = [  # (x shape, y shape, contracting, batch)
    ((2, 3), (3, 4), ((1,), (0,)), ((), ())),  # matmul
    ((3,), (3,), ((0,), (0,)), ((), ())),  # inner
    ((2,), (3,), ((), ()), ((), ())),  # outer
    ((2, 2, 3), (2, 3, 4), ((2,), (1,)), ((0,), (0,))),  # bmm
    ((3, 2), (4, 3), ((0,), (1,)), ((), ())),  # transposed operands
    ((2, 3, 2), (3, 2), ((1,), (0,)), ((2,), (1,))),  # batch dim not leading
]


@sampler("dot_general")
def _dot_sample(draw, dtype):
    xs, ys, c, b = draw(strategies().sampled_from(DOT_CASES))
    params = {"contracting_dims": c, "batch_dims": b}
    if draw(strategies().booleans()):  # the optional param spelled out: the operands' dtype, or a wider one
        params["preferred_dtype"] = draw(strategies().sampled_from([dtype, *_wider(dtype)]))
    return [draw_array(draw, xs, dtype), draw_array(draw, ys, dtype)], params


def _wider(dtype):
    """The wider dtypes of dtype's kind that verify's dtypes of dot_general reach."""
    from slope.core import dtypes as dt

    return {"float32": [dt.float64], "int32": [dt.int64]}.get(dtype.name, [])


def _orthogonal(draw, n):
    """A random orthogonal n x n matrix (QR of drawn Gaussian entries, signs fixed)."""
    g = np.asarray(draw_array(draw, (n, n), _f64(), -2.0, 2.0), np.float64) + 3.0 * np.eye(n)
    q, r = np.linalg.qr(g)
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def _f64():
    from slope.core import dtypes as dt

    return dt.float64


DECOMP_SHAPES = [(1, 1), (2, 2), (3, 3), (4, 4), (2, 3, 3)]


@sampler("eigh")
def _eigh_sample(draw, dtype):
    """Symmetric matrices Q diag(w) Q^T with eigenvalues at least 0.5 apart (derivatives need distinct ones)."""
    shape = draw(strategies().sampled_from(DECOMP_SHAPES))
    n = shape[-1]
    mats = []
    for _ in range(int(np.prod(shape[:-2], dtype=np.int64))):
        q = _orthogonal(draw, n)
        w = np.sort(draw(strategies().permutations(list(range(n))))) * 0.7 - 1.0 + draw_array(draw, (n,), _f64(), 0, 0.2)
        mats.append(q @ np.diag(w) @ q.T)
    return [np.stack(mats).reshape(shape).astype(dtype.np)], {}


SVD_SHAPES = [(1, 1), (2, 2), (3, 2), (2, 3), (4, 3), (3, 3), (2, 3, 2)]


@sampler("svd")
def _svd_sample(draw, dtype):
    """U diag(s) V^T with singular values in [0.5, 3] at least 0.4 apart."""
    shape = draw(strategies().sampled_from(SVD_SHAPES))
    m, n = shape[-2:]
    k = min(m, n)
    mats = []
    for _ in range(int(np.prod(shape[:-2], dtype=np.int64))):
        u, v = _orthogonal(draw, m)[:, :k], _orthogonal(draw, n)[:, :k]
        s = 0.5 + 0.5 * np.arange(k)[::-1] + draw_array(draw, (k,), _f64(), 0, 0.1)
        mats.append(u @ np.diag(s) @ v.T)
    return [np.stack(mats).reshape(shape).astype(dtype.np)], {}
