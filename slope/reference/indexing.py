"""NumPy oracles for gather/scatter (gather_nd style) and dynamic slices.

XLA never raises on bad indices: gather and dynamic slices clamp them into
range, while scatter silently drops index rows that fall outside.
"""
import numpy as np

from ._common import as_dtype, wide

__all__ = ["gather", "scatter_add", "scatter", "dynamic_slice", "dynamic_update_slice"]


def _lift_k0(operand, indices):
    """k == 0 (whole-operand indexing) becomes k == 1 over a new leading unit dim."""
    return operand[None], np.zeros(indices.shape[:-1] + (1,), np.int64)


def _clamped_columns(indices, dims):
    """One int64 index array per indexed dim, clamped to [0, dim - 1]."""
    cols = []
    for j, dim in enumerate(dims):
        col = indices[..., j]
        if col.dtype.kind == "u":  # keep huge unsigned values huge (they clamp high)
            col = np.minimum(col, max(dim - 1, 0))
        cols.append(np.clip(col.astype(np.int64), 0, max(dim - 1, 0)))
    return tuple(cols)


def gather(operand, indices):
    """out[b...] = operand[clamp(indices[b..., :])]; shape indices.shape[:-1] + operand.shape[k:]."""
    operand, indices = np.asarray(operand), np.asarray(indices)
    if indices.shape[-1] == 0:
        return gather(*_lift_k0(operand, indices))
    k = indices.shape[-1]
    return np.array(operand[_clamped_columns(indices, operand.shape[:k])], copy=True)


def _valid_rows(operand, indices, updates):
    """Flattened in-bounds index rows (as a tuple of columns) and their updates."""
    k = indices.shape[-1]
    rows = indices.reshape(-1, k)
    upd = updates.reshape((rows.shape[0],) + operand.shape[k:])
    dims = np.array(operand.shape[:k], np.int64)
    r64 = rows.astype(np.int64)  # huge unsigned values turn negative: still OOB
    ok = np.all((r64 >= 0) & (r64 < dims), axis=1)
    return tuple(r64[ok].T), upd[ok]


def scatter_add(operand, indices, updates):
    """operand[indices[b]] += updates[b]; duplicates accumulate, OOB rows are dropped."""
    operand, indices, updates = map(np.asarray, (operand, indices, updates))
    if indices.shape[-1] == 0:
        return scatter_add(*_lift_k0(operand, indices), updates)[0]
    w = wide(operand.dtype)
    out = operand.astype(w)
    idx, upd = _valid_rows(operand, indices, updates)
    with np.errstate(all="ignore"):
        np.add.at(out, idx, upd.astype(w))
    return as_dtype(out, operand.dtype)


def scatter(operand, indices, updates):
    """operand[indices[b]] = updates[b]; on duplicates the last row wins, OOB rows are dropped."""
    operand, indices, updates = map(np.asarray, (operand, indices, updates))
    if indices.shape[-1] == 0:
        return scatter(*_lift_k0(operand, indices), updates)[0]
    out = np.array(operand, copy=True)
    idx, upd = _valid_rows(operand, indices, updates)
    if len(upd):
        # NumPy does not promise an order for duplicate assignment: keep only
        # the last occurrence of each index row explicitly.
        flat = np.ravel_multi_index(idx, operand.shape[:len(idx)])
        _, first_in_reversed = np.unique(flat[::-1], return_index=True)
        keep = len(flat) - 1 - first_in_reversed
        out[tuple(c[keep] for c in idx)] = upd[keep].astype(operand.dtype)
    return out


def _clamped_starts(shape, starts, sizes):
    if len(starts) != len(shape) or len(sizes) != len(shape):
        raise ValueError("need one start index and one size per operand dim")
    if any(s > n for s, n in zip(sizes, shape)):
        raise ValueError(f"slice sizes {sizes} exceed operand shape {shape}")
    return [min(max(int(np.asarray(s)), 0), n - z) for s, n, z in zip(starts, shape, sizes)]


def dynamic_slice(operand, *start_indices, slice_sizes):
    """operand[s:s+size] per dim with each start clamped to [0, dim - size]."""
    operand = np.asarray(operand)
    starts = _clamped_starts(operand.shape, start_indices, tuple(slice_sizes))
    idx = tuple(slice(s, s + z) for s, z in zip(starts, slice_sizes))
    return np.array(operand[idx], copy=True)


def dynamic_update_slice(operand, update, *start_indices):
    """Copy of operand with update written at the (clamped) start indices."""
    operand, update = np.asarray(operand), np.asarray(update)
    starts = _clamped_starts(operand.shape, start_indices, update.shape)
    out = np.array(operand, copy=True)
    out[tuple(slice(s, s + z) for s, z in zip(starts, update.shape))] = update.astype(operand.dtype)
    return out
