"""Tensor methods and operators shared by concrete Tensors and Tracers (PyTorch-like surface).

Every method forwards to a function in `slope.ops`, so a method works the same under any transform.
"""
from __future__ import annotations


def _ops():
    from slope import ops

    return ops


class TensorMethods:
    __slots__ = ()

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.aval.shape[0]

    # arithmetic
    def __neg__(self): return _ops().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops().abs(self)
    def __invert__(self): return _ops().logical_not(self)
    def __add__(self, o): return _ops().add(self, o)
    def __radd__(self, o): return _ops().add(o, self)
    def __sub__(self, o): return _ops().sub(self, o)
    def __rsub__(self, o): return _ops().sub(o, self)
    def __mul__(self, o): return _ops().mul(self, o)
    def __rmul__(self, o): return _ops().mul(o, self)
    def __truediv__(self, o): return _ops().div(self, o)
    def __rtruediv__(self, o): return _ops().div(o, self)
    def __pow__(self, o): return _ops().pow(self, o)
    def __rpow__(self, o): return _ops().pow(o, self)
    def __matmul__(self, o): return _ops().matmul(self, o)
    def __rmatmul__(self, o): return _ops().matmul(o, self)
    def __and__(self, o): return _ops().logical_and(self, o)
    def __rand__(self, o): return _ops().logical_and(o, self)
    def __or__(self, o): return _ops().logical_or(self, o)
    def __ror__(self, o): return _ops().logical_or(o, self)
    def __xor__(self, o): return _ops().logical_xor(self, o)
    def __rxor__(self, o): return _ops().logical_xor(o, self)
    # comparisons (elementwise, return bool tensors)
    def __eq__(self, o): return _ops().eq(self, o)
    def __ne__(self, o): return _ops().ne(self, o)
    def __lt__(self, o): return _ops().lt(self, o)
    def __le__(self, o): return _ops().le(self, o)
    def __gt__(self, o): return _ops().gt(self, o)
    def __ge__(self, o): return _ops().ge(self, o)
    __hash__ = object.__hash__

    def __getitem__(self, idx): return _ops().getitem(self, idx)

    # shape
    def reshape(self, *shape): return _ops().reshape(self, *shape)
    def view(self, *shape): return _ops().reshape(self, *shape)
    def permute(self, *dims): return _ops().permute(self, *dims)
    def transpose(self, dim0=None, dim1=None): return _ops().transpose(self, dim0, dim1)
    T = property(lambda self: _ops().permute(self, *reversed(range(self.ndim))))
    def expand(self, *shape): return _ops().expand(self, *shape)
    def broadcast_to(self, shape): return _ops().broadcast_to(self, shape)
    def flatten(self, start_dim=0, end_dim=-1): return _ops().flatten(self, start_dim, end_dim)
    def squeeze(self, dim=None): return _ops().squeeze(self, dim)
    def unsqueeze(self, dim): return _ops().unsqueeze(self, dim)
    def flip(self, dims): return _ops().flip(self, dims)
    def pad(self, pad, value=0): return _ops().pad(self, pad, value)
    def narrow(self, dim, start, length): return _ops().narrow(self, dim, start, length)
    def split(self, split_size_or_sections, dim=0): return _ops().split(self, split_size_or_sections, dim)
    def chunk(self, chunks, dim=0): return _ops().chunk(self, chunks, dim)
    # indexing (torch names)
    def index_select(self, dim, index): return _ops().index_select(self, dim, index)
    def index_add(self, dim, index, source, alpha=1): return _ops().index_add(self, dim, index, source, alpha)
    def take_along_dim(self, indices, dim=None): return _ops().take_along_dim(self, indices, dim)
    def gather(self, dim, index): return _ops().gather(self, dim, index)
    # reductions
    def sum(self, dim=None, keepdim=False): return _ops().sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return _ops().mean(self, dim, keepdim)
    def max(self, dim=None, keepdim=False): return _ops().max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return _ops().min(self, dim, keepdim)
    def prod(self, dim=None, keepdim=False): return _ops().prod(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return _ops().argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return _ops().argmin(self, dim, keepdim)
    def cumsum(self, dim): return _ops().cumsum(self, dim)
    def cumprod(self, dim): return _ops().cumprod(self, dim)
    def cummax(self, dim): return _ops().cummax(self, dim)
    def cummin(self, dim): return _ops().cummin(self, dim)
    def sort(self, dim=-1, descending=False): return _ops().sort(self, dim, descending)
    def argsort(self, dim=-1, descending=False): return _ops().argsort(self, dim, descending)
    def var(self, dim=None, keepdim=False, correction=1): return _ops().var(self, dim, keepdim, correction)
    def std(self, dim=None, keepdim=False, correction=1): return _ops().std(self, dim, keepdim, correction)
    def softmax(self, dim=-1): return _ops().softmax(self, dim)
    def log_softmax(self, dim=-1): return _ops().log_softmax(self, dim)
    def logsumexp(self, dim=None, keepdim=False): return _ops().logsumexp(self, dim, keepdim)
    # math
    def exp(self): return _ops().exp(self)
    def log(self): return _ops().log(self)
    def sin(self): return _ops().sin(self)
    def cos(self): return _ops().cos(self)
    def tan(self): return _ops().tan(self)
    def tanh(self): return _ops().tanh(self)
    def sqrt(self): return _ops().sqrt(self)
    def rsqrt(self): return _ops().rsqrt(self)
    def abs(self): return _ops().abs(self)
    def sign(self): return _ops().sign(self)
    def floor(self): return _ops().floor(self)
    def ceil(self): return _ops().ceil(self)
    def round(self): return _ops().round(self)
    def sigmoid(self): return _ops().sigmoid(self)
    def relu(self): return _ops().relu(self)
    def square(self): return _ops().mul(self, self)
    def clamp(self, min=None, max=None): return _ops().clamp(self, min, max)
    def clip(self, min=None, max=None): return _ops().clamp(self, min, max)
    def maximum(self, o): return _ops().maximum(self, o)
    def minimum(self, o): return _ops().minimum(self, o)
    def expm1(self): return _ops().expm1(self)
    def log1p(self): return _ops().log1p(self)
    def neg(self): return _ops().neg(self)
    negative = neg
    # named arithmetic, comparisons and logic (torch.Tensor has a method for each operator)
    def add(self, o, alpha=1): return _ops().add(self, o if alpha == 1 else _ops().mul(o, alpha))
    def sub(self, o, alpha=1): return _ops().sub(self, o if alpha == 1 else _ops().mul(o, alpha))
    def mul(self, o): return _ops().mul(self, o)
    def div(self, o): return _ops().div(self, o)
    def pow(self, o): return _ops().pow(self, o)
    def matmul(self, o): return _ops().matmul(self, o)
    def dot(self, o): return _ops().dot(self, o)
    def outer(self, o): return _ops().outer(self, o)
    def atan2(self, o): return _ops().atan2(self, o)
    def remainder(self, o): return _ops().remainder(self, o)
    def fmod(self, o): return _ops().fmod(self, o)
    def floor_divide(self, o): return _ops().floor_divide(self, o)
    subtract, multiply, divide, true_divide = sub, mul, div, div
    def eq(self, o): return _ops().eq(self, o)
    def ne(self, o): return _ops().ne(self, o)
    def lt(self, o): return _ops().lt(self, o)
    def le(self, o): return _ops().le(self, o)
    def gt(self, o): return _ops().gt(self, o)
    def ge(self, o): return _ops().ge(self, o)
    def logical_and(self, o): return _ops().logical_and(self, o)
    def logical_or(self, o): return _ops().logical_or(self, o)
    def logical_xor(self, o): return _ops().logical_xor(self, o)
    def logical_not(self): return _ops().logical_not(self)
    def where(self, cond, other): return _ops().where(cond, self, other)
    def astype(self, dtype): return _ops().astype(self, dtype)
    to = astype
    def float(self): return _ops().astype(self, "float32")
    def double(self): return _ops().astype(self, "float64")
    def int(self): return _ops().astype(self, "int32")
    def long(self): return _ops().astype(self, "int64")
    def bool(self): return _ops().astype(self, "bool")
    def half(self): return _ops().astype(self, "float16")
    def detach(self): return _ops().stop_gradient(self)
