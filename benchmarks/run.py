"""slope vs JAX vs NumPy, measured side by side in one run; prints a markdown table of ratios.

    python benchmarks/run.py            # everything but the property suite
    python benchmarks/run.py --suite    # also time the property suite cold and warm
    python benchmarks/run.py --quick    # fewer repetitions (CI smoke check)

JAX is optional (pip install jax); without it the JAX columns say n/a.
Ratios are slope / peer for times (lower is better) and slope / peer for GFLOP/s (higher is better).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import slope  # noqa: E402

try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
except Exception:  # pragma: no cover - optional peer
    jax = jnp = None


def timeit(fn, repeat, number):
    """Median seconds per call over `repeat` batches of `number` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return statistics.median(times)


def block(x):
    if jax is not None and hasattr(x, "block_until_ready"):
        x.block_until_ready()
    return x


def fmt_t(s):
    return "n/a" if s is None else f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.2f}x"


# ---------------------------------------------------------------- eager per-op


def bench_eager(n, q):
    a = np.ones(n, np.float32)
    x = slope.tensor(a)
    s = timeit(lambda: x * 2, *q)
    npt = timeit(lambda: a * 2, *q)
    jt = None
    if jax is not None:
        xj = jnp.asarray(a)
        jt = timeit(lambda: block(xj * 2), *q)
    return s, jt, npt


# ---------------------------------------------------------------- MLP train step


def mlp_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128)
    y = np.eye(10, dtype=np.float32)[labels]
    params = [rng.standard_normal((784, 128)).astype(np.float32) * 0.05, np.zeros(128, np.float32),
              rng.standard_normal((128, 10)).astype(np.float32) * 0.05, np.zeros(10, np.float32)]
    return x, y, params


def slope_step():
    def loss_fn(params, x, y):
        w1, b1, w2, b2 = params
        h = slope.relu(x @ w1 + b1)
        logits = h @ w2 + b2
        return -(logits.log_softmax(-1) * y).sum() / x.shape[0]

    @slope.jit
    def step(params, x, y):
        loss, grads = slope.value_and_grad(loss_fn)(params, x, y)
        return loss, [p - 0.1 * g for p, g in zip(params, grads)]

    return step


def jax_step():
    def loss_fn(params, x, y):
        w1, b1, w2, b2 = params
        h = jax.nn.relu(x @ w1 + b1)
        logits = h @ w2 + b2
        return -(jax.nn.log_softmax(logits, -1) * y).sum() / x.shape[0]

    @jax.jit
    def step(params, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return loss, [p - 0.1 * g for p, g in zip(params, grads)]

    return step


def bench_mlp(q):
    x, y, params = mlp_data()
    step = slope_step()
    sp = [slope.tensor(p) for p in params]
    sx, sy = slope.tensor(x), slope.tensor(y)
    s = timeit(lambda: step(sp, sx, sy), *q)
    jt = None
    if jax is not None:
        jstep = jax_step()
        jp = [jnp.asarray(p) for p in params]
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        jt = timeit(lambda: block(jstep(jp, jx, jy)[0]), *q)
    return s, jt


_COMPILE_SNIPPET = """
import sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
from run import mlp_data, slope_step
import slope
x, y, params = mlp_data()
args = ([slope.tensor(p) for p in params], slope.tensor(x), slope.tensor(y))
step = slope_step()
lowered = step.lower(*args)
t = time.perf_counter()
lowered.compile()
print(time.perf_counter() - t)
"""


def bench_compile():
    """Cold: empty disk cache. Warm: same cache, fresh process (so only the disk cache helps)."""
    code = _COMPILE_SNIPPET.format(root=ROOT, bench=os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "SLOPE_CACHE_DIR": d}
        run = lambda: float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: E731
                                           text=True, check=True).stdout.strip().splitlines()[-1])
        cold = run()
        warm = min(run() for _ in range(3))
    jt = None
    if jax is not None:
        x, y, params = mlp_data()
        jp = [jnp.asarray(p) for p in params]
        t = time.perf_counter()
        jax_step().lower(jp, jnp.asarray(x), jnp.asarray(y)).compile()
        jt = time.perf_counter() - t
    return cold, warm, jt


# ---------------------------------------------------------------- matmul


def bench_matmul(q, n=1024):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    mm = slope.jit(lambda x, y: x @ y)
    sa, sb = slope.tensor(a), slope.tensor(b)
    flops = 2 * n ** 3
    s = timeit(lambda: mm(sa, sb), *q)
    npt = timeit(lambda: a @ b, *q)
    jt = None
    if jax is not None:
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        jmm = jax.jit(lambda x, y: x @ y)
        jt = timeit(lambda: block(jmm(ja, jb)), *q)
    g = lambda t: None if t is None else flops / t / 1e9  # noqa: E731
    return g(s), g(jt), g(npt)


# ---------------------------------------------------------------- property suite


def bench_suite():
    cmd = [sys.executable, "-m", "pytest", "-n", "auto", "-q", "tests/properties"]
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "SLOPE_CACHE_DIR": d}
        out = []
        for _ in ("cold", "warm"):
            t = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
            out.append(time.perf_counter() - t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--suite", action="store_true")
    args = ap.parse_args()
    small = (3, 200) if args.quick else (7, 2000)
    big = (3, 5) if args.quick else (7, 20)
    rows = []
    s, j, n = bench_eager(3, small)
    rows.append(("eager `x*2`, 3 elements", fmt_t(s), fmt_t(j), fmt_t(n), ratio(s, j), ratio(s, n), "<= 0.8x JAX"))
    s, j, n = bench_eager(1_000_000, big)
    rows.append(("eager `x*2`, 1M elements", fmt_t(s), fmt_t(j), fmt_t(n), ratio(s, j), ratio(s, n), "<= 0.8x JAX"))
    s, j = bench_mlp(big if args.quick else (7, 50))
    rows.append(("jit MLP train step 784-128-10, batch 128", fmt_t(s), fmt_t(j), "", ratio(s, j), "", "<= 0.9x JAX"))
    cold, warm, j = bench_compile()
    rows.append(("compile MLP step, cold", fmt_t(cold), fmt_t(j), "", ratio(cold, j), "", ""))
    rows.append(("compile MLP step, warm (disk cache, new process)", fmt_t(warm), "", "", "", "", "<= 5 ms"))
    s, j, n = bench_matmul((3, 1) if args.quick else (5, 3))
    f = lambda g: "n/a" if g is None else f"{g:.0f} GFLOP/s"  # noqa: E731
    rows.append(("1024^3 f32 matmul (jit)", f(s), f(j), f(n), ratio(s, j) if j else "n/a", ratio(s, n), ">= 0.9x NumPy"))
    if args.suite:
        cold, warm = bench_suite()
        rows.append(("property suite (pytest -n auto tests/properties), cold", fmt_t(cold), "", "", "", "", "< 10 min"))
        rows.append(("property suite, warm", fmt_t(warm), "", "", "", "", "< 3 min"))
    print(f"slope benchmarks ({'jax ' + jax.__version__ if jax else 'no jax'}, numpy {np.__version__}, "
          f"IREE driver {os.environ.get('SLOPE_IREE_DRIVER', 'local-sync')})\n")
    print("| benchmark | slope | JAX | NumPy | slope/JAX | slope/NumPy | target |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
