"""Program IR: what jit stages out, what linearize splits, what transpose walks backwards.

A Program is a flat list of equations `outs = spec(inputs, **params)` over typed variables.
"""
from __future__ import annotations

from slope.core.aval import Aval
from slope.errors import SlopeError


class Var:
    __slots__ = ("aval",)

    def __init__(self, aval: Aval):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval})"


class Eqn:
    __slots__ = ("spec", "inputs", "params", "outs")

    def __init__(self, spec, inputs, params, outs):
        self.spec, self.inputs, self.params, self.outs = spec, list(inputs), dict(params), list(outs)


class UndefPrimal:
    """Stands for a linear input of a transpose rule: only its aval is known."""

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)

    def __repr__(self):
        return f"UndefPrimal({self.aval})"


class Program:
    """in_vars -> eqns -> outs. Hashed by identity; printed as slope IR."""

    def __init__(self, in_vars, eqns, outs, name="f"):
        self.in_vars, self.eqns, self.outs, self.name = list(in_vars), list(eqns), list(outs), name
        self._executable = None  # compiled lazily by the jit primitive

    in_avals = property(lambda self: [v.aval for v in self.in_vars])
    out_avals = property(lambda self: [v.aval for v in self.outs])

    def __repr__(self):
        return print_program(self)

    __str__ = __repr__


def format_param(v):
    if isinstance(v, Program):
        return "{\n" + "\n".join("        " + ln for ln in print_program(v).splitlines()) + "\n    }"
    if hasattr(v, "short") and hasattr(v, "mlir"):
        return v.name
    return repr(v)


def print_program(p: Program) -> str:
    names: dict[Var, str] = {}

    def name(v):
        if v not in names:
            names[v] = f"x{len(names)}"
        return names[v]

    ins = ", ".join(name(v) for v in p.in_vars)
    sig = ", ".join(map(repr, p.in_avals)) + " -> " + ", ".join(map(repr, p.out_avals))
    lines = [f"def {p.name}({ins}): # {sig}"]
    for e in p.eqns:
        args = [name(v) for v in e.inputs] + [f"{k}={format_param(v)}" for k, v in e.params.items()]
        lhs = ", ".join(name(v) for v in e.outs)
        types = ", ".join(repr(v.aval) for v in e.outs)
        lines.append(f"    {lhs} = slope.{e.spec.name}({', '.join(args)}) # {types}")
    lines.append(f"    return {', '.join(name(v) for v in p.outs)}")
    return "\n".join(lines)


def typecheck(p: Program):
    """Re-run every shape rule; raises if the IR is inconsistent (used by tests and after rewrites)."""
    env = set(p.in_vars)
    for e in p.eqns:
        for v in e.inputs:
            if v not in env:
                raise SlopeError(f"typecheck: {e.spec.name} uses an undefined variable\n{print_program(p)}")
        outs = e.spec.abstract_eval(*[v.aval for v in e.inputs], **e.params)
        if list(outs) != [v.aval for v in e.outs]:
            raise SlopeError(f"typecheck: {e.spec.name} declares {[v.aval for v in e.outs]} but rule gives {outs}")
        env.update(e.outs)
    for v in p.outs:
        if v not in env:
            raise SlopeError("typecheck: program output is undefined")


def eval_program(p: Program, args):
    """Interpret a program under whatever traces are active (used by transformations of jit)."""
    env = dict(zip(p.in_vars, args))
    for e in p.eqns:
        outs = e.spec.bind(*[env[v] for v in e.inputs], **e.params)
        env.update(zip(e.outs, outs if e.spec.multiple_results else [outs]))
    return [env[v] for v in p.outs]
