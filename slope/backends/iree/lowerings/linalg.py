"""Lowering of dot_general."""
from __future__ import annotations

from slope.backends.iree.emitter import lowering


@lowering("dot_general")
def _dot_general(ctx, args, in_avals, out_avals, *, contracting_dims, batch_dims, preferred_dtype=None):
    (xc, yc), (xb, yb) = contracting_dims, batch_dims
    fields = []
    for key, v in [("lhs_batching_dimensions", xb), ("rhs_batching_dimensions", yb),
                   ("lhs_contracting_dimensions", xc), ("rhs_contracting_dimensions", yc)]:
        if v:
            fields.append(f"{key} = [{', '.join(map(str, v))}]")
    return [ctx.generic("stablehlo.dot_general", args, in_avals, out_avals,
                        f"dot_dimension_numbers = #stablehlo.dot<{', '.join(fields)}>")]
