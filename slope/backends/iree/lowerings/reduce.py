"""Lowerings of the reductions (reduce_sum, reduce_max, reduce_min, reduce_prod)."""
from __future__ import annotations

import numpy as np

from slope import lax
from slope.backends.iree.emitter import dense_attr, lowering, mlir_type
from slope.backends.iree.lowering import lower_fn
from slope.core.aval import Aval


def _init_value(name, dtype):
    if name == "reduce_sum":
        return 0
    if name == "reduce_prod":
        return 1
    big = name == "reduce_min"
    if dtype.is_float:
        return float("inf") if big else float("-inf")
    if dtype.is_bool:
        return big
    info = np.iinfo(dtype.np)
    return int(info.max) if big else int(info.min)


_BODY_OP = {"reduce_sum": "stablehlo.add", "reduce_max": "stablehlo.maximum", "reduce_min": "stablehlo.minimum",
            "reduce_prod": "stablehlo.multiply"}


def _one_axis_at_a_time(name, axes):
    def reduce(x):
        for a in sorted(axes, reverse=True):  # the innermost first; the axes before it keep their numbers
            x = getattr(lax, name)(x, axes=(a,))
        return [x]

    return reduce


def _reduce_lower(name):
    def lower(ctx, args, in_avals, out_avals, *, axes):
        if name == "reduce_sum" and len(axes) > 1:
            # IREE 3.13 fuses a product of broadcasts (an outer product, expand then multiply) into a sum
            # over 2+ axes as a vector.contract it cannot build (docs/stablehlo-notes.md §0, pitfall 17);
            # sums over one axis compile, and chained ones ran 1.2-4x faster than one multi-axis reduce.
            return lower_fn(ctx, _one_axis_at_a_time(name, axes), args, in_avals)
        scalar = Aval((), in_avals[0].dtype)
        init = ctx.constant(_init_value(name, scalar.dtype), scalar)
        t = mlir_type(scalar)
        region = (f'{{\n      ^bb0(%a: {t}, %b: {t}):\n        %r = "{_BODY_OP[name]}"(%a, %b) : ({t}, {t}) -> {t}\n'
                  f'        "stablehlo.return"(%r) : ({t}) -> ()\n    }}')
        return [ctx.generic("stablehlo.reduce", [args[0], init], [in_avals[0], scalar], out_avals,
                            f"dimensions = {dense_attr(sorted(axes))}", region)]

    return lower


for _name in _BODY_OP:
    lowering(_name)(_reduce_lower(_name))
