"""LOG_JIT=1: print every program slope runs, once, when it is obtained in this process.

A compiled program is printed under a header naming it (op or jit function, params, input and
output avals, and whether it was compiled now or came from the memory or disk cache), then as
slope IR and as StableHLO. Work done on the host instead (an eager `full` is made by NumPy) gets
a line of its own, so that no step behind a user's line is silent."""
from __future__ import annotations

import os

PREFIX = "[LOG_JIT]"


def enabled() -> bool:
    return os.environ.get("LOG_JIT", "") not in ("", "0")


def _signature(in_avals, out_avals) -> str:
    return f"{', '.join(map(repr, in_avals))} -> {', '.join(map(repr, out_avals))}"


def program(name, in_avals, out_avals, source, ir, stablehlo):
    """A program obtained for running: `source` says how (e.g. "compiled in 0.29 s")."""
    print(f"{PREFIX} program {name}: {_signature(in_avals, out_avals)}  ({source})", flush=True)
    print(f"{ir}\n{stablehlo}" if ir else stablehlo, flush=True)


def host(what, out_avals, how):
    """Work done on the host without an IREE program."""
    print(f"{PREFIX} host {what} -> {', '.join(map(repr, out_avals))}  ({how})", flush=True)
