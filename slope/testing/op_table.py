"""The public surface under the primitives' checks: one OpInfo per user-level op.

Users call `slope.softmax`, `x.var(1)`, `x[1:, None]`, `a @ b`, not primitives. Each OpInfo names a
public op, a NumPy reference written independently of slope's own composition, and a sampler in the
primitives' form; the harness then runs it through the same columns as a primitive (eager, jit,
vmap at every batch-dim placement, jvp, vjp, linearize and second order against float64 finite
differences, float64 on IREE, error inputs). `python -m slope verify --ops` prints these rows as the
"ops" rows; tests/properties/test_conformance.py runs them in the suite beside the primitives.

The samplers keep derivative checks off kinks and ties (ops with a subgradient convention are
checked there by tests/test_conventions.py), and draw mixed shapes for broadcasting and mixed dtypes
for promotion: the reference states the result dtype slope promises.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import slope
from slope.core import dtypes as dt
from slope.errors import DTypeError, OutOfBoundsError, ShapeError
from slope.primitives.spec import ErrorInput
from slope.primitives.verify import Exempt, Verify
from slope.testing.samplers import base as S
from slope.transforms.staging import make_program

FLOAT = ("float32", "float64")
NUMERIC = ("float32", "float64", "int32", "int64")
SHAPES = [(), (3,), (2, 3), (2, 1, 3)]
RANKED = [s for s in SHAPES if s]


@dataclass(frozen=True, eq=False)
class OpInfo:
    """A public op, presented to the harness with the parts of a primitive's Spec the checks read."""
    name: str  # "ops.<name>": a row of the ops table
    fn: Callable  # (*tensors, **params) -> Tensor or tuple of Tensors: the public call
    reference: Callable  # (*NumPy arrays, **params) -> array or tuple: the oracle
    sample: Callable  # (draw, dtype) -> (list of NumPy operands, params)
    dtypes: tuple = FLOAT
    differentiable: bool = True
    multiple_results: bool = False
    error_inputs: Optional[Callable] = None  # () -> list of ErrorInput
    doc: str = ""
    exempt: Optional[dict] = None  # more exemptions (check column -> Exempt member)
    verify: Verify = field(init=False)

    def __post_init__(self):
        exempt = dict(self.exempt or {})
        if not self.differentiable:
            exempt["grad"] = Exempt.ZERO_DERIVATIVE
        if self.error_inputs is None:
            exempt["error_inputs"] = Exempt.BAD_INPUTS_TESTED_APART
        object.__setattr__(self, "verify", Verify(dtypes=self.dtypes, exempt=exempt))

    def __repr__(self):
        return f"<op {self.name}>"

    # what the checks need of a Spec: the op is composed of verified primitives, which carry the rules
    jvp = vmap = "composed of primitives"
    transpose = None

    def bind(self, *xs, **params):
        out = self.fn(*xs, **params)
        return list(out) if self.multiple_results else out

    def abstract_eval(self, *avals, **params):
        """The op's output avals, from staging it (the shape check compares them to the oracle's)."""
        def outs(*xs):
            out = self.bind(*xs, **params)
            return list(out) if self.multiple_results else [out]

        program, _ = make_program(outs, list(avals), self.name)
        return program.out_avals


# ---------------------------------------------------------------- error inputs


def _f32(*shape):
    return np.ones(shape, np.float32)


_ERRORS = {  # op -> [ErrorInput]: what a user gets wrong, and the slope error that must name it
    "softmax": [ErrorInput([_f32(2, 3)], {"dim": 2}, OutOfBoundsError, r"softmax: dim 2 out of range for a 2-d")],
    "log_softmax": [ErrorInput([_f32(2)], {"dim": -2}, OutOfBoundsError, r"log_softmax: dim -2 out of range")],
    "sum": [ErrorInput([_f32(2, 3)], {"dim": 2, "keepdim": False}, OutOfBoundsError, r"sum: dim 2 out of range")],
    "max_dim": [ErrorInput([_f32(2, 3)], {"dim": 3, "keepdim": False}, OutOfBoundsError, r"max: dim 3 out of range")],
    "cumsum": [ErrorInput([_f32(2)], {"dim": 1}, OutOfBoundsError, r"cumsum: dim 1 out of range")],
    "add": [ErrorInput([_f32(2, 3), _f32(4)], {}, ShapeError, r"add: cannot broadcast operands f32\[2,3\], f32\[4\]")],
    "where": [ErrorInput([_f32(3), _f32(3), _f32(3)], {}, DTypeError, r"where: condition must be a bool tensor")],
    "topk": [ErrorInput([_f32(3)], {"k": 4, "dim": -1, "largest": True}, ShapeError, r"topk: k must be an int in \[0, 3\]")],
    "reshape": [ErrorInput([_f32(2, 3)], {"shape": (4, 2)}, ShapeError, r"reshape: cannot reshape f32\[2,3\]")],
    "permute": [ErrorInput([_f32(2, 3)], {"dims": (0, 0)}, ShapeError, r"permute: dims \(0, 0\) are not a permutation")],
    "transpose": [ErrorInput([_f32(2, 3)], {"dim0": 0, "dim1": 2}, OutOfBoundsError, r"transpose: dim 2 out of range")],
    "unsqueeze": [ErrorInput([_f32(2, 3)], {"dim": 4}, OutOfBoundsError, r"unsqueeze: dim 4 out of range")],
    "squeeze": [ErrorInput([_f32(2, 3)], {"dim": 2}, OutOfBoundsError, r"squeeze: dim 2 out of range")],
    "cat": [ErrorInput([_f32(2, 3), _f32(3, 2)], {"dim": 0}, ShapeError, r"cat: sizes must match except in dimension 0")],
    "stack": [ErrorInput([_f32(2), _f32(3)], {"dim": 0}, ShapeError, r"stack: expects tensors of equal shape")],
    "split": [ErrorInput([_f32(5)], {"split": 0, "dim": 0}, ShapeError, r"split: split_size must be positive")],
    "flip": [ErrorInput([_f32(2, 3)], {"dims": (0, 0)}, ShapeError, r"flip: dims \(0, 0\) repeat a dimension")],
    "narrow": [ErrorInput([_f32(5)], {"dim": 0, "start": 3, "length": 4}, ShapeError, r"narrow: start 3 and length 4")],
    "pad": [ErrorInput([_f32(3)], {"pad": (1,), "value": 0.0}, ShapeError, r"pad: pad must be an even number of ints")],
    "gather": [ErrorInput([_f32(3, 4), _f32(3, 4)], {"dim": 1}, DTypeError, r"gather: index tensors must have an integer")],
    "index_select": [ErrorInput([_f32(3, 4), np.zeros(2, np.int64)], {"dim": 2}, OutOfBoundsError,
                                r"index_select: dim 2 out of range")],
    "matmul": [ErrorInput([_f32(2, 3), _f32(4, 2)], {}, ShapeError, r"matmul: inner dimensions differ: f32\[2,3\], f32\[4,2\]")],
}


OPS: dict[str, OpInfo] = {}


def op(name, fn, reference, sample, **kw) -> OpInfo:
    if name in _ERRORS:
        kw["error_inputs"] = (lambda cases: lambda: list(cases))(_ERRORS[name])
    info = OpInfo(name=f"ops.{name}", fn=fn, reference=reference, sample=sample, **kw)
    if info.name in OPS:
        raise ValueError(f"{info.name} listed twice")
    OPS[info.name] = info
    return info


# ---------------------------------------------------------------- samplers


def _array(draw, shape, dtype, lo=-3.0, hi=3.0, fix=None):
    if dtype.is_int:
        return S.draw_array(draw, shape, dtype, -9, 9)
    return S.draw_array(draw, shape, dtype, lo, hi, fix)


def _distinct(draw, shape, dtype):
    """Values without ties (max/sort/topk derivatives and indices are then unambiguous)."""
    n = math.prod(shape)
    perm = S.draw_permutation(draw, n) if n else np.zeros(0, np.int64)
    return (perm.reshape(shape).astype(np.float64) * 0.37 - 1.0).astype(dtype.np)


def unary(lo=-3.0, hi=3.0, fix=None, shapes=SHAPES, params=None):
    def sample(draw, dtype):
        shape = S.draw_shape(draw, shapes)
        return [_array(draw, shape, dtype, lo, hi, fix)], dict(params(draw, shape) if params else {})
    return sample


def _dim(draw, shape, keepdim=False):
    p = {"dim": S.draw_int(draw, -len(shape), len(shape) - 1)}
    if keepdim:
        p["keepdim"] = S.draw_bool(draw)
    return p


# Broadcastable shape pairs (incl. 0-d, size-1 and rank mismatch): the promotion layer's job.
BROADCAST = [((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 3)), ((3,), ()), ((1, 3), (2, 1)), ((2, 3), (2, 3))]


def binary(lo=-3.0, hi=3.0, fix_x=None, fix_y=None, mixed=False):
    """Two operands of broadcastable shapes; `mixed`: the second is float64 when the first is float32."""
    def sample(draw, dtype):
        sx, sy = S.sampled(draw, BROADCAST)
        dy = dtype
        if mixed and dtype.name == "float32" and S.draw_bool(draw):
            dy = dt.float64
        return [_array(draw, sx, dtype, lo, hi, fix_x), _array(draw, sy, dy, lo, hi, fix_y)], {}
    return sample


def _category(d):
    return 0 if d.kind == "b" else 1 if d.kind in "iu" else 2


def _result_dtype(*arrays):
    """PyTorch's promotion, the rule slope promises: operands with dims decide the dtype; a 0-d
    operand only matters when its category (bool < int < float) is higher than theirs."""
    dims = [a.dtype for a in arrays if a.ndim]
    zero = [a.dtype for a in arrays if not a.ndim]
    if not dims or not zero:
        return np.result_type(*dims, *zero)
    top = max(map(_category, dims))
    higher = [d for d in zero if _category(d) > top]
    if higher:
        best = max(map(_category, higher))
        return np.result_type(*[d for d in higher if _category(d) == best])
    return np.result_type(*dims)


def _float_result(*arrays):
    """The dtype of a float op's result: the promoted dtype if it is a float, else float32."""
    d = _result_dtype(*arrays)
    return d if d.kind == "f" else np.dtype(np.float32)


# ---------------------------------------------------------------- elementwise and arithmetic


def _softmax_ref(x, dim=-1):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax_ref(x, dim=-1):
    m = np.max(x, axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


def _logsumexp_ref(x, dim=None, keepdim=False):
    m = np.max(x, axis=dim, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=dim, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dim) if dim is not None else out.reshape(())


def _sl(name):
    return lambda *xs, **p: getattr(slope, name)(*xs, **p)


op("relu", _sl("relu"), lambda x: np.maximum(x, 0).astype(x.dtype), unary(fix=S.away_from_zero))
op("sigmoid", _sl("sigmoid"), lambda x: (1 / (1 + np.exp(-x))).astype(x.dtype), unary())
op("softmax", _sl("softmax"), lambda x, dim: _softmax_ref(x, dim).astype(x.dtype),
   unary(shapes=RANKED, params=_dim))
op("log_softmax", _sl("log_softmax"), lambda x, dim: _log_softmax_ref(x, dim).astype(x.dtype),
   unary(shapes=RANKED, params=_dim))
op("logsumexp", _sl("logsumexp"), lambda x, dim, keepdim: _logsumexp_ref(x, dim, keepdim).astype(x.dtype),
   unary(shapes=RANKED, params=lambda d, s: _dim(d, s, keepdim=True)))
op("erf", _sl("erf"), lambda x: np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype), unary())

# operands on two interleaved grids never tie (a tie is a kink: tests/test_conventions.py checks it)
_APART = {"fix_x": lambda v: np.round(v * 2) / 2, "fix_y": lambda v: np.round(v * 2) / 2 + 0.25}

for _name, _ref, _kw in [
    ("add", np.add, {}), ("sub", np.subtract, {}), ("mul", np.multiply, {}),
    ("div", np.divide, {"fix_y": S.away_from_zero}),
    ("maximum", np.maximum, _APART), ("minimum", np.minimum, _APART),
]:
    op(_name, _sl(_name), (lambda r: lambda x, y: r(x.astype(_float_result(x, y)), y.astype(_float_result(x, y))))(_ref),
       binary(mixed=True, **_kw))

op("pow", _sl("pow"), lambda x, y: np.power(x.astype(_float_result(x, y)), y.astype(_float_result(x, y))),
   binary(lo=0.3, hi=2.5, mixed=True))
op("atan2", _sl("atan2"), lambda x, y: np.arctan2(x.astype(_float_result(x, y)), y.astype(_float_result(x, y))),
   binary(fix_x=S.away_from_zero, fix_y=S.away_from_zero))


def _int_binary(name, ref):
    def sample(draw, dtype):
        sx, sy = S.sampled(draw, BROADCAST)
        return [_array(draw, sx, dtype), _array(draw, sy, dtype)], {}
    op(f"{name}_int", _sl(name), ref, sample, dtypes=("int32", "int64"), differentiable=False)


_int_binary("add", lambda x, y: np.add(x, y))
_int_binary("mul", lambda x, y: np.multiply(x, y))


def _true_div_ref(x, y):
    return (x.astype(np.float64) / y.astype(np.float64)).astype(np.float32)


def _int_div_sample(draw, dtype):
    sx, sy = S.sampled(draw, BROADCAST)
    y = _array(draw, sy, dtype)
    return [_array(draw, sx, dtype), np.where(y == 0, 3, y).astype(dtype.np)], {}


op("div_int", _sl("div"), _true_div_ref, _int_div_sample, dtypes=("int32", "int64"), differentiable=False,
   doc="true division of integers gives the default float dtype (PyTorch's rule)")


def _scalar_sample(draw, dtype):
    shape = S.draw_shape(draw)
    c = S.sampled(draw, [2, -3, 0.5, -1.25, 1e-5, 3e4])
    return [_array(draw, shape, dtype)], {"c": c, "op": S.sampled(draw, ["add", "sub", "mul", "rsub", "rmul"])}


def _with_scalar(x, c, op):
    return {"add": lambda: x + c, "sub": lambda: x - c, "mul": lambda: x * c, "rsub": lambda: c - x,
            "rmul": lambda: c * x}[op]()


op("scalar_arithmetic", _with_scalar,
   lambda x, c, op: np.asarray(_with_scalar(x, x.dtype.type(c), op)).astype(x.dtype), _scalar_sample,
   doc="a tensor and a Python scalar: the tensor's dtype wins (Python numbers are weakly typed)")


def _clamp_sample(draw, dtype):
    shape = S.draw_shape(draw)
    x = _array(draw, shape, dtype)
    lo = S.sampled(draw, [-1.5, -0.25, None])
    hi = S.sampled(draw, [0.75, 2.0, None] if lo is not None else [0.75, 2.0])
    bounds = [b for b in (lo, hi) if b is not None]
    x = np.where(np.isin(np.round(x.astype(np.float64), 6), bounds), x + 0.125, x).astype(x.dtype)
    return [x], {"min": lo, "max": hi}


op("clamp", _sl("clamp"), lambda x, min, max: np.clip(x, min, max).astype(x.dtype), _clamp_sample)


def _where_sample(draw, dtype):
    sx, sy = S.sampled(draw, BROADCAST)
    sc = S.sampled(draw, [sx, sy, ()])
    cond = S.draw_array(draw, sc, dt.bool_)
    return [cond, _array(draw, sx, dtype), _array(draw, sy, dtype)], {}


op("where", _sl("where"), lambda c, x, y: np.where(c, x, y), _where_sample)

# ---------------------------------------------------------------- reductions


def _reduce_sample(distinct=False):
    def sample(draw, dtype):
        shape = S.draw_shape(draw, RANKED)
        x = _distinct(draw, shape, dtype) if distinct else _array(draw, shape, dtype)
        ndim = len(shape)
        dim = S.sampled(draw, [None, S.draw_int(draw, -ndim, ndim - 1), tuple(range(ndim))])
        return [x], {"dim": dim, "keepdim": S.draw_bool(draw)}
    return sample


def _np_reduce(f):
    return lambda x, dim, keepdim: np.asarray(f(x, axis=dim, keepdims=keepdim)).astype(x.dtype)


op("sum", _sl("sum"), _np_reduce(np.sum), _reduce_sample())
op("mean", _sl("mean"), _np_reduce(np.mean), _reduce_sample())
op("prod", _sl("prod"), _np_reduce(np.prod), _reduce_sample())
op("amax", _sl("amax"), _np_reduce(np.max), _reduce_sample(distinct=True))
op("amin", _sl("amin"), _np_reduce(np.min), _reduce_sample(distinct=True))
op("sum_int", _sl("sum"), lambda x, dim, keepdim: np.sum(x, axis=dim, keepdims=keepdim).astype(np.int64),
   _reduce_sample(), dtypes=("int32", "int64"), differentiable=False)


def _dim_sample(distinct=True, keepdim=True):
    def sample(draw, dtype):
        shape = S.draw_shape(draw, RANKED)
        x = _distinct(draw, shape, dtype) if distinct else _array(draw, shape, dtype)
        p = {"dim": S.draw_int(draw, -len(shape), len(shape) - 1)}
        if keepdim:
            p["keepdim"] = S.draw_bool(draw)
        return [x], p
    return sample


def _max_dim_ref(x, dim, keepdim):
    i = np.argmax(x, axis=dim)
    v = np.max(x, axis=dim)
    if keepdim:
        v, i = np.expand_dims(v, dim), np.expand_dims(i, dim)
    return v, i.astype(_index_dtype())


def _index_dtype():
    return np.dtype(np.int64)  # PyTorch's index dtype


op("max_dim", lambda x, dim, keepdim: tuple(slope.max(x, dim=dim, keepdim=keepdim)), _max_dim_ref,
   _dim_sample(), multiple_results=True, doc="(values, indices) along dim")
op("argmax", lambda x, dim, keepdim: slope.argmax(x, dim=dim, keepdim=keepdim),
   lambda x, dim, keepdim: (np.expand_dims(np.argmax(x, axis=dim), dim) if keepdim else np.argmax(x, axis=dim))
   .astype(_index_dtype()), _dim_sample(), differentiable=False, dtypes=("float32", "float64", "int32"))
op("cumsum", lambda x, dim: slope.cumsum(x, dim=dim), lambda x, dim: np.cumsum(x, axis=dim).astype(x.dtype),
   _dim_sample(distinct=False, keepdim=False))


def _sort_ref(x, dim, descending):
    i = np.argsort(-x if descending else x, axis=dim, kind="stable")
    return np.take_along_axis(x, i, axis=dim), i.astype(_index_dtype())


def _sort_sample(draw, dtype):
    x, p = _dim_sample(keepdim=False)(draw, dtype)
    return x, {**p, "descending": S.draw_bool(draw)}


op("sort", lambda x, dim, descending: tuple(slope.sort(x, dim=dim, descending=descending)), _sort_ref,
   _sort_sample, multiple_results=True)


def _topk_sample(draw, dtype):
    shape = S.draw_shape(draw, RANKED)
    dim = S.draw_int(draw, -len(shape), len(shape) - 1)
    k = S.draw_int(draw, 1, shape[dim])
    return [_distinct(draw, shape, dtype)], {"k": k, "dim": dim, "largest": S.draw_bool(draw)}


def _topk_ref(x, k, dim, largest):
    i = np.argsort(-x if largest else x, axis=dim, kind="stable")
    i = np.take(i, np.arange(k), axis=dim)
    return np.take_along_axis(x, i, axis=dim), i.astype(_index_dtype())


op("topk", lambda x, k, dim, largest: tuple(slope.topk(x, k, dim=dim, largest=largest)), _topk_ref,
   _topk_sample, multiple_results=True)

# ---------------------------------------------------------------- shape


def _reshape_sample(draw, dtype):
    shape, new = S.sampled(draw, [((2, 3), (3, 2)), ((2, 3), (-1,)), ((2, 1, 3), (3, -1)), ((3,), (1, 3, 1)),
                                  ((), (1,)), ((2, 3), (6, 1))])
    return [_array(draw, shape, dtype)], {"shape": new}


op("reshape", lambda x, shape: x.reshape(*shape), lambda x, shape: x.reshape(shape), _reshape_sample)


def _permute_sample(draw, dtype):
    shape = S.sampled(draw, [(2, 3), (2, 1, 3), (2, 3, 4)])
    dims = S.draw_dims_permutation(draw, len(shape))
    if S.draw_bool(draw):
        dims = tuple(d - len(shape) for d in dims)
    return [_array(draw, shape, dtype)], {"dims": dims}


op("permute", lambda x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims), _permute_sample)


def _transpose_sample(draw, dtype):
    shape = S.draw_shape(draw, [(2, 3), (2, 1, 3)])
    return [_array(draw, shape, dtype)], {"dim0": S.draw_int(draw, -len(shape), len(shape) - 1),
                                          "dim1": S.draw_int(draw, 0, len(shape) - 1)}


op("transpose", lambda x, dim0, dim1: x.transpose(dim0, dim1), lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
   _transpose_sample)


def _flatten_sample(draw, dtype):
    shape = S.draw_shape(draw, [(2, 3), (2, 1, 3), (2, 3, 2)])
    a = S.draw_int(draw, 0, len(shape) - 1)
    b = S.draw_int(draw, a, len(shape) - 1)
    return [_array(draw, shape, dtype)], {"start_dim": a, "end_dim": b - len(shape) if S.draw_bool(draw) else b}


def _flatten_ref(x, start_dim, end_dim):
    end = end_dim % x.ndim
    return x.reshape(x.shape[:start_dim] + (-1,) + x.shape[end + 1:])


op("flatten", lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim), _flatten_ref, _flatten_sample)


def _unsqueeze_sample(draw, dtype):
    shape = S.draw_shape(draw)
    return [_array(draw, shape, dtype)], {"dim": S.draw_int(draw, -len(shape) - 1, len(shape))}


op("unsqueeze", lambda x, dim: x.unsqueeze(dim), lambda x, dim: np.expand_dims(x, dim), _unsqueeze_sample)
op("squeeze", lambda x, dim: x.squeeze(dim), lambda x, dim: np.squeeze(x, dim) if x.shape[dim] == 1 else x,
   unary(shapes=[(2, 1, 3), (1, 3), (1,)], params=lambda d, s: {"dim": S.draw_int(d, -len(s), len(s) - 1)}))


def _expand_sample(draw, dtype):
    shape, target = S.sampled(draw, [((1, 3), (2, 3)), ((3,), (2, 3)), ((2, 1, 3), (2, 4, 3)), ((), (2,)),
                                     ((1, 3), (-1, 3))])
    return [_array(draw, shape, dtype)], {"shape": target}


op("expand", lambda x, shape: x.expand(*shape), lambda x, shape: np.broadcast_to(
    x, tuple(x.shape[i - len(shape) + x.ndim] if s == -1 else s for i, s in enumerate(shape))).copy(), _expand_sample)


def _cat_sample(draw, dtype):
    base = S.draw_shape(draw, RANKED)
    dim = S.draw_int(draw, -len(base), len(base) - 1)
    n = S.draw_int(draw, 1, 3)
    xs = []
    for _ in range(n):
        s = list(base)
        s[dim] = S.draw_int(draw, 0, 3)
        xs.append(_array(draw, tuple(s), dtype))
    return xs, {"dim": dim}


op("cat", lambda *xs, dim: slope.cat(list(xs), dim=dim), lambda *xs, dim: np.concatenate(xs, axis=dim),
   _cat_sample)


def _stack_sample(draw, dtype):
    shape = S.draw_shape(draw)
    n = S.draw_int(draw, 1, 3)
    return [_array(draw, shape, dtype) for _ in range(n)], {"dim": S.draw_int(draw, -len(shape) - 1, len(shape))}


op("stack", lambda *xs, dim: slope.stack(list(xs), dim=dim), lambda *xs, dim: np.stack(xs, axis=dim),
   _stack_sample)


def _split_sample(draw, dtype):
    shape = S.sampled(draw, [(5,), (2, 5), (4, 3)])
    dim = S.draw_int(draw, 0, len(shape) - 1)
    size = S.sampled(draw, [1, 2, 3, (1, shape[dim] - 1)])
    return [_array(draw, shape, dtype)], {"split": size, "dim": dim}


def _split_ref(x, split, dim):
    n = x.shape[dim]
    if isinstance(split, int):
        cuts = list(range(split, n, split))
    else:
        cuts = list(np.cumsum(split)[:-1])
    return tuple(np.split(x, cuts, axis=dim))


op("split", lambda x, split, dim: tuple(slope.split(x, split, dim=dim)), _split_ref, _split_sample,
   multiple_results=True)


def _flip_sample(draw, dtype):
    shape = S.draw_shape(draw, RANKED)
    return [_array(draw, shape, dtype)], {"dims": S.draw_axes(draw, len(shape))}


op("flip", lambda x, dims: x.flip(dims), lambda x, dims: np.flip(x, dims), _flip_sample)


def _narrow_sample(draw, dtype):
    shape = S.draw_shape(draw, [(5,), (2, 5), (4, 3)])
    dim = S.draw_int(draw, 0, len(shape) - 1)
    start = S.draw_int(draw, -shape[dim], shape[dim] - 1)
    length = S.draw_int(draw, 0, shape[dim] - start % shape[dim])
    return [_array(draw, shape, dtype)], {"dim": dim, "start": start, "length": length}


op("narrow", lambda x, dim, start, length: x.narrow(dim, start, length),
   lambda x, dim, start, length: np.take(x, np.arange(start % x.shape[dim], start % x.shape[dim] + length), axis=dim),
   _narrow_sample)


def _pad_sample(draw, dtype):
    shape = S.draw_shape(draw, [(3,), (2, 3), (2, 1, 3)])
    k = S.draw_int(draw, 1, len(shape))
    widths = tuple(S.draw_int(draw, 0, 2) for _ in range(2 * k))
    return [_array(draw, shape, dtype)], {"pad": widths, "value": S.sampled(draw, [0.0, -1.5])}


def _pad_ref(x, pad, value):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(x, widths, constant_values=value)


op("pad", lambda x, pad, value: slope.pad(x, pad, value=value), _pad_ref, _pad_sample,
   doc="PyTorch's F.pad order: (last dim low, last dim high, second-to-last low, ...)")

# ---------------------------------------------------------------- indexing

INDEXES = [  # x[idx] for x of shape (3, 4, 2): basic indexing, as users write it
    (1,), (-1,), (slice(None, None, -1),), (slice(1, None),), (slice(None), 2), (Ellipsis, 0), (None, 1),
    (slice(0, 3, 2), slice(None), 1), (1, slice(1, 3), None), (Ellipsis, None, slice(None, None, 2)),
    (slice(-2, None), -3, 1), (slice(5, 9),),
]


def _getitem_sample(draw, dtype):
    return [_array(draw, (3, 4, 2), dtype)], {"index": S.sampled(draw, range(len(INDEXES)))}


op("getitem", lambda x, index: x[INDEXES[index]], lambda x, index: np.asarray(x[INDEXES[index]]).copy(),
   _getitem_sample, doc="basic indexing: ints (negative too), slices with steps, None, Ellipsis")


def _advanced_sample(draw, dtype):
    idx = S.draw_array(draw, S.sampled(draw, [(2,), (2, 2), ()]), dt.int64, -3, 2)
    return [_array(draw, (3, 4), dtype), idx], {"where": S.sampled(draw, ["first", "second"])}


def _advanced(x, idx, where):
    return x[idx] if where == "first" else x[:, idx]


op("getitem_tensor", _advanced, lambda x, idx, where: np.asarray(_advanced(x, idx, where)).copy(), _advanced_sample,
   doc="integer-tensor indexing, negative indices wrap")


def _take_along_sample(draw, dtype):
    shape = S.draw_shape(draw, [(3, 4), (2, 3, 2)])
    dim = S.draw_int(draw, 0, len(shape) - 1)
    ishape = list(shape)
    ishape[dim] = S.draw_int(draw, 1, 3)
    return [_array(draw, shape, dtype), S.draw_array(draw, tuple(ishape), dt.int64, 0, shape[dim] - 1)], {"dim": dim}


op("take_along_dim", lambda x, i, dim: slope.take_along_dim(x, i, dim=dim),
   lambda x, i, dim: np.take_along_axis(x, i, axis=dim), _take_along_sample)
op("gather", lambda x, i, dim: slope.gather(x, dim, i), lambda x, i, dim: np.take_along_axis(x, i, axis=dim),
   _take_along_sample)


def _index_select_sample(draw, dtype):
    shape = S.draw_shape(draw, [(3, 4), (2, 3, 2)])
    dim = S.draw_int(draw, 0, len(shape) - 1)
    n = S.draw_int(draw, 0, 4)
    return [_array(draw, shape, dtype), S.draw_array(draw, (n,), dt.int64, 0, shape[dim] - 1)], {"dim": dim}


op("index_select", lambda x, i, dim: slope.index_select(x, dim, i), lambda x, i, dim: np.take(x, i, axis=dim),
   _index_select_sample)

# ---------------------------------------------------------------- linear algebra


def _matmul_sample(draw, dtype):
    sa, sb = S.sampled(draw, [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
                              ((2, 2, 3), (2, 3, 1)), ((1, 2, 3), (4, 3, 2)), ((2, 1, 2, 3), (3, 3, 2))])
    return [_array(draw, sa, dtype, -2, 2), _array(draw, sb, dtype, -2, 2)], {}


op("matmul", lambda a, b: a @ b, lambda a, b: np.matmul(a, b), _matmul_sample,
   dtypes=("float32", "float64", "int32"),
   doc="@: vectors, matrices and broadcast batches (NumPy/PyTorch rules)")
op("outer", _sl("outer"), lambda a, b: np.outer(a, b),
   lambda draw, dtype: ([_array(draw, (3,), dtype), _array(draw, (S.draw_int(draw, 1, 3),), dtype)], {}))

# ---------------------------------------------------------------- found by ci/torch_differential.py (issue #15)


def _signs(v):
    """+-1 per column: the sign of each column's first largest-magnitude entry (slope's canonical vectors)."""
    i = np.argmax(np.abs(v), axis=-2)
    return np.sign(np.take_along_axis(v, i[..., None, :], axis=-2))


def _orth(draw, n):
    g = S.draw_array(draw, (n, n), dt.float64, -1.0, 1.0).astype(np.float64) + 2.0 * np.eye(n)
    q, r = np.linalg.qr(g)
    return q * np.sign(np.diag(r))



def _sym_sample(draw, dtype):
    shape = S.sampled(draw, [(2, 2), (3, 3), (2, 3, 3)])
    n = shape[-1]
    mats = [(_orth(draw, n) @ np.diag(np.arange(n) * 0.8 - 1.0 + S.draw_array(draw, (n,), dt.float64, 0, 0.1))
             @ _orth(draw, n).T) for _ in range(int(np.prod(shape[:-2])))]
    mats = [(m + m.T) / 2 for m in mats]
    return [np.stack(mats).reshape(shape).astype(dtype.np)], {}


def _sep_sample(draw, dtype):
    shape = S.sampled(draw, [(2, 2), (3, 2), (2, 3), (2, 3, 2)])
    m, n = shape[-2:]
    k = min(m, n)
    mats = [_orth(draw, m)[:, :k] @ np.diag(0.6 + 0.7 * np.arange(k)[::-1] + S.draw_array(draw, (k,), dt.float64, 0, 0.1))
            @ _orth(draw, n)[:, :k].T for _ in range(int(np.prod(shape[:-2])))]
    return [np.stack(mats).reshape(shape).astype(dtype.np)], {}


def _eigh_ref(a):
    """On the symmetric part: slope's linalg.eigh has the symmetric gradient (PyTorch's), the value of the lower
    triangle (equal for the symmetric samples)."""
    a64 = a.astype(np.float64)
    w, v = np.linalg.eigh((a64 + np.swapaxes(a64, -1, -2)) / 2)
    return w.astype(a.dtype), (v * _signs(v)).astype(a.dtype)


def _svd_ref(a):
    u, s, vh = np.linalg.svd(a.astype(np.float64), full_matrices=False)
    sg = _signs(u)
    return (u * sg).astype(a.dtype), s.astype(a.dtype), (vh * np.swapaxes(sg, -1, -2)).astype(a.dtype)


op("linalg.eigh", lambda a: tuple(slope.linalg.eigh(a)), _eigh_ref, _sym_sample, multiple_results=True,
   doc="eigenvalues ascending, eigenvectors with their largest entry positive (Jacobi)")
op("linalg.eigvalsh", lambda a: slope.linalg.eigvalsh(a),
   lambda a: np.linalg.eigvalsh((a + np.swapaxes(a, -1, -2)).astype(np.float64) / 2).astype(a.dtype), _sym_sample)
op("linalg.svd", lambda a: tuple(slope.linalg.svd(a, full_matrices=False)), _svd_ref, _sep_sample,
   multiple_results=True, doc="thin SVD, S descending, U's columns with their largest entry positive (Jacobi)")
op("linalg.svdvals", lambda a: slope.linalg.svdvals(a),
   lambda a: np.linalg.svd(a.astype(np.float64), compute_uv=False).astype(a.dtype), _sep_sample)
op("linalg.pinv", lambda a: slope.linalg.pinv(a), lambda a: np.linalg.pinv(a.astype(np.float64)).astype(a.dtype),
   _sep_sample)


def _norm_ord_sample(draw, dtype):
    x, _ = _sep_sample(draw, dtype)
    return x, {"ord": S.sampled(draw, ["nuc", 2, -2])}


op("linalg.matrix_norm_svd", lambda a, ord: slope.linalg.matrix_norm(a, ord),
   lambda a, ord: np.linalg.norm(a.astype(np.float64), ord, axis=(-2, -1)).astype(a.dtype), _norm_ord_sample)


def _qr_ref(a):
    """Householder QR by hand (LAPACK's reflections: R[k, k] = -sign(a_kk) * norm), in float64."""
    a = a.astype(np.float64)
    m, n = a.shape[-2:]
    k = min(m, n)

    def one(x):
        r, q = x.copy(), np.eye(m)
        for j in range(min(k, m - 1)):
            col = r[j:, j]
            if not np.any(col[1:]):
                continue
            beta = -np.copysign(np.linalg.norm(col), col[0])
            v = col.copy()
            v[0] -= beta
            v /= v[0]
            tau = (beta - col[0]) / beta
            r[j:, :] -= tau * np.outer(v, v @ r[j:, :])
            q[:, j:] -= tau * np.outer(q[:, j:] @ v, v)
        return q[:, :k], np.triu(r)[:k]

    outs = [one(x) for x in a.reshape((-1, m, n))]
    return (np.stack([o[0] for o in outs]).reshape(a.shape[:-2] + (m, k)),
            np.stack([o[1] for o in outs]).reshape(a.shape[:-2] + (k, n)))


def _qr_sample(draw, dtype):
    """Entries away from 0 plus 3 on the diagonal: each reflected column has a nonzero part below the diagonal
    and a leading entry of fixed sign (LAPACK's sign choice, and the identity reflection when that part is
    0, are kinks of QR as LAPACK defines it)."""
    shape = S.draw_shape(draw, [(3, 3), (4, 2), (2, 3), (2, 3, 2)])
    x = S.draw_array(draw, shape, dtype, -1.0, 1.0, lambda v: np.where(np.abs(v) < 0.25, 0.25 + np.abs(v), v))
    m, n = shape[-2:]
    return [(x + 3 * np.eye(m, n)).astype(dtype.np)], {}


op("linalg.qr", lambda a: tuple(slope.linalg.qr(a)),
   lambda a: tuple(o.astype(a.dtype) for o in _qr_ref(a)), _qr_sample,
   multiple_results=True, doc="Householder QR with LAPACK's signs")
op("linalg.matrix_power", lambda a, n: slope.linalg.matrix_power(a, n),
   lambda a, n: np.linalg.matrix_power(a, n), unary(-1.0, 1.0, shapes=[(2, 2), (3, 3), (2, 2, 2)],
                                                     params=lambda d, s: {"n": S.sampled(d, [0, 1, 2, 3])}))


def _elementwise_ref(f):
    return lambda x: np.asarray(np.vectorize(f, otypes=[np.float64])(x.astype(np.float64))).astype(x.dtype)


def _digamma(v, n=40):
    """psi(v) by the recurrence to v + n and the asymptotic series (independent of slope's constants)."""
    s = 0.0
    if v < 0.5:
        return _digamma(1 - v) - math.pi / math.tan(math.pi * v)
    for _ in range(n):
        s -= 1 / v
        v += 1
    return (s + math.log(v) - 1 / (2 * v) - 1 / (12 * v ** 2) + 1 / (120 * v ** 4) - 1 / (252 * v ** 6)
            + 1 / (240 * v ** 8) - 1 / (132 * v ** 10))


op("erfc", _sl("erfc"), _elementwise_ref(math.erfc), unary(-2.5, 2.5))
op("lgamma", _sl("lgamma"), _elementwise_ref(math.lgamma), unary(0.2, 6.0))
op("lgamma_reflected", _sl("lgamma"), _elementwise_ref(math.lgamma),
   unary(-2.8, -0.2, fix=lambda v: np.where(np.abs(v - np.round(v)) < 0.1, v + 0.25, v)))
op("digamma", _sl("digamma"), _elementwise_ref(_digamma), unary(0.2, 8.0))
op("sinc", _sl("sinc"), lambda x: np.sinc(x.astype(np.float64)).astype(x.dtype), unary(fix=S.away_from_zero))
op("logit", _sl("logit"), _elementwise_ref(lambda v: math.log(v / (1 - v))), unary(0.05, 0.95))
op("deg2rad", _sl("deg2rad"), lambda x: np.deg2rad(x), unary())
op("copysign", _sl("copysign"), lambda x, y: np.copysign(x, y),
   binary(fix_x=S.away_from_zero, fix_y=S.away_from_zero))
op("fmax", _sl("fmax"), lambda x, y: np.fmax(x, y), binary(**_APART))
op("logaddexp2", _sl("logaddexp2"), lambda x, y: np.logaddexp2(x, y), binary())


def _cross_sample(draw, dtype):
    shape = S.sampled(draw, [(3,), (2, 3), (3, 2)])
    dim = next(i for i, s in enumerate(shape) if s == 3)
    return [_array(draw, shape, dtype), _array(draw, shape, dtype)], {"dim": dim}


op("cross", lambda x, y, dim: slope.cross(x, y, dim=dim), lambda x, y, dim: np.cross(x, y, axis=dim), _cross_sample)


def _diff_sample(draw, dtype):
    shape = S.draw_shape(draw, [(4,), (3, 4)])
    return [_array(draw, shape, dtype)], {"n": S.sampled(draw, [1, 2]), "dim": S.draw_int(draw, -len(shape), len(shape) - 1)}


op("diff", lambda x, n, dim: slope.diff(x, n=n, dim=dim), lambda x, n, dim: np.diff(x, n=n, axis=dim), _diff_sample,
   dtypes=NUMERIC)


def _rot90_sample(draw, dtype):
    shape = S.draw_shape(draw, [(2, 3), (2, 3, 2)])
    return [_array(draw, shape, dtype)], {"k": S.draw_int(draw, 0, 3), "dims": S.sampled(draw, [(0, 1), (1, 0)])}


op("rot90", lambda x, k, dims: slope.rot90(x, k, dims), lambda x, k, dims: np.rot90(x, k, dims).copy(), _rot90_sample)


def _tensor_split_sample(draw, dtype):
    shape = S.draw_shape(draw, [(5,), (2, 5)])
    return [_array(draw, shape, dtype)], {"sections": S.sampled(draw, [2, 3, (1, 3)]), "dim": len(shape) - 1}


op("tensor_split", lambda x, sections, dim: tuple(slope.tensor_split(x, sections, dim)),
   lambda x, sections, dim: tuple(a.copy() for a in np.array_split(x, sections if isinstance(sections, int)
                                                                   else list(sections), axis=dim)),
   _tensor_split_sample, multiple_results=True)
op("nansum", _sl("nansum"), lambda x: np.asarray(np.nansum(x)).astype(x.dtype), unary())


def _mode_sample(draw, dtype):
    shape = S.draw_shape(draw, [(5,), (2, 6)])
    x = S.draw_array(draw, shape, dtype, 0, 3)
    return [x], {"dim": S.draw_int(draw, -len(shape), len(shape) - 1)}


def _mode_ref(x, dim):
    xm = np.moveaxis(x, dim, -1)
    vals, idxs = [], []
    for row in xm.reshape(-1, xm.shape[-1]):
        u, c = np.unique(row, return_counts=True)
        v = u[np.argmax(c)]  # the smallest of the most frequent (np.unique sorts)
        vals.append(v)
        idxs.append(np.nonzero(row == v)[0][-1])
    return (np.array(vals, x.dtype).reshape(xm.shape[:-1]), np.array(idxs, np.int64).reshape(xm.shape[:-1]))


op("mode", lambda x, dim: tuple(slope.mode(x, dim)), _mode_ref, _mode_sample, multiple_results=True,
   dtypes=("int32", "int64"), differentiable=False, doc="the smallest most frequent value, at its last index")


def _int_acc_sample(draw, dtype):
    shape = S.draw_shape(draw, RANKED)
    return [S.draw_array(draw, shape, dtype, -9, 9)], {"op": S.sampled(draw, ["sum", "prod", "cumsum"])}


op("int_accumulate", lambda x, op: getattr(x, op)(0) if op == "cumsum" else getattr(x, op)(),
   lambda x, op: {"sum": np.sum, "prod": np.prod}[op](x, dtype=np.int64) if op != "cumsum"
   else np.cumsum(x, 0, dtype=np.int64), _int_acc_sample, dtypes=("int32", "int64"), differentiable=False,
   doc="integer sum/prod/cumsum accumulate in int64 (PyTorch)")

# ---------------------------------------------------------------- slope.nn.functional

from slope.testing import op_table_nn  # noqa: E402,F401  (registers the F.* rows in OPS)
from slope.testing import op_table_transforms  # noqa: E402,F401  (registers the transformation rows in OPS)
