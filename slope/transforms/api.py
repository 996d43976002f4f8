"""Pytree-level transformations users call: jvp, vjp, linearize, grad, value_and_grad, vmap, jac*, hessian."""
from __future__ import annotations

import functools

import numpy as np

from slope import lax
from slope.core import dtypes
from slope.core.pytree import TreeDef, tree_flatten, tree_unflatten
from slope.core.tensor import Tensor, as_tensor
from slope.core.trace import Tracer, get_aval
from slope.errors import ArgumentError, DTypeError, TransformError
from slope.primitives.rules import zeros_like
from slope.transforms.jvp import jvp_flat
from slope.transforms.partial_eval import linearize_flat
from slope.transforms.transpose import vjp_flat
from slope.transforms.vmap import vmap_flat


def _wraps(f):
    """functools.wraps without copying f.__dict__ (f may be a Jitted object with state)."""
    return functools.wraps(f, updated=())


def _check_callable(op, f):
    if not callable(f):
        raise ArgumentError(f"{op}: expected a function to transform, got {type(f).__name__} {f!r:.60}")


def _leaves(tree, op=None):
    leaves, td = tree_flatten(tree)
    out = []
    for x in leaves:
        if not isinstance(x, (Tensor, Tracer)):
            if op is not None and not isinstance(x, (bool, int, float, np.ndarray, np.generic)):
                raise ArgumentError(f"{op}: arguments must be tensors, numbers or pytrees of them, got "
                                    f"{type(x).__name__} {x!r:.60}")
            x = as_tensor(x)
        out.append(x)
    return out, td


def _flat_fun(f, in_tree, store):
    """f on a flat list of leaves returning a flat list; records the output structure in `store`."""
    def flat(*leaves):
        args = tree_unflatten(in_tree, leaves)
        out = f(*args)
        leaves_out, out_tree = tree_flatten(out)
        store.append(out_tree)
        return [x if isinstance(x, (Tensor, Tracer)) else as_tensor(x) for x in leaves_out]

    return flat


def jvp(f, primals, tangents):
    """(f(*primals), J tangents): forward-mode derivative along `tangents` (pytrees like primals)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TransformError("jvp: primals and tangents must be tuples of arguments")
    _check_callable("jvp", f)
    p_flat, in_tree = _leaves(tuple(primals), "jvp")
    t_flat, t_tree = _leaves(tuple(tangents), "jvp")
    if in_tree != t_tree:
        raise TransformError(f"jvp: primals structure {in_tree} differs from tangents structure {t_tree}")
    for p, t in zip(p_flat, t_flat):
        if get_aval(p) != get_aval(t):
            raise TransformError(f"jvp: tangent {get_aval(t).str_short()} does not match primal {get_aval(p).str_short()}")
    store = []
    po, to = jvp_flat(_flat_fun(f, in_tree, store), p_flat, t_flat)
    return tree_unflatten(store[0], po), tree_unflatten(store[0], to)


def linearize(f, *primals):
    """(f(*primals), f_jvp) where f_jvp(*tangents) evaluates the linearized function (staged once)."""
    _check_callable("linearize", f)
    p_flat, in_tree = _leaves(primals, "linearize")
    store = []
    out, f_lin_flat, _, _ = linearize_flat(_flat_fun(f, in_tree, store), p_flat)
    out_tree = store[0]

    def f_lin(*tangents):
        t_flat, t_tree = _leaves(tangents)
        if t_tree != in_tree:
            raise TransformError(f"linearize: tangents structure {t_tree} differs from primals {in_tree}")
        return tree_unflatten(out_tree, f_lin_flat(*t_flat))

    return tree_unflatten(out_tree, out), f_lin


def vjp(f, *primals, has_aux=False, _op="vjp"):
    """(f(*primals), f_vjp) where f_vjp(cotangent) returns a tuple with one cotangent per primal."""
    _check_callable("vjp", f)
    p_flat, in_tree = _leaves(primals, _op)
    store = []
    f_flat = _flat_fun(_split_aux(f, _op) if has_aux else f, in_tree, store)
    out_flat, f_vjp_flat = vjp_flat(f_flat, p_flat)
    out_tree = store[0]
    if has_aux:
        (out, aux) = tree_unflatten(out_tree, out_flat)
        out_struct = tree_flatten(out)[1]
    else:
        out = tree_unflatten(out_tree, out_flat)
        out_struct = out_tree

    def f_vjp(ct):
        ct_flat, ct_tree = _leaves(ct)
        if ct_tree != out_struct:
            raise TransformError(f"vjp: cotangent structure {ct_tree} differs from output structure {out_struct}")
        for c, o in zip(ct_flat, out_flat):
            if get_aval(c) != get_aval(o):
                raise TransformError(f"vjp: cotangent {get_aval(c).str_short()} does not match output "
                                     f"{get_aval(o).str_short()}")
        aux_cts = [_zeros_like(o) for o in out_flat[len(ct_flat):]]  # aux outputs get zero cotangents
        cts = f_vjp_flat(*ct_flat, *aux_cts)
        return tree_unflatten(in_tree, cts)

    return (out, f_vjp, aux) if has_aux else (out, f_vjp)


def _zeros_like(x):

    return zeros_like(x)


def _split_aux(f, op="vjp"):
    def g(*args):
        out = f(*args)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TransformError(f"{op}: has_aux=True requires f to return a pair (output, aux)")
        return tuple(out)

    return g


def _argnums_tuple(argnums, nargs, name):
    nums = (argnums,) if isinstance(argnums, int) and not isinstance(argnums, bool) else argnums
    if not isinstance(nums, (tuple, list)) or not nums or \
            not all(isinstance(a, int) and not isinstance(a, bool) for a in nums):
        raise ArgumentError(f"{name}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    nums = tuple(nums)
    if len(set(a % nargs if nargs else a for a in nums)) != len(nums):
        raise TransformError(f"{name}: argnums {argnums} repeats an argument")
    for a in nums:
        if not -nargs <= a < nargs:
            raise TransformError(f"{name}: argnums {argnums} out of range for {nargs} positional arguments")
    return tuple(a % nargs for a in nums)


def value_and_grad(f, argnums=0, has_aux=False, _op="value_and_grad"):
    """Function returning (f(*args), gradient w.r.t. args[argnums]); f must return a float scalar.

    argnums is an int or a tuple of ints; the gradient is a tuple only for two or more of them
    (`argnums=(1,)` gives the bare gradient of argument 1, unlike JAX's 1-tuple)."""
    name = f"{_op}({getattr(f, '__name__', 'f')})"
    _check_callable(_op, f)

    @_wraps(f)
    def vg(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), name)
        for i in nums:
            for leaf in _leaves(args[i], name)[0]:
                d = get_aval(leaf).dtype
                if not d.is_float:
                    raise DTypeError(f"{name}: argument {i} has dtype {d.name}; gradients need floating-point inputs")

        def partial_f(*diff_args):
            full = list(args)
            for i, a in zip(nums, diff_args):
                full[i] = a
            out = f(*full, **kwargs)
            if has_aux and not (isinstance(out, (tuple, list)) and len(out) == 2):
                got = get_aval(out).str_short() if isinstance(out, (Tensor, Tracer)) else type(out).__name__
                raise TransformError(f"{name}: has_aux=True requires f to return a pair (value, aux), got {got}")
            value = out[0] if has_aux else out
            value_aval = get_aval(value) if isinstance(value, (Tensor, Tracer)) else None
            if value_aval is None or value_aval.shape != () or not value_aval.dtype.is_float:
                got = value_aval.str_short() if value_aval else type(value).__name__
                raise TransformError(f"{name}: f must return a float scalar (shape ()), got {got}; "
                                     "use vjp or jacrev for non-scalar outputs")
            return out

        res = vjp(partial_f, *[args[i] for i in nums], has_aux=has_aux, _op=name)
        if has_aux:
            value, f_vjp, aux = res
        else:
            value, f_vjp = res
        grads = f_vjp(_ones_like(value))
        # A one-element argnums tuple gives the bare gradient, as the original slope did (JAX gives a
        # 1-tuple); see the README's tutorial. Two or more give a tuple.
        g = grads[0] if len(nums) == 1 else tuple(grads)
        return ((value, aux), g) if has_aux else (value, g)

    return vg


def _ones_like(x):
    return lax.full(shape=tuple(x.shape), value=1, dtype=x.dtype)


def grad(f, argnums=0, has_aux=False):
    """Gradient of a float-scalar-valued f w.r.t. args[argnums] (an int or a tuple of ints)."""
    vg = value_and_grad(f, argnums, has_aux, _op="grad")

    @_wraps(f)
    def g(*args, **kwargs):
        out, grads = vg(*args, **kwargs)
        return (grads, out[1]) if has_aux else grads

    return g


# ---------------------------------------------------------------- vmap


def _flatten_axes(name, axes, tree: TreeDef, n_leaves):
    """Broadcast an in_axes/out_axes prefix over a pytree's leaves (None and ints are leaves here)."""
    if axes is None or (isinstance(axes, int) and not isinstance(axes, bool)):
        return [axes] * n_leaves
    if not isinstance(axes, (tuple, list, dict)):
        raise ArgumentError(f"vmap: {name}: an axis must be an int or None (or a pytree of them), got "
                            f"{type(axes).__name__} {axes!r}")
    if tree.node is None:
        raise TransformError(f"vmap: {name} {axes!r} does not match a single array")
    _, nt_children = tree.node, tree.children
    if isinstance(axes, dict):
        keys = tree.aux
        items = [axes[k] for k in keys] if set(axes) == set(keys) else None
    else:
        items = list(axes) if isinstance(axes, (tuple, list)) and len(axes) == len(nt_children) else None
    if items is None:
        raise TransformError(f"vmap: {name} {axes!r} does not match the structure {tree}")
    out = []
    for sub_axes, child in zip(items, nt_children):
        out += _flatten_axes(name, sub_axes, child, child.num_leaves)
    return out


def vmap(f, in_axes=0, out_axes=0):
    """Map f over a batch dim of its inputs (in_axes) producing outputs batched along out_axes."""
    _check_callable("vmap", f)

    @_wraps(f)
    def batched(*args):
        flat, in_tree = _leaves(args, "vmap")
        spec = in_axes if not isinstance(in_axes, list) else tuple(in_axes)
        if isinstance(spec, tuple) and len(spec) != len(args):
            raise TransformError(f"vmap: in_axes has {len(spec)} entries but the function got {len(args)} arguments")
        dims = _flatten_axes("in_axes", spec, in_tree, len(flat))
        sizes = set()
        norm = []
        for x, d in zip(flat, dims):
            if d is None:
                norm.append(None)
                continue
            nd = get_aval(x).ndim
            if not -nd <= d < nd:
                raise TransformError(f"vmap: in_axes {d} out of range for an argument of shape {tuple(x.shape)}")
            norm.append(d % nd)
            sizes.add(x.shape[d % nd])
        if not sizes:
            raise TransformError("vmap: at least one argument must be mapped (in_axes all None)")
        if len(sizes) > 1:
            raise TransformError(f"vmap: mapped axes have different sizes {sorted(sizes)}")
        store = []
        # out_axes needs the output structure, which is known only after tracing: resolve lazily.
        results = vmap_flat(_flat_fun(f, in_tree, store), sizes.pop(), norm, _LazyOutAxes(out_axes, store), flat)
        return tree_unflatten(store[0], results)

    return batched


class _LazyOutAxes:
    """out_axes resolved against the output tree once vmap has traced the function."""
    def __init__(self, out_axes, store):
        self.out_axes, self.store = out_axes, store

    def __iter__(self):
        tree = self.store[0]
        return iter(_flatten_axes("out_axes", self.out_axes, tree, tree.num_leaves))


# ---------------------------------------------------------------- Jacobians


def _single_arg(name, args, argnums):
    if not isinstance(argnums, int) or isinstance(argnums, bool):
        raise ArgumentError(f"{name}: argnums must be an int, got {argnums!r}")
    nums = _argnums_tuple(argnums, len(args), name)
    return nums[0]


def _of_one_arg(name, f, args, argnums):
    """(x, f as a function of x alone): the float argument a Jacobian is taken with respect to."""
    i = _single_arg(name, args, argnums)
    x = as_tensor(args[i]) if not isinstance(args[i], (Tensor, Tracer)) else args[i]
    if not x.dtype.is_float:
        raise DTypeError(f"{name}: argument {i} has dtype {x.dtype.name}; need floating point")

    def f_x(xi):
        full = list(args)
        full[i] = xi
        return f(*full)

    return x, f_x


def jacfwd(f, argnums=0, _op="jacfwd"):
    """Jacobian by forward mode: shape out.shape + x.shape."""
    _check_callable(_op, f)

    def jac(*args):
        x, f_x = _of_one_arg(_op, f, args, argnums)
        n = x.aval.size
        basis = lax.reshape(_eye(n, x.dtype), shape=(n, *x.shape))
        pushfwd = lambda t: jvp(f_x, (x,), (t,))[1]  # noqa: E731
        cols = vmap(pushfwd, out_axes=-1)(basis)  # out.shape + (n,)
        return lax.reshape(cols, shape=(*cols.shape[:-1], *x.shape))

    return jac


def jacrev(f, argnums=0, _op="jacrev"):
    """Jacobian by reverse mode: shape out.shape + x.shape."""
    _check_callable(_op, f)

    def jac(*args):
        x, f_x = _of_one_arg(_op, f, args, argnums)
        y, f_vjp = vjp(f_x, x, _op=_op)
        if not isinstance(y, (Tensor, Tracer)):
            raise TransformError(f"{_op}: f must return a single tensor, got {type(y).__name__}")
        m = y.aval.size
        basis = lax.reshape(_eye(m, y.dtype), shape=(m, *y.shape))
        rows = vmap(lambda ct: f_vjp(ct)[0])(basis)  # (m,) + x.shape
        return lax.reshape(rows, shape=(*y.shape, *x.shape))

    return jac


def hessian(f, argnums=0):
    """Matrix of second derivatives of a scalar f: jacfwd(jacrev(f))."""
    return jacfwd(jacrev(f, argnums, _op="hessian"), argnums, _op="hessian")


def _eye(n, dtype):
    r = lax.iota(shape=(n, n), dimension=0, dtype=_i32())
    c = lax.iota(shape=(n, n), dimension=1, dtype=_i32())
    return lax.convert(lax.eq(r, c), dtype=dtype)


def _i32():

    return dtypes.int32

