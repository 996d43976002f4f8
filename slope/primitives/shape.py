"""Shape primitives: reshape, broadcast_in_dim, transpose (all linear: transpose rules undo them)."""
from __future__ import annotations

import numpy as np

from slope import reference as ref
from slope.core.aval import Aval
from slope.errors import ShapeError
from slope.primitives import sampling as S
from slope.primitives.rules import moveaxis
from slope.primitives.spec import ErrorInput, Spec, register


def L():
    from slope import lax

    return lax


def _lower_simple(op, attrs=lambda **p: ""):
    def lower(ctx, args, in_avals, out_avals, **params):
        return [ctx.generic(op, args, in_avals, out_avals, attrs(**params))]

    return lower


def _arr(vals):
    from slope.backends.iree.lowering import dense_attr

    return dense_attr(vals)


def _linear_jvp(spec):
    def jvp(primals, tangents, **params):
        return [spec.bind(*primals, **params)], [spec.bind(*tangents, **params)]

    return jvp


LINEAR = ("float32", "float64", "int32")

# ---------------------------------------------------------------- reshape


def _reshape_rule(x, *, shape):
    if any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ShapeError(f"reshape: cannot reshape {x.str_short()} ({x.size} elements) to {tuple(shape)}")
    return [Aval(shape, x.dtype)]


def _reshape_vmap(axis_size, args, dims, *, shape):
    x = moveaxis(args[0], dims[0], 0)
    return [L().reshape(x, shape=(axis_size, *shape))], [0]


def _reshape_sample(draw, dtype):
    shape = S.draw_shape(draw, [(6,), (2, 3), (3, 2, 1), (1, 6)])
    target = draw(S._st().sampled_from([(6,), (3, 2), (1, 2, 3), (6, 1)]))
    return [S.draw_array(draw, shape, dtype)], {"shape": target}


reshape = register(Spec(
    name="reshape",
    abstract_eval=_reshape_rule,
    lower=_lower_simple("stablehlo.reshape"),
    reference=ref.reshape,
    transpose=lambda cts, x, *, shape: [L().reshape(cts[0], shape=x.aval.shape)],
    vmap=_reshape_vmap,
    sample=_reshape_sample,
    dtypes=LINEAR,
    error_inputs=lambda: [ErrorInput([np.ones((2, 3), np.float32)], {"shape": (4,)}, ShapeError, "reshape: cannot reshape f32\\[2,3\\]")],
    doc="same elements, new shape (row-major)",
))
reshape.jvp = _linear_jvp(reshape)

# ---------------------------------------------------------------- broadcast_in_dim


def _bid_rule(x, *, shape, broadcast_dimensions):
    bd = tuple(broadcast_dimensions)
    ok = len(bd) == x.ndim and len(set(bd)) == len(bd) and all(0 <= d < len(shape) for d in bd)
    ok = ok and list(bd) == sorted(bd) and all(x.shape[i] in (1, shape[d]) for i, d in enumerate(bd))
    if not ok:
        raise ShapeError(f"broadcast_in_dim: cannot broadcast {x.str_short()} to {tuple(shape)} "
                         f"with broadcast_dimensions={bd}")
    return [Aval(shape, x.dtype)]


def _bid_transpose(cts, x, *, shape, broadcast_dimensions):
    ct = cts[0]
    xs = x.aval.shape
    new_dims = tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)
    expanded = tuple(d for i, d in enumerate(broadcast_dimensions) if xs[i] == 1 and shape[d] != 1)
    summed = L().reduce_sum(ct, axes=tuple(sorted(new_dims + expanded))) if new_dims + expanded else ct
    return [L().reshape(summed, shape=xs) if summed.shape != xs else summed]


def _bid_vmap(axis_size, args, dims, *, shape, broadcast_dimensions):
    x = moveaxis(args[0], dims[0], 0)
    bd = (0,) + tuple(d + 1 for d in broadcast_dimensions)
    return [L().broadcast_in_dim(x, shape=(axis_size, *shape), broadcast_dimensions=bd)], [0]


def _bid_sample(draw, dtype):
    case = draw(S._st().sampled_from([((3,), (2, 3), (1,)), ((2, 1), (2, 4), (0, 1)), ((), (2, 3), ()),
                                      ((1, 3), (2, 2, 3), (1, 2)), ((3,), (3, 2), (0,))]))
    xs, shape, bd = case
    return [S.draw_array(draw, xs, dtype)], {"shape": shape, "broadcast_dimensions": bd}


broadcast_in_dim = register(Spec(
    name="broadcast_in_dim",
    abstract_eval=_bid_rule,
    lower=_lower_simple("stablehlo.broadcast_in_dim", lambda shape, broadcast_dimensions:
                        f"broadcast_dimensions = {_arr(broadcast_dimensions)}"),
    reference=ref.broadcast_in_dim,
    transpose=_bid_transpose,
    vmap=_bid_vmap,
    sample=_bid_sample,
    dtypes=LINEAR,
    error_inputs=lambda: [ErrorInput([np.ones((2,), np.float32)], {"shape": (3,), "broadcast_dimensions": (0,)},
                                     ShapeError, "broadcast_in_dim: cannot broadcast f32\\[2\\] to \\(3,\\)")],
    doc="expand: operand dim i becomes output dim broadcast_dimensions[i] (size 1 or equal)",
))
broadcast_in_dim.jvp = _linear_jvp(broadcast_in_dim)

# ---------------------------------------------------------------- transpose


def _transpose_rule(x, *, perm):
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(f"transpose: perm {tuple(perm)} is not a permutation of the dims of {x.str_short()}")
    return [Aval(tuple(x.shape[p] for p in perm), x.dtype)]


def _transpose_vmap(axis_size, args, dims, *, perm):
    x = moveaxis(args[0], dims[0], 0)
    return [L().transpose(x, perm=(0,) + tuple(p + 1 for p in perm))], [0]


def _transpose_sample(draw, dtype):
    shape = S.draw_shape(draw, min_rank=1)
    perm = tuple(draw(S._st().permutations(range(len(shape)))))
    return [S.draw_array(draw, shape, dtype)], {"perm": perm}


transpose = register(Spec(
    name="transpose",
    abstract_eval=_transpose_rule,
    lower=_lower_simple("stablehlo.transpose", lambda perm: f"permutation = {_arr(perm)}"),
    reference=ref.transpose,
    transpose=lambda cts, x, *, perm: [L().transpose(cts[0], perm=tuple(int(i) for i in np.argsort(perm)))],
    vmap=_transpose_vmap,
    sample=_transpose_sample,
    dtypes=LINEAR,
    error_inputs=lambda: [ErrorInput([np.ones((2, 3), np.float32)], {"perm": (0, 0)}, ShapeError,
                                     "transpose: perm \\(0, 0\\) is not a permutation")],
    doc="permute dims: out.shape[i] = x.shape[perm[i]]",
))
transpose.jvp = _linear_jvp(transpose)
