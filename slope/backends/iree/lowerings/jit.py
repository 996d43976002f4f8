"""Lowering of jit_call: the called Program's equations, inlined."""
from __future__ import annotations

from slope.backends.iree.emitter import lowering
from slope.backends.iree.lowering import lower_program_body


@lowering("jit_call")
def _jit_call(ctx, args, in_avals, out_avals, *, program):
    return lower_program_body(ctx, program, args)
