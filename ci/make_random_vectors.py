"""Regenerate tests/data/random_vectors.npz from JAX (needs jax; the tests then run without it).

    python ci/make_random_vectors.py

For every seed in tests/random_cases.SEEDS it stores the key `jax.random.PRNGKey(seed)` and the
result of every case in tests/random_cases.CASES, under "seed|name"."""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import jax  # noqa: E402  (after the path set-up above)
import jax.random as jr  # noqa: E402
from random_cases import CASES, SEEDS  # noqa: E402

PATH = os.path.join(ROOT, "tests", "data", "random_vectors.npz")


def main():
    if jax.config.jax_threefry_partitionable is not True:
        raise SystemExit("expected JAX's default jax_threefry_partitionable=True stream")
    out = {}
    for seed in SEEDS:
        key = jr.PRNGKey(seed)
        out[f"{seed}|key"] = np.asarray(key)
        for name, fn, bound in CASES:
            if bound == "x64":
                with jax.enable_x64(True):
                    out[f"{seed}|{name}"] = np.asarray(fn(jr, key))
            else:
                out[f"{seed}|{name}"] = np.asarray(fn(jr, key))
    np.savez_compressed(PATH, jax_version=np.array(jax.__version__), **out)
    print(f"wrote {len(out)} arrays to {PATH} (jax {jax.__version__})")


if __name__ == "__main__":
    main()
