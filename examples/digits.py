"""Train a small CNN on scikit-learn's 8x8 digits (1,797 images) with slope.nn and slope.optim.

    pip install -e '.[examples]' && python examples/digits.py

One jitted train step (forward, cross-entropy, gradients, AdamW update), a tqdm progress bar per
epoch with the loss and the throughput, a fixed train/test split (train_test_split(test_size=0.25,
random_state=0)); then the model is saved with slope.save, loaded into a freshly built model and
evaluated again: the accuracy must be identical. The last line is `test accuracy: 0.NNNN`.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import slope  # noqa: E402
import slope.nn as nn  # noqa: E402
import slope.nn.functional as F  # noqa: E402


def load_data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0 - 0.5)[:, None]  # (N, 1, 8, 8), centred
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=0)


class DigitsCNN(nn.Module):
    """conv 3x3 (16) - relu - conv 3x3 (32) - relu - maxpool 2 - linear 512->64 - relu - linear 64->10."""

    def __init__(self, key):
        super().__init__()
        k1, k2, k3, k4 = slope.random.split(key, 4)
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, key=k1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, key=k2), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(32 * 4 * 4, 64, key=k3), nn.ReLU(), nn.Linear(64, 10, key=k4))

    def forward(self, x):
        return self.head(self.features(x))


def make_train_step(opt):
    def loss_fn(model, x, y):
        return F.cross_entropy(model(x), y)

    @slope.jit
    def train_step(model, opt_state, x, y):
        loss, grads = slope.value_and_grad(loss_fn)(model, x, y)
        model, opt_state = opt.update(model, grads, opt_state)
        return model, opt_state, loss

    return train_step


@slope.jit
def predict(model, x):
    return model(x).argmax(-1)


def accuracy(model, x, y):
    return float((predict(model, slope.tensor(x)).numpy() == y).mean())


def train(epochs=15, batch_size=32, lr=3e-3, seed=0, progress=True, data=None):
    from tqdm import tqdm

    x_train, x_test, y_train, y_test = data or load_data()
    key = slope.random.key(seed)
    k_model, k_data = slope.random.split(key)
    model = DigitsCNN(k_model)
    steps = epochs * (len(x_train) // batch_size)
    opt = slope.optim.AdamW(lr=slope.optim.CosineAnnealingLR(lr, steps, warmup_steps=steps // 20), weight_decay=1e-4)
    opt_state = opt.init(model)
    train_step = make_train_step(opt)
    loader = slope.data.DataLoader(x_train, y_train, batch_size=batch_size, shuffle=True, key=k_data, drop_last=True)
    epoch_times = []
    for epoch in range(epochs):
        bar = tqdm(loader, desc=f"epoch {epoch + 1:2d}/{epochs}", unit="img", unit_scale=batch_size,
                   disable=not progress, leave=True, dynamic_ncols=True)
        t0 = time.perf_counter()
        for i, (xb, yb) in enumerate(bar):
            model, opt_state, loss = train_step(model, opt_state, xb, yb)
            if i % 5 == 0 or i == len(loader) - 1:
                bar.set_postfix(loss=f"{float(loss):.4f}")
        epoch_times.append(time.perf_counter() - t0)
    return model, (x_test, y_test), epoch_times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", default=None, help="where to save the model (default: a temporary file)")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    model, (x_test, y_test), times = train(a.epochs, a.batch_size, a.lr, a.seed, not a.no_progress)
    acc = accuracy(model, x_test, y_test)
    print(f"epoch time after the first (compiling) epoch: {np.median(times[1:]) * 1e3:.0f} ms" if len(times) > 1
          else f"epoch time: {times[0] * 1e3:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        path = a.checkpoint or os.path.join(tmp, "digits.safetensors")
        slope.save(model, path)
        fresh = DigitsCNN(slope.random.key(a.seed + 1))  # other weights, then the checkpoint's
        fresh.load_state_dict(slope.load(path))
        reloaded = accuracy(fresh.eval(), x_test, y_test)
        print(f"checkpoint {os.path.basename(path)}: {len(fresh.state_dict())} tensors, reloaded accuracy "
              f"{reloaded:.4f} ({'identical' if reloaded == acc else 'DIFFERENT'})")
    if reloaded != acc:
        raise SystemExit("the reloaded model's accuracy differs")
    print(f"test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
