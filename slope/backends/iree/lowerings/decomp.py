"""Lowerings of eigh and svd: the Jacobi programs of slope/primitives/decomp.py (StableHLO has no LAPACK).

Inputs and results pass an optimization barrier: without it IREE 3.13 fused the Jacobi program with the
code around it in second-derivative programs (jit of jvp of grad through eigh) and computed wrong values,
while the same program with every intermediate as an output was right (docs/stablehlo-notes.md)."""
from __future__ import annotations

from slope.backends.iree.emitter import lowering
from slope.backends.iree.lowering import lower_fn
from slope.primitives import decomp


def _fenced(fn):
    def lower(ctx, args, in_avals, out_avals):
        args = ctx.barrier(list(args), list(in_avals))
        outs = lower_fn(ctx, fn, args, in_avals)
        return ctx.barrier(list(outs), list(out_avals))
    return lower


lowering("eigh")(_fenced(decomp.jacobi_eigh))
lowering("svd")(_fenced(decomp.jacobi_svd))
