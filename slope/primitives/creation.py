"""Creation primitives: operand-free ops that make a tensor from params (constants, iota)."""
from __future__ import annotations

import math

from slope import reference as ref
from slope.core import backend, jitlog, memory
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.core.tensor import Tensor
from slope.errors import DTypeError, ShapeError
from slope.primitives.rules import vmap_no_operands
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Exempt, Verify


def _check_shape(name, shape):
    if any((not isinstance(d, int)) or d < 0 for d in shape):
        raise ShapeError(f"{name}: shape must be non-negative ints, got {shape}")


def _full_rule(*, shape, value, dtype):
    _check_shape("full", shape)
    if not isinstance(value, (bool, int, float)):
        raise DTypeError(f"full: value must be a Python scalar, got {type(value).__name__}")
    problem = dt.scalar_misfit(value, dtype)
    if problem:
        raise DTypeError(f"full: {problem}")
    return [Aval(shape, dtype)]


_no_inputs = {"transpose": Exempt.NO_OPERANDS, "grad": Exempt.NO_OPERANDS, "jvp": Exempt.NO_OPERANDS}

full = register(Spec(
    name="full",
    vmap=vmap_no_operands("full"),
    eager=lambda **params: _full_impl(**params),  # defined below
    abstract_eval=_full_rule,
    reference=ref.full,
    jvp=lambda primals, tangents, **p: ([full.bind(**p)], [full.bind(**{**p, "value": 0})]),
    verify=Verify(dtypes=("float32", "float64", "int32", "int64", "uint32", "bool"), exempt=_no_inputs),
    error_inputs=lambda: [ErrorInput([], {"shape": (2, -1), "value": 1.0, "dtype": dt.float32}, ShapeError,
                                      "full: shape must be non-negative"),
                          ErrorInput([], {"shape": (2,), "value": "1", "dtype": dt.float32}, DTypeError,
                                     "full: value must be a Python scalar, got str"),
                          ErrorInput([], {"shape": (2,), "value": 300, "dtype": dt.uint8}, DTypeError,
                                     "full: .*300.*uint8")],
    doc="a tensor of `shape` filled with the Python scalar `value` (in range for the dtype); no operands",
))


def _iota_rule(*, shape, dimension, dtype):
    _check_shape("iota", shape)
    if not 0 <= dimension < len(shape):
        raise ShapeError(f"iota: dimension {dimension} out of range for shape {shape}")
    if dtype.is_bool:
        raise DTypeError("iota: dtype must be numeric, got bool")
    return [Aval(shape, dtype)]


iota = register(Spec(
    name="iota",
    vmap=vmap_no_operands("iota"),
    abstract_eval=_iota_rule,
    reference=ref.iota,
    jvp=lambda primals, tangents, **p: ([iota.bind(**p)], [full.bind(shape=p["shape"], value=0, dtype=p["dtype"])]),
    verify=Verify(dtypes=("float32", "float64", "int32", "int64", "uint32"), exempt=_no_inputs),
    error_inputs=lambda: [ErrorInput([], {"shape": (3,), "dimension": 1, "dtype": dt.int32}, ShapeError,
                                      "iota: dimension 1 out of range"),
                          ErrorInput([], {"shape": (3,), "dimension": 0, "dtype": dt.bool_}, DTypeError,
                                     "iota: dtype must be numeric, got bool")],
    doc="arange: 0, 1, 2, ... along `dimension`, broadcast to `shape`; no operands",
))


_small_constants: dict = {}


def _full_impl(*, shape, value, dtype):
    """Eager `full` is made on the host: compiling one module per fill value would cost 0.3 s each."""
    # 0 == 0.0 == -0.0 == False as dict keys: keep the type and the sign apart
    key = (shape, value, dtype, type(value), math.copysign(1.0, value) if isinstance(value, float) else 1.0)
    t = _small_constants.get(key)
    if t is None:
        import numpy as np

        _full_rule(shape=shape, value=value, dtype=dtype)  # the same errors as when staged
        memory.check("full", [Aval(shape, dtype)])  # before NumPy allocates it

        with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as in the compiled constant
            arr = np.full(shape, value, dtype=dtype.np)
        t = Tensor(backend.get().to_device(arr), Aval(shape, dtype))
        if jitlog.enabled():
            jitlog.host(f"full(shape={shape}, value={value!r}, dtype={dtype.name})", [t.aval],
                        "NumPy on the host, no IREE program")
        if arr.size <= 64 and len(_small_constants) < 4096:  # tensors are immutable: share small ones
            _small_constants[key] = t
    return [t]


