"""slope.nn.functional: PyTorch's torch.nn.functional on slope's public ops.

Every function is a composition of verified ops (so jit, grad, vmap apply), written in its
numerically stable form (log_softmax via logsumexp, BCE-with-logits via log1p(exp(-|x|)), softplus
with a threshold). Each is listed in slope/testing/op_table_nn.py with a NumPy reference written
apart from this file, and runs through every check column of the ops conformance test. Invalid
shapes and dtypes raise slope errors naming the function.

Functions that draw random numbers (dropout, scaled_dot_product_attention with dropout_p > 0) take
a `slope.random` key: `key=`.
"""
from __future__ import annotations

import math
import numpy as np

from slope import ops as O
from slope.core import dtypes as dt
from slope.core.tensor import tensor as _const
from slope.errors import ArgumentError, DomainError, DTypeError, ShapeError
from slope.ops.functional import conv1d, conv2d, conv_transpose1d, conv_transpose2d, log_softmax, relu, softmax
from slope.ops.promotion import as_array
from slope.random import samplers as _rs

__all__ = [
    "relu", "gelu", "silu", "softplus", "elu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax",
    "scaled_dot_product_attention", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "one_hot", "pad", "interpolate", "embedding",
    "linear", "layer_norm", "rms_norm", "group_norm", "batch_norm", "batch_norm_stats", "dropout", "max_pool2d",
    "avg_pool2d", "adaptive_avg_pool2d", "normalize", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
]

REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------- helpers


def _float(op, x, what="input"):
    """x as a floating-point tensor; integer/bool inputs raise DTypeError naming op."""
    x = as_array(x, op)
    if not x.dtype.is_float:
        raise DTypeError(f"{op}: {what} must be a floating-point tensor, got {x.aval.str_short()}")
    return x


def _reduce(op, loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ArgumentError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ArgumentError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _same_shape(op, x, y, what=("input", "target")):
    if tuple(x.shape) != tuple(y.shape):
        raise ShapeError(f"{op}: {what[0]} and {what[1]} must have the same shape, got {x.aval.str_short()} and "
                         f"{y.aval.str_short()}")


def _pair(op, name, v, n=2):
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(vals) != n or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in vals):
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(i) for i in vals)


# ---------------------------------------------------------------- activations


def sigmoid(x):
    return O.sigmoid(_float("sigmoid", x))


def tanh(x):
    return O.tanh(_float("tanh", x))


def gelu(x, approximate="none"):
    """x * Phi(x) (approximate='none', with erf) or PyTorch's tanh approximation (approximate='tanh')."""
    x = _float("gelu", x)
    if approximate == "none":
        return x * 0.5 * (1.0 + O.erf(x * (1.0 / math.sqrt(2.0))))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + O.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))
    raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x):
    x = _float("silu", x)
    return x * O.sigmoid(x)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""
    x = _float("softplus", x)
    bx = x * beta
    safe = O.where(bx > threshold, O.zeros_like(bx), bx)  # exp never overflows, even in the unused branch
    return O.where(bx > threshold, x, O.log1p(O.exp(safe)) / beta)


def elu(x, alpha=1.0):
    x = _float("elu", x)
    neg = O.where(x > 0, O.zeros_like(x), x)
    return O.where(x > 0, x, alpha * O.expm1(neg))


def leaky_relu(x, negative_slope=0.01):
    x = _float("leaky_relu", x)
    return O.where(x > 0, x, x * negative_slope)


# ---------------------------------------------------------------- attention


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 *, dropout_key=None):
    """softmax(q k^T * scale + mask) v over the last two dims, as torch's F.scaled_dot_product_attention.

    query (..., L, E), key (..., S, E), value (..., S, Ev). attn_mask broadcasts to (..., L, S): a bool
    mask says which positions take part (True = attend), a float mask is added to the scores.
    is_causal masks position j > i (the upper triangle). dropout_p > 0 needs a slope.random key
    (dropout_key=). A row with every position masked gives NaN, as in PyTorch."""
    op = "scaled_dot_product_attention"
    q, k, v = _float(op, query, "query"), _float(op, key, "key"), _float(op, value, "value")
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(f"{op}: query, key and value need at least 2 dims (..., L, E), got "
                         f"{q.aval.str_short()}, {k.aval.str_short()}, {v.aval.str_short()}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"{op}: need query (..., L, E), key (..., S, E), value (..., S, Ev), got "
                         f"{q.aval.str_short()}, {k.aval.str_short()}, {v.aval.str_short()}")
    L, S = q.shape[-2], k.shape[-2]
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = O.matmul(q, k.transpose(-2, -1)) * s
    if is_causal:
        if attn_mask is not None:
            raise ArgumentError(f"{op}: pass either attn_mask or is_causal=True, not both")
        attn_mask = _const(np.tril(np.ones((L, S), bool)))
    if attn_mask is not None:
        m = as_array(attn_mask, op)
        try:
            O.broadcast_shapes(m.shape, scores.shape)
        except ShapeError:
            raise ShapeError(f"{op}: attn_mask {m.aval.str_short()} does not broadcast to the scores "
                             f"{scores.aval.str_short()}") from None
        if m.dtype.is_bool:
            scores = O.where(m, scores, -math.inf)
        elif m.dtype.is_float:
            scores = scores + m
        else:
            raise DTypeError(f"{op}: attn_mask must be bool or floating-point, got {m.aval.str_short()}")
    attn = O.softmax(scores, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, training=True, key=dropout_key)
    return O.matmul(attn, v)


# ---------------------------------------------------------------- losses


def _class_dim(op, x, target_shape=None):
    if x.ndim < 1:
        raise ShapeError(f"{op}: input must have a class dim: (C,), (N, C) or (N, C, d1, ...), got "
                         f"{x.aval.str_short()}")
    return 0 if x.ndim == 1 else 1


def _weight(op, weight, C, dtype):
    if weight is None:
        return None
    w = _float(op, weight, "weight")
    if tuple(w.shape) != (C,):
        raise ShapeError(f"{op}: weight must have shape ({C},) (one per class), got {w.aval.str_short()}")
    return w.astype(dtype) if w.dtype is not dtype else w


def _nll(op, logp, target, weight, ignore_index, reduction, cd):
    """PyTorch's nll_loss on log-probabilities: (loss per element or reduced, mask, w[target])."""
    expect = tuple(s for i, s in enumerate(logp.shape) if i != cd)
    if tuple(target.shape) != expect:
        raise ShapeError(f"{op}: class-index target must have shape {expect} for input {logp.aval.str_short()}, "
                         f"got {target.aval.str_short()}")
    valid = target != ignore_index
    safe = O.where(valid, target, O.zeros_like(target))
    picked = O.take_along_dim(logp, safe.unsqueeze(cd), dim=cd).squeeze(cd)
    w = O.ones_like(picked) if weight is None else O.index_select(weight, 0, safe.reshape(-1)).reshape(safe.shape)
    w = O.where(valid, w, O.zeros_like(w))
    loss = -picked * w
    if reduction == "none":
        return loss, valid, w
    if reduction == "sum":
        return loss.sum(), valid, w
    return loss.sum() / w.sum(), valid, w


def _index_target(op, target):
    target = as_array(target, op)
    if not target.dtype.is_int:
        raise DTypeError(f"{op}: class-index target must be an integer tensor, got {target.aval.str_short()}")
    return target


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-input[n, target[n]] * weight[target[n]], the mean divided by the sum of the weights (PyTorch)."""
    op = "nll_loss"
    x = _float(op, input)
    _check_reduction(op, reduction)
    cd = _class_dim(op, x)
    t = _index_target(op, target)
    w = _weight(op, weight, x.shape[cd], x.dtype)
    return _nll(op, x, t, w, ignore_index, reduction, cd)[0]


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """torch's F.cross_entropy: log_softmax over the class dim (dim 1, or 0 for a (C,) input), then
    with class indices (integer target, ignore_index, weight) or class probabilities (float target of
    the input's shape); label_smoothing mixes the target with the uniform distribution as PyTorch
    does (for index targets: (1-eps) nll + eps/C * sum_c -w_c logp_c, normalized like nll)."""
    op = "cross_entropy"
    x = _float(op, input)
    _check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise DomainError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    cd = _class_dim(op, x)
    C = x.shape[cd]
    w = _weight(op, weight, C, x.dtype)
    logp = O.log_softmax(x, cd)
    target = as_array(target, op)
    wshape = [1] * x.ndim
    wshape[cd] = C
    if target.dtype.is_float:  # class probabilities
        _same_shape(op, x, target, ("input", "probability target"))
        t = target.astype(x.dtype) if target.dtype is not x.dtype else target
        if label_smoothing > 0:
            t = t * (1.0 - label_smoothing) + label_smoothing / C
        prod = logp * t if w is None else logp * t * w.reshape(*wshape)
        loss = -prod.sum(cd)
        if reduction == "mean":
            return loss.sum() / (math.prod(x.shape) // C if x.shape else 1)
        return _reduce(op, loss, reduction)
    t = _index_target(op, target)
    nll, valid, wt = _nll(op, logp, t, w, ignore_index, reduction, cd)
    if label_smoothing == 0:
        return nll
    smooth = -(logp if w is None else logp * w.reshape(*wshape)).sum(cd)
    smooth = O.where(valid, smooth, O.zeros_like(smooth))
    if reduction == "mean":
        denom = wt.sum() if w is not None else valid.astype(x.dtype).sum()
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1.0 - label_smoothing) * nll + smooth * (label_smoothing / C)


def _loss_operands(op, input, target):
    x, t = _float(op, input), _float(op, target, "target")
    _same_shape(op, x, t)
    if t.dtype is not x.dtype:
        t = t.astype(x.dtype)
    return x, t


def mse_loss(input, target, reduction="mean"):
    x, t = _loss_operands("mse_loss", input, target)
    d = x - t
    return _reduce("mse_loss", d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    x, t = _loss_operands("l1_loss", input, target)
    return _reduce("l1_loss", O.abs(x - t), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta=0: l1_loss)."""
    op = "smooth_l1_loss"
    x, t = _loss_operands(op, input, target)
    if beta < 0:
        raise DomainError(f"{op}: beta must be >= 0, got {beta!r}")
    d = O.abs(x - t)
    if beta == 0:
        return _reduce(op, d, reduction)
    return _reduce(op, O.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def _elementwise_weight(op, weight, x):
    if weight is None:
        return None
    w = _float(op, weight, "weight")
    try:
        O.broadcast_to(w, x.shape)
    except ShapeError:
        raise ShapeError(f"{op}: weight {w.aval.str_short()} does not broadcast to the input "
                         f"{x.aval.str_short()}") from None
    return w


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log x + (1-t) log(1-x)) for probabilities x, each log clamped at -100 (PyTorch)."""
    op = "binary_cross_entropy"
    x, t = _loss_operands(op, input, target)
    w = _elementwise_weight(op, weight, x)
    loss = -(t * O.clamp(O.log(x), min=-100.0) + (1.0 - t) * O.clamp(O.log1p(-x), min=-100.0))
    return _reduce(op, loss if w is None else loss * w, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """BCE of sigmoid(x) computed from the logits stably: (1-t) x + (1 + (pw-1) t)(log1p(exp(-|x|)) + max(-x, 0))."""
    op = "binary_cross_entropy_with_logits"
    x, t = _loss_operands(op, input, target)
    w = _elementwise_weight(op, weight, x)
    softplus_neg = O.log1p(O.exp(-O.abs(x))) + O.maximum(-x, O.zeros_like(x))  # log(1 + exp(-x))
    if pos_weight is None:
        loss = (1.0 - t) * x + softplus_neg
    else:
        pw = _float(op, pos_weight, "pos_weight")
        try:
            O.broadcast_shapes(pw.shape, x.shape)
        except ShapeError:
            raise ShapeError(f"{op}: pos_weight {pw.aval.str_short()} does not broadcast to the input "
                             f"{x.aval.str_short()}") from None
        loss = (1.0 - t) * x + (1.0 + (pw - 1.0) * t) * softplus_neg
    return _reduce(op, loss if w is None else loss * w, reduction)


# ---------------------------------------------------------------- one_hot, pad, interpolate, embedding


def one_hot(tensor, num_classes=-1):
    """int64 one-hot over a new last dim; num_classes=-1 reads max + 1 from the data (eager only)."""
    op = "one_hot"
    t = as_array(tensor, op)
    if not t.dtype.is_int:
        raise DTypeError(f"{op}: expected an integer tensor of class indices, got {t.aval.str_short()}")
    if num_classes == -1:
        try:
            num_classes = int(t.max()) + 1 if t.size else 0
        except Exception as e:  # a tracer has no value
            raise ArgumentError(f"{op}: num_classes=-1 reads the data; under jit/vmap/grad pass num_classes") from e
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 0:
        raise ArgumentError(f"{op}: num_classes must be a non-negative int or -1, got {num_classes!r}")
    classes = O.arange(int(num_classes), dtype=t.dtype)
    return (t.unsqueeze(-1) == classes).astype(dt.int64)


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_index(n, lo, hi, mode):
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return np.mod(i, n)
    period = 2 * (n - 1)  # reflect: mirror without repeating the edge
    j = np.mod(i, period) if period else np.zeros_like(i)
    return np.where(j >= n, period - j, j)


def pad(input, pad, mode="constant", value=None):
    """torch's F.pad: pad = (last_lo, last_hi, second_last_lo, ...); modes constant (value, default 0),
    reflect (mirror, edge not repeated), replicate (edge repeated), circular (wrap around)."""
    op = "pad"
    if mode == "constant":
        return O.pad(input, pad, 0 if value is None else value)
    if mode not in PAD_MODES:
        raise ArgumentError(f"{op}: mode must be one of {PAD_MODES}, got {mode!r}")
    x = as_array(input, op)
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or len(pad) // 2 > x.ndim or \
            not all(isinstance(p, (int, np.integer)) and p >= 0 for p in pad):
        raise ShapeError(f"{op}: pad must be an even number of non-negative ints (two per padded dim, last dim "
                         f"first), at most {2 * x.ndim} for a {x.ndim}-d tensor, got {pad!r}")
    for i in range(len(pad) // 2):
        d = x.ndim - 1 - i
        lo, hi, n = int(pad[2 * i]), int(pad[2 * i + 1]), x.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ShapeError(f"{op}: reflect padding ({lo}, {hi}) must be smaller than the padded dim "
                             f"{d} of size {n}")
        if mode == "circular" and (lo > n or hi > n):
            raise ShapeError(f"{op}: circular padding ({lo}, {hi}) must be at most the size {n} of dim {d}")
        if n == 0:
            raise ShapeError(f"{op}: cannot pad an empty dim {d} in mode {mode!r}")
        if lo or hi:
            x = O.index_select(x, d, _const(_pad_index(n, lo, hi, mode).astype(np.int32)))
    return x


def _interp_matrix(n_in, n_out, mode, align_corners, scale):
    """(n_out, n_in) matrix M with out = M @ in along one dim (PyTorch's source-index rules)."""
    m = np.zeros((n_out, n_in), np.float64)
    j = np.arange(n_out, dtype=np.float64)
    if mode == "nearest":
        src = np.minimum(np.floor(j * scale).astype(np.int64), n_in - 1)
        m[np.arange(n_out), src] = 1.0
        return m
    if align_corners:
        src = j * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros_like(j)
    else:
        src = np.maximum((j + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    np.add.at(m, (np.arange(n_out), i0), 1.0 - lam)
    np.add.at(m, (np.arange(n_out), i1), lam)
    return m


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """torch's F.interpolate for (N, C, L) and (N, C, H, W): mode 'nearest' (source floor(j * in/out))
    or 'linear'/'bilinear' (align_corners as PyTorch). A given scale_factor sets the coordinate scale
    (1/scale_factor), as PyTorch does without recompute_scale_factor."""
    op = "interpolate"
    x = _float(op, input)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-d (N, C, L) or 4-d (N, C, H, W) input, got {x.aval.str_short()}")
    nsp = x.ndim - 2
    if mode not in ("nearest", "linear", "bilinear"):
        raise ArgumentError(f"{op}: mode must be 'nearest', 'linear' or 'bilinear', got {mode!r}")
    if mode != "nearest" and mode != ("linear", "bilinear")[nsp - 1]:
        raise ShapeError(f"{op}: mode {mode!r} needs a {3 if mode == 'linear' else 4}-d input, got "
                         f"{x.aval.str_short()}")
    if mode == "nearest" and align_corners is not None:
        raise ArgumentError(f"{op}: align_corners only applies to the linear modes")
    if (size is None) == (scale_factor is None):
        raise ArgumentError(f"{op}: pass exactly one of size and scale_factor")
    ins = x.shape[2:]
    if size is not None:
        outs = _pair(op, "size", size, nsp)
        scales = [i / o for i, o in zip(ins, outs)]
    else:
        sf = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nsp
        if len(sf) != nsp or any(s <= 0 for s in sf):
            raise ArgumentError(f"{op}: scale_factor must be a positive number or {nsp} of them, got {scale_factor!r}")
        outs = tuple(int(math.floor(i * s)) for i, s in zip(ins, sf))
        scales = [1.0 / s for s in sf]
    if any(o <= 0 for o in outs):
        raise ShapeError(f"{op}: the output size {outs} must be positive")
    y = x
    for k, (n_in, n_out, sc) in enumerate(zip(ins, outs, scales)):
        m = _const(_interp_matrix(n_in, n_out, mode, bool(align_corners), sc).astype(x.dtype.np))
        d = 2 + k
        y = O.matmul(y.transpose(d, -1), m.T).transpose(d, -1)  # contract dim d with M's columns
    return y


def embedding(input, weight, padding_idx=None):
    """weight[input]: rows of a (num_embeddings, dim) table; the padding_idx row gets no gradient."""
    op = "embedding"
    idx = as_array(input, op)
    w = _float(op, weight, "weight")
    if not idx.dtype.is_int:
        raise DTypeError(f"{op}: indices must be an integer tensor, got {idx.aval.str_short()}")
    if w.ndim != 2:
        raise ShapeError(f"{op}: weight must be a 2-d (num_embeddings, embedding_dim) table, got {w.aval.str_short()}")
    out = O.index_select(w, 0, idx.reshape(-1)).reshape(*idx.shape, w.shape[1])
    if padding_idx is not None:
        p = padding_idx % w.shape[0]
        out = O.where((idx == p).unsqueeze(-1), O.stop_gradient(out), out)
    return out


def linear(input, weight, bias=None):
    """input @ weight.T + bias, weight (out_features, in_features)."""
    op = "linear"
    x, w = _float(op, input), _float(op, weight, "weight")
    if w.ndim not in (1, 2) or x.ndim < 1 or x.shape[-1] != w.shape[-1]:
        raise ShapeError(f"{op}: input (..., in_features) and weight (out_features, in_features) do not match: "
                         f"{x.aval.str_short()} and {w.aval.str_short()}")
    y = O.matmul(x, w.T if w.ndim == 2 else w)
    if bias is not None:
        b = _float(op, bias, "bias")
        if tuple(b.shape) != tuple(y.shape[-1:]) and b.shape != ():
            raise ShapeError(f"{op}: bias must have shape ({w.shape[0]},), got {b.aval.str_short()}")
        y = y + b
    return y


# ---------------------------------------------------------------- normalization


def _norm_shape(op, x, normalized_shape):
    ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(ns)
    if k == 0 or k > x.ndim or tuple(x.shape[x.ndim - k:]) != ns:
        raise ShapeError(f"{op}: normalized_shape {ns} must match the trailing dims of the input "
                         f"{x.aval.str_short()}")
    return ns, tuple(range(x.ndim - k, x.ndim))


def _affine(op, y, weight, bias, shape, what=""):
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p = _float(op, p, name)
        if tuple(p.shape) != tuple(shape):
            raise ShapeError(f"{op}: {name} must have shape {tuple(shape)}{what}, got {p.aval.str_short()}")
        y = y * p if name == "weight" else y + p
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over the trailing normalized_shape dims (biased variance)."""
    op = "layer_norm"
    x = _float(op, input)
    ns, dims = _norm_shape(op, x, normalized_shape)
    mu = x.mean(dims, keepdim=True)
    c = x - mu
    var = (c * c).mean(dims, keepdim=True)
    return _affine(op, c * O.rsqrt(var + eps), weight, bias, ns)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims; eps defaults to the dtype's machine epsilon."""
    op = "rms_norm"
    x = _float(op, input)
    ns, dims = _norm_shape(op, x, normalized_shape)
    e = float(np.finfo(x.dtype.np).eps) if eps is None else eps
    return _affine(op, x * O.rsqrt((x * x).mean(dims, keepdim=True) + e), weight, None, ns)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize (N, C, *) over each group of C / num_groups channels and the spatial dims."""
    op = "group_norm"
    x = _float(op, input)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected an input (N, C, *), got {x.aval.str_short()}")
    N, C = x.shape[0], x.shape[1]
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or C % num_groups:
        raise ShapeError(f"{op}: the {C} channels of {x.aval.str_short()} must split into num_groups="
                         f"{num_groups!r} equal groups")
    g = x.reshape(N, int(num_groups), -1)
    mu = g.mean(2, keepdim=True)
    c = g - mu
    var = (c * c).mean(2, keepdim=True)
    y = (c * O.rsqrt(var + eps)).reshape(*x.shape)
    shape = (C,) + (1,) * (x.ndim - 2)
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            p = _float(op, p, name)
            if tuple(p.shape) != (C,):
                raise ShapeError(f"{op}: {name} must have shape ({C},), got {p.aval.str_short()}")
            y = y * p.reshape(*shape) if name == "weight" else y + p.reshape(*shape)
    return y


def _bn_dims(op, x):
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected an input (N, C, *), got {x.aval.str_short()}")
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm_stats(input, running_mean, running_var, momentum=0.1):
    """The running statistics after one training step of batch_norm on `input` (PyTorch's update:
    (1 - momentum) * running + momentum * batch, the variance unbiased), as new tensors; the inputs
    are not changed. Gradients do not flow into them. momentum may be a 0-d tensor (BatchNorm2d's
    cumulative average, 1 / num_batches_tracked)."""
    op = "batch_norm"
    x = O.stop_gradient(_float(op, input))
    dims, _ = _bn_dims(op, x)
    n = math.prod(x.shape[d] for d in dims)
    mu = x.mean(dims)
    var = x.var(dims, correction=0) * (n / max(n - 1, 1))
    return (1.0 - momentum) * running_mean + momentum * mu, (1.0 - momentum) * running_var + momentum * var


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize (N, C, *) per channel: with the batch's statistics when training (biased variance), with
    running_mean/running_var otherwise. Functional: the running statistics are not updated here (PyTorch
    updates them in place); batch_norm_stats returns the updated ones, nn.BatchNorm2d keeps them."""
    op = "batch_norm"
    x = _float(op, input)
    dims, shape = _bn_dims(op, x)
    C = x.shape[1]
    if training:
        if math.prod(x.shape[d] for d in dims) <= 1:
            raise ShapeError(f"{op}: training needs more than one value per channel, got {x.aval.str_short()}")
        mu = x.mean(dims, keepdim=True)
        c = x - mu
        var = (c * c).mean(dims, keepdim=True)
    else:
        if running_mean is None or running_var is None:
            raise ArgumentError(f"{op}: evaluation (training=False) needs running_mean and running_var")
        rm, rv = _float(op, running_mean, "running_mean"), _float(op, running_var, "running_var")
        if tuple(rm.shape) != (C,) or tuple(rv.shape) != (C,):
            raise ShapeError(f"{op}: running_mean and running_var must have shape ({C},), got "
                             f"{rm.aval.str_short()} and {rv.aval.str_short()}")
        c = x - rm.reshape(*shape)
        var = rv.reshape(*shape)
    y = c * O.rsqrt(var + eps)
    if weight is not None:
        y = y * _float(op, weight, "weight").reshape(*shape)
    if bias is not None:
        y = y + _float(op, bias, "bias").reshape(*shape)
    return y


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p along dim, eps)."""
    op = "normalize"
    x = _float(op, input)
    if p == 2:
        norm = O.sqrt((x * x).sum(dim, keepdim=True))
    elif p == 1:
        norm = O.abs(x).sum(dim, keepdim=True)
    elif p == math.inf:
        norm = O.abs(x).amax(dim, keepdim=True)
    else:
        norm = (O.abs(x) ** p).sum(dim, keepdim=True) ** (1.0 / p)
    return x / O.clamp(norm, min=eps)


# ---------------------------------------------------------------- dropout


def dropout(input, p=0.5, training=True, key=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training); identity when not
    training or p == 0. Needs a slope.random key when it draws: dropout(x, 0.1, key=k)."""
    op = "dropout"
    x = _float(op, input)
    if not 0.0 <= p <= 1.0:
        raise DomainError(f"{op}: p must be in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    if key is None:
        raise ArgumentError(f"{op}: training with p={p} draws random numbers: pass a key "
                            f"(key=slope.random.key(seed), split per call), or training=False")
    keep = _rs.bernoulli(key, 1.0 - p, tuple(x.shape))
    return O.where(keep, x * (1.0 / (1.0 - p)), O.zeros_like(x))


# ---------------------------------------------------------------- pooling


def _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got {x.aval.str_short()}")
    k = _pair(op, "kernel_size", kernel_size)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _pair(op, "stride", stride)
    p = _pair(op, "padding", padding)
    d = _pair(op, "dilation", dilation)
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ShapeError(f"{op}: kernel_size, stride and dilation must be positive and padding >= 0, got "
                         f"kernel_size={k}, stride={s}, padding={p}, dilation={d}")
    if any(pp * 2 > kk for pp, kk in zip(p, k)):
        raise ShapeError(f"{op}: padding {p} must be at most half the kernel size {k}")
    outs, extra = [], []
    for n, kk, ss, pp, dd in zip(x.shape[-2:], k, s, p, d):
        span = n + 2 * pp - dd * (kk - 1) - 1
        if span < 0:
            raise ShapeError(f"{op}: the (dilated) kernel {k} is larger than the padded input {x.aval.str_short()}")
        o = (-(-span // ss) if ceil_mode else span // ss) + 1
        if ceil_mode and (o - 1) * ss >= n + pp:  # the last window must start inside the input or left padding
            o -= 1
        outs.append(o)
        extra.append(max((o - 1) * ss + dd * (kk - 1) + 1 - (n + 2 * pp), 0))
    return k, s, p, d, tuple(outs), tuple(extra)


def _windows(xp, k, s, d, outs):
    """The k[0]*k[1] strided views of the padded input, one per kernel offset: each (..., OH, OW)."""
    views = []
    for i in range(k[0]):
        for j in range(k[1]):
            views.append(xp[..., i * d[0]: i * d[0] + s[0] * (outs[0] - 1) + 1: s[0],
                            j * d[1]: j * d[1] + s[1] * (outs[1] - 1) + 1: s[1]])
    return views


def _pad_hw(x, top, bottom, left, right, value):
    """x padded on its last two dims by concatenating constant blocks: its transpose is a slice. (The same
    through lax.pad transposes to a pad with negative edges, which iree-compile 3.13 rejects in some float64
    second-order programs: "'stream.yield' op used resource not listed in explicit captures".)"""
    if not (top or bottom or left or right):
        return x
    lead = tuple(x.shape[:-2])
    H, W = x.shape[-2:]
    parts = [O.full(lead + (H, n), value, dtype=x.dtype) if i != 1 else x
             for i, n in enumerate((left, W, right)) if n or i == 1]
    x = O.cat(parts, -1) if len(parts) > 1 else x
    W2 = x.shape[-1]
    parts = [O.full(lead + (n, W2), value, dtype=x.dtype) if i != 1 else x
             for i, n in enumerate((top, H, bottom)) if n or i == 1]
    return O.cat(parts, -2) if len(parts) > 1 else x


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The max over each window (padding with -inf), PyTorch's output size rule incl. ceil_mode."""
    op = "max_pool2d"
    x = _float(op, input)
    k, s, p, d, outs, extra = _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _pad_hw(x, p[0], p[0] + extra[0], p[1], p[1] + extra[1], -math.inf)
    return O.stack(_windows(xp, k, s, d, outs), 0).amax(0)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean over each window (zero padding counted when count_include_pad; the windows that ceil_mode
    adds past the padding count only what they cover, as PyTorch)."""
    op = "avg_pool2d"
    x = _float(op, input)
    k, s, p, d, outs, extra = _pool_geometry(op, x, kernel_size, stride, padding, 1, ceil_mode)
    xp = _pad_hw(x, p[0], p[0] + extra[0], p[1], p[1] + extra[1], 0.0)
    total = O.stack(_windows(xp, k, s, d, outs), 0).sum(0)
    if divisor_override is not None:
        return total / divisor_override
    H, W = x.shape[-2:]
    mask = np.zeros((H + 2 * p[0] + extra[0], W + 2 * p[1] + extra[1]), np.float64)
    if count_include_pad:
        mask[: H + 2 * p[0], : W + 2 * p[1]] = 1
    else:
        mask[p[0]: p[0] + H, p[1]: p[1] + W] = 1
    counts = sum(_windows(mask, k, s, d, outs))
    return total / _const(counts.astype(x.dtype.np))


def _adaptive_matrix(n_in, n_out):
    m = np.zeros((n_out, n_in), np.float64)
    for i in range(n_out):
        lo, hi = (i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive bins [floor(i*H/OH), ceil((i+1)*H/OH)); None keeps a dim's size."""
    op = "adaptive_avg_pool2d"
    x = _float(op, input)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got {x.aval.str_short()}")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ArgumentError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    outs = tuple(n if o is None else o for o, n in zip(sizes, x.shape[-2:]))
    if not all(isinstance(o, (int, np.integer)) and o >= 1 for o in outs):
        raise ShapeError(f"{op}: output_size must be positive ints, got {output_size!r}")
    mh = _const(_adaptive_matrix(x.shape[-2], outs[0]).astype(x.dtype.np))
    mw = _const(_adaptive_matrix(x.shape[-1], outs[1]).astype(x.dtype.np))
    return O.matmul(O.matmul(mh, x), mw.T)

