"""The base class of concrete Tensors and Tracers: what core itself knows of a tensor (its aval).

The PyTorch-like methods and operators are attached to it from above, by slope.ops.methods (as
jax.numpy attaches array methods), so a method works the same on a Tensor and under any transform.
"""
from __future__ import annotations

from slope.errors import ArgumentError


class TensorMethods:
    __slots__ = ()

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)

    def __len__(self):
        if not self.aval.shape:
            raise ArgumentError(f"len: a 0-d tensor has no length ({self.aval.str_short()})")
        return self.aval.shape[0]

    __hash__ = object.__hash__
