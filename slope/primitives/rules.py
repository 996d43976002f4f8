"""Rule helpers shared by many specs: shape checks, batching moves, zero tangents."""
from __future__ import annotations

from slope import lax
from slope.core.aval import Aval
from slope.errors import DTypeError, ShapeError, describe
from slope.primitives.spec import REGISTRY


def check_same(name, avals, same_dtype=True):
    """Elementwise ops take operands of one shape (and usually one dtype)."""
    shapes = {a.shape for a in avals}
    if len(shapes) > 1:
        raise ShapeError(f"{name}: operands must have equal shapes, got {describe(avals)}")
    if same_dtype and len({a.dtype for a in avals}) > 1:
        raise DTypeError(f"{name}: operands must have equal dtypes, got {describe(avals)}")


def check_dtype(name, aval, ok, what):
    if not ok(aval.dtype):
        raise DTypeError(f"{name}: expected {what} operand, got {aval.str_short()}")


def normalize_axis(name, axis, ndim, aval=None):
    if not -ndim <= axis < max(ndim, 1):
        shape = f" of {aval.str_short()}" if aval is not None else ""
        raise ShapeError(f"{name}: axis {axis} out of range for rank {ndim}{shape}")
    return axis % ndim if ndim else 0


def moveaxis(x, src: int, dst: int):
    if src == dst:
        return x
    perm = [i for i in range(x.ndim) if i != src]
    perm.insert(dst, src)
    return lax.transpose(x, perm=tuple(perm))


def bdim_at_front(x, d, size):
    """Put the batch dim of `x` first; an unbatched x is broadcast to carry one."""
    if d is None:
        return lax.broadcast_in_dim(x, shape=(size, *x.shape), broadcast_dimensions=tuple(range(1, x.ndim + 1)))
    return moveaxis(x, d, 0)


def vmap_elementwise(name):
    """Batching rule for ops that act elementwise on equally shaped operands (the primitive `name`)."""
    def rule(axis_size, args, dims, **params):
        spec = REGISTRY[name]
        batched = [d for d in dims if d is not None]
        if all(d == batched[0] for d in dims):
            return _as_list(spec.bind(*args, **params)), [batched[0]]
        args = [bdim_at_front(x, d, axis_size) for x, d in zip(args, dims)]
        return _as_list(spec.bind(*args, **params)), [0]

    return rule


def linear_jvp(name):
    """JVP of an op linear in all its operands: the op itself applied to the tangents."""
    def jvp(primals, tangents, **params):
        spec = REGISTRY[name]
        return [spec.bind(*primals, **params)], [spec.bind(*tangents, **params)]

    return jvp


def vmap_same_dims(name):
    """Batching rule for one-operand ops whose batch dim stays where it is (convert, bitcast ...)."""
    def rule(axis_size, args, dims, **params):
        return [REGISTRY[name].bind(*args, **params)], list(dims)

    return rule


def vmap_no_operands(name):
    """Batching rule for operand-free ops (full, iota): the result is unbatched."""
    def rule(axis_size, args, dims, **params):
        return [REGISTRY[name].bind(**params)], [None]

    return rule


def _as_list(x):
    return x if isinstance(x, list) else [x]


def zeros_like(x):
    return lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype)


def zeros_aval(aval: Aval):
    return lax.full(shape=aval.shape, value=0, dtype=aval.dtype)


def instantiate(ct, aval):
    """A None cotangent means zero; make it a real tensor when an op needs one."""
    return zeros_aval(aval) if ct is None else ct
