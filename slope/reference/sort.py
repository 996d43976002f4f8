"""NumPy oracles for sort and argsort: stable, ascending, NaNs last."""
import numpy as np

from ._common import as_dtype, wide

__all__ = ["sort", "argsort"]


def _key(x):
    x = np.asarray(x)
    return x.astype(wide(x.dtype), copy=False)  # bfloat16 has no NumPy sort


def sort(*operands, dimension, num_keys=1):
    """Sort all operands along dimension by the first num_keys (lexicographic, stable)."""
    operands = [np.asarray(x) for x in operands]
    if not 1 <= num_keys <= len(operands):
        raise ValueError(f"num_keys={num_keys} with {len(operands)} operands")
    keys = [np.moveaxis(_key(x), dimension, -1) for x in operands[:num_keys]]
    perm = np.lexsort(keys[::-1], axis=-1)  # lexsort's primary key is the last one
    perm = np.moveaxis(perm, -1, dimension)
    return tuple(np.take_along_axis(x, perm, axis=dimension) for x in operands)


def argsort(x, *, dimension, index_dtype):
    """Indices that stably sort x ascending along dimension."""
    return as_dtype(np.argsort(_key(x), axis=dimension, kind="stable"), index_dtype)
