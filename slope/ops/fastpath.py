"""Eager fast path for Tensor operators (`x * 2`, `x + y`, `-x`, `x.exp()` ...).

The general route for `x * 2` is ops.mul -> _operands (promotion, broadcasting, and a Python
scalar turned into `full(shape, 2)`, which for 1M elements is a 4 MB host array copied to the
device on every call) -> two `bind`s through the trace machinery -> Spec.impl. When no
transformation is staging (`trace.dynamic_trace is None`) and both operands are concrete, bind
always ends in eager evaluation, so for the common cases the operators here go straight to a
cached executable:

  * Tensor op Tensor with equal shape and dtype: the primitive's own eager executable
    (shared with Spec.impl), called directly;
  * Tensor op Python scalar whose weak type keeps the tensor's dtype: an executable taking the
    tensor and a 0-d scalar buffer that it broadcasts inside (`full` fused into the op); the
    0-d buffers are cached per value;
  * unary ops on a float (or, for neg/abs, any) tensor: the primitive's eager executable.

Everything else (promotion, broadcasting, tracers, odd operand types) and any failure while
building a fast entry falls back to the general method, so results and errors are the same.
"""
from __future__ import annotations

import numpy as np

from slope.backends.iree import runtime as _runtime
from slope.backends.iree.compile import compile_module
from slope.backends.iree.lowering import lower_program
from slope.core import dtypes as dt, jitlog, trace as _trace
from slope.core.aval import Aval
from slope.core.dtypes import python_scalar
from slope.core.methods import TensorMethods
from slope.core.program import Eqn, Program, Var, print_program
from slope.ops.promotion import broadcast_shapes
from slope.primitives import REGISTRY

_SCALARS = (bool, int, float)
_MAX_SCALARS = 1024  # cached 0-d buffers per (executable); values beyond that are made per call
_INELIGIBLE = False

Tensor = None  # set by install()


def _spec(name):
    return REGISTRY[name]


def _eager_exe(spec, in_avals):
    """The executable Spec.impl uses for these avals (compiled and cached there if missing)."""
    key = (tuple(in_avals), ())
    exe = spec._eager_cache.get(key)
    if exe is None:
        exe = spec._eager_cache[key] = spec._compile_eager(key[0], {})
    return exe


def _broadcast_exe(spec, aval, other_aval, reflected, kind):
    """main(x: aval, y: other_aval) = spec(broadcast(x), broadcast(y)) with NumPy broadcasting,
    exactly the broadcast_in_dim ops.broadcast_to would bind (operands swapped when reflected);
    `y` 0-d is the `x op scalar` case. Lowered as that Program, so LOG_JIT prints it as slope IR."""
    shape = broadcast_shapes(aval.shape, other_aval.shape)
    ins = [Var(aval), Var(other_aval)]
    eqns, operands = [], []
    for v in ins:
        if v.aval.shape != shape:
            b = Var(Aval(shape, v.aval.dtype))
            lead = len(shape) - v.aval.ndim
            params = {"shape": shape, "broadcast_dimensions": tuple(range(lead, len(shape)))}
            eqns.append(Eqn(_spec("broadcast_in_dim"), [v], params, [b]))
            v = b
        operands.append(v)
    operands = operands[::-1] if reflected else operands
    outs = [Var(a) for a in spec.abstract_eval(*[v.aval for v in operands])]
    eqns.append(Eqn(spec, operands, {}, outs))
    program = Program(ins, eqns, outs, f"{spec.name}_{kind}")
    return compile_module(lower_program(program), program.name, program.in_avals, program.out_avals,
                          print_program(program))


def _weak_dtype_kept(value, dtype) -> bool:
    return dt.scalar_dtype(value, dtype) is dtype


def _make_binary(dunder, prim, reflected=False, float_only=False):
    """A Tensor operator `dunder` with the fast path for `prim` (falls back to TensorMethods)."""
    slow = getattr(TensorMethods, dunder)
    entries: dict = {}

    def build_scalar(aval, cls, value):
        if float_only and not aval.dtype.is_float:
            return _INELIGIBLE
        if not _weak_dtype_kept(value, aval.dtype):
            return _INELIGIBLE
        exe = _broadcast_exe(_spec(prim), aval, Aval((), aval.dtype), reflected, "scalar")
        return (exe, exe.out_avals[0], {})

    def build_tensor(aval, other_aval):
        if float_only and not aval.dtype.is_float:
            return _INELIGIBLE
        if other_aval == aval and not reflected:
            exe = _eager_exe(_spec(prim), (aval, aval))
        elif other_aval.dtype is aval.dtype:
            exe = _broadcast_exe(_spec(prim), aval, other_aval, reflected, "broadcast")
        else:
            return _INELIGIBLE  # dtype promotion: leave it to ops
        return (exe, exe.out_avals[0])

    def method(self, other):
        if _trace.dynamic_trace is None:
            cls = other.__class__
            if cls is Tensor:
                key = (self.aval, other.aval)
                e = entries.get(key)
                if e is None:
                    try:
                        e = build_tensor(self.aval, other.aval)
                    except Exception:  # e.g. shapes that do not broadcast: ops raises the error
                        e = _INELIGIBLE
                    if e is not None:
                        entries[key] = e
                if e:
                    return Tensor(e[0].call2(self._buf, other._buf), e[1])
            if isinstance(other, np.generic):  # np.float32(0.5) acts as 0.5 (dtypes.python_scalar)
                other = python_scalar(other)
                cls = other.__class__
            if cls is float or cls is int or cls is bool:
                key = (self.aval, cls)
                e = entries.get(key)
                if e is None:
                    try:
                        e = build_scalar(self.aval, cls, other)
                    except Exception:
                        e = _INELIGIBLE
                    if e is not None:
                        entries[key] = e
                if e:
                    exe, out_aval, scalars = e
                    sb = scalars.get(other)
                    if sb is None:
                        try:
                            with np.errstate(over="ignore"):  # 1e10 in float16 is inf, as on the general route
                                sb = _runtime.to_device(np.full((), other, dtype=self.aval.dtype.np))
                            if jitlog.enabled():
                                jitlog.host(f"scalar {other!r}", [Aval((), self.aval.dtype)],
                                            f"NumPy on the host: operand of {exe.name}")
                        except Exception:
                            return slow(self, other)  # e.g. an int too big for the dtype: same error as ops
                        # 0.0 and -0.0 are equal keys but different values; NaN never matches
                        if (cls is not float or (other == other and other != 0.0)) and len(scalars) < _MAX_SCALARS:
                            scalars[other] = sb
                    return Tensor(exe.call2(self._buf, sb), out_aval)
        return slow(self, other)

    method.__name__ = dunder
    method.__qualname__ = f"Tensor.{dunder}"
    method.__doc__ = slow.__doc__
    return method


def _make_unary(name, prim, float_only=True):
    slow = getattr(TensorMethods, name)
    entries: dict = {}

    def build(aval):
        if float_only and not aval.dtype.is_float:
            return _INELIGIBLE
        exe = _eager_exe(_spec(prim), (aval,))
        return (exe, exe.out_avals[0])

    def method(self):
        if _trace.dynamic_trace is None:
            aval = self.aval
            e = entries.get(aval)
            if e is None:
                try:
                    e = entries[aval] = build(aval)
                except Exception:
                    e = entries[aval] = _INELIGIBLE
            if e:
                return Tensor(e[0]([self._buf])[0], e[1])
        return slow(self)

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = slow.__doc__
    return method


# operator -> (primitive, reflected, float_only); each mirrors what slope.ops does for it
BINARY = {
    "__add__": ("add", False, False), "__radd__": ("add", True, False),
    "__sub__": ("sub", False, False), "__rsub__": ("sub", True, False),
    "__mul__": ("mul", False, False), "__rmul__": ("mul", True, False),
    "__truediv__": ("div", False, True), "__rtruediv__": ("div", True, True),  # ints divide as floats
    "__eq__": ("eq", False, False), "__ne__": ("ne", False, False),
    "__lt__": ("lt", False, False), "__le__": ("le", False, False),
    "__gt__": ("gt", False, False), "__ge__": ("ge", False, False),
}
UNARY = {
    "__neg__": ("neg", False), "__abs__": ("abs", False), "abs": ("abs", False),
    "exp": ("exp", True), "log": ("log", True), "sin": ("sin", True), "cos": ("cos", True),
    "tan": ("tan", True), "tanh": ("tanh", True), "sqrt": ("sqrt", True), "rsqrt": ("rsqrt", True),
    "sigmoid": ("logistic", True),
}


def install(tensor_cls):
    """Give the concrete Tensor class the fast operators (Tracers keep the general ones)."""
    global Tensor
    Tensor = tensor_cls
    for dunder, (prim, reflected, float_only) in BINARY.items():
        setattr(tensor_cls, dunder, _make_binary(dunder, prim, reflected, float_only))
    for name, (prim, float_only) in UNARY.items():
        setattr(tensor_cls, name, _make_unary(name, prim, float_only))
    tensor_cls.__hash__ = TensorMethods.__hash__  # defining __eq__ on a class would unset it
