"""Arg-reductions (argmax, argmin) and inclusive scans (cumsum, cumprod, cummax, cummin) along one axis.

Lowering choices (measured on IREE 3.13, docs/stablehlo-notes.md §7-8):
- argmax/argmin are one 2-operand `stablehlo.reduce` over (value, iota): the better value wins, a NaN
  beats every number, and equal values (or two NaNs) keep the smaller index, so the result is the
  first extreme like `np.argmax`.
- scans are a `stablehlo.reduce_window` whose window spans the whole axis, padded by n-1 on the side
  the scan comes from; IREE turns that into a linear-time loop (compile ~0.3 s like any one-op module).

Derivatives: cumsum is linear (its transpose is the cumsum running the other way); cumprod's JVP
builds the [n, n] table prod_{k<=i, k!=j} x_k so zeros in x get the exact derivative; cummax/cummin
send the tangent of the element that currently holds the running extreme (the latest one on ties).
"""
from __future__ import annotations

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.errors import DTypeError, ShapeError
from slope.primitives.rules import moveaxis, zeros_like
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Exempt, Verify


def check_index_fits(name, n, index_dtype):
    if n - 1 > np.iinfo(index_dtype.np).max:
        raise DTypeError(f"{name}: index_dtype {index_dtype.name} cannot hold indices up to {n - 1}")


def _check_axis(name, x, axis, what="axis"):
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not 0 <= axis < x.ndim:
        raise ShapeError(f"{name}: {what} {axis!r} out of range for {x.str_short()} (rank {x.ndim})")


# ---------------------------------------------------------------- argmax / argmin


def _arg_rule(name):
    def rule(x, *, axis, index_dtype):
        _check_axis(name, x, axis)
        if not (index_dtype.is_int and not index_dtype.is_unsigned):
            raise DTypeError(f"{name}: index_dtype must be a signed integer dtype, got {index_dtype.name}")
        if x.shape[axis] == 0:
            raise ShapeError(f"{name}: cannot reduce over the empty axis {axis} of {x.str_short()}")
        check_index_fits(name, x.shape[axis], index_dtype)
        return [Aval(tuple(d for i, d in enumerate(x.shape) if i != axis), index_dtype)]

    return rule


def _arg_vmap(name):
    def rule(axis_size, args, dims, *, axis, index_dtype):
        (x,), (d,) = args, dims
        new_axis = axis + (1 if axis >= d else 0)
        out_d = d - 1 if new_axis < d else d
        return [getattr(lax, name)(x, axis=new_axis, index_dtype=index_dtype)], [out_d]

    return rule


def _arg_jvp(name):
    def jvp(primals, tangents, *, axis, index_dtype):
        out = getattr(lax, name)(primals[0], axis=axis, index_dtype=index_dtype)
        return [out], [zeros_like(out)]

    return jvp


def _arg_errors(name):
    def errors():
        f = np.ones((2, 3), np.float32)
        return [
            ErrorInput([f], {"axis": 2, "index_dtype": dt.int32}, ShapeError, f"{name}: axis 2 out of range for f32\\[2,3\\]"),
            ErrorInput([f], {"axis": 1, "index_dtype": dt.float32}, DTypeError, f"{name}: index_dtype must be a signed integer"),
            ErrorInput([np.ones((2, 0), np.float32)], {"axis": 1, "index_dtype": dt.int32}, ShapeError,
                       f"{name}: cannot reduce over the empty axis 1 of f32\\[2,0\\]"),
            ErrorInput([np.ones((1, 200), np.float32)], {"axis": 1, "index_dtype": dt.int8}, DTypeError,
                       f"{name}: index_dtype int8 cannot hold indices up to 199"),
            ErrorInput([np.ones((1, 129), np.float32)], {"axis": 1, "index_dtype": dt.int8}, DTypeError,
                       f"{name}: index_dtype int8 cannot hold indices up to 128"),  # one past the boundary
        ]

    return errors


def _arg_edges(dtype):
    """Ties (the first index wins), NaN (counts as the extreme), infinities, a size-1 axis, an axis of 128
    whose last index just fits int8."""
    d = dt.dtype(dtype)
    x = np.array([[2, 5, 5, 0], [1, 1, 1, 1], [0, 3, 0, 3]], d.np)
    cases = [([x], {"axis": 1, "index_dtype": dt.int32}), ([x], {"axis": 0, "index_dtype": dt.int64}),
             ([x[:, :1]], {"axis": 1, "index_dtype": dt.int32}),
             ([np.arange(128).reshape(1, 128).astype(d.np)], {"axis": 1, "index_dtype": dt.int8})]  # index 127 fits int8
    if d.is_float:
        y = np.array([[1.0, np.nan, 2.0, np.nan], [-np.inf, np.inf, np.inf, -np.inf]], d.np)
        cases.append(([y], {"axis": 1, "index_dtype": dt.int32}))
        cases.append(([_NANS.astype(d.np)], {"axis": 1, "index_dtype": dt.int32}))  # a NaN first, last, twice
    return cases


_NANS = np.array([[np.nan, 1.0, 2.0, 0.0], [3.0, 2.0, 1.0, np.nan], [np.nan, np.nan, 0.0, 1.0], [0.5, -1.0, np.nan, 2.0]])


def _scan_edges(dtype):
    """NaN first, last, twice and in the middle of a row, scanned both ways (values; the derivative
    checks skip non-finite inputs), distinct finite values with a size-1 axis, an empty axis, `reverse`
    not passed."""
    d = dt.dtype(dtype)
    x = np.array([[1, 4, 3, 2], [0, 2, 1, 5]], d.np)
    cases = [([x], {"axis": 1, "reverse": False}), ([x[:, :1]], {"axis": 1, "reverse": True}),
             ([np.zeros((2, 0), d.np)], {"axis": 1, "reverse": False}),
             ([x], {"axis": 1})]  # reverse left to its default, False, in every rule and the lowering
    if d.is_float:
        cases += [([_NANS.astype(d.np)], {"axis": 1, "reverse": False}),
                  ([_NANS.astype(d.np)], {"axis": 1, "reverse": True})]
    return cases


def _make_arg(name, doc):
    return register(Spec(
        name=name,
        abstract_eval=_arg_rule(name),
        reference=getattr(ref, name),
        jvp=_arg_jvp(name),
        vmap=_arg_vmap(name),
        error_inputs=_arg_errors(name),
        verify=Verify(dtypes=("float32", "float64", "int32", "int64", "uint32"),
                      exempt={"transpose": Exempt.INTEGER_OUTPUT, "grad": Exempt.INTEGER_OUTPUT},
                      edge_cases=_arg_edges),
        doc=doc,
    ))


argmax = _make_arg("argmax", "index of the first maximum along axis (NaN counts as the maximum)")
argmin = _make_arg("argmin", "index of the first minimum along axis (NaN counts as the minimum)")

# ---------------------------------------------------------------- cumulative scans

def _scan_rule(name):
    def rule(x, *, axis, reverse=False):
        _check_axis(name, x, axis)
        if x.dtype.is_bool:
            raise DTypeError(f"{name}: expected a numeric operand, got {x.str_short()}")
        return [x]

    return rule


def _scan_vmap(name):
    def rule(axis_size, args, dims, *, axis, reverse=False):
        (x,), (d,) = args, dims
        new_axis = axis + (1 if axis >= d else 0)
        return [getattr(lax, name)(x, axis=new_axis, reverse=reverse)], [d]

    return rule


def _cumsum_jvp(primals, tangents, *, axis, reverse=False):
    return [lax.cumsum(primals[0], axis=axis, reverse=reverse)], [lax.cumsum(tangents[0], axis=axis, reverse=reverse)]


def _cumsum_transpose(cts, x, *, axis, reverse=False):
    return [lax.cumsum(cts[0], axis=axis, reverse=not reverse)]


def _pairwise(x, axis):
    """x with `axis` moved last and a new axis before it: xb[..., j, k] = x[..., k] (shape [..., n, n])."""
    xm = moveaxis(x, axis, x.ndim - 1)
    n = x.shape[axis]
    lead = tuple(xm.shape[:-1])
    k = len(lead)
    return lax.broadcast_in_dim(xm, shape=lead + (n, n), broadcast_dimensions=tuple(range(k)) + (k + 1,)), lead, n


def _cumprod_jvp(primals, tangents, *, axis, reverse=False):
    """d y_i = sum_{j in scan(i)} t_j * prod_{k in scan(i), k != j} x_k, without dividing by x.

    P[j, i] = cumprod over i of (x with x_j replaced by 1) gives every product at once ([n, n] per row).
    """
    (x,), (t,) = primals, tangents
    y = lax.cumprod(x, axis=axis, reverse=reverse)
    if not x.dtype.is_float:
        return [y], [zeros_like(y)]
    xb, lead, n = _pairwise(x, axis)
    k = len(lead)
    sq = lead + (n, n)
    i32 = dt.int32
    row, col = lax.iota(shape=sq, dimension=k, dtype=i32), lax.iota(shape=sq, dimension=k + 1, dtype=i32)
    ones = lax.full(shape=sq, value=1, dtype=x.dtype)
    table = lax.cumprod(lax.select(lax.eq(row, col), ones, xb), axis=k + 1, reverse=reverse)  # [..., j, i]
    in_scan = lax.ge(row, col) if reverse else lax.le(row, col)  # j contributes to y_i
    tm = moveaxis(t, axis, t.ndim - 1)
    tb = lax.broadcast_in_dim(tm, shape=sq, broadcast_dimensions=tuple(range(k)) + (k,))  # tb[..., j, i] = t_j
    terms = lax.select(in_scan, lax.mul(tb, table), lax.full(shape=sq, value=0, dtype=x.dtype))
    dy = lax.reduce_sum(terms, axes=(k,))
    return [y], [moveaxis(dy, dy.ndim - 1, axis)]


def take_along_axis(t, pos, axis):
    """out[..., i, ...] = t[..., pos[..., i, ...], ...] without gather: a one-hot select and a sum.

    O(n^2) work per row, but linear in t (select + reduce_sum transpose cleanly) and never reads out
    of bounds. NaN/inf in unselected entries of t do not leak (select, not multiply).
    """
    n = t.shape[axis]
    tm = moveaxis(t, axis, t.ndim - 1)
    pm = moveaxis(pos, axis, pos.ndim - 1)
    lead, m = tuple(tm.shape[:-1]), pm.shape[-1]
    k = len(lead)
    sq = lead + (m, n)
    tb = lax.broadcast_in_dim(tm, shape=sq, broadcast_dimensions=tuple(range(k)) + (k + 1,))
    pb = lax.broadcast_in_dim(pm, shape=sq, broadcast_dimensions=tuple(range(k + 1)))
    hit = lax.eq(pb, lax.iota(shape=sq, dimension=k + 1, dtype=pos.dtype))
    out = lax.reduce_sum(lax.select(hit, tb, lax.full(shape=sq, value=0, dtype=t.dtype)), axes=(k + 1,))
    return moveaxis(out, out.ndim - 1, axis)


def _cumext_jvp(name):
    def jvp(primals, tangents, *, axis, reverse=False):
        """The tangent of the element holding the running extreme: the latest one in scan order on ties;
        after a NaN, the NaN's own tangent."""
        (x,), (t,) = primals, tangents
        y = getattr(lax, name)(x, axis=axis, reverse=reverse)
        if not x.dtype.is_float:
            return [y], [zeros_like(y)]
        i32 = dt.int32
        idx = lax.iota(shape=tuple(x.shape), dimension=axis, dtype=i32)
        holds = lax.or_(lax.eq(x, y), lax.ne(x, x))  # x_j is (one of) the running extremes at j
        if reverse:  # nearest holder at or after i
            n = x.shape[axis]
            pos = lax.cummin(lax.select(holds, idx, lax.full(shape=tuple(x.shape), value=n - 1, dtype=i32)),
                           axis=axis, reverse=True)
        else:  # nearest holder at or before i
            pos = lax.cummax(lax.select(holds, idx, lax.full(shape=tuple(x.shape), value=0, dtype=i32)), axis=axis)
        return [y], [take_along_axis(t, pos, axis)]

    return jvp


def _scan_errors(name):
    def errors():
        return [
            ErrorInput([np.ones((2, 3), np.float32)], {"axis": 2}, ShapeError, f"{name}: axis 2 out of range for f32\\[2,3\\]"),
            ErrorInput([np.ones((), np.float32)], {"axis": 0}, ShapeError, f"{name}: axis 0 out of range for f32\\[\\]"),
            ErrorInput([np.ones((3,), np.bool_)], {"axis": 0}, DTypeError, f"{name}: expected a numeric operand, got bool\\[3\\]"),
        ]

    return errors


def _make_scan(name, jvp, doc, transpose=None):
    return register(Spec(
        name=name,
        abstract_eval=_scan_rule(name),
        reference=getattr(ref, name),
        jvp=jvp,
        transpose=transpose,
        vmap=_scan_vmap(name),
        error_inputs=_scan_errors(name),
        verify=Verify(dtypes=("float32", "float64", "int32", "int64", "uint32"),
                      exempt={} if transpose else {"transpose": Exempt.NOT_LINEAR}, edge_cases=_scan_edges),
        doc=doc,
    ))


cumsum = _make_scan("cumsum", _cumsum_jvp, "inclusive running sum along axis (reverse: from the end)",
                    transpose=_cumsum_transpose)
cumprod = _make_scan("cumprod", _cumprod_jvp, "inclusive running product along axis (reverse: from the end); "
                     "the gradient is exact with zeros in x")
cummax = _make_scan("cummax", _cumext_jvp("cummax"), "inclusive running max along axis (reverse: from the end), "
                    "NaN-propagating; the tangent of the latest element holding the max (ties: the latest)")
cummin = _make_scan("cummin", _cumext_jvp("cummin"), "inclusive running min along axis (reverse: from the end), "
                    "NaN-propagating; the tangent of the latest element holding the min (ties: the latest)")
