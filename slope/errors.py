"""slope's exception hierarchy: every user-facing failure is one of these, never a raw backend error."""


class SlopeError(Exception):
    """Base class of every error slope raises on purpose."""


class ShapeError(SlopeError, ValueError):
    """Operand shapes do not fit the op (e.g. matmul inner dims, broadcasting)."""


class DTypeError(SlopeError, TypeError):
    """Operand dtypes do not fit the op (e.g. grad w.r.t. an integer input)."""


class TracerError(SlopeError):
    """A traced value was used where a concrete one is needed, or outside its transformation."""


class TransformError(SlopeError, ValueError):
    """A transformation was called wrongly (wrong arg count, non-scalar grad output, bad in_axes)."""


class BackendError(SlopeError, RuntimeError):
    """IREE failed to compile or run a program; carries the program text that failed."""


def describe(avals):
    """Render operand avals as 'f32[3,4], i32[]' for error messages."""
    return ", ".join(a.str_short() for a in avals)
