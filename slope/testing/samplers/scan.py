"""Samplers of the arg-reductions and cumulative scans (slope/primitives/scan.py)."""
from __future__ import annotations

import numpy as np

from slope.core import dtypes as dt
from slope.testing.samplers.base import (
    draw_array,
    draw_shape,
    register,
    sampler,
    strategies,
)


@sampler("argmax", "argmin")
def _arg_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, min_rank=1)
    axis = draw(st.integers(0, len(shape) - 1))
    x = draw_array(draw, shape, dtype, -3, 3)
    if dtype.is_float and draw(st.booleans()):  # exact ties: the first index must win
        x = np.round(x).astype(dtype.np)
    index_dtype = draw(st.sampled_from([dt.int32, dt.int64]))
    return [x], {"axis": axis, "index_dtype": index_dtype}


def _scan_sample(distinct=False):
    def sample(draw, dtype):
        st = strategies()
        shape = draw_shape(draw, min_rank=1)
        axis = draw(st.integers(0, len(shape) - 1))
        reverse = draw(st.booleans())
        if distinct and dtype.is_float:  # running extremes far apart: FD never straddles a tie
            perm = np.asarray(draw(st.permutations(range(int(np.prod(shape))))), np.float64)
            x = (perm.reshape(shape) * 0.37 - 1.0).astype(dtype.np)
        elif dtype.is_int:
            x = draw_array(draw, shape, dtype, -3, 3)
        else:
            x = draw_array(draw, shape, dtype, -1.5, 1.5)
        return [x], {"axis": axis, "reverse": reverse}

    return sample


register("cumsum", _scan_sample())
register("cumprod", _scan_sample())
register("cummax", _scan_sample(distinct=True))
register("cummin", _scan_sample(distinct=True))
