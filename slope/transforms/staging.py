"""Staging: trace a Python function into a Program (the IR jit compiles and other transforms rewrite)."""
from __future__ import annotations

from slope.core.program import Eqn, Program, Var
from slope.core.trace import Trace, Tracer, full_raise, get_aval, new_dynamic, new_main


class StagingTracer(Tracer):
    __slots__ = ("_trace", "_aval")

    def __init__(self, trace, aval):
        self._trace, self._aval = trace, aval

    @property
    def aval(self):
        return self._aval

    def _assign(self, new):  # equations hold Vars: later ones read new's, an input keeps its own
        self._trace.builder.rebind(self, new)
        self._aval = new._aval


class ProgramBuilder:
    def __init__(self):
        self.eqns: list[Eqn] = []
        self.tracer_to_var: dict[int, Var] = {}
        self.const_tracers: dict[int, StagingTracer] = {}
        self.constvals: dict[Var, object] = {}
        self.tracers: list[StagingTracer] = []  # keeps tracers alive so ids stay unique
        self.first_var: dict[int, Var] = {}  # a rebound tracer's original var (an input stays an input)

    def new_tracer(self, trace, aval):
        t = StagingTracer(trace, aval)
        self.tracers.append(t)
        return t

    def add_var(self, tracer) -> Var:
        v = self.tracer_to_var[id(tracer)] = Var(tracer.aval)
        return v

    def getvar(self, tracer) -> Var:
        return self.tracer_to_var[id(tracer)]

    def rebind(self, tracer, new):
        """Later uses of `tracer` read `new`'s var (an in-place op updated it)."""
        self.first_var.setdefault(id(tracer), self.tracer_to_var[id(tracer)])
        self.tracer_to_var[id(tracer)] = self.getvar(new)

    def add_const(self, tracer, val):
        var = self.add_var(tracer)
        self.const_tracers[id(val)] = tracer
        self.constvals[var] = val
        return var

    def build(self, in_tracers, out_tracers, name):
        constvars = list(self.constvals)
        in_vars = [self.first_var.get(id(t)) or self.getvar(t) for t in in_tracers]
        outs = [self.getvar(t) for t in out_tracers]
        program = Program(constvars + in_vars, self.eqns, outs, name)
        program, used = dead_code_elimination(program, len(constvars))
        consts = [self.constvals[v] for v, u in zip(constvars, used) if u]
        return program, consts


def dead_code_elimination(program: Program, n_consts: int):
    """Drop equations whose results are never used, and constants nobody reads."""
    live = set(program.outs)
    eqns = []
    for e in reversed(program.eqns):
        if any(o in live for o in e.outs):
            eqns.append(e)
            live.update(e.inputs)
    eqns.reverse()
    consts = program.in_vars[:n_consts]
    used = [v in live for v in consts]
    in_vars = [v for v, u in zip(consts, used) if u] + program.in_vars[n_consts:]
    return Program(in_vars, eqns, program.outs, program.name), used


class StagingTrace(Trace):
    @property
    def builder(self) -> ProgramBuilder:
        return self.main.global_data

    def new_arg(self, aval):
        t = self.builder.new_tracer(self, aval)
        self.builder.add_var(t)
        return t

    def pure(self, val):
        t = self.builder.const_tracers.get(id(val))
        if t is None:
            t = self.builder.new_tracer(self, get_aval(val))
            self.builder.add_const(t, val)
        return t

    lift = pure

    def process_primitive(self, spec, tracers, params):
        avals_out = spec.abstract_eval(*[t.aval for t in tracers], **params)
        outs = [self.builder.new_tracer(self, a) for a in avals_out]
        inputs = [self.builder.getvar(t) for t in tracers]
        self.builder.eqns.append(Eqn(spec, inputs, params, [self.builder.add_var(t) for t in outs]))
        return outs


def make_program(f, in_avals, name="f"):
    """Trace f(*tracers) -> list of outputs into (Program, consts); the program's inputs are consts + args."""
    builder = ProgramBuilder()
    with new_main(StagingTrace, builder) as main:
        with new_dynamic(main):
            trace = StagingTrace(main)
            tracers_in = [trace.new_arg(a) for a in in_avals]
            outs = f(*tracers_in)
            tracers_out = [full_raise(trace, o) for o in outs]
            return builder.build(tracers_in, tracers_out, name)
