"""Lowering of dot_general."""
from __future__ import annotations

from slope.backends.iree.emitter import lowering


@lowering("dot_general")
def _dot_general(ctx, args, in_avals, out_avals, *, contracting_dims, batch_dims, preferred_dtype=None):
    return [ctx.dot_general(args, in_avals, out_avals[0], contracting_dims, batch_dims)]
