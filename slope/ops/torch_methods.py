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
    def _rows(self): return ops.layout.rows(self)
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
    def mode(self, dim=-1, keepdim=False): return ops.mode(self, dim, keepdim)
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
    def svd(self, some=True, compute_uv=True): return ops.decomp.torch_svd(self, some, compute_uv)
    def slogdet(self): return ops.linalg.slogdet(self)
    def pinverse(self): return ops.linalg.pinv(self)
    def matrix_power(self, n): return ops.linalg.matrix_power(self, n)


class _MoreTorchMethods:
    """Found missing by ci/torch_differential.py (slope/ops/extras.py and friends)."""
    mH = property(lambda self: ops.layout.mT(self))  # real tensors: the conjugate transpose is the transpose
    H = property(lambda self: ops.t(self))
    def ravel(self): return ops.ravel(self)
    def reshape_as(self, other): return ops.reshape(self, *other.shape)
    def is_floating_point(self): return self.dtype.is_float
    def is_complex(self): return False
    def element_size(self): return self.dtype.np.itemsize
    def tensor_split(self, indices_or_sections, dim=0): return ops.tensor_split(self, indices_or_sections, dim)
    def index_fill(self, dim, index, value): return ops.index_fill(self, dim, index, value)
    def index_copy(self, dim, index, source): return ops.index_copy(self, dim, index, source)
    def masked_scatter(self, mask, source): return ops.masked_scatter(self, mask, source)
    def put(self, index, source, accumulate=False): return ops.put(self, index, source, accumulate)
    def select(self, dim, index): return ops.select(self, dim, index)
    def unfold(self, dimension, size, step): return ops.unfold(self, dimension, size, step)
    def aminmax(self, *, dim=None, keepdim=False): return ops.aminmax(self, dim=dim, keepdim=keepdim)
    def nansum(self, *args, **kwargs): return ops.nansum(self, *args, **kwargs)
    def nanmean(self, *args, **kwargs): return ops.nanmean(self, *args, **kwargs)
    def diff(self, n=1, dim=-1, prepend=None, append=None): return ops.diff(self, n, dim, prepend, append)
    def rot90(self, k=1, dims=(0, 1)): return ops.rot90(self, k, dims)
    def diag_embed(self, offset=0, dim1=-2, dim2=-1): return ops.diag_embed(self, offset, dim1, dim2)
    def msort(self): return ops.msort(self)
    def bincount(self, weights=None, minlength=0): return ops.bincount(self, weights, minlength)
    def histc(self, bins=100, min=0, max=0): return ops.histc(self, bins, min, max)
    def cross(self, other, dim=None): return ops.cross(self, other, dim)
    def isin(self, test_elements): return ops.isin(self, test_elements)
    def bitwise_not(self): return ops.bitwise_not(self)
    def bitwise_and(self, o): return ops.bitwise_and(self, o)
    def bitwise_or(self, o): return ops.bitwise_or(self, o)
    def bitwise_xor(self, o): return ops.bitwise_xor(self, o)
    def bitwise_left_shift(self, o): return ops.bitwise_left_shift(self, o)
    def bitwise_right_shift(self, o): return ops.bitwise_right_shift(self, o)
    def erfc(self): return ops.erfc(self)
    def lgamma(self): return ops.lgamma(self)
    def digamma(self): return ops.digamma(self)
    def sinc(self): return ops.sinc(self)
    def deg2rad(self): return ops.deg2rad(self)
    def rad2deg(self): return ops.rad2deg(self)
    def logit(self, eps=None): return ops.logit(self, eps)
    def positive(self): return self
    def signbit(self): return ops.signbit(self)
    def copysign(self, o): return ops.copysign(self, o)
    def fmax(self, o): return ops.fmax(self, o)
    def fmin(self, o): return ops.fmin(self, o)
    def heaviside(self, values): return ops.heaviside(self, values)
    def logaddexp2(self, o): return ops.logaddexp2(self, o)
    def greater(self, o): return ops.gt(self, o)
    def greater_equal(self, o): return ops.ge(self, o)
    def less(self, o): return ops.lt(self, o)
    def less_equal(self, o): return ops.le(self, o)
    def not_equal(self, o): return ops.ne(self, o)
    def addr(self, vec1, vec2, *, beta=1, alpha=1): return ops.addr(self, vec1, vec2, beta=beta, alpha=alpha)
    def logdet(self): return ops.logdet(self)
    def pinverse(self, rcond=1e-15): return ops.pinverse(self, rcond)
    def dist(self, other, p=2): return ops.dist(self, other, p)
    def ger(self, other): return ops.ger(self, other)


def attach(cls=TensorMethods):
    for name, value in [*vars(_TorchMethods).items(), *vars(_MoreTorchMethods).items()]:
        if name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__hash__"):
            setattr(cls, name, value)
