"""The public transformations in the ops table: slope.jvp, vjp, linearize, grad, value_and_grad, vmap,
jacfwd, jacrev and hessian as rows ops.<name>, each applied to a fixed smooth function whose result
has a NumPy closed form here. Imported at the end of slope.testing.op_table.

Why rows: the primitives' columns call jvp, vjp, grad and vmap in one way each, and never jacfwd,
jacrev, hessian, linearize or value_and_grad, nor any bad argument; a bug in the argument handling
of slope/transforms/api.py (argnums, in_axes, the tuple checks, the defaults) was caught by pytest
alone (ci/mutation.py). As rows, `python -m slope verify --ops` runs each transformation eagerly and
under jit with its argument variants drawn as params, composed with the others (vmap of jacfwd, jvp
of grad, ... against float64 finite differences of the closed form), and its error inputs: the bad
arguments, each of which must raise its slope error naming the transformation.
"""
from __future__ import annotations

import numpy as np

import slope
from slope.errors import ArgumentError, DTypeError, TransformError
from slope.primitives.spec import ErrorInput
from slope.testing.op_table import _array, op
from slope.testing.samplers import base as S

SHAPES = [(3,), (2, 2)]
_F32 = np.ones(3, np.float32)
_I32 = np.arange(3, dtype=np.int32)


def _cases(cases):
    return lambda: list(cases)


def _wide(x):
    return x.astype(np.float64)


# f(x) = sin(x) * x, elementwise: f'(x) = cos(x) x + sin(x)
def _f(x):
    return slope.sin(x) * x


def _f_np(x):
    return np.sin(_wide(x)) * x


def _df_np(x):
    w = _wide(x)
    return np.cos(w) * w + np.sin(w)


def _x_and(draw, dtype, *more_shapes):
    shape = S.draw_shape(draw, SHAPES)
    return shape, [_array(draw, shape, dtype)] + [_array(draw, shape, dtype) for _ in more_shapes]


# ---------------------------------------------------------------- jvp, vjp, linearize


def _pack(x, form):
    """An argument list in the form a caller wrote it: a tuple, a list, the bare tensor (wrong for
    jvp), two of it (a structure that does not match) or text in its place (not an argument)."""
    return {"tuple": (x,), "list": [x], "bare": x, "pair": (x, x), "text": ("x",)}[form]


def _jvp(x, t, primals="tuple", tangents="tuple"):
    return tuple(slope.jvp(_f, _pack(x, primals), _pack(t, tangents)))


def _forward_ref(x, t, **_):
    return _f_np(x).astype(x.dtype), (_df_np(x) * t).astype(x.dtype)


def _forward_sample(draw, dtype):
    _, (x, t) = _x_and(draw, dtype, "t")
    return [x, t], {"primals": S.sampled(draw, ["tuple", "list"]), "tangents": S.sampled(draw, ["tuple", "list"])}


_ERR_JVP = [
    ErrorInput([_F32, _F32], {"primals": "bare", "tangents": "tuple"}, TransformError,
               r"jvp: primals and tangents must be tuples of arguments"),
    ErrorInput([_F32, _F32], {"primals": "tuple", "tangents": "bare"}, TransformError,
               r"jvp: primals and tangents must be tuples of arguments"),
    ErrorInput([_F32, _F32], {"primals": "text", "tangents": "tuple"}, ArgumentError,
               r"jvp: arguments must be tensors, numbers or pytrees of them, got str 'x'"),
    ErrorInput([_F32, _F32], {"primals": "tuple", "tangents": "pair"}, TransformError,
               r"jvp: primals structure .* differs from tangents structure"),
    ErrorInput([_F32, np.ones((2, 3), np.float32)], {}, TransformError,
               r"jvp: tangent f32\[2,3\] does not match primal f32\[3\]"),
]
op("jvp", _jvp, _forward_ref, _forward_sample, multiple_results=True, error_inputs=_cases(_ERR_JVP),
   doc="slope.jvp(f, primals, tangents) of f(x) = sin(x) x: (f(x), f'(x) t)")


def _vjp(x, ct, cotangent="bare", has_aux=False):
    out, f_vjp = slope.vjp(_f, x, has_aux=has_aux)[:2]
    return out, f_vjp(_pack(ct, cotangent))[0]


def _vjp_sample(draw, dtype):
    _, (x, ct) = _x_and(draw, dtype, "ct")
    return [x, ct], {}


_ERR_VJP = [
    ErrorInput([_F32, np.ones((2, 3), np.float32)], {}, TransformError,
               r"vjp: cotangent f32\[2,3\] does not match output f32\[3\]"),
    ErrorInput([_F32, _F32], {"cotangent": "pair"}, TransformError, r"vjp: cotangent structure .* differs from output"),
    ErrorInput([_F32, _F32], {"has_aux": True}, TransformError, r"vjp: has_aux=True requires f to return a pair"),
]
op("vjp", _vjp, _forward_ref, _vjp_sample, multiple_results=True, error_inputs=_cases(_ERR_VJP),
   doc="slope.vjp(f, x) of f(x) = sin(x) x, its pullback applied to ct: (f(x), f'(x) ct)")


def _linearize(x, t, tangents="bare"):
    y, f_lin = slope.linearize(_f, x)
    t = _pack(t, tangents)
    return y, f_lin(*t) if isinstance(t, tuple) else f_lin(t)


_ERR_LINEARIZE = [
    ErrorInput([_F32, _F32], {"tangents": "pair"}, TransformError, r"linearize: tangents structure .* differs from primals"),
]
op("linearize", _linearize, _forward_ref, _vjp_sample, multiple_results=True, error_inputs=_cases(_ERR_LINEARIZE),
   doc="slope.linearize(f, x) of f(x) = sin(x) x, the linear map applied to t: (f(x), f'(x) t)")


# ---------------------------------------------------------------- grad, value_and_grad


def _loss(a, b):
    return (slope.sin(a) * b).sum()


def _grad(x, y, argnums=0, fun=_loss):
    g = slope.grad(fun, argnums=argnums)(x, y)
    return g if isinstance(g, tuple) else (g,)  # a tuple for two or more argnums, else the bare gradient


def _nums(argnums):
    return [a % 2 for a in ((argnums,) if isinstance(argnums, int) else argnums)]


def _grad_ref(x, y, argnums=0, **_):
    wx, wy = _wide(x), _wide(y)
    d = [np.cos(wx) * wy, np.sin(wx)]
    return tuple(d[i].astype(x.dtype) for i in _nums(argnums))


def _grad_sample(draw, dtype):
    _, (x, y) = _x_and(draw, dtype, "y")
    return [x, y], {"argnums": S.sampled(draw, [0, 1, -1, (1,), (1, 0), (0, -1)])}


_ERR_GRAD = [
    ErrorInput([_F32, _F32], {"argnums": (True,)}, ArgumentError, r"grad\(_loss\): argnums must be an int or a non-empty tuple of ints, got \(True,\)"),
    ErrorInput([_F32, _F32], {"argnums": True}, ArgumentError, r"grad\(_loss\): argnums must be an int or a non-empty tuple"),
    ErrorInput([_F32, _F32], {"argnums": 1.5}, ArgumentError, r"grad\(_loss\): argnums must be an int or a non-empty tuple"),
    ErrorInput([_F32, _F32], {"argnums": ()}, ArgumentError, r"grad\(_loss\): argnums must be an int or a non-empty tuple"),
    ErrorInput([_F32, _F32], {"argnums": (0, -2)}, TransformError, r"grad\(_loss\): argnums \(0, -2\) repeats an argument"),
    ErrorInput([_F32, _F32], {"argnums": 2}, TransformError, r"grad\(_loss\): argnums 2 out of range for 2 positional"),
    ErrorInput([_F32, _F32], {"argnums": (0, -3)}, TransformError, r"grad\(_loss\): argnums \(0, -3\) out of range"),
    ErrorInput([_I32, _F32], {}, DTypeError, r"grad\(_loss\): argument 0 has dtype int32; gradients need floating-point"),
    ErrorInput([_F32, _F32], {"fun": "loss"}, ArgumentError, r"grad: expected a function to transform, got str 'loss'"),
]
op("grad", _grad, _grad_ref, _grad_sample, multiple_results=True, error_inputs=_cases(_ERR_GRAD),
   doc="slope.grad of sum(sin(a) b) w.r.t. argnums (an int, negative, or tuples of one or two)")


def _value_and_grad(x, has_aux=False, scalar=True, pair=True):
    def loss(a):
        value = (slope.sin(a) * a).sum() if scalar else slope.sin(a) * a
        if not has_aux:
            return value
        return (value, a * 2.0) if pair else value

    out, g = slope.value_and_grad(loss, has_aux=has_aux)(x)
    return (*out, g) if has_aux else (out, g)


def _value_and_grad_ref(x, has_aux=False, **_):
    value = np.asarray(np.sum(_f_np(x))).astype(x.dtype)
    aux = (_wide(x) * 2.0).astype(x.dtype)
    g = _df_np(x).astype(x.dtype)
    return (value, aux, g) if has_aux else (value, g)


def _value_and_grad_sample(draw, dtype):
    _, (x,) = _x_and(draw, dtype)
    return [x], {"has_aux": S.draw_bool(draw)}


_ERR_VALUE_AND_GRAD = [
    ErrorInput([_F32], {"scalar": False}, TransformError,
               r"value_and_grad\(loss\): f must return a float scalar \(shape \(\)\), got f32\[3\]"),
    ErrorInput([_F32], {"has_aux": True, "pair": False}, TransformError,
               r"value_and_grad\(loss\): has_aux=True requires f to return a pair \(value, aux\), got f32\[\]"),
]
op("value_and_grad", _value_and_grad, _value_and_grad_ref, _value_and_grad_sample, multiple_results=True,
   error_inputs=_cases(_ERR_VALUE_AND_GRAD), doc="slope.value_and_grad of sum(sin(x) x), with has_aux (aux = 2 x) or without")


# ---------------------------------------------------------------- vmap


def _vmap(x, y, in_axes=(0, 0), out_axes=0, pair=False, as_dict=False):
    """as_dict: the two arguments in one dict {"a": x, "b": y}, in_axes given for it as a dict too."""
    def f(a, b):
        return (slope.sin(a) * b.sum(), a) if pair else slope.sin(a) * b.sum()

    if as_dict:
        if isinstance(in_axes, tuple) and not any(isinstance(d, dict) for d in in_axes):
            in_axes = ({"b": in_axes[1], "a": in_axes[0]},)  # keys in another order than the argument's
        return slope.vmap(lambda d: f(d["a"], d["b"]), in_axes=in_axes, out_axes=out_axes)({"a": x, "b": y})
    return slope.vmap(f, in_axes=in_axes, out_axes=out_axes)(x, y)


def _vmap_ref(x, y, in_axes=(0, 0), out_axes=0, **_):
    ax, ay = in_axes if isinstance(in_axes, tuple) else (in_axes, in_axes)
    n = x.shape[ax] if ax is not None else y.shape[ay]
    rows = [np.sin(_wide(x if ax is None else np.take(x, k, ax))) * np.sum(_wide(y if ay is None else np.take(y, k, ay)))
            for k in range(n)]
    return np.moveaxis(np.stack(rows), 0, out_axes).astype(x.dtype)


def _vmap_sample(draw, dtype):
    in_axes = S.sampled(draw, [(0, 0), (1, -1), (None, 1), (-1, None), 1])
    shape = S.sampled(draw, [(2, 2), (2, 2, 2)])
    out_axes = S.sampled(draw, [0, -1, 1])
    as_dict = S.sampled(draw, [False, True])
    return ([_array(draw, shape, dtype), _array(draw, shape, dtype)],
            {"in_axes": in_axes, "out_axes": out_axes, "as_dict": as_dict})


_M = np.ones((2, 3), np.float32)
_ERR_VMAP = [
    ErrorInput([_M, _M], {"in_axes": 0.5}, ArgumentError, r"vmap: in_axes: an axis must be an int or None .*got float 0\.5"),
    ErrorInput([_M, _M], {"out_axes": "0"}, ArgumentError, r"vmap: out_axes: an axis must be an int or None .*got str"),
    ErrorInput([_M, _M], {"in_axes": (0,)}, TransformError, r"vmap: in_axes has 1 entries but the function got 2 arguments"),
    ErrorInput([_M, _M], {"in_axes": (0, 2)}, TransformError, r"vmap: in_axes 2 out of range for an argument of shape \(2, 3\)"),
    ErrorInput([_M, _M], {"in_axes": (-3, 0)}, TransformError, r"vmap: in_axes -3 out of range"),
    ErrorInput([_M, _M], {"in_axes": (None, None)}, TransformError, r"vmap: at least one argument must be mapped"),
    ErrorInput([_M, _M], {"in_axes": (0, 1)}, TransformError, r"vmap: mapped axes have different sizes \[2, 3\]"),
    ErrorInput([_M, _M], {"in_axes": ((0,), 0)}, TransformError, r"vmap: in_axes \(0,\) does not match a single array"),
    ErrorInput([_M, _M], {"out_axes": (0,), "pair": True}, TransformError,
               r"vmap: out_axes \(0,\) does not match the structure"),
    ErrorInput([_M, _M], {"in_axes": ({"a": 0, "c": 0},), "as_dict": True}, TransformError,
               r"vmap: in_axes \{'a': 0, 'c': 0\} does not match the structure"),
    ErrorInput([_M, _M], {"out_axes": 2}, TransformError, r"vmap: out_axes 2 out of range"),
    ErrorInput([_M, _M], {"out_axes": None}, TransformError, r"vmap: out_axes=None but an output is batched"),
]
op("vmap", _vmap, _vmap_ref, _vmap_sample, error_inputs=_cases(_ERR_VMAP),
   doc="slope.vmap of sin(a) sum(b) over in_axes (ints, negative, None for one argument; a dict for a dict argument) to out_axes")


# ---------------------------------------------------------------- jacfwd, jacrev, hessian


def _g(x):
    """sin(x) sum(x): every element of the output depends on every input."""
    return slope.sin(x) * x.sum()


def _jac_ref(x, **_):
    w = _wide(x).reshape(-1)
    jac = np.diag(np.cos(w) * w.sum()) + np.sin(w)[:, None]
    return jac.reshape(x.shape + x.shape).astype(x.dtype)


def _argnums(argnums):
    return {} if argnums == "default" else {"argnums": argnums}


def _jacfwd(x, argnums="default"):
    return slope.jacfwd(_g, **_argnums(argnums))(x)


def _jacrev(x, argnums="default", pair=False):
    return slope.jacrev(lambda a: (_g(a), a) if pair else _g(a), **_argnums(argnums))(x)


def _jac_sample(draw, dtype):
    _, (x,) = _x_and(draw, dtype)
    return [x], {"argnums": S.sampled(draw, ["default", 0, -1])}


def _jac_errors(name):
    return [
        ErrorInput([_I32], {}, DTypeError, rf"{name}: argument 0 has dtype int32; need floating point"),
        ErrorInput([_F32], {"argnums": 1}, TransformError, rf"{name}: argnums 1 out of range for 1 positional"),
        ErrorInput([_F32], {"argnums": True}, ArgumentError, rf"{name}: argnums must be an int, got True"),
        ErrorInput([_F32], {"argnums": (0,)}, ArgumentError, rf"{name}: argnums must be an int, got \(0,\)"),
    ]


op("jacfwd", _jacfwd, _jac_ref, _jac_sample, error_inputs=_cases(_jac_errors("jacfwd")),
   doc="slope.jacfwd of sin(x) sum(x): out.shape + x.shape")
op("jacrev", _jacrev, _jac_ref, _jac_sample, doc="slope.jacrev of sin(x) sum(x): out.shape + x.shape",
   error_inputs=_cases(_jac_errors("jacrev") + [
       ErrorInput([_F32], {"pair": True}, TransformError, r"jacrev: f must return a single tensor, got tuple")]))


def _h(x):
    return slope.sin(x).sum() * x.sum()


def _hessian(x, argnums="default"):
    return slope.hessian(_h, **_argnums(argnums))(x)


def _hessian_ref(x, **_):
    w = _wide(x).reshape(-1)
    c = np.cos(w)
    h = np.diag(-np.sin(w) * w.sum()) + c[:, None] + c[None, :]
    return h.reshape(x.shape + x.shape).astype(x.dtype)


op("hessian", _hessian, _hessian_ref, _jac_sample, error_inputs=_cases(_jac_errors("hessian")),
   doc="slope.hessian of sum(sin(x)) sum(x)")


# ---------------------------------------------------------------- jit


def _scaled(x, scale=1.0):
    return slope.sin(x) * x * scale


_JITTED = slope.jit(_scaled)  # one function across calls and examples: its caches persist, as a user's do


# make -> a misuse of slope.jit (the row's error inputs): building a jit, or calling one, wrongly
_JIT_MISUSES = {
    "bad_static": lambda x: slope.jit(_scaled, static_argnums="1"),
    "not_callable": lambda x: slope.jit("sin(x) * x"),
    "static_out_of_range": lambda x: slope.jit(_scaled, static_argnums=(2,))(x, 2.0),
    "static_tensor": lambda x: slope.jit(_scaled, static_argnums=1)(x, x),
    "static_unhashable": lambda x: slope.jit(_scaled, static_argnums=1)(x, [2.0]),
    "too_many_arguments": lambda x: _JITTED(x, 1.0, 2.0),
    "text_argument": lambda x: _JITTED(x, "two"),
}


def _jit(x, second="keyword", make="plain"):
    """Two calls of one jitted function, the first positional and the second with its scale passed
    another way: each must follow its own arguments (a cache keyed by the tensors alone would replay
    the first call's program)."""
    if make != "plain":
        _JIT_MISUSES[make](x)
    first = _JITTED(x)
    again = _JITTED(x, scale=2.0) if second == "keyword" else _JITTED(x, 2.0)
    return first, again


def _jit_ref(x, **_):
    f = _f_np(x)
    return f.astype(x.dtype), (2 * f).astype(x.dtype)


def _jit_sample(draw, dtype):
    _, (x,) = _x_and(draw, dtype)
    return [x], {"second": S.sampled(draw, ["keyword", "positional"])}


_ERR_JIT = [
    ErrorInput([_F32], {"make": "bad_static"}, ArgumentError, r"jit: static_argnums must be an int or a tuple of ints, got '1'"),
    ErrorInput([_F32], {"make": "not_callable"}, ArgumentError, r"jit: expected a function to compile, got str"),
    ErrorInput([_F32], {"make": "static_out_of_range"}, TransformError,
               r"jit\(_scaled\): static_argnums \(2,\) out of range: called with 2 positional arguments"),
    ErrorInput([_F32], {"make": "static_tensor"}, TransformError,
               r"jit\(_scaled\): argument 1 is static \(static_argnums\) but is a tensor f32\[3\]"),
    ErrorInput([_F32], {"make": "static_unhashable"}, TransformError,
               r"jit\(_scaled\): argument 1 is static \(static_argnums\) but list is not hashable"),
    ErrorInput([_F32], {"make": "too_many_arguments"}, TransformError,
               r"jit\(_scaled\): too many positional arguments \(called with 3 positional args\)"),
    ErrorInput([_F32], {"make": "text_argument"}, DTypeError,
               r"jit\(_scaled\): argument 'two' \(str\) is not a tensor: tensor: cannot make a tensor from str"),
]
op("jit", _jit, _jit_ref, _jit_sample, multiple_results=True, error_inputs=_cases(_ERR_JIT),
   doc="slope.jit of sin(x) x scale, called twice: positionally, then with scale=2 as a keyword or positional argument")
