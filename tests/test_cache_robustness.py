"""The compile cache cannot run corrupt code and leaks nothing (issue 16, part 2).

* integrity: entries are verified (checksum, key, versions, flags) before IREE sees them; bit flips,
  truncations, swapped entries and entries of other versions are misses that recompile; executables
  check their outputs' shapes and dtypes on their first call;
* concurrency: each module is compiled once across threads (single flight) and processes (flock);
* leaks: no descriptor or temporary directory per float64 module, stale temporary directories of
  dead processes are removed, the disk cache is capped (LRU) and the memory cache bounded;
* kept: kill -9 during a write leaves no entry, 8 threads compute right answers, no eval/exec/pickle.

Modules are tiny StableHLO texts written here (independent of the lowerings), compiled once per
test module into a private cache directory that tests copy.
"""
import ast
import fcntl
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import slope
from slope.backends.iree import cache, runtime
from slope.backends.iree import compile as C
from slope.core.aval import Aval

pytestmark = pytest.mark.no_prefetch  # counts or stages its own compiles (tests/conftest.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NP = {"f32": np.float32, "f64": np.float64}
_REF = {"sine": np.sin, "cosine": np.cos, "exponential": np.exp, "tanh": np.tanh, "log_plus_one": np.log1p}


def unary(op, shape, dt="f32"):
    """A compile job (text, name, in avals, out avals) for stablehlo.`op` on one tensor."""
    t = f"tensor<{'x'.join(map(str, shape))}x{dt}>"
    text = (f"func.func @main(%arg0: {t}) -> ({t}) {{\n    %v1 = \"stablehlo.{op}\"(%arg0) : ({t}) -> {t}\n"
            f"    return %v1 : {t}\n}}\n")
    aval = Aval(shape, {"f32": "float32", "f64": "float64"}[dt])
    return text, f"{op}{list(shape)}", [aval], [aval]


def check_runs(exe, job, dt="f32"):
    """Run an executable of unary(...) and compare it with NumPy."""
    text, _, (aval,), _ = job
    op = text.split('"stablehlo.')[1].split('"')[0]
    x = np.linspace(0.1, 0.9, aval.size).reshape(aval.shape).astype(_NP[dt])
    (out,) = exe([runtime.to_device(x)])
    got = runtime.to_host(out, aval)
    np.testing.assert_allclose(got, _REF[op](x), rtol=1e-6 if dt == "f32" else 1e-13)


SIN, COS = unary("sine", (2, 5)), unary("cosine", (2, 5))
EXPS = [unary("exponential", (k + 1, 3)) for k in range(2)]
F64 = [unary("sine", (3,), "f64"), unary("tanh", (4,), "f64")]


def _reset():
    C._memory.clear()
    C._shared.clear()


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """(directory, {(text, flags): vmfb}): a private cache holding SIN, COS, F64 (one module each)
    and EXPS (two programs of one shared module), and what IREE compiled for them."""
    d = tmp_path_factory.mktemp("warm")
    compiled = {}
    real = C._compile_vmfb

    def recording(text, name, flags):
        vmfb = compiled[(text, tuple(flags))] = real(text, name, flags)
        return vmfb

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOPE_CACHE_DIR", str(d))
        mp.setattr(C, "_memory", {})
        mp.setattr(C, "_shared", {})
        mp.setattr(C, "_compile_vmfb", recording)
        for job in [SIN, COS] + F64:
            C.compile_module(*job)
        C.compile_many(EXPS, max_workers=1)  # one shared module, whatever SLOPE_COMPILE_THREADS says
    return d, compiled


@pytest.fixture
def cache_copy(warm, tmp_path, monkeypatch):
    """A copy of the warm cache as SLOPE_CACHE_DIR, empty memory caches, the warning not yet given."""
    d = tmp_path / "cache"
    shutil.copytree(warm[0], d)
    monkeypatch.setenv("SLOPE_CACHE_DIR", str(d))
    monkeypatch.setattr(C, "_memory", {})
    monkeypatch.setattr(C, "_shared", {})
    monkeypatch.setattr(C, "_warned", False)
    return d


def _entry(job, kind="vmfb", d=None):
    """The path of a job's entry in the cache directory `d` (default: SLOPE_CACHE_DIR)."""
    key = cache.make_key(cache.text_hash(job[0]), C.flags_for_text(job[0]))
    return pathlib.Path(d or cache.cache_dir(), key[:2], f"{key}.{kind}")


def _shared_module_of(job):
    with open(_entry(job, "ref"), "rb") as f:
        data = f.read()
    header = json.loads(data.split(b"\n")[2])
    return pathlib.Path(C._paths(header["module"])[0])


# ---- integrity -----------------------------------------------------------------------------------

def test_entries_are_verified_and_bad_ones_recompiled(cache_copy, warm, monkeypatch):
    """Bit flips at random offsets (header and payload), truncations, swapped entries, entries of
    other compiler/runtime versions or flags, and old-format entries: every load either verifies or
    recompiles, replaces the entry atomically, and computes the right values; none crashes.
    (Recompiles return what IREE compiled for the same text in the warm fixture: a memo of the
    compiler, so that a hundred recompiles take no minute; the cache logic runs unchanged.)"""
    compiles = []
    real = C._compile_vmfb

    def memo(text, name, flags):
        compiles.append(name)
        if (text, tuple(flags)) not in warm[1]:
            warm[1][(text, tuple(flags))] = real(text, name, flags)
        return warm[1][(text, tuple(flags))]

    monkeypatch.setattr(C, "_compile_vmfb", memo)
    targets = {"module": (SIN, _entry(SIN)), "f64 module": (F64[0], _entry(F64[0])),
               "ref": (EXPS[1], _entry(EXPS[1], "ref")), "shared module": (EXPS[0], _shared_module_of(EXPS[0]))}
    pristine = {p: p.read_bytes() for p in cache_copy.rglob("*") if p.is_file()}

    def restore():
        for p in cache_copy.rglob("*"):
            if p.is_file() and p not in pristine:
                p.unlink()
        for p, data in pristine.items():
            p.write_bytes(data)
        _reset()

    def load_and_check(job, *, corrupt):
        n = len(compiles)
        exe = C.compile_module(*job)
        check_runs(exe, job, "f64" if "f64" in job[0] else "f32")
        assert len(compiles) == n + (1 if corrupt else 0)
        _reset()  # the rewritten entries verify and load again, without compiling
        check_runs(C.compile_module(*job), job, "f64" if "f64" in job[0] else "f32")
        assert len(compiles) == n + (1 if corrupt else 0)

    rng = np.random.default_rng(0)
    cases, corrupt_before = 0, C.stats["corrupt"]
    with pytest.warns(C.CacheWarning, match="ignoring the compile cache entry"):
        for what, (job, path) in targets.items():
            data = pristine.get(path)
            assert data is not None, what
            offsets = [0, len(cache.MAGIC), len(cache.MAGIC) + 70, len(data) - 1] + list(rng.integers(0, len(data), 12))
            for off in offsets:
                flipped = bytearray(data)
                flipped[off] ^= 1 << int(rng.integers(0, 8))
                path.write_bytes(bytes(flipped))
                load_and_check(job, corrupt=True)
                restore()
                cases += 1
            for n in (0, 1, len(cache.MAGIC), len(data) // 2, len(data) - 1):
                path.write_bytes(data[:n])
                load_and_check(job, corrupt=True)
                restore()
                cases += 1
    assert C.stats["corrupt"] - corrupt_before == cases == 4 * (16 + 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per process: the cases below are counted only
        # swapped: the module of sin under the key of cos, the ref of one exp under the other's key
        _entry(COS).write_bytes(pristine[_entry(SIN)])
        load_and_check(COS, corrupt=True)
        restore()
        _entry(EXPS[0], "ref").write_bytes(pristine[_entry(EXPS[1], "ref")])
        load_and_check(EXPS[0], corrupt=True)
        restore()
        # other versions and flags, with valid checksums; an entry of the old format (raw .vmfb)
        key = cache.make_key(cache.text_hash(SIN[0]), C.flags_for_text(SIN[0]))
        payload = warm[1][(SIN[0], tuple(C.flags_for_text(SIN[0])))]
        for field, value in [("iree.compiler", "3.12.0+0123abcd"), ("iree._runtime_libs", "3.14.0+4567ef")]:
            with monkeypatch.context() as mp:
                mp.setitem(cache._versions, field, value)
                data = cache.encode("vmfb", key, cache.text_hash(SIN[0]), C.flags_for_text(SIN[0]), payload)
            _entry(SIN).write_bytes(data)
            load_and_check(SIN, corrupt=True)
            restore()
        _entry(SIN).write_bytes(cache.encode("vmfb", key, cache.text_hash(SIN[0]), ["--other-flag"], payload))
        load_and_check(SIN, corrupt=True)
        restore()
        _entry(SIN).write_bytes(payload)
        load_and_check(SIN, corrupt=True)
        restore()
        # the untouched entries verify
        for job in [SIN, COS, EXPS[0], EXPS[1]] + F64:
            load_and_check(job, corrupt=False)


def test_decode_rejects_every_single_bit_flip_of_an_entry(warm):
    """Exhaustively for a small entry (a .ref: header only), and at 2000 random bits of a module."""
    d = warm[0]
    ref = next(d.rglob("*.ref")).read_bytes()
    key = json.loads(ref.split(b"\n")[2])["key"]
    flags = C.flags_for_text(EXPS[0][0])
    cache.decode(ref, "ref", key, flags)
    for bit in range(8 * len(ref)):
        bad = bytearray(ref)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(cache.Corrupt):
            cache.decode(bytes(bad), "ref", key, flags)
    data = _entry(SIN, d=d).read_bytes()
    header = json.loads(data.split(b"\n")[2])
    rng = np.random.default_rng(1)
    for bit in rng.integers(0, 8 * len(data), 2000):
        bad = bytearray(data)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(cache.Corrupt):
            cache.decode(bytes(bad), "vmfb", header["key"], header["flags"], header["text"])


def test_outputs_are_checked_on_the_first_call(warm, cache_copy):
    """A module whose outputs are not the expected avals raises BackendError instead of returning
    wrongly shaped or typed buffers; a right one is checked once, then takes the fast path."""
    vmfb = warm[1][(SIN[0], tuple(C.flags_for_text(SIN[0])))]
    x = runtime.to_device(np.ones((2, 5), np.float32))
    for wrong in ([Aval((5, 2), "float32")], [Aval((2, 5), "float64")], [Aval((2, 5), "int32")],
                  [Aval((2, 5), "float32")] * 2):
        exe = runtime.Executable(vmfb, "sin", SIN[2], wrong, SIN[0])
        for _ in range(2):  # and every call after it
            with pytest.raises(slope.BackendError, match="IREE returned outputs that do not match sin"):
                exe([x])
    exe = runtime.Executable(vmfb, "sin", SIN[2], SIN[3], SIN[0]).use_driver("local-sync")
    assert exe._slow and not exe._checked
    exe([x])
    assert exe._checked and not exe._slow


def test_output_check_accepts_every_dtype(fresh_memory):
    """IREE returns signed integers as signless ones: the check must accept what it really returns."""
    from slope.testing import dryrun

    dtypes = [slope.float32, slope.float64, slope.float16, slope.bfloat16, slope.int8, slope.int16, slope.int32,
              slope.int64, slope.uint8, slope.uint32, slope.bool_]
    f = slope.jit(lambda a: a.T)
    xs = [slope.zeros(2, 3, dtype=d) for d in dtypes]
    with dryrun.collecting() as jobs:
        for x in xs:
            with pytest.raises(dryrun.Deferred):
                f(x)
    C.compile_many(jobs)
    for x, d in zip(xs, dtypes):
        y = f(x)
        assert y.shape == (3, 2) and y.dtype is d


@pytest.fixture
def fresh_memory(monkeypatch):
    monkeypatch.setattr(C, "_memory", {})
    monkeypatch.setattr(C, "_shared", {})


def test_no_eval_exec_or_pickle_in_slope():
    """Nothing in the package evaluates strings or unpickles: cache entries are JSON + bytes for IREE.
    The one exception is the test harness's program fuzzer (slope/testing/programs.py), which
    compiles the program text it generated itself, so that each failure prints as a runnable repro."""
    banned_calls = {"eval", "exec", "compile", "__import__"}
    banned_modules = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "shelve", "marshal", "joblib"}
    found = []
    for dirpath, _, files in os.walk(os.path.join(ROOT, "slope")):
        for fn in files:
            if not fn.endswith(".py"):
                continue
            path = os.path.join(dirpath, fn)
            if os.path.relpath(path, ROOT) == os.path.join("slope", "testing", "programs.py"):
                continue
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                where = f"{os.path.relpath(path, ROOT)}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Call):
                    fn_ = node.func
                    if isinstance(fn_, ast.Name) and fn_.id in banned_calls:
                        found.append(f"{where} {fn_.id}()")
                    if isinstance(fn_, ast.Attribute) and fn_.attr in ("eval", "exec") and \
                            isinstance(fn_.value, ast.Name) and fn_.value.id == "builtins":
                        found.append(f"{where} builtins.{fn_.attr}()")
                    for kw in node.keywords:
                        if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                            found.append(f"{where} allow_pickle")
                elif isinstance(node, ast.Import):
                    found += [f"{where} import {a.name}" for a in node.names if a.name.split(".")[0] in banned_modules]
                elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in banned_modules:
                    found.append(f"{where} from {node.module}")
    assert not found, found


# ---- concurrency ---------------------------------------------------------------------------------

def _run_threads(n, target):
    errors = []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_threads_compile_each_module_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SLOPE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(C, "_memory", {})
    monkeypatch.setattr(C, "_shared", {})
    jobs = [unary("cosine", (k + 1, 4)) for k in range(3)]
    batch = [unary("tanh", (k + 1, 2)) for k in range(4)]
    before = C.stats["compiles"]

    def work(i):
        order = jobs[i % 3:] + jobs[:i % 3]
        for job in order:
            check_runs(C.compile_module(*job), job)
        for job, exe in zip(batch, C.compile_many(batch, max_workers=1)):
            check_runs(exe, job)

    _run_threads(8, work)
    assert C.stats["compiles"] - before == len(jobs) + 1  # 3 modules, the batch as one shared module


_WORKER = r"""
import json, os, sys, threading, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from test_cache_robustness import unary, check_runs
from slope.backends.iree import compile as C
jobs = [unary("log_plus_one", (k + 1, 3)) for k in range(2)]
batch = [unary("exponential", (k + 2, 7)) for k in range(4)]
open(os.path.join({sync!r}, "ready-%d" % os.getpid()), "w").close()
while not os.path.exists(os.path.join({sync!r}, "go")):
    time.sleep(0.005)
errors = []
def work(i):
    try:
        if i % 2:
            for job, exe in zip(batch, C.compile_many(batch, max_workers=1)):
                check_runs(exe, job)
        else:
            for job in (jobs if i % 4 else jobs[::-1]):
                check_runs(C.compile_module(*job), job)
    except BaseException as e:
        errors.append(repr(e))
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in threads]; [t.join() for t in threads]
print(json.dumps({{"stats": C.stats, "errors": errors}}))
"""


def test_processes_and_threads_compile_each_module_once(tmp_path):
    """2 processes x 4 threads ask for the same 2 modules (compile_module) and the same 4 programs
    (compile_many): 3 compiles in all (the 4 programs as one shared module)."""
    sync = tmp_path / "sync"
    sync.mkdir()
    code = _WORKER.format(root=ROOT, tests=os.path.join(ROOT, "tests"), sync=str(sync))
    env = {**os.environ, "SLOPE_CACHE_DIR": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    deadline = time.time() + 120
    while len(list(sync.glob("ready-*"))) < 2 and time.time() < deadline and all(p.poll() is None for p in procs):
        time.sleep(0.01)
    (sync / "go").touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["errors"] for r in results] == [[], []]
    assert sum(r["stats"]["compiles"] for r in results) == 3, results


def test_eight_threads_compute_right_answers(tmp_path, monkeypatch):
    """8 threads run jitted functions (compiled by the first call, in all threads at once: one
    compile each) and eager ops, and get NumPy's values. Tracing is done first, on this thread:
    slope's trace stack is global, so tracing itself is not thread-safe."""
    monkeypatch.setenv("SLOPE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(C, "_memory", {})
    monkeypatch.setattr(C, "_shared", {})
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(8)]
    xs = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(8)]
    fns = [(slope.jit(lambda w, x: ((x @ w).tanh() * 2.0).sum(0)), lambda w, x: (np.tanh(x @ w) * 2).sum(0)),
           (slope.jit(lambda w, x: (x @ w).exp().sum(1).log()), lambda w, x: np.log(np.exp(x @ w).sum(1))),
           (slope.jit(lambda w, x: x.T @ x * 0.5), lambda w, x: x.T @ x * 0.5)]
    w0, x0 = slope.tensor(ws[0]), slope.tensor(xs[0])
    for f, _ in fns:
        f.lower(w0, x0)
    np.testing.assert_allclose((x0 * 3.0 + w0.sum()).numpy(), xs[0] * 3 + ws[0].sum(), rtol=1e-5, atol=1e-5)
    before = C.stats["compiles"]

    def work(i):
        w, x = slope.tensor(ws[i]), slope.tensor(xs[i])
        for _ in range(10):
            for f, ref in fns[i % 3:] + fns[:i % 3]:
                np.testing.assert_allclose(f(w, x).numpy(), ref(ws[i], xs[i]), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose((x * 3.0 + w.sum()).numpy(), xs[i] * 3 + ws[i].sum(), rtol=1e-5, atol=1e-5)

    _run_threads(8, work)
    assert C.stats["compiles"] - before == len(fns)


# ---- leaks ---------------------------------------------------------------------------------------

def _python(code, env, timeout=300, check=True):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=timeout, check=False)
    if check:
        assert out.returncode == 0, out.stderr
    return out


_LOAD_F64 = """
import json, os, resource, sys
sys.path.insert(0, {tests!r})
from test_cache_robustness import F64, check_runs
from slope.backends.iree import compile as C, runtime
def fds():
    return len(os.listdir("/proc/self/fd"))
for job in F64:
    check_runs(C.compile_module(*job).use_driver("local-task"), job, "f64")  # both devices exist
base = fds()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (base + 24, hard))  # a descriptor per module would hit it
for i in range({n}):
    C._memory.clear(); C._shared.clear()
    job = F64[i % 2]
    exe = C.compile_module(*job)  # a new module loaded from disk: a new system-linked library
    if i % 5 == 0:
        exe.use_driver("local-task")  # a second context: a second library load
    check_runs(exe, job, "f64")
print(json.dumps({{"base": base, "after": fds(), "stats": C.stats, "left": os.listdir(runtime._dylib_dir),
                  "dir": runtime._dylib_dir}}))
"""


def test_float64_modules_leak_no_descriptor_or_directory(warm, tmp_path):
    """50 float64 module loads under a descriptor limit 24 above the start: none left open (IREE
    leaks one per load, slope closes it), no temporary file left, the directory gone at exit."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "SLOPE_CACHE_DIR": str(warm[0]), "TMPDIR": str(tmp)}
    out = _python(_LOAD_F64.format(tests=os.path.join(ROOT, "tests"), n=50), env)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["after"] == r["base"] and r["left"] == [], r
    assert r["stats"]["compiles"] == 0 and r["stats"]["disk_hits"] >= 50
    assert r["dir"].startswith(str(tmp)) and os.listdir(tmp) == []


def test_stale_temporary_directories_are_removed(warm, tmp_path):
    """A process killed with SIGKILL leaves its slope-dylib directory; the next process that loads a
    float64 module removes it (and leaves live ones alone: locked, just made, or old-style in use)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "SLOPE_CACHE_DIR": str(warm[0]), "TMPDIR": str(tmp)}
    killed = _python(f"""
        import os, signal, sys
        sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
        from test_cache_robustness import F64, check_runs
        from slope.backends.iree import compile as C
        check_runs(C.compile_module(*F64[0]), F64[0], "f64")
        os.kill(os.getpid(), signal.SIGKILL)
        """, env, check=False)
    assert killed.returncode == -signal.SIGKILL
    (left,) = os.listdir(tmp)
    assert left.startswith(f"{runtime.DYLIB_PREFIX}")
    old = time.time() - 3600
    live_locked = tmp / f"{runtime.DYLIB_PREFIX}1-live0000"
    live_locked.mkdir()
    lock = runtime._lock_dir(str(live_locked))
    os.utime(live_locked, (old, old))
    unlocked = tmp / f"{runtime.DYLIB_PREFIX}2-unlocked"  # new-style and unlocked: its owner is dead
    unlocked.mkdir()
    legacy_used, legacy_dead, legacy_young = (tmp / f"{runtime.DYLIB_PREFIX}{s}" for s in ("abcdefgh", "ijklmnop", "qrstuvwx"))
    for d in (legacy_used, legacy_dead, legacy_young):
        d.mkdir()
    held = open(legacy_used / "iree_dylib_XXXXXX", "w")  # old slope versions leak such descriptors
    for d in (legacy_used, legacy_dead):
        os.utime(d, (old, old))
    try:
        _python(f"""
            import sys
            sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
            from test_cache_robustness import F64, check_runs
            from slope.backends.iree import compile as C
            check_runs(C.compile_module(*F64[1]), F64[1], "f64")
            """, env)
        # the killed process's, the unlocked one and the unused old-style one went
        assert sorted(os.listdir(tmp)) == sorted([live_locked.name, legacy_used.name, legacy_young.name])
    finally:
        held.close()
        os.close(lock)
    # without their owners: the locked one and the old-style one nobody has open go; a young
    # old-style one may be being set up, and stays
    assert sorted(runtime.clean_stale_dylib_dirs(str(tmp))) == sorted([str(live_locked), str(legacy_used)])
    assert os.listdir(tmp) == [legacy_young.name]


def _fake_entry(d, key, suffix, size, used):
    sub = d / key[:2]
    sub.mkdir(exist_ok=True)
    p = sub / (key + suffix)
    p.write_bytes(b"x" * size)
    os.utime(p, (used, used))
    return p


def test_disk_cache_evicts_least_recently_used(tmp_path):
    now = time.time()
    keys = [f"{i:02x}" + "0" * 62 for i in range(10)]
    entries = [_fake_entry(tmp_path, k, ".vmfb" if i % 2 else ".ref", 1000, now - 1000 + i) for i, k in enumerate(keys)]
    locks = [_fake_entry(tmp_path, k, ".lock", 0, now) for k in keys[:3]]
    held = os.open(locks[2], os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    stale = _fake_entry(tmp_path, keys[5], ".vmfb.999999999.abcdefgh.tmp", 500, now - 120)  # writer is dead
    fresh = _fake_entry(tmp_path, keys[6], f".vmfb.{os.getpid()}.abcdefgh.tmp", 500, now)  # being written
    try:
        left = cache.evict(6200, d=str(tmp_path))  # 10 x 1000 + 500 (being written): 5 entries go
    finally:
        os.close(held)
    assert left == 5500
    assert [p.exists() for p in entries] == [False] * 5 + [True] * 5  # oldest first
    assert [p.exists() for p in locks] == [False, False, True]  # the held lock stays
    assert not stale.exists() and fresh.exists()
    assert cache.evict(None, d=str(tmp_path)) == left  # no cap: nothing more goes


def test_disk_cache_cap_is_applied_on_writes(cache_copy, warm, monkeypatch):
    """With SLOPE_CACHE_MAX_MB below the cache's size, a compile evicts the least recently used
    entries; what was just loaded stays (and still verifies)."""
    monkeypatch.setattr(C, "_compile_vmfb", lambda text, name, flags: warm[1][(text, tuple(flags))])
    C.compile_module(*COS)  # touched: most recently used
    size = cache.info(str(cache_copy))["bytes"]
    monkeypatch.setenv("SLOPE_CACHE_MAX_MB", str(0.6 * size / (1 << 20)))
    monkeypatch.setattr(cache, "_estimate", None)
    _entry(SIN).unlink()
    _reset()
    C.compile_module(*SIN)  # a write: over the cap
    assert cache.info(str(cache_copy))["bytes"] <= 0.6 * size
    assert _entry(SIN).exists() and _entry(COS).exists()
    _reset()
    check_runs(C.compile_module(*COS), COS)


def test_memory_cache_is_an_lru(cache_copy, monkeypatch):
    monkeypatch.setattr(C, "MEMORY_MAX", 2)
    a, b = C.compile_module(*SIN), C.compile_module(*COS)
    assert C.compile_module(*SIN) is a  # a hit: SIN is the most recent now
    c = C.compile_module(*F64[0])  # evicts COS, the least recently used
    assert list(C._memory.values()) == [a, c]
    assert C.compile_module(*COS) is not b and len(C._memory) == 2  # loaded again from disk


def test_cache_cli(cache_copy, capsys):
    from slope.__main__ import main

    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    n = len(list(cache_copy.rglob("*.vmfb"))) + len(list(cache_copy.rglob("*.ref")))
    assert str(cache_copy) in out and f"entries:   {n} (5 modules, 2 references" in out and "cap:       2048.0 MB" in out
    assert main(["cache", "clear"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not list(cache_copy.rglob("*.vmfb")) and not list(cache_copy.rglob("*.ref"))
    main(["cache", "info"])
    assert "entries:   0 (0 modules" in capsys.readouterr().out
    assert main(["cache", "bogus"]) == 2


# ---- what keeps working --------------------------------------------------------------------------

def test_kill_9_during_a_write_leaves_no_entry(warm, tmp_path):
    """A process killed between writing an entry's temporary file and renaming it leaves no entry
    (the next process compiles again) and a temporary that eviction removes."""
    d = tmp_path / "cache"
    shutil.copytree(warm[0], d)
    env = {**os.environ, "SLOPE_CACHE_DIR": str(d)}
    job = unary("cosine", (3, 3))
    out = _python(f"""
        import os, signal, sys
        sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
        from test_cache_robustness import unary
        from slope.backends.iree import compile as C
        real = C._compile_vmfb
        def compile_then_die_at_the_rename(*args):
            vmfb = real(*args)
            os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
            return vmfb
        C._compile_vmfb = compile_then_die_at_the_rename
        C.compile_module(*unary("cosine", (3, 3)))
        """, env, check=False)
    assert out.returncode == -signal.SIGKILL
    key = cache.make_key(cache.text_hash(job[0]), C.flags_for_text(job[0]))
    (tmp,) = (d / key[:2]).glob(key + ".vmfb.*.tmp")
    assert not list((d / key[:2]).glob(key + ".vmfb"))
    out = _python(f"""
        import sys
        sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
        from test_cache_robustness import unary, check_runs
        from slope.backends.iree import compile as C
        job = unary("cosine", (3, 3))
        check_runs(C.compile_module(*job), job)
        print(C.stats["compiles"], C.stats["corrupt"])
        """, env)
    assert out.stdout.split() == ["1", "0"]
    old = time.time() - 120
    os.utime(tmp, (old, old))
    cache.evict(None, d=str(d))
    assert not tmp.exists()
