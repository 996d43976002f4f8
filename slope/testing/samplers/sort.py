"""Samplers of sort and argsort (slope/primitives/sort.py)."""
from __future__ import annotations

import numpy as np

from slope.core import dtypes as dt
from slope.testing.samplers.base import draw_array, draw_shape, sampler, strategies


def _distinct(draw, shape, dtype, scale=0.37):
    """Values of `dtype` that are pairwise at least `scale` apart (float) or a permutation (int)."""
    n = int(np.prod(shape))
    perm = np.asarray(draw(strategies().permutations(range(n))), np.float64).reshape(shape)
    if dtype.is_float:
        return ((perm - n / 2) * scale).astype(dtype.np)
    return (perm - n // 2).astype(dtype.np)


@sampler("sort")
def _sort_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, min_rank=1)
    dimension = draw(st.integers(0, len(shape) - 1))
    case = draw(st.sampled_from(["one", "payload", "two_keys"]))
    if case == "one":
        args, num_keys = [_distinct(draw, shape, dtype)], 1
    elif case == "payload":
        args, num_keys = [_distinct(draw, shape, dtype), draw_array(draw, shape, dtype)], 1
    else:  # a tied integer primary key, a distinct secondary key and a payload
        primary = draw_array(draw, shape, dt.int32, 0, 2)
        args, num_keys = [primary, _distinct(draw, shape, dtype), draw_array(draw, shape, dtype)], 2
    return args, {"dimension": dimension, "num_keys": num_keys}


@sampler("argsort")
def _argsort_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, min_rank=1)
    dimension = draw(st.integers(0, len(shape) - 1))
    x = draw_array(draw, shape, dtype, -2, 2)
    if dtype.is_float and draw(st.booleans()):  # exact ties: stability decides the order
        x = np.round(x).astype(dtype.np)
    return [x], {"dimension": dimension, "index_dtype": draw(st.sampled_from([dt.int32, dt.int64]))}
