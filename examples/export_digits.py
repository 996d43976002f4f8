"""Export the digits CNN of examples/digits.py as a standalone IREE module and run it without slope.

    python examples/export_digits.py [OUT_DIR] [--checkpoint digits.safetensors] [--epochs N]
                                     [--batch 16] [--target host|x86_64|aarch64|...]

The weights come from a checkpoint that `python examples/digits.py --checkpoint FILE` wrote (slope.save),
or, without one, from `--epochs` epochs of examples/digits.py's training (0: the untrained random model,
which is what the test uses). The model is exported in eval mode with its state_dict as the parameters
(params.irpa, keys `params.features.0.weight`, ...), run with slope.export.load (the IREE runtime alone)
on the test images and compared with slope's own jitted forward, then, if iree-run-module is on PATH, run
with the manifest's command line and compared bit for bit with the Python runtime.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import digits  # noqa: E402  (examples/digits.py: the model, its data and its training)

import slope  # noqa: E402


def exportable(model):
    """(forward(params, x), params): the model as a function of its state_dict, so the exported parameters
    carry PyTorch-style names. The state_dict lists the Module's pytree leaves in their order."""
    names = list(model.state_dict())
    leaves, tree = slope.tree_flatten(model)
    if len(leaves) != len(names):
        raise SystemExit(f"the model has {len(leaves)} leaves but {len(names)} state_dict entries (non-persistent "
                         "buffers?): export it with params=model instead")

    def forward(params, x):
        m = slope.tree_unflatten(tree, [params[k] for k in names])
        logits = m(x)
        return {"logits": logits, "label": logits.argmax(-1)}

    return forward, dict(model.state_dict())


def load_images():
    """(x_test, y_test) of examples/digits.py's split; random images without scikit-learn."""
    try:
        _, x_test, _, y_test = digits.load_data()
    except ImportError:
        rng = np.random.default_rng(0)
        x_test = (rng.random((64, 1, 8, 8)) - 0.5).astype(np.float32)
        y_test = rng.integers(0, 10, 64)
    return x_test, y_test


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", help="the artifact directory (default: a temporary one)")
    ap.add_argument("--checkpoint", help="a checkpoint written by examples/digits.py --checkpoint (slope.save)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs to train when there is no checkpoint (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", default="host", choices=sorted(slope.export.TARGETS))
    ap.add_argument("--batch", type=int, default=16, help="the batch size the module is compiled for")
    args = ap.parse_args(argv)
    out = args.out or os.path.join(tempfile.mkdtemp(prefix="slope-digits-"), "digits")

    model = digits.DigitsCNN(slope.random.key(args.seed))
    if args.checkpoint:
        model.load_state_dict(slope.load(args.checkpoint))
        print(f"weights from {args.checkpoint}")
    elif args.epochs > 0:
        model, _, _ = digits.train(args.epochs, seed=args.seed, progress=False)
        print(f"trained {args.epochs} epochs")
    model = model.eval()
    x_test, y_test = load_images()

    forward, params = exportable(model)
    example = x_test[:args.batch]
    manifest = slope.export(forward, example, path=out, params=params, target=args.target, name="digits_cnn")
    print(f"exported to {out}: {', '.join(sorted(os.listdir(out)))}")
    print("run it with:", f"cd {out} &&", manifest["run"]["command"])
    if args.target not in ("host", "x86_64"):
        return None

    exported = slope.export.load(out)  # the IREE runtime alone: no tracing, no compiling
    ours = slope.jit(forward)
    n = len(x_test) // args.batch * args.batch
    labels, max_diff, same_labels = [], 0.0, True
    for i in range(0, n, args.batch):
        got = exported(x_test[i:i + args.batch])
        want = ours(params, slope.tensor(x_test[i:i + args.batch]))
        max_diff = max(max_diff, float(np.abs(got["logits"] - want["logits"].numpy()).max()))
        same_labels &= bool((got["label"] == want["label"].numpy()).all())
        labels.append(got["label"])
    acc = float(np.mean(np.concatenate(labels) == y_test[:n]))
    print(f"exported vs slope.jit: max |logits difference| {max_diff:.2e}, labels "
          f"{'identical' if same_labels else 'DIFFERENT'}")
    print(f"test accuracy of the exported model: {acc:.4f} ({n} images)")
    if not same_labels or max_diff > 1e-4:
        raise SystemExit("the exported model disagrees with slope's")

    got = exported(example)
    tool = shutil.which("iree-run-module")
    if tool is None:
        print("iree-run-module is not on PATH: command line not run")
        return acc
    subprocess.run([tool, *manifest["run"]["argv"][1:]], cwd=out, check=True, capture_output=True)
    cli = {o["name"].split(".", 1)[1]: np.load(os.path.join(out, o["file"])) for o in manifest["outputs"]}
    same = all(cli[k].dtype == got[k].dtype and cli[k].tobytes() == got[k].tobytes() for k in got)
    print("iree-run-module and the Python runtime:", "same bits" if same else "DIFFERENT")
    if not same:
        raise SystemExit(1)
    return acc


if __name__ == "__main__":
    main()
