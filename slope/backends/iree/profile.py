"""Where the time goes: per compiled program, calls, total and mean time, and compile time.

`with slope.profiler():` prints a table when the block ends; `SLOPE_PROFILE_OPS=1` profiles the
whole process and prints the table at exit. A program is one executable: an eager op for one
operand signature (`mul`), a jitted function for one input signature (`jit(step)`). Host <-> device
copies (`slope.tensor`, `.numpy()`) get rows of their own, and the table's head says how much of
the wall time was spent outside programs and copies: Python, tracing and dispatch.

Off, it costs nothing: profiling swaps the executables' `_run` (and the backend's copy functions)
for timed versions while a profile is active, and swaps them back after. A program's time is the
wall time of its call, which returns when the results are ready (IREE calls are synchronous).
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
import time

from slope.backends.iree import runtime
from slope.backends.iree.runtime import Executable

_plain_run = Executable._run
_lock = threading.Lock()
_active: list[Profile] = []


class Row:
    """One program's (or copy kind's) numbers in a profile."""

    __slots__ = ("name", "signature", "calls", "total_s", "compile_s", "obtained")

    def __init__(self, name, signature):
        self.name, self.signature = name, signature
        self.calls, self.total_s, self.compile_s, self.obtained = 0, 0.0, None, None

    @property
    def mean_s(self):
        return self.total_s / self.calls if self.calls else 0.0

    def __repr__(self):
        return f"Row({self.name} {self.signature}: {self.calls} calls, {self.total_s:.6f} s)"


def _signature(exe):
    ins = ", ".join(a.str_short() for a in exe.in_avals)
    outs = ", ".join(a.str_short() for a in exe.out_avals)
    return f"({ins}) -> ({outs})"


class Profile:
    """The numbers gathered while it is active; `rows()` gives them, `report()` formats them."""

    def __init__(self, file=None):
        self.file = file
        self._rows: dict = {}  # Executable or copy name -> Row
        self.start = self.stop = None

    def _row(self, exe):
        row = self._rows.get(exe)
        if row is None:
            row = self._rows[exe] = Row(exe.name, _signature(exe))  # compile_s: set by obtained() if made inside
        return row

    def _copy_row(self, name):
        row = self._rows.get(name)
        if row is None:
            row = self._rows[name] = Row(name, "")
        return row

    def rows(self):
        """Rows by total time, largest first (programs obtained while active but not called have 0 calls)."""
        return sorted(self._rows.values(), key=lambda r: -r.total_s)

    @property
    def wall_s(self):
        end = self.stop if self.stop is not None else time.perf_counter()
        return end - self.start

    def report(self) -> str:
        rows = self.rows()
        busy = sum(r.total_s for r in rows)
        wall = self.wall_s
        compiled = sum(r.compile_s for r in rows if r.obtained == "compiled")
        lines = [f"slope profile: {wall:.4f} s wall, {busy:.4f} s in {len(rows)} programs and copies, "
                 f"{wall - busy:.4f} s outside them (Python, tracing, dispatch; {compiled:.3f} s compiling)",
                 f"{'calls':>8} {'total':>10} {'mean':>10} {'compile':>10}  program",
                 ]
        for r in rows:
            compile_s = (f"{r.compile_s:.3f} s" if r.compile_s is not None
                         else r.obtained if r.obtained else "")
            lines.append(f"{r.calls:>8} {_fmt(r.total_s):>10} {_fmt(r.mean_s):>10} {compile_s:>10}  "
                         f"{r.name} {r.signature}".rstrip())
        return "\n".join(lines)

    def __enter__(self):
        start(self)
        return self

    def __exit__(self, *exc):
        finish(self)
        print(self.report(), file=self.file or sys.stderr, flush=True)
        return False


def _fmt(s):
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.3f} s"


def _profiled_run(self, args, rets):
    t = time.perf_counter()
    try:
        _plain_run(self, args, rets)
    finally:
        _charge(lambda p: p._row(self), time.perf_counter() - t)


def _charge(row_of, seconds):
    """Count one call of `seconds` in the row `row_of(profiler)` of every active profiler."""
    for p in _active:
        row = row_of(p)
        row.calls += 1
        row.total_s += seconds


def _timed_copy(name, fn):
    def timed(*args):
        t = time.perf_counter()
        try:
            return fn(*args)
        finally:
            _charge(lambda p: p._copy_row(name), time.perf_counter() - t)

    timed.plain = fn
    return timed


def _backend():
    from slope.backends.iree import IREEBackend  # the package imports this module first

    return IREEBackend


def start(profile: Profile) -> Profile:
    """Make `profile` active (profiles nest: each sees every call while it is active)."""
    with _lock:
        if not _active:
            Executable._run = _profiled_run
            b = _backend()
            b.to_device = staticmethod(_timed_copy("host -> device copy", runtime.to_device))
            b.to_host = staticmethod(_timed_copy("device -> host copy", runtime.to_host))
        profile.start = time.perf_counter()
        _active.append(profile)
    return profile


def finish(profile: Profile) -> Profile:
    with _lock:
        if profile in _active:
            _active.remove(profile)
            profile.stop = time.perf_counter()
        if not _active:
            Executable._run = _plain_run
            b = _backend()
            b.to_device = staticmethod(runtime.to_device)
            b.to_host = staticmethod(runtime.to_host)
    return profile


def obtained(exe, how: str) -> None:
    """compile.py reports each executable it makes (`how`: 'compiled' or 'disk cache')."""
    for p in _active:
        row = p._row(exe)
        row.compile_s = exe.compile_s
        row.obtained = how


def profiler(file=None) -> Profile:
    """`with slope.profiler():` prints, when the block ends, per compiled program the calls, total
    and mean time and the compile time (to `file`, default stderr); the Profile's `rows()` hold them."""
    return Profile(file)


def _from_environment():
    if os.environ.get("SLOPE_PROFILE_OPS", "") in ("", "0"):
        return
    p = Profile()
    start(p)

    def at_exit():
        finish(p)
        print(p.report(), file=sys.stderr, flush=True)

    atexit.register(at_exit)
