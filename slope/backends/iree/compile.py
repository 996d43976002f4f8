"""Compile StableHLO text to an IREE executable, with in-memory and content-hash disk caches.

Compiling costs ~0.3 s per module; loading a cached .vmfb ~0.2 ms, so the disk cache is what
makes repeated runs (and xdist workers, which share it) fast. Entries are written atomically.
"""
from __future__ import annotations

import hashlib
import os
import tempfile

import importlib.metadata

import iree.compiler as ic

from slope.backends.iree.runtime import Executable
from slope.errors import BackendError

BASE_FLAGS = ["--iree-llvmcpu-target-cpu=host", "--iree-input-demote-f64-to-f32=false"]
# f64 transcendental functions only link with the system linker (measured with IREE 3.13).
F64_FLAGS = ["--iree-llvmcpu-link-embedded=false", "--iree-llvmcpu-system-linker-path=/usr/bin/ld"]

COMPILER_VERSION = importlib.metadata.version("iree-base-compiler")
_memory: dict[str, Executable] = {}
stats = {"compiles": 0, "disk_hits": 0, "memory_hits": 0}


def cache_dir() -> str | None:
    d = os.environ.get("SLOPE_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "slope", "iree"))
    if d in ("", "0", "off"):
        return None
    return d


def _flags(text: str) -> list[str]:
    return BASE_FLAGS + (F64_FLAGS if "f64" in text else [])


def _key(text: str, flags) -> str:
    h = hashlib.sha256()
    h.update(COMPILER_VERSION.encode())
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


def compile_module(text: str, name: str, in_avals, out_avals) -> Executable:
    """Compile (or fetch from cache) a module whose entry point is @main."""
    flags = _flags(text)
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
            exe = Executable(vmfb, name, in_avals, out_avals, text)
            stats["disk_hits"] += 1
        except BackendError:
            exe = None  # corrupt entry: treat as a miss
    if exe is None:
        try:
            vmfb = ic.compile_str(text, target_backends=["llvm-cpu"], input_type="stablehlo", extra_args=flags)
        except Exception as e:
            raise BackendError(f"IREE failed to compile {name}: {e}\n--- StableHLO ---\n{text}") from e
        stats["compiles"] += 1
        exe = Executable(vmfb, name, in_avals, out_avals, text)
        if path:
            _write_disk(path, vmfb)
    _memory[key] = exe
    return exe
