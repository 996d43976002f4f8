"""Neural-network functions: relu, softmax/log_softmax, convolutions and transposed convolutions
(PyTorch's conv1d/conv2d signatures)."""
from __future__ import annotations

import builtins

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.errors import ArgumentError, DTypeError, ShapeError, describe
from slope.ops.promotion import as_array, astype, normalize_dim, zeros_of
from slope.ops.arithmetic import add, div, exp, mul, stop_gradient, sub
from slope.ops.reductions import amax, logsumexp, sum
from slope.ops.shape import reshape, squeeze, unsqueeze
from slope.primitives.conv import _regroup, flip

_py_max, _py_sum = builtins.max, builtins.sum

__all__ = ["relu", "softmax", "log_softmax", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


def relu(x):
    x = as_array(x, 'relu')
    return lax.select(lax.gt(x, zeros_of(x)), x, zeros_of(x))  # relu'(0) = 0


def softmax(x, dim=-1, dtype=None):
    """exp(x) / sum(exp(x)) along dim, shifted by the max; a row holding +inf or only -inf gives NaN (as
    PyTorch and JAX). The exponentials are multiplied by the reciprocal of their sum: IREE 3.13 ran the
    max / exp / sum / divide chain 20x slower than this form (docs/stablehlo-notes.md, pitfall 30)."""
    x = as_array(x, 'softmax')
    if dtype is not None:  # torch converts the input first
        x = astype(x, dt.dtype(dtype, "softmax"))
    d = normalize_dim("softmax", dim, x.ndim)
    if not x.dtype.is_float:
        x = astype(x, dt.default_float)
    e = exp(sub(x, stop_gradient(amax(x, d, keepdim=True))))
    s = sum(e, d, keepdim=True)
    return mul(e, div(zeros_of(s) + 1, s))


def log_softmax(x, dim=-1, dtype=None):
    """x - logsumexp(x) along dim (-inf entries stay -inf while the row has a finite entry)."""
    x = as_array(x, 'log_softmax')
    if dtype is not None:  # torch converts the input first
        x = astype(x, dt.dtype(dtype, "log_softmax"))
    d = normalize_dim("log_softmax", dim, x.ndim)
    if not x.dtype.is_float:
        x = astype(x, dt.default_float)
    return sub(x, logsumexp(x, d, keepdim=True))


def _ntuple(op, name, v, n, minimum=None):
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(vals) != n or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in vals):
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    vals = tuple(int(i) for i in vals)
    if minimum is not None and any(i < minimum for i in vals):
        raise ShapeError(f"{op}: {name} must be >= {minimum}, got {v!r}")
    return vals


CONV_DTYPES = "float16, bfloat16, float32, float64"


def _conv_operands(op, x, w, nsp):
    x, w = as_array(x, op), as_array(w, op)
    if w.ndim != nsp + 2 or x.ndim not in (nsp + 1, nsp + 2):
        raise ShapeError(f"{op}: expected input of rank {nsp + 1} or {nsp + 2} and weight of rank {nsp + 2}, "
                         f"got {describe([x.aval, w.aval])}")
    if not (x.dtype.is_float and w.dtype.is_float):
        raise DTypeError(f"{op}: takes floating-point input and weight ({CONV_DTYPES}), got {describe([x.aval, w.aval])}"
                         "; convert integer tensors first, e.g. x.float()")
    if x.dtype is not w.dtype:
        d = dt.promote(x.dtype, w.dtype)
        x, w = astype(x, d), astype(w, d)
    if any(k == 0 for k in w.shape[2:]):
        raise ShapeError(f"{op}: the kernel size must be positive in every spatial dim, got weight {w.aval.str_short()}")
    unbatched = x.ndim == nsp + 1
    return (unsqueeze(x, 0) if unbatched else x), w, unbatched


def _groups(op, groups):
    if not (isinstance(groups, (int, np.integer)) and not isinstance(groups, bool)):
        raise ArgumentError(f"{op}: groups must be an int, got {type(groups).__name__} {groups!r}")
    if groups < 1:
        raise ShapeError(f"{op}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _add_bias(op, y, bias, nsp):
    if bias is None:
        return y
    bias = as_array(bias)
    if bias.shape != (y.shape[1],):
        raise ShapeError(f"{op}: bias must have shape ({y.shape[1]},), got {bias.aval.str_short()}")
    return add(y, reshape(bias, y.shape[1], *([1] * nsp)))


def _convnd(op, nsp, x, weight, bias, stride, padding, dilation, groups):
    """torch's conv: x (N, C, *S) or (C, *S), weight (O, C/groups, *K); floating-point dtypes only."""
    x, w, unbatched = _conv_operands(op, x, weight, nsp)
    stride = _ntuple(op, "stride", stride, nsp, 1)
    dilation = _ntuple(op, "dilation", dilation, nsp, 1)
    groups = _groups(op, groups)
    shapes = describe([x.aval, w.aval])
    if x.shape[1] != groups * w.shape[1] or w.shape[0] % groups:
        raise ShapeError(f"{op}: weight (O, C/groups, *K) needs C = groups * {w.shape[1]} = {groups * w.shape[1]} "
                         f"input channels and O divisible by groups={groups}, got {shapes}")
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
        pads = tuple((p, p) for p in _ntuple(op, "padding", padding, nsp, 0))
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    dilated = tuple(d * (k - 1) + 1 for d, k in zip(dilation, ksize))
    if any(k > n for k, n in zip(dilated, padded)):
        raise ShapeError(f"{op}: the kernel {tuple(ksize)} (dilated: {dilated}) is larger than the padded input "
                         f"{padded}: {shapes}")
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
    stride = _ntuple(op, "stride", stride, nsp, 1)
    padding = _ntuple(op, "padding", padding, nsp, 0)
    output_padding = _ntuple(op, "output_padding", output_padding, nsp, 0)
    dilation = _ntuple(op, "dilation", dilation, nsp, 1)
    groups = _groups(op, groups)
    if w.shape[0] % groups or x.shape[1] != w.shape[0]:
        raise ShapeError(f"{op}: weight (C_in, C_out/groups, *K) must have C_in = {x.shape[1]} divisible by "
                         f"groups={groups}, got {describe([x.aval, w.aval])}")
    if any(op_ >= _py_max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(f"{op}: output_padding {output_padding} must be smaller than stride or dilation")
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1
                for n, s, p, d, k, o in zip(x.shape[2:], stride, padding, dilation, w.shape[2:], output_padding))
    if any(n < 1 for n in out) and all(n > 0 for n in x.shape[2:]):
        raise ShapeError(f"{op}: the output size {out} would be too small (padding {padding} crops more than the "
                         f"output has): {describe([x.aval, w.aval])}")
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
