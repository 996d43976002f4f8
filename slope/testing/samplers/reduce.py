"""Samplers of the reductions (slope/primitives/reduce.py)."""
from __future__ import annotations

import numpy as np

from slope.testing.samplers.base import draw_array, draw_shape, draw_subset, register, strategies


def _reduce_sample(distinct_values=False):
    def sample(draw, dtype):
        shape = draw_shape(draw, [(2, 3, 4), (3,), (2, 3), (2, 1, 3), (2, 0, 3)], min_rank=1)
        axes = draw_subset(draw, range(len(shape)), min_size=1)  # several axes first
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
