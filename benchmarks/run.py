"""slope vs JAX vs NumPy, measured side by side in one run; prints a markdown table of ratios.

    python benchmarks/run.py            # everything but the test suites
    python benchmarks/run.py --flags    # also: 1024^3 matmul under several IREE compiler flag sets
    python benchmarks/run.py --suite    # also: `pytest -n auto` on tests/properties and on tests, cold and warm
    python benchmarks/run.py --quick    # fewer repetitions (CI smoke check: it only has to run)

JAX is optional (pip install -e .[bench]); without it the JAX columns say n/a.
Ratios are slope / peer: for times lower is better, for GFLOP/s higher is better.
The libraries take turns timing batches of calls (see `compare`), so a change in machine load
during the run affects them alike; each number is the median over the batches.
"""
from __future__ import annotations

import argparse
import os
import platform
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


def warm_up(fn, warmup_s):
    """At least 3 calls and `warmup_s` seconds of them (JAX and slope's driver choice both
    settle within a few hundred calls)."""
    t0 = time.perf_counter()
    n = 0
    while n < 3 or time.perf_counter() - t0 < warmup_s:
        fn()
        n += 1


def compare(fns, repeat, number, warmup_s=0.05):
    """Median seconds per call of each named function (None entries are skipped).

    Each is warmed up, then the functions take turns timing one batch of `number` calls,
    `repeat` rounds, with a short pause before every batch: load from other processes on the
    machine then hits all libraries alike, and one library's thread pool, still spinning after
    its batch, does not slow the next library's batch. After the pause each library makes one
    untimed call before its batch: the first call after an idle pause pays for waking thread
    pools (measured +40-80% on a 10 ms matmul, for NumPy/OpenBLAS and IREE alike), which would
    otherwise dominate batches of a few long calls."""
    fns = {k: f for k, f in fns.items() if f is not None}
    for f in fns.values():
        warm_up(f, warmup_s)
        settle()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            settle(0.02)
            f()
            t = time.perf_counter()
            for _ in range(number):
                f()
            times[k].append((time.perf_counter() - t) / number)
    return {k: statistics.median(v) for k, v in times.items()}


def settle(s=0.1):
    time.sleep(s)


def block(x):
    if jax is not None and hasattr(x, "block_until_ready"):
        x.block_until_ready()
    return x


def fmt_t(s):
    return "n/a" if s is None else f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.2f}x"


def _driver_of(jitted):
    """Which IREE device slope's driver choice settled on for a jitted function's executable."""
    for program, _, _ in jitted._cache.values():
        exe = program._executable
        if exe is not None:
            times = getattr(exe, "driver_times", {})
            seen = ", ".join(f"{d[6:]} {fmt_t(t)}" for d, t in sorted(times.items()) if t is not None)
            return getattr(exe, "driver", "?") + (f"; recent median {seen}" if seen else "")
    return "?"


# ---------------------------------------------------------------- eager per-op


def bench_eager(n, q):
    a = np.ones(n, np.float32)
    x = slope.tensor(a)
    fns = {"slope": lambda: x * 2, "numpy": lambda: a * 2, "jax": None}
    if jax is not None:
        xj = jnp.asarray(a)
        fns["jax"] = lambda: block(xj * 2)
    t = compare(fns, *q, warmup_s=0.3)
    return t["slope"], t.get("jax"), t["numpy"]


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
    fns = {"slope": lambda: step(sp, sx, sy), "jax": None}
    if jax is not None:
        jstep = jax_step()
        jp = [jnp.asarray(p) for p in params]
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        fns["jax"] = lambda: block(jstep(jp, jx, jy)[0])
    t = compare(fns, *q, warmup_s=0.5)
    return t["slope"], t.get("jax"), _driver_of(step)


_COMPILE_SNIPPET = """
import sys, time
sys.path.insert(0, {root!r})
import numpy as np
import slope
exec(compile({defs!r}, "run.py", "exec"))
x, y, params = mlp_data()
args = ([slope.tensor(p) for p in params], slope.tensor(x), slope.tensor(y))
step = slope_step()
lowered = step.lower(*args)
t = time.perf_counter()
lowered.compile()
print(time.perf_counter() - t)
"""


def _defs_source():
    """Source of mlp_data and slope_step, so the compile subprocess need not import JAX."""
    import inspect

    return inspect.getsource(mlp_data) + "\n" + inspect.getsource(slope_step)


def bench_compile(warm_runs=3):
    """Cold: empty disk cache. Warm: same cache, fresh process (so only the disk cache helps).
    Both time `Lowered.compile()` alone: StableHLO emission, cache lookup, compile or load."""
    code = _COMPILE_SNIPPET.format(root=ROOT, defs=_defs_source())
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "SLOPE_CACHE_DIR": d}
        run = lambda: float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: E731
                                           text=True, check=True).stdout.strip().splitlines()[-1])
        cold = run()
        warm = min(run() for _ in range(warm_runs))
    jt = None
    if jax is not None:
        x, y, params = mlp_data()
        jp = [jnp.asarray(p) for p in params]
        t = time.perf_counter()
        jax_step().lower(jp, jnp.asarray(x), jnp.asarray(y)).compile()
        jt = time.perf_counter() - t
    return cold, warm, jt


def bench_parallel_compile(n=4):
    """Cold-compile n small distinct modules one after another, then n others with compile_many."""
    from slope.backends.iree import compile as C
    from slope.backends.iree.lowering import lower_primitive
    from slope.core.aval import Aval
    from slope.primitives import REGISTRY

    spec = REGISTRY["exp"]
    stamp = time.time_ns() % 1000

    def job(i):
        a = Aval((1000 + stamp * 10 + i,), "float32")  # shapes unseen by this process and cache
        return (lower_primitive(spec, [a], spec.abstract_eval(a), {}), "exp", [a], spec.abstract_eval(a))

    old = os.environ.get("SLOPE_CACHE_DIR")
    with tempfile.TemporaryDirectory() as d:
        os.environ["SLOPE_CACHE_DIR"] = d
        try:
            t = time.perf_counter()
            for i in range(n):
                C.compile_module(*job(i))
            serial = time.perf_counter() - t
            t = time.perf_counter()
            C.compile_many([job(n + i) for i in range(n)])
            parallel = time.perf_counter() - t
        finally:
            if old is None:
                del os.environ["SLOPE_CACHE_DIR"]
            else:
                os.environ["SLOPE_CACHE_DIR"] = old
    return serial, parallel


# ---------------------------------------------------------------- matmul


def bench_matmul(q, n=1024):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    mm = slope.jit(lambda x, y: x @ y)
    sa, sb = slope.tensor(a), slope.tensor(b)
    fns = {"slope": lambda: mm(sa, sb), "numpy": lambda: a @ b, "jax": None}
    if jax is not None:
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        jmm = jax.jit(lambda x, y: x @ y)
        fns["jax"] = lambda: block(jmm(ja, jb))
    t = compare(fns, *q, warmup_s=0.5)
    g = lambda s: None if s is None else 2 * n ** 3 / s / 1e9  # noqa: E731
    return g(t["slope"]), g(t.get("jax")), g(t["numpy"]), _driver_of(mm)


def bench_random_bits(q, n=10_000_000):
    """10^7 uint32 random bits from a key: slope.random.bits (threefry2x32, eager call of its one
    staged program) vs jax.random.bits (jitted) vs NumPy default_rng().integers (PCG64)."""
    import slope.random as sr

    k = sr.key(0)
    gen = np.random.default_rng(0)
    fns = {"slope": lambda: sr.bits(k, (n,)), "numpy": lambda: gen.integers(0, 2**32, size=n, dtype=np.uint32),
           "jax": None}
    if jax is not None:
        kj = jax.random.PRNGKey(0)
        jbits = jax.jit(lambda k: jax.random.bits(k, (n,)))
        fns["jax"] = lambda: block(jbits(kj))
    t = compare(fns, *q, warmup_s=0.3)
    return t["slope"], t.get("jax"), t["numpy"]


MATMUL_FLAG_SETS = {  # what was tried for the 1024^3 matmul (BASE_FLAGS always; F64 flags never apply)
    "no data tiling": [],
    "--iree-opt-data-tiling (slope's choice >= 512^3)": ["--iree-opt-data-tiling"],
    "data tiling + --iree-llvmcpu-matmul-tile-bytes=32768": ["--iree-opt-data-tiling",
                                                              "--iree-llvmcpu-matmul-tile-bytes=32768"],
    "data tiling + --iree-llvmcpu-matmul-tile-bytes=262144": ["--iree-opt-data-tiling",
                                                               "--iree-llvmcpu-matmul-tile-bytes=262144"],
    "data tiling + --iree-llvmcpu-enable-ukernels=all": ["--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=all"],
    "--iree-llvmcpu-enable-ukernels=all alone": ["--iree-llvmcpu-enable-ukernels=all"],
}


def bench_matmul_flags(q, n=1024):
    """GFLOP/s of the 1024^3 matmul compiled with each flag set, on each IREE device, timed side by
    side with NumPy (one row per flag set: local-sync, local-task, NumPy)."""
    from slope.backends.iree import compile as C
    from slope.backends.iree.runtime import Executable

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    sa, sb = slope.tensor(a), slope.tensor(b)
    lowered = slope.jit(lambda x, y: x @ y).lower(sa, sb)
    text, prog = lowered.code, lowered.program
    fns, compile_s = {"numpy": lambda: a @ b}, {}
    for name, extra in MATMUL_FLAG_SETS.items():
        t = time.perf_counter()
        vmfb = C._compile_vmfb(text, "matmul", C.BASE_FLAGS + extra)
        compile_s[name] = time.perf_counter() - t
        for drv in ("local-sync", "local-task"):
            exe = Executable(vmfb, "matmul", prog.in_avals, prog.out_avals, text).use_driver(drv)
            fns[(name, drv)] = lambda exe=exe: exe([sa._buf, sb._buf])
    t = compare(fns, *q, warmup_s=0.3)
    g = lambda s: 2 * n ** 3 / s / 1e9  # noqa: E731
    return [(name, compile_s[name], g(t[(name, "local-sync")]), g(t[(name, "local-task")]), g(t["numpy"]))
            for name in MATMUL_FLAG_SETS]


# ---------------------------------------------------------------- test suites


def bench_suites():
    """Wall time of the property suite (`pytest -n auto tests/properties`, the conformance
    matrix) and of the whole test suite (`pytest -n auto tests`), each with an empty compile
    cache (cold), then again with the cache it filled (warm)."""
    pytest = [sys.executable, "-m", "pytest", "-n", "auto", "-q", "-p", "no:cacheprovider"]
    cmds = {"python -m pytest -n auto tests/properties": pytest + ["tests/properties"],
            "python -m pytest -n auto tests": pytest + ["tests"]}
    rows = []
    for label, cmd in cmds.items():
        with tempfile.TemporaryDirectory() as d:
            env = {**os.environ, "SLOPE_CACHE_DIR": d}
            times = []
            for _ in ("cold", "warm"):
                t = time.perf_counter()
                r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
                times.append(time.perf_counter() - t)
            lines = [ln for ln in r.stdout.strip().splitlines() if ln.strip()]
            summary = lines[-1].strip("= ") if lines else f"exit {r.returncode}"
        rows.append((label, times[0], times[1], summary))
    return rows


def _per_library(script, quick):
    """{library: the JSON that benchmarks/<script> printed}, each library (slope, and JAX when installed)
    run in its own process, so that each reports its own peak resident memory."""
    import json

    out = {}
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for lib in ("slope", "jax") if jax is not None else ("slope",):
        r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), lib]
                           + (["--quick"] if quick else []), capture_output=True, text=True, env=env, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"{script} {lib} failed:\n{r.stderr[-3000:]}")
        out[lib] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def bench_llama(quick):
    """Tiny Llama (examples/llama_train.py's) train and decode tokens/s (benchmarks/llama_bench.py)."""
    out = _per_library("llama_bench.py", quick)
    return out.get("slope"), out.get("jax")


def bench_whisper(quick):
    """Whisper-tiny-sized encoder forward time and KV-cache decode tokens/s (benchmarks/whisper_bench.py)."""
    out = _per_library("whisper_bench.py", quick)
    return out.get("slope"), out.get("jax") or {}


def bench_digits(epochs):
    """examples/digits.py's CNN epoch (after the compiling first one) and peak RSS, slope vs the same model and
    AdamW in plain JAX, each library in its own process (benchmarks/digits_bench.py); n/a without sklearn."""
    out = {}
    for lib in ("slope", "jax"):
        if lib == "jax" and jax is None:
            continue
        r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "digits_bench.py"), lib, "--epochs",
                            str(epochs)], cwd=ROOT, capture_output=True, text=True, check=False)
        line = [ln for ln in r.stdout.splitlines() if ln.startswith("epoch_s")]
        if r.returncode or not line:
            return None
        f = line[0].split()
        out[lib] = (float(f[1]), float(f[5]))
    return out


def bench_resnet(quick):
    """One ResNet basic block's jitted forward + backward, slope and JAX alternating in one process
    (benchmarks/resnet_bench.py; slope alone without JAX). Raises if the two losses disagree."""
    import json

    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "resnet_bench.py")] + (["--quick"] if quick else []),
                       capture_output=True, text=True, env=env, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"resnet_bench.py failed:\n{r.stderr[-3000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if out["jax_loss"] is not None and not np.isclose(out["slope_loss"], out["jax_loss"], rtol=1e-4):
        raise RuntimeError(f"resnet_bench.py: slope and JAX computed different losses: {out}")
    return out


def _load():
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on every OS
        return "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (smoke check)")
    ap.add_argument("--suite", action="store_true", help="also time the test suites cold and warm (minutes)")
    ap.add_argument("--suite-only", action="store_true", help="time only the test suites")
    ap.add_argument("--flags", action="store_true", help="also compare IREE compiler flags on the 1024^3 matmul")
    args = ap.parse_args()
    if args.suite_only:
        print(f"1-min load average at start {_load()}\n\n| suite | cold cache | warm cache | result |\n|---|---|---|---|")
        for label, cold, warm, summary in bench_suites():
            print(f"| `{label}` | {fmt_t(cold)} | {fmt_t(warm)} | {summary} |")
        return
    load = _load()
    small = (3, 200) if args.quick else (9, 2000)
    big = (3, 5) if args.quick else (9, 50)
    rows = []
    s, j, n = bench_eager(3, small)
    rows.append(("eager `x*2`, 3 elements", fmt_t(s), fmt_t(j), fmt_t(n), ratio(s, j), ratio(s, n), "<= 0.8x JAX"))
    s, j, n = bench_eager(1_000_000, big)
    rows.append(("eager `x*2`, 1M elements", fmt_t(s), fmt_t(j), fmt_t(n), ratio(s, j), ratio(s, n), "<= 0.8x JAX"))
    s, j, drv = bench_mlp(big)
    rows.append((f"jit MLP train step 784-128-10, batch 128 ({drv})", fmt_t(s), fmt_t(j), "", ratio(s, j), "",
                 "<= 0.9x JAX"))
    cold, warm, j = bench_compile(1 if args.quick else 5)
    rows.append(("compile MLP step, cold", fmt_t(cold), fmt_t(j), "", ratio(cold, j), "", ""))
    rows.append(("compile MLP step, warm (disk cache, new process)", fmt_t(warm), "", "", "", "", "<= 5 ms"))
    if not args.quick and hasattr(__import__("slope.backends.iree.compile").backends.iree.compile, "compile_many"):
        serial, parallel = bench_parallel_compile()
        rows.append(("cold compile of 4 eager modules: one by one / `compile_many`", fmt_t(serial) + " / " +
                     fmt_t(parallel), "", "", "", "", ""))
    s, j, n, drv = bench_matmul((3, 2) if args.quick else (9, 5))
    f = lambda g: "n/a" if g is None else f"{g:.0f} GFLOP/s"  # noqa: E731
    rows.append((f"1024^3 f32 matmul, jit ({drv})", f(s), f(j), f(n), ratio(s, j), ratio(s, n), ">= 0.9x NumPy"))
    s, j, n = bench_random_bits((3, 2) if args.quick else (7, 5))
    rows.append(("`slope.random.bits`, 10^7 uint32 (threefry2x32)", fmt_t(s), fmt_t(j), fmt_t(n), ratio(s, j),
                 ratio(s, n), ""))
    sl, jl = bench_llama(args.quick)
    jl = jl or {}
    tok = lambda r, k: "n/a" if r.get(k) is None else f"{r[k]:,.0f} tok/s"  # noqa: E731
    inv = lambda a, b: "n/a" if a is None or b is None else f"{b / a:.2f}x"  # noqa: E731  (time ratio)
    rows.append(("Llama 2x64 (GQA 4/2, vocab 256) train step, batch 16 x 64 tokens, AdamW", tok(sl, "train_tokens_per_s"),
                 tok(jl, "train_tokens_per_s"), "", inv(sl["train_tokens_per_s"], jl.get("train_tokens_per_s")), "", ""))
    rows.append(("Llama 2x64 KV-cache decode step, batch 1, cache 256", tok(sl, "decode_tokens_per_s"),
                 tok(jl, "decode_tokens_per_s"), "", inv(sl["decode_tokens_per_s"], jl.get("decode_tokens_per_s")),
                 "", ""))
    mb = lambda r: "n/a" if r.get("peak_rss_mb") is None else f"{r['peak_rss_mb']:.0f} MB"  # noqa: E731
    rows.append(("Llama train + decode, peak RSS of the process", mb(sl), mb(jl), "",
                 "n/a" if not jl else f"{sl['peak_rss_mb'] / jl['peak_rss_mb']:.2f}x", "", ""))
    sw, jw = bench_whisper(args.quick)
    reduced = " (--quick: 64-d, 1 layer, vocab 1024)" if args.quick else ""
    rows.append(("Whisper-tiny-sized encoder forward (384-d, 4 layers, 80 x 3000 mel, batch 1)" + reduced,
                 fmt_t(sw["encoder_s"]), fmt_t(jw.get("encoder_s")) if jw else "n/a", "",
                 ratio(sw["encoder_s"], jw.get("encoder_s")) if jw else "n/a", "", "<= 1.0x JAX"))
    rows.append(("Whisper-tiny-sized KV-cache decode step (vocab 51865, cache 448, logits to host)" + reduced,
                 tok(sw, "decode_tokens_per_s"), tok(jw, "decode_tokens_per_s"), "",
                 inv(sw["decode_tokens_per_s"], jw.get("decode_tokens_per_s")), "", ""))
    d = bench_digits(2 if args.quick else 4)
    if d:
        (s, sm), (j, jm) = d["slope"], d.get("jax", (None, None))
        rows.append(("digits CNN epoch (42 steps of batch 32, AdamW), after compile", fmt_t(s), fmt_t(j), "",
                     ratio(s, j), "", "<= 1.0x JAX"))
        rows.append(("digits CNN training, peak memory (RSS)", f"{sm:.0f} MB", "n/a" if jm is None else f"{jm:.0f} MB",
                     "", "" if jm is None else f"{sm / jm:.2f}x", "", ""))
    r = bench_resnet(args.quick)
    rows.append(("ResNet basic block (64 ch, 32 x 32, batch 32, BatchNorm) forward + backward, jit",
                 fmt_t(r["slope_s"]), fmt_t(r["jax_s"]), "", ratio(r["slope_s"], r["jax_s"]), "", "<= 1.0x JAX"))
    flag_rows = bench_matmul_flags((3, 2) if args.quick else (7, 3)) if args.flags else []
    if args.suite:
        for label, cold, warm, summary in bench_suites():
            rows.append((f"`{label}`, cold cache ({summary})", fmt_t(cold), "", "", "", "", ""))
            rows.append((f"`{label}`, warm cache", fmt_t(warm), "", "", "", "", ""))
    from slope.backends.iree import runtime, scheduling

    print(f"slope benchmarks: {'jax ' + jax.__version__ if jax else 'no jax'}, numpy {np.__version__}, "
          f"python {platform.python_version()}, {os.cpu_count()} CPUs, IREE driver {runtime.DRIVER}, "
          f"caller scheduling {scheduling.CALLER_SCHED} (SLOPE_IREE_CALLER_SCHED), "
          f"1-min load average at start {load}\n")
    print("| benchmark | slope | JAX | NumPy | slope/JAX | slope/NumPy | target |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if flag_rows:
        print("\n1024^3 f32 matmul by IREE flags (GFLOP/s; NumPy timed alongside each)\n")
        print("| flags | compile | local-sync | local-task | NumPy | best/NumPy |")
        print("|---|---|---|---|---|---|")
        for name, cs, ls, lt, npy in flag_rows:
            print(f"| {name} | {fmt_t(cs)} | {ls:.0f} | {lt:.0f} | {npy:.0f} | {max(ls, lt) / npy:.2f}x |")


if __name__ == "__main__":
    main()
