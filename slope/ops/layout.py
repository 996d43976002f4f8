"""PyTorch's layout ops built from slope's shape primitives: t/mT, repeat/tile/repeat_interleave,
expand_as/view_as, unflatten, movedim, unbind, roll, tril/triu, diag/diagonal/trace, fliplr/flipud."""
from __future__ import annotations

import math

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import Tensor, tensor
from slope.errors import ArgumentError, DomainError, ShapeError, TracerError
from slope.ops.promotion import (
    as_array,
    broadcast_to,
    expand,
    int_arg,
    is_array,
    is_static_int,
    normalize_dim,
    shape_arg,
    sizes_arg,
    zeros_of,
)
from slope.ops.shape import (
    cat,
    flatten,
    flip,
    narrow,
    permute,
    reshape,
    squeeze,
    transpose,
    unsqueeze,
)
from slope.ops.indexing import index_select
from slope.ops.reductions import sum as _sum

__all__ = [
    "diag",
    "diagonal",
    "expand_as",
    "fliplr",
    "flipud",
    "moveaxis",
    "movedim",
    "repeat",
    "repeat_interleave",
    "roll",
    "swapaxes",
    "swapdims",
    "t",
    "tile",
    "trace",
    "tril",
    "triu",
    "unbind",
    "unflatten",
    "view_as",
]


def t(x):
    """Transpose of a tensor of at most 2 dims (torch.t): 0-d and 1-d tensors are returned as they are."""
    x = as_array(x, "t")
    if x.ndim > 2:
        raise ShapeError(f"t: expects a tensor of at most 2 dims, got {x.aval.str_short()}; use transpose(x, a, b) "
                         "or x.mT")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def mT(x):
    """The last two dims swapped (torch's Tensor.mT): a batch of transposed matrices."""
    x = as_array(x, "mT")
    if x.ndim < 2:
        raise ShapeError(f"mT: expects a tensor of at least 2 dims, got {x.aval.str_short()}")
    return transpose(x, -2, -1)


def repeat(x, *sizes):
    """torch.Tensor.repeat: x tiled sizes[i] times along dim i; sizes may have more entries than x has
    dims (x gets leading size-1 dims), not fewer."""
    x = as_array(x, "repeat")
    sizes = sizes_arg("repeat", shape_arg(sizes))
    if len(sizes) < x.ndim:
        raise ShapeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the number of dims "
                         f"of {x.aval.str_short()}")
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    inter = [v for s, n in zip(sizes, shape) for v in (1, n)]
    wide = broadcast_to(reshape(x, *inter), tuple(v for s, n in zip(sizes, shape) for v in (s, n)))
    return reshape(wide, *[s * n for s, n in zip(sizes, shape)])


def tile(x, dims):
    """torch.tile: repeat with dims padded with leading 1s when it is shorter than x's rank."""
    x = as_array(x, "tile")
    dims = sizes_arg("tile", shape_arg((dims,)) if not isinstance(dims, (tuple, list)) else tuple(dims))
    return repeat(x, *((1,) * (x.ndim - len(dims)) + tuple(dims)))


def _concrete_repeats(repeats):
    if isinstance(repeats, Tensor):
        return repeats.numpy()
    if is_array(repeats):
        return None
    return np.asarray(repeats)


def repeat_interleave(x, repeats, dim=None, *, output_size=None):
    """torch.repeat_interleave: each element repeated `repeats` times along dim (dim=None: of the
    flattened x). `repeats` is an int or a 1-d int tensor (one count per element); a traced count tensor
    (under jit) needs `output_size`, the total, as the result's size is data-dependent."""
    x = as_array(x, "repeat_interleave")
    if dim is None:
        x, d = flatten(x), 0
    else:
        d = normalize_dim("repeat_interleave", dim, x.ndim)
    if x.ndim == 0:
        x = reshape(x, 1)
    n = x.shape[d]
    if is_static_int(repeats):
        r = int(repeats)
        if r < 0:
            raise DomainError(f"repeat_interleave: repeats must be non-negative, got {r}")
        wide = broadcast_to(unsqueeze(x, d + 1), tuple(x.shape[:d + 1]) + (r,) + tuple(x.shape[d + 1:]))
        return reshape(wide, *x.shape[:d], n * r, *x.shape[d + 1:])
    conc = _concrete_repeats(repeats)
    if conc is not None:
        if conc.dtype.kind not in "iu":
            raise ArgumentError(f"repeat_interleave: repeats must be an int or integer tensor, got {conc.dtype} values")
        if conc.ndim == 0 or conc.size == 1:
            return repeat_interleave(x, int(conc.reshape(-1)[0]), d)
        if conc.shape != (n,):
            raise ShapeError(f"repeat_interleave: repeats must have shape ({n},) (one per element along dim {d} of "
                             f"{x.aval.str_short()}), got {conc.shape}")
        if np.any(conc < 0):
            raise DomainError("repeat_interleave: repeats must be non-negative")
        if output_size is not None and int(conc.sum()) != output_size:
            raise ShapeError(f"repeat_interleave: output_size {output_size} != sum(repeats) {int(conc.sum())}")
        return index_select(x, d, np.repeat(np.arange(n), conc).astype(np.int32))
    repeats = as_array(repeats)
    if output_size is None:
        raise TracerError(f"repeat_interleave: repeats is a traced tensor {repeats.aval.str_short()}: the result's size "
                          "depends on its values; pass output_size=")
    if repeats.shape != (n,) or not repeats.dtype.is_int:
        raise ShapeError(f"repeat_interleave: repeats must be an integer tensor of shape ({n},), got "
                         f"{repeats.aval.str_short()}")
    m = int_arg("repeat_interleave", "output_size", output_size)
    ends = lax.cumsum(lax.convert(repeats, dtype=dt.int32), axis=0)
    pos = lax.iota(shape=(m, n), dimension=0, dtype=dt.int32)
    idx = lax.reduce_sum(lax.convert(lax.ge(pos, lax.broadcast_in_dim(ends, shape=(m, n), broadcast_dimensions=(1,))),
                                     dtype=dt.int32), axes=(1,))
    return index_select(x, d, lax.minimum(idx, lax.full(shape=(m,), value=max(n - 1, 0), dtype=dt.int32)))


def expand_as(x, other):
    return expand(as_array(x, "expand_as"), *as_array(other, "expand_as").shape)


def view_as(x, other):
    return reshape(as_array(x, "view_as"), *as_array(other, "view_as").shape)


def unflatten(x, dim, sizes):
    """dim of x split into the dims `sizes` (one may be -1), torch.unflatten."""
    x = as_array(x, "unflatten")
    d = normalize_dim("unflatten", dim, x.ndim)
    sizes = list(sizes_arg("unflatten", tuple(sizes) if isinstance(sizes, (tuple, list)) else sizes, allow=-1))
    if sizes.count(-1) > 1:
        raise ShapeError(f"unflatten: only one size may be -1, got {tuple(sizes)}")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or x.shape[d] % known:
            raise ShapeError(f"unflatten: sizes {tuple(sizes)} do not fit dim {d} of {x.aval.str_short()}")
        sizes[sizes.index(-1)] = x.shape[d] // known
    elif known != x.shape[d]:
        raise ShapeError(f"unflatten: sizes {tuple(sizes)} multiply to {known}, not to the size {x.shape[d]} of dim {d} "
                         f"of {x.aval.str_short()}")
    return reshape(x, *x.shape[:d], *sizes, *x.shape[d + 1:])


def movedim(x, source, destination):
    """Dims `source` moved to positions `destination` (ints or equally long sequences), the others keeping
    their order (torch.movedim)."""
    x = as_array(x, "movedim")
    src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source {src} and destination {dst} must have the same number of dims")
    src = [normalize_dim("movedim", s, x.ndim) for s in src]
    dst = [normalize_dim("movedim", s, x.ndim) for s in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: repeated dim in source {tuple(source) if isinstance(source, (tuple, list)) else source}"
                         f" or destination {destination}")
    perm = [None] * x.ndim
    for s, e in zip(src, dst):
        perm[e] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    perm = [p if p is not None else next(rest) for p in perm]
    return permute(x, *perm) if x.ndim else x


moveaxis = movedim


def swapaxes(x, axis0, axis1):
    return transpose(as_array(x, "swapaxes"), axis0, axis1)


swapdims = swapaxes


def unbind(x, dim=0):
    """The slices of x along dim, as a tuple of tensors with that dim removed (torch.unbind)."""
    x = as_array(x, "unbind")
    if x.ndim == 0:
        raise ShapeError("unbind: a 0-d tensor has no dim to unbind")
    d = normalize_dim("unbind", dim, x.ndim)
    return tuple(squeeze(narrow(x, d, i, 1), d) for i in range(x.shape[d]))


ITER_CHUNK = 100  # rows one compiled program unbinds when a concrete tensor is iterated


def _chunk(x, start):
    return lax.dynamic_slice(x, start, *[lax.full(shape=(), value=0, dtype=dt.int32)] * (x.ndim - 1),
                             slice_sizes=(ITER_CHUNK,) + x.shape[1:])


_unbind_jit = _chunk_jit = None


def rows(x: Tensor):
    """A concrete tensor's slices along dim 0, as iterating over it yields them: from one compiled program
    per ITER_CHUNK rows (chunks taken by a dynamic_slice whose start is an operand), so iterating over n
    rows compiles at most three programs, not two per row (`for k in random.split(key, 200)` compiled
    400). JAX iterates over an array in chunks likewise."""
    global _unbind_jit, _chunk_jit
    if _unbind_jit is None:
        from slope.transforms.jit import jit

        _unbind_jit, _chunk_jit = jit(unbind), jit(_chunk)
    n = x.shape[0]
    if n <= ITER_CHUNK:
        yield from _unbind_jit(x)
        return
    done = n // ITER_CHUNK * ITER_CHUNK
    for start in range(0, done, ITER_CHUNK):
        yield from _unbind_jit(_chunk_jit(x, tensor(np.int32(start))))
    if done < n:
        yield from _unbind_jit(narrow(x, 0, done, n - done))


def roll(x, shifts, dims=None):
    """Elements shifted by `shifts` along `dims`, wrapping around (torch.roll); dims=None rolls the
    flattened tensor and restores the shape."""
    x = as_array(x, "roll")
    if dims is None:
        if not is_static_int(shifts):
            shifts = tuple(shifts)
            if len(shifts) != 1:
                raise ShapeError(f"roll: without dims, shifts must be one int, got {shifts}")
            shifts = shifts[0]
        return reshape(roll(flatten(x), shifts, 0), *x.shape)
    shifts = (shifts,) if is_static_int(shifts) else tuple(shifts)
    dims = (dims,) if not isinstance(dims, (tuple, list)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    for s, d in zip(shifts, dims):
        s = int_arg("roll", "shift", s)
        d = normalize_dim("roll", d, x.ndim)
        if x.ndim == 0:
            continue
        n = x.shape[d]
        k = s % n if n else 0
        if k:
            x = cat([narrow(x, d, n - k, k), narrow(x, d, 0, n - k)], d)
    return x


def _band(op, x, diagonal, keep_below):
    x = as_array(x, op)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expects a tensor of at least 2 dims, got {x.aval.str_short()}")
    k = int_arg(op, "diagonal", diagonal)
    shape = tuple(x.shape)
    row = lax.iota(shape=shape, dimension=x.ndim - 2, dtype=dt.int32)
    col = lax.iota(shape=shape, dimension=x.ndim - 1, dtype=dt.int32)
    off = lax.sub(col, row)
    kk = lax.full(shape=shape, value=k, dtype=dt.int32)
    keep = lax.le(off, kk) if keep_below else lax.ge(off, kk)
    return lax.select(keep, x, zeros_of(x))


def tril(x, diagonal=0):
    """Lower triangle of the last two dims (entries with col - row <= diagonal), zeros above (torch.tril)."""
    return _band("tril", x, diagonal, True)


def triu(x, diagonal=0):
    """Upper triangle of the last two dims (entries with col - row >= diagonal), zeros below (torch.triu)."""
    return _band("triu", x, diagonal, False)


def diagonal(x, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2) shifted by offset (above the main one when positive), as the last
    dim of the result (torch.diagonal)."""
    x = as_array(x, "diagonal")
    if x.ndim < 2:
        raise ShapeError(f"diagonal: expects a tensor of at least 2 dims, got {x.aval.str_short()}")
    a, b = normalize_dim("diagonal", dim1, x.ndim), normalize_dim("diagonal", dim2, x.ndim)
    if a == b:
        raise ShapeError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    k = int_arg("diagonal", "offset", offset)
    x = movedim(x, (a, b), (-2, -1))
    n, m = x.shape[-2], x.shape[-1]
    length = max(0, min(n, m - k) if k >= 0 else min(n + k, m))
    batch = tuple(x.shape[:-2])
    if length == 0:
        return lax.full(shape=batch + (0,), value=0, dtype=x.dtype)
    start = k if k >= 0 else -k * m
    flat = reshape(x, *batch, n * m)
    nb = len(batch)
    return lax.slice(flat, start_indices=(0,) * nb + (start,),
                     limit_indices=batch + (start + (length - 1) * (m + 1) + 1,), strides=(1,) * nb + (m + 1,))


def diag(x, diagonal=0):
    """torch.diag: a 1-d x becomes a square matrix with x on the `diagonal`-th diagonal; a 2-d x gives
    that diagonal as a 1-d tensor."""
    x = as_array(x, "diag")
    k = int_arg("diag", "diagonal", diagonal)
    if x.ndim == 2:
        return globals()["diagonal"](x, k)
    if x.ndim != 1:
        raise ShapeError(f"diag: expects a 1-d or 2-d tensor, got {x.aval.str_short()}")
    n = x.shape[0]
    size = n + abs(k)
    row = lax.iota(shape=(size, size), dimension=0, dtype=dt.int32)
    col = lax.iota(shape=(size, size), dimension=1, dtype=dt.int32)
    on = lax.eq(lax.sub(col, row), lax.full(shape=(size, size), value=k, dtype=dt.int32))
    # entry (r, r + k) is x[r] above the main diagonal (k >= 0), entry (c - k, c) is x[c] below it
    src = lax.pad(x, lax.full(shape=(), value=0, dtype=x.dtype), low=(0,), high=(abs(k),), interior=(0,))
    wide = lax.broadcast_in_dim(src, shape=(size, size), broadcast_dimensions=(0 if k >= 0 else 1,))
    return lax.select(on, wide, lax.full(shape=(size, size), value=0, dtype=x.dtype))


def trace(x):
    """Sum of the main diagonal of a 2-d tensor (torch.trace)."""
    x = as_array(x, "trace")
    if x.ndim != 2:
        raise ShapeError(f"trace: expects a 2-d tensor, got {x.aval.str_short()}")
    return _sum(diagonal(x))


def fliplr(x):
    x = as_array(x, "fliplr")
    if x.ndim < 2:
        raise ShapeError(f"fliplr: expects a tensor of at least 2 dims, got {x.aval.str_short()}")
    return flip(x, 1)


def flipud(x):
    x = as_array(x, "flipud")
    if x.ndim < 1:
        raise ShapeError(f"flipud: expects a tensor of at least 1 dim, got {x.aval.str_short()}")
    return flip(x, 0)
