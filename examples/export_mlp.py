"""Export an MLP classifier as a standalone IREE module and run it without slope.

    python examples/export_mlp.py [OUT_DIR] [--params weights.npz] [--target host|x86_64|aarch64|...]

Without --params it trains a 64-32-10 MLP briefly on scikit-learn's digits (8x8 images; synthetic
blobs if scikit-learn is missing). With --params it exports the weights in an .npz of w0, b0, w1,
b1, ... (any number of layers: w<i> is [in, out], tanh between layers), e.g. the digits model
trained elsewhere. It writes the artifact to OUT_DIR (a temporary directory by default), runs it
with slope.export.load (the IREE runtime alone) and, if iree-run-module is on PATH, with the
command line from the manifest, and checks that both give the same bits.
"""
import argparse
import os
import shutil
import subprocess
import tempfile

import numpy as np

import slope


def predict(params, x):
    """Logits and predicted labels of the MLP `params` (w0, b0, w1, b1, ...) on a batch x."""
    n = len(params) // 2
    h = x
    for i in range(n):
        h = h @ params[f"w{i}"] + params[f"b{i}"]
        if i < n - 1:
            h = slope.tanh(h)
    return {"logits": h, "label": h.argmax(-1)}


def init_params(seed, sizes):
    keys = slope.random.split(slope.random.key(seed), len(sizes) - 1)
    params = {}
    for i, (m, n) in enumerate(zip(sizes, sizes[1:])):
        params[f"w{i}"] = slope.random.normal(keys[i], (m, n)) / float(np.sqrt(m))
        params[f"b{i}"] = slope.zeros(n)
    return params


def load_data():
    """(x_train, y_train, x_test, y_test) as float32 features and int64 labels."""
    try:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y = (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)
    except ImportError:  # three Gaussian blobs in 64 dimensions
        rng = np.random.default_rng(0)
        y = rng.integers(0, 10, 1500)
        x = (rng.standard_normal((1500, 64)) * 0.5 + np.eye(10, 64)[y] * 3).astype(np.float32)
    order = np.random.default_rng(1).permutation(len(x))
    x, y = x[order], y[order]
    return x[:1200], y[:1200], x[1200:], y[1200:]


def loss(params, x, onehot):
    logits = predict(params, x)["logits"]
    return -(slope.log_softmax(logits, -1) * onehot).sum(-1).mean()


@slope.jit
def train_step(params, x, onehot):
    value, grads = slope.value_and_grad(loss)(params, x, onehot)
    return value, {k: params[k] - 0.5 * grads[k] for k in params}


def train(x, y, steps=150, batch=120):
    params = init_params(0, (64, 32, 10))
    onehot = np.eye(10, dtype=np.float32)[y]
    for step in range(steps):
        i = (step * batch) % len(x)
        value, params = train_step(params, slope.tensor(x[i:i + batch]), slope.tensor(onehot[i:i + batch]))
    print(f"trained {steps} steps, loss {float(value.numpy()):.3f}")
    return params


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", help="the artifact directory (default: a temporary one)")
    ap.add_argument("--params", help="an .npz of w0, b0, w1, b1, ... to export instead of training")
    ap.add_argument("--target", default="host", choices=sorted(slope.export.TARGETS))
    ap.add_argument("--batch", type=int, default=16, help="the batch size the module is compiled for")
    args = ap.parse_args()
    out = args.out or os.path.join(tempfile.mkdtemp(prefix="slope-mlp-"), "mlp")

    x_train, y_train, x_test, y_test = load_data()
    if args.params:
        params = {k: slope.tensor(v) for k, v in np.load(args.params).items()}
    else:
        params = train(x_train, y_train)

    example = x_test[:args.batch]
    manifest = slope.export(predict, example, path=out, params=params, target=args.target)
    print(f"exported to {out}: {', '.join(sorted(os.listdir(out)))}")
    print("run it with:", f"cd {out} &&", manifest["run"]["command"])
    if args.target not in ("host", "x86_64"):
        return

    model = slope.export.load(out)  # the IREE runtime alone: no tracing, no compiling
    n = len(x_test) // args.batch * args.batch
    labels = np.concatenate([model(x_test[i:i + args.batch])["label"] for i in range(0, n, args.batch)])
    print(f"test accuracy of the exported model: {np.mean(labels == y_test[:n]):.3f} ({n} images)")

    got = model(example)
    tool = shutil.which("iree-run-module")
    if tool is None:
        print("iree-run-module is not on PATH: command line not run")
        return
    subprocess.run([tool, *manifest["run"]["argv"][1:]], cwd=out, check=True, capture_output=True)
    cli = {o["name"].split(".", 1)[1]: np.load(os.path.join(out, o["file"])) for o in manifest["outputs"]}
    same = all(cli[k].dtype == got[k].dtype and cli[k].tobytes() == got[k].tobytes() for k in got)
    print("iree-run-module and the Python runtime:", "same bits" if same else "DIFFERENT")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
