"""slope's exception hierarchy: every user-facing failure is one of these, never a raw backend error."""


class SlopeError(Exception):
    """Base class of every error slope raises on purpose."""


class ShapeError(SlopeError, ValueError):
    """Operand shapes do not fit the op (e.g. matmul inner dims, broadcasting)."""


class DTypeError(SlopeError, TypeError):
    """Operand dtypes do not fit the op (e.g. grad w.r.t. an integer input)."""


class TracerError(SlopeError, TypeError):
    """A traced value was used where a concrete one is needed, or outside its transformation (a
    TypeError, as JAX's ConcretizationTypeError)."""


class TransformError(SlopeError, ValueError):
    """A transformation was called wrongly (wrong arg count, non-scalar grad output, bad in_axes)."""


class BackendError(SlopeError, RuntimeError):
    """IREE failed to compile or run a program; carries the program text that failed."""


class ArgumentError(SlopeError, TypeError):
    """An argument has the wrong type or count: a float or a string where an int size or dim belongs,
    a tensor where a static value belongs, a missing operand or an unknown keyword of a primitive."""


class DomainError(SlopeError, ValueError):
    """An argument's value is outside what the op accepts though its type is right (an integer tensor
    to a negative integer power, arange with step 0), as NumPy raises ValueError."""


class OutOfBoundsError(ShapeError, IndexError):
    """An index or a dim is out of range for the tensor (NumPy and PyTorch raise IndexError; it is also
    a ShapeError, as NumPy's AxisError is both a ValueError and an IndexError)."""


class OutOfMemoryError(SlopeError, MemoryError):
    """The result would not fit in the memory available; raised before allocating, naming the size asked."""


class DeviceError(SlopeError, RuntimeError):
    """A device slope does not have was asked for (slope runs on the CPU only)."""


class ExportError(SlopeError, ValueError):
    """A function cannot be exported as a standalone module (slope.export): Python control flow on a
    traced value, an output that is not an array, a dtype the target cannot hold, an unknown target,
    or a compile failure for the target; the message names the cause and the input/output involved."""


def describe(avals):
    """Render operand avals as 'f32[3,4], i32[]' for error messages."""
    return ", ".join(a.str_short() for a in avals)
