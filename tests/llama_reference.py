"""An independent NumPy float64 Llama (Hugging Face's LlamaForCausalLM, written from its definition):
the oracle of tests/test_llama.py. It shares nothing with slope.models.llama but the parameter names."""
import math

import numpy as np


def inv_freq(cfg):
    d = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    inv = 1.0 / cfg.get("rope_theta", 10000.0) ** (np.arange(0, d, 2) / d)
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "linear":
        inv = inv / rs["factor"]
    elif kind == "llama3":
        f, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        out = []
        for w in inv:
            wavelen = 2 * math.pi / w
            if wavelen < old / hi:
                out.append(w)
            elif wavelen > old / lo:
                out.append(w / f)
            else:
                s = (old / wavelen - lo) / (hi - lo)
                out.append((1 - s) * w / f + s * w)
        inv = np.array(out)
    return inv


def llama_logits(cfg, params, tokens, attention_mask=None, positions=None):
    """float64 logits (batch, seq, vocab)."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    tokens = np.asarray(tokens)
    B, T = tokens.shape
    H, KV = cfg["num_attention_heads"], cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    D = cfg.get("head_dim") or cfg["hidden_size"] // H
    eps = cfg["rms_norm_eps"]
    pos = np.broadcast_to(np.arange(T), (B, T)) if positions is None else np.asarray(positions)
    ang = pos[..., None] * inv_freq(cfg)                                # (B, T, D/2)
    cos, sin = np.cos(ang), np.sin(ang)

    def rope(x):                                                        # x (B, heads, T, D), rotate-half pairs (i, i + D/2)
        a, b = x[..., : D // 2], x[..., D // 2:]
        c, s = cos[:, None], sin[:, None]
        return np.concatenate([a * c - b * s, b * c + a * s], -1)

    def norm(x, w):
        return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * w

    def lin(x, name):
        y = x @ p[name + ".weight"].T
        return y + p[name + ".bias"] if name + ".bias" in p else y

    allowed = np.tril(np.ones((T, T), bool))[None].repeat(B, 0)
    if attention_mask is not None:
        allowed &= np.asarray(attention_mask, bool)[:, None, :]
    x = p["model.embed_tokens.weight"][tokens]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        h = norm(x, p[pre + "input_layernorm.weight"])
        q = rope(lin(h, pre + "self_attn.q_proj").reshape(B, T, H, D).transpose(0, 2, 1, 3))
        k = rope(lin(h, pre + "self_attn.k_proj").reshape(B, T, KV, D).transpose(0, 2, 1, 3))
        v = lin(h, pre + "self_attn.v_proj").reshape(B, T, KV, D).transpose(0, 2, 1, 3)
        outs = []
        for head in range(H):
            kvh = head // (H // KV)
            s = q[:, head] @ k[:, kvh].transpose(0, 2, 1) / math.sqrt(D)
            s = np.where(allowed, s, -1e300)
            s = np.exp(s - s.max(-1, keepdims=True))
            outs.append((s / s.sum(-1, keepdims=True)) @ v[:, kvh])
        a = np.stack(outs, 1).transpose(0, 2, 1, 3).reshape(B, T, H * D)
        x = x + lin(a, pre + "self_attn.o_proj")
        h = norm(x, p[pre + "post_attention_layernorm.weight"])
        g = lin(h, pre + "mlp.gate_proj")
        x = x + lin(g / (1 + np.exp(-g)) * lin(h, pre + "mlp.up_proj"), pre + "mlp.down_proj")
    x = norm(x, p["model.norm.weight"])
    head = p["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else p["lm_head.weight"]
    return x @ head.T
