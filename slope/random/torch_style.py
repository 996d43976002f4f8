"""PyTorch-style `slope.randn`, `rand`, `randint` and `manual_seed` on slope.random's threefry keys.

A global key (`key(0)` at import, reset by `manual_seed(s)` to `key(s)`) is split on every call:
the call draws with the second half and keeps the first. `seed=` draws from `key(seed)` instead
and leaves the global key alone. These functions change global state, so they are eager-only:
inside `slope.jit`, `grad`, `vmap` (any active trace) they raise TracerError; pass a key to the
`slope.random` functions there. `randn(*shape)` equals `slope.random.normal(k, shape)` for the
key `k` it used (float32; other float dtypes are drawn in float32 and converted); `rand` is
`uniform` (float32 and float64 natively) and `randint` is `slope.random.randint` (drawn in int32,
converted to the requested integer dtype).
"""
from __future__ import annotations

from slope import lax
from slope.core import dtypes as dt
from slope.core import memory
from slope.core import trace as _trace
from slope.core.aval import Aval
from slope.errors import DomainError, DTypeError, TracerError
from slope.ops.promotion import int_arg, sizes_arg
from slope.random import prng, samplers

__all__ = ["manual_seed", "rand", "randint", "randn"]

_global = {"key": None}


def _eager_only(op):
    if _trace.dynamic_trace is not None or len(_trace.trace_stack) > 1:  # jit staging, or vmap/jvp/grad
        raise TracerError(f"{op}: draws from slope's global random state, which only works eagerly (outside jit, "
                          f"grad, vmap); inside a transformation pass a key: slope.random.normal(key, shape), "
                          f"slope.random.uniform, slope.random.randint with key = slope.random.key(seed)")


def manual_seed(seed: int):
    """Reset the global key behind randn/rand/randint to `slope.random.key(seed)` (reproducible runs)."""
    _eager_only("manual_seed")
    _global["key"] = prng.key(int_arg("manual_seed", "seed", seed))


def _next_key(op, seed):
    """The key a call draws with: key(seed), or the second half of a split of the global key."""
    _eager_only(op)
    if seed is not None:
        return prng.key(int_arg(op, "seed", seed))
    if _global["key"] is None:
        _global["key"] = prng.key(0)
    _global["key"], sub = prng.split_pair(_global["key"])
    return sub


def _shape(op, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return sizes_arg(op, shape)


def _prepare(op, shape, dtype, default, device):
    dt.check_device(op, device)
    d = dt.dtype_or(dtype, default, op)
    shape = _shape(op, shape)
    memory.check(op, [Aval(shape, d)])
    return d, shape


def randn(*shape, dtype=None, seed=None, device=None):
    """Standard normal floats (torch.randn): slope.random.normal with the next global key (or key(seed))."""
    d, shape = _prepare("randn", shape, dtype, dt.default_float, device)
    if not d.is_float:
        raise DTypeError(f"randn: dtype must be floating-point, got {d.name}")
    x = samplers.normal(_next_key("randn", seed), shape)
    return x if d is dt.float32 else lax.convert(x, dtype=d)


def rand(*shape, dtype=None, seed=None, device=None):
    """Floats uniform in [0, 1) (torch.rand): slope.random.uniform with the next global key (or key(seed))."""
    d, shape = _prepare("rand", shape, dtype, dt.default_float, device)
    if not d.is_float:
        raise DTypeError(f"rand: dtype must be floating-point, got {d.name}")
    native = d if d.name in ("float32", "float64") else dt.float32
    x = samplers.uniform(_next_key("rand", seed), shape, native)
    return x if native is d else lax.convert(x, dtype=d)


def randint(low, high, shape, dtype=None, seed=None, device=None):
    """Integers uniform in [low, high) (torch.randint): slope.random.randint with the next global key."""
    d, shape = _prepare("randint", (shape,), dtype, dt.default_int, device)
    low, high = int_arg("randint", "low", low), int_arg("randint", "high", high)
    if high <= low:
        raise DomainError(f"randint: needs low < high, got low={low}, high={high}")
    for v in (low, high - 1):
        problem = dt.scalar_misfit(v, d) if not d.is_bool else (None if v in (0, 1) else f"{v} is not a bool")
        if problem:
            raise DTypeError(f"randint: {problem}")
    draw = d if d.name in ("int32", "uint32") else dt.int32
    if not (-2**31 <= low and high - 1 < 2**31) and draw is dt.int32:
        raise DomainError(f"randint: bounds beyond int32 ({low}, {high}) are not supported for {d.name}; "
                          "slope.random draws 32-bit integers")
    x = samplers.randint(_next_key("randint", seed), shape, low, high, draw)
    return x if draw is d else lax.convert(x, dtype=d)
