"""The Whisper forward pass as functions of a params dict keyed by Hugging Face's names (weights.py).

Encoder: conv1 (k 3, stride 1, pad 1) + GELU, conv2 (k 3, stride 2, pad 1) + GELU, the stored position table,
pre-LN blocks (self-attention, GELU MLP), a final LayerNorm. Decoder: token embedding + learned positions,
pre-LN blocks (causal self-attention, cross-attention over the encoder output, MLP), a final LayerNorm and
logits tied to the token embedding. A Linear weight is `(out, in)` as in Hugging Face; k_proj has no bias.
Every function is traceable (eager, jit, grad) and built from slope.nn.functional's verified functions.
"""
from __future__ import annotations

import numpy as np

import slope
import slope.lax as lax
import slope.nn.functional as F
from slope.errors import ArgumentError, DTypeError, DomainError, ShapeError
from slope.models.whisper.config import WhisperConfig

_ACTIVATIONS = {"gelu": "none", "gelu_new": "tanh", "gelu_pytorch_tanh": "tanh"}
LN_EPS = 1e-5


def _act(config: WhisperConfig, x):
    approx = _ACTIVATIONS.get(config.activation_function)
    if approx is None:
        raise ArgumentError(f"Whisper: activation_function {config.activation_function!r} is not supported "
                            f"(one of {sorted(_ACTIVATIONS)})")
    return F.gelu(x, approximate=approx)


def _ln(params, name, x):
    return F.layer_norm(x, x.shape[-1], params[name + ".weight"], params[name + ".bias"], LN_EPS)


def _heads(x, H):
    B, T, d = x.shape
    return x.reshape(B, T, H, d // H).transpose(1, 2)           # (B, H, T, D)


def _merge(x):
    B, H, T, D = x.shape
    return x.transpose(1, 2).reshape(B, T, H * D)


def project_kv(params, prefix, x, H):
    """Keys and values (B, H, S, D) of attention `prefix` over x (B, S, d); k_proj has no bias."""
    k = F.linear(x, params[prefix + ".k_proj.weight"])
    v = F.linear(x, params[prefix + ".v_proj.weight"], params[prefix + ".v_proj.bias"])
    return _heads(k, H), _heads(v, H)


def _attend(params, prefix, x, k, v, H, mask=None):
    q = _heads(F.linear(x, params[prefix + ".q_proj.weight"], params[prefix + ".q_proj.bias"]), H)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return F.linear(_merge(out), params[prefix + ".out_proj.weight"], params[prefix + ".out_proj.bias"])


def _mlp(params, config, p, x):
    h = _act(config, F.linear(x, params[p + ".fc1.weight"], params[p + ".fc1.bias"]))
    return F.linear(h, params[p + ".fc2.weight"], params[p + ".fc2.bias"])


# -- encoder --------------------------------------------------------------------------------------------------
def check_mel(mel, config: WhisperConfig, what="Whisper.encode"):
    """mel as a float32 (batch, n_mels, 2 * max_source_positions) slope tensor; a slope error otherwise."""
    if isinstance(mel, np.ndarray):
        mel = slope.tensor(mel.astype(np.float32) if mel.dtype.kind == "f" else mel)
    if not hasattr(mel, "shape") or not hasattr(mel, "dtype"):
        raise ArgumentError(f"{what}: mel must be a (batch, n_mels, frames) float tensor, got {type(mel).__name__}")
    if not mel.dtype.is_float:
        raise DTypeError(f"{what}: mel must be floating-point, got {mel.dtype}")
    if len(mel.shape) == 2:
        mel = mel[None]
    want = (config.num_mel_bins, config.n_audio_frames)
    if len(mel.shape) != 3 or tuple(mel.shape[1:]) != want:
        raise ShapeError(f"{what}: mel must have shape (batch, {want[0]}, {want[1]}) (num_mel_bins, "
                         f"2 * max_source_positions; pad_or_trim the audio to 30 s), got {tuple(mel.shape)}")
    return mel.astype(slope.float32)


def encoder(params, config: WhisperConfig, mel):
    """Encoder states (batch, max_source_positions, d_model) of a (batch, n_mels, frames) log-mel input."""
    H = config.encoder_attention_heads
    x = _act(config, F.conv1d(mel, params["encoder.conv1.weight"], params["encoder.conv1.bias"], 1, 1))
    x = _act(config, F.conv1d(x, params["encoder.conv2.weight"], params["encoder.conv2.bias"], 2, 1))
    x = x.transpose(1, 2) + params["encoder.embed_positions.weight"]
    for i in range(config.encoder_layers):
        p = f"encoder.layers.{i}"
        h = _ln(params, p + ".self_attn_layer_norm", x)
        k, v = project_kv(params, p + ".self_attn", h, H)
        x = x + _attend(params, p + ".self_attn", h, k, v, H)
        x = x + _mlp(params, config, p, _ln(params, p + ".final_layer_norm", x))
    return _ln(params, "encoder.layer_norm", x)


def cross_kv(params, config: WhisperConfig, enc):
    """The cross-attention keys and values of every decoder layer, computed once from the encoder output."""
    H = config.decoder_attention_heads
    return [project_kv(params, f"decoder.layers.{i}.encoder_attn", enc, H) for i in range(config.decoder_layers)]


# -- decoder --------------------------------------------------------------------------------------------------
def output_weight(params, config: WhisperConfig):
    return params["decoder.embed_tokens.weight" if config.tie_word_embeddings else "proj_out.weight"]


# IREE 3.13 runs a (1, K) x (K, N) product with a large N (Whisper's 51865-token head) ~3x slower than the
# same product with 4 rows (docs/stablehlo-notes.md, pitfall 31): the head pads its rows to at least 4.
MIN_HEAD_ROWS = 4


def output_logits(x, w):
    """x (batch, seq, d) @ w.T for w (vocab, d): logits (batch, seq, vocab), rows padded to MIN_HEAD_ROWS."""
    B, T, d = x.shape
    rows = x.reshape(B * T, d)
    if B * T < MIN_HEAD_ROWS:
        rows = slope.cat([rows, slope.zeros(MIN_HEAD_ROWS - B * T, d, dtype=rows.dtype)], 0)
    return (rows @ w.T)[:B * T].reshape(B, T, w.shape[0])


def decoder(params, config: WhisperConfig, tokens, positions, mask, cross, cache=None, start=None):
    """Logits (batch, seq, vocab) float32 and the new self-attention cache.

    tokens, positions: (batch, seq) int; mask: bool (batch or 1, seq, keys), True = attend; cross: per layer
    (k, v) (batch, heads, source, head_dim). With cache (per layer (k, v) of (batch, heads, max_len, head_dim)),
    the new keys and values are written at slot `start` (a 0-d int32 tensor) and attention runs over the cache.
    """
    H = config.decoder_attention_heads
    x = F.embedding(tokens, params["decoder.embed_tokens.weight"])
    if config.scale_embedding:
        x = x * float(np.sqrt(config.d_model))
    x = x + F.embedding(positions, params["decoder.embed_positions.weight"])
    mask = mask[:, None]                                            # broadcast over heads
    new_cache = []
    for i in range(config.decoder_layers):
        p = f"decoder.layers.{i}"
        h = _ln(params, p + ".self_attn_layer_norm", x)
        k, v = project_kv(params, p + ".self_attn", h, H)
        if cache is not None:
            zero = slope.tensor(0, dtype=slope.int32)
            k = lax.dynamic_update_slice(cache[i][0], k, zero, zero, start, zero)
            v = lax.dynamic_update_slice(cache[i][1], v, zero, zero, start, zero)
        new_cache.append((k, v))
        x = x + _attend(params, p + ".self_attn", h, k, v, H, mask)
        h = _ln(params, p + ".encoder_attn_layer_norm", x)
        x = x + _attend(params, p + ".encoder_attn", h, cross[i][0], cross[i][1], H)
        x = x + _mlp(params, config, p, _ln(params, p + ".final_layer_norm", x))
    x = _ln(params, "decoder.layer_norm", x)
    return output_logits(x, output_weight(params, config)), new_cache


def check_tokens(tokens, config: WhisperConfig, what="Whisper"):
    """tokens as an int32 (batch, seq) slope tensor with ids in range; a slope error otherwise."""
    if isinstance(tokens, (list, tuple, np.ndarray)):
        arr = np.asarray(tokens)
        if arr.dtype.kind not in "iu":
            raise DTypeError(f"{what}: tokens must be integers, got a {arr.dtype} array")
        tokens = slope.tensor(arr.astype(np.int32))
    if not hasattr(tokens, "dtype") or not hasattr(tokens, "shape"):
        raise ArgumentError(f"{what}: tokens must be a (batch, seq) integer tensor, got {type(tokens).__name__}")
    if not tokens.dtype.is_int:
        raise DTypeError(f"{what}: tokens must be an integer tensor, got {tokens.dtype}")
    if len(tokens.shape) == 1:
        tokens = tokens[None]
    if len(tokens.shape) != 2 or tokens.shape[1] == 0:
        raise ShapeError(f"{what}: tokens must have shape (batch, seq) with seq >= 1, got {tuple(tokens.shape)}")
    if tokens.shape[1] > config.max_target_positions:
        raise DomainError(f"{what}: {tokens.shape[1]} tokens are more than max_target_positions "
                          f"({config.max_target_positions})")
    ids = np.asarray(tokens)
    if ids.min() < 0 or ids.max() >= config.vocab_size:
        raise DomainError(f"{what}: token ids must lie in [0, vocab_size={config.vocab_size}), got "
                          f"min {ids.min()}, max {ids.max()}")
    return tokens.astype(slope.int32)


def forward(params, config: WhisperConfig, mel, tokens):
    """Decoder logits (batch, seq, vocab) float32 of tokens given log-mel input, without a cache."""
    enc = encoder(params, config, mel)
    B, T = tokens.shape
    if enc.shape[0] != B:
        raise ShapeError(f"Whisper: mel has batch {enc.shape[0]} but tokens have batch {B}")
    positions = slope.arange(T, dtype=slope.int32)[None].expand(B, T)
    causal = (slope.arange(T)[None, :] <= slope.arange(T)[:, None])[None]
    logits, _ = decoder(params, config, tokens, positions, causal, cross_kv(params, config, enc))
    return logits
