"""Compile StableHLO text to an IREE executable, with in-memory and content-hash disk caches.

Compiling costs ~0.3 s per module; loading a cached .vmfb ~0.2 ms, so the disk cache is what
makes repeated runs (and xdist workers, which share it) fast. Entries are written atomically and
verified before IREE sees them (checksum, key, versions, flags: see cache.py); an entry that
fails is a miss: compiled again, replaced, and warned about once per process. Each module is
compiled once: threads asking for a key another thread is compiling wait for it (single flight),
and processes take the key's file lock and look at the disk again before compiling. The memory
cache is an LRU of MEMORY_MAX executables; the disk cache is capped (SLOPE_CACHE_MAX_MB).

The disk-cache hit path never imports `iree.compiler` (importing it costs ~20 ms); the compiler
is identified for the cache key by its `version.py` (version + git revision), read from disk.
Compiles run `iree-compile` in a subprocess. `compile_many` compiles many programs as the
functions of one module (most of the 0.3 s is per-module cost) and overlaps such batches on
threads (slope.testing.prefetch dry-runs checks to find out which programs they will need).
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import warnings
import weakref

from slope.backends.iree import cache, profile
from slope.backends.iree.cache import CacheWarning
from slope.backends.iree.emitter import Needs
from slope.backends.iree.runtime import Executable, LoadedModule
from slope.core import jitlog
from slope.errors import BackendError

# --iree-opt-const-eval=false: IREE otherwise JIT-compiles a second module to precompute constant
# subexpressions; slope's programs take their tensors as arguments, so there is little to
# precompute, and the pass cost 0.24 s of the MLP train step's 1.1 s compile (0.9 s without it;
# the step runs at the same speed, and tiny modules compile in the same 0.27 s either way).
# --iree-hal-memoization=false: IREE otherwise records each function's command buffers once, in
# code it generates per exported function; slope's modules export many small functions (a shared
# module of a test row holds up to BATCH_MAX), so that code is a large share of their compile:
# measured on IREE 3.13, 13% less compile CPU over 6 conformance row modules (45.5 -> 39.5 s), the
# MLP train step's cold compile 2.0 -> 1.75 s, and no slower calls (the step 0.86 -> 0.81 ms
# median, eager and jitted x*2 alike within noise): recording a CPU command buffer is cheap.
BASE_FLAGS = ["--iree-llvmcpu-target-cpu=host", "--iree-input-demote-f64-to-f32=false", "--iree-opt-const-eval=false",
              "--iree-hal-memoization=false"]
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

# Executables by key, least recently used first (an LRU of SLOPE_MEMORY_CACHE_MAX entries; callers
# such as jit and the eager caches keep their own references, so this bounds only what nobody holds).
MEMORY_MAX = int(os.environ.get("SLOPE_MEMORY_CACHE_MAX", "8192"))
_memory: dict[str, Executable] = {}
stats = {"compiles": 0, "disk_hits": 0, "memory_hits": 0, "corrupt": 0}
_lock = threading.Lock()
_warned = False


def compiler_id() -> str:
    """Identifies the installed compiler (part of every cache key) without importing it."""
    return cache.compiler_version()


def cache_dir() -> str | None:
    return cache.cache_dir()


def compiler_flags(needs: Needs) -> list[str]:
    """The compiler flags of a module with these needs (they are part of its cache key)."""
    return (BASE_FLAGS + (F64_FLAGS if needs.f64 else [])
            + (DATA_TILING_FLAGS if needs.dot_mnk >= DATA_TILING_MIN_MNK else []))


# ---- the fallback for callers that have only StableHLO text (hand-written modules in tests) ----

_DOT = re.compile(r'"stablehlo\.dot_general"\([^)]*\)\s*\{dot_dimension_numbers = #stablehlo\.dot<([^>]*)>\}'
                  r'\s*:\s*\(tensor<([^>]*)>, tensor<([^>]*)>\)')


def _dims(spec: str) -> list[int]:
    return [int(d) for d in spec.split("x")[:-1]]


def _largest_dot_in_text(text: str) -> int:
    """The multiply-adds of the largest dot_general in a module's text (0 if none)."""
    largest = 0
    if "dot_general" not in text:
        return largest
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
        largest = max(largest, mnk)
    return largest


def needs_from_text(text: str) -> Needs:
    """Needs guessed by searching a module's text (regex): only for callers without the Program,
    which get its Needs from lowering.lower_module."""
    return Needs(f64="f64" in text, dot_mnk=_largest_dot_in_text(text))


def flags_for_text(text: str) -> list[str]:
    """The compiler flags of a module known only as text (see needs_from_text)."""
    return compiler_flags(needs_from_text(text))


def _flags_of(text: str, needs: Needs | None) -> list[str]:
    return compiler_flags(needs) if needs is not None else flags_for_text(text)


def _key(text: str, flags) -> str:
    return cache.make_key(cache.text_hash(text), flags)


def _compile_vmfb(text: str, name: str, flags) -> bytes:
    import iree.compiler as ic  # only on a cache miss: importing it costs ~20 ms

    # Where processes already share the cores (COMPILE_THREADS is 1), iree-compile's own threads only
    # contend with them. The output is the same either way, so this is not among the cached flags.
    threads = [] if COMPILE_THREADS > 1 else ["--mlir-disable-threading"]
    try:
        return ic.compile_str(text, target_backends=["llvm-cpu"], input_type="stablehlo", extra_args=[*flags, *threads])
    except Exception as e:
        raise BackendError(f"IREE failed to compile {name}: {e}\n--- StableHLO ---\n{text}") from e


def _system_linked(flags) -> bool:
    return F64_FLAGS[0] in flags


def _paths(key):
    return cache.paths(key)


# ---- the in-memory LRU ---------------------------------------------------------------------------

def _recall(key):
    """The executable of `key` from memory (marked most recently used), or None."""
    with _lock:
        exe = _memory.pop(key, None)
        if exe is not None:
            _memory[key] = exe
            stats["memory_hits"] += 1
    return exe


def _remember(key, exe):
    if profile._active:
        profile.obtained(exe, "compiled" if exe.compile_s is not None else "disk cache")
    with _lock:
        _memory.pop(key, None)
        _memory[key] = exe
        while len(_memory) > MEMORY_MAX:
            del _memory[next(iter(_memory))]
    return exe


# ---- one compile per key: threads wait for the first (single flight), processes for a file lock ----

_flights: dict[str, list] = {}  # key -> [threading.Lock, threads using it]


@contextlib.contextmanager
def _single_flight(keys):
    """Hold the in-process locks of `keys` (sorted, so that no two threads deadlock); a thread that
    asks for a key another thread is compiling waits for it, then finds it in memory."""
    entries = []
    with _lock:
        for key in sorted(set(keys)):
            e = _flights.get(key)
            if e is None:
                e = _flights[key] = [threading.Lock(), 0]
            e[1] += 1
            entries.append((key, e))
    held = []
    try:
        for _, e in entries:
            e[0].acquire()
            held.append(e)
        yield
    finally:
        for e in reversed(held):
            e[0].release()
        with _lock:
            for key, e in entries:
                e[1] -= 1
                if not e[1]:
                    del _flights[key]


@contextlib.contextmanager
def _exclusive(keys):
    """Single flight in this process, then the keys' file locks across processes."""
    with _single_flight(keys), cache.locked(keys):
        yield


# ---- the disk cache ------------------------------------------------------------------------------

def _corrupt(path, reason, seen):
    """An entry that fails verification is a miss: count it, warn once per process."""
    global _warned
    if path in seen:
        return
    seen.add(path)
    with _lock:
        stats["corrupt"] += 1
        first, _warned = not _warned, True
    if first:
        warnings.warn(f"slope: ignoring the compile cache entry {path} ({reason}); the module is compiled "
                      f"again and the entry replaced (further bad entries are counted in "
                      f"slope.backends.iree.compile.stats['corrupt'])", CacheWarning, stacklevel=4)


# Shared modules (compile_many) by key, while some executable uses them.
_shared: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _load(text_sha, name, in_avals, out_avals, text, flags, key, seen):
    """The executable of `key` from a verified disk-cache entry, or None (missing or bad: a miss).
    `seen`: the bad entries already reported by this compile request (looked at again after a lock)."""
    path, ref = _paths(key)
    if path is None:
        return None
    system_linked = _system_linked(flags)
    data = cache.read(path)
    if data is not None:
        try:
            vmfb = cache.decode(data, "vmfb", key, flags, text_sha)[1]
            exe = Executable(vmfb, name, in_avals, out_avals, text, system_linked)
        except (cache.Corrupt, BackendError) as e:
            _corrupt(path, e, seen)
        else:
            cache.touch(path)
            return exe
    data = cache.read(ref)
    if data is None:
        return None
    try:
        header = cache.decode(data, "ref", key, flags, text_sha)[0]
        shared_key, function = header["module"], header["function"]
        if not isinstance(shared_key, str) or not isinstance(function, str):
            raise cache.Corrupt("bad module reference")
    except (cache.Corrupt, KeyError) as e:
        _corrupt(ref, e, seen)
        return None
    loaded = _shared.get(shared_key)
    module_path = _paths(shared_key)[0]
    if loaded is None:
        data = cache.read(module_path)
        if data is None:
            return None  # the shared module was evicted: a plain miss
        try:
            loaded = LoadedModule(cache.decode(data, "vmfb", shared_key, flags)[1], system_linked)
        except (cache.Corrupt, BackendError) as e:
            _corrupt(module_path, e, seen)
            return None
        _shared[shared_key] = loaded
    try:
        exe = Executable(loaded, name, in_avals, out_avals, text, system_linked, function)
    except BackendError as e:
        _corrupt(ref, e, seen)
        return None
    cache.touch(ref)
    cache.touch(module_path)
    return exe


def _store(key, kind, text_sha, flags, payload=b"", **extra):
    """Write an entry (atomically) and drop the key's other entry kind, which was found bad or missing."""
    path, ref = _paths(key)
    if path is None:
        return
    target, other = (path, ref) if kind == "vmfb" else (ref, path)
    cache.write(target, cache.encode(kind, key, text_sha, flags, payload, **extra))
    if os.path.exists(other):
        cache.remove(other)


def _compile_and_store(text: str, name: str, flags, key: str, text_sha: str) -> bytes:
    """Compile a module, count it, and write it to its disk-cache entry (if there is a cache)."""
    vmfb = _compile_vmfb(text, name, flags)
    with _lock:
        stats["compiles"] += 1
    _store(key, "vmfb", text_sha, flags, vmfb)
    return vmfb


def _obtain(text_sha, name, in_avals, out_avals, text, flags, key):
    """(executable, where it came from) after a memory miss: from disk, or compiled, once per key
    across threads and processes (after waiting for a key's lock, memory and disk are checked again)."""
    seen: set = set()
    with _single_flight([key]):
        exe = _recall(key)
        if exe is not None:
            return exe, "memory cache"
        exe = _load(text_sha, name, in_avals, out_avals, text, flags, key, seen)
        if exe is None:
            with cache.locked([key]):
                exe = _load(text_sha, name, in_avals, out_avals, text, flags, key, seen)
                if exe is None:
                    start = time.perf_counter()
                    vmfb = _compile_and_store(text, name, flags, key, text_sha)
                    exe = Executable(vmfb, name, in_avals, out_avals, text, _system_linked(flags))
                    exe.compile_s = time.perf_counter() - start
                    return _remember(key, exe), f"compiled in {exe.compile_s:.2f} s"
        with _lock:
            stats["disk_hits"] += 1
        return _remember(key, exe), "disk cache"


def cached(text: str, needs: Needs | None = None) -> bool:
    """Whether the module is in the memory or disk cache (compile_module would not compile it)."""
    key = _key(text, _flags_of(text, needs))
    return key in _memory or any(p and os.path.exists(p) for p in _paths(key))


def compile_module(text: str, name: str, in_avals, out_avals, ir: str = "", *,
                   needs: Needs | None = None) -> Executable:
    """Compile (or fetch from cache) a module whose entry point is @main. `name` (with params) and
    `ir` (the program as slope IR) say what it is, for errors and for LOG_JIT. `needs` (from
    lowering.lower_module) decide the compiler flags; without them they are read off the text."""
    flags = _flags_of(text, needs)
    text_sha = cache.text_hash(text)
    key = cache.make_key(text_sha, flags)
    exe, source = _recall(key), "memory cache"
    if exe is None:
        exe, source = _obtain(text_sha, name, in_avals, out_avals, text, flags, key)
    if exe.in_avals != list(in_avals) or exe.out_avals != list(out_avals):  # a `?`-shaped module, another shape
        exe = exe.retyped(name, in_avals, out_avals, ir or text)
    if jitlog.enabled():
        jitlog.program(name, in_avals, out_avals, f"from the {source}" if source.endswith("cache") else source,
                       ir, text)
    return exe


# Programs per shared module. IREE's cost per program falls as a module holds more of them (150
# conformance programs of cumsum, CPU seconds per program: 0.37 alone, 0.14 in modules of 32, 0.12 of
# 75, 0.10 all in one), so a batch is as large as the threads compiling them allow.
BATCH_MAX = 160
# Threads compile_many compiles batches on (iree-compile runs in a subprocess): SLOPE_COMPILE_THREADS,
# default one per core; 1 where processes already share the cores (pytest-xdist workers, verify --jobs).
COMPILE_THREADS = int(os.environ.get("SLOPE_COMPILE_THREADS", "0")) or os.cpu_count() or 1


def compile_many(jobs, max_workers: int | None = None) -> list:
    """compile_module for each (text, name, in_avals, out_avals[, needs]) job; returns the executables
    in job order (or raises the first error).

    Most of IREE's ~0.3 s per module is fixed cost (codegen and linking of one executable), so the
    programs that are not cached yet are compiled together as the functions of one module (16 small
    programs: ~0.9 s instead of ~4.8 s), split into one batch per thread (at most BATCH_MAX programs
    each) compiled on threads (iree-compile runs in a subprocess). Each program keeps its own cache
    entry, a `.ref` naming the shared module and its function there. If a shared module fails to
    compile, its programs are compiled one by one, so that an error names the program that caused
    it. A batch holds the locks of its programs' keys (see _obtain) and compiles only those that are
    still missing once it has them, so threads and processes compiling the same programs compile
    each once."""
    jobs = [(*job, None) if len(job) == 4 else tuple(job) for job in jobs]
    seen: set = set()
    misses: dict[str, tuple] = {}  # key -> (job, flags, text hash), first job of each distinct program
    for text, name, in_avals, out_avals, needs in jobs:
        flags = _flags_of(text, needs)
        text_sha = cache.text_hash(text)
        key = cache.make_key(text_sha, flags)
        if key in misses or _recall(key) is not None:
            continue
        exe = _load(text_sha, name, in_avals, out_avals, text, flags, key, seen)
        if exe is None:
            misses[key] = ((text, name, in_avals, out_avals), flags, text_sha)
        else:
            with _lock:
                stats["disk_hits"] += 1
            _remember(key, exe)
    groups: dict[tuple, list] = {}
    for key, (job, flags, text_sha) in misses.items():
        groups.setdefault(tuple(flags), []).append((key, job, text_sha))
    threads = max(1, max_workers or COMPILE_THREADS)
    batches = [(g[i:i + size], list(flags)) for flags, g in groups.items()
               for size in [min(BATCH_MAX, -(-len(g) // threads))] for i in range(0, len(g), size)]
    if batches:
        workers = min(len(batches), threads)
        if workers == 1:
            for batch, flags in batches:
                _compile_batch(batch, flags, seen)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                for f in [pool.submit(_compile_batch, b, flags, seen) for b, flags in batches]:
                    f.result()
    return [compile_module(text, name, in_avals, out_avals, needs=needs)
            for text, name, in_avals, out_avals, needs in jobs]


def _compile_batch(batch, flags, seen):
    """Compile [(key, job, text hash)...] (all with `flags`) as one module with a function per program,
    skipping the programs another thread or process has compiled meanwhile."""
    with _exclusive([key for key, _, _ in batch]):
        todo = []
        for key, (text, name, in_avals, out_avals), text_sha in batch:
            if key in _memory:
                continue
            exe = _load(text_sha, name, in_avals, out_avals, text, flags, key, seen)
            if exe is not None:
                with _lock:
                    stats["disk_hits"] += 1
                _remember(key, exe)
            else:
                todo.append((key, (text, name, in_avals, out_avals), text_sha))
        if len(todo) == 1:
            _compile_one(todo[0], flags)
        elif todo:
            _compile_shared(todo, flags)


def _compile_one(item, flags):
    """Compile one program (its key's locks held)."""
    key, (text, name, in_avals, out_avals), text_sha = item
    start = time.perf_counter()
    vmfb = _compile_and_store(text, name, flags, key, text_sha)
    exe = Executable(vmfb, name, in_avals, out_avals, text, _system_linked(flags))
    exe.compile_s = time.perf_counter() - start
    _remember(key, exe)


def _compile_shared(todo, flags):
    """Compile several programs as the functions main_0, main_1... of one module (their keys' locks held)."""
    texts = [job[0].replace("func.func @main(", f"func.func @main_{i}(", 1) for i, (_, job, _) in enumerate(todo)]
    text = "\n".join(texts)
    text_sha = cache.text_hash(text)
    shared_key = cache.make_key(text_sha, flags)
    start = time.perf_counter()
    try:
        vmfb = _compile_and_store(text, f"{len(todo)} programs", flags, shared_key, text_sha)
    except BackendError:
        for item in todo:  # find (and raise for) the program that fails
            _compile_one(item, flags)
        return
    system_linked = _system_linked(flags)
    loaded = LoadedModule(vmfb, system_linked)
    _shared[shared_key] = loaded
    each_s = (time.perf_counter() - start) / len(todo)  # the shared module's compile, split evenly
    for i, (key, (text_i, name, in_avals, out_avals), text_sha_i) in enumerate(todo):
        exe = Executable(loaded, name, in_avals, out_avals, text_i, system_linked, f"main_{i}")
        exe.compile_s = each_s
        _remember(key, exe)
        _store(key, "ref", text_sha_i, flags, module=shared_key, function=f"main_{i}")
