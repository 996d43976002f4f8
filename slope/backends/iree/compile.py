"""Compile StableHLO text to an IREE executable, with in-memory and content-hash disk caches.

Compiling costs ~0.3 s per module; loading a cached .vmfb ~0.2 ms, so the disk cache is what
makes repeated runs (and xdist workers, which share it) fast. Entries are written atomically
and an entry that fails to load is treated as a miss.

The disk-cache hit path never imports `iree.compiler` (importing it costs ~20 ms); the compiler
is identified for the cache key by its `version.py` (version + git revision), read from disk.
Compiles run `iree-compile` in a subprocess. `compile_many` compiles many programs as the
functions of one module (most of the 0.3 s is per-module cost) and overlaps such batches on
threads (slope.testing.prefetch dry-runs checks to find out which programs they will need).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time

from slope.backends.iree.runtime import Executable, LoadedModule
from slope.core import jitlog
from slope.errors import BackendError

# --iree-opt-const-eval=false: IREE otherwise JIT-compiles a second module to precompute constant
# subexpressions; slope's programs take their tensors as arguments, so there is little to
# precompute, and the pass cost 0.24 s of the MLP train step's 1.1 s compile (0.9 s without it;
# the step runs at the same speed, and tiny modules compile in the same 0.27 s either way).
BASE_FLAGS = ["--iree-llvmcpu-target-cpu=host", "--iree-input-demote-f64-to-f32=false", "--iree-opt-const-eval=false"]
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


def _system_linked(flags) -> bool:
    return F64_FLAGS[0] in flags


def _compile_and_store(text: str, name: str, flags, key: str) -> bytes:
    """Compile a module, count it, and write it to its disk-cache entry (if there is a cache)."""
    vmfb = _compile_vmfb(text, name, flags)
    with _lock:
        stats["compiles"] += 1
    path = _paths(key)[0]
    if path:
        _write_disk(path, vmfb)
    return vmfb


def _paths(key):
    d = cache_dir()
    if not d:
        return None, None
    stem = os.path.join(d, key[:2], key)
    return stem + ".vmfb", stem + ".ref"


def _cached(text: str, name: str, in_avals, out_avals, flags, key):
    """(executable, where it came from) from the memory or disk cache, or (None, None)."""
    exe = _memory.get(key)
    if exe is not None:
        stats["memory_hits"] += 1
        return exe, "memory cache"
    path, ref = _paths(key)
    if path is None:
        return None, None
    system_linked = _system_linked(flags)
    vmfb = _read_disk(path)
    if vmfb is not None:
        try:
            exe = Executable(vmfb, name, in_avals, out_avals, text, system_linked)
        except BackendError:
            exe = None  # corrupt entry: treat as a miss
    if exe is None:
        exe = _from_shared(ref, name, in_avals, out_avals, text, system_linked)
    if exe is None:
        return None, None
    stats["disk_hits"] += 1
    _memory[key] = exe
    return exe, "disk cache"


_shared: dict[str, LoadedModule] = {}


def _from_shared(ref, name, in_avals, out_avals, text, system_linked):
    """A function of a module compiled by compile_many, found through its `.ref` entry."""
    data = _read_disk(ref)
    if data is None:
        return None
    try:
        shared_key, function = data.decode().split()
        loaded = _shared.get(shared_key)
        if loaded is None:
            vmfb = _read_disk(_paths(shared_key)[0])
            if vmfb is None:
                return None
            loaded = _shared[shared_key] = LoadedModule(vmfb, system_linked)
        return Executable(loaded, name, in_avals, out_avals, text, system_linked, function)
    except (ValueError, UnicodeDecodeError, BackendError):
        return None  # stale or corrupt entry: a miss


def cached(text: str) -> bool:
    """Whether the module is in the memory or disk cache (compile_module would not compile it)."""
    key = _key(text, flags_for(text))
    return key in _memory or any(p and os.path.exists(p) for p in _paths(key))


def compile_module(text: str, name: str, in_avals, out_avals, ir: str = "") -> Executable:
    """Compile (or fetch from cache) a module whose entry point is @main. `name` (with params) and
    `ir` (the program as slope IR) say what it is, for errors and for LOG_JIT."""
    flags = flags_for(text)
    key = _key(text, flags)
    exe, source = _cached(text, name, in_avals, out_avals, flags, key)
    if exe is None:
        start = time.perf_counter()
        vmfb = _compile_and_store(text, name, flags, key)
        source = f"compiled in {time.perf_counter() - start:.2f} s"
        exe = _memory[key] = Executable(vmfb, name, in_avals, out_avals, text, _system_linked(flags))
    if jitlog.enabled():
        jitlog.program(name, in_avals, out_avals, f"from the {source}" if source.endswith("cache") else source,
                       ir, text)
    return exe


BATCH_MAX = 32  # programs per shared module: 16 small ones compile in ~0.9 s, one alone in ~0.3 s


def compile_many(jobs, max_workers: int | None = None) -> list:
    """compile_module for each (text, name, in_avals, out_avals) job; returns the executables in
    job order (or raises the first error).

    Most of IREE's ~0.3 s per module is fixed cost (codegen and linking of one executable), so the
    programs that are not cached yet are compiled together: up to BATCH_MAX at a time as the
    functions of one module (16 small programs: ~0.9 s instead of ~4.8 s), the batches on threads
    (iree-compile runs in a subprocess). Each program keeps its own cache entry, a `.ref` naming
    the shared module and its function there. If a shared module fails to compile, its programs
    are compiled one by one, so that an error names the program that caused it."""
    jobs = list(jobs)
    misses: dict[str, tuple] = {}  # key -> (job, flags), first job of each distinct program
    for text, name, in_avals, out_avals in jobs:
        flags = flags_for(text)
        key = _key(text, flags)
        if key not in misses and _cached(text, name, in_avals, out_avals, flags, key)[0] is None:
            misses[key] = ((text, name, in_avals, out_avals), flags)
    groups: dict[tuple, list] = {}
    for key, (job, flags) in misses.items():
        groups.setdefault(tuple(flags), []).append((key, job))
    batches = [g[i:i + BATCH_MAX] for g in groups.values() for i in range(0, len(g), BATCH_MAX)]
    if batches:
        workers = max(1, min(len(batches), max_workers or os.cpu_count() or 1))
        if workers == 1:
            for batch in batches:
                _compile_batch(batch)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                for f in [pool.submit(_compile_batch, b) for b in batches]:
                    f.result()
    return [compile_module(*job) for job in jobs]


def _compile_batch(batch):
    """Compile [(key, job)...] (one flag set) as one module with a function per program."""
    if len(batch) == 1:
        compile_module(*batch[0][1])
        return
    texts = [job[0].replace("func.func @main(", f"func.func @main_{i}(", 1) for i, (_, job) in enumerate(batch)]
    text = "\n".join(texts)
    flags = flags_for(batch[0][1][0])
    shared_key = _key(text, flags)
    try:
        vmfb = _compile_and_store(text, f"{len(batch)} programs", flags, shared_key)
    except BackendError:
        for _, job in batch:  # find (and raise for) the program that fails
            compile_module(*job)
        return
    system_linked = _system_linked(flags)
    loaded = _shared[shared_key] = LoadedModule(vmfb, system_linked)
    for i, (key, (text_i, name, in_avals, out_avals)) in enumerate(batch):
        _memory[key] = Executable(loaded, name, in_avals, out_avals, text_i, system_linked, f"main_{i}")
        ref = _paths(key)[1]
        if ref:
            _write_disk(ref, f"{shared_key} main_{i}\n".encode())
