"""Samplers of the reductions (slope/primitives/reduce.py)."""
from __future__ import annotations

import numpy as np

from slope.testing.samplers.base import draw_array, draw_shape, register, strategies


def _reduce_sample(distinct_values=False):
    def sample(draw, dtype):
        shape = draw_shape(draw, min_rank=1)
        axes = tuple(sorted(draw(strategies().sets(strategies().integers(0, len(shape) - 1), min_size=1))))
        x = draw_array(draw, shape, dtype)
        if distinct_values and dtype.is_float:  # keep maxima apart so FD does not straddle a tie
            perm = draw(strategies().permutations(range(x.size)))
            x = (np.asarray(perm, np.float64).reshape(shape) * 0.37 - 1.0).astype(dtype.np)
        return [x], {"axes": axes}

    return sample


register("reduce_sum", _reduce_sample())
register("reduce_prod", _reduce_sample())
register("reduce_max", _reduce_sample(True))
register("reduce_min", _reduce_sample(True))
