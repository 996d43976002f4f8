"""The ResNet-block row of benchmarks/run.py: forward + backward of one ResNet basic block (conv3x3 - BatchNorm -
ReLU - conv3x3 - BatchNorm, identity shortcut, ReLU; 64 channels, 32 x 32 images, batch 32, batch statistics as
in training) with a mean-square loss, jitted: slope (slope.nn layers) vs the same block in plain JAX with the
same weights. Both run in one process and take turns call by call, so a busy machine's load falls on both alike:

    python benchmarks/resnet_bench.py [--quick]

prints JSON with each library's median seconds per call and the two losses (which must agree); without JAX
installed, slope's alone."""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BATCH, CHANNELS, SIZE = 32, 64, 32


def slope_step():
    import slope
    from slope import nn

    class BasicBlock(nn.Module):
        def __init__(self, c, key):
            super().__init__()
            k1, k2 = slope.random.split(key)
            self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False, key=k1)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False, key=k2)
            self.bn2 = nn.BatchNorm2d(c)

        def forward(self, x):
            h = nn.functional.relu(self.bn1(self.conv1(x)))
            return nn.functional.relu(self.bn2(self.conv2(h)) + x)

    block = BasicBlock(CHANNELS, slope.random.key(0))

    def loss_fn(model, x):
        return (model(x) ** 2).mean()

    step = slope.jit(slope.value_and_grad(loss_fn))
    x = np.random.default_rng(0).standard_normal((BATCH, CHANNELS, SIZE, SIZE)).astype(np.float32)
    weights = {k: v.numpy() for k, v in block.state_dict().items()}
    xs = slope.tensor(x)
    return (lambda: float(step(block, xs)[0])), weights, x


def jax_step(weights, x):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    p = {k: jnp.asarray(v) for k, v in weights.items() if not k.startswith(("bn1.running", "bn2.running"))
         and not k.endswith("num_batches_tracked")}

    def conv(h, w):
        return jax.lax.conv_general_dilated(h, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))

    def bn(h, w, b, eps=1e-5):
        mean = h.mean((0, 2, 3), keepdims=True)
        var = ((h - mean) ** 2).mean((0, 2, 3), keepdims=True)
        return (h - mean) / jnp.sqrt(var + eps) * w[None, :, None, None] + b[None, :, None, None]

    def loss_fn(p, x):
        h = jax.nn.relu(bn(conv(x, p["conv1.weight"]), p["bn1.weight"], p["bn1.bias"]))
        out = jax.nn.relu(bn(conv(h, p["conv2.weight"]), p["bn2.weight"], p["bn2.bias"]) + x)
        return (out ** 2).mean()

    step = jax.jit(jax.value_and_grad(loss_fn))
    xj = jnp.asarray(x)
    return lambda: float(step(p, xj)[0])


def main():
    rounds = 5 if "--quick" in sys.argv else 30
    run_slope, weights, x = slope_step()
    runs = {"slope": run_slope}
    try:
        runs["jax"] = jax_step(weights, x)
    except ImportError:  # JAX is the optional `bench` extra: slope's number alone
        pass
    losses = {k: f() for k, f in runs.items()}  # compiles
    times = {k: [] for k in runs}
    for _ in range(rounds):
        for k, f in runs.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    print(json.dumps({"slope_s": float(np.median(times["slope"])), "slope_loss": losses["slope"],
                      "jax_s": float(np.median(times["jax"])) if "jax" in runs else None, "jax_loss": losses.get("jax")}))


if __name__ == "__main__":
    main()
