"""The Llama forward pass as functions of a parameter dict keyed by Hugging Face's names.

`params` maps `model.embed_tokens.weight`, `model.layers.N.self_attn.q_proj.weight`, ... to slope tensors
in Hugging Face's layout (a Linear weight is `(out_features, in_features)`, applied as `x @ w.T`), so a
checkpoint loads and saves without renaming or transposing. Every function here is traceable: it runs
eagerly, under `slope.jit` and under `slope.grad`.
"""
from __future__ import annotations

import numpy as np

import slope
import slope.lax as lax
import slope.random as R
from slope.errors import ArgumentError, DomainError, DTypeError, ShapeError
from slope.models.llama.config import LlamaConfig

_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint32")
# a large finite negative for masked scores (Hugging Face uses finfo.min; -inf would NaN a fully masked row)
_MASKED = float(np.finfo(np.float32).min)


# -- parameter names ------------------------------------------------------------------------------------------
def layer_names(config: LlamaConfig, i: int) -> dict[str, tuple]:
    """The parameter names of decoder layer i and their shapes."""
    h, f, d = config.hidden_size, config.intermediate_size, config.head_dim
    nq, nkv = config.num_attention_heads * d, config.num_key_value_heads * d
    p = f"model.layers.{i}."
    out = {
        p + "input_layernorm.weight": (h,),
        p + "post_attention_layernorm.weight": (h,),
        p + "self_attn.q_proj.weight": (nq, h),
        p + "self_attn.k_proj.weight": (nkv, h),
        p + "self_attn.v_proj.weight": (nkv, h),
        p + "self_attn.o_proj.weight": (h, nq),
        p + "mlp.gate_proj.weight": (f, h),
        p + "mlp.up_proj.weight": (f, h),
        p + "mlp.down_proj.weight": (h, f),
    }
    if config.attention_bias:
        out.update({p + "self_attn.q_proj.bias": (nq,), p + "self_attn.k_proj.bias": (nkv,),
                    p + "self_attn.v_proj.bias": (nkv,), p + "self_attn.o_proj.bias": (h,)})
    if config.mlp_bias:
        out.update({p + "mlp.gate_proj.bias": (f,), p + "mlp.up_proj.bias": (f,), p + "mlp.down_proj.bias": (h,)})
    return out


def param_shapes(config: LlamaConfig) -> dict[str, tuple]:
    """Every parameter name of a `LlamaForCausalLM` with this config and its shape."""
    shapes = {"model.embed_tokens.weight": (config.vocab_size, config.hidden_size)}
    for i in range(config.num_hidden_layers):
        shapes.update(layer_names(config, i))
    shapes["model.norm.weight"] = (config.hidden_size,)
    if not config.tie_word_embeddings:
        shapes["lm_head.weight"] = (config.vocab_size, config.hidden_size)
    return shapes


def init_params(config: LlamaConfig, key, std: float = 0.02) -> dict:
    """Random parameters as Hugging Face initializes them: normal(0, std) weights, zero biases, unit norms.
    Staged as one program: one compile, not one per parameter shape (28 for a 2-layer model: 30 s cold)."""
    shapes = param_shapes(config)

    def init(key):
        params = {}
        keys = R.split(key, len(shapes))
        for i, (name, shape) in enumerate(shapes.items()):
            if name.endswith("layernorm.weight") or name == "model.norm.weight":
                params[name] = slope.ones(*shape)
            elif name.endswith(".bias"):
                params[name] = slope.zeros(*shape)
            else:
                params[name] = R.normal(keys[i], shape) * std
        return params

    return slope.jit(init)(key)


# -- building blocks ------------------------------------------------------------------------------------------
def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def rms_norm(x, w, eps):
    return x * ((x * x).mean(-1, keepdim=True) + eps).rsqrt() * w


def silu(x):
    return x * x.sigmoid()


def rotate_half(x):
    h = x.shape[-1] // 2
    return slope.cat([-x[..., h:], x[..., :h]], -1)


def rope_cos_sin(config: LlamaConfig, positions):
    """cos, sin of shape positions.shape + (head_dim,) in Hugging Face's rotate-half layout."""
    freqs = positions.astype(slope.float32)[..., None] * slope.tensor(config.inv_freq())
    emb = slope.cat([freqs, freqs], -1)
    return emb.cos(), emb.sin()


def apply_rope(x, cos, sin):
    """x: (batch, heads, seq, head_dim); cos, sin: (batch, seq, head_dim)."""
    cos, sin = cos[:, None], sin[:, None]
    return x * cos + rotate_half(x) * sin


def _get(params, name):
    return params.get(name)


def attention(params, config: LlamaConfig, i: int, x, cos, sin, mask, kv=None, start=None):
    """Grouped-query self-attention of layer i. mask: bool (batch, seq, keys). With kv = (k_cache, v_cache)
    of shape (batch, kv_heads, max_len, head_dim), the new keys and values are written at slot `start` (a
    0-d int32 tensor, traced under jit) and attention runs over the whole cache; returns (out, new kv)."""
    B, T, _ = x.shape
    H, KV, D = config.num_attention_heads, config.num_key_value_heads, config.head_dim
    p = f"model.layers.{i}.self_attn."
    q = linear(x, params[p + "q_proj.weight"], _get(params, p + "q_proj.bias")).reshape(B, T, H, D).transpose(1, 2)
    k = linear(x, params[p + "k_proj.weight"], _get(params, p + "k_proj.bias")).reshape(B, T, KV, D).transpose(1, 2)
    v = linear(x, params[p + "v_proj.weight"], _get(params, p + "v_proj.bias")).reshape(B, T, KV, D).transpose(1, 2)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    if kv is not None:
        zero = slope.tensor(0, dtype=slope.int32)
        k = lax.dynamic_update_slice(kv[0], k, zero, zero, start, zero)
        v = lax.dynamic_update_slice(kv[1], v, zero, zero, start, zero)
        kv = (k, v)
    G = H // KV
    q = q.reshape(B, KV, G, T, D)                                   # head h = kv_head * G + g (HF's repeat_kv)
    scores = (q @ k[:, :, None].transpose(-1, -2)) * (D ** -0.5)  # (B, KV, G, T, S)
    scores = slope.where(mask[:, None, None], scores, _MASKED)
    probs = scores.softmax(-1)
    out = (probs @ v[:, :, None]).reshape(B, H, T, D).transpose(1, 2).reshape(B, T, H * D)
    return linear(out, params[p + "o_proj.weight"], _get(params, p + "o_proj.bias")), kv


def mlp(params, i: int, x):
    p = f"model.layers.{i}.mlp."
    g = linear(x, params[p + "gate_proj.weight"], _get(params, p + "gate_proj.bias"))
    u = linear(x, params[p + "up_proj.weight"], _get(params, p + "up_proj.bias"))
    return linear(silu(g) * u, params[p + "down_proj.weight"], _get(params, p + "down_proj.bias"))


def decoder(params, config: LlamaConfig, tokens, positions, mask, cache=None, start=None):
    """Embedding, the decoder layers and the final norm and head: float32 logits (batch, seq, vocab)."""
    eps = config.rms_norm_eps
    x = params["model.embed_tokens.weight"][tokens].astype(slope.float32)
    cos, sin = rope_cos_sin(config, positions)
    new_cache = []
    for i in range(config.num_hidden_layers):
        p = f"model.layers.{i}."
        a, kv = attention(params, config, i, rms_norm(x, params[p + "input_layernorm.weight"], eps), cos, sin, mask,
                          None if cache is None else cache[i], start)
        new_cache.append(kv)
        x = x + a
        x = x + mlp(params, i, rms_norm(x, params[p + "post_attention_layernorm.weight"], eps))
    x = rms_norm(x, params["model.norm.weight"], eps)
    head = params["model.embed_tokens.weight" if config.tie_word_embeddings else "lm_head.weight"]
    return x @ head.T, new_cache


# -- checks ---------------------------------------------------------------------------------------------------
def as_tokens(tokens, config: LlamaConfig, what="tokens"):
    """tokens as an integer (batch, seq) slope tensor; a SlopeError naming the problem otherwise."""
    if isinstance(tokens, (list, tuple, np.ndarray)):
        arr = np.asarray(tokens)
        if arr.dtype.kind not in "iu":
            raise DTypeError(f"Llama: {what} must be integers, got a {arr.dtype} array")
        tokens = slope.tensor(arr.astype(np.int32) if arr.dtype.kind == "i" else arr)
    if not hasattr(tokens, "dtype") or not hasattr(tokens, "shape"):
        raise ArgumentError(f"Llama: {what} must be a (batch, seq) integer tensor, got {type(tokens).__name__}")
    if str(tokens.dtype) not in _INT_DTYPES and getattr(tokens.dtype, "name", None) not in _INT_DTYPES:
        raise DTypeError(f"Llama: {what} must be an integer tensor (int32 or int64), got {tokens.dtype}")
    if len(tokens.shape) != 2:
        raise ShapeError(f"Llama: {what} must have shape (batch, seq), got shape {tuple(tokens.shape)}")
    if tokens.shape[1] > config.max_position_embeddings:
        raise DomainError(f"Llama: a sequence of {tokens.shape[1]} tokens is longer than max_position_embeddings "
                          f"({config.max_position_embeddings})")
    if tokens.shape[1] == 0:
        raise ShapeError("Llama: the sequence is empty (seq = 0)")
    return tokens


def _as_mask(attention_mask, shape, what="attention_mask"):
    if attention_mask is None:
        return None
    if isinstance(attention_mask, (list, tuple, np.ndarray)):
        attention_mask = slope.tensor(np.asarray(attention_mask))
    if tuple(attention_mask.shape) != tuple(shape):
        raise ShapeError(f"Llama: {what} must have the shape of tokens {tuple(shape)}, "
                         f"got {tuple(attention_mask.shape)}")
    return attention_mask != 0 if str(attention_mask.dtype) not in ("bool", "bool_") else attention_mask


def forward(params, config: LlamaConfig, tokens, attention_mask=None, positions=None):
    """Logits (batch, seq, vocab), float32, of a `LlamaForCausalLM` with these parameters.

    attention_mask: optional (batch, seq) of 0/1 or bool, 0 marking padding keys (as Hugging Face's).
    positions: optional (batch, seq) position ids (default 0..seq-1, as Hugging Face's forward).
    """
    tokens = as_tokens(tokens, config)
    B, T = tokens.shape
    mask = slope.arange(T)[None, :] <= slope.arange(T)[:, None]           # causal (seq, keys)
    mask = mask[None]
    pad = _as_mask(attention_mask, (B, T))
    if pad is not None:
        mask = mask & pad[:, None, :]
    else:
        mask = mask.expand(B, T, T)
    if positions is None:
        positions = slope.arange(T)[None].expand(B, T)
    logits, _ = decoder(params, config, tokens, positions, mask)
    return logits


def positions_from_mask(attention_mask):
    """Position ids of left-padded rows, as Hugging Face's generate: cumsum(mask) - 1, 0 at the padding."""
    m = np.asarray(attention_mask).astype(np.int64)
    return np.where(m != 0, np.cumsum(m, -1) - 1, 0)
