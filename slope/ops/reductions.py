"""Reductions and scans along dims: sum/mean/var/std/prod, amax/amin, max/min with indices, argmax,
logsumexp, cumulative ops, sort/argsort/topk (PyTorch names and return types)."""
from __future__ import annotations

import builtins
import collections as _collections
import math

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.errors import ArgumentError, DTypeError, ShapeError
from slope.ops.promotion import as_array, astype, is_array, normalize_axes, normalize_dim
from slope.ops.arithmetic import add, div, exp, log, maximum, minimum, mul, sqrt, stop_gradient, sub
from slope.ops.shape import narrow, reshape, squeeze, stack, unsqueeze

_py_max, _py_sum = builtins.max, builtins.sum

__all__ = [
    "sum", "amax", "amin", "prod", "mean", "var", "std", "var_mean", "std_mean", "logsumexp", "argmax", "argmin", "max", "min",
    "topk", "cumsum", "cumprod", "cummax", "cummin", "sort", "argsort",
]


def _dim_alias(op, dim, axis):
    """torch accepts NumPy's axis= as an alias of dim=."""
    if axis is not None:
        if dim is not None:
            raise ArgumentError(f"{op}: pass dim or axis, not both (dim={dim!r}, axis={axis!r})")
        return axis
    return dim


def _accumulate_dtype(op, x, dtype):
    """The dtype= of sum/prod/cumsum/cumprod/mean (x is converted first, as torch does); without it, bool and
    integer inputs of sum/prod/cumsum/cumprod accumulate in int64 (torch's rule)."""
    if dtype is not None:
        return astype(x, dt.dtype(dtype, op))
    if (x.dtype.is_bool or x.dtype.is_int) and op in ("sum", "prod", "cumsum", "cumprod"):
        return astype(x, dt.default_int)
    return x


def _reduce(prim, op):
    def f(x, dim=None, keepdim=False, *, dtype=None, axis=None):
        x = as_array(x, op)
        dim = _dim_alias(op, dim, axis)
        axes = normalize_axes(op, None if isinstance(dim, (tuple, list)) and not dim else dim, x.ndim)  # () is all
        x = _accumulate_dtype(op, x, dtype)
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


def mean(x, dim=None, keepdim=False, *, dtype=None, axis=None):
    """The mean over dim; dtype= converts x first. Integer and bool input raise (torch: pass dtype= or
    convert with .float())."""
    x = as_array(x, 'mean')
    dim = _dim_alias("mean", dim, axis)
    dim = None if isinstance(dim, (tuple, list)) and not dim else dim  # () is every dim (torch)
    x = _accumulate_dtype("mean", x, dtype)
    if not x.dtype.is_float:
        raise DTypeError(f"mean: expects a floating-point tensor, got {x.aval.str_short()} (pass dtype= or "
                         "convert first, e.g. x.float(), as in PyTorch)")
    n = math.prod(x.shape[a] for a in normalize_axes("mean", dim, x.ndim))
    return div(sum(x, dim, keepdim), n)


def _correction(op, dim, unbiased, correction):
    """(dim, correction) from PyTorch's overloads: var(dim, unbiased, keepdim), var(unbiased) (a bool
    first argument), var(dim, correction=c); unbiased and correction together raise ArgumentError."""
    if isinstance(dim, (bool, np.bool_)):  # x.var(False): the bool is `unbiased`
        if unbiased is not None:
            raise ArgumentError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        dim, unbiased = None, builtins.bool(dim)
    if unbiased is not None and correction is not None:
        raise ArgumentError(f"{op}: pass unbiased or correction, not both (unbiased={unbiased!r}, "
                            f"correction={correction!r})")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise ArgumentError(f"{op}: unbiased must be a bool, got {type(unbiased).__name__} {unbiased!r} "
                                "(keepdim is the third argument: var(dim, unbiased, keepdim))")
        return dim, 1 if unbiased else 0
    if correction is None:
        return dim, 1
    correction = dt.python_scalar(correction)
    if isinstance(correction, bool) or not isinstance(correction, (int, float)):
        raise ArgumentError(f"{op}: correction must be a number, got {type(correction).__name__} {correction!r}")
    return dim, correction


def _keepdim(op, keepdim):
    if not isinstance(keepdim, (bool, np.bool_)):
        raise ArgumentError(f"{op}: keepdim must be a bool, got {type(keepdim).__name__} {keepdim!r}")
    return builtins.bool(keepdim)


def _float_only(op, x):
    x = as_array(x, op)
    if not x.dtype.is_float:
        raise DTypeError(f"{op}: expects a floating-point tensor, got {x.aval.str_short()} (as in PyTorch: "
                         "convert first, e.g. x.float())")
    return x


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over dim with PyTorch's overloads: var(dim, unbiased=True, keepdim=False) and
    var(dim, keepdim=False, correction=1) (divide by n - correction; unbiased=False is correction=0);
    var(False) is var(unbiased=False). n - correction <= 0 gives inf/NaN, as in PyTorch."""
    x = _float_only("var", x)
    dim, correction = _correction("var", dim, unbiased, correction)
    keepdim = _keepdim("var", keepdim)
    n = math.prod(x.shape[a] for a in normalize_axes("var", dim, x.ndim))
    centered = sub(x, mean(x, dim, keepdim=True))
    return div(sum(mul(centered, centered), dim, keepdim), _py_max(n - correction, 0))


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: sqrt(var) with var's overloads (std(dim, unbiased, keepdim), correction=)."""
    x = _float_only("std", x)
    dim, correction = _correction("std", dim, unbiased, correction)
    normalize_axes("std", dim, x.ndim)
    return sqrt(var(x, dim, keepdim=keepdim, correction=correction))


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over dim (torch.var_mean), with var's overloads."""
    x = _float_only("var_mean", x)
    dim, correction = _correction("var_mean", dim, unbiased, correction)
    v = var(x, dim, keepdim=keepdim, correction=correction)
    return (v, mean(astype(x, v.dtype), dim, _keepdim("var_mean", keepdim)))


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over dim (torch.std_mean), with var's overloads."""
    x = _float_only("std_mean", x)
    dim, correction = _correction("std_mean", dim, unbiased, correction)
    s = std(x, dim, keepdim=keepdim, correction=correction)
    return (s, mean(astype(x, s.dtype), dim, _keepdim("std_mean", keepdim)))


def _finite_max(x, dims):
    """amax over dims (keepdim), with infinite maxima replaced by 0: the shift that keeps exp(x - m) in
    range without making inf - inf (JAX's logsumexp and softmax shift the same way)."""
    m = stop_gradient(amax(x, dims, keepdim=True))
    if not m.dtype.is_float:
        return m
    inf = lax.full(shape=tuple(m.shape), value=float("inf"), dtype=m.dtype)
    return lax.select(lax.lt(lax.abs(m), inf), m, lax.full(shape=tuple(m.shape), value=0, dtype=m.dtype))


def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x))) over dim, computed stably: [inf, 1] gives inf, [-inf, -inf] gives -inf (as
    NumPy, SciPy and JAX), NaN propagates."""
    x = as_array(x, 'logsumexp')
    dims = normalize_axes("logsumexp", dim, x.ndim)
    if not x.dtype.is_float:
        x = astype(x, dt.default_float)
    m = _finite_max(x, dims)
    y = add(log(sum(exp(sub(x, m)), dims, keepdim=True)), m)
    return y if keepdim else squeeze(y, dims) if x.ndim else y


_Sorted = _collections.namedtuple("sort", ["values", "indices"])


def _arg_reduce(prim, name):
    def f(x, dim=None, keepdim=False):
        x = as_array(x, name)
        if dim is None:  # over all elements (row-major), like torch
            flat = reshape(x, x.aval.size) if x.ndim != 1 else x
            out = prim(flat, axis=0, index_dtype=dt.default_int)
            return reshape(out, *([1] * x.ndim)) if keepdim else out
        if x.ndim == 0:
            normalize_dim(name, dim, 0)
            return lax.full(shape=(), value=0, dtype=dt.default_int)
        d = normalize_dim(name, dim, x.ndim)
        out = prim(x, axis=d, index_dtype=dt.default_int)
        return unsqueeze(out, d) if keepdim else out

    f.__name__ = name
    f.__doc__ = f"Index of the first {name[3:]}imum along dim (over all elements when dim is None); NaN wins."
    return f


argmax = _arg_reduce(lax.argmax, "argmax")


argmin = _arg_reduce(lax.argmin, "argmin")


def _take_at(x, idx, d):
    """x[..., idx[...], ...] along dim d for an index tensor of x's rank, in range by construction."""
    cols = [idx if i == d else lax.iota(shape=tuple(idx.shape), dimension=i, dtype=idx.dtype) for i in range(x.ndim)]
    return lax.gather(x, stack(cols, dim=-1))


def _extreme(name, values_of, index_of, elementwise):
    """torch.max / torch.min: the extreme of all elements; with an int dim, the named pair
    (values, indices) along it; with a tensor as second argument, the elementwise extreme."""
    pair = _collections.namedtuple(name, ["values", "indices"])

    def f(x, dim=None, keepdim=False):
        if is_array(dim) or isinstance(dim, np.ndarray):
            return elementwise(x, dim)
        x = as_array(x, name)
        if dim is None:
            return values_of(x)
        if isinstance(dim, (tuple, list)):
            raise ShapeError(f"{name}: dim must be an int (the result is (values, indices) along it), got "
                                f"{dim!r}; a{name} reduces over several dims")
        d = normalize_dim(name, dim, x.ndim)
        if x.ndim and x.shape[d] == 0:
            raise ShapeError(f"{name}: cannot take the {name}imum over the empty dim {d} of {x.aval.str_short()}")
        keys = astype(x, dt.int32) if x.dtype.is_bool else x
        if x.ndim == 0:
            return pair(x, index_of(keys, dim, keepdim))
        idx = index_of(keys, d, keepdim=True)
        values = _take_at(x, idx, d)  # the value at the returned index: its gradient goes there (PyTorch)
        return pair(values, idx) if keepdim else pair(squeeze(values, d), squeeze(idx, d))

    f.__name__ = name
    f.__doc__ = (f"{name}(x): the {name}imum of all elements (ties share the gradient evenly); {name}(x, dim, "
                 f"keepdim=False): (values, indices) along dim, the index of the first {name}imum (NaN wins), the "
                 f"gradient going to that index (PyTorch); {name}(x, other): elementwise.")
    return f


max = _extreme("max", amax, argmax, maximum)


min = _extreme("min", amin, argmin, minimum)


def topk(x, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) elements along dim, in sorted order; ties keep
    the earlier index first, NaN counts as the largest (torch.topk)."""
    x = as_array(x, 'topk')
    d = normalize_dim("topk", dim, _py_max(x.ndim, 1))
    n = x.shape[d] if x.ndim else 1
    if not (isinstance(k, (int, np.integer)) and 0 <= k <= n):
        raise ShapeError(f"topk: k must be an int in [0, {n}] for {x.aval.str_short()} along dim {dim}, got {k!r}")
    values, indices = sort(x, d, descending=largest) if x.ndim else sort(x)
    if x.ndim:
        values, indices = narrow(values, d, 0, k), narrow(indices, d, 0, k)
    return _TopK(values, indices)


_TopK = _collections.namedtuple("topk", ["values", "indices"])


def _scan_op(prim, name, int_result):
    def f(x, dim=None, reverse=False, *, dtype=None, axis=None):
        x = as_array(x, name)
        dim = _dim_alias(name, dim, axis)
        if dim is None:
            raise ArgumentError(f"{name}: dim is required (torch.{name}(x, dim))")
        if int_result:
            x = _accumulate_dtype(name, x, dtype)
        if x.ndim == 0:
            normalize_dim(name, dim, 0)
            return x
        d = normalize_dim(name, dim, x.ndim)
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
        x = as_array(x, name)
        values = values_fn(x, dim, reverse)
        if x.ndim == 0:
            return result(values, lax.full(shape=(), value=0, dtype=dt.default_int))
        d = normalize_dim(name, dim, x.ndim)
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


def sort(x, dim=-1, descending=False, *, stable=False):
    """(values, indices) of a stable sort (always: stable= is accepted for torch) along dim; NaN sorts as the largest value (last, or first if descending)."""
    x = as_array(x, 'sort')
    if x.ndim == 0:
        normalize_dim("sort", dim, 0)
        return _Sorted(x, lax.full(shape=(), value=0, dtype=dt.default_int))
    d = normalize_dim("sort", dim, x.ndim)
    keys = _sort_keys(x, descending)
    idx = lax.iota(shape=tuple(x.shape), dimension=d, dtype=dt.default_int)
    outs = lax.sort(*keys, x, idx, dimension=d, num_keys=len(keys))
    return _Sorted(outs[-2], outs[-1])


def argsort(x, dim=-1, descending=False, *, stable=False):
    """Indices of a stable sort (always) along dim (see sort)."""
    x = as_array(x, 'argsort')
    if x.ndim == 0:
        normalize_dim("argsort", dim, 0)
        return lax.full(shape=(), value=0, dtype=dt.default_int)
    d = normalize_dim("argsort", dim, x.ndim)
    if not descending:
        return lax.argsort(x, dimension=d, index_dtype=dt.default_int)
    return sort(x, d, descending=True).indices
