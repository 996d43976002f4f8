"""slope.nn.init: PyTorch's initializers, functional.

slope tensors are immutable, so each `name_(tensor, ..., key=None)` returns a *new* tensor with the
shape and dtype of `tensor` (which is only read for those) instead of filling it in place:

    layer.weight = init.xavier_uniform_(layer.weight, key=k)

`tensor` may also be a shape tuple (float32). Random draws take a slope.random key; without one they
draw from the global key, like slope.randn (eager only). Fans follow torch.nn.init: fan_in =
size(1) * receptive field, fan_out = size(0) * receptive field.
"""
from __future__ import annotations

import math

from slope import ops as O
from slope.core import dtypes as dt
from slope.errors import ArgumentError, ShapeError
from slope.random import samplers as R
from slope.random.torch_style import _next_key

__all__ = ["calculate_gain", "uniform_", "normal_", "zeros_", "ones_", "constant_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "next_key"]


def next_key(key, op):
    """`key`, or (when None) a fresh key split off slope's global key (eager only, like slope.randn)."""
    return _next_key(op, None) if key is None else key


def _like(t):
    if isinstance(t, (tuple, list)):
        return tuple(int(s) for s in t), dt.float32
    return tuple(t.shape), t.dtype


def _draw(sampler, key, op, shape, dtype, *args):
    x = sampler(next_key(key, op), shape, *args) if args else sampler(next_key(key, op), shape)
    return x if x.dtype is dtype else x.astype(dtype)


def calculate_gain(nonlinearity, param=None):
    lin = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "sigmoid")
    if nonlinearity in lin:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope_ = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope_ ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(op, shape):
    if len(shape) < 2:
        raise ShapeError(f"{op}: fan in and fan out need a tensor of at least 2 dims, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def uniform_(tensor, a=0.0, b=1.0, key=None):
    shape, dtype = _like(tensor)
    u = R.uniform(next_key(key, "init.uniform_"), shape)
    return (u * (b - a) + a).astype(dtype)


def normal_(tensor, mean=0.0, std=1.0, key=None):
    shape, dtype = _like(tensor)
    return (R.normal(next_key(key, "init.normal_"), shape) * std + mean).astype(dtype)


def constant_(tensor, val):
    shape, dtype = _like(tensor)
    return O.full(shape, val, dtype=dtype)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, key=None):
    shape, _ = _like(tensor)
    fan_in, fan_out = _fans("init.xavier_uniform_", shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, key=next_key(key, "init.xavier_uniform_"))


def xavier_normal_(tensor, gain=1.0, key=None):
    shape, _ = _like(tensor)
    fan_in, fan_out = _fans("init.xavier_normal_", shape)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), key=next_key(key, "init.xavier_normal_"))


def _kaiming_std(op, shape, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(op, shape)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", key=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan); PyTorch's Linear/Conv weights use a=sqrt(5)."""
    shape, _ = _like(tensor)
    bound = math.sqrt(3.0) * _kaiming_std("init.kaiming_uniform_", shape, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, key=next_key(key, "init.kaiming_uniform_"))


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", key=None):
    shape, _ = _like(tensor)
    std = _kaiming_std("init.kaiming_normal_", shape, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, key=next_key(key, "init.kaiming_normal_"))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, key=None):
    """Normal(mean, std) restricted to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_)."""
    shape, dtype = _like(tensor)
    if not a < b:
        raise ArgumentError(f"init.trunc_normal_: need a < b, got a={a}, b={b}")
    z = R.truncated_normal(next_key(key, "init.trunc_normal_"), (a - mean) / std, (b - mean) / std, shape)
    return O.clamp(z * std + mean, min=a, max=b).astype(dtype)
