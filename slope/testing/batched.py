"""A check's examples compiled as one program: the jitted calls of several examples staged together.

Each transformation check (vmap, jvp, vjp, linearize, second_order) makes exactly one jitted call
per example, through `run_jitted`; so does the jit check, batched where its programs are not the
ones eager compiles anyway (slope.testing.primitive.batches). IREE's compile cost is largely per
exported function (measured on IREE 3.13: ~40-70 ms of fixed cost per function on top of its ops;
six conformance row modules took 17% less compile CPU with their programs merged six to a
function), so a derandomized run draws its examples in three passes:

  collect  run the check on every example Hypothesis draws, stopping each at its jitted call
           (`Collected`) and keeping the call;
  run      stage the calls, CALLS_PER_PROGRAM at a time, as one jitted program each and run it;
  replay   run the check on each example again, its jitted call answered with its share of the
           results; the comparisons are the check's own.

Anything unusual (an example that fails before its call, a batch that fails to trace, compile or
run, a replayed comparison that fails) gives up on batching: run_check then runs the check
example by example under Hypothesis, as without batching, which reports (and shrinks) the failure
as usual. So a batch only ever speeds up checks that pass. Where a batch failed and every example
alone passes, run_check warns (BatchWarning): a program that composes correct ops went wrong.
"""
from __future__ import annotations

import contextlib

import slope

BATCHED_CHECKS = ("vmap", "jvp", "vjp", "linearize", "second_order")
CALLS_PER_PROGRAM = 8
# Characters of StableHLO a batch may hold before it is split: IREE's cost grows faster than
# linearly with a function's size (threefry2x32's vmap, ~170 K characters an example, made its row's
# compile 23 s staged 7 together where it had been ~15 s), while the per-function cost that batching
# saves matters for small programs (most are under 20 K).
MAX_TEXT = 200_000

_state: dict = {"mode": None, "calls": None, "result": None, "args": None}


class BatchWarning(UserWarning):
    """A check failed on its examples staged together but passes on each alone."""


class Collected(BaseException):
    """Raised at a check's jitted call in the collect pass. A BaseException, so that no `except
    Exception` in a check mistakes it for a failure."""


def jit_named(fn, name):
    fn.__name__ = fn.__qualname__ = name
    return slope.jit(fn)


def run_jitted(fn, name, *args):
    """slope.jit(fn)(*args), the one compiled call of a transformation check; while batching, the
    call is collected (collect pass) or answered with its result from the batch (replay pass)."""
    mode = _state["mode"]
    if mode == "collect":
        _state["calls"].append((fn, name, args))
        raise Collected(name)
    if mode == "replay":
        result, _state["result"] = _state["result"], None
        return result
    return jit_named(fn, name)(*args)


def operands(tensors):
    """The tensors a check's jitted call ran on: in the replay pass, those of its collected call
    (a check that reads its operands back after the call reads the ones the batch was given)."""
    return _state["args"] if _state["mode"] == "replay" else tensors


@contextlib.contextmanager
def _mode(mode, calls=None, result=None, args=None):
    saved = dict(_state)
    _state.update(mode=mode, calls=calls, result=result, args=args)
    try:
        yield
    finally:
        _state.update(saved)


def _staged_together(calls, name):
    """One jitted function running every (fn, name, args) of `calls` on its share of the arguments."""
    counts = [len(args) for _, _, args in calls]

    def batch(*flat):
        outs, pos = [], 0
        for (fn, _, _), n in zip(calls, counts):
            outs.append(fn(*flat[pos:pos + n]))
            pos += n
        return outs

    return jit_named(batch, f"{name}_x{len(calls)}"), [a for _, _, args in calls for a in args]


def _batches(calls):
    """[(jitted function, its arguments)...] running `calls`: all at once, or in smaller batches
    (each of about MAX_TEXT characters, judged by their average size) while too large."""
    fn, args = _staged_together(calls, calls[0][1])
    size = len(fn.lower(*args).code) if len(calls) > 1 else 0
    if size <= MAX_TEXT:
        return [(fn, args)]
    per_batch = max(1, min(len(calls) - 1, int(MAX_TEXT * len(calls) / size)))
    return [b for i in range(0, len(calls), per_batch) for b in _batches(calls[i:i + per_batch])]


def run_batched(spec, check_fn, make_test, dry_run: bool):
    """Run check_fn on the examples of make_test(body) (a Hypothesis test calling body(ex) per
    example) in batches (see the module docstring). Returns True if it did; otherwise the check is
    to run example by example, and it returns why a batch failed ("" where it gave up before any
    batch ran)."""
    from hypothesis import reject

    from slope.testing import dryrun
    from slope.testing.checks import NotApplicable

    collected, gave_up = [], []

    def collect(ex):
        calls: list = []
        with _mode("collect", calls):
            try:
                check_fn(spec, ex)
            except NotApplicable:
                reject()
            except Collected:
                collected.append((ex, calls[-1]))
                return
            except (Exception, dryrun.Deferred) as e:  # noqa: BLE001 - the example-by-example run reports it
                gave_up.append(e)
                return
        gave_up.append("no jitted call")

    try:
        make_test(collect)()
    except Exception:  # noqa: BLE001 - e.g. Hypothesis finding too few examples: reported unbatched
        return ""
    if gave_up or not collected:
        return ""
    results = []
    try:
        for start in range(0, len(collected), CALLS_PER_PROGRAM):
            for fn, args in _batches([call for _, call in collected[start:start + CALLS_PER_PROGRAM]]):
                results += list(fn(*args))
    except dryrun.Deferred:
        if dry_run:
            return True  # a probe: a compile request noted is all it asks
        raise
    except Exception as e:  # noqa: BLE001 - the example-by-example run reports it
        return f"{_label(collected)}: a batch raised {type(e).__name__}: {e}"
    if dry_run:
        return True
    for (ex, (_, _, args)), result in zip(collected, results):
        with _mode("replay", result=result, args=list(args)):
            try:
                check_fn(spec, ex)
            except Exception as e:  # noqa: BLE001 - the example-by-example run reports (and shrinks) it
                return f"{_label(collected)} failed on {ex!r}: {type(e).__name__}: {e}"
    return True


def _label(collected) -> str:
    return f"{collected[0][1][1]}, {len(collected)} examples staged in batches of up to {CALLS_PER_PROGRAM},"
