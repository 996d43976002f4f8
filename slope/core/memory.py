"""Memory a result needs versus memory the machine has: checked before allocating, so a huge shape
raises slope's OutOfMemoryError (naming the size asked and the size available) instead of a raw
RESOURCE_EXHAUSTED from IREE's allocator or NumPy's MemoryError."""
from __future__ import annotations

import os

from slope.errors import OutOfMemoryError, ShapeError

# Results smaller than this are never checked (reading /proc/meminfo costs ~20 us).
CHECK_ABOVE = 1 << 28


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo (Linux), else the physical memory size (sysconf)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not on Linux/macOS
        return 1 << 62


def nbytes(avals) -> int:
    return sum(a.size * max(a.dtype.bits // 8, 1) for a in avals)


def human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def check(op: str, avals, what: str = "the result") -> None:
    """Raise OutOfMemoryError if tensors of these avals cannot fit in the memory available now."""
    need = nbytes(avals)
    if need == 0:  # an empty shape can still be one no array can have: (10**13, 0, 10**12)
        for a in avals:
            n = 1
            for d in a.shape:
                n *= d or 1
            if n > 2**63 - 1:
                raise ShapeError(f"{op}: the shape {a.shape} is too large: its nonzero dims multiply to more than "
                                 "2**63 - 1 (NumPy and IREE index with 64-bit ints)")
    if need < CHECK_ABOVE:
        return
    have = available_bytes()
    if need > have:
        shapes = ", ".join(a.str_short() for a in avals)
        raise OutOfMemoryError(f"{op}: {what} {shapes} needs {human(need)}, but only {human(have)} of memory is "
                               "available")
