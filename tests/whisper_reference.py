"""An independent float64 NumPy Whisper (encoder, decoder logits), written from the model's definition
(openai/whisper model.py, HF modeling_whisper) and not from slope's code: convolutions as explicit sums over
the kernel taps, attention per head with explicit loops, GELU through math.erf."""
import math

import numpy as np

_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def conv1d(x, w, b, stride):
    """x (C, L), w (O, C, 3), zero padding 1: y[o, t] = b[o] + sum_{c,j} w[o, c, j] x[c, stride*t + j - 1]."""
    C, L = x.shape
    xp = np.zeros((C, L + 2))
    xp[:, 1:-1] = x
    T = (L + 2 - 3) // stride + 1
    y = np.empty((w.shape[0], T))
    for t in range(T):
        y[:, t] = b + np.einsum("ocj,cj->o", w, xp[:, stride * t:stride * t + 3])
    return y


def attention(p, prefix, x, kv_source, heads, causal):
    """Multi-head attention of one sequence x (T, d) over kv_source (S, d)."""
    d = x.shape[-1]
    D = d // heads
    q = x @ p[prefix + ".q_proj.weight"].T + p[prefix + ".q_proj.bias"]
    k = kv_source @ p[prefix + ".k_proj.weight"].T
    v = kv_source @ p[prefix + ".v_proj.weight"].T + p[prefix + ".v_proj.bias"]
    out = np.zeros_like(q)
    for h in range(heads):
        sl = slice(h * D, (h + 1) * D)
        s = q[:, sl] @ k[:, sl].T / math.sqrt(D)
        if causal:
            s = np.where(np.tril(np.ones(s.shape, bool)), s, -np.inf)
        s = np.exp(s - s.max(-1, keepdims=True))
        out[:, sl] = (s / s.sum(-1, keepdims=True)) @ v[:, sl]
    return out @ p[prefix + ".out_proj.weight"].T + p[prefix + ".out_proj.bias"]


def mlp(p, prefix, x):
    return gelu(x @ p[prefix + ".fc1.weight"].T + p[prefix + ".fc1.bias"]) @ p[prefix + ".fc2.weight"].T + \
        p[prefix + ".fc2.bias"]


def _ln(p, name, x):
    return layer_norm(x, p[name + ".weight"], p[name + ".bias"])


def encode(cfg, params, mel):
    """mel (batch, n_mels, frames) -> (batch, max_source_positions, d_model) float64."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    outs = []
    for m in np.asarray(mel, np.float64):
        x = gelu(conv1d(m, p["encoder.conv1.weight"], p["encoder.conv1.bias"], 1))
        x = gelu(conv1d(x, p["encoder.conv2.weight"], p["encoder.conv2.bias"], 2)).T
        x = x + p["encoder.embed_positions.weight"]
        for i in range(cfg["encoder_layers"]):
            pre = f"encoder.layers.{i}"
            h = _ln(p, pre + ".self_attn_layer_norm", x)
            x = x + attention(p, pre + ".self_attn", h, h, cfg["encoder_attention_heads"], False)
            x = x + mlp(p, pre, _ln(p, pre + ".final_layer_norm", x))
        outs.append(_ln(p, "encoder.layer_norm", x))
    return np.stack(outs)


def decode(cfg, params, enc, tokens):
    """Logits (batch, len, vocab) float64 of tokens given encoder states enc (batch, S, d)."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    emb = p["decoder.embed_tokens.weight"]
    scale = math.sqrt(cfg["d_model"]) if cfg.get("scale_embedding") else 1.0
    out = []
    for e, toks in zip(np.asarray(enc, np.float64), np.asarray(tokens)):
        x = emb[toks] * scale + p["decoder.embed_positions.weight"][np.arange(len(toks))]
        for i in range(cfg["decoder_layers"]):
            pre = f"decoder.layers.{i}"
            h = _ln(p, pre + ".self_attn_layer_norm", x)
            x = x + attention(p, pre + ".self_attn", h, h, cfg["decoder_attention_heads"], True)
            h = _ln(p, pre + ".encoder_attn_layer_norm", x)
            x = x + attention(p, pre + ".encoder_attn", h, e, cfg["decoder_attention_heads"], False)
            x = x + mlp(p, pre, _ln(p, pre + ".final_layer_norm", x))
        x = _ln(p, "decoder.layer_norm", x)
        head = emb if cfg.get("tie_word_embeddings", True) else p["proj_out.weight"]
        out.append(x @ head.T)
    return np.stack(out)


def logits(cfg, params, mel, tokens):
    return decode(cfg, params, encode(cfg, params, mel), tokens)
