"""Resident memory over a long training loop: does anything grow per step?

    python benchmarks/memory_bench.py [--steps 10000]

A small MLP (64-128-10, batch 32) trained by one jitted step (value_and_grad + AdamW on a
slope.nn Module), then the same number of eager steps (`w = w - 0.01 * (w - t)`, three eager ops).
After a warm-up of 2,000 steps (the first few thousand steps settle the allocator and the device choice), RSS and slope.memory_stats() are sampled every 1,000 steps; the
output is one line per phase: RSS at the first and last sample, the growth per 1,000 steps
(least squares over the samples), and the live tensors, buffers and bytes at the first and last sample.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import slope  # noqa: E402
import slope.nn as nn  # noqa: E402
import slope.nn.functional as F  # noqa: E402


class MLP(nn.Module):
    def __init__(self, key):
        super().__init__()
        k1, k2 = slope.random.split(key)
        self.l1, self.l2 = nn.Linear(64, 128, key=k1), nn.Linear(128, 10, key=k2)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))


def jitted_phase(steps, sample):
    rng = np.random.default_rng(0)
    xs = [slope.tensor(rng.standard_normal((32, 64)).astype(np.float32)) for _ in range(8)]
    ys = [slope.tensor(rng.integers(0, 10, 32)) for _ in range(8)]
    model = MLP(slope.random.key(0))
    opt = slope.optim.AdamW(lr=1e-3)
    state = opt.init(model)

    @slope.jit
    def step(model, state, x, y):
        loss, grads = slope.value_and_grad(lambda m: F.cross_entropy(m(x), y))(model)
        model, state = opt.update(model, grads, state)
        return model, state, loss

    for i in range(steps):
        model, state, loss = step(model, state, xs[i % 8], ys[i % 8])
        sample(i)
    return float(loss)


def eager_phase(steps, sample):
    w = slope.zeros(256)
    t = slope.ones(256)
    for i in range(steps):
        w = w - 0.01 * (w - t)
        sample(i)
    return float(w[0])


def run(phase, steps, warmup=2000, every=1000):
    samples = []

    def sample(i):
        if i >= warmup and (i - warmup) % every == 0 or i == steps - 1:
            gc.collect()
            samples.append((i, slope.memory_stats()))

    phase(steps, sample)
    x = np.array([i for i, _ in samples], float)
    rss = np.array([s["rss_bytes"] for _, s in samples], float) / 2**20
    slope_per_k = np.polyfit(x, rss, 1)[0] * 1000 if len(x) > 1 else 0.0
    first, last = samples[0][1], samples[-1][1]
    return {"rss_first_mb": rss[0], "rss_last_mb": rss[-1], "mb_per_1000_steps": slope_per_k,
            "live_first": (first["tensors"], first["buffers"], first["bytes"]),
            "live_last": (last["tensors"], last["buffers"], last["bytes"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10_000)
    args = ap.parse_args()
    for name, phase in (("jitted MLP step (nn + AdamW)", jitted_phase), ("eager elementwise step", eager_phase)):
        r = run(phase, args.steps)
        print(f"{name}: {args.steps} steps, RSS {r['rss_first_mb']:.1f} MB after warm-up -> {r['rss_last_mb']:.1f} MB "
              f"at the end ({r['mb_per_1000_steps']:+.3f} MB per 1000 steps); live tensors/buffers/bytes "
              f"{r['live_first']} -> {r['live_last']}", flush=True)


if __name__ == "__main__":
    main()
