"""sort (several operands, lexicographic keys) and argsort: stable, ascending, NaNs last.

IREE 3.13 ignores `is_stable = true` (docs/stablehlo-notes.md §16), so every lowering sorts an extra
iota operand and the comparator breaks exact ties on it: the order is then fully determined by the
keys, which is what lets the JVP sort the tangents in a second sort with the same permutation.
Float keys compare with NaN after every number (either sign of NaN) and -0.0 == +0.0, like NumPy.
"""
from __future__ import annotations

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.core.program import UndefPrimal
from slope.errors import DTypeError, ShapeError, TransformError, describe
from slope.primitives.rules import bdim_at_front, zeros_like
from slope.primitives.scan import _check_axis, check_index_fits
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Exempt, Verify

# ---------------------------------------------------------------- sort


def _sort_rule(*operands, dimension, num_keys=1):
    if not operands:
        raise ShapeError("sort: needs at least one operand")
    where = f"sort: operands {describe(operands)}"
    if len({a.shape for a in operands}) > 1:
        raise ShapeError(f"{where} must have equal shapes")
    _check_axis("sort", operands[0], dimension, "dimension")
    if not isinstance(num_keys, int) or not 1 <= num_keys <= len(operands):
        raise ShapeError(f"{where}: num_keys={num_keys!r} must be between 1 and the number of operands ({len(operands)})")
    return list(operands)


def _permute_like(keys, values, dimension, num_keys):
    """Sort `values` (same shape as keys) by the keys' stable order: the permutation of the primal sort."""
    outs = lax.sort(*keys, *values, dimension=dimension, num_keys=num_keys)
    return outs[num_keys:]


def _sort_jvp(primals, tangents, *, dimension, num_keys=1):
    outs = lax.sort(*primals, dimension=dimension, num_keys=num_keys)
    keys = primals[:num_keys]
    float_ix = [i for i, p in enumerate(primals) if p.dtype.is_float]
    moved = iter(_permute_like(keys, [tangents[i] for i in float_ix], dimension, num_keys) if float_ix else [])
    t_outs = [next(moved) if i in float_ix else zeros_like(o) for i, o in enumerate(outs)]
    return outs, t_outs


def _sort_transpose(cts, *args, dimension, num_keys=1):
    """Linear in the non-key operands once the keys are known: undo the permutation by sorting on it."""
    keys = args[:num_keys]
    if any(isinstance(k, UndefPrimal) for k in keys):
        raise TransformError("sort: not linear in its keys (only the non-key operands can be transposed)")
    undef = [i for i, a in enumerate(args) if isinstance(a, UndefPrimal)]
    if not undef:
        return [None] * len(args)
    shape = tuple(keys[0].shape)
    iota = lax.iota(shape=shape, dimension=dimension, dtype=dt.int32)
    perm = lax.sort(*keys, iota, dimension=dimension, num_keys=num_keys)[-1]  # out[i] = in[perm[i]]
    back = lax.sort(perm, *[cts[i] for i in undef], dimension=dimension, num_keys=1)[1:]  # in[perm[i]] = ct[i]
    res = [None] * len(args)
    for i, b in zip(undef, back):
        res[i] = b
    return res


def _same_dim_or_front(axis_size, args, dims, dimension):
    """Operands with one common batch dim keep it; otherwise all move it to the front."""
    batched = [d for d in dims if d is not None]
    if all(d == batched[0] for d in dims):
        d = batched[0]
        return list(args), d, dimension + (1 if dimension >= d else 0)
    return [bdim_at_front(x, d, axis_size) for x, d in zip(args, dims)], 0, dimension + 1


def _sort_vmap(axis_size, args, dims, *, dimension, num_keys=1):
    args, d, new_dim = _same_dim_or_front(axis_size, args, dims, dimension)
    outs = lax.sort(*args, dimension=new_dim, num_keys=num_keys)
    return outs, [d] * len(outs)


def _sort_perm(args, dimension, num_keys):
    """The stable sorting permutation along `dimension` (the reference's order: NaN last, ties by index)."""
    keys = [np.asarray(a) for a in args[:num_keys]]
    iota = np.broadcast_to(np.arange(keys[0].shape[dimension]).reshape(
        [-1 if i == dimension else 1 for i in range(keys[0].ndim)]), keys[0].shape)
    return np.asarray(ref.sort(*keys, iota.astype(np.int64), dimension=dimension, num_keys=num_keys)[-1])


def _sort_ties(*args, dimension, num_keys=1):
    """Neighbours tied on a float key (and the keys before it): the tangents follow the stable order
    there, while finite differences reorder them."""
    keys = [np.asarray(a) for a in args[:num_keys]]
    if not any(a.dtype.kind == "f" for a in args) or keys[0].shape[dimension] < 2:
        return False
    perm = _sort_perm(args, dimension, num_keys)
    sk = [np.take_along_axis(k, perm, dimension) for k in keys]
    n = keys[0].shape[dimension]
    lo, hi = (np.arange(n - 1), np.arange(1, n))
    same = np.ones(np.take(sk[0], lo, dimension).shape, bool)
    for k in sk:  # neighbours equal on the keys so far, the last a float key: a perturbation reorders them
        a, b = np.take(k, lo, dimension), np.take(k, hi, dimension)
        if k.dtype.kind == "f":
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
            if np.any(same):
                return True
        else:
            same &= a == b
    return False


def _sort_kink_derivative(args, ts, *, dimension, num_keys=1):
    perm = _sort_perm(args, dimension, num_keys)
    return [None if t is None else np.take_along_axis(np.asarray(t, np.float64), perm, dimension) for t in ts]


def _sort_edges(dtype):
    """Ties (stable order: the tangents follow it), NaN last, -0.0 == 0.0, a size-1 and an empty dimension,
    a tied primary key decided by the second key, and left stable when num_keys takes its default; last,
    an empty operand sorted along a dimension of 3 (argsort takes all but the two-key cases)."""
    d = dt.dtype(dtype)
    if d.is_bool:
        x = np.array([[True, False, True, False], [False, False, True, True]])
        return [([x, x.astype(np.int32)], {"dimension": 1, "num_keys": 1})]
    x = np.array([[2, 1, 2, 0], [3, 3, 3, 1], [1, 2, 3, 4]], d.np)
    pay = np.arange(12, dtype=d.np).reshape(3, 4)
    cases = [([x, pay], {"dimension": 1, "num_keys": 1}), ([x], {"dimension": 0, "num_keys": 1}),
             ([x[:, :1]], {"dimension": 1, "num_keys": 1}), ([np.zeros((2, 0), d.np)], {"dimension": 1, "num_keys": 1}),
             ([x, pay[:, ::-1].copy(), pay], {"dimension": 1, "num_keys": 2}),
             ([x, pay[:, ::-1].copy(), pay], {"dimension": 1}),  # num_keys left to its default, 1, in every rule
             ([x], {"dimension": 1}), ([np.zeros((0, 3), d.np)], {"dimension": 1, "num_keys": 1})]
    if d.is_float:
        y = np.array([np.nan, 1.0, -0.0, 0.0, -np.inf, np.nan, 1.0, np.inf], d.np)
        cases.append(([y, np.arange(8, dtype=d.np)], {"dimension": 0, "num_keys": 1}))
    return cases


sort = register(Spec(
    name="sort",
    abstract_eval=_sort_rule,
    reference=ref.sort,
    jvp=_sort_jvp,
    transpose=_sort_transpose,
    vmap=_sort_vmap,
    multiple_results=True,
    verify=Verify(dtypes=("float32", "float64", "int32", "int64", "uint32", "bool"), edge_cases=_sort_edges,
                  on_derivative_kink=_sort_ties, kink_derivative=_sort_kink_derivative),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32), np.ones((3,), np.float32)], {"dimension": 0}, ShapeError,
                   "sort: operands f32\\[2,3\\], f32\\[3\\] must have equal shapes"),
        ErrorInput([np.ones((2, 3), np.float32)], {"dimension": 2}, ShapeError, "sort: dimension 2 out of range for f32\\[2,3\\]"),
        ErrorInput([np.ones((3,), np.float32)], {"dimension": 0, "num_keys": 2}, ShapeError,
                   "sort: operands f32\\[3\\]: num_keys=2 must be between 1 and the number of operands \\(1\\)"),
        ErrorInput([], {"dimension": 0}, ShapeError, "sort: needs at least one operand"),
    ],
    doc="stable sort of all operands along dimension by the first num_keys (lexicographic; -0.0 == 0.0, NaN last); "
        "tangents of non-key operands follow the same permutation (linear in those, not in the keys)",
))


# ---------------------------------------------------------------- argsort


def _argsort_rule(x, *, dimension, index_dtype):
    _check_axis("argsort", x, dimension, "dimension")
    if not (index_dtype.is_int and not index_dtype.is_unsigned):
        raise DTypeError(f"argsort: index_dtype must be a signed integer dtype, got {index_dtype.name}")
    check_index_fits("argsort", x.shape[dimension], index_dtype)
    return [Aval(x.shape, index_dtype)]


def _argsort_jvp(primals, tangents, *, dimension, index_dtype):
    out = lax.argsort(primals[0], dimension=dimension, index_dtype=index_dtype)
    return [out], [zeros_like(out)]


def _argsort_vmap(axis_size, args, dims, *, dimension, index_dtype):
    (x,), (d,) = args, dims
    new_dim = dimension + (1 if dimension >= d else 0)
    return [lax.argsort(x, dimension=new_dim, index_dtype=index_dtype)], [d]


argsort = register(Spec(
    name="argsort",
    abstract_eval=_argsort_rule,
    reference=ref.argsort,
    jvp=_argsort_jvp,
    vmap=_argsort_vmap,
    verify=Verify(dtypes=("float32", "float64", "int32", "int64", "uint32", "bool"),
                  exempt={"transpose": Exempt.INTEGER_OUTPUT, "grad": Exempt.INTEGER_OUTPUT},
                  edge_cases=lambda dtype: [([a[0]], {"dimension": p["dimension"], "index_dtype": dt.int32})
                                            for a, p in _sort_edges(dtype)[:4] + _sort_edges(dtype)[5:]]),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32)], {"dimension": -1, "index_dtype": dt.int32}, ShapeError,
                   "argsort: dimension -1 out of range for f32\\[2,3\\]"),
        ErrorInput([np.ones((2, 3), np.float32)], {"dimension": 0, "index_dtype": dt.uint32}, DTypeError,
                   "argsort: index_dtype must be a signed integer dtype, got uint32"),
    ],
    doc="indices that stably sort x ascending along dimension (-0.0 == 0.0, NaN of either sign last)",
))
