"""Lowerings of the creation primitives (full, iota)."""
from __future__ import annotations

from slope.backends.iree.emitter import lowering, mlir_type, scalar_literal


@lowering("full")
def _full(ctx, args, in_avals, out_avals, *, shape, value, dtype):
    return [ctx.op(f"stablehlo.constant dense<{scalar_literal(value, dtype)}> : {mlir_type(out_avals[0])}", out_avals[0])]


@lowering("iota")
def _iota(ctx, args, in_avals, out_avals, *, shape, dimension, dtype):
    return [ctx.generic("stablehlo.iota", [], [], out_avals, f"iota_dimension = {dimension} : i64")]
