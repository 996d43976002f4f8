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
    # selection
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)
    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return ops.scatter(self, dim, index, src, value=value, reduce=reduce)
    def scatter_add(self, dim, index, src): return ops.scatter_add(self, dim, index, src)
    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)
    def index_put(self, indices, values, accumulate=False): return ops.index_put(self, indices, values, accumulate)
    def take(self, index): return ops.take(self, index)
    def nonzero(self, *, as_tuple=False): return ops.nonzero(self, as_tuple=as_tuple)
    def argwhere(self): return ops.argwhere(self)
    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return ops.unique(self, sorted, return_inverse, return_counts, dim)
    def masked_select(self, mask): return ops.masked_select(self, mask)
    def median(self, dim=None, keepdim=False): return ops.median(self, dim, keepdim)
    def kthvalue(self, k, dim=-1, keepdim=False): return ops.kthvalue(self, k, dim, keepdim)
    # math
    def erfinv(self): return ops.erfinv(self)
    def trunc(self): return ops.trunc(self)
    fix = trunc
    def frac(self): return ops.frac(self)
    def reciprocal(self): return ops.reciprocal(self)
    def log2(self): return ops.log2(self)
    def log10(self): return ops.log10(self)
    def exp2(self): return ops.exp2(self)
    def sinh(self): return ops.sinh(self)
    def cosh(self): return ops.cosh(self)
    def asin(self): return ops.asin(self)
    def acos(self): return ops.acos(self)
    def atan(self): return ops.atan(self)
    def asinh(self): return ops.asinh(self)
    def acosh(self): return ops.acosh(self)
    def atanh(self): return ops.atanh(self)
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    def arctan2(self, other): return ops.atan2(self, other)
    def hypot(self, other): return ops.hypot(self, other)
    def lerp(self, end, weight): return ops.lerp(self, end, weight)
    def addcmul(self, tensor1, tensor2, *, value=1): return ops.addcmul(self, tensor1, tensor2, value=value)
    def addcdiv(self, tensor1, tensor2, *, value=1): return ops.addcdiv(self, tensor1, tensor2, value=value)
    def logaddexp(self, other): return ops.logaddexp(self, other)
    def xlogy(self, other): return ops.xlogy(self, other)
    def clamp_min(self, min): return ops.clamp_min(self, min)
    def clamp_max(self, max): return ops.clamp_max(self, max)
    def sgn(self): return ops.sgn(self)
    def count_nonzero(self, dim=None): return ops.count_nonzero(self, dim)
    def logcumsumexp(self, dim): return ops.logcumsumexp(self, dim)
    def norm(self, p="fro", dim=None, keepdim=False, dtype=None): return ops.norm(self, p, dim, keepdim, dtype)
    # products
    def mm(self, other): return ops.mm(self, other)
    def bmm(self, other): return ops.bmm(self, other)
    def mv(self, vec): return ops.mv(self, vec)
    def vdot(self, other): return ops.vdot(self, other)
    def inner(self, other): return ops.inner(self, other)
    def kron(self, other): return ops.kron(self, other)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1): return ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    def addmv(self, mat, vec, *, beta=1, alpha=1): return ops.addmv(self, mat, vec, beta=beta, alpha=alpha)
    def baddbmm(self, b1, b2, *, beta=1, alpha=1): return ops.baddbmm(self, b1, b2, beta=beta, alpha=alpha)
    def addbmm(self, b1, b2, *, beta=1, alpha=1): return ops.addbmm(self, b1, b2, beta=beta, alpha=alpha)
    def det(self): return ops.linalg.det(self)
    def inverse(self): return ops.linalg.inv(self)
    def cholesky(self, upper=False): return ops.linalg.cholesky(self, upper=upper)


def attach(cls=TensorMethods):
    for name, value in vars(_TorchMethods).items():
        if name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__hash__"):
            setattr(cls, name, value)
