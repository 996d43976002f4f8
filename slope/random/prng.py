"""Raw threefry keys and random bits, bit for bit JAX's default stream.

A key is a `uint32[2]` tensor (JAX's "raw" `PRNGKey`). Every function here is a pure function of
its key: give it the same key and the same static arguments and it returns the same bits, eagerly,
under `slope.jit` (keys are traced arguments, so one compiled program serves every key value) and
under `slope.vmap` over a batch of keys.

The stream is JAX's with `jax_threefry_partitionable=True` (the default since JAX 0.5): the i-th
value of a draw of `shape` (row-major flat index i < 2**32) is `y1 ^ y2` where
`(y1, y2) = threefry2x32(key, (i >> 32, i & 0xFFFFFFFF))`; `split` takes the pair itself as the
i-th new key. The older stream (`jax_threefry_partitionable=False`, JAX < 0.5) hashed one flat
counter array `iota(2n)` split in halves instead, so both `split` and `bits` differ there.
"""
from __future__ import annotations

import functools
import math
import operator

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core import trace as _trace
from slope.core.tensor import Tensor, tensor
from slope.errors import ArgumentError, DTypeError, ShapeError
from slope.transforms.jit import jit

__all__ = ["PRNGKey", "bits", "fold_in", "key", "key_data", "split"]

_U32 = dt.uint32


# ---------------------------------------------------------------- argument checks


def is_traced(x) -> bool:
    return isinstance(x, _trace.Tracer)


def check_key(op, k):
    """k as a uint32[2] tensor (or tracer); anything else raises naming `op`."""
    if isinstance(k, np.ndarray) and not is_traced(k):
        k = tensor(k) if k.dtype == np.uint32 else k
    if not isinstance(k, (Tensor, _trace.Tracer)):
        raise ArgumentError(f"{op}: key must be a uint32[2] tensor from slope.random.key(seed) (or split/fold_in), "
                            f"got {type(k).__name__} {k!r:.60}")
    aval = _trace.get_aval(k)
    if aval.dtype is not _U32:
        raise DTypeError(f"{op}: key must be uint32[2] (slope.random.key(seed)), got {aval.str_short()}")
    if aval.shape != (2,):
        extra = " (a batch of keys: use slope.vmap over its first dim)" if aval.ndim == 2 and aval.shape[-1] == 2 else ""
        raise ShapeError(f"{op}: key must be uint32[2] (slope.random.key(seed)), got {aval.str_short()}{extra}")
    return k


def check_shape(op, shape):
    """shape as a tuple of Python ints >= 0 (an int n means (n,))."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise ArgumentError(f"{op}: shape must be a tuple of ints, got {type(shape).__name__} {shape!r:.60}")
    out = []
    for d in shape:
        if isinstance(d, (bool, np.bool_)) or not hasattr(d, "__index__") or isinstance(d, (Tensor, _trace.Tracer)):
            raise ArgumentError(f"{op}: shape must be a tuple of ints, got {tuple(shape)!r:.80}")
        out.append(operator.index(d))
    if any(d < 0 for d in out):
        raise ShapeError(f"{op}: negative dimension in shape {tuple(out)}")
    if math.prod(out) >= 2**32:
        raise ShapeError(f"{op}: shape {tuple(out)} has {math.prod(out)} elements; slope.random draws at most "
                         "2**32 - 1 values at once")
    return tuple(out)


def staged(fn):
    """fn(*arrays, **static) compiled once per static params and input shapes (one IREE program per
    sampler call site instead of one per primitive when called eagerly); traced when a trace is active."""
    cache: dict = {}

    @functools.wraps(fn)
    def call(*arrays, **static):
        key = tuple(sorted(static.items()))
        j = cache.get(key)
        if j is None:
            j = cache[key] = jit(functools.partial(fn, **static))
        return j(*arrays)

    return call


# ---------------------------------------------------------------- building blocks (traceable)


def full(shape, value, dtype):
    return lax.full(shape=tuple(shape), value=value, dtype=dtype)


def word(k, i, shape):
    """Word i of the key k (uint32[2]) broadcast to `shape`."""
    w = lax.reshape(lax.slice(k, start_indices=(i,), limit_indices=(i + 1,)), shape=())
    return lax.broadcast_in_dim(w, shape=tuple(shape), broadcast_dimensions=()) if shape else w


def counts(shape):
    """(hi, lo) uint32 words of the row-major flat index of each element of `shape` (JAX's
    iota_2x32_shape); sizes are < 2**32, so hi is 0."""
    n = math.prod(shape)
    lo = lax.reshape(lax.iota(shape=(n,), dimension=0, dtype=_U32), shape=tuple(shape))
    return full(shape, 0, _U32), lo


def hash_counts(k, shape):
    """threefry2x32(k, counts(shape)): the pair of uint32 words behind every value of a draw."""
    hi, lo = counts(shape)
    return lax.threefry2x32(word(k, 0, shape), word(k, 1, shape), hi, lo)


def bits32(k, shape):
    """uint32 random bits of `shape` (JAX: _random_bits(key, 32, shape))."""
    if math.prod(shape) == 0:
        return full(shape, 0, _U32)
    y1, y2 = hash_counts(k, shape)
    return lax.xor(y1, y2)


def bits64_as_int64(k, shape):
    """JAX's 64-bit random bits `(y1 << 32) | y2`, held in an int64 tensor (slope has no uint64)."""
    if math.prod(shape) == 0:
        return full(shape, 0, dt.int64)
    y1, y2 = hash_counts(k, shape)
    hi, lo = lax.convert(y1, dtype=dt.int64), lax.convert(y2, dtype=dt.int64)
    return lax.or_(lax.shift_left(hi, full(shape, 32, dt.int64)), lo)


def split_raw(k, shape):
    """Keys of shape (*shape, 2) (JAX's partitionable threefry split)."""
    if math.prod(shape) == 0:
        return full((*shape, 2), 0, _U32)
    y1, y2 = hash_counts(k, shape)
    pair = [lax.reshape(y, shape=(*shape, 1)) for y in (y1, y2)]
    return lax.concatenate(*pair, dimension=len(shape))


def split2(k):
    """The two keys of split(k) as separate uint32[2] tensors."""
    ks = split_raw(k, (2,))
    return [lax.reshape(lax.slice(ks, start_indices=(i, 0), limit_indices=(i + 1, 2)), shape=(2,)) for i in (0, 1)]


# ---------------------------------------------------------------- keys


def key(seed) -> Tensor:
    """The raw key `uint32[2]` of an integer seed, equal to `jax.random.PRNGKey(seed)` (JAX's default
    32-bit mode): `[0, seed mod 2**32]`, so negative and 64-bit seeds wrap as they do in JAX
    (`key(-1)` is `[0, 4294967295]`, `key(2**32 + 5)` equals `key(5)`). A 0-d integer tensor (also a
    traced one inside `jit`) works too."""
    if isinstance(seed, (Tensor, _trace.Tracer)):
        aval = _trace.get_aval(seed)
        if aval.ndim or not aval.dtype.is_int:
            raise DTypeError(f"key: seed must be a scalar integer, got {aval.str_short()} (use slope.vmap for a "
                             "batch of seeds)")
        lo = lax.reshape(lax.convert(seed, dtype=_U32) if aval.dtype is not _U32 else seed, shape=(1,))
        return lax.concatenate(full((1,), 0, _U32), lo, dimension=0)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        if isinstance(seed, np.ndarray) and seed.ndim == 0 and seed.dtype.kind in "iu":
            seed = seed.item()
        else:
            shown = f"array of shape {seed.shape}" if isinstance(seed, np.ndarray) else f"{type(seed).__name__} {seed!r:.40}"
            raise DTypeError(f"key: seed must be a scalar integer, got {shown}")
    return tensor(np.array([0, int(seed) % 2**32], np.uint32))


PRNGKey = key


def key_data(k):
    """The uint32[2] data of a key: keys are raw already, so this is the key itself (checked)."""
    return check_key("key_data", k)


@staged
def _split(k, *, shape):
    return split_raw(k, shape)


def split(k, num=2):
    """`num` new keys, `uint32[num, 2]` (a tuple `num` gives `uint32[*num, 2]`), as `jax.random.split`."""
    k = check_key("split", k)
    shape = check_shape("split", num)
    return _split(k, shape=shape)


@staged
def _fold_in(k, data):
    y1, y2 = lax.threefry2x32(word(k, 0, ()), word(k, 1, ()), full((), 0, _U32), data)
    return lax.concatenate(lax.reshape(y1, shape=(1,)), lax.reshape(y2, shape=(1,)), dimension=0)


def fold_in(k, data):
    """A new key from `k` and a 32-bit integer `data` (taken modulo 2**32), as `jax.random.fold_in`:
    `threefry2x32(k, (0, data))`. `data` may be a Python int or a 0-d integer tensor (traced too)."""
    k = check_key("fold_in", k)
    if isinstance(data, (Tensor, _trace.Tracer)):
        aval = _trace.get_aval(data)
        if aval.ndim or not aval.dtype.is_int:
            raise DTypeError(f"fold_in: data must be a scalar integer, got {aval.str_short()}")
        d = lax.convert(data, dtype=_U32) if aval.dtype is not _U32 else data
    elif isinstance(data, (int, np.integer)) and not isinstance(data, (bool, np.bool_)):
        d = tensor(np.uint32(int(data) % 2**32))
    else:
        raise DTypeError(f"fold_in: data must be a scalar integer, got {type(data).__name__} {data!r:.40}")
    return _fold_in(k, d)


# ---------------------------------------------------------------- bits


@staged
def _bits(k, *, shape, dtype):
    b = bits32(k, shape)
    return b if dtype is _U32 else lax.convert(b, dtype=dtype)


def bits(k, shape=(), dtype=None):
    """Uniform random bits as unsigned integers, bit for bit `jax.random.bits`: uint32 (the default)
    or uint8 (the low byte of the uint32 value, as JAX's partitionable stream takes it)."""
    k = check_key("bits", k)
    shape = check_shape("bits", shape)
    d = _U32 if dtype is None else dt.dtype(dtype, "bits")
    if d.name not in ("uint32", "uint8"):
        raise DTypeError(f"bits: dtype must be an unsigned integer dtype slope has (uint32, uint8), got {d.name}")
    return _bits(k, shape=shape, dtype=d)


@staged
def split_pair(k):
    """(k1, k2) = split(k) as two uint32[2] tensors, in one program."""
    return tuple(split2(k))
