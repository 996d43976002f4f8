"""Tensor methods and operators (PyTorch names), attached to core's TensorMethods, the base class
of Tensors and Tracers: every method forwards to a function of slope.ops."""
from __future__ import annotations

from slope import ops
from slope.core.methods import TensorMethods


class _Methods:
    # arithmetic
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __invert__(self): return ops.bitwise_not(self)
    def __add__(self, o): return ops.add(self, o)
    def __radd__(self, o): return ops.add(o, self)
    def __sub__(self, o): return ops.sub(self, o)
    def __rsub__(self, o): return ops.sub(o, self)
    def __mul__(self, o): return ops.mul(self, o)
    def __rmul__(self, o): return ops.mul(o, self)
    def __truediv__(self, o): return ops.div(self, o)
    def __rtruediv__(self, o): return ops.div(o, self)
    def __pow__(self, o): return ops.pow(self, o)
    def __rpow__(self, o): return ops.pow(o, self)
    def __matmul__(self, o): return ops.matmul(self, o)
    def __rmatmul__(self, o): return ops.matmul(o, self)
    def __and__(self, o): return ops.bitwise_and(self, o)
    def __rand__(self, o): return ops.bitwise_and(o, self)
    def __or__(self, o): return ops.bitwise_or(self, o)
    def __ror__(self, o): return ops.bitwise_or(o, self)
    def __xor__(self, o): return ops.bitwise_xor(self, o)
    def __rxor__(self, o): return ops.bitwise_xor(o, self)
    def __lshift__(self, o): return ops.bitwise_left_shift(self, o)
    def __rlshift__(self, o): return ops.bitwise_left_shift(o, self)
    def __rshift__(self, o): return ops.bitwise_right_shift(self, o)
    def __rrshift__(self, o): return ops.bitwise_right_shift(o, self)
    # comparisons (elementwise, return bool tensors)
    def __eq__(self, o): return ops.eq(self, o)
    def __ne__(self, o): return ops.ne(self, o)
    def __lt__(self, o): return ops.lt(self, o)
    def __le__(self, o): return ops.le(self, o)
    def __gt__(self, o): return ops.gt(self, o)
    def __ge__(self, o): return ops.ge(self, o)

    def __getitem__(self, idx): return ops.getitem(self, idx)

    # shape
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def view(self, *shape): return ops.reshape(self, *shape)
    def permute(self, *dims): return ops.permute(self, *dims)
    def transpose(self, dim0=None, dim1=None): return ops.transpose(self, dim0, dim1)
    T = property(lambda self: ops.permute(self, *reversed(range(self.ndim))))
    def expand(self, *shape): return ops.expand(self, *shape)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def squeeze(self, dim=None): return ops.squeeze(self, dim)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def flip(self, dims): return ops.flip(self, dims)
    def pad(self, pad, value=0): return ops.pad(self, pad, value)
    def narrow(self, dim, start, length): return ops.narrow(self, dim, start, length)
    def split(self, split_size_or_sections, dim=0): return ops.split(self, split_size_or_sections, dim)
    def chunk(self, chunks, dim=0): return ops.chunk(self, chunks, dim)
    # indexing (torch names)
    def index_select(self, dim, index): return ops.index_select(self, dim, index)
    def index_add(self, dim, index, source, alpha=1): return ops.index_add(self, dim, index, source, alpha)
    def take_along_dim(self, indices, dim=None): return ops.take_along_dim(self, indices, dim)
    def gather(self, dim, index): return ops.gather(self, dim, index)
    # reductions
    def sum(self, *args, **kwargs): return ops.sum(self, *args, **kwargs)
    def mean(self, *args, **kwargs): return ops.mean(self, *args, **kwargs)
    def max(self, dim=None, keepdim=False): return ops.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return ops.min(self, dim, keepdim)
    def amax(self, *args, **kwargs): return ops.amax(self, *args, **kwargs)
    def amin(self, *args, **kwargs): return ops.amin(self, *args, **kwargs)
    def topk(self, k, dim=-1, largest=True, sorted=True): return ops.topk(self, k, dim, largest, sorted)
    def prod(self, *args, **kwargs): return ops.prod(self, *args, **kwargs)
    def argmax(self, dim=None, keepdim=False): return ops.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return ops.argmin(self, dim, keepdim)
    def cumsum(self, *args, **kwargs): return ops.cumsum(self, *args, **kwargs)
    def cumprod(self, *args, **kwargs): return ops.cumprod(self, *args, **kwargs)
    def cummax(self, dim): return ops.cummax(self, dim)
    def cummin(self, dim): return ops.cummin(self, dim)
    def sort(self, dim=-1, descending=False, *, stable=False): return ops.sort(self, dim, descending, stable=stable)
    def argsort(self, dim=-1, descending=False, *, stable=False): return ops.argsort(self, dim, descending, stable=stable)
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.var(self, dim, unbiased, keepdim, correction=correction)
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.std(self, dim, unbiased, keepdim, correction=correction)
    def var_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.var_mean(self, dim, unbiased, keepdim, correction=correction)
    def std_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return ops.std_mean(self, dim, unbiased, keepdim, correction=correction)
    def softmax(self, dim=-1, dtype=None): return ops.softmax(self, dim, dtype=dtype)
    def log_softmax(self, dim=-1, dtype=None): return ops.log_softmax(self, dim, dtype=dtype)
    def logsumexp(self, dim=None, keepdim=False): return ops.logsumexp(self, dim, keepdim)
    # math
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def tan(self): return ops.tan(self)
    def tanh(self): return ops.tanh(self)
    def sqrt(self): return ops.sqrt(self)
    def rsqrt(self): return ops.rsqrt(self)
    def erf(self): return ops.erf(self)
    def abs(self): return ops.abs(self)
    def sign(self): return ops.sign(self)
    def floor(self): return ops.floor(self)
    def ceil(self): return ops.ceil(self)
    def round(self, decimals=0): return ops.round(self, decimals=decimals)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def square(self): return ops.mul(self, self)
    def clamp(self, min=None, max=None): return ops.clamp(self, min, max)
    def clip(self, min=None, max=None): return ops.clamp(self, min, max)
    def maximum(self, o): return ops.maximum(self, o)
    def minimum(self, o): return ops.minimum(self, o)
    def expm1(self): return ops.expm1(self)
    def log1p(self): return ops.log1p(self)
    def neg(self): return ops.neg(self)
    negative = neg
    # named arithmetic, comparisons and logic (torch.Tensor has a method for each operator)
    def add(self, o, *, alpha=1): return ops.add(self, o, alpha=alpha)
    def sub(self, o, *, alpha=1): return ops.sub(self, o, alpha=alpha)
    def mul(self, o): return ops.mul(self, o)
    def div(self, o): return ops.div(self, o)
    def pow(self, o): return ops.pow(self, o)
    def matmul(self, o): return ops.matmul(self, o)
    def dot(self, o): return ops.dot(self, o)
    def outer(self, o): return ops.outer(self, o)
    def atan2(self, o): return ops.atan2(self, o)
    def remainder(self, o): return ops.remainder(self, o)
    def fmod(self, o): return ops.fmod(self, o)
    def floor_divide(self, o): return ops.floor_divide(self, o)
    subtract, multiply, divide, true_divide = sub, mul, div, div
    def eq(self, o): return ops.eq(self, o)
    def ne(self, o): return ops.ne(self, o)
    def lt(self, o): return ops.lt(self, o)
    def le(self, o): return ops.le(self, o)
    def gt(self, o): return ops.gt(self, o)
    def ge(self, o): return ops.ge(self, o)
    def logical_and(self, o): return ops.logical_and(self, o)
    def logical_or(self, o): return ops.logical_or(self, o)
    def logical_xor(self, o): return ops.logical_xor(self, o)
    def logical_not(self): return ops.logical_not(self)
    def where(self, cond, other): return ops.where(cond, self, other)
    def astype(self, dtype): return ops.astype(self, dtype)
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        return ops.to(self, *args, dtype=dtype, device=device, non_blocking=non_blocking, copy=copy)
    def type(self, dtype=None, non_blocking=False): return ops.promotion.type_(self, dtype, non_blocking)
    def type_as(self, other): return ops.type_as(self, other)
    def cpu(self): return self
    def float(self): return ops.astype(self, "float32")
    def double(self): return ops.astype(self, "float64")
    def int(self): return ops.astype(self, "int32")
    def long(self): return ops.astype(self, "int64")
    def bool(self): return ops.astype(self, "bool")
    def half(self): return ops.astype(self, "float16")
    def detach(self): return ops.stop_gradient(self)


class _Basics:
    """PyTorch's tensor basics (slope.ops.basics): copies, new_* constructors, tests, masks, item assignment."""
    def __floordiv__(self, o): return ops.floor_divide(self, o)
    def __rfloordiv__(self, o): return ops.floor_divide(o, self)
    def __mod__(self, o): return ops.remainder(self, o)
    def __rmod__(self, o): return ops.remainder(o, self)
    def div(self, o, *, rounding_mode=None): return ops.div(self, o, rounding_mode=rounding_mode)
    divide = div
    def clone(self): return ops.clone(self)
    def contiguous(self): return self
    def new_zeros(self, *size, dtype=None, device=None): return ops.basics.new_zeros(self, *size, dtype=dtype, device=device)
    def new_ones(self, *size, dtype=None, device=None): return ops.basics.new_ones(self, *size, dtype=dtype, device=device)
    def new_empty(self, *size, dtype=None, device=None): return ops.basics.new_zeros(self, *size, dtype=dtype, device=device)
    def new_full(self, size, fill_value, dtype=None, device=None):
        return ops.basics.new_full(self, size, fill_value, dtype=dtype, device=device)
    def new_tensor(self, data, dtype=None, device=None): return ops.basics.new_tensor(self, data, dtype=dtype, device=device)
    def any(self, dim=None, keepdim=False): return ops.any(self, dim, keepdim)
    def all(self, dim=None, keepdim=False): return ops.all(self, dim, keepdim)
    def isnan(self): return ops.isnan(self)
    def isinf(self): return ops.isinf(self)
    def isfinite(self): return ops.isfinite(self)
    def isposinf(self): return ops.isposinf(self)
    def isneginf(self): return ops.isneginf(self)
    def isclose(self, o, rtol=1e-05, atol=1e-08, equal_nan=False): return ops.isclose(self, o, rtol, atol, equal_nan)
    def allclose(self, o, rtol=1e-05, atol=1e-08, equal_nan=False): return ops.allclose(self, o, rtol, atol, equal_nan)
    def equal(self, o): return ops.equal(self, o)
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None): return ops.nan_to_num(self, nan, posinf, neginf)
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)
    def __getitem__(self, idx): return ops.getitem(self, idx)
    def __setitem__(self, idx, value): ops.basics.assign(self, ops.setitem(self, idx, value), "setitem", cast=True)
    def zero_(self): return ops.basics.assign(self, ops.zeros_like(self), "zero_")
    def fill_(self, value): return ops.basics.assign(self, ops.basics.fill(self, value), "fill_")
    def copy_(self, src): return ops.basics.assign(self, ops.basics.copy_from(self, src), "copy_", cast=True)


# In-place methods (PyTorch's trailing underscore): name_ computes the method `name` and rebinds self to
# the result (slope.ops.basics.assign), so later uses see it; the result keeps self's shape and dtype.
INPLACE = ["add", "sub", "mul", "div", "pow", "remainder", "fmod", "floor_divide", "atan2", "clamp", "clip",
           "neg", "abs", "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "rsqrt", "sigmoid", "relu", "erf",
           "expm1", "log1p", "floor", "ceil", "round", "sign", "square", "masked_fill", "nan_to_num",
           "logical_and", "logical_or", "logical_xor", "logical_not", "maximum", "minimum"]


def _inplace(name):
    def method(self, *args, **kwargs):
        return ops.basics.assign(self, getattr(TensorMethods, name)(self, *args, **kwargs), name + "_")

    method.__name__ = name + "_"
    method.__doc__ = f"In place: self = self.{name}(...) (slope.ops.basics.assign)."
    return method


def attach(cls=TensorMethods):
    """Give cls (and so Tensor and Tracer) every method and operator defined above."""
    for klass in (_Methods, _Basics):
        for name, value in vars(klass).items():
            if name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__hash__"):
                setattr(cls, name, value)
    for name in INPLACE:
        setattr(cls, name + "_", _inplace(name))
    cls.subtract_, cls.multiply_, cls.divide_ = cls.sub_, cls.mul_, cls.div_
