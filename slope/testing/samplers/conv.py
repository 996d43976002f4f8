"""Sampler of conv (slope/primitives/conv.py): a fixed set of window/padding/dilation/group cases."""
from __future__ import annotations

from slope.testing.samplers.base import draw_array, sampler, strategies

CONV_CASES = [
    ((2, 3, 6), (4, 3, 3), (1,), ((0, 0),), (1,), (1,), 1),
    ((1, 2, 7), (2, 2, 2), (2,), ((1, 2),), (1,), (2,), 1),
    ((2, 2, 5), (4, 1, 3), (1,), ((1, 1),), (2,), (1,), 2),
    ((1, 2, 5, 4), (3, 2, 3, 2), (1, 1), ((1, 1), (0, 1)), (1, 1), (1, 1), 1),
    ((2, 4, 5, 5), (4, 2, 2, 2), (2, 1), ((0, 1), (1, 0)), (1, 1), (1, 2), 2),
    ((1, 2, 3, 4), (2, 1, 2, 2), (1, 2), ((1, -1), (2, 0)), (2, 1), (1, 1), 2),
    ((1, 3, 4, 4), (3, 1, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), (1, 1), 3),
]


@sampler("conv")
def _conv_sample(draw, dtype):
    xs, ws, s, p, ld, rd, g = draw(strategies().sampled_from(CONV_CASES))
    x, w = draw_array(draw, xs, dtype), draw_array(draw, ws, dtype)
    return [x, w], {"window_strides": s, "padding": p, "lhs_dilation": ld, "rhs_dilation": rd, "feature_group_count": g}
