"""More Tensor methods with PyTorch's names (layout, indexing, math and linear algebra families),
attached next to ops/methods.py's: every method forwards to a function of slope.ops."""
from __future__ import annotations

from slope import ops
from slope.core.methods import TensorMethods


class _TorchMethods:
    # layout
    def t(self): return ops.t(self)
    mT = property(lambda self: ops.layout.mT(self))
    def repeat(self, *sizes): return ops.repeat(self, *sizes)
    def tile(self, *dims): return ops.tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)
    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return ops.repeat_interleave(self, repeats, dim, output_size=output_size)
    def expand_as(self, other): return ops.expand_as(self, other)
    def view_as(self, other): return ops.view_as(self, other)
    def unflatten(self, dim, sizes): return ops.unflatten(self, dim, sizes)
    def movedim(self, source, destination): return ops.movedim(self, source, destination)
    moveaxis = movedim
    def swapaxes(self, axis0, axis1): return ops.swapaxes(self, axis0, axis1)
    swapdims = swapaxes
    def unbind(self, dim=0): return ops.unbind(self, dim)
    def roll(self, shifts, dims=None): return ops.roll(self, shifts, dims)
    def tril(self, diagonal=0): return ops.tril(self, diagonal)
    def triu(self, diagonal=0): return ops.triu(self, diagonal)
    def diag(self, diagonal=0): return ops.diag(self, diagonal)
    def diagonal(self, offset=0, dim1=0, dim2=1): return ops.diagonal(self, offset, dim1, dim2)
    def trace(self): return ops.trace(self)
    def fliplr(self): return ops.fliplr(self)
    def flipud(self): return ops.flipud(self)


def attach(cls=TensorMethods):
    for name, value in vars(_TorchMethods).items():
        if name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__hash__"):
            setattr(cls, name, value)
