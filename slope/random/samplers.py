"""Samplers with jax.random's names, signatures and algorithms (so its results).

Each sampler checks its arguments on the host (slope errors naming the op, shapes and dtypes),
then runs one staged program per (shape, dtype) (see prng.staged). Which results are bit-exact
with JAX and which are within a few ulp is stated on each function and in docs/random.md.
"""
from __future__ import annotations

import math

import numpy as np

from slope import lax, ops
from slope.core import dtypes as dt
from slope.core import trace as _trace
from slope.core.tensor import Tensor, tensor
from slope.errors import (
    ArgumentError,
    DomainError,
    DTypeError,
    OutOfBoundsError,
    ShapeError,
)
from slope.random.prng import (
    bits32,
    bits64_as_int64,
    check_key,
    check_shape,
    full,
    split2,
    staged,
)

__all__ = ["bernoulli", "categorical", "choice", "erf_inv", "exponential", "gumbel", "laplace", "normal",
           "permutation", "randint", "truncated_normal", "uniform"]

_F32, _F64 = dt.float32, dt.float64


# ---------------------------------------------------------------- argument helpers


def _is_array(x):
    return isinstance(x, (Tensor, _trace.Tracer))


def _float_dtype(op, dtype, allowed=("float32", "float64")):
    d = _F32 if dtype is None else dt.dtype(dtype, op)
    if d.name not in allowed:
        raise DTypeError(f"{op}: dtype must be a floating-point dtype among ({', '.join(allowed)}), got {d.name}")
    return d


def _param(op, what, v, dtype, shape=None):
    """A float parameter (minval, p, lower, ...) as a tensor of `dtype` that broadcasts to `shape`."""
    if _is_array(v):
        aval = _trace.get_aval(v)
        if aval.dtype.is_bool:
            raise DTypeError(f"{op}: {what} must be a number or a numeric tensor, got {aval.str_short()}")
        t = v if aval.dtype is dtype else lax.convert(v, dtype=dtype)
    else:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number, np.ndarray, list, tuple)):
            raise DTypeError(f"{op}: {what} must be a number or a tensor, got {type(v).__name__} {v!r:.40}")
        arr = np.asarray(v)
        if arr.dtype.kind not in "iuf":
            raise DTypeError(f"{op}: {what} must be numeric, got an array of {arr.dtype}")
        with np.errstate(over="ignore"):
            t = tensor(arr.astype(dtype.np), dtype=dtype)
    if shape is not None:
        tshape = tuple(_trace.get_aval(t).shape)
        if not _fits(tshape, tuple(shape)):
            raise ShapeError(f"{op}: {what} of shape {tshape} does not broadcast to the result shape {tuple(shape)}")
    return t


def _fits(s, shape):
    """An operand of shape s broadcasts to exactly `shape` (NumPy rules, no growth of the result)."""
    return len(s) <= len(shape) and all(a in (1, b) for a, b in zip(s[::-1], shape[::-1]))


def _bcast(x, shape):
    return ops.broadcast_to(x, tuple(shape)) if tuple(_trace.get_aval(x).shape) != tuple(shape) else x


def _finfo(dtype):
    return np.finfo(dtype.np)


# ---------------------------------------------------------------- uniform


def _uniform01(k, shape, dtype):
    """Floats in [0, 1): random mantissa bits under the exponent of 1.0, minus 1 (JAX's _uniform)."""
    if dtype is _F32:
        b = bits32(k, shape)
        fb = lax.or_(lax.shift_right_logical(b, full(shape, 32 - 23, dt.uint32)), full(shape, 0x3F800000, dt.uint32))
        return lax.sub(lax.bitcast(fb, dtype=_F32), full(shape, 1.0, _F32))
    b = bits64_as_int64(k, shape)
    fb = lax.or_(lax.shift_right_logical(b, full(shape, 64 - 52, dt.int64)),
                 full(shape, 0x3FF0000000000000, dt.int64))
    return lax.sub(lax.bitcast(fb, dtype=_F64), full(shape, 1.0, _F64))


def _uniform_body(k, lo, hi, shape, dtype):
    f = _uniform01(k, shape, dtype)
    lo, hi = _bcast(lo, shape), _bcast(hi, shape)
    return lax.maximum(lo, lax.add(lax.mul(f, lax.sub(hi, lo)), lo))


@staged
def _uniform(k, lo, hi, *, shape, dtype):
    return _uniform_body(k, lo, hi, shape, dtype)


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Floats uniform in [minval, maxval), as `jax.random.uniform`. Bit-exact with JAX (float32; float64
    as JAX with `jax_enable_x64`). minval and maxval may be tensors that broadcast to `shape`."""
    key = check_key("uniform", key)
    shape = check_shape("uniform", shape)
    dtype = _float_dtype("uniform", dtype)
    for what, v in (("minval", minval), ("maxval", maxval)):
        if not _is_array(v) and np.ndim(v) == 0 and isinstance(v, (int, float, np.number)) and not math.isfinite(v):
            raise DomainError(f"uniform: {what} must be finite, got {v}")
    scalars = all(isinstance(v, (int, float, np.number)) and not _is_array(v) for v in (minval, maxval))
    if scalars and minval > maxval:
        raise DomainError(f"uniform: needs minval <= maxval, got minval={minval}, maxval={maxval}")
    lo = _param("uniform", "minval", minval, dtype, shape)
    hi = _param("uniform", "maxval", maxval, dtype, shape)
    return _uniform(key, lo, hi, shape=shape, dtype=dtype)


# ---------------------------------------------------------------- erf_inv, normal, truncated_normal

# XLA's single-precision ErfInv (M. Giles, "Approximating the erfinv function"): a degree-8
# polynomial in w - 2.5 (w = -log1p(-x^2) < 5) or in sqrt(w) - 3 (tails), times x.
_ERFINV_SMALL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                 -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_LARGE = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                 -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def erf_inv(x):
    """Inverse error function of a float32 tensor, the polynomial XLA uses (`jax.lax.erf_inv` agrees
    within 2 ulp: the log1p and the fused or unfused multiply-adds of the two compilers differ)."""
    shape = tuple(_trace.get_aval(x).shape)
    w = ops.neg(ops.log1p(ops.neg(ops.mul(x, x))))
    small = ops.lt(w, 5.0)
    w = ops.where(small, ops.sub(w, 2.5), ops.sub(ops.sqrt(w), 3.0))

    def coefficient(i):
        return ops.where(small, full(shape, _ERFINV_SMALL[i], _F32), full(shape, _ERFINV_LARGE[i], _F32))

    p = coefficient(0)
    for i in range(1, len(_ERFINV_SMALL)):
        p = ops.add(coefficient(i), ops.mul(p, w))
    return ops.where(ops.eq(ops.abs(x), 1.0), ops.mul(x, full(shape, math.inf, _F32)), ops.mul(p, x))


_SQRT2 = float(np.float32(np.sqrt(2)))


def _normal_body(k, shape):
    lo = full((), float(np.nextafter(np.float32(-1), np.float32(0))), _F32)
    u = _uniform_body(k, lo, full((), 1.0, _F32), shape, _F32)
    return ops.mul(full(shape, _SQRT2, _F32), erf_inv(u))


@staged
def _normal(k, *, shape):
    return _normal_body(k, shape)


def normal(key, shape=(), dtype=None):
    """Standard normal floats, as `jax.random.normal`: `sqrt(2) * erf_inv(u)` with u uniform in
    (-1, 1). float32; within 2 ulp of JAX (through erf_inv; the uniform draw is exact)."""
    key = check_key("normal", key)
    shape = check_shape("normal", shape)
    _float_dtype("normal", dtype, ("float32",))
    return _normal(key, shape=shape)


def _nextafter(x, up):
    """The float32 next to x toward +inf (up) or -inf, elementwise (for truncated_normal's clip)."""
    shape = tuple(_trace.get_aval(x).shape)
    i = lax.bitcast(x, dtype=dt.int32)
    one = full(shape, 1, dt.int32)
    away = ops.gt(x, 0.0) if up else ops.lt(x, 0.0)  # moving away from zero: the bits grow
    stepped = ops.where(away, lax.add(i, one), lax.sub(i, one))
    zero_step = full(shape, 1 if up else -0x7FFFFFFF, dt.int32)  # +-smallest subnormal from +-0
    stepped = ops.where(ops.eq(x, 0.0), zero_step, stepped)
    target = math.inf if up else -math.inf
    return ops.where(ops.eq(x, target), x, lax.bitcast(stepped, dtype=_F32))


@staged
def _truncated_normal(k, lower, upper, *, shape):
    sqrt2 = full((), _SQRT2, _F32)
    a = ops.erf(ops.div(lower, sqrt2))
    b = ops.erf(ops.div(upper, sqrt2))
    u = _uniform_body(k, a, b, shape, _F32)
    out = ops.mul(full(shape, _SQRT2, _F32), erf_inv(u))
    lo, hi = _bcast(_nextafter(lower, True), shape), _bcast(_nextafter(upper, False), shape)
    return ops.minimum(ops.maximum(out, lo), hi)


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal floats truncated to (lower, upper), as `jax.random.truncated_normal`; shape
    defaults to the broadcast shape of lower and upper. float32; within a few ulp of JAX (erf and
    erf_inv of two compilers; near the bounds the inverse amplifies a 1-ulp difference of erf)."""
    key = check_key("truncated_normal", key)
    _float_dtype("truncated_normal", dtype, ("float32",))
    lo = _param("truncated_normal", "lower", lower, _F32)
    hi = _param("truncated_normal", "upper", upper, _F32)
    both = ops.broadcast_shapes(tuple(lo.shape), tuple(hi.shape), op="truncated_normal")
    shape = both if shape is None else check_shape("truncated_normal", shape)
    for what, t in (("lower", lo), ("upper", hi)):
        _param("truncated_normal", what, t, _F32, shape)
    return _truncated_normal(key, lo, hi, shape=shape)


# ---------------------------------------------------------------- randint


@staged
def _randint(k, lo, hi, out_of_range, *, shape, dtype):
    k1, k2 = split2(k)
    higher, lower = bits32(k1, shape), bits32(k2, shape)
    u32 = dt.uint32
    lo, hi = _bcast(lo, shape), _bcast(hi, shape)
    span = lax.convert(lax.sub(hi, lo), dtype=u32) if dtype is not u32 else lax.sub(hi, lo)
    ones = full(shape, 1, u32)
    span = lax.select(lax.le(hi, lo), ones, span)  # maxval <= minval: always minval (jax#222)
    bump = lax.and_(_bcast(out_of_range, shape), lax.gt(hi, lo))
    span = lax.select(bump, lax.add(span, ones), span)
    multiplier = lax.rem(full(shape, 2**16, u32), span)
    multiplier = lax.rem(lax.mul(multiplier, multiplier), span)
    offset = lax.add(lax.mul(lax.rem(higher, span), multiplier), lax.rem(lower, span))
    offset = lax.rem(offset, span)
    return lax.add(lo, lax.convert(offset, dtype=dtype) if dtype is not u32 else offset)


def _int_bound(op, what, v, dtype):
    """(tensor of dtype, out_of_range flag tensor) for a randint bound; Python ints clip into range."""
    info = np.iinfo(dtype.np)
    if _is_array(v):
        aval = _trace.get_aval(v)
        if not aval.dtype.is_int:
            if not aval.dtype.is_float:
                raise DTypeError(f"{op}: {what} must be an integer or an integer tensor, got {aval.str_short()}")
            v = lax.convert(v, dtype=dt.int32)  # JAX: minval.astype(int)
            aval = _trace.get_aval(v)
        t = v if aval.dtype is dtype else lax.convert(v, dtype=dtype)
        return t, full(aval.shape, False, dt.bool_)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number, np.ndarray, list, tuple)):
        raise DTypeError(f"{op}: {what} must be an integer or an integer tensor, got {type(v).__name__} {v!r:.40}")
    arr = np.asarray(v)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise DomainError(f"{op}: {what} must be finite, got {v}")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"{op}: {what} must be an integer, got an array of {arr.dtype}")
    wide = arr.astype(object) if arr.dtype.kind == "u" else arr.astype(np.int64)
    flag = np.asarray(wide > info.max, dtype=bool)
    clipped = np.clip(wide, info.min, info.max).astype(dtype.np)
    return tensor(clipped, dtype=dtype), tensor(flag)


def randint(key, shape, minval, maxval, dtype=None):
    """Integers uniform in [minval, maxval), as `jax.random.randint` (its algorithm: two 32-bit draws
    from split keys, combined modulo the span; bounds outside the dtype clip into it). int32 (the
    default) or uint32; bit-exact with JAX."""
    key = check_key("randint", key)
    shape = check_shape("randint", shape)
    d = dt.int32 if dtype is None else dt.dtype(dtype, "randint")
    if d.name not in ("int32", "uint32"):
        raise DTypeError(f"randint: dtype must be int32 or uint32 (slope's 32-bit integer dtypes), got {d.name}")
    lo, _ = _int_bound("randint", "minval", minval, d)
    hi, hi_flag = _int_bound("randint", "maxval", maxval, d)
    for what, t in (("minval", lo), ("maxval", hi)):
        s = tuple(_trace.get_aval(t).shape)
        if not _fits(s, shape):
            raise ShapeError(f"randint: {what} of shape {s} does not broadcast to the result shape {shape}")
    return _randint(key, lo, hi, hi_flag, shape=shape, dtype=d)


# ---------------------------------------------------------------- bernoulli, gumbel, exponential, laplace


@staged
def _bernoulli(k, p, *, shape, mode):
    if mode == "low":
        return ops.lt(_uniform_body(k, full((), 0.0, _F32), full((), 1.0, _F32), shape, _F32), _bcast(p, shape))
    u = _uniform_body(k, full((), 0.0, _F32), full((), 1.0, _F32), (2, *shape), _F32)
    u1, u2 = u[0], ops.mul(u[1], 2.0 ** -23)
    return ops.lt(u2, ops.sub(_bcast(p, shape), u1))


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans that are True with probability p, as `jax.random.bernoulli` (`uniform < p`; mode
    "high" adds 23 more bits of resolution). p is float32; bit-exact with JAX."""
    key = check_key("bernoulli", key)
    if mode not in ("low", "high"):
        raise ArgumentError(f"bernoulli: mode must be 'low' or 'high', got {mode!r}")
    if _is_array(p) and not _trace.get_aval(p).dtype.is_float:
        raise DTypeError(f"bernoulli: probability p must have a floating dtype, got {_trace.get_aval(p).str_short()}")
    pt = _param("bernoulli", "p", p, _F32)
    shape = tuple(pt.shape) if shape is None else check_shape("bernoulli", shape)
    _param("bernoulli", "p", pt, _F32, shape)
    return _bernoulli(key, pt, shape=shape, mode=mode)


def _gumbel_body(k, shape, mode):
    tiny = float(np.finfo(np.float32).tiny)
    if mode == "low":
        u = _uniform_body(k, full((), tiny, _F32), full((), 1.0, _F32), shape, _F32)
        return ops.neg(ops.log(ops.neg(ops.log(u))))
    u = _uniform_body(k, full((), 0.0, _F32), full((), 1.0, _F32), (2, *shape), _F32)
    high, low = u[0], u[1]
    x = ops.where(ops.ge(high, 0.5), high, ops.add(ops.add(high, ops.mul(low, 2.0 ** -23)), tiny))
    return ops.neg(ops.log(ops.neg(ops.log1p(ops.neg(x)))))


@staged
def _gumbel(k, *, shape, mode):
    return _gumbel_body(k, shape, mode)


def _mode(op, mode):
    mode = "low" if mode is None else mode
    if mode not in ("low", "high"):
        raise ArgumentError(f"{op}: mode must be None, 'low' or 'high', got {mode!r}")
    return mode


def gumbel(key, shape=(), dtype=None, mode=None):
    """Standard Gumbel floats, as `jax.random.gumbel`: `-log(-log(u))`, u uniform in [tiny, 1) (mode
    "high": two draws for more resolution near 0). float32; within 2 ulp of JAX (two logs)."""
    key = check_key("gumbel", key)
    shape = check_shape("gumbel", shape)
    _float_dtype("gumbel", dtype, ("float32",))
    return _gumbel(key, shape=shape, mode=_mode("gumbel", mode))


@staged
def _exponential(k, *, shape):
    u = _uniform_body(k, full((), 0.0, _F32), full((), 1.0, _F32), shape, _F32)
    return ops.neg(ops.log1p(ops.neg(u)))


def exponential(key, shape=(), dtype=None):
    """Exponential(1) floats, as `jax.random.exponential`: `-log1p(-u)`. float32; within 1 ulp of JAX."""
    key = check_key("exponential", key)
    shape = check_shape("exponential", shape)
    _float_dtype("exponential", dtype, ("float32",))
    return _exponential(key, shape=shape)


@staged
def _laplace(k, *, shape):
    lo = -1.0 + float(np.finfo(np.float32).epsneg)
    u = _uniform_body(k, full((), lo, _F32), full((), 1.0, _F32), shape, _F32)
    return ops.mul(ops.sign(u), ops.log1p(ops.neg(ops.abs(u))))


def laplace(key, shape=(), dtype=None):
    """Laplace(0, 1) floats, as `jax.random.laplace`: `sign(u) * log1p(-|u|)`, u uniform in (-1, 1).
    float32; within 1 ulp of JAX."""
    key = check_key("laplace", key)
    shape = check_shape("laplace", shape)
    _float_dtype("laplace", dtype, ("float32",))
    return _laplace(key, shape=shape)


# ---------------------------------------------------------------- categorical


def _axis(op, axis, ndim):
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise ArgumentError(f"{op}: axis must be an int, got {type(axis).__name__} {axis!r:.40}")
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise OutOfBoundsError(f"{op}: axis {axis} out of range for rank {ndim}")
    return int(axis) % max(ndim, 1)


@staged
def _categorical(k, logits, *, shape, batch_shape, axis, replace, mode):
    ndim = len(_trace.get_aval(logits).shape)
    n = _trace.get_aval(logits).shape[axis]
    prefix = shape[:len(shape) - len(batch_shape)]
    if replace:
        gshape = list(shape[len(shape) - len(batch_shape):])
        gshape.insert(axis, n)
        g = _gumbel_body(k, (*prefix, *gshape), mode)
        lg = lax.reshape(logits, shape=(*([1] * len(prefix)), *logits.shape)) if prefix else logits
        return ops.astype(ops.argmax(ops.add(g, lg), dim=axis + len(prefix)), dt.int32)  # int32, as JAX
    z = ops.add(logits, _gumbel_body(k, tuple(logits.shape), mode))
    kk = math.prod(prefix)
    z = _moveaxis_last(z, axis, ndim)
    idx = ops.topk(z, kk, dim=-1)[1]  # batch_shape + (k,)
    idx = ops.permute(idx, (idx.ndim - 1, *range(idx.ndim - 1)))
    return ops.astype(ops.reshape(idx, shape), dt.int32)


def _moveaxis_last(x, axis, ndim):
    perm = [i for i in range(ndim) if i != axis] + [axis]
    return ops.permute(x, tuple(perm))


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Indices drawn from the categorical distributions softmax(logits, axis), as
    `jax.random.categorical` (Gumbel max trick; without replacement the Gumbel top-k trick). int32;
    equal to JAX except where two perturbed logits fall within an ulp of each other (the Gumbel
    noise is within 2 ulp)."""
    key = check_key("categorical", key)
    logits = _param("categorical", "logits", logits, _F32) if not _is_array(logits) else logits
    aval = _trace.get_aval(logits)
    if not aval.dtype.is_float or aval.dtype is not _F32:
        raise DTypeError(f"categorical: logits must be float32, got {aval.str_short()}")
    if aval.ndim == 0:
        raise ShapeError(f"categorical: logits must have at least one dim, got {aval.str_short()}")
    axis = _axis("categorical", axis, aval.ndim)
    batch_shape = tuple(d for i, d in enumerate(aval.shape) if i != axis)
    if shape is None:
        shape = batch_shape
    else:
        shape = check_shape("categorical", shape)
        if len(shape) < len(batch_shape) or shape[len(shape) - len(batch_shape):] != batch_shape:
            raise ShapeError(f"categorical: shape {shape} must end with the batch shape {batch_shape} of logits "
                             f"{aval.str_short()} (axis {axis} removed)")
    if not replace and math.prod(shape[:len(shape) - len(batch_shape)]) > aval.shape[axis]:
        raise DomainError(f"categorical: number of samples without replacement "
                          f"({math.prod(shape[:len(shape) - len(batch_shape)])}) cannot exceed the number of "
                          f"categories ({aval.shape[axis]})")
    idx = _categorical(key, logits, shape=shape, batch_shape=batch_shape, axis=axis, replace=bool(replace),
                       mode=_mode("categorical", mode))
    return ops.astype(idx, dt.int32)  # JAX's index dtype (slope's own index results are int64)


# ---------------------------------------------------------------- permutation, choice


def _shuffle_body(k, x, axis):
    """x shuffled along axis: sorts by fresh 32-bit keys, ceil(3 ln n / ln(2**32 - 1)) rounds (JAX's
    _shuffle; the sort is stable, so colliding keys keep their order as in XLA)."""
    shape = tuple(_trace.get_aval(x).shape)
    n = math.prod(shape)
    rounds = int(np.ceil(3 * np.log(max(1, n)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        k, sub = split2(k)
        sort_keys = bits32(sub, shape)
        x = lax.sort(sort_keys, x, dimension=axis, num_keys=1)[1]
    return x


@staged
def _shuffle(k, x, *, axis):
    return _shuffle_body(k, x, axis)


@staged
def _permute_along(k, x, *, axis):
    n = _trace.get_aval(x).shape[axis]
    ind = _shuffle_body(k, lax.iota(shape=(n,), dimension=0, dtype=dt.int32), 0)
    return ops.index_select(x, axis, ind)


@staged
def _arange_shuffle(k, *, n):
    return _shuffle_body(k, lax.iota(shape=(n,), dimension=0, dtype=dt.int32), 0)


def permutation(key, x, axis=0, independent=False):
    """A random permutation of range(x) (an int) or of x along axis, as `jax.random.permutation`;
    `independent=True` shuffles every slice along axis separately. Bit-exact with JAX."""
    key = check_key("permutation", key)
    if not _is_array(x) and np.ndim(x) == 0:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
            raise DTypeError(f"permutation: x must be an int or a tensor with at least one dim, got "
                             f"{type(x).__name__} {x!r:.40}")
        if x < 0:
            raise DomainError(f"permutation: x must be >= 0, got {x}")
        check_shape("permutation", (int(x),))
        return _arange_shuffle(key, n=int(x))
    x = x if _is_array(x) else tensor(x)
    aval = _trace.get_aval(x)
    if aval.ndim == 0:
        raise ArgumentError(f"permutation: x must be a Python int or a tensor with at least one dim, got "
                            f"{aval.str_short()} (pass int(x))")
    axis = _axis("permutation", axis, aval.ndim)
    if independent or aval.ndim == 1:
        return _shuffle(key, x, axis=axis)
    return _permute_along(key, x, axis=axis)


@staged
def _choice_p(k, p, *, shape, replace, n_draws):
    n = _trace.get_aval(p).shape[0]
    if replace:
        cum = ops.cumsum(p, 0)
        total = cum[n - 1]
        u = _uniform_body(k, full((), 0.0, _F32), full((), 1.0, _F32), shape, _F32)
        r = ops.mul(total, ops.sub(1.0, u))
        # searchsorted(cum, r, side="left") == how many cumulative sums lie below r
        below = ops.lt(ops.reshape(cum, (*([1] * len(shape)), n)), ops.unsqueeze(r, -1))
        return ops.sum(ops.astype(below, dt.int32), dim=-1, dtype=dt.int32)
    g = ops.add(_gumbel_body(k, (n,), "low"), ops.log(p))
    return ops.astype(ops.topk(g, n_draws)[1], dt.int32)  # int32, as JAX


def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """A random sample from a (an int: range(a)) along axis, as `jax.random.choice`: with replacement
    `randint` indices, without `permutation`'s first entries; with probabilities p the inverse CDF
    (replace) or the Gumbel top-k trick (not replace). Bit-exact with JAX without p; with p exact
    where cumsum(p) is (e.g. p in multiples of 2**-k), else an index can differ where a draw falls
    within an ulp of a cumulative sum."""
    key = check_key("choice", key)
    if not isinstance(shape, (tuple, list)):
        raise ArgumentError(f"choice: shape must be a tuple of ints, got {type(shape).__name__} {shape!r:.40}")
    shape = check_shape("choice", shape)
    arr = a if _is_array(a) else (None if np.ndim(a) == 0 else tensor(a))
    if arr is None:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise DTypeError(f"choice: a must be an int or a tensor, got {type(a).__name__} {a!r:.40}")
        n_inputs = int(a)
        out_dtype = dt.int32
    else:
        aval = _trace.get_aval(arr)
        if aval.ndim == 0:
            raise ArgumentError(f"choice: a must be a Python int or a tensor with at least one dim, got "
                                f"{aval.str_short()}")
        axis = _axis("choice", axis, aval.ndim)
        n_inputs = aval.shape[axis]
        out_dtype = aval.dtype
    n_draws = math.prod(shape)
    if n_draws == 0:
        zshape = shape if arr is None else (*arr.shape[:axis], *shape, *arr.shape[axis + 1:])
        return ops.zeros(*zshape, dtype=out_dtype) if zshape else ops.zeros((), dtype=out_dtype)
    if n_inputs <= 0:
        raise DomainError("choice: a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n_inputs:
        raise DomainError(f"choice: cannot take a larger sample (size {n_draws}) than the population "
                          f"(size {n_inputs}) when replace=False")
    if p is None:
        if replace:
            ind = randint(key, shape, 0, n_inputs)
            if arr is None:
                return ind
            out = ops.index_select(arr, axis, ops.reshape(ind, (n_draws,)))
        else:
            perm = permutation(key, n_inputs if arr is None else arr, axis)
            out = ops.narrow(perm, 0 if arr is None else axis, 0, n_draws)
            if arr is None:
                return ops.reshape(out, shape)
    else:
        pt = _param("choice", "p", p, _F32)
        if tuple(pt.shape) != (n_inputs,):
            raise ShapeError(f"choice: p must be None or a 1-d tensor of the size of a along axis ({n_inputs},), "
                             f"got shape {tuple(pt.shape)}")
        ind = _choice_p(key, pt, shape=shape, replace=bool(replace), n_draws=n_draws)
        if arr is None:
            return ops.astype(ops.reshape(ind, shape), out_dtype)
        out = ops.index_select(arr, axis, ops.reshape(ind, (n_draws,)))
    full_shape = (*arr.shape[:axis], *shape, *arr.shape[axis + 1:])
    return ops.reshape(out, full_shape)
