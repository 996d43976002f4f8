"""Sampler of dot_general (slope/primitives/linalg.py): a fixed set of contraction cases."""
from __future__ import annotations

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
    return [draw_array(draw, xs, dtype), draw_array(draw, ys, dtype)], {"contracting_dims": c, "batch_dims": b}
