"""The dtypes slope knows, with their NumPy and MLIR spellings and promotion rules."""
from __future__ import annotations

import math

import numpy as np

from slope.errors import ArgumentError, DeviceError, DTypeError

try:  # bfloat16 lives in ml_dtypes, which the IREE runtime already depends on
    import ml_dtypes

    _BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    _BF16 = None


class DType:
    """One scalar type. Compared by identity: there is exactly one object per dtype."""

    __slots__ = ("name", "short", "mlir", "np", "kind", "bits")

    def __init__(self, name, short, mlir, np_dtype, kind, bits):
        self.name, self.short, self.mlir, self.np, self.kind, self.bits = name, short, mlir, np_dtype, kind, bits

    is_float = property(lambda self: self.kind == "f")
    is_int = property(lambda self: self.kind in "iu")
    is_unsigned = property(lambda self: self.kind == "u")
    is_bool = property(lambda self: self.kind == "b")

    def __repr__(self):
        return f"slope.{self.name}"

    def __reduce__(self):
        return (dtype, (self.name,))


float32 = DType("float32", "f32", "f32", np.dtype(np.float32), "f", 32)
float64 = DType("float64", "f64", "f64", np.dtype(np.float64), "f", 64)
float16 = DType("float16", "f16", "f16", np.dtype(np.float16), "f", 16)
bfloat16 = DType("bfloat16", "bf16", "bf16", _BF16, "f", 16)
int8 = DType("int8", "i8", "i8", np.dtype(np.int8), "i", 8)
int16 = DType("int16", "i16", "i16", np.dtype(np.int16), "i", 16)
int32 = DType("int32", "i32", "i32", np.dtype(np.int32), "i", 32)
int64 = DType("int64", "i64", "i64", np.dtype(np.int64), "i", 64)
uint8 = DType("uint8", "u8", "ui8", np.dtype(np.uint8), "u", 8)
uint32 = DType("uint32", "u32", "ui32", np.dtype(np.uint32), "u", 32)
bool_ = DType("bool", "bool", "i1", np.dtype(np.bool_), "b", 8)

ALL = [float32, float64, float16, bfloat16, int8, int16, int32, int64, uint8, uint32, bool_]
FLOATS = [float32, float64, float16, bfloat16]
INTS = [int8, int16, int32, int64, uint8, uint32]
_BY_NAME = {d.name: d for d in ALL}
_BY_NP = {d.np: d for d in ALL if d.np is not None}

default_float = float32
default_int = int64  # PyTorch: Python ints and index results are int64


_BY_SHORT = {d.short: d for d in ALL}

# Device names (PyTorch's device types and a few more): `.to("cuda")` is a device request, not a dtype.
DEVICES = ("cpu",)
DEVICE_TYPES = ("cpu", "cuda", "gpu", "mps", "xpu", "xla", "tpu", "hip", "rocm", "meta", "vulkan", "metal", "ipu",
                "hpu", "mtia", "mkldnn", "opengl", "opencl", "ideep", "fpga", "ve", "lazy", "privateuseone")


def device_type(x):
    """The device type a string (or torch.device-like object) names, e.g. 'cuda' for 'cuda:1'; None if it
    names no device."""
    text = getattr(x, "type", x) if not isinstance(x, (str, DType)) else x
    if not isinstance(text, str):
        return None
    kind, _, index = text.strip().lower().partition(":")
    return kind if kind in DEVICE_TYPES and (not index or index.isdigit()) else None


def check_device(op, device):
    """None and 'cpu' (or 'cpu:0') pass: slope runs on the CPU. Any other device raises DeviceError."""
    if device is None:
        return
    kind = device_type(device)
    if kind is None:
        raise ArgumentError(f"{op}: device must be a device name such as 'cpu', got {device!r}")
    if kind not in DEVICES:
        raise DeviceError(f"{op}: slope has no device {str(getattr(device, 'type', device))!r}: it runs on the CPU "
                          f"only (IREE's local-sync and local-task drivers); devices: {', '.join(map(repr, DEVICES))}")


def dtype(x, op: str | None = "dtype") -> DType:
    """Coerce a slope dtype, NumPy dtype, Python type or name (`"float32"`, NumPy's `"f4"`, slope's `"f32"`)
    to a slope DType; anything else raises DTypeError (naming `op`, the user-level op, when given)."""
    if isinstance(x, DType):
        return x
    if x is float:
        return default_float
    if x is int:
        return default_int
    if x is bool:
        return bool_
    if isinstance(x, str) and x in _BY_NAME:
        return _BY_NAME[x]
    if isinstance(x, str) and x in _BY_SHORT:
        return _BY_SHORT[x]
    where = f"{op}: " if op else ""
    if x is None:  # np.dtype(None) is float64: never let None mean a dtype
        raise DTypeError(f"{where}dtype=None is not a dtype; supported: {', '.join(_BY_NAME)}")
    kind = device_type(x)
    if kind is not None:
        raise DTypeError(f"{where}{x!r} is a device, not a dtype (slope's only device is 'cpu'; "
                         f"supported dtypes: {', '.join(_BY_NAME)})")
    try:
        npd = np.dtype(x)
    except (TypeError, ValueError, SyntaxError):
        npd = None
    if npd is not None and npd in _BY_NP:
        return _BY_NP[npd]
    shown = repr(x) if isinstance(x, str) else getattr(x, "__name__", None) or str(x)
    raise DTypeError(f"{where}slope does not support dtype {shown}; supported: {', '.join(_BY_NAME)}")


def dtype_or(x, default, op: str | None = "dtype") -> DType:
    """dtype(x), or `default` when x is None (an omitted dtype argument)."""
    return dtype(default if x is None else x, op)


def smallest_normal(npd) -> float:
    """The smallest positive normal number of a floating-point NumPy dtype (bfloat16 included)."""
    npd = np.dtype(npd)
    if _BF16 is not None and npd == _BF16:
        return float(ml_dtypes.finfo(npd).tiny)
    return float(np.finfo(npd).tiny)


_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2}


def promote(a: DType, b: DType) -> DType:
    """Result dtype of a binary op on two tensors (PyTorch-like: bool < int < float, wider wins)."""
    if a is b:
        return a
    if _ORDER[a.kind] != _ORDER[b.kind]:
        return a if _ORDER[a.kind] > _ORDER[b.kind] else b
    if a.is_float:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.bits >= b.bits else b
    return dtype(np.promote_types(a.np, b.np))


def _combine(higher: DType | None, lower: DType | None) -> DType | None:
    """PyTorch's combine_categories: `higher` (from operands that take precedence) keeps its dtype unless
    `lower` is of a higher category (bool < int < float); then the two promote."""
    if higher is None:
        return lower
    if lower is None or higher.is_float:
        return higher
    if higher.is_bool or lower.is_float:
        return promote(higher, lower)
    return higher


def wrapped_dtype(value) -> DType:
    """The dtype PyTorch gives a Python scalar operand before it is weakly combined: bool, int64 (the
    default int) or the default float."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return default_int
    if isinstance(value, float):
        return default_float
    raise DTypeError(f"cannot use {type(value).__name__} {value!r} as a tensor operand")


def result_type(dim: list[DType], zero_dim: list[DType], scalars: list) -> DType:
    """dtype of an elementwise op's result (PyTorch's rule): tensors with dims promote among themselves;
    0-d tensors and then Python scalars only raise the category (bool < int < float), never widen within
    it: f32[3] + f64[] -> f32, i32[3] + i64[] -> i32, i32[3] + f64[] -> f64, i32[3] + 2.5 -> default float.
    0-d tensors alone promote among themselves (f32[] + f64[] -> f64)."""
    def promote_all(dtypes):
        out = None
        for d in dtypes:
            out = d if out is None else promote(out, d)
        return out

    out = _combine(promote_all(dim), _combine(promote_all(zero_dim), promote_all(map(wrapped_dtype, scalars))))
    if out is None:
        raise DTypeError("result_type: no operands")
    return out


def python_scalar(value):
    """A NumPy scalar (`np.float32(0.5)`, `np.int64(2)`, `np.bool_`) as the Python scalar of its
    kind: operands and fill values take them as PyTorch does, weakly typed like `0.5`, `2`, `True`.
    Anything else is returned unchanged."""
    if isinstance(value, np.generic) and value.ndim == 0:
        kind = value.dtype.kind
        if kind in "biuf":
            return value.item()
        if _BF16 is not None and value.dtype == _BF16:
            return float(value)
    return value


def scalar_misfit(value, dtype: DType) -> str | None:
    """Why the Python scalar `value` cannot be held by `dtype` (None if it can). Floats out of a
    float dtype's range become +-inf, as in NumPy and PyTorch; integers must fit integer dtypes."""
    if isinstance(value, float):
        if dtype.is_int and (math.isnan(value) or math.isinf(value)):
            return f"cannot fill {dtype.name} with {value}"
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if dtype.is_int:
        info = np.iinfo(dtype.np)
        if not info.min <= value <= info.max:
            return f"{_int_text(value)} is out of range for {dtype.name} [{info.min}, {info.max}]"
    elif dtype.is_float:
        try:
            float(value)
        except OverflowError:
            return f"{_int_text(value)} is too large for any float dtype ({dtype.name})"
    return None


def _int_text(value: int) -> str:
    """A Python int for an error message, shortened when it has more than 30 digits."""
    text = str(value)
    return text if len(text) <= 30 else f"{text[:12]}... ({len(text)} digits)"


def scalar_dtype(value, other: DType) -> DType:
    """dtype a Python scalar takes next to a tensor of dtype `other` (scalars are weakly typed: see result_type)."""
    return _combine(other, wrapped_dtype(value))
