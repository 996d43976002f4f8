"""The base class of concrete Tensors and Tracers: what core itself knows of a tensor (its aval).

The PyTorch-like methods and operators are attached to it from above, by slope.ops.methods (as
jax.numpy attaches array methods), so a method works the same on a Tensor and under any transform.
"""
from __future__ import annotations

from slope.errors import ArgumentError, OutOfBoundsError


class Size(tuple):
    """A shape, as `x.size()` returns it (torch.Size: a tuple of ints that also gives numel())."""

    __slots__ = ()

    def numel(self):
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self):
        return f"slope.Size({list(self)})"


class TensorMethods:
    __slots__ = ()

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)

    def size(self, dim=None):
        """The shape as a slope.Size (a tuple), or the size of one dim (PyTorch; NumPy's `.size` is numel())."""
        if dim is None:
            return Size(self.aval.shape)
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise ArgumentError(f"size: dim must be an int, got {type(dim).__name__} {dim!r}")
        n = self.aval.ndim
        if not -max(n, 1) <= dim < max(n, 1) or n == 0:
            raise OutOfBoundsError(f"size: dim {dim} out of range for a {n}-d tensor {self.aval.str_short()}")
        return self.aval.shape[dim]

    def dim(self):
        return self.aval.ndim

    ndimension = dim

    def numel(self):
        return self.aval.size

    nelement = numel

    def __len__(self):
        if not self.aval.shape:
            raise ArgumentError(f"len: a 0-d tensor has no length ({self.aval.str_short()})")
        return self.aval.shape[0]

    __hash__ = object.__hash__
