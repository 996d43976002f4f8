"""Fit y = sin(3x) + x/2 with a small MLP: slope.nn + slope.optim + slope.data, no extra packages.

    python examples/mlp_regression.py

A jitted train step (MSE loss, Adam with a cosine schedule) over shuffled minibatches; prints the
loss every few epochs and ends with `final mse: ...` on held-out points. Runs in seconds.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import slope  # noqa: E402
import slope.nn as nn  # noqa: E402
import slope.nn.functional as F  # noqa: E402


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, 1)).astype(np.float32)
    y = (np.sin(3 * x) + x / 2 + rng.normal(0, 0.05, size=x.shape)).astype(np.float32)
    return x, y


def main(epochs=40, batch_size=64):
    key = slope.random.key(0)
    k1, k2, k3, k_data = slope.random.split(key, 4)
    model = nn.Sequential(nn.Linear(1, 64, key=k1), nn.Tanh(), nn.Linear(64, 64, key=k2), nn.Tanh(),
                          nn.Linear(64, 1, key=k3))
    x, y = make_data(1024, 0)
    x_test, y_test = make_data(256, 1)
    loader = slope.data.DataLoader(x, y, batch_size=batch_size, shuffle=True, key=k_data, drop_last=True)
    opt = slope.optim.Adam(lr=slope.optim.CosineAnnealingLR(1e-2, epochs * len(loader), eta_min=1e-4))
    state = opt.init(model)

    @slope.jit
    def step(model, state, xb, yb):
        loss, grads = slope.value_and_grad(lambda m: F.mse_loss(m(xb), yb))(model)
        model, state = opt.update(model, grads, state)
        return model, state, loss

    for epoch in range(epochs):
        losses = []
        for xb, yb in loader:
            model, state, loss = step(model, state, xb, yb)
            losses.append(float(loss))
        if epoch % 10 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch:3d}  train mse {np.mean(losses):.4f}")
    mse = float(F.mse_loss(model(slope.tensor(x_test)), slope.tensor(y_test)))
    print(f"final mse: {mse:.4f}")
    return mse


if __name__ == "__main__":
    main()
