"""Abstract values: what every trace knows about a tensor without its data (shape + dtype)."""
from __future__ import annotations

from slope.core import dtypes as dt


class Aval:
    """Shape and dtype of a tensor. Hashable so it can key compile caches."""

    __slots__ = ("shape", "dtype", "_hash")

    def __init__(self, shape, dtype):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = dt.dtype(dtype)
        self._hash = hash((self.shape, self.dtype))

    ndim = property(lambda self: len(self.shape))

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __eq__(self, other):
        return isinstance(other, Aval) and self.shape == other.shape and self.dtype is other.dtype

    def __hash__(self):
        return self._hash

    def str_short(self):
        return f"{self.dtype.short}[{','.join(map(str, self.shape))}]"

    def __repr__(self):
        return f"[{', '.join(map(str, self.shape))}{', ' if self.shape else ''}{self.dtype.short}]"

    def update(self, shape=None, dtype=None):
        return Aval(self.shape if shape is None else shape, self.dtype if dtype is None else dtype)
