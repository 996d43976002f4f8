"""NumPy oracles for data-movement primitives (StableHLO semantics).

All results are fresh C-contiguous copies, so callers can never alias or
mutate their inputs through a returned view.
"""
import builtins

import numpy as np

__all__ = ["reshape", "broadcast_in_dim", "transpose", "slice", "pad", "rev",
           "concatenate", "squeeze", "expand_dims"]


def _copy(x):
    return np.array(x, copy=True, order="C")


def reshape(x, *, shape):
    """Row-major reshape to shape."""
    return _copy(np.reshape(x, tuple(shape)))


def broadcast_in_dim(x, *, shape, broadcast_dimensions):
    """Operand dim i becomes output dim broadcast_dimensions[i] (size 1 or equal)."""
    x, shape, bdims = np.asarray(x), tuple(shape), tuple(broadcast_dimensions)
    if len(bdims) != x.ndim or len(set(bdims)) != len(bdims):
        raise ValueError(f"broadcast_dimensions {bdims} invalid for rank {x.ndim}")
    for i, d in enumerate(bdims):
        if x.shape[i] not in (1, shape[d]):
            raise ValueError(f"operand dim {i} ({x.shape[i]}) can't broadcast to {shape[d]}")
    order = sorted(range(x.ndim), key=lambda i: bdims[i])  # allow unsorted dims
    inter = [1] * len(shape)
    for i in order:
        inter[bdims[i]] = x.shape[i]
    return _copy(np.broadcast_to(np.transpose(x, order).reshape(inter), shape))


def transpose(x, *, perm):
    """Output dim i is input dim perm[i]."""
    return _copy(np.transpose(x, tuple(perm)))


def slice(x, *, start_indices, limit_indices, strides=None):
    """Static strided slice x[start:limit:stride] per dim."""
    strides = strides or (1,) * len(start_indices)
    idx = tuple(builtins.slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))
    return _copy(np.asarray(x)[idx])


def pad(x, padding_value, *, low, high, interior):
    """stablehlo.pad: interior padding first, then low/high edges (negative = crop)."""
    x = np.asarray(x)
    value = np.asarray(padding_value).astype(x.dtype)
    # 1. interior: element k of each dim moves to k * (interior + 1).
    inner_shape = [n + max(n - 1, 0) * i for n, i in zip(x.shape, interior)]
    inner = np.full(inner_shape, value, dtype=x.dtype)
    inner[tuple(builtins.slice(None, None, i + 1) for i in interior)] = x
    # 2. the non-negative part of low/high.
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in zip(low, high)]
    padded = np.full([lo + n + hi for (lo, hi), n in zip(grow, inner_shape)], value, dtype=x.dtype)
    padded[tuple(builtins.slice(lo, lo + n) for (lo, _), n in zip(grow, inner_shape))] = inner
    # 3. the negative part of low/high crops.
    crop = []
    for lo, hi, n in zip(low, high, padded.shape):
        start, stop = max(-lo, 0), n - max(-hi, 0)
        if stop < start:
            raise ValueError(f"pad low={low} high={high} yields a negative dimension")
        crop.append(builtins.slice(start, stop))
    return _copy(padded[tuple(crop)])


def rev(x, *, dimensions):
    """Reverse the order of elements along each listed dimension."""
    return _copy(np.flip(x, axis=tuple(dimensions)) if len(dimensions) else x)


def concatenate(*xs, dimension):
    """Join same-dtype operands along dimension."""
    return _copy(np.concatenate(xs, axis=dimension))


def squeeze(x, *, dimensions):
    """Remove the listed size-1 dimensions."""
    x = np.asarray(x)
    if any(x.shape[d] != 1 for d in dimensions):
        raise ValueError(f"squeeze of non-unit dims {dimensions} in shape {x.shape}")
    return _copy(np.squeeze(x, axis=tuple(dimensions)))


def expand_dims(x, *, dimensions):
    """Insert size-1 dims; dimensions are positions in the output."""
    return _copy(np.expand_dims(x, axis=tuple(dimensions)))
