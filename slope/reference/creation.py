"""NumPy oracles for array-creation primitives."""
import numpy as np

from .elementwise import convert

__all__ = ["full", "iota"]


def full(*, shape, value, dtype):
    """Array of shape filled with value, converted to dtype like `convert`."""
    v = np.asarray(value)
    v = convert(v, dtype=dtype) if v.dtype != np.dtype(dtype) else v
    return np.full(tuple(shape), v, dtype=dtype)


def iota(*, shape, dimension, dtype):
    """Each element equals its index along `dimension`."""
    shape = tuple(shape)
    idx = np.arange(shape[dimension], dtype=np.int64).astype(dtype)
    view = [1] * len(shape)
    view[dimension] = shape[dimension]
    return np.array(np.broadcast_to(idx.reshape(view), shape), copy=True)
