"""The Whisper rows of benchmarks/run.py: encoder forward time (batch 1, 80 x 3000 log-mel) and KV-cache decode
tokens/s (batch 1, one token at slot 100 of a 448-slot cache, the logits back on the host as greedy and beam
decoding need them) of a whisper-tiny-sized model with random weights, slope vs the same model written in
plain JAX. Each library runs in its own process (`python benchmarks/whisper_bench.py slope|jax [--quick]`,
printing JSON)."""
from __future__ import annotations

import json
import math
import os
import resource
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CFG = dict(d_model=384, encoder_layers=4, decoder_layers=4, encoder_attention_heads=6, decoder_attention_heads=6,
           encoder_ffn_dim=1536, decoder_ffn_dim=1536, num_mel_bins=80, max_source_positions=1500,
           max_target_positions=448, vocab_size=51865)
if "--quick" in sys.argv:  # a smoke run (tests/test_benchmarks.py): the same code on a model a fraction the size
    CFG = dict(CFG, d_model=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
               decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128, vocab_size=1024)
POS = 100


def numpy_params():
    from slope.models.whisper import WhisperConfig, param_shapes
    rng = np.random.default_rng(0)
    return {k: (np.ones(s) if k.endswith("layer_norm.weight") else 0.02 * rng.standard_normal(s)).astype(np.float32)
            for k, s in param_shapes(WhisperConfig(**CFG)).items()}


def mel():
    return np.random.default_rng(1).standard_normal((1, 80, 3000)).astype(np.float32)


def timed(fn, n):
    fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def run_slope(n_enc, n_dec):
    import slope
    from slope.models.whisper import Whisper, WhisperConfig
    from slope.models.whisper import decoding
    model = Whisper(WhisperConfig(**CFG), {k: slope.tensor(v) for k, v in numpy_params().items()})
    x = slope.tensor(mel())
    enc = timed(lambda: model.encode(x).numpy(), n_enc)
    cross = decoding.prepare(model, x)
    cache = decoding.init_cache(model.config, 1)
    tok, start = slope.tensor(np.array([[50257]], np.int32)), slope.tensor(POS, dtype=slope.int32)
    dec = timed(lambda: decoding.step(model, cache, cross, tok, start)[0].numpy(), n_dec)
    return enc, dec


def jax_functions():
    """The JAX model's jitted (encode, prepare, step)."""
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_platforms", "cpu")
    d, H = CFG["d_model"], CFG["encoder_attention_heads"]
    D = d // H

    def ln(p, n, x):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) * jax.lax.rsqrt(var + 1e-5) * p[n + ".weight"] + p[n + ".bias"]

    def heads(x):
        return x.reshape(x.shape[0], x.shape[1], H, D).transpose(0, 2, 1, 3)

    def kv(p, n, x):
        return heads(x @ p[n + ".k_proj.weight"].T), heads(x @ p[n + ".v_proj.weight"].T + p[n + ".v_proj.bias"])

    def attend(p, n, x, k, v, mask=None):
        q = heads(x @ p[n + ".q_proj.weight"].T + p[n + ".q_proj.bias"])
        s = q @ jnp.swapaxes(k, -1, -2) / math.sqrt(D)
        if mask is not None:
            s = jnp.where(mask, s, -jnp.inf)
        o = jax.nn.softmax(s, -1) @ v
        o = o.transpose(0, 2, 1, 3).reshape(x.shape[0], x.shape[1], d)
        return o @ p[n + ".out_proj.weight"].T + p[n + ".out_proj.bias"]

    def mlp(p, n, x):
        h = jax.nn.gelu(x @ p[n + ".fc1.weight"].T + p[n + ".fc1.bias"], approximate=False)
        return h @ p[n + ".fc2.weight"].T + p[n + ".fc2.bias"]

    def conv(x, w, b, stride):
        y = jax.lax.conv_general_dilated(x, w, (stride,), [(1, 1)], dimension_numbers=("NCH", "OIH", "NCH"))
        return jax.nn.gelu(y + b[:, None], approximate=False)

    @jax.jit
    def encode(p, m):
        x = conv(m, p["encoder.conv1.weight"], p["encoder.conv1.bias"], 1)
        x = conv(x, p["encoder.conv2.weight"], p["encoder.conv2.bias"], 2).transpose(0, 2, 1)
        x = x + p["encoder.embed_positions.weight"]
        for i in range(CFG["encoder_layers"]):
            n = f"encoder.layers.{i}"
            h = ln(p, n + ".self_attn_layer_norm", x)
            x = x + attend(p, n + ".self_attn", h, *kv(p, n + ".self_attn", h))
            x = x + mlp(p, n, ln(p, n + ".final_layer_norm", x))
        return ln(p, "encoder.layer_norm", x)

    @jax.jit
    def prepare(p, m):
        e = encode(p, m)
        return [kv(p, f"decoder.layers.{i}.encoder_attn", e) for i in range(CFG["decoder_layers"])]

    @jax.jit
    def step(p, cache, cross, tok, start):
        S = cache[0][0].shape[2]
        x = p["decoder.embed_tokens.weight"][tok] + p["decoder.embed_positions.weight"][start]
        mask = (jnp.arange(S) <= start)[None, None, None]
        new = []
        for i in range(CFG["decoder_layers"]):
            n = f"decoder.layers.{i}"
            h = ln(p, n + ".self_attn_layer_norm", x)
            k, v = kv(p, n + ".self_attn", h)
            k = jax.lax.dynamic_update_slice(cache[i][0], k, (0, 0, start, 0))
            v = jax.lax.dynamic_update_slice(cache[i][1], v, (0, 0, start, 0))
            new.append((k, v))
            x = x + attend(p, n + ".self_attn", h, k, v, mask)
            h = ln(p, n + ".encoder_attn_layer_norm", x)
            x = x + attend(p, n + ".encoder_attn", h, *cross[i])
            x = x + mlp(p, n, ln(p, n + ".final_layer_norm", x))
        x = ln(p, "decoder.layer_norm", x)
        return (x @ p["decoder.embed_tokens.weight"].T)[:, -1], new

    return encode, prepare, step


def run_jax(n_enc, n_dec):
    import jax.numpy as jnp
    encode, prepare, step = jax_functions()
    H, D = CFG["decoder_attention_heads"], CFG["d_model"] // CFG["decoder_attention_heads"]
    p = {k: jnp.asarray(v) for k, v in numpy_params().items()}
    m = jnp.asarray(mel())
    enc = timed(lambda: np.asarray(encode(p, m)), n_enc)
    cross = prepare(p, m)
    shape = (1, H, CFG["max_target_positions"], D)
    cache = [(jnp.zeros(shape), jnp.zeros(shape)) for _ in range(CFG["decoder_layers"])]
    tok, start = jnp.array([[50257]], jnp.int32), jnp.int32(POS)
    dec = timed(lambda: np.asarray(step(p, cache, cross, tok, start)[0]), n_dec)
    return enc, dec


def alternate(rounds):
    """Encoder times of both libraries in one process, alternating call by call (a busy machine's load then
    falls on both alike): (slope median, JAX median)."""
    import jax.numpy as jnp

    import slope
    from slope.models.whisper import Whisper, WhisperConfig
    params = numpy_params()
    model = Whisper(WhisperConfig(**CFG), {k: slope.tensor(v) for k, v in params.items()})
    encode = jax_functions()[0]
    p, m, x = {k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(mel()), slope.tensor(mel())
    runs = {"slope": lambda: model.encode(x).numpy(), "jax": lambda: np.asarray(encode(p, m))}
    times = {k: [] for k in runs}
    for f in runs.values():
        f()
    for _ in range(rounds):
        for k, f in runs.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return float(np.median(times["slope"])), float(np.median(times["jax"]))


def main():
    lib, quick = sys.argv[1], "--quick" in sys.argv
    if lib == "alternate":
        s, j = alternate(3 if quick else 11)
        print(json.dumps({"slope_encoder_s": s, "jax_encoder_s": j}))
        return
    n_enc, n_dec = (2, 10) if quick else (15, 200)
    enc, dec = (run_slope if lib == "slope" else run_jax)(n_enc, n_dec)
    print(json.dumps({"encoder_s": enc, "decode_tokens_per_s": 1 / dec,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
