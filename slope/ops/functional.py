"""Neural-network functions: relu, softmax/log_softmax, convolutions and transposed convolutions
(PyTorch's conv1d/conv2d signatures)."""
from __future__ import annotations

import builtins

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.errors import ShapeError, describe
from slope.ops.arithmetic import add, div, exp, stop_gradient, sub
from slope.ops.promotion import as_array, astype, zeros_of
from slope.ops.reductions import amax, logsumexp, sum
from slope.ops.shape import reshape, squeeze, unsqueeze
from slope.primitives.conv import _regroup, flip

_py_max, _py_sum = builtins.max, builtins.sum

__all__ = ["relu", "softmax", "log_softmax", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


def relu(x):
    x = as_array(x)
    return lax.select(lax.gt(x, zeros_of(x)), x, zeros_of(x))  # relu'(0) = 0


def softmax(x, dim=-1):
    x = as_array(x)
    e = exp(sub(x, stop_gradient(amax(x, dim, keepdim=True))))
    return div(e, sum(e, dim, keepdim=True))


def log_softmax(x, dim=-1):
    x = as_array(x)
    return sub(x, logsumexp(x, dim, keepdim=True))


def _ntuple(op, name, v, n):
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(vals) != n or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in vals):
        raise ShapeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(i) for i in vals)


def _conv_operands(op, x, w, nsp):
    x, w = as_array(x), as_array(w)
    if w.ndim != nsp + 2 or x.ndim not in (nsp + 1, nsp + 2):
        raise ShapeError(f"{op}: expected input of rank {nsp + 1} or {nsp + 2} and weight of rank {nsp + 2}, "
                         f"got {describe([x.aval, w.aval])}")
    if x.dtype is not w.dtype:
        d = dt.promote(x.dtype, w.dtype)
        x, w = astype(x, d), astype(w, d)
    if not x.dtype.is_float:
        x, w = astype(x, dt.default_float), astype(w, dt.default_float)
    unbatched = x.ndim == nsp + 1
    return (unsqueeze(x, 0) if unbatched else x), w, unbatched


def _add_bias(op, y, bias, nsp):
    if bias is None:
        return y
    bias = as_array(bias)
    if bias.shape != (y.shape[1],):
        raise ShapeError(f"{op}: bias must have shape ({y.shape[1]},), got {bias.aval.str_short()}")
    return add(y, reshape(bias, y.shape[1], *([1] * nsp)))


def _convnd(op, nsp, x, weight, bias, stride, padding, dilation, groups):
    x, w, unbatched = _conv_operands(op, x, weight, nsp)
    stride = _ntuple(op, "stride", stride, nsp)
    dilation = _ntuple(op, "dilation", dilation, nsp)
    ksize = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nsp
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(f"{op}: padding='same' needs stride 1, got stride={stride}")
            total = [d * (k - 1) for d, k in zip(dilation, ksize)]
            pads = tuple((t // 2, t - t // 2) for t in total)  # any odd extra goes after, like torch
        else:
            raise ShapeError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        pads = tuple((p, p) for p in _ntuple(op, "padding", padding, nsp))
    if not isinstance(groups, int) or groups < 1:
        raise ShapeError(f"{op}: groups must be a positive int, got {groups!r}")
    y = lax.conv(x, w, window_strides=stride, padding=pads, lhs_dilation=(1,) * nsp, rhs_dilation=dilation,
                 feature_group_count=groups)
    y = _add_bias(op, y, bias, nsp)
    return squeeze(y, 0) if unbatched else y


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv1d: x (N, C, L) or (C, L), weight (O, C/groups, K)."""
    return _convnd("conv1d", 1, x, weight, bias, stride, padding, dilation, groups)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d: x (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW)."""
    return _convnd("conv2d", 2, x, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, nsp, x, weight, bias, stride, padding, output_padding, groups, dilation):

    x, w, unbatched = _conv_operands(op, x, weight, nsp)
    stride = _ntuple(op, "stride", stride, nsp)
    padding = _ntuple(op, "padding", padding, nsp)
    output_padding = _ntuple(op, "output_padding", output_padding, nsp)
    dilation = _ntuple(op, "dilation", dilation, nsp)
    if not isinstance(groups, int) or groups < 1 or w.shape[0] % groups or x.shape[1] != w.shape[0]:
        raise ShapeError(f"{op}: weight (C_in, C_out/groups, *K) must have C_in = {x.shape[1]} divisible by "
                         f"groups={groups}, got {describe([x.aval, w.aval])}")
    if any(op_ >= _py_max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(f"{op}: output_padding {output_padding} must be smaller than stride or dilation")
    # the transpose of conv w.r.t. its input: flipped kernel with in/out swapped per group, input dilated by stride
    kernel = flip(_regroup(w, groups), tuple(range(2, 2 + nsp)))
    pads = tuple((d * (k - 1) - p, d * (k - 1) - p + o)
                 for d, k, p, o in zip(dilation, w.shape[2:], padding, output_padding))
    y = lax.conv(x, kernel, window_strides=(1,) * nsp, padding=pads, lhs_dilation=stride, rhs_dilation=dilation,
                 feature_group_count=groups)
    y = _add_bias(op, y, bias, nsp)
    return squeeze(y, 0) if unbatched else y


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose1d: weight (C_in, C_out/groups, K)."""
    return _conv_transposend("conv_transpose1d", 1, x, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose2d: weight (C_in, C_out/groups, kH, kW)."""
    return _conv_transposend("conv_transpose2d", 2, x, weight, bias, stride, padding, output_padding, groups, dilation)
