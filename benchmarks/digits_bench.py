"""One library's digits training epochs, in its own process (so peak memory is that library's):

    python benchmarks/digits_bench.py slope|jax [--epochs N]

Prints `epoch_s <median seconds of the epochs after the first (compiling) one> peak_mb <max RSS MB>`.
The model and optimizer are examples/digits.py's (conv 16 - conv 32 - maxpool - 512->64->10, AdamW
with a cosine schedule, batch 32, drop_last); the JAX version is the same model in plain JAX
(lax.conv_general_dilated, reduce_window, a hand-written AdamW), fed NumPy batches in the same order.
"""
from __future__ import annotations

import math
import os
import resource
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "examples"))


def slope_epochs(data, epochs, batch_size=32):
    import slope
    import digits

    x_train, _, y_train, _ = data
    model = digits.DigitsCNN(slope.random.key(0))
    steps = epochs * (len(x_train) // batch_size)
    opt = slope.optim.AdamW(lr=slope.optim.CosineAnnealingLR(3e-3, steps, warmup_steps=steps // 20),
                            weight_decay=1e-4)
    state = opt.init(model)
    step = digits.make_train_step(opt)
    loader = slope.data.DataLoader(x_train, y_train, batch_size=batch_size, shuffle=True,
                                   key=slope.random.key(1), drop_last=True)
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        for xb, yb in loader:
            model, state, loss = step(model, state, xb, yb)
        float(loss)  # wait for the last step
        times.append(time.perf_counter() - t)
    return times


def jax_epochs(data, epochs, batch_size=32):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    x_train, _, y_train, _ = data
    rng = np.random.default_rng(0)

    def u(shape, fan_in):
        b = 1 / math.sqrt(fan_in)
        return jnp.asarray(rng.uniform(-b, b, shape).astype(np.float32))

    params = {"c1w": u((16, 1, 3, 3), 9), "c1b": u((16,), 9), "c2w": u((32, 16, 3, 3), 144), "c2b": u((32,), 144),
              "l1w": u((64, 512), 512), "l1b": u((64,), 512), "l2w": u((10, 64), 64), "l2b": u((10,), 64)}

    def conv(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]

    def forward(p, x):
        h = jax.nn.relu(conv(x, p["c1w"], p["c1b"]))
        h = jax.nn.relu(conv(h, p["c2w"], p["c2b"]))
        h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        h = h.reshape(h.shape[0], -1)
        h = jax.nn.relu(h @ p["l1w"].T + p["l1b"])
        return h @ p["l2w"].T + p["l2b"]

    def loss_fn(p, x, y):
        logp = jax.nn.log_softmax(forward(p, x), -1)
        return -jnp.take_along_axis(logp, y[:, None], 1).mean()

    steps = epochs * (len(x_train) // batch_size)
    warm = steps // 20

    def lr_at(t):
        tc = jnp.clip(t - warm, 0, steps - warm)
        cos = 3e-3 * (1 + jnp.cos(tc * math.pi / (steps - warm))) / 2
        return jnp.where(t < warm, 3e-3 * t / warm, cos)

    @jax.jit
    def step(p, s, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        t = s["step"]
        lr = lr_at(t)
        tt = t + 1
        new_p, m, v = {}, {}, {}
        for k in p:
            pk = p[k] * (1 - lr * 1e-4)
            m[k] = 0.9 * s["m"][k] + 0.1 * g[k]
            v[k] = 0.999 * s["v"][k] + 0.001 * g[k] * g[k]
            denom = jnp.sqrt(v[k]) / jnp.sqrt(1 - 0.999 ** tt) + 1e-8
            new_p[k] = pk - lr / (1 - 0.9 ** tt) * m[k] / denom
        return new_p, {"step": tt, "m": m, "v": v}, loss

    state = {"step": jnp.zeros((), jnp.float32), "m": {k: jnp.zeros_like(v) for k, v in params.items()},
             "v": {k: jnp.zeros_like(v) for k, v in params.items()}}
    n = len(x_train) // batch_size
    times = []
    for e in range(epochs):
        order = np.random.default_rng(e).permutation(len(x_train))
        t0 = time.perf_counter()
        for i in range(n):
            idx = order[i * batch_size:(i + 1) * batch_size]
            params, state, loss = step(params, state, jnp.asarray(x_train[idx]), jnp.asarray(y_train[idx]))
        loss.block_until_ready()
        times.append(time.perf_counter() - t0)
    return times


def main():
    lib = sys.argv[1]
    epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 4
    import digits

    data = digits.load_data()
    times = (slope_epochs if lib == "slope" else jax_epochs)(data, epochs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"epoch_s {float(np.median(times[1:])):.6f} first_s {times[0]:.3f} peak_mb {peak_mb:.0f}")


if __name__ == "__main__":
    main()
