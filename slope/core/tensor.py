"""Concrete tensors: data resident on the IREE device, with the PyTorch-like method surface."""
from __future__ import annotations

import numpy as np

from slope.core import backend, dtypes as dt
from slope.core.aval import Aval
from slope.core.methods import TensorMethods
from slope.errors import ArgumentError, DTypeError, ShapeError


class Tensor(TensorMethods):
    """An n-d array living in an IREE device buffer. Create with slope.tensor / ones / arange ..."""

    __slots__ = ("_buf", "aval")
    __array_priority__ = 1000

    def __init__(self, buf, aval: Aval):
        self._buf = buf  # iree.runtime VmRef to the HAL buffer view (see slope.backends.iree.runtime)
        self.aval = aval

    def numpy(self) -> np.ndarray:
        """A fresh NumPy copy of the data."""
        return backend.get().to_host(self._buf, self.aval)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def item(self, _op="item"):
        if self.aval.size != 1:
            raise ShapeError(f"{_op}: only a tensor with one element converts to a Python scalar, got "
                             f"{self.aval.str_short()} ({self.aval.size} elements)")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __bool__(self):
        return bool(self.item("bool"))

    def __float__(self):
        return float(self.item("float"))

    def __int__(self):
        return int(self.item("int"))

    def __index__(self):
        if not self.dtype.is_int or self.aval.ndim:
            raise ArgumentError(f"__index__: only 0-d integer tensors can be used as a Python index, got "
                                f"{self.aval.str_short()}")
        return int(self.item())

    def __iter__(self):
        len(self)  # a 0-d tensor is not iterable: len's error
        return self._rows()  # slope.ops.layout.rows: a few compiled programs, not two per row

    def __repr__(self):
        data = self.numpy()
        if self.dtype.name == "bfloat16":  # NumPy formats ml_dtypes' bfloat16 like an integer type
            data = data.astype(np.float32)
        body = np.array2string(data, separator=", ", prefix="tensor(")
        # PyTorch leaves out the dtypes a literal infers: the default float, int64 and bool
        suffix = "" if self.dtype in (dt.default_float, dt.int64, dt.bool_) else f", dtype={self.dtype.name}"
        return f"tensor({body}{suffix})"

    __str__ = __repr__

    def __format__(self, spec):
        """`f"{loss:.4f}"` formats a 0-d tensor as its Python number (as PyTorch and JAX do)."""
        if not spec:
            return repr(self)
        if self.aval.ndim:
            raise ShapeError(f"format: {spec!r} needs a 0-d tensor, got shape {self.aval.shape} "
                             "(only 0-d tensors format as numbers; use .item() or .numpy())")
        return format(self.item(), spec)

    def __reduce__(self):
        return (tensor, (self.numpy(),))


def tensor(data, dtype=None, device=None) -> Tensor:
    """Make a Tensor from nested lists, scalars, NumPy arrays or Tensors (copies to the device)."""
    dt.check_device("tensor", device)
    if isinstance(data, Tensor):
        return data if dtype is None or dt.dtype(dtype, "tensor") is data.dtype else data.astype(dtype)
    if dtype is None:
        if isinstance(data, (np.ndarray, np.generic)):  # NumPy data keeps its dtype
            d = dt.dtype(data.dtype, "tensor")
        else:
            try:
                arr = np.asarray(data)
            except (TypeError, ValueError, OverflowError) as e:
                raise DTypeError(f"tensor: cannot make a tensor from {type(data).__name__}: {e}") from None
            d = dt.float32 if arr.dtype.kind == "f" else dt.dtype(arr.dtype) if arr.dtype.kind in "biu" else None
            if d is not None and d.is_int:  # Python ints are int64 (as in PyTorch), whatever NumPy's platform int
                d = dt.default_int if arr.dtype.kind == "i" else d
            if d is None:
                raise DTypeError(f"tensor: cannot make a tensor from {type(data).__name__} with dtype {arr.dtype}")
    else:
        d = dt.dtype(dtype, "tensor")
    try:
        arr = np.array(data, dtype=d.np, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
    except (TypeError, ValueError, OverflowError) as e:
        raise DTypeError(f"tensor: cannot make a {d.name} tensor from {type(data).__name__}: {e}") from None
    return Tensor(backend.get().to_device(arr), Aval(arr.shape, d))


def as_tensor(x) -> Tensor:
    """Operands of primitives: Tensors pass through, scalars/arrays are copied to the device
    (callers pass tracers through before asking)."""
    return x if isinstance(x, Tensor) else tensor(x)
