"""Sampler of threefry2x32 (slope/primitives/random.py): keys and counters over all of uint32."""
from __future__ import annotations

from slope.testing.samplers.base import draw_array, draw_shape, sampler


@sampler("threefry2x32")
def _threefry_sample(draw, dtype):
    shape = draw_shape(draw)
    return [draw_array(draw, shape, dtype, 0, 2**32 - 1) for _ in range(4)], {}
