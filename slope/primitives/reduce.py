"""Reductions over a set of axes: sum (linear), max, min, prod."""
from __future__ import annotations

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import dtypes
from slope.core.aval import Aval
from slope.errors import DTypeError, ShapeError
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Exempt, Verify


def _reduce_rule(name):
    def rule(x, *, axes):
        if len(set(axes)) != len(axes) or any(not 0 <= a < x.ndim for a in axes):
            raise ShapeError(f"{name}: axes {tuple(axes)} invalid for {x.str_short()}")
        if x.dtype.is_bool and name != "reduce_max" and name != "reduce_min":
            raise DTypeError(f"{name}: expected a numeric operand, got {x.str_short()}")
        return [Aval(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)]

    return rule


def _kept_dims(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


def _expand_back(y, x_shape, axes):
    return lax.broadcast_in_dim(y, shape=tuple(x_shape), broadcast_dimensions=_kept_dims(len(x_shape), axes))


def _sum_jvp(primals, tangents, *, axes):
    return [lax.reduce_sum(primals[0], axes=axes)], [lax.reduce_sum(tangents[0], axes=axes)]


def _extreme_jvp(name):
    def jvp(primals, tangents, *, axes):
        """Ties share the gradient equally (JAX convention), so the result is symmetric in them."""
        (x,), (t,) = primals, tangents
        y = getattr(lax, name)(x, axes=axes)
        mask = lax.convert(lax.eq(x, _expand_back(y, x.shape, axes)), dtype=x.dtype)
        count = lax.reduce_sum(mask, axes=axes)
        return [y], [lax.div(lax.reduce_sum(lax.mul(t, mask), axes=axes), count)]

    return jvp


def _prod_jvp(primals, tangents, *, axes):
    """d prod = sum_i t_i * prod_{j != i} x_j, via an [n, n] matrix with ones on the diagonal.

    No division by x, so zeros in x get the right derivative.
    """
    (x,), (t,) = primals, tangents
    y = lax.reduce_prod(x, axes=axes)
    perm = _kept_dims(x.ndim, axes) + tuple(sorted(axes))
    keep = tuple(x.shape[i] for i in _kept_dims(x.ndim, axes))
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    flat = lax.reshape(lax.transpose(x, perm=perm), shape=keep + (n,))
    tflat = lax.reshape(lax.transpose(t, perm=perm), shape=keep + (n,))
    k = len(keep)
    square = keep + (n, n)
    rows = lax.broadcast_in_dim(flat, shape=square, broadcast_dimensions=tuple(range(k)) + (k + 1,))
    eye = lax.eq(lax.iota(shape=square, dimension=k, dtype=_int32()), lax.iota(shape=square, dimension=k + 1, dtype=_int32()))
    others = lax.reduce_prod(lax.select(eye, lax.full(shape=square, value=1, dtype=x.dtype), rows), axes=(k + 1,))
    return [y], [lax.reduce_sum(lax.mul(tflat, others), axes=(k,))]


def _int32():

    return dtypes.int32


def _reduce_vmap(name):
    def rule(axis_size, args, dims, *, axes):
        (x,), (d,) = args, dims
        new_axes = tuple(a + (1 if a >= d else 0) for a in axes)
        out_d = d - sum(1 for a in axes if a < d)
        return [getattr(lax, name)(x, axes=new_axes)], [out_d]

    return rule


def _errors(name):
    bool_case = [] if name in ("reduce_max", "reduce_min") else [
        ErrorInput([np.ones((2,), bool)], {"axes": (0,)}, DTypeError, f"{name}: expected a numeric operand, got bool\\[2\\]")]
    return lambda: [ErrorInput([np.ones((2, 3), np.float32)], {"axes": (2,)}, ShapeError, f"{name}: axes \\(2,\\) invalid"),
                    *bool_case]


NUMERIC = ("float32", "float64", "int32", "int64", "uint32")


def _extreme_mask(name, x, axes):
    x = np.asarray(x, np.float64)
    y = (np.max if name == "reduce_max" else np.min)(x, axis=tuple(axes), keepdims=True)
    return x == y


def _ties(name):
    def kink(x, *, axes):
        """Tied extremes in a reduced slice: the gradient jumps there (ties share it equally)."""
        x = np.asarray(x)
        if x.size == 0 or x.dtype.kind != "f":
            return False
        return bool(np.any(np.sum(_extreme_mask(name, x, axes), axis=tuple(axes)) > 1))

    def derivative(args, ts, *, axes):
        mask = _extreme_mask(name, args[0], axes)
        return [np.sum(ts[0] * mask, axis=tuple(axes)) / np.sum(mask, axis=tuple(axes))]

    return kink, derivative


def _extreme_edges(dtype):
    """Ties (two and three equal maxima, the whole slice equal), a NaN, infinities, a size-1 axis,
    an empty reduced axis (the identity: -inf / int min for max), 0-d."""
    d = dtypes.dtype(dtype)
    if d.is_bool:
        return [([np.array([[True, False, True], [False, False, False]])], {"axes": (1,)})]
    ties = np.array([[1, 3, 3], [2, 2, 2], [0, 5, 0]], d.np)
    cases = [([ties], {"axes": (1,)}), ([ties], {"axes": (0, 1)}), ([ties[:, :1]], {"axes": (1,)}),
             ([np.zeros((2, 0), d.np)], {"axes": (1,)}), ([ties[0, 0]], {"axes": ()})]
    if d.is_float:
        cases.append(([np.array([[1.0, np.nan, 2.0], [np.inf, -np.inf, 0.0]], d.np)], {"axes": (1,)}))
    return cases


def _extreme_verify(name):
    if name not in ("reduce_max", "reduce_min"):
        return {}
    kink, derivative = _ties(name)
    return dict(edge_cases=_extreme_edges, on_derivative_kink=kink, kink_derivative=derivative)


def _make(name, jvp, doc, transpose=None, exempt=None, dtypes=NUMERIC):
    spec = register(Spec(
        name=name,
        abstract_eval=_reduce_rule(name),
        reference=getattr(ref, name),
        jvp=jvp,
        transpose=transpose,
        vmap=_reduce_vmap(name),
        verify=Verify(dtypes=dtypes, exempt=exempt if exempt is not None else {"transpose": Exempt.NOT_LINEAR},
                      **_extreme_verify(name)),
        error_inputs=_errors(name),
        doc=doc,
    ))
    return spec


reduce_sum = _make("reduce_sum", _sum_jvp, "sum over axes (integers wrap)",
                   transpose=lambda cts, x, *, axes: [_expand_back(cts[0], x.aval.shape, axes)], exempt={})
reduce_max = _make("reduce_max", _extreme_jvp("reduce_max"),
                   "max over axes (bool: any; NaN propagates); tied maxima share the gradient equally",
                   dtypes=NUMERIC + ("bool",))
reduce_min = _make("reduce_min", _extreme_jvp("reduce_min"),
                   "min over axes (bool: all; NaN propagates); tied minima share the gradient equally",
                   dtypes=NUMERIC + ("bool",))
reduce_prod = _make("reduce_prod", _prod_jvp, "product over axes (integers wrap); the gradient is exact with zeros in x")
