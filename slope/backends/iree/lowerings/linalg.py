"""Lowering of dot_general."""
from __future__ import annotations

from slope.backends.iree.emitter import lowering
from slope.core.aval import Aval


def _vector_times_rows(in_avals, contracting_dims, batch_dims):
    """Whether the dot is a vector (every lhs free dim 1) times a 2-d rhs contracted on its last dim
    (`x @ w.T` for one token): IREE 3.13 lowers that as a transposed copy of w (a dispatch of its own,
    every call) and a vecmat; as `w @ x` it is one matvec reading w in place."""
    (xc, yc), (xb, _) = contracting_dims, batch_dims
    lhs, rhs = in_avals
    if xb or rhs.ndim != 2 or tuple(yc) != (1,) or len(xc) != 1:
        return False
    return all(d == 1 for i, d in enumerate(lhs.shape) if i not in xc) and lhs.size > 1


@lowering("dot_general")
def _dot_general(ctx, args, in_avals, out_avals, *, contracting_dims, batch_dims, preferred_dtype=None):
    out = out_avals[0]
    if out.dtype is not in_avals[0].dtype:  # a wider preferred_dtype: convert (exactly), then multiply in it
        wide = [Aval(a.shape, out.dtype) for a in in_avals]
        args = [ctx.generic("stablehlo.convert", [a], [i], [w]) for a, i, w in zip(args, in_avals, wide)]
        in_avals = wide
    if _vector_times_rows(in_avals, contracting_dims, batch_dims):
        (xc, yc) = contracting_dims
        lhs, rhs = in_avals
        swapped = Aval((rhs.shape[0], *[d for i, d in enumerate(lhs.shape) if i not in xc]), out.dtype)
        d = ctx.dot_general([args[1], args[0]], [rhs, lhs], swapped, (yc, xc), ((), ()))
        return [ctx.generic("stablehlo.reshape", [d], [swapped], [out])]  # (N, 1, ...) -> (1, ..., N): unit dims
    return [ctx.dot_general(args, in_avals, out, contracting_dims, batch_dims)]
