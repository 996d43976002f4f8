"""User-level tensor operations: NumPy/PyTorch semantics (broadcasting, dtype promotion, dims)
built from primitives. Tensor methods and operators call these."""
from __future__ import annotations

import builtins
import math

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import Tensor, as_tensor, tensor
from slope.core.trace import Tracer
from slope.errors import DTypeError, ShapeError, describe

_py_max, _py_sum = builtins.max, builtins.sum


def _is_array(x):
    return isinstance(x, (Tensor, Tracer))


def _arr(x):
    return x if _is_array(x) else as_tensor(x)


# ---------------------------------------------------------------- broadcasting and promotion


def broadcast_shapes(*shapes, op="broadcast"):
    ndim = _py_max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{op}: cannot broadcast shapes {' and '.join(map(str, map(tuple, shapes)))}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to(x, shape):
    x = _arr(x)
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    if len(shape) < x.ndim or broadcast_shapes(x.shape, shape, op="broadcast_to") != shape:
        raise ShapeError(f"broadcast_to: cannot broadcast {x.aval.str_short()} to {shape}")
    lead = len(shape) - x.ndim
    return lax.broadcast_in_dim(x, shape=shape, broadcast_dimensions=tuple(range(lead, len(shape))))


def expand(x, *shape):
    shape = _shape_arg(shape)
    x = _arr(x)
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return broadcast_to(x, shape)


def _operands(op, *xs, dtype=None):
    """Tensors broadcast to one shape and promoted to one dtype; Python scalars are weakly typed."""
    for x in xs:
        if not (_is_array(x) or isinstance(x, np.ndarray)):
            _check_scalar(op, x)
    arrays = [x for x in xs if _is_array(x) or isinstance(x, np.ndarray)]
    arrays = [_arr(x) for x in arrays]
    if not arrays:
        xs = [tensor(x) for x in xs]
        arrays = xs
    if dtype is None:
        dtype = arrays[0].dtype
        for a in arrays[1:]:
            dtype = dt.promote(dtype, a.dtype)
        for x in xs:
            if not (_is_array(x) or isinstance(x, np.ndarray)):
                dtype = dt.scalar_dtype(x, dtype)
    try:
        shape = broadcast_shapes(*[a.shape for a in arrays], op=op)
    except ShapeError:
        raise ShapeError(f"{op}: cannot broadcast operands {describe([a.aval for a in arrays])}") from None
    out = []
    for x in xs:
        if _is_array(x) or isinstance(x, np.ndarray):
            x = astype(_arr(x), dtype)
            out.append(broadcast_to(x, shape))
        else:
            out.append(lax.full(shape=shape, value=x, dtype=dtype))
    return out


def _check_scalar(op, x):
    if not isinstance(x, (bool, int, float)):
        raise DTypeError(f"{op}: unsupported operand type {type(x).__name__}")


def _binary(op, name=None):
    def f(x, y):
        return op(*_operands(name or op.__name__, x, y))

    f.__name__ = name or getattr(op, "__name__", "op")
    return f


def _float_operands(op, *xs):
    """Math like div/exp on integers works in the default float dtype (as in PyTorch)."""
    xs = _operands(op, *xs)
    if not xs[0].dtype.is_float:
        xs = [astype(x, dt.default_float) for x in xs]
    return xs


add = _binary(lax.add, "add")
sub = _binary(lax.sub, "sub")
mul = _binary(lax.mul, "mul")
maximum = _binary(lax.maximum, "maximum")
minimum = _binary(lax.minimum, "minimum")
eq = _binary(lax.eq, "eq")
ne = _binary(lax.ne, "ne")
lt = _binary(lax.lt, "lt")
le = _binary(lax.le, "le")
gt = _binary(lax.gt, "gt")
ge = _binary(lax.ge, "ge")
atan2 = lambda y, x: lax.atan2(*_float_operands("atan2", y, x))  # noqa: E731


def div(x, y):
    """True division (integers are promoted to float, like PyTorch)."""
    return lax.div(*_float_operands("div", x, y))


def floor_divide(x, y):
    x, y = _operands("floor_divide", x, y)
    if x.dtype.is_float:
        return lax.floor(lax.div(x, y))
    q = lax.div(x, y)
    fix = lax.and_(lax.ne(lax.rem(x, y), lax.full(shape=x.shape, value=0, dtype=x.dtype)),
                   lax.ne(lax.lt(x, _zeros(x)), lax.lt(y, _zeros(y))))
    return lax.select(fix, lax.sub(q, lax.full(shape=q.shape, value=1, dtype=q.dtype)), q)


def remainder(x, y):
    """Python-style modulo: result has the sign of y."""
    x, y = _operands("remainder", x, y)
    r = lax.rem(x, y)
    wrong = lax.and_(lax.ne(r, _zeros(r)), lax.ne(lax.lt(r, _zeros(r)), lax.lt(y, _zeros(y))))
    return lax.select(wrong, lax.add(r, y), r)


def fmod(x, y):
    return lax.rem(*_operands("fmod", x, y))


def pow(x, y):
    if not _is_array(y) and isinstance(y, (int, float)) and _is_array(x):
        if y == 2:
            return mul(x, x)
        if isinstance(y, int) and not x.dtype.is_float:
            return lax.pow(*_operands("pow", x, y))
    return lax.pow(*_float_operands("pow", x, y) if not _int_pow(x, y) else _operands("pow", x, y))


def _int_pow(x, y):
    dts = [v.dtype for v in (x, y) if _is_array(v)]
    return all(not d.is_float for d in dts) and not any(isinstance(v, float) for v in (x, y))


def _logical(name, prim):
    def f(x, y):
        x, y = _operands(name, x, y)
        if x.dtype.is_float:
            raise DTypeError(f"{name}: expected bool or integer operands, got {describe([x.aval, y.aval])}")
        return prim(x, y)

    f.__name__ = name
    return f


logical_and = _logical("logical_and", lax.and_)
logical_or = _logical("logical_or", lax.or_)
logical_xor = _logical("logical_xor", lax.xor)


def logical_not(x):
    x = _arr(x)
    if x.dtype.is_float:
        raise DTypeError(f"logical_not: expected a bool or integer operand, got {x.aval.str_short()}")
    return lax.not_(x)


def _zeros(x):
    return lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype)


# ---------------------------------------------------------------- unary math


def _unary_float(prim):
    def f(x):
        x = _arr(x)
        if not x.dtype.is_float:
            x = astype(x, dt.default_float)
        return prim(x)

    f.__name__ = prim.__name__ if hasattr(prim, "__name__") else "op"
    return f


exp, log, sin, cos, tan, tanh = map(_unary_float, (lax.exp, lax.log, lax.sin, lax.cos, lax.tan, lax.tanh))
sqrt, rsqrt, expm1, log1p, sigmoid = map(_unary_float, (lax.sqrt, lax.rsqrt, lax.expm1, lax.log1p, lax.logistic))


def neg(x):
    return lax.neg(_arr(x))


def abs(x):
    return lax.abs(_arr(x))


def sign(x):
    return lax.sign(_arr(x))


def _rounding(prim):
    def f(x):
        x = _arr(x)
        return x if not x.dtype.is_float else prim(x)

    return f


floor, ceil, round = _rounding(lax.floor), _rounding(lax.ceil), _rounding(lax.round)


def relu(x):
    x = _arr(x)
    return lax.select(lax.gt(x, _zeros(x)), x, _zeros(x))  # relu'(0) = 0


def clamp(x, min=None, max=None):
    x = _arr(x)
    if min is not None:
        x = maximum(x, min)
    if max is not None:
        x = minimum(x, max)
    return x


def where(cond, x, y):
    cond = _arr(cond)
    if not cond.dtype.is_bool:
        cond = astype(cond, dt.bool_)
    x, y = _operands("where", x, y)
    shape = broadcast_shapes(cond.shape, x.shape, op="where")
    return lax.select(broadcast_to(cond, shape), broadcast_to(x, shape), broadcast_to(y, shape))


def astype(x, dtype):
    x = _arr(x)
    dtype = dt.dtype(dtype)
    return x if x.dtype is dtype else lax.convert(x, dtype=dtype)


def stop_gradient(x):
    x = _arr(x)
    return lax.stop_gradient(x) if x.dtype.is_float else x


# ---------------------------------------------------------------- shapes


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x, *shape):
    x = _arr(x)
    shape = list(_shape_arg(shape))
    if shape.count(-1) > 1:
        raise ShapeError(f"reshape: only one dim may be -1, got {tuple(shape)}")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or x.size % known:
            raise ShapeError(f"reshape: cannot reshape {x.aval.str_short()} to {tuple(shape)}")
        shape[shape.index(-1)] = x.size // known
    shape = tuple(shape)
    return x if shape == tuple(x.shape) else lax.reshape(x, shape=shape)


def _dim(op, d, ndim):
    if not -_py_max(ndim, 1) <= d < _py_max(ndim, 1):
        raise ShapeError(f"{op}: dim {d} out of range for a {ndim}-d tensor")
    return d % ndim if ndim else 0


def permute(x, *dims):
    x = _arr(x)
    dims = tuple(_dim("permute", d, x.ndim) for d in _shape_arg(dims))
    return x if dims == tuple(range(x.ndim)) else lax.transpose(x, perm=dims)


def transpose(x, dim0=None, dim1=None):
    """Swap two dims (PyTorch); with no dims, reverse all of them (NumPy .T)."""
    x = _arr(x)
    if dim0 is None and dim1 is None:
        return permute(x, *reversed(range(x.ndim)))
    perm = list(range(x.ndim))
    a, b = _dim("transpose", dim0, x.ndim), _dim("transpose", dim1, x.ndim)
    perm[a], perm[b] = perm[b], perm[a]
    return permute(x, *perm)


def flatten(x, start_dim=0, end_dim=-1):
    x = _arr(x)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim("flatten", start_dim, x.ndim), _dim("flatten", end_dim, x.ndim)
    return reshape(x, *x.shape[:s], math.prod(x.shape[s:e + 1]), *x.shape[e + 1:])


def squeeze(x, dim=None):
    x = _arr(x)
    if dim is None:
        dims = [i for i, s in enumerate(x.shape) if s == 1]
    else:
        dims = [_dim("squeeze", d, x.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        dims = [d for d in dims if x.shape[d] == 1]
    return reshape(x, *[s for i, s in enumerate(x.shape) if i not in dims])


def unsqueeze(x, dim):
    x = _arr(x)
    d = _dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, *x.shape[:d], 1, *x.shape[d:])


# ---------------------------------------------------------------- reductions


def _axes(op, dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(sorted({_dim(op, d, ndim) for d in dims}))


def _reduce(prim, op):
    def f(x, dim=None, keepdim=False):
        x = _arr(x)
        axes = _axes(op, dim, x.ndim)
        if x.dtype.is_bool and op in ("sum", "prod"):
            x = astype(x, dt.int32)
        y = prim(x, axes=axes) if axes else x
        if keepdim:
            y = reshape(y, *[1 if i in axes else s for i, s in enumerate(x.shape)])
        return y

    f.__name__ = op
    return f


sum = _reduce(lax.reduce_sum, "sum")
max = _reduce(lax.reduce_max, "max")
min = _reduce(lax.reduce_min, "min")
prod = _reduce(lax.reduce_prod, "prod")


def mean(x, dim=None, keepdim=False):
    x = _arr(x)
    if not x.dtype.is_float:
        x = astype(x, dt.default_float)
    n = math.prod(x.shape[a] for a in _axes("mean", dim, x.ndim))
    return div(sum(x, dim, keepdim), n)


def var(x, dim=None, keepdim=False, correction=1):
    x = _arr(x)
    if not x.dtype.is_float:
        x = astype(x, dt.default_float)
    n = math.prod(x.shape[a] for a in _axes("var", dim, x.ndim))
    centered = sub(x, mean(x, dim, keepdim=True))
    return div(sum(mul(centered, centered), dim, keepdim), _py_max(n - correction, 0))


def std(x, dim=None, keepdim=False, correction=1):
    return sqrt(var(x, dim, keepdim, correction))


def logsumexp(x, dim=None, keepdim=False):
    x = _arr(x)
    m = stop_gradient(max(x, dim, keepdim=True))
    y = add(log(sum(exp(sub(x, m)), dim, keepdim=True)), m)
    return y if keepdim else squeeze(y, _axes("logsumexp", dim, x.ndim)) if x.ndim else y


def softmax(x, dim=-1):
    x = _arr(x)
    e = exp(sub(x, stop_gradient(max(x, dim, keepdim=True))))
    return div(e, sum(e, dim, keepdim=True))


def log_softmax(x, dim=-1):
    x = _arr(x)
    return sub(x, logsumexp(x, dim, keepdim=True))


# ---------------------------------------------------------------- matmul


def matmul(x, y):
    """NumPy matmul: 1-d operands are vectors, leading dims broadcast as batch dims."""
    x, y = _arr(x), _arr(y)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"matmul: operands must be at least 1-d, got {describe([x.aval, y.aval])}")
    if x.dtype is not y.dtype:
        d = dt.promote(x.dtype, y.dtype)
        x, y = astype(x, d), astype(y, d)
    xv, yv = x.ndim == 1, y.ndim == 1
    if xv:
        x = reshape(x, 1, x.shape[0])
    if yv:
        y = reshape(y, y.shape[0], 1)
    if x.shape[-1] != y.shape[-2]:
        raise ShapeError(f"matmul: inner dimensions differ: {describe([x.aval, y.aval])} "
                         f"({x.shape[-1]} != {y.shape[-2]})")
    batch = broadcast_shapes(x.shape[:-2], y.shape[:-2], op="matmul")
    nb = len(batch)
    x = broadcast_to(x, batch + tuple(x.shape[-2:]))
    y = broadcast_to(y, batch + tuple(y.shape[-2:]))
    out = lax.dot_general(x, y, contracting_dims=((nb + 1,), (nb,)), batch_dims=(tuple(range(nb)), tuple(range(nb))))
    if xv:
        out = squeeze(out, -2)
    if yv:
        out = squeeze(out, -1)
    return out


def dot(x, y):
    return matmul(x, y)


def outer(x, y):
    x, y = _arr(x), _arr(y)
    return mul(reshape(x, -1, 1), reshape(y, 1, -1))
