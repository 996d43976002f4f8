"""Dtype helpers shared by the reference kernels.

NumPy has no native bfloat16/float8 arithmetic of its own, and float16 math
is slow and sometimes inaccurate, so narrow floats are computed in float32
and rounded back to the input dtype exactly once.
"""
import ml_dtypes
import numpy as np

_ML_FLOATS = {
    np.dtype(getattr(ml_dtypes, name))
    for name in ("bfloat16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
                 "float8_e5m2fnuz", "float8_e4m3b11fnuz", "float8_e4m3", "float8_e3m4")
    if hasattr(ml_dtypes, name)
}


def is_float(dtype):
    """True for IEEE-like float dtypes, including the ml_dtypes ones."""
    dtype = np.dtype(dtype)
    return dtype.kind == "f" or dtype in _ML_FLOATS


def is_int(dtype):
    """True for signed or unsigned integers (not bool)."""
    return np.dtype(dtype).kind in "iu"


def wide(dtype):
    """dtype to compute in: float32 for narrow floats, the dtype itself otherwise."""
    dtype = np.dtype(dtype)
    if is_float(dtype) and dtype.itemsize < 4:
        return np.dtype(np.float32)
    return dtype


def acc_dtype(*dtypes):
    """Accumulator for sums of products: >= float32 for floats, int64 for ints.

    Integer accumulation in int64 then casting down gives the same result as
    wrapping arithmetic in the narrow type (both are exact modulo 2**bits).
    """
    dtypes = [np.dtype(d) for d in dtypes]
    if any(is_float(d) for d in dtypes):
        return np.dtype(np.float64) if any(d == np.float64 for d in dtypes) else np.dtype(np.float32)
    if all(d == np.bool_ for d in dtypes):
        return np.dtype(np.bool_)
    return np.dtype(np.int64)


def as_dtype(x, dtype):
    """Cast to dtype and make sure the result is an ndarray (never a scalar); a float narrowed out of
    range becomes +-inf (IEEE), quietly."""
    with np.errstate(over="ignore"):
        return np.asarray(np.asarray(x).astype(dtype, copy=False))
