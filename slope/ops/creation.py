"""Tensor constructors: ones, zeros, full, arange, eye, linspace, randn/rand (seeded)."""
from __future__ import annotations

import math

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import tensor
from slope.errors import ShapeError

__all__ = ["arange", "eye", "full", "full_like", "linspace", "manual_seed", "ones", "ones_like", "rand", "randint",
           "randn", "zeros", "zeros_like"]


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ShapeError(f"negative dimension in shape {shape}")
    return shape


def full(shape, fill_value, dtype=None):
    fill_value = dt.python_scalar(fill_value)
    if dtype is None:
        dtype = dt.bool_ if isinstance(fill_value, bool) else dt.default_int if isinstance(fill_value, int) else dt.default_float
    shape = _shape((shape,) if isinstance(shape, (tuple, list)) else (shape,))
    return lax.full(shape=shape, value=fill_value, dtype=dt.dtype(dtype))


def ones(*shape, dtype=None):
    return lax.full(shape=_shape(shape), value=1, dtype=dt.dtype(dtype or dt.default_float))


def zeros(*shape, dtype=None):
    return lax.full(shape=_shape(shape), value=0, dtype=dt.dtype(dtype or dt.default_float))


def ones_like(x, dtype=None):
    return ones(*x.shape, dtype=dtype or x.dtype)


def zeros_like(x, dtype=None):
    return zeros(*x.shape, dtype=dtype or x.dtype)


def full_like(x, fill_value, dtype=None):
    fill_value = dt.python_scalar(fill_value)
    return lax.full(shape=tuple(x.shape), value=fill_value, dtype=dt.dtype(dtype or x.dtype))


def arange(start, stop=None, step=1, dtype=None):
    """Like torch.arange: [start, stop) by step; int dtype unless any bound is a float."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        dtype = dt.default_float if any(isinstance(v, float) for v in (start, stop, step)) else dt.default_int
    dtype = dt.dtype(dtype)
    n = max(0, math.ceil((stop - start) / step))
    idx = lax.iota(shape=(n,), dimension=0, dtype=dtype)
    if step != 1:
        idx = lax.mul(idx, lax.full(shape=(n,), value=step, dtype=dtype))
    if start != 0:
        idx = lax.add(idx, lax.full(shape=(n,), value=start, dtype=dtype))
    return idx


def linspace(start, stop, steps, dtype=None):
    dtype = dt.dtype(dtype or dt.default_float)
    if steps == 1:
        return full((1,), float(start), dtype)
    i = lax.iota(shape=(steps,), dimension=0, dtype=dtype)
    delta = (stop - start) / (steps - 1)
    return lax.add(lax.mul(i, lax.full(shape=(steps,), value=delta, dtype=dtype)),
                   lax.full(shape=(steps,), value=start, dtype=dtype))


def eye(n, m=None, dtype=None):
    m = n if m is None else m
    r = lax.iota(shape=(n, m), dimension=0, dtype=dt.int32)
    c = lax.iota(shape=(n, m), dimension=1, dtype=dt.int32)
    return lax.convert(lax.eq(r, c), dtype=dt.dtype(dtype or dt.default_float))


# A simple seeded host generator; a counter-based device PRNG is a separate piece of work.
_rng = np.random.default_rng(0)


def manual_seed(seed: int):
    """Reset the generator behind randn/rand/randint so runs are reproducible."""
    global _rng
    _rng = np.random.default_rng(seed)


def randn(*shape, dtype=None, seed=None):
    rng = _rng if seed is None else np.random.default_rng(seed)
    d = dt.dtype(dtype or dt.default_float)
    return tensor(rng.standard_normal(_shape(shape)).astype(d.np), dtype=d)


def rand(*shape, dtype=None, seed=None):
    rng = _rng if seed is None else np.random.default_rng(seed)
    d = dt.dtype(dtype or dt.default_float)
    return tensor(rng.random(_shape(shape)).astype(d.np), dtype=d)


def randint(low, high, shape, dtype=None, seed=None):
    rng = _rng if seed is None else np.random.default_rng(seed)
    d = dt.dtype(dtype or dt.default_int)
    return tensor(rng.integers(low, high, size=_shape((shape,) if isinstance(shape, (tuple, list)) else (shape,))).astype(d.np), dtype=d)
