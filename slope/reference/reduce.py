"""NumPy oracles for reductions, arg-reductions and inclusive scans.

NumPy silently promotes small-int sums to int64 and refuses empty max/min,
so every call pins the accumulator dtype and the identity element here.
"""
import numpy as np

from ._common import as_dtype, is_float, wide

__all__ = ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "argmax", "argmin",
           "cumsum", "cumprod", "cummax", "cummin"]


def _identity(ufunc, dtype):
    """Identity of max/min for dtype (so empty reductions work like XLA)."""
    if dtype == np.bool_:
        return ufunc is np.minimum
    if is_float(dtype):
        return -np.inf if ufunc is np.maximum else np.inf
    info = np.iinfo(dtype)
    return info.min if ufunc is np.maximum else info.max


def _reduce(ufunc, x, axes):
    x = np.asarray(x)
    w = wide(x.dtype)
    kw = {}
    if ufunc in (np.maximum, np.minimum):
        kw["initial"] = _identity(ufunc, w)
    with np.errstate(all="ignore"):
        r = ufunc.reduce(x.astype(w, copy=False), axis=tuple(axes), dtype=w, **kw)
    return as_dtype(r, x.dtype)


def reduce_sum(x, *, axes):
    """Sum over axes (bool: logical or; ints wrap)."""
    return _reduce(np.add, x, axes)


def reduce_prod(x, *, axes):
    """Product over axes (bool: logical and; ints wrap)."""
    return _reduce(np.multiply, x, axes)


def reduce_max(x, *, axes):
    """Max over axes, NaN-propagating; empty -> -inf / int min."""
    return _reduce(np.maximum, x, axes)


def reduce_min(x, *, axes):
    """Min over axes, NaN-propagating; empty -> +inf / int max."""
    return _reduce(np.minimum, x, axes)


def argmax(x, *, axis, index_dtype):
    """Index of the first maximum along axis (a NaN counts as the maximum)."""
    x = np.asarray(x)
    return as_dtype(np.argmax(x.astype(wide(x.dtype), copy=False), axis=axis), index_dtype)


def argmin(x, *, axis, index_dtype):
    """Index of the first minimum along axis (a NaN counts as the minimum)."""
    x = np.asarray(x)
    return as_dtype(np.argmin(x.astype(wide(x.dtype), copy=False), axis=axis), index_dtype)


def _scan(ufunc, x, axis, reverse):
    x = np.asarray(x)
    w = wide(x.dtype)
    xw = x.astype(w, copy=False)
    if reverse:
        xw = np.flip(xw, axis)
    with np.errstate(all="ignore"):
        r = ufunc.accumulate(xw, axis=axis, dtype=w)
    if reverse:
        r = np.flip(r, axis)
    return as_dtype(r, x.dtype)


def cumsum(x, *, axis, reverse=False):
    """Inclusive running sum along axis; reverse scans from the end."""
    return _scan(np.add, x, axis, reverse)


def cumprod(x, *, axis, reverse=False):
    """Inclusive running product along axis."""
    return _scan(np.multiply, x, axis, reverse)


def cummax(x, *, axis, reverse=False):
    """Inclusive running max along axis (NaN-propagating)."""
    return _scan(np.maximum, x, axis, reverse)


def cummin(x, *, axis, reverse=False):
    """Inclusive running min along axis (NaN-propagating)."""
    return _scan(np.minimum, x, axis, reverse)
