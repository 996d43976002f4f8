"""The Llama row of benchmarks/run.py: training tokens/s and KV-cache decode tokens/s of the tiny Llama of
examples/llama_train.py, slope vs the same model written in plain JAX. Each library runs in its own
process (`python benchmarks/llama_bench.py slope|jax [--quick]`, printing JSON), so each reports its own
peak resident memory (ru_maxrss, which includes the runtime and compiler of that library)."""
from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

B, T, CACHE = 16, 64, 256
CFG = dict(vocab_size=256, hidden_size=64, intermediate_size=168, num_hidden_layers=2, num_attention_heads=4,
           num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5)


def numpy_params():
    from slope.models.llama import LlamaConfig, param_shapes
    rng = np.random.default_rng(0)
    return {k: (np.ones(s) if "norm" in k else 0.02 * rng.standard_normal(s)).astype(np.float32)
            for k, s in param_shapes(LlamaConfig(**CFG)).items()}


def data():
    return np.random.default_rng(1).integers(0, 256, (B, T + 1)).astype(np.int32)


def timed(fn, n):
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def run_slope(n_train, n_decode):
    import slope
    from slope.models.llama import Llama, LlamaConfig
    from slope.models.llama.generate import init_cache, step_function
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    from llama_train import make_train_step
    model = Llama(LlamaConfig(**CFG), {k: slope.tensor(v) for k, v in numpy_params().items()})
    opt = ({k: slope.zeros_like(p) for k, p in model.params.items()},
           {k: slope.zeros_like(p) for k, p in model.params.items()})
    step, tokens = make_train_step(), slope.tensor(data())
    lr, t1 = slope.tensor(np.float32(1e-3)), slope.tensor(np.float32(1))
    train = timed(lambda: step(model, opt, tokens, lr, t1)[0].numpy(), n_train)
    dec = step_function()
    cache = init_cache(model.config, 1, CACHE)
    tok, pos, mask = slope.tensor(np.array([[5]], np.int32)), slope.tensor(np.array([[100]], np.int32)), \
        slope.tensor(np.ones((1, CACHE), bool))
    start, key = slope.tensor(100, dtype=slope.int32), slope.random.key(0)
    decode = timed(lambda: dec(model, cache, tok, pos, mask, start, key)[0].numpy(), n_decode)
    return train, decode


def run_jax(n_train, n_decode):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_platforms", "cpu")
    H, KV, D, eps, L = 4, 2, 16, CFG["rms_norm_eps"], CFG["num_hidden_layers"]
    from slope.models.llama import LlamaConfig
    inv = jnp.asarray(LlamaConfig(**CFG).inv_freq())

    def norm(x, w):
        return x * jax.lax.rsqrt((x * x).mean(-1, keepdims=True) + eps) * w

    def rot(x):
        return jnp.concatenate([-x[..., D // 2:], x[..., :D // 2]], -1)

    def fwd(p, tokens, pos, mask, cache=None, start=0):
        b, t = tokens.shape
        x = p["model.embed_tokens.weight"][tokens]
        ang = pos[..., None].astype(jnp.float32) * inv
        emb = jnp.concatenate([ang, ang], -1)
        cos, sin = jnp.cos(emb)[:, None], jnp.sin(emb)[:, None]
        new = []
        for i in range(L):
            pre = f"model.layers.{i}."
            h = norm(x, p[pre + "input_layernorm.weight"])
            q = (h @ p[pre + "self_attn.q_proj.weight"].T).reshape(b, t, H, D).transpose(0, 2, 1, 3)
            k = (h @ p[pre + "self_attn.k_proj.weight"].T).reshape(b, t, KV, D).transpose(0, 2, 1, 3)
            v = (h @ p[pre + "self_attn.v_proj.weight"].T).reshape(b, t, KV, D).transpose(0, 2, 1, 3)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            if cache is not None:
                k = jax.lax.dynamic_update_slice(cache[i][0], k, (0, 0, start, 0))
                v = jax.lax.dynamic_update_slice(cache[i][1], v, (0, 0, start, 0))
                new.append((k, v))
            s = (q.reshape(b, KV, H // KV, t, D) @ jnp.swapaxes(k, -1, -2)[:, :, None]) / np.sqrt(D)
            s = jnp.where(mask[:, None, None], s, np.finfo(np.float32).min)
            a = (jax.nn.softmax(s, -1) @ v[:, :, None]).reshape(b, H, t, D).transpose(0, 2, 1, 3).reshape(b, t, H * D)
            x = x + a @ p[pre + "self_attn.o_proj.weight"].T
            h = norm(x, p[pre + "post_attention_layernorm.weight"])
            g = h @ p[pre + "mlp.gate_proj.weight"].T
            x = x + (jax.nn.silu(g) * (h @ p[pre + "mlp.up_proj.weight"].T)) @ p[pre + "mlp.down_proj.weight"].T
        return norm(x, p["model.norm.weight"]) @ p["lm_head.weight"].T, new

    def loss_fn(p, tokens):
        t = tokens.shape[1] - 1
        mask = jnp.broadcast_to(jnp.tril(jnp.ones((t, t), bool)), (tokens.shape[0], t, t))
        logits, _ = fwd(p, tokens[:, :-1], jnp.broadcast_to(jnp.arange(t), (tokens.shape[0], t)), mask)
        return -(jax.nn.log_softmax(logits, -1) * jax.nn.one_hot(tokens[:, 1:], 256)).sum(-1).mean()

    @jax.jit
    def train_step(p, opt, tokens, lr, t, b1=0.9, b2=0.95, e=1e-8, wd=0.1):
        loss, g = jax.value_and_grad(loss_fn)(p, tokens)
        m = {k: b1 * opt[0][k] + (1 - b1) * g[k] for k in p}
        v = {k: b2 * opt[1][k] + (1 - b2) * g[k] ** 2 for k in p}
        new = {k: p[k] - lr * ((m[k] / (1 - b1 ** t)) / (jnp.sqrt(v[k] / (1 - b2 ** t)) + e)
                               + (wd if p[k].ndim == 2 else 0.0) * p[k]) for k in p}
        return loss, new, (m, v)

    @jax.jit
    def decode(p, cache, tok, pos, mask, start):
        s = mask.shape[1]
        m = (jnp.arange(s)[None, :] <= start)[None] & mask[:, None, :]
        logits, cache = fwd(p, tok, pos, m, cache, start)
        return jnp.argmax(logits[:, -1], -1).astype(jnp.int32)[:, None], cache

    p = {k: jnp.asarray(v) for k, v in numpy_params().items()}
    opt = ({k: jnp.zeros_like(v) for k, v in p.items()}, {k: jnp.zeros_like(v) for k, v in p.items()})
    tokens = jnp.asarray(data())
    train = timed(lambda: np.asarray(train_step(p, opt, tokens, 1e-3, 1.0)[0]), n_train)  # to the host, as slope's
    cache = [(jnp.zeros((1, KV, CACHE, D)), jnp.zeros((1, KV, CACHE, D))) for _ in range(L)]
    args = (jnp.array([[5]], jnp.int32), jnp.array([[100]], jnp.int32), jnp.ones((1, CACHE), bool), jnp.int32(100))
    decode_t = timed(lambda: np.asarray(decode(p, cache, *args)[0]), n_decode)  # the token to the host, as slope's
    return train, decode_t


def main():
    lib, quick = sys.argv[1], "--quick" in sys.argv
    n_train, n_decode = (3, 20) if quick else (30, 300)
    train, decode = (run_slope if lib == "slope" else run_jax)(n_train, n_decode)
    print(json.dumps({"train_tokens_per_s": B * T / train, "decode_tokens_per_s": 1 / decode,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
