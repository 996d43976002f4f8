"""Opt-in: a thread waiting on a multi-threaded (local-task) call runs under SCHED_BATCH (Linux).

Off by default (a library should not change its caller's scheduling policy); set
SLOPE_IREE_CALLER_SCHED=batch to turn it on. What it fixes, measured on 2 cores
(benchmarks/RESULTS.md, docs/stablehlo-notes.md pitfall 16): IREE's wait for a call's result
ends in a spin: the woken caller waits, with `pause` in a loop, until the worker that signalled
the result has finished its callback. A waking SCHED_OTHER thread may preempt that very worker
when it lands on the worker's core; the caller then spins until its time slice ends (3-5 ms)
while the worker cannot finish. ~10% of MLP-step calls stalled so (1200 calls: mean 570 us,
median 354 us), and 1024^3 matmuls took 16-17 ms instead of 10. A SCHED_BATCH thread has the
same weight (nice) but does not preempt on wake-up, so the worker finishes first: no stalls (MLP
step mean 360-390 us, matmul 10.3-11.6 ms; median over 4 A/B runs 0.62x vs 0.98x JAX's step
time, 1.02x vs 0.89x NumPy's matmul speed), also with another process keeping one core busy
(mean 420 us vs 880 us). The policy is switched for the call only (~1.5 us of system calls on
calls of >= 200 us) and only from SCHED_OTHER; Linux lets any thread switch between the two
(SCHED_IDLE, which also removes the stalls, cannot be left without privileges and starves the
caller under load)."""
from __future__ import annotations

import os

from slope.errors import BackendError

CALLER_SCHED = os.environ.get("SLOPE_IREE_CALLER_SCHED", "os")
if CALLER_SCHED not in ("batch", "os"):
    raise BackendError(f"SLOPE_IREE_CALLER_SCHED must be batch or os, got {CALLER_SCHED!r}")
_SCHED_PARAM = os.sched_param(0) if hasattr(os, "sched_param") else None


class CallerWaitsAsBatch:
    """Wraps a local-task context's invoke: the calling thread waits under SCHED_BATCH."""

    __slots__ = ("invoke",)

    def __init__(self, invoke):
        self.invoke = invoke

    def __call__(self, fn, args, rets):
        try:
            switched = os.sched_getscheduler(0) == os.SCHED_OTHER
            if switched:
                os.sched_setscheduler(0, os.SCHED_BATCH, _SCHED_PARAM)
        except OSError:  # e.g. a seccomp profile that forbids it: just run the call
            switched = False
        if not switched:
            return self.invoke(fn, args, rets)
        try:
            return self.invoke(fn, args, rets)
        finally:
            try:
                os.sched_setscheduler(0, os.SCHED_OTHER, _SCHED_PARAM)
            except OSError:  # pragma: no cover - allowed a moment ago
                pass


def invoker(driver: str, context):
    """The function that runs a program on `driver` through `context`."""
    if driver != "local-task" or CALLER_SCHED != "batch" or not hasattr(os, "SCHED_BATCH"):
        return context.invoke
    return CallerWaitsAsBatch(context.invoke)
