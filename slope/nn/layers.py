"""The layers of slope.nn, with PyTorch's constructor arguments, parameter names and default initializers.

Each constructor takes `key=` (a slope.random key) for its initial parameters; without one it splits
slope's global key (reproducible with slope.manual_seed; eager only). Layers that draw during
forward (Dropout, MultiheadAttention with dropout) take a key when called.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from slope import ops as O
from slope.core import dtypes as dt
from slope.core.tensor import tensor as _tensor
from slope.errors import ArgumentError, ShapeError
from slope.nn import functional as F
from slope.nn import init
from slope.nn.module import Module, record_buffer_update
from slope.random import prng

__all__ = ["Identity", "Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "Embedding", "LayerNorm", "RMSNorm",
           "GroupNorm", "BatchNorm2d", "Dropout", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten",
           "Sequential", "ModuleList", "MultiheadAttention", "ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softmax",
           "LogSoftmax", "LeakyReLU", "ELU", "Softplus"]


def _keys(key, op, n):
    """n independent keys from `key` (or from the global key when None)."""
    k = init.next_key(key, op)
    return list(prng.split(k, n)) if n > 1 else [k]


def _dtype(dtype, op):
    return dt.dtype_or(dtype, dt.float32, op)


def _kaiming_params(op, w_shape, fan_in, bias, key, dtype, n_bias=None):
    """PyTorch's Linear/Conv reset_parameters: kaiming_uniform(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
    kw, kb = _keys(key, op, 2)
    w = init.kaiming_uniform_(w_shape, a=math.sqrt(5), key=kw).astype(dtype)
    if not bias:
        return w, None
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return w, init.uniform_((w_shape[0] if n_bias is None else n_bias,), -bound, bound, key=kb).astype(dtype)


class Identity(Module):
    def forward(self, x):
        return x


class Linear(Module):
    """y = x @ weight.T + bias; weight (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, key=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight, self.bias = _kaiming_params("nn.Linear", (self.out_features, self.in_features),
                                                 self.in_features, bias, key, _dtype(dtype, "nn.Linear"))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _ConvNd(Module):
    _n = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 output_padding=0, key=None, dtype=None):
        super().__init__()
        op = f"nn.{type(self).__name__}"
        n = self._n
        if in_channels % groups or out_channels % groups:
            raise ShapeError(f"{op}: in_channels={in_channels} and out_channels={out_channels} must be divisible by "
                             f"groups={groups}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size, self.stride, self.dilation = _tuple(kernel_size, n), _tuple(stride, n), _tuple(dilation, n)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n)
        self.output_padding = _tuple(output_padding, n)
        if self._transposed:
            shape = (self.in_channels, self.out_channels // groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // groups) + self.kernel_size
        fan_in = shape[1] * math.prod(self.kernel_size)
        w, b = _kaiming_params(op, shape, fan_in, bias, key, _dtype(dtype, op), n_bias=self.out_channels)
        self.weight, self.bias = w, b

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")


class Conv1d(_ConvNd):
    _n = 1

    def forward(self, x):
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """PyTorch's Conv2d: stride, padding (ints or 'same'/'valid'), dilation, groups; weight (O, C/groups, kH, kW)."""

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """PyTorch's ConvTranspose2d: weight (C_in, C_out/groups, kH, kW)."""
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, key=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         output_padding, key, dtype)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)


class Embedding(Module):
    """A (num_embeddings, embedding_dim) table drawn from N(0, 1); the padding_idx row starts at zero."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, key=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ShapeError(f"nn.Embedding: padding_idx {padding_idx} out of range for {num_embeddings} rows")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        w = init.normal_((self.num_embeddings, self.embedding_dim), key=key).astype(_dtype(dtype, "nn.Embedding"))
        if padding_idx is not None:
            keep = np.ones((self.num_embeddings, 1), bool)
            keep[padding_idx] = False
            w = O.where(_tensor(keep), w, O.zeros_like(w))
        self.weight = w

    def forward(self, idx):
        return F.embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        self.normalized_shape = (int(normalized_shape),) if np.ndim(normalized_shape) == 0 else tuple(normalized_shape)
        self.eps = eps
        d = _dtype(dtype, "nn.LayerNorm")
        self.weight = O.ones(*self.normalized_shape, dtype=d) if elementwise_affine else None
        self.bias = O.zeros(*self.normalized_shape, dtype=d) if elementwise_affine and bias else None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


class RMSNorm(Module):
    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=None):
        super().__init__()
        self.normalized_shape = (int(normalized_shape),) if np.ndim(normalized_shape) == 0 else tuple(normalized_shape)
        self.eps = eps
        self.weight = O.ones(*self.normalized_shape, dtype=_dtype(dtype, "nn.RMSNorm")) if elementwise_affine else None

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)


class GroupNorm(Module):
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ShapeError(f"nn.GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps = int(num_groups), int(num_channels), eps
        d = _dtype(dtype, "nn.GroupNorm")
        self.weight = O.ones(num_channels, dtype=d) if affine else None
        self.bias = O.zeros(num_channels, dtype=d) if affine else None

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)


class BatchNorm2d(Module):
    """Per-channel batch normalization of (N, C, H, W) with running statistics as buffers.

    Training mode normalizes with the batch's statistics and computes the new running statistics
    ((1 - momentum) * running + momentum * batch, unbiased variance); being functional it cannot store
    them in place: run the model through `out, model = slope.nn.apply(model, x)` to get a model holding
    them (a plain `model(x)` leaves the running statistics as they were). Eval mode uses them.
    momentum=None is PyTorch's cumulative moving average: the factor is 1 / num_batches_tracked (counted
    after this batch). Only then is the `num_batches_tracked` buffer kept, as float32 (an integer leaf would
    stop `slope.grad` over the model; counts are exact up to 2**24); otherwise load_state_dict accepts and
    ignores PyTorch's key."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        d = _dtype(dtype, "nn.BatchNorm2d")
        self.weight = O.ones(num_features, dtype=d) if affine else None
        self.bias = O.zeros(num_features, dtype=d) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", O.zeros(num_features, dtype=d))
            self.register_buffer("running_var", O.ones(num_features, dtype=d))
            if momentum is None:
                self.register_buffer("num_batches_tracked", O.zeros((), dtype=dt.float32))

    def _ignored_keys(self):
        return {"num_batches_tracked"}

    def forward(self, x):
        if x.ndim != 4:
            raise ShapeError(f"nn.BatchNorm2d: expected a 4-d input (N, C, H, W), got {x.aval.str_short()}")
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            momentum = self.momentum
            if momentum is None:
                count = self.num_batches_tracked + 1.0
                record_buffer_update(self, "num_batches_tracked", count)
                momentum = 1.0 / count
            m, v = F.batch_norm_stats(x, self.running_mean, self.running_var, momentum)
            record_buffer_update(self, "running_mean", m)
            record_buffer_update(self, "running_var", v)
        rm = None if use_batch else self.running_mean
        rv = None if use_batch else self.running_var
        return F.batch_norm(x, rm, rv, self.weight, self.bias, use_batch, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class Dropout(Module):
    """Zeroes elements with probability p in training mode; call it with a key: drop(x, key=k)."""
    takes_key = True

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ArgumentError(f"nn.Dropout: p must be in [0, 1], got {p!r}")
        self.p = p

    def forward(self, x, key=None):
        return F.dropout(x, self.p, self.training, key)

    def extra_repr(self):
        return f"p={self.p}"


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.ceil_mode = dilation, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.ceil_mode = kernel_size, stride, padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)


def _activation(name, fn, **defaults):
    def __init__(self, **kw):
        Module.__init__(self)
        for k, v in {**defaults, **kw}.items():
            setattr(self, k, v)

    def forward(self, x):
        return fn(x, **{k: getattr(self, k) for k in defaults})

    return type(name, (Module,), {"__init__": __init__, "forward": forward, "__module__": __name__})


ReLU = _activation("ReLU", F.relu)
GELU = _activation("GELU", F.gelu, approximate="none")
SiLU = _activation("SiLU", F.silu)
Tanh = _activation("Tanh", F.tanh)
Sigmoid = _activation("Sigmoid", F.sigmoid)
LeakyReLU = _activation("LeakyReLU", F.leaky_relu, negative_slope=0.01)
ELU = _activation("ELU", F.elu, alpha=1.0)
Softplus = _activation("Softplus", F.softplus, beta=1.0, threshold=20.0)
Softmax = _activation("Softmax", F.softmax, dim=-1)
LogSoftmax = _activation("LogSoftmax", F.log_softmax, dim=-1)


def _call_with_key(m, x, key):
    return m(x, key=key) if getattr(m, "takes_key", False) else m(x)


class _Container(Module):
    """A Module whose children are its items, in order (Sequential, ModuleList): len, iteration and
    indexing (a slice gives a container of the same kind, made by `_of`)."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        mods = list(self._modules.values())
        return type(self)._of(mods[i]) if isinstance(i, slice) else mods[i]


class Sequential(_Container):
    """Modules called in order; names "0", "1", ... (or the keys of an OrderedDict). A key passed to the call
    is split among the layers that take one (Dropout)."""
    takes_key = True

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise ArgumentError(f"nn.Sequential: argument {i} is a {type(m).__name__}, not a Module")
                self.add_module(str(i), m)

    @classmethod
    def _of(cls, modules):
        return cls(*modules)

    def forward(self, x, key=None):
        layers = list(self._modules.values())
        needing = [m for m in layers if getattr(m, "takes_key", False)]
        keys = dict(zip(map(id, needing), prng.split(key, len(needing)))) if key is not None and needing else {}
        for m in layers:
            x = _call_with_key(m, x, keys.get(id(m)))
        return x


class ModuleList(_Container):
    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, m):
        if not isinstance(m, Module):
            raise ArgumentError(f"nn.ModuleList: expected a Module, got {type(m).__name__}")
        self.add_module(str(len(self._modules)), m)
        return self

    def extend(self, ms):
        for m in ms:
            self.append(m)
        return self

    @classmethod
    def _of(cls, modules):
        return cls(modules)


class MultiheadAttention(Module):
    """PyTorch's MultiheadAttention with its parameter layout (in_proj_weight (3E, E), in_proj_bias,
    out_proj.weight, out_proj.bias; with kdim or vdim other than embed_dim, q_proj_weight (E, E),
    k_proj_weight (E, kdim), v_proj_weight (E, vdim) instead of in_proj_weight), so state_dicts load unchanged.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False, dropout_key=None) -> (output, weights or None). Masks
    follow nn.MultiheadAttention: a bool True means "do not attend" (the opposite of
    scaled_dot_product_attention), a float mask is added to the scores."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False, kdim=None, vdim=None,
                 key=None, dtype=None):
        super().__init__()
        op = "nn.MultiheadAttention"
        if embed_dim % num_heads:
            raise ShapeError(f"{op}: embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = int(embed_dim), int(num_heads), dropout, \
            batch_first
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        # PyTorch packs the three projections into in_proj_weight only when key and value are embed_dim wide
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.head_dim = embed_dim // num_heads
        d = _dtype(dtype, op)
        k1, k2 = _keys(key, op, 2)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = init.xavier_uniform_((3 * embed_dim, embed_dim), key=k1).astype(d)
        else:
            kq, kk, kv = _keys(k1, op, 3)
            self.q_proj_weight = init.xavier_uniform_((embed_dim, embed_dim), key=kq).astype(d)
            self.k_proj_weight = init.xavier_uniform_((embed_dim, self.kdim), key=kk).astype(d)
            self.v_proj_weight = init.xavier_uniform_((embed_dim, self.vdim), key=kv).astype(d)
        self.in_proj_bias = O.zeros(3 * embed_dim, dtype=d) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, key=k2, dtype=d)
        if bias:
            self.out_proj.bias = O.zeros(embed_dim, dtype=d)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False, dropout_key=None):
        op = "nn.MultiheadAttention"
        batched = query.ndim == 3
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        B, L, E = query.shape
        S = key.shape[1]
        if (E != self.embed_dim or key.shape[-1] != self.kdim or value.shape[-1] != self.vdim
                or value.shape[1] != S):
            raise ShapeError(f"{op}: query, key, value must end in embed_dim={self.embed_dim}, kdim={self.kdim}, "
                             f"vdim={self.vdim} with key and value of one length, got {query.aval.str_short()}, "
                             f"{key.aval.str_short()}, {value.aval.str_short()}")
        H, D = self.num_heads, self.head_dim
        b = self.in_proj_bias
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q = F.linear(query, wq, None if b is None else b[:E])
        k = F.linear(key, wk, None if b is None else b[E:2 * E])
        v = F.linear(value, wv, None if b is None else b[2 * E:])
        q, k, v = (t.reshape(B, -1, H, D).transpose(1, 2) for t in (q, k, v))  # (B, H, len, D)
        scores = O.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(D))  # (B, H, L, S)
        if is_causal and attn_mask is None:
            attn_mask = _tensor(np.triu(np.ones((L, S), bool), 1))
        if attn_mask is not None:
            m = attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(B, H, L, S)
            scores = O.where(m, -math.inf, scores) if m.dtype.is_bool else scores + m
        if key_padding_mask is not None:
            kp = key_padding_mask.reshape(B, 1, 1, S)
            scores = O.where(kp, -math.inf, scores) if kp.dtype.is_bool else scores + kp
        attn = O.softmax(scores, -1)
        if self.training and self.dropout > 0:
            attn = F.dropout(attn, self.dropout, True, dropout_key)
        out = O.matmul(attn, v).transpose(1, 2).reshape(B, L, E)
        out = self.out_proj(out)
        if batched and not self.batch_first:
            out = out.transpose(0, 1)
        elif not batched:
            out = out.squeeze(0)
        if not need_weights:
            return out, None
        weights = attn.mean(1) if average_attn_weights else attn
        return out, (weights if batched else weights.squeeze(0))
