"""dot_general: batched tensor contraction (matmul, bmm, inner/outer products), bilinear."""
from __future__ import annotations

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import dtypes
from slope.core.aval import Aval
from slope.core.program import UndefPrimal
from slope.errors import DTypeError, ShapeError, describe
from slope.primitives.rules import moveaxis
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Verify


def _free(ndim, contract, batch):
    return [i for i in range(ndim) if i not in contract and i not in batch]


def _dot_rule(x, y, *, contracting_dims, batch_dims, preferred_dtype=None):
    (xc, yc), (xb, yb) = contracting_dims, batch_dims
    where = f"dot_general: {describe([x, y])} with contracting_dims={contracting_dims}, batch_dims={batch_dims}"
    if x.dtype is not y.dtype:
        raise DTypeError(f"{where}: operands must have one dtype")
    if x.dtype.is_bool:
        raise DTypeError(f"{where}: bool operands are not supported")
    dims_ok = (len(xc) == len(yc) and len(xb) == len(yb)
               and all(0 <= d < x.ndim for d in (*xc, *xb)) and all(0 <= d < y.ndim for d in (*yc, *yb))
               and len(set((*xc, *xb))) == len(xc) + len(xb) and len(set((*yc, *yb))) == len(yc) + len(yb))
    if not dims_ok:
        raise ShapeError(f"{where}: invalid dimension numbers")
    if any(x.shape[a] != y.shape[b] for a, b in zip(xc, yc)):
        raise ShapeError(f"{where}: contracting dimensions differ in size")
    if any(x.shape[a] != y.shape[b] for a, b in zip(xb, yb)):
        raise ShapeError(f"{where}: batch dimensions differ in size")
    shape = ([x.shape[d] for d in xb] + [x.shape[d] for d in _free(x.ndim, xc, xb)]
             + [y.shape[d] for d in _free(y.ndim, yc, yb)])
    return [Aval(shape, _out_dtype(where, x.dtype, preferred_dtype))]


def _out_dtype(where, dtype, preferred):
    """The result's dtype: the operands', or preferred_dtype where that is a wider dtype of their kind
    (the operands are converted to it, exactly, and multiplied and summed in it, e.g. int8 -> int32)."""
    if preferred is None or preferred is dtype:
        return dtype
    if preferred.kind != dtype.kind or preferred.bits <= dtype.bits:
        raise DTypeError(f"{where}: preferred_dtype={preferred.name} must be {dtype.name} (the operands' dtype) "
                         f"or a wider dtype of the same kind")
    return preferred


def _dot_simplify(x, y, *, contracting_dims, batch_dims, preferred_dtype=None):
    """A contraction over an empty dim is a sum of nothing: zeros, made without dot_general (IREE 3.13's
    iree-compile dies with SIGFPE on such a dot_general: (2,0) @ (0,3), also batched and in gradients)."""
    out = _dot_rule(x, y, contracting_dims=contracting_dims, batch_dims=batch_dims, preferred_dtype=preferred_dtype)[0]
    if all(x.shape[d] for d in contracting_dims[0]):
        return None
    return lambda *args: lax.full(shape=out.shape, value=0, dtype=out.dtype)


def _dot(x, y, c, b, preferred_dtype=None):
    return lax.dot_general(x, y, contracting_dims=c, batch_dims=b, preferred_dtype=preferred_dtype)


def _dot_jvp(primals, tangents, **params):
    (x, y), (tx, ty) = primals, tangents
    return [lax.dot_general(x, y, **params)], [lax.add(lax.dot_general(tx, y, **params),
                                                       lax.dot_general(x, ty, **params))]


def _ct_operand(ct, other, mine_ndim, mine, theirs, out_free_offset_other):
    """Cotangent of one operand: contract ct with the other operand over the other's free dims."""
    (mc, oc), (mb, ob) = mine, theirs  # contracting (mine, other), batch (mine, other)
    nb = len(mb)
    other_free = _free(other.ndim, oc, ob)
    ct_other_free = tuple(range(out_free_offset_other, out_free_offset_other + len(other_free)))
    res = _dot(ct, other, (ct_other_free, tuple(other_free)), (tuple(range(nb)), tuple(ob)))
    # res dims: batch (mine order), my free dims (ascending), then other's contracting dims ascending
    order = list(mb) + _free(mine_ndim, mc, mb) + [mc[i] for i in np.argsort(oc)]
    perm = tuple(int(i) for i in np.argsort(order))
    return lax.transpose(res, perm=perm) if perm != tuple(range(len(perm))) else res


def _dot_transpose(cts, x, y, *, contracting_dims, batch_dims, preferred_dtype=None):
    ct = cts[0]
    (xc, yc), (xb, yb) = contracting_dims, batch_dims
    xn = x.aval.ndim if isinstance(x, UndefPrimal) else x.ndim
    yn = y.aval.ndim if isinstance(y, UndefPrimal) else y.ndim
    nb, nxf = len(xb), len(_free(xn, xc, xb))

    def ct_operand(other, *dims):
        """With a wider preferred_dtype, ct meets the other operand converted to it and the result
        is rounded once, to the operands' dtype."""
        if preferred_dtype is None or preferred_dtype is other.dtype:
            return _ct_operand(ct, other, *dims)
        wide = _ct_operand(ct, lax.convert(other, dtype=preferred_dtype), *dims)
        return lax.convert(wide, dtype=other.dtype)

    out = [None, None]
    if isinstance(x, UndefPrimal):
        out[0] = ct_operand(y, xn, (xc, yc), (xb, yb), nb + nxf)
    if isinstance(y, UndefPrimal):
        out[1] = ct_operand(x, yn, (yc, xc), (yb, xb), nb)
    return out


def _dot_vmap(axis_size, args, dims, *, contracting_dims, batch_dims, preferred_dtype=None):
    (x, y), (dx, dy) = args, dims
    (xc, yc), (xb, yb) = contracting_dims, batch_dims
    shift = lambda ds: tuple(d + 1 for d in ds)  # noqa: E731
    p = preferred_dtype
    if dx is not None and dy is not None:
        x, y = moveaxis(x, dx, 0), moveaxis(y, dy, 0)
        return [_dot(x, y, (shift(xc), shift(yc)), ((0, *shift(xb)), (0, *shift(yb))), p)], [0]
    if dx is not None:  # the batch dim becomes x's first free dim
        x = moveaxis(x, dx, 0)
        return [_dot(x, y, (shift(xc), yc), (shift(xb), yb), p)], [len(xb)]
    y = moveaxis(y, dy, 0)
    nxf = len(_free(x.ndim, xc, xb))
    return [_dot(x, y, (xc, shift(yc)), (xb, shift(yb)), p)], [len(xb) + nxf]


dot_general = register(Spec(
    name="dot_general",
    abstract_eval=_dot_rule,
    simplify=_dot_simplify,
    reference=ref.dot_general,
    jvp=_dot_jvp,
    transpose=_dot_transpose,
    vmap=_dot_vmap,
    verify=Verify(dtypes=("float32", "float64", "int32", "int64", "uint32")),
    error_inputs=lambda: [
        ErrorInput([np.ones((2, 3), np.float32), np.ones((4, 5), np.float32)],
                   {"contracting_dims": ((1,), (0,)), "batch_dims": ((), ())}, ShapeError,
                   "dot_general: f32\\[2,3\\], f32\\[4,5\\].*contracting dimensions differ"),
        ErrorInput([np.ones((2, 3), np.float32), np.ones((3, 4), np.int32)],
                   {"contracting_dims": ((1,), (0,)), "batch_dims": ((), ())}, DTypeError, "operands must have one dtype"),
        ErrorInput([np.ones((2, 3), bool), np.ones((3, 4), bool)],
                   {"contracting_dims": ((1,), (0,)), "batch_dims": ((), ())}, DTypeError, "bool operands are not supported"),
        ErrorInput([np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)],
                   {"contracting_dims": ((2,), (0,)), "batch_dims": ((), ())}, ShapeError,
                   "dot_general: .*contracting_dims=\\(\\(2,\\), \\(0,\\)\\).*: invalid dimension numbers"),
        ErrorInput([np.ones((2, 2, 3), np.float32), np.ones((3, 3, 4), np.float32)],
                   {"contracting_dims": ((2,), (1,)), "batch_dims": ((0,), (0,))}, ShapeError,
                   "dot_general: .*batch dimensions differ in size"),
        ErrorInput([np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)],
                   {"contracting_dims": ((1,), (0,)), "batch_dims": ((), ()), "preferred_dtype": dtypes.float16},
                   DTypeError, "preferred_dtype=float16 must be float32 .* or a wider dtype of the same kind"),
        ErrorInput([np.ones((2, 3), np.int32), np.ones((3, 4), np.int32)],
                   {"contracting_dims": ((1,), (0,)), "batch_dims": ((), ()), "preferred_dtype": dtypes.float64},
                   DTypeError, "preferred_dtype=float64 must be int32"),
    ],
    doc="batched matmul / general contraction over contracting_dims; out dims = batch, lhs free, rhs free (XLA DotGeneral); "
        "preferred_dtype: the result's dtype, the operands' or a wider one of their kind (products and sums in it)",
))
