"""slope.memory_stats(): the device buffers live tensors hold, and the process's resident memory.

Tensors are found through the garbage collector's list of tracked objects (a Tensor has slots,
so the collector tracks it) rather than counted as they are made and freed: counting would cost
every eager op, and this is a diagnostic (~10-50 ms per call, proportional to the objects alive).
Tensors slope keeps on purpose are counted too: eager `full` shares constants of <= 64 elements
(at most 4096 of them). Buffers held outside Tensors (cached 0-d scalar operands of eager ops, a
jitted function's captured constants) are not counted; they are bounded per program.
"""
from __future__ import annotations

import gc
import os
import resource

from slope.core import backend
from slope.core.tensor import Tensor


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not on Linux
        return None


def memory_stats() -> dict:
    """{'tensors': live Tensor objects, 'buffers': distinct device buffers they hold, 'bytes': those
    buffers' size, 'rss_bytes': resident memory of the process now, 'peak_rss_bytes': its peak}."""
    seen: dict = {}
    tensors = 0
    key = backend.get().buffer_key  # a reshaped tensor is a view of its operand's buffer
    for o in gc.get_objects():
        if isinstance(o, Tensor):
            tensors += 1
            a = o.aval
            seen[key(o._buf)] = a.size * max(a.dtype.bits // 8, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"tensors": tensors, "buffers": len(seen), "bytes": sum(seen.values()), "rss_bytes": _rss_bytes(),
            "peak_rss_bytes": peak}
