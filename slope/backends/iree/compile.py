"""Compile StableHLO text to an IREE executable, with in-memory and content-hash disk caches.

Compiling costs ~0.3 s per module; loading a cached .vmfb ~0.2 ms, so the disk cache is what
makes repeated runs (and xdist workers, which share it) fast. Entries are written atomically
and an entry that fails to load is treated as a miss.

The disk-cache hit path never imports `iree.compiler` (importing it costs ~20 ms); the compiler
is identified for the cache key by its `version.py` (version + git revision), read from disk.
Compiles run `iree-compile` in a subprocess, so `compile_many` overlaps them on threads.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading

from slope.backends.iree.runtime import Executable
from slope.errors import BackendError

BASE_FLAGS = ["--iree-llvmcpu-target-cpu=host", "--iree-input-demote-f64-to-f32=false"]
# f64 transcendental functions only link with the system linker (measured with IREE 3.13).
F64_FLAGS = ["--iree-llvmcpu-link-embedded=false", "--iree-llvmcpu-system-linker-path=/usr/bin/ld"]
# Data tiling (packing matmul operands into cache-friendly tiles) is what lets local-task's two
# threads run a big matmul at NumPy/OpenBLAS speed (1024^3 f32: 85 -> 181 GFLOP/s, 512^3 and 2048^3
# alike), but it costs ~0.15 s of compile time and makes matmuls up to 256^3 (and the MLP train
# step) 5-30% slower on either device, so it is used only from 512^3 on. Smaller data-tiled tiles
# (--iree-llvmcpu-matmul-tile-bytes=32768) and ukernels (--iree-llvmcpu-enable-ukernels=all) moved
# 1024^3 by less than the noise (or down 10%); see benchmarks/RESULTS.md.
DATA_TILING_FLAGS = ["--iree-opt-data-tiling"]
DATA_TILING_MIN_MNK = 512 ** 3

_memory: dict[str, Executable] = {}
stats = {"compiles": 0, "disk_hits": 0, "memory_hits": 0}
_compiler_id: str | None = None
_lock = threading.Lock()


def compiler_id() -> str:
    """Identifies the installed compiler (part of every cache key) without importing it."""
    global _compiler_id
    if _compiler_id is None:
        text = None
        try:
            import importlib.util

            spec = importlib.util.find_spec("iree.compiler")
            for loc in (spec.submodule_search_locations or []) if spec else []:
                with open(os.path.join(loc, "version.py")) as f:
                    text = f.read()
                break
        except (OSError, ImportError, ValueError):
            text = None
        if not text:  # pragma: no cover - unusual installs
            import importlib.metadata

            text = importlib.metadata.version("iree-base-compiler")
        _compiler_id = text
    return _compiler_id


def cache_dir() -> str | None:
    d = os.environ.get("SLOPE_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "slope", "iree"))
    if d in ("", "0", "off"):
        return None
    return d


_DOT = re.compile(r'"stablehlo\.dot_general"\([^)]*\)\s*\{dot_dimension_numbers = #stablehlo\.dot<([^>]*)>\}'
                  r'\s*:\s*\(tensor<([^>]*)>, tensor<([^>]*)>\)')


def _dims(spec: str) -> list[int]:
    return [int(d) for d in spec.split("x")[:-1]]


def _wants_data_tiling(text: str) -> bool:
    """Whether a module has a dot_general of at least DATA_TILING_MIN_MNK multiply-adds."""
    if "dot_general" not in text:
        return False
    for m in _DOT.finditer(text):
        nums, lhs, rhs = m.groups()
        lhs, rhs = _dims(lhs), _dims(rhs)

        def field(name):
            f = re.search(name + r" = \[([0-9, ]*)\]", nums)
            return [int(v) for v in f.group(1).split(",") if v.strip()] if f else []

        rc, lb, rb = field("rhs_contracting_dimensions"), field("lhs_batching_dimensions"), field("rhs_batching_dimensions")
        if not rhs or not lhs:
            continue
        mnk = 1
        for i, d in enumerate(lhs):
            mnk *= 1 if i in lb else d
        for i, d in enumerate(rhs):
            mnk *= 1 if i in rc or i in rb else d
        if mnk >= DATA_TILING_MIN_MNK:
            return True
    return False


def flags_for(text: str) -> list[str]:
    """The compiler flags used for a module (they are part of its cache key)."""
    return (BASE_FLAGS + (F64_FLAGS if "f64" in text else [])
            + (DATA_TILING_FLAGS if _wants_data_tiling(text) else []))


_flags = flags_for  # backwards-compatible name


def _key(text: str, flags) -> str:
    h = hashlib.sha256()
    h.update(compiler_id().encode())
    h.update("\0".join(flags).encode())
    h.update(text.encode())
    return h.hexdigest()


def _read_disk(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data or None
    except OSError:
        return None


def _write_disk(path, data):
    d = os.path.dirname(path)
    try:
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written is only slower


def _compile_vmfb(text: str, name: str, flags) -> bytes:
    import iree.compiler as ic  # only on a cache miss: importing it costs ~20 ms

    try:
        return ic.compile_str(text, target_backends=["llvm-cpu"], input_type="stablehlo", extra_args=flags)
    except Exception as e:
        raise BackendError(f"IREE failed to compile {name}: {e}\n--- StableHLO ---\n{text}") from e


def compile_module(text: str, name: str, in_avals, out_avals) -> Executable:
    """Compile (or fetch from cache) a module whose entry point is @main."""
    flags = flags_for(text)
    key = _key(text, flags)
    exe = _memory.get(key)
    if exe is not None:
        stats["memory_hits"] += 1
        return exe
    d = cache_dir()
    path = os.path.join(d, key[:2], key + ".vmfb") if d else None
    vmfb = _read_disk(path) if path else None
    if vmfb is not None:
        try:
            exe = Executable(vmfb, name, in_avals, out_avals, text, F64_FLAGS[0] in flags)
            stats["disk_hits"] += 1
        except BackendError:
            exe = None  # corrupt entry: treat as a miss
    if exe is None:
        vmfb = _compile_vmfb(text, name, flags)
        with _lock:
            stats["compiles"] += 1
        exe = Executable(vmfb, name, in_avals, out_avals, text, F64_FLAGS[0] in flags)
        if path:
            _write_disk(path, vmfb)
    _memory[key] = exe
    return exe


def compile_many(jobs, max_workers: int | None = None) -> list:
    """compile_module for each (text, name, in_avals, out_avals) job, overlapping the compiler
    subprocesses on threads (2 compiles on 2 cores take about the time of one). Returns the
    executables (or raises the first error) in job order."""
    jobs = list(jobs)
    if len(jobs) <= 1:
        return [compile_module(*j) for j in jobs]
    from concurrent.futures import ThreadPoolExecutor

    workers = max_workers or max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(compile_module, *j) for j in jobs]
        return [f.result() for f in futures]


def precompile_eager(items, max_workers: int | None = None) -> None:
    """Compile eager executables for (spec, in_avals, params) triples in parallel, so the first
    eager call of each finds it cached (useful to warm up a test suite or a script)."""
    from slope.backends.iree.lowering import lower_primitive

    todo, jobs = [], []
    for spec, in_avals, params in items:
        in_avals = tuple(in_avals)
        key = (in_avals, tuple(params.items()))
        if key in spec._eager_cache:
            continue
        out_avals = spec.abstract_eval(*in_avals, **params)
        todo.append((spec, key))
        jobs.append((lower_primitive(spec, list(in_avals), out_avals, params), spec.name, in_avals, out_avals))
    for (spec, key), exe in zip(todo, compile_many(jobs, max_workers)):
        spec._eager_cache[key] = exe
