"""Sampler of jit_call (slope/transforms/jit.py): small staged programs and operands for them.

The programs come from a pool of functions that exercise what a jitted body holds: elementwise
chains, a value used several times, reductions, matmuls, shape ops, indexing, a nested jit and
several outputs. Each (function, avals) pair is staged once and reused, so a Program (hashed by
identity) compiles once per run.
"""
from __future__ import annotations

import numpy as np

import slope
from slope.core.aval import Aval
from slope.testing.samplers.base import draw_array, sampled, sampler
from slope.transforms.staging import make_program

_inner = slope.jit(lambda x: slope.tanh(x) * x)

# name -> (function of tensors returning a list of outputs, operand shapes)
PROGRAMS = {
    "chain": (lambda x: [slope.sin(x) * 2.0 + slope.exp(-x)], [(3,)]),
    "fan_out": (lambda x, y: [x * y + x / (1.5 + y * y), (x - y).sum()], [(2, 3), (2, 3)]),
    "reduce": (lambda x: [x.sum(0), x.amax(1), x.mean()], [(2, 3)]),
    "matmul": (lambda x, w: [slope.tanh(x @ w).sum(-1)], [(2, 3), (3, 4)]),
    "shape": (lambda x: [x.reshape(3, 2).T.flip(0), slope.cat([x, x * 0.5], 1)], [(2, 3)]),
    "index": (lambda x: [x[1:, ::-1], x[:, 1] * x[0, 2]], [(3, 4)]),
    "nested_jit": (lambda x, y: [_inner(x) + y, _inner(y)], [(3,), (3,)]),
    # first in sorted order, so Hypothesis's first example and the float64 column's spot checks take it:
    # it nests a jit too, the only structure whose vjp and linearize reach partial_eval_program's
    # jit_call-in-a-program branch (a mutation there survived once the float64 vjp became a spot check)
    "broadcast": (lambda x, b: [_inner(x) * b + b], [(2, 3), (3,)]),
    "scalar": (lambda x: [(x * x).sum()], [()]),
}
_staged: dict = {}


def program_for(name, dtype):
    """The staged Program of PROGRAMS[name] at `dtype` (made once)."""
    key = (name, dtype.name)
    if key not in _staged:
        fn, shapes = PROGRAMS[name]
        program, consts = make_program(fn, [Aval(s, dtype) for s in shapes], f"program_{name}")
        assert not consts, f"{name}: the pool's functions close over no arrays"
        _staged[key] = program
    return _staged[key]


def _without_ties(draw, shape, dtype):
    """Values on a grid of 1/4 plus a ramp of steps < 1/4 / size: no two elements tie, so the
    programs' max reductions stay off their kinks (where finite differences have no answer)."""
    grid = np.round(draw_array(draw, shape, dtype, -2.0, 2.0).astype(np.float64) * 4) / 4
    ramp = np.arange(grid.size, dtype=np.float64).reshape(shape) * (0.2 / max(grid.size, 1))
    return (grid + ramp).astype(dtype.np)


@sampler("jit_call")
def _jit_call_sample(draw, dtype):
    name = sampled(draw, sorted(PROGRAMS))
    program = program_for(name, dtype)
    return [_without_ties(draw, a.shape, dtype) for a in program.in_avals], {"program": program}
