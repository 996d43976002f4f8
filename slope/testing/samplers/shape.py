"""Samplers of the shape primitives (slope/primitives/shape.py): shapes and params from small pools."""
from __future__ import annotations

from slope.testing.samplers.base import draw_array, draw_shape, sampler, strategies


@sampler("reshape")
def _reshape_sample(draw, dtype):
    shape = draw_shape(draw, [(6,), (2, 3), (3, 2, 1), (1, 6)])
    target = draw(strategies().sampled_from([(6,), (3, 2), (1, 2, 3), (6, 1)]))
    return [draw_array(draw, shape, dtype)], {"shape": target}


@sampler("broadcast_in_dim")
def _bid_sample(draw, dtype):
    case = draw(strategies().sampled_from([((3,), (2, 3), (1,)), ((2, 1), (2, 4), (0, 1)), ((), (2, 3), ()),
                                      ((1, 3), (2, 2, 3), (1, 2)), ((3,), (3, 2), (0,))]))
    xs, shape, bd = case
    return [draw_array(draw, xs, dtype)], {"shape": shape, "broadcast_dimensions": bd}


@sampler("transpose")
def _transpose_sample(draw, dtype):
    shape = draw_shape(draw, min_rank=1)
    perm = tuple(draw(strategies().permutations(range(len(shape)))))
    return [draw_array(draw, shape, dtype)], {"perm": perm}


@sampler("slice")
def _slice_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, [(5,), (4, 3), (2, 5, 3), ()])
    starts, limits, strides = [], [], []
    for n in shape:
        a = draw(st.integers(0, n))
        b = draw(st.integers(a, n))
        starts.append(a), limits.append(b), strides.append(draw(st.integers(1, 3)))
    params = {"start_indices": tuple(starts), "limit_indices": tuple(limits), "strides": tuple(strides)}
    return [draw_array(draw, shape, dtype)], params


@sampler("pad")
def _pad_sample(draw, dtype):
    st = strategies()
    shape = draw_shape(draw, [(3,), (2, 3), (3, 1, 2), ()])
    low, high, interior = [], [], []
    for n in shape:
        it = draw(st.integers(0, 2))
        inner = n + max(n - 1, 0) * it
        lo = draw(st.integers(-min(inner, 2), 2))  # negative edges crop
        hi = draw(st.integers(-min(inner + lo, 2), 2))  # never below an empty result
        low.append(lo), high.append(hi), interior.append(it)
    x = draw_array(draw, shape, dtype)
    v = draw_array(draw, (), dtype)
    return [x, v], {"low": tuple(low), "high": tuple(high), "interior": tuple(interior)}


@sampler("rev")
def _rev_sample(draw, dtype):
    shape = draw_shape(draw)
    dims = tuple(sorted(draw(strategies().sets(strategies().integers(0, max(len(shape) - 1, 0)), max_size=len(shape)))))
    return [draw_array(draw, shape, dtype)], {"dimensions": dims}


@sampler("concatenate")
def _concat_sample(draw, dtype):
    st = strategies()
    base = draw_shape(draw, [(3,), (2, 3), (2, 1, 3)])
    dimension = draw(st.integers(0, len(base) - 1))
    n = draw(st.integers(1, 3))
    args = []
    for _ in range(n):
        shape = list(base)
        shape[dimension] = draw(st.integers(0, 3))  # empty pieces included
        args.append(draw_array(draw, tuple(shape), dtype))
    return args, {"dimension": dimension}


@sampler("squeeze")
def _squeeze_sample(draw, dtype):
    shape = draw_shape(draw, [(1,), (2, 1, 3), (1, 3, 1), (1, 1), (3,)])
    ones = [i for i, n in enumerate(shape) if n == 1]
    dims = tuple(sorted(draw(strategies().sets(strategies().sampled_from(ones), max_size=len(ones))))) if ones else ()
    return [draw_array(draw, shape, dtype)], {"dimensions": dims}


@sampler("expand_dims")
def _expand_dims_sample(draw, dtype):
    shape = draw_shape(draw)
    nd = len(shape) + draw(strategies().integers(0, 2))
    dims = tuple(sorted(draw(strategies().sets(strategies().integers(0, nd - 1), min_size=nd - len(shape),
                                          max_size=nd - len(shape))))) if nd > len(shape) else ()
    return [draw_array(draw, shape, dtype)], {"dimensions": dims}
