"""Samplers of the indexing primitives (slope/primitives/indexing.py): index rows and start indices
include out-of-range values (clamped or dropped by the primitives)."""
from __future__ import annotations

import numpy as np

from slope.core import dtypes as dt
from slope.testing.samplers.base import draw_array, draw_shape, sampler, strategies


def _draw_indices(draw, batch, dims, index_dtype=dt.int32, slack=2):
    """Index rows for `dims`, each entry drawn from [-slack, dim - 1 + slack]: out-of-range ones included."""
    cols = [draw_array(draw, batch, dt.int32, -slack, n - 1 + slack) for n in dims]
    idx = np.stack(cols, axis=-1) if cols else np.zeros(tuple(batch) + (0,), np.int32)
    return idx.astype(index_dtype.np)


# the richest first (Hypothesis's first example takes it): a rank-3 operand, a 2-d batch of indices
_OPERANDS = [(3, 2, 2), (5,), (4, 3)]
_BATCHES = [(2, 2), (), (3,), (4,)]


def _draw_k(draw, rank):
    """How many leading dims the index rows address: 1 and 2 first (a window of the remaining dims
    and a non-trivial index map), then all of them (points) and none (the whole operand per row)."""
    return draw(strategies().sampled_from(sorted(range(rank + 1), key=lambda k: (k == 0, k == rank, k))))


@sampler("gather")
def _gather_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, _OPERANDS)
    k = _draw_k(draw, len(shape))
    batch = draw_shape(draw, _BATCHES)
    index_dtype = draw(st.sampled_from([dt.int32, dt.int64]))
    return [draw_array(draw, shape, dtype), _draw_indices(draw, batch, shape[:k], index_dtype)], {}


@sampler("scatter_add", "scatter")
def _scatter_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, _OPERANDS)
    k = _draw_k(draw, len(shape))
    batch = draw_shape(draw, _BATCHES)
    index_dtype = draw(st.sampled_from([dt.int32, dt.int64]))
    idx = _draw_indices(draw, batch, shape[:k], index_dtype, slack=1)  # small range: duplicates and drops
    return [draw_array(draw, shape, dtype), idx, draw_array(draw, tuple(batch) + shape[k:], dtype)], {}


def _draw_starts(draw, shape):
    index_dtype = draw(strategies().sampled_from([dt.int32, dt.int64]))
    return [draw_array(draw, (), dt.int32, -2, n + 1).astype(index_dtype.np) for n in shape]  # clamped when off


@sampler("dynamic_slice")
def _ds_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, [(3, 2, 4), (5,), (4, 3), ()])
    sizes = tuple(draw(st.sampled_from(sorted(range(n + 1), key=lambda m: (m in (0, n), m)))) for n in shape)
    return [draw_array(draw, shape, dtype), *_draw_starts(draw, shape)], {"slice_sizes": sizes}


@sampler("dynamic_update_slice")
def _dus_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, [(3, 2, 4), (5,), (4, 3), ()])
    u_shape = tuple(draw(st.sampled_from(sorted(range(n + 1), key=lambda m: (m in (0, n), m)))) for n in shape)
    return [draw_array(draw, shape, dtype), draw_array(draw, u_shape, dtype), *_draw_starts(draw, shape)], {}
