"""User-level tensor operations: NumPy/PyTorch semantics (broadcasting, dtype promotion, dims)
built from primitives. Tensor methods and operators call these."""
from __future__ import annotations

import builtins
import collections as _collections
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
    """Tensors broadcast to one shape and promoted to one dtype; Python and NumPy scalars are weakly typed."""
    xs = [dt.python_scalar(x) for x in xs]
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
            problem = dt.scalar_misfit(x, dtype)
            if problem:
                raise DTypeError(f"{op}: scalar operand {problem}")
            out.append(lax.full(shape=shape, value=x, dtype=dtype))
    return out


def _check_scalar(op, x):
    if not isinstance(x, (bool, int, float)):
        raise DTypeError(f"{op}: unsupported operand type {type(x).__name__}")
    return x


def _binary(op, name=None, on_bool=None):
    """A broadcasting, promoting binary op; `on_bool` is the primitive for two bool operands
    (PyTorch: bool + bool is logical or, bool * bool logical and)."""
    name = name or getattr(op, "__name__", "op")

    def f(x, y):
        x, y = _operands(name, x, y)
        return (on_bool or op)(x, y) if x.dtype.is_bool else op(x, y)

    f.__name__ = name
    return f


def _no_bool_sub(x, y):
    raise DTypeError(f"sub: subtracting bool tensors is not supported ({describe([x.aval, y.aval])}); "
                     "use logical_xor or ~ (as in PyTorch)")


def _float_operands(op, *xs):
    """Math like div/exp on integers works in the default float dtype (as in PyTorch)."""
    xs = _operands(op, *xs)
    if not xs[0].dtype.is_float:
        xs = [astype(x, dt.default_float) for x in xs]
    return xs


add = _binary(lax.add, "add", on_bool=lax.or_)
sub = _binary(lax.sub, "sub", on_bool=_no_bool_sub)
mul = _binary(lax.mul, "mul", on_bool=lax.and_)
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
    x, y = dt.python_scalar(x), dt.python_scalar(y)
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
erf = _unary_float(lax.erf)


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
amax = _reduce(lax.reduce_max, "amax")
amin = _reduce(lax.reduce_min, "amin")
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
    m = stop_gradient(amax(x, dim, keepdim=True))
    y = add(log(sum(exp(sub(x, m)), dim, keepdim=True)), m)
    return y if keepdim else squeeze(y, _axes("logsumexp", dim, x.ndim)) if x.ndim else y


def softmax(x, dim=-1):
    x = _arr(x)
    e = exp(sub(x, stop_gradient(amax(x, dim, keepdim=True))))
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


# ================================================================ arg-reductions, scans, sorting, convolution
# (primitives in slope/primitives/scan.py, sort.py, conv.py; PyTorch semantics; indices are int32)

_Sorted = _collections.namedtuple("sort", ["values", "indices"])


def _arg_reduce(prim, name):
    def f(x, dim=None, keepdim=False):
        x = _arr(x)
        if dim is None:  # over all elements (row-major), like torch
            flat = reshape(x, x.size) if x.ndim != 1 else x
            out = prim(flat, axis=0, index_dtype=dt.default_int)
            return reshape(out, *([1] * x.ndim)) if keepdim else out
        if x.ndim == 0:
            _dim(name, dim, 0)
            return lax.full(shape=(), value=0, dtype=dt.default_int)
        d = _dim(name, dim, x.ndim)
        out = prim(x, axis=d, index_dtype=dt.default_int)
        return unsqueeze(out, d) if keepdim else out

    f.__name__ = name
    f.__doc__ = f"Index of the first {name[3:]}imum along dim (over all elements when dim is None); NaN wins."
    return f


argmax = _arg_reduce(lax.argmax, "argmax")
argmin = _arg_reduce(lax.argmin, "argmin")


def _extreme(name, values_of, index_of, elementwise):
    """torch.max / torch.min: the extreme of all elements; with an int dim, the named pair
    (values, indices) along it; with a tensor as second argument, the elementwise extreme."""
    pair = _collections.namedtuple(name, ["values", "indices"])

    def f(x, dim=None, keepdim=False):
        if _is_array(dim) or isinstance(dim, np.ndarray):
            return elementwise(x, dim)
        x = _arr(x)
        if dim is None:
            return values_of(x)
        if not (isinstance(dim, (int, np.integer)) and not isinstance(dim, bool)):
            raise ShapeError(f"{name}: dim must be an int (the result is (values, indices) along it), got {dim!r}; "
                             f"a{name} reduces over several dims")
        keys = astype(x, dt.int32) if x.dtype.is_bool else x
        return pair(values_of(x, dim, keepdim), index_of(keys, dim, keepdim))

    f.__name__ = name
    f.__doc__ = (f"{name}(x): the {name}imum of all elements; {name}(x, dim, keepdim=False): (values, indices) "
                 f"along dim, the index of the first {name}imum (NaN wins); {name}(x, other): elementwise.")
    return f


max = _extreme("max", amax, argmax, maximum)
min = _extreme("min", amin, argmin, minimum)


def topk(x, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) elements along dim, in sorted order; ties keep
    the earlier index first, NaN counts as the largest (torch.topk)."""
    x = _arr(x)
    d = _dim("topk", dim, _py_max(x.ndim, 1))
    n = x.shape[d] if x.ndim else 1
    if not (isinstance(k, (int, np.integer)) and 0 <= k <= n):
        raise ShapeError(f"topk: k must be an int in [0, {n}] for {x.aval.str_short()} along dim {dim}, got {k!r}")
    values, indices = sort(x, d, descending=largest) if x.ndim else sort(x)
    if x.ndim:
        values, indices = narrow(values, d, 0, k), narrow(indices, d, 0, k)
    return _TopK(values, indices)


_TopK = _collections.namedtuple("topk", ["values", "indices"])


def _scan_op(prim, name, int_result):
    def f(x, dim, reverse=False):
        x = _arr(x)
        if x.dtype.is_bool and int_result:
            x = astype(x, dt.default_int)
        if x.ndim == 0:
            _dim(name, dim, 0)
            return x
        d = _dim(name, dim, x.ndim)
        return prim(x, axis=d, reverse=reverse)

    f.__name__ = name
    f.__doc__ = f"Inclusive running {name[3:]} along dim (reverse=True scans from the end)."
    return f


cumsum = _scan_op(lax.cumsum, "cumsum", True)
cumprod = _scan_op(lax.cumprod, "cumprod", True)
_cummax_values = _scan_op(lax.cummax, "cummax", False)
_cummin_values = _scan_op(lax.cummin, "cummin", False)
_CumMax = _collections.namedtuple("cummax", ["values", "indices"])
_CumMin = _collections.namedtuple("cummin", ["values", "indices"])


def _cum_extreme(name, values_fn, result):
    def f(x, dim, reverse=False):
        x = _arr(x)
        values = values_fn(x, dim, reverse)
        if x.ndim == 0:
            return result(values, lax.full(shape=(), value=0, dtype=dt.default_int))
        d = _dim(name, dim, x.ndim)
        shape, n = tuple(x.shape), x.shape[d]
        idx = lax.iota(shape=shape, dimension=d, dtype=dt.default_int)
        holds = lax.eq(x, values)
        if x.dtype.is_float:  # a NaN takes over the running extreme: the latest NaN holds it
            holds = lax.or_(holds, lax.ne(x, x))
        if reverse:  # nearest holder at or after each position
            pos = lax.cummin(lax.select(holds, idx, lax.full(shape=shape, value=n - 1, dtype=dt.default_int)),
                             axis=d, reverse=True)
        else:  # nearest holder at or before each position
            pos = lax.cummax(lax.select(holds, idx, lax.full(shape=shape, value=0, dtype=dt.default_int)), axis=d)
        return result(values, pos)

    f.__name__ = name
    f.__doc__ = (f"(values, indices) of the inclusive running {name[3:]} along dim (torch.{name}): on ties the index "
                 f"is the latest one (in scan order), a NaN takes over from every number; reverse=True scans "
                 f"from the end. The values are differentiable (the tangent of the element at `indices`).")
    return f


cummax = _cum_extreme("cummax", _cummax_values, _CumMax)
cummin = _cum_extreme("cummin", _cummin_values, _CumMin)


def _sort_keys(x, descending):
    """Keys (and num_keys) that sort x in the requested order with one ascending stable sort."""
    if not descending:
        return [x]
    if x.dtype.is_float:  # NaN first (torch treats NaN as the largest), then by -x
        return [lax.eq(x, x), lax.neg(x)]
    return [lax.not_(x)]  # bitwise not reverses the order of every integer type without overflow


def sort(x, dim=-1, descending=False):
    """(values, indices) of a stable sort along dim; NaN sorts as the largest value (last, or first if descending)."""
    x = _arr(x)
    if x.ndim == 0:
        _dim("sort", dim, 0)
        return _Sorted(x, lax.full(shape=(), value=0, dtype=dt.default_int))
    d = _dim("sort", dim, x.ndim)
    keys = _sort_keys(x, descending)
    idx = lax.iota(shape=tuple(x.shape), dimension=d, dtype=dt.default_int)
    outs = lax.sort(*keys, x, idx, dimension=d, num_keys=len(keys))
    return _Sorted(outs[-2], outs[-1])


def argsort(x, dim=-1, descending=False):
    """Indices of a stable sort along dim (see sort)."""
    x = _arr(x)
    if x.ndim == 0:
        _dim("argsort", dim, 0)
        return lax.full(shape=(), value=0, dtype=dt.default_int)
    d = _dim("argsort", dim, x.ndim)
    if not descending:
        return lax.argsort(x, dimension=d, index_dtype=dt.default_int)
    return sort(x, d, descending=True).indices


def _ntuple(op, name, v, n):
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(vals) != n or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in vals):
        raise ShapeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(i) for i in vals)


def _conv_operands(op, x, w, nsp):
    x, w = _arr(x), _arr(w)
    if w.ndim != nsp + 2 or x.ndim not in (nsp + 1, nsp + 2):
        raise ShapeError(f"{op}: expected input of rank {nsp + 1} or {nsp + 2} and weight of rank {nsp + 2}, "
                         f"got {describe([x.aval, w.aval])}")
    if x.dtype is not w.dtype:
        d = dt.promote(x.dtype, w.dtype)
        x, w = astype(x, d), astype(w, d)
    if not x.dtype.is_float:
        x, w = astype(x, dt.default_float), astype(w, dt.default_float)
    unbatched = x.ndim == nsp + 1
    return (unsqueeze(x, 0) if unbatched else x), w, unbatched


def _add_bias(op, y, bias, nsp):
    if bias is None:
        return y
    bias = _arr(bias)
    if bias.shape != (y.shape[1],):
        raise ShapeError(f"{op}: bias must have shape ({y.shape[1]},), got {bias.aval.str_short()}")
    return add(y, reshape(bias, y.shape[1], *([1] * nsp)))


def _convnd(op, nsp, x, weight, bias, stride, padding, dilation, groups):
    x, w, unbatched = _conv_operands(op, x, weight, nsp)
    stride = _ntuple(op, "stride", stride, nsp)
    dilation = _ntuple(op, "dilation", dilation, nsp)
    ksize = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nsp
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(f"{op}: padding='same' needs stride 1, got stride={stride}")
            total = [d * (k - 1) for d, k in zip(dilation, ksize)]
            pads = tuple((t // 2, t - t // 2) for t in total)  # any odd extra goes after, like torch
        else:
            raise ShapeError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        pads = tuple((p, p) for p in _ntuple(op, "padding", padding, nsp))
    if not isinstance(groups, int) or groups < 1:
        raise ShapeError(f"{op}: groups must be a positive int, got {groups!r}")
    y = lax.conv(x, w, window_strides=stride, padding=pads, lhs_dilation=(1,) * nsp, rhs_dilation=dilation,
                 feature_group_count=groups)
    y = _add_bias(op, y, bias, nsp)
    return squeeze(y, 0) if unbatched else y


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv1d: x (N, C, L) or (C, L), weight (O, C/groups, K)."""
    return _convnd("conv1d", 1, x, weight, bias, stride, padding, dilation, groups)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d: x (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW)."""
    return _convnd("conv2d", 2, x, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, nsp, x, weight, bias, stride, padding, output_padding, groups, dilation):
    from slope.primitives.conv import _flip, _regroup

    x, w, unbatched = _conv_operands(op, x, weight, nsp)
    stride = _ntuple(op, "stride", stride, nsp)
    padding = _ntuple(op, "padding", padding, nsp)
    output_padding = _ntuple(op, "output_padding", output_padding, nsp)
    dilation = _ntuple(op, "dilation", dilation, nsp)
    if not isinstance(groups, int) or groups < 1 or w.shape[0] % groups or x.shape[1] != w.shape[0]:
        raise ShapeError(f"{op}: weight (C_in, C_out/groups, *K) must have C_in = {x.shape[1]} divisible by "
                         f"groups={groups}, got {describe([x.aval, w.aval])}")
    if any(op_ >= _py_max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(f"{op}: output_padding {output_padding} must be smaller than stride or dilation")
    # the transpose of conv w.r.t. its input: flipped kernel with in/out swapped per group, input dilated by stride
    kernel = _flip(_regroup(w, groups), tuple(range(2, 2 + nsp)))
    pads = tuple((d * (k - 1) - p, d * (k - 1) - p + o)
                 for d, k, p, o in zip(dilation, w.shape[2:], padding, output_padding))
    y = lax.conv(x, kernel, window_strides=(1,) * nsp, padding=pads, lhs_dilation=stride, rhs_dilation=dilation,
                 feature_group_count=groups)
    y = _add_bias(op, y, bias, nsp)
    return squeeze(y, 0) if unbatched else y


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose1d: weight (C_in, C_out/groups, K)."""
    return _conv_transposend("conv_transpose1d", 1, x, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose2d: weight (C_in, C_out/groups, kH, kW)."""
    return _conv_transposend("conv_transpose2d", 2, x, weight, bias, stride, padding, output_padding, groups, dilation)


# ================================================================ indexing, slicing, joining
# (primitives slice/pad/rev/concatenate/squeeze/expand_dims in slope/primitives/shape.py and
# gather/scatter_add/dynamic_slice/... in slope/primitives/indexing.py; NumPy/PyTorch semantics).
# Static out-of-range integer indices raise ShapeError; integer *tensor* indices are data, so they
# cannot be checked while tracing: negative ones wrap once (like NumPy) and the rest are clamped.


def _is_static_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _wrap_negative(i, n):
    """Index tensor with negative entries counted from the end of a dim of size n."""
    zero = lax.full(shape=tuple(i.shape), value=0, dtype=i.dtype)
    return lax.select(lax.lt(i, zero), lax.add(i, lax.full(shape=tuple(i.shape), value=n, dtype=i.dtype)), i)


def _index_tensor(op, v, n, d):
    """An integer index (array-like or tensor) for a dim of size n, as a signed int tensor with
    negatives wrapped; static values are bounds-checked."""
    if _is_array(v):
        if not v.dtype.is_int:
            raise DTypeError(f"{op}: index tensors must have an integer dtype, got {v.aval.str_short()}"
                             + (" (boolean masks are not supported)" if v.dtype.is_bool else ""))
        if v.dtype.is_unsigned:  # never negative; int64 holds every uint32 value
            return astype(v, dt.int64 if v.dtype.bits >= 32 else dt.int32)
        return _wrap_negative(v, n)
    a = np.asarray(v)
    if a.dtype == np.bool_:
        raise DTypeError(f"{op}: boolean mask indices are not supported")
    if a.size == 0 and a.dtype.kind == "f":
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be integers, got {a.dtype} values")
    bad = (a < -n) | (a >= n)
    if np.any(bad):
        raise ShapeError(f"{op}: index {a[bad].flat[0]} is out of bounds for dimension {d} with size {n}")
    a = np.where(a < 0, a + n, a)
    return tensor(a.astype(np.int32 if n <= 2**31 - 1 else np.int64))


def _slice_params(s, n):
    """(start, limit, stride, reversed) of a Python slice on a dim of size n, as a forward strided slice
    (a negative step becomes a reversal followed by a positive-step slice)."""
    start, stop, step = s.indices(n)
    count = len(range(start, stop, step))
    if count == 0:
        return 0, 0, 1, False
    if step > 0:
        return start, start + (count - 1) * step + 1, step, False
    r = n - 1 - start
    return r, r + (count - 1) * -step + 1, -step, True


def _basic_slices(x, entries):
    """Apply the slice entries (one per dim; others keep the whole dim) with one rev and one slice."""
    starts, limits, strides, flips = [], [], [], []
    for d, (e, n) in enumerate(zip(entries, x.shape)):
        if isinstance(e, builtins.slice):
            a, b, s, r = _slice_params(e, n)
        else:
            a, b, s, r = 0, n, 1, False
        starts.append(a), limits.append(b), strides.append(s)
        if r:
            flips.append(d)
    if flips:
        x = lax.rev(x, dimensions=tuple(flips))
    if any(a != 0 or b != n or s != 1 for a, b, s, n in zip(starts, limits, strides, x.shape)):
        x = lax.slice(x, start_indices=tuple(starts), limit_indices=tuple(limits), strides=tuple(strides))
    return x


def getitem(x, idx):
    """x[idx] with NumPy semantics: ints (negative from the end), slices (any step), None, Ellipsis and
    integer arrays/tensors (advanced indexing, via gather). Boolean masks are not supported."""
    x = _arr(x)
    items = list(idx) if isinstance(idx, tuple) else [idx]
    kinds = []
    for v in items:
        if v is None:
            kinds.append("new")
        elif v is Ellipsis:
            kinds.append("ellipsis")
        elif isinstance(v, (bool, np.bool_)):
            raise DTypeError("getitem: boolean indices are not supported")
        elif _is_static_int(v):
            kinds.append("int")
        elif isinstance(v, builtins.slice):
            kinds.append("slice")
        elif _is_array(v) or isinstance(v, (list, np.ndarray)):
            kinds.append("array")
        else:
            raise DTypeError(f"getitem: unsupported index of type {type(v).__name__}")
    if kinds.count("ellipsis") > 1:
        raise ShapeError("getitem: an index can only have a single ellipsis (...)")
    used = _py_sum(k in ("int", "slice", "array") for k in kinds)
    if used > x.ndim:
        raise ShapeError(f"getitem: too many indices for a {x.ndim}-d tensor of shape {tuple(x.shape)}: {used} were indexed")
    fill = [builtins.slice(None)] * (x.ndim - used)
    if "ellipsis" in kinds:
        at = kinds.index("ellipsis")
        items, kinds = items[:at] + fill + items[at + 1:], kinds[:at] + ["slice"] * len(fill) + kinds[at + 1:]
    else:
        items, kinds = items + fill, kinds + ["slice"] * len(fill)
    new_axes = tuple(i for i, k in enumerate(kinds) if k == "new")
    if new_axes:  # a None becomes a size-1 dim indexed by a full slice
        x = lax.expand_dims(x, dimensions=new_axes)
        items = [builtins.slice(None) if k == "new" else v for v, k in zip(items, kinds)]
        kinds = ["slice" if k == "new" else k for k in kinds]
    shape = tuple(x.shape)
    if "array" not in kinds:
        ints = []
        for d, (v, k) in enumerate(zip(items, kinds)):
            if k == "int":
                n = shape[d]
                if not -n <= v < n:
                    raise ShapeError(f"getitem: index {v} is out of bounds for dimension {d} with size {n}")
                v = int(v) % n
                items[d] = builtins.slice(v, v + 1)
                ints.append(d)
        x = _basic_slices(x, items)
        return lax.squeeze(x, dimensions=tuple(ints)) if ints else x
    # advanced indexing: ints count as 0-d index arrays (so they take part in NumPy's adjacency rule)
    x = _basic_slices(x, [v if k == "slice" else None for v, k in zip(items, kinds)])
    adv = [d for d, k in enumerate(kinds) if k in ("int", "array")]
    index = [_index_tensor("getitem", items[d], shape[d], d) for d in adv]
    wide = dt.int64 if any(i.dtype is dt.int64 for i in index) else dt.int32
    index = [astype(i, wide) for i in index]
    bshape = broadcast_shapes(*[tuple(i.shape) for i in index], op="getitem")
    index = stack([broadcast_to(i, bshape) for i in index], dim=-1)
    rest = [d for d in range(x.ndim) if d not in adv]
    if adv + rest != list(range(x.ndim)):
        x = lax.transpose(x, perm=tuple(adv + rest))
    out = lax.gather(x, index)
    nb, first = len(bshape), adv[0]
    if adv == list(range(first, first + len(adv))) and first > 0 and nb:  # adjacent: the result dims stay in place
        perm = [nb + j for j in range(first)] + list(range(nb)) + [nb + j for j in range(first, len(rest))]
        out = lax.transpose(out, perm=tuple(perm))
    return out


def flip(x, dims):
    """Reverse the order of elements along dims (an int or a sequence of ints)."""
    x = _arr(x)
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    ds = tuple(_dim("flip", d, x.ndim) for d in dims)
    if len(set(ds)) != len(ds):
        raise ShapeError(f"flip: dims {tuple(dims)} repeat a dimension")
    return lax.rev(x, dimensions=tuple(sorted(ds))) if ds and x.ndim else x


def pad(x, pad, value=0, mode="constant"):
    """torch.nn.functional.pad, constant mode: pad = (last_lo, last_hi, second_last_lo, ...); negative crops.
    `value` may be a tensor (0-d): the result is differentiable in it."""
    x = _arr(x)
    if mode != "constant":
        raise ShapeError(f"pad: only mode='constant' is supported, got {mode!r}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim or not all(_is_static_int(p) for p in pad):
        raise ShapeError(f"pad: pad must be an even number of ints (two per padded dim, last dim first), "
                         f"at most {2 * x.ndim} for a {x.ndim}-d tensor, got {pad}")
    low, high = [0] * x.ndim, [0] * x.ndim
    for i in range(len(pad) // 2):
        low[x.ndim - 1 - i], high[x.ndim - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
    if _is_array(value):
        if value.size != 1:
            raise ShapeError(f"pad: value must be a scalar, got {value.aval.str_short()}")
        v = astype(reshape(value), x.dtype)
    else:
        v = lax.full(shape=(), value=_check_scalar("pad", dt.python_scalar(value)), dtype=x.dtype)
    out = [lo + hi + n for lo, hi, n in zip(low, high, x.shape)]
    if any(n < 0 for n in out):
        raise ShapeError(f"pad: padding {pad} of a tensor of shape {tuple(x.shape)} gives a negative size")
    return lax.pad(x, v, low=tuple(low), high=tuple(high), interior=(0,) * x.ndim)


def _joinable(op, tensors):
    if isinstance(tensors, (Tensor, Tracer)) or not isinstance(tensors, (list, tuple)):
        raise DTypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty list of tensors")
    ts = [_arr(t) for t in tensors]
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
    d = _dim("cat", dim, nd)
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
    d = _dim("stack", dim, ts[0].ndim + 1)
    ts = [lax.expand_dims(t, dimensions=(d,)) for t in ts]
    return ts[0] if len(ts) == 1 else lax.concatenate(*ts, dimension=d)


def narrow(x, dim, start, length):
    """x restricted to [start, start + length) along dim (torch.narrow)."""
    x = _arr(x)
    d = _dim("narrow", dim, x.ndim)
    n = x.shape[d]
    start = start + n if _is_static_int(start) and start < 0 else start
    if not (_is_static_int(start) and _is_static_int(length) and 0 <= start <= n and 0 <= length <= n - start):
        raise ShapeError(f"narrow: start {start} and length {length} do not fit dimension {d} of size {n}")
    return getitem(x, (builtins.slice(None),) * d + (builtins.slice(start, start + length),))


def split(x, split_size_or_sections, dim=0):
    """Pieces of x along dim (torch.split): equal pieces of an int size (the last may be smaller) or the
    listed sizes (which must add up to the dim's size)."""
    x = _arr(x)
    d = _dim("split", dim, x.ndim)
    n = x.shape[d]
    if _is_static_int(split_size_or_sections):
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise ShapeError(f"split: split_size must be positive, got {size}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if _py_sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(f"split: sections {tuple(sizes)} must be non-negative and add up to {n} (dimension {d})")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, d, start, s))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    """At most `chunks` pieces along dim of size ceil(n / chunks) (torch.chunk)."""
    x = _arr(x)
    if not _is_static_int(chunks) or chunks < 1:
        raise ShapeError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = x.shape[_dim("chunk", dim, x.ndim)]
    return split(x, _py_max(-(-n // chunks), 1), dim)


def take_along_axis(x, indices, axis):
    """np.take_along_axis: out[..., j, ...] = x[..., indices[..., j, ...], ...] along axis (other dims
    broadcast); axis=None indexes the flattened x with 1-d indices."""
    x = _arr(x)
    if axis is None:
        x, axis = reshape(x, x.size), 0
    a = _dim("take_along_axis", axis, x.ndim)
    idx = _index_tensor("take_along_axis", indices, x.shape[a], a)
    if idx.ndim != x.ndim:
        raise ShapeError(f"take_along_axis: indices must have the rank of x ({x.ndim}), got {idx.aval.str_short()}")
    shape = broadcast_shapes(tuple(1 if i == a else n for i, n in enumerate(x.shape)), tuple(idx.shape),
                             op="take_along_axis")
    x = broadcast_to(x, tuple(shape[i] if i != a else x.shape[a] for i in range(x.ndim)))
    cols = [broadcast_to(idx, shape) if i == a else lax.iota(shape=shape, dimension=i, dtype=idx.dtype)
            for i in range(x.ndim)]
    return lax.gather(x, stack(cols, dim=-1))


def take_along_dim(x, indices, dim=None):
    """torch.take_along_dim: take_along_axis with torch's argument names (dim=None: flattened x)."""
    return take_along_axis(x, indices, dim)


def gather(x, dim, index):
    """torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (and so on): index has x's rank,
    index.shape[d] <= x.shape[d] off dim, and the result has index's shape. Negative entries count
    from the end; out-of-range tensor entries are clamped (slope's gather semantics)."""
    x = _arr(x)
    d = _dim("gather", dim, x.ndim)
    idx = _index_tensor("gather", index, x.shape[d], d)
    if idx.ndim != x.ndim or any(idx.shape[i] > x.shape[i] for i in range(x.ndim) if i != d):
        raise ShapeError(f"gather: index must have the rank of x and no larger size off dim {d}, got "
                         f"{describe([x.aval, idx.aval])}")
    cols = [idx if i == d else lax.iota(shape=tuple(idx.shape), dimension=i, dtype=idx.dtype) for i in range(x.ndim)]
    if x.ndim == 0:
        return x
    return lax.gather(x, stack(cols, dim=-1))


def index_select(x, dim, index):
    """Entries of x at the 1-d `index` along dim (torch.index_select; negative indices count from the end)."""
    x = _arr(x)
    d = _dim("index_select", dim, x.ndim)
    idx = _index_tensor("index_select", index, x.shape[d], d)
    if idx.ndim != 1:
        raise ShapeError(f"index_select: index must be 1-d, got {idx.aval.str_short()}")
    moved = permute(x, d, *[i for i in range(x.ndim) if i != d])
    out = lax.gather(moved, lax.reshape(idx, shape=(idx.shape[0], 1)))
    return permute(out, *range(1, d + 1), 0, *range(d + 1, x.ndim))


def index_add(x, dim, index, source, alpha=1):
    """x with alpha * source[..., i, ...] added at index[i] along dim (torch.index_add; duplicates accumulate)."""
    x, source = _arr(x), _arr(source)
    d = _dim("index_add", dim, x.ndim)
    idx = _index_tensor("index_add", index, x.shape[d], d)
    want = tuple(idx.shape[0] if i == d else n for i, n in enumerate(x.shape)) if idx.ndim == 1 else None
    if want is None or tuple(source.shape) != want:
        raise ShapeError(f"index_add: expected a 1-d index and a source of shape {want}, got "
                         f"{describe([idx.aval, source.aval])}")
    source = astype(source, x.dtype)
    if alpha != 1:
        source = mul(source, alpha)
    order = [d] + [i for i in range(x.ndim) if i != d]
    out = lax.scatter_add(permute(x, *order), lax.reshape(idx, shape=(idx.shape[0], 1)), permute(source, *order))
    return permute(out, *range(1, d + 1), 0, *range(d + 1, x.ndim))
