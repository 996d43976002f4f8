"""NumPy oracles for dot_general and conv (XLA DotGeneral / ConvGeneralDilated).

Written for clarity, not speed: conv is explicit dilate+pad followed by one
einsum per kernel offset. Accumulation is at least float32 (int64 for ints).
"""
import itertools

import numpy as np

from ._common import acc_dtype, as_dtype
from .shape import pad

__all__ = ["dot_general", "conv", "eigh", "svd"]

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _out_dtype(lhs, rhs, preferred_dtype):
    return np.dtype(preferred_dtype) if preferred_dtype is not None else np.result_type(lhs.dtype, rhs.dtype)


def dot_general(lhs, rhs, *, contracting_dims, batch_dims, preferred_dtype=None):
    """Output dims: batch dims, lhs free dims (in order), rhs free dims (in order)."""
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    (lc, rc), (lb, rb) = contracting_dims, batch_dims
    out_dtype = _out_dtype(lhs, rhs, preferred_dtype)
    acc = acc_dtype(lhs.dtype, rhs.dtype, out_dtype)
    letters = iter(_LETTERS)
    ls, rs = [None] * lhs.ndim, [None] * rhs.ndim
    for lhs_dim, rhs_dim in list(zip(lb, rb)) + list(zip(lc, rc)):
        ls[lhs_dim] = rs[rhs_dim] = next(letters)
    batch = [ls[d] for d in lb]
    lfree = [d for d in range(lhs.ndim) if ls[d] is None]
    rfree = [d for d in range(rhs.ndim) if rs[d] is None]
    for d in lfree:
        ls[d] = next(letters)
    for d in rfree:
        rs[d] = next(letters)
    out_letters = batch + [ls[d] for d in lfree] + [rs[d] for d in rfree]
    spec = f"{''.join(ls)},{''.join(rs)}->{''.join(out_letters)}"
    with np.errstate(all="ignore"):
        r = np.einsum(spec, lhs.astype(acc), rhs.astype(acc), optimize=True)
    return as_dtype(r, out_dtype)


def conv(lhs, rhs, *, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
         feature_group_count=1, preferred_dtype=None):
    """Cross-correlation; lhs (N, C, *S), rhs (O, I, *K), out (N, O, *S')."""
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    nsp = lhs.ndim - 2
    lhs_dilation = tuple(lhs_dilation or (1,) * nsp)
    rhs_dilation = tuple(rhs_dilation or (1,) * nsp)
    out_dtype = _out_dtype(lhs, rhs, preferred_dtype)
    acc = acc_dtype(lhs.dtype, rhs.dtype, out_dtype)
    n, c = lhs.shape[:2]
    o, i = rhs.shape[:2]
    g = feature_group_count
    if c != g * i or o % g:
        raise ValueError(f"bad feature_group_count {g} for C={c}, I={i}, O={o}")

    # Input dilation (zeros between elements) and padding are exactly stablehlo.pad.
    x = pad(lhs.astype(acc), np.zeros((), acc),
            low=(0, 0) + tuple(p[0] for p in padding),
            high=(0, 0) + tuple(p[1] for p in padding),
            interior=(0, 0) + tuple(d - 1 for d in lhs_dilation))
    ksize = rhs.shape[2:]
    eff = [(k - 1) * d + 1 for k, d in zip(ksize, rhs_dilation)]
    out_sp = [max(0, (p - e) // s + 1) if p >= e else 0
              for p, e, s in zip(x.shape[2:], eff, window_strides)]

    x = x.reshape((n, g, i) + x.shape[2:])
    w = rhs.astype(acc).reshape((g, o // g, i) + ksize)
    out = np.zeros((n, g, o // g) + tuple(out_sp), acc)
    for offs in itertools.product(*(range(k) for k in ksize)):
        win = tuple(slice(k * d, k * d + (m - 1) * s + 1, s) if m else slice(0, 0)
                    for k, d, m, s in zip(offs, rhs_dilation, out_sp, window_strides))
        with np.errstate(all="ignore"):
            out += np.einsum("ngi...,goi->ngo...", x[(Ellipsis,) + win], w[(Ellipsis,) + offs])
    return as_dtype(out.reshape((n, o) + tuple(out_sp)), out_dtype)


def _column_signs(v):
    """+-1 per column making each column's first largest-magnitude entry positive."""
    idx = np.argmax(np.abs(v), axis=-2)
    pick = np.take_along_axis(v, idx[..., None, :], axis=-2)[..., 0, :]
    return np.where(pick < 0, -1.0, 1.0)


def eigh(a):
    """(w ascending, V) of a symmetric matrix (batch), each column of V signed so its largest entry is positive."""
    a = np.asarray(a)
    w, v = np.linalg.eigh(a.astype(np.float64))
    v = v * _column_signs(v)[..., None, :]
    return w.astype(a.dtype), v.astype(a.dtype)


def svd(a):
    """Thin (U, S descending, Vh), each column of U (and the row of Vh) signed so U's largest entry is positive."""
    a = np.asarray(a)
    u, s, vh = np.linalg.svd(a.astype(np.float64), full_matrices=False)
    sg = _column_signs(u)
    return (u * sg[..., None, :]).astype(a.dtype), s.astype(a.dtype), (vh * sg[..., :, None]).astype(a.dtype)
