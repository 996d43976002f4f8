"""Operand handling shared by every user-level op: Python/NumPy scalars and arrays to tensors, NumPy
broadcasting, PyTorch's dtype promotion (scalars weakly typed), dim and axis normalization."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from slope import lax
from slope.core import dtypes as dt, memory
from slope.core.aval import Aval
from slope.core.tensor import Tensor, as_tensor, tensor
from slope.core.trace import Tracer
from slope.errors import ArgumentError, DTypeError, OutOfBoundsError, ShapeError, describe

__all__ = ["broadcast_shapes", "broadcast_to", "expand", "astype", "to", "type_as"]


_py_max, _py_sum = builtins.max, builtins.sum


def is_array(x):
    return isinstance(x, (Tensor, Tracer))


def as_array(x, op=None):
    """x as a Tensor or Tracer: scalars, lists and NumPy arrays are copied to the device; anything else
    raises DTypeError naming `op`."""
    if is_array(x):
        return x
    if op is not None and not isinstance(x, (bool, int, float, list, tuple, np.ndarray, np.generic)):
        raise DTypeError(f"{op}: expected a tensor, got {type(x).__name__} {x!r:.60}")
    try:
        return as_tensor(x)
    except DTypeError as e:
        if op is None:
            raise
        raise DTypeError(f"{op}: {str(e).removeprefix('tensor: ')}") from None


def broadcast_shapes(*shapes, op="broadcast"):
    ndim = _py_max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{op}: cannot broadcast shapes {' and '.join(map(str, map(tuple, shapes)))}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to(x, shape, op="broadcast_to"):
    x = as_array(x, op)
    shape = sizes_arg(op, shape if isinstance(shape, (tuple, list)) else (shape,))
    if tuple(x.shape) == shape:
        return x
    try:
        ok = len(shape) >= x.ndim and broadcast_shapes(x.shape, shape, op=op) == shape
    except ShapeError:
        ok = False
    if not ok:
        raise ShapeError(f"{op}: cannot broadcast {x.aval.str_short()} to {shape}")
    memory.check(op, [Aval(shape, x.dtype)])
    lead = len(shape) - x.ndim
    return lax.broadcast_in_dim(x, shape=shape, broadcast_dimensions=tuple(range(lead, len(shape))))


def expand(x, *shape):
    """x broadcast to `shape` (torch.expand): -1 keeps a dim's size, new dims go in front."""
    shape = sizes_arg("expand", shape_arg(shape), allow=-1)
    x = as_array(x, 'expand')
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the shape {shape} has fewer dims than {x.aval.str_short()}")
    if any(s == -1 for s in shape[:lead]):
        raise ShapeError(f"expand: -1 is not allowed for the new leading dims in {shape}")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return broadcast_to(x, shape, op="expand")


def operands(op, *xs, dtype=None):
    """Tensors broadcast to one shape and promoted to one dtype by PyTorch's rule (core.dtypes.result_type):
    Python and NumPy scalars, and 0-d tensors next to tensors with dims, are weakly typed."""
    xs = [dt.python_scalar(x) for x in xs]
    for x in xs:
        if not (is_array(x) or isinstance(x, np.ndarray)):
            check_scalar(op, x)
    arrays = [x for x in xs if is_array(x) or isinstance(x, np.ndarray)]
    arrays = [as_array(x) for x in arrays]
    if not arrays:
        xs = [tensor(x) for x in xs]
        arrays = xs
    if dtype is None:  # PyTorch: 0-d tensors and scalars raise the category, never widen within it
        dtype = dt.result_type([a.dtype for a in arrays if a.ndim], [a.dtype for a in arrays if not a.ndim],
                               [x for x in xs if not (is_array(x) or isinstance(x, np.ndarray))])
    try:
        shape = broadcast_shapes(*[a.shape for a in arrays], op=op)
    except ShapeError:
        raise ShapeError(f"{op}: cannot broadcast operands {describe([a.aval for a in arrays])}") from None
    out = []
    for x in xs:
        if is_array(x) or isinstance(x, np.ndarray):
            x = astype(as_array(x), dtype)
            out.append(broadcast_to(x, shape))
        else:
            problem = dt.scalar_misfit(x, dtype)
            if problem:
                raise DTypeError(f"{op}: scalar operand {problem}")
            out.append(lax.full(shape=shape, value=x, dtype=dtype))
    return out


def check_scalar(op, x):
    if not isinstance(x, (bool, int, float)):
        raise DTypeError(f"{op}: unsupported operand type {type(x).__name__}")
    return x


def float_operands(op, *xs):
    """Math like div/exp on integers works in the default float dtype (as in PyTorch)."""
    xs = operands(op, *xs)
    if not xs[0].dtype.is_float:
        xs = [astype(x, dt.default_float) for x in xs]
    return xs


def zeros_of(x):
    return lax.full(shape=tuple(x.shape), value=0, dtype=x.dtype)


def astype(x, dtype, op="astype"):
    x = as_array(x, 'astype')
    dtype = dt.dtype(dtype, op)
    return x if x.dtype is dtype else lax.convert(x, dtype=dtype)


def to(x, *args, dtype=None, device=None, non_blocking=False, copy=False):
    """Tensor.to (PyTorch): to(dtype), to(device), to(device, dtype), to(other) (other's dtype; its device
    is the CPU), or dtype=/device= keywords. 'cpu' is slope's only device (a no-op); another device raises
    DeviceError, a string that names neither a device nor a dtype DTypeError. Tensors are immutable, so
    copy=True and non_blocking change nothing."""
    x = as_array(x, "to")
    if len(args) > 2:
        raise ArgumentError(f"to: expected to(dtype), to(device[, dtype]) or to(other), got {len(args)} arguments")
    target = None
    for k, a in enumerate((*args, *(v for v in (dtype,) if v is not None))):
        from_kw = k >= len(args)
        if is_array(a):
            if from_kw or k:
                raise ArgumentError("to: a tensor argument (to(other)) must come alone and first")
            a = a.dtype
        elif dt.device_type(a) is not None:
            if from_kw or k:
                raise ArgumentError(f"to: the device comes first: to(device, dtype), got {a!r} in place of a dtype")
            dt.check_device("to", a)
            continue
        if target is not None:
            raise ArgumentError(f"to: two dtypes given ({target.name} and {a!r})")
        try:
            target = dt.dtype(a, "to")
        except DTypeError:
            if not isinstance(a, str):
                raise
            raise DTypeError(f"to: {a!r} names neither a device (slope's only device is 'cpu') nor a dtype "
                             f"({', '.join(d.name for d in dt.ALL)})") from None
    dt.check_device("to", device)
    return x if target is None else astype(x, target, "to")


# Tensor.type(): PyTorch's legacy type names, per dtype
_TYPE_NAMES = {dt.float32: "FloatTensor", dt.float64: "DoubleTensor", dt.float16: "HalfTensor",
               dt.bfloat16: "BFloat16Tensor", dt.int8: "CharTensor", dt.int16: "ShortTensor", dt.int32: "IntTensor",
               dt.int64: "LongTensor", dt.uint8: "ByteTensor", dt.uint32: "UInt32Tensor", dt.bool_: "BoolTensor"}
_BY_TYPE_NAME = {v: k for k, v in _TYPE_NAMES.items()}


def type_(x, dtype=None, non_blocking=False):
    """Tensor.type: with no dtype, the type string ('slope.FloatTensor', as torch's 'torch.FloatTensor');
    with a dtype (or a type string 'slope.LongTensor' / 'torch.LongTensor'), x converted to it."""
    x = as_array(x, "type")
    if dtype is None:
        return f"slope.{_TYPE_NAMES[x.dtype]}"
    if isinstance(dtype, str) and dtype.partition(".")[0] in ("slope", "torch") and "." in dtype:
        name = dtype.partition(".")[2]
        if name not in _BY_TYPE_NAME:
            raise DTypeError(f"type: unknown tensor type {dtype!r}; known: "
                             f"{', '.join('slope.' + n for n in _BY_TYPE_NAME)}")
        dtype = _BY_TYPE_NAME[name]
    return astype(x, dt.dtype(dtype, "type"), "type")


def type_as(x, other):
    """x converted to other's dtype (Tensor.type_as)."""
    x = as_array(x, "type_as")
    if not is_array(other):
        raise DTypeError(f"type_as: expected a tensor, got {type(other).__name__} {other!r:.60}")
    return astype(x, other.dtype, "type_as")


def shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def int_arg(op, what, v):
    """v as a Python int: ints, NumPy ints and 0-d integer tensors (like operator.index); a float, a
    string, a bool or anything else raises ArgumentError naming the op."""
    if is_static_int(v):
        return int(v)
    if isinstance(v, Tensor) and v.dtype.is_int and v.ndim == 0:
        return int(v.item())
    if hasattr(v, "__index__") and not is_array(v) and not isinstance(v, (bool, np.bool_)):
        try:
            return operator.index(v)  # e.g. a 0-d NumPy integer array
        except TypeError:
            pass
    if isinstance(v, Tracer):
        raise ArgumentError(f"{op}: {what} must be a static int, got a traced value {v.aval.str_short()} (its "
                            "value is not known while tracing; mark the argument static)")
    shown = v.aval.str_short() if is_array(v) else repr(v)
    raise ArgumentError(f"{op}: {what} must be an int, got {type(v).__name__} {shown}")


def sizes_arg(op, sizes, allow=None):
    """A shape given as ints (a tuple, a list, or an int): a tuple of Python ints >= 0 (or == `allow`,
    e.g. reshape's -1); other types raise ArgumentError, negative sizes ShapeError."""
    if isinstance(sizes, (tuple, list)):
        sizes = tuple(sizes)
    else:
        sizes = (sizes,)
    out = tuple(int_arg(op, "a size", s) for s in sizes)
    if any(s < 0 and s != allow for s in out):
        raise ShapeError(f"{op}: negative dimension in shape {out}")
    return out


def normalize_dim(op, d, ndim):
    """A dim in [-ndim, ndim) as its index in [0, ndim) (a 0-d tensor takes dims 0 and -1, as in PyTorch)."""
    d = int_arg(op, "dim", d)
    n = _py_max(ndim, 1)
    if not -n <= d < n:
        raise OutOfBoundsError(f"{op}: dim {d} out of range for a {ndim}-d tensor (expected a dim in [{-n}, {n - 1}])")
    return d % ndim if ndim else 0


def normalize_axes(op, dim, ndim):
    """dim (None: all; an int; a tuple or list of ints) as sorted distinct dims; a repeated dim raises,
    as in NumPy and PyTorch. A 0-d tensor takes dim 0 or -1 (as in PyTorch) and has no dim to reduce."""
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    norm = [normalize_dim(op, d, ndim) for d in dims]
    if len(set(norm)) != len(norm):
        rep = next(d for d in norm if norm.count(d) > 1)
        raise ShapeError(f"{op}: dim {dims} repeats dim {rep}")
    return tuple(sorted(norm)) if ndim else ()


def is_static_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
