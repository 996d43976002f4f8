"""Lowerings of eigh and svd: the Jacobi programs of slope/primitives/decomp.py (StableHLO has no LAPACK)."""
from __future__ import annotations

from slope.backends.iree.emitter import lowering
from slope.backends.iree.lowering import lower_fn
from slope.primitives import decomp


@lowering("eigh")
def _eigh(ctx, args, in_avals, out_avals):
    return lower_fn(ctx, decomp.jacobi_eigh, args, in_avals)


@lowering("svd")
def _svd(ctx, args, in_avals, out_avals):
    return lower_fn(ctx, decomp.jacobi_svd, args, in_avals)
