"""Shape ops: reshape, permute/transpose, flatten, squeeze/unsqueeze, flip, pad, cat/stack,
narrow/split/chunk."""
from __future__ import annotations

import builtins
import math


from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import Tensor
from slope.core.trace import Tracer
from slope.errors import ArgumentError, DomainError, DTypeError, ShapeError, describe
from slope.ops.promotion import (
    as_array, astype, check_scalar, expand, int_arg, is_array, is_static_int, normalize_dim, shape_arg, sizes_arg,
)

_py_max, _py_sum = builtins.max, builtins.sum

__all__ = [
    "reshape", "permute", "transpose", "flatten", "squeeze", "unsqueeze", "flip", "pad", "cat", "concat",
    "stack", "narrow", "split", "chunk",
]


def reshape(x, *shape):
    x = as_array(x, 'reshape')
    shape = list(sizes_arg("reshape", shape_arg(shape), allow=-1))
    if shape.count(-1) > 1:
        raise ShapeError(f"reshape: only one dim may be -1, got {tuple(shape)}")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or x.aval.size % known:
            raise ShapeError(f"reshape: cannot reshape {x.aval.str_short()} to {tuple(shape)}")
        shape[shape.index(-1)] = x.aval.size // known
    shape = tuple(shape)
    return x if shape == tuple(x.shape) else lax.reshape(x, shape=shape)


def permute(x, *dims):
    x = as_array(x, 'permute')
    dims = tuple(normalize_dim("permute", d, x.ndim) for d in shape_arg(dims))
    if sorted(dims) != list(range(x.ndim)):
        raise ShapeError(f"permute: dims {shape_arg(dims)} are not a permutation of the {x.ndim} dims of "
                         f"{x.aval.str_short()}")
    return x if dims == tuple(range(x.ndim)) else lax.transpose(x, perm=dims)


def transpose(x, dim0=None, dim1=None):
    """Swap two dims (PyTorch); with no dims, reverse all of them (NumPy .T)."""
    x = as_array(x, 'transpose')
    if dim0 is None and dim1 is None:
        return permute(x, *reversed(range(x.ndim)))
    perm = list(range(x.ndim))
    a, b = normalize_dim("transpose", dim0, x.ndim), normalize_dim("transpose", dim1, x.ndim)
    perm[a], perm[b] = perm[b], perm[a]
    return permute(x, *perm)


def flatten(x, start_dim=0, end_dim=-1):
    x = as_array(x, 'flatten')
    if x.ndim == 0:
        normalize_dim("flatten", start_dim, 0), normalize_dim("flatten", end_dim, 0)
        return reshape(x, 1)
    s, e = normalize_dim("flatten", start_dim, x.ndim), normalize_dim("flatten", end_dim, x.ndim)
    if s > e:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for {x.aval.str_short()}")
    return reshape(x, *x.shape[:s], math.prod(x.shape[s:e + 1]), *x.shape[e + 1:])


def squeeze(x, dim=None):
    x = as_array(x, 'squeeze')
    if dim is None:
        dims = [i for i, s in enumerate(x.shape) if s == 1]
    else:
        dims = [normalize_dim("squeeze", d, x.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        dims = [d for d in dims if x.shape[d] == 1]
    return reshape(x, *[s for i, s in enumerate(x.shape) if i not in dims])


def unsqueeze(x, dim):
    x = as_array(x, 'unsqueeze')
    d = normalize_dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, *x.shape[:d], 1, *x.shape[d:])


def flip(x, dims):
    """Reverse the order of elements along dims (an int or a sequence of ints)."""
    x = as_array(x, 'flip')
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    ds = tuple(normalize_dim("flip", d, x.ndim) for d in dims)
    if len(set(ds)) != len(ds):
        raise ShapeError(f"flip: dims {tuple(dims)} repeat a dimension")
    return lax.rev(x, dimensions=tuple(sorted(ds))) if ds and x.ndim else x


def pad(x, pad, value=0, mode="constant"):
    """torch.nn.functional.pad: pad = (last_lo, last_hi, second_last_lo, ...). mode 'constant' fills with
    `value` (a number, or a 0-d tensor: the result is differentiable in it) and negative pads crop;
    'reflect' mirrors without repeating the edge, 'replicate' repeats the edge, 'circular' wraps around."""
    x = as_array(x, 'pad')
    if isinstance(value, str) and value in ("constant", "reflect", "replicate", "circular"):  # torch: (x, pad, mode)
        mode, value = value, 0 if mode == "constant" else mode
    value = 0 if value is None else value
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise DomainError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if not isinstance(pad, (tuple, list)):
        raise ArgumentError(f"pad: pad must be a tuple of ints, got {type(pad).__name__} {pad!r}")
    pad = tuple(pad)
    if not all(is_static_int(p) for p in pad):
        raise ArgumentError(f"pad: pad must be a tuple of ints, got {pad}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(f"pad: pad must be an even number of ints (two per padded dim, last dim first), "
                         f"at most {2 * x.ndim} for a {x.ndim}-d tensor, got {pad}")
    low, high = [0] * x.ndim, [0] * x.ndim
    for i in range(len(pad) // 2):
        low[x.ndim - 1 - i], high[x.ndim - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
    if mode != "constant":
        return _pad_mode(x, low, high, mode)
    if is_array(value):
        if value.aval.size != 1:
            raise ShapeError(f"pad: value must be a scalar, got {value.aval.str_short()}")
        v = astype(reshape(value), x.dtype)
    else:
        v = lax.full(shape=(), value=check_scalar("pad", dt.python_scalar(value)), dtype=x.dtype)
    out = [lo + hi + n for lo, hi, n in zip(low, high, x.shape)]
    if any(n < 0 for n in out):
        raise ShapeError(f"pad: padding {pad} of a tensor of shape {tuple(x.shape)} gives a negative size")
    return lax.pad(x, v, low=tuple(low), high=tuple(high), interior=(0,) * x.ndim)


def _joinable(op, tensors):
    if isinstance(tensors, (Tensor, Tracer)) or not isinstance(tensors, (list, tuple)):
        raise DTypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty list of tensors")
    ts = [as_array(t) for t in tensors]
    d = ts[0].dtype
    for t in ts[1:]:
        d = dt.promote(d, t.dtype)
    return [astype(t, d) for t in ts]


def cat(tensors, dim=0):
    """Join tensors along an existing dim (torch.cat); dtypes are promoted."""
    ts = _joinable("cat", tensors)
    nd = ts[0].ndim
    if nd == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated")
    d = normalize_dim("cat", dim, nd)
    for t in ts:
        if t.ndim != nd or any(t.shape[i] != ts[0].shape[i] for i in range(nd) if i != d):
            raise ShapeError(f"cat: sizes must match except in dimension {d}, got {describe([t.aval for t in ts])}")
    return ts[0] if len(ts) == 1 else lax.concatenate(*ts, dimension=d)


concat = cat


def stack(tensors, dim=0):
    """Join equally shaped tensors along a new dim (torch.stack)."""
    ts = _joinable("stack", tensors)
    if any(tuple(t.shape) != tuple(ts[0].shape) for t in ts):
        raise ShapeError(f"stack: expects tensors of equal shape, got {describe([t.aval for t in ts])}")
    d = normalize_dim("stack", dim, ts[0].ndim + 1)
    ts = [lax.expand_dims(t, dimensions=(d,)) for t in ts]
    return ts[0] if len(ts) == 1 else lax.concatenate(*ts, dimension=d)


def narrow(x, dim, start, length):
    """x restricted to [start, start + length) along dim (torch.narrow)."""
    x = as_array(x, 'narrow')
    d = normalize_dim("narrow", dim, x.ndim)
    n = x.shape[d]
    start, length = int_arg("narrow", "start", start), int_arg("narrow", "length", length)
    start = start + n if start < 0 else start
    if not (0 <= start <= n and 0 <= length <= n - start):
        raise ShapeError(f"narrow: start {start} and length {length} do not fit dimension {d} of size {n}")
    if length == n:
        return x
    start, length = int(start), int(length)
    begin = tuple(start if i == d else 0 for i in range(x.ndim))
    end = tuple(start + length if i == d else s for i, s in enumerate(x.shape))
    return lax.slice(x, start_indices=begin, limit_indices=end, strides=(1,) * x.ndim)


def split(x, split_size_or_sections, dim=0):
    """Pieces of x along dim (torch.split): equal pieces of an int size (the last may be smaller) or the
    listed sizes (which must add up to the dim's size)."""
    x = as_array(x, 'split')
    d = normalize_dim("split", dim, x.ndim)
    n = x.shape[d]
    if is_static_int(split_size_or_sections):
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise ShapeError(f"split: split_size must be positive, got {size}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        if not isinstance(split_size_or_sections, (tuple, list)):
            raise ArgumentError(f"split: split_size_or_sections must be an int or a list of ints, got "
                                f"{type(split_size_or_sections).__name__} {split_size_or_sections!r}")
        sizes = [int_arg("split", "a section size", s) for s in split_size_or_sections]
        if _py_sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(f"split: sections {tuple(sizes)} must be non-negative and add up to {n} (dimension {d})")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, d, start, s))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    """At most `chunks` pieces along dim of size ceil(n / chunks) (torch.chunk)."""
    x = as_array(x, 'chunk')
    chunks = int_arg("chunk", "chunks", chunks)
    if chunks < 1:
        raise ShapeError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = x.shape[normalize_dim("chunk", dim, x.ndim)]
    return split(x, _py_max(-(-n // chunks), 1), dim)


def _edge(x, d, i, k):
    """Entry i of dim d of x repeated k times along d."""
    e = narrow(x, d, i, 1)
    return expand(e, *[k if j == d else s for j, s in enumerate(e.shape)])


def _pad_mode(x, low, high, mode):
    """Non-constant padding (reflect, replicate, circular) of each dim by (low[d], high[d]), as
    torch.nn.functional.pad does it."""
    for d in range(x.ndim):
        lo, hi, n = low[d], high[d], x.shape[d]
        if not lo and not hi:
            continue
        if lo < 0 or hi < 0:
            raise ShapeError(f"pad: negative padding {(lo, hi)} is only supported in constant mode")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ShapeError(f"pad: reflect padding {(lo, hi)} must be smaller than the size {n} of dim {d} of "
                             f"{x.aval.str_short()}")
        if mode == "circular" and (lo > n or hi > n):
            raise ShapeError(f"pad: circular padding {(lo, hi)} must be at most the size {n} of dim {d} of "
                             f"{x.aval.str_short()}")
        if mode == "replicate" and n == 0:
            raise ShapeError(f"pad: replicate padding needs a non-empty dim {d}, got {x.aval.str_short()}")
        parts = []
        if mode == "reflect":
            parts = [flip(narrow(x, d, 1, lo), d)] if lo else []
            parts += [x] + ([flip(narrow(x, d, n - 1 - hi, hi), d)] if hi else [])
        elif mode == "replicate":
            parts = ([_edge(x, d, 0, lo)] if lo else []) + [x] + ([_edge(x, d, n - 1, hi)] if hi else [])
        else:
            parts = ([narrow(x, d, n - lo, lo)] if lo else []) + [x] + ([narrow(x, d, 0, hi)] if hi else [])
        x = cat(parts, d)
    return x
