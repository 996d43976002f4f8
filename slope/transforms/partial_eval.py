"""Partial evaluation: split a computation into what is known now and what must be staged.

linearize runs jvp under this trace with primals known and tangents unknown: the primal
computation happens immediately, the tangent computation is recorded as a linear Program.
"""
from __future__ import annotations

import weakref

from slope.core.program import Eqn, Program, Var, eval_program
from slope.core.trace import Trace, Tracer, full_lower, full_raise, get_aval, new_main
from slope.primitives.spec import REGISTRY
from slope.transforms.jvp import jvp_flat


class PartialVal:
    __slots__ = ("aval", "const")

    def __init__(self, aval, const):
        self.aval, self.const = aval, const

    @classmethod
    def known(cls, val):
        return cls(get_aval(val), val)

    @classmethod
    def unknown(cls, aval):
        return cls(aval, None)

    is_known = property(lambda self: self.const is not None)


class LambdaBindingRecipe:
    pass


class ConstRecipe:
    __slots__ = ("val",)

    def __init__(self, val):
        self.val = val


class EqnRecipe:
    __slots__ = ("spec", "tracers_in", "params", "avals_out", "tracer_refs_out")

    def __init__(self, spec, tracers_in, params, avals_out, tracer_refs_out):
        self.spec, self.tracers_in, self.params = spec, tracers_in, params
        self.avals_out, self.tracer_refs_out = avals_out, tracer_refs_out


class PartialEvalTracer(Tracer):
    __slots__ = ("_trace", "pval", "recipe")

    def __init__(self, trace, pval, recipe):
        self._trace, self.pval, self.recipe = trace, pval, recipe

    @property
    def aval(self):
        return self.pval.aval

    def full_lower(self):
        if self.pval.is_known:
            return full_lower(self.pval.const)
        return self


class PartialEvalTrace(Trace):
    def new_arg(self, pval):
        return PartialEvalTracer(self, pval, LambdaBindingRecipe())

    def pure(self, val):
        return PartialEvalTracer(self, PartialVal.known(val), None)

    lift = pure

    def instantiate_const(self, tracer):
        if not tracer.pval.is_known:
            return tracer
        return PartialEvalTracer(self, PartialVal.unknown(tracer.aval), ConstRecipe(tracer.pval.const))

    def process_primitive(self, spec, tracers, params):
        if all(t.pval.is_known for t in tracers):
            outs = spec.bind(*[t.pval.const for t in tracers], **params)
            return outs if spec.multiple_results else [outs]
        rule = PARTIAL_EVAL_RULES.get(spec.name)
        if rule is not None:
            return rule(self, tracers, **params)
        tracers_in = [self.instantiate_const(t) for t in tracers]
        avals_out = spec.abstract_eval(*[t.aval for t in tracers_in], **params)
        return self.stage(spec, tracers_in, params, avals_out)

    def stage(self, spec, tracers_in, params, avals_out):
        outs = [PartialEvalTracer(self, PartialVal.unknown(a), None) for a in avals_out]
        recipe = EqnRecipe(spec, tracers_in, params, avals_out, [weakref.ref(t) for t in outs])
        for t in outs:
            t.recipe = recipe
        return outs


def partial_eval_flat(f, pvals_in, instantiate=None):
    """Run f with some inputs known; returns (program of the unknown part, output pvals, consts)."""
    with new_main(PartialEvalTrace) as main:
        trace = PartialEvalTrace(main)
        tracers_in = [trace.new_arg(p) for p in pvals_in]
        outs = f(*tracers_in)
        tracers_out = [full_raise(trace, o) for o in outs]
        if instantiate is not None:
            tracers_out = [trace.instantiate_const(t) if inst else t for t, inst in zip(tracers_out, instantiate)]
        pvals_out = [t.pval for t in tracers_out]
        unk_in = [t for t in tracers_in if not t.pval.is_known]
        unk_out = [t for t in tracers_out if not t.pval.is_known]
        program, consts = tracers_to_program(unk_in, unk_out)
    return program, pvals_out, consts


def _parents(t):
    return t.recipe.tracers_in if isinstance(t.recipe, EqnRecipe) else []


def toposort(out_nodes, parents):
    """Nodes ordered so that every node comes after its parents."""
    seen, order = set(), []
    for root in out_nodes:
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(parents(node)) if id(p) not in seen)
    return order


def tracers_to_program(tracers_in, tracers_out, name="linear"):
    tracer_to_var = {id(t): Var(t.aval) for t in tracers_in}
    const_vars, const_vals, const_ids = [], [], {}
    done, eqns = set(), []
    for t in toposort(tracers_out, _parents):
        r = t.recipe
        if isinstance(r, LambdaBindingRecipe):
            assert id(t) in tracer_to_var, "an input of another partial evaluation leaked in"
        elif isinstance(r, ConstRecipe):
            var = const_ids.get(id(r.val))
            if var is None:
                var = const_ids[id(r.val)] = Var(get_aval(r.val))
                const_vars.append(var)
                const_vals.append(r.val)
            tracer_to_var[id(t)] = var
        elif id(r) not in done:
            done.add(id(r))
            outs = [Var(a) for a in r.avals_out]
            for ref, var in zip(r.tracer_refs_out, outs):
                if ref() is not None:
                    tracer_to_var[id(ref())] = var
            eqns.append(Eqn(r.spec, [tracer_to_var[id(x)] for x in r.tracers_in], r.params, outs))
    program = Program(const_vars + [tracer_to_var[id(t)] for t in tracers_in], eqns,
                      [tracer_to_var[id(t)] for t in tracers_out], name)
    return program, const_vals


def linearize_flat(f, primals):
    """(primal outputs, linear function of tangents) for flat f."""
    n = len(primals)
    pvals_in = [PartialVal.known(x) for x in primals] + [PartialVal.unknown(get_aval(x)) for x in primals]

    def f_jvp(*args):
        p, t = jvp_flat(f, args[:n], args[n:])
        return [*p, *t]

    program, pvals_out, consts = partial_eval_flat(f_jvp, pvals_in, instantiate=None)
    m = len(pvals_out) // 2
    primals_out = [p.const for p in pvals_out[:m]]
    tangent_pvals = pvals_out[m:]
    program, consts = _with_known_outputs(program, consts, tangent_pvals)

    def f_lin(*tangents):
        return eval_program(program, [*consts, *tangents])

    return primals_out, f_lin, program, consts


def _with_known_outputs(program, consts, pvals):
    """Make a program whose outputs are all of `pvals`, feeding known ones in as extra constants."""
    if all(not p.is_known for p in pvals):
        return program, consts
    n_consts = len(consts)
    unknown_outs = iter(program.outs)
    extra_vars, extra_vals, outs = [], [], []
    for p in pvals:
        if p.is_known:
            v = Var(p.aval)
            extra_vars.append(v)
            extra_vals.append(p.const)
            outs.append(v)
        else:
            outs.append(next(unknown_outs))
    new = Program(extra_vars + program.in_vars[:n_consts] + program.in_vars[n_consts:], program.eqns, outs, program.name)
    return new, extra_vals + list(consts)


# ---------------------------------------------------------------- partial evaluation of jit_call


def partial_eval_program(program: Program, in_unknowns, instantiate=None):
    """Split a program into known part (returns outputs + residuals) and unknown part (residuals + unknown ins)."""
    env: dict[Var, bool] = {v: u for v, u in zip(program.in_vars, in_unknowns)}
    residuals: list[Var] = []
    res_set = set()

    def new_res(v):
        if v not in res_set:
            res_set.add(v)
            residuals.append(v)
        return v

    eqns1, eqns2 = [], []
    for e in program.eqns:
        unks = [env[v] for v in e.inputs]
        if e.spec.name == "jit_call" and any(unks):
            inner = e.params["program"]
            p1, p2, out_unks, num_res = partial_eval_program(inner, unks)
            known_ins = [v for v, u in zip(e.inputs, unks) if not u]
            unknown_ins = [v for v, u in zip(e.inputs, unks) if u]
            outs1 = [v for v, u in zip(e.outs, out_unks) if not u]
            outs2 = [v for v, u in zip(e.outs, out_unks) if u]
            res = [Var(v.aval) for v in p1.outs[len(p1.outs) - num_res:]]
            eqns1.append(Eqn(e.spec, known_ins, {"program": p1}, outs1 + res))
            eqns2.append(Eqn(e.spec, res + unknown_ins, {"program": p2}, outs2))
            for r in res:
                new_res(r)
            env.update(zip(e.outs, out_unks))
        elif any(unks):
            for v, u in zip(e.inputs, unks):
                if not u:
                    new_res(v)
            eqns2.append(e)
            env.update((o, True) for o in e.outs)
        else:
            eqns1.append(e)
            env.update((o, False) for o in e.outs)
    out_unknowns = [env[v] for v in program.outs]
    if instantiate is not None:
        for v, uk, inst in zip(program.outs, out_unknowns, instantiate):
            if inst and not uk:
                new_res(v)
        out_unknowns = [u or i for u, i in zip(out_unknowns, instantiate)]
    ins1 = [v for v, u in zip(program.in_vars, in_unknowns) if not u]
    ins2 = [v for v, u in zip(program.in_vars, in_unknowns) if u]
    outs1 = [v for v, u in zip(program.outs, out_unknowns) if not u]
    outs2 = [v for v, u in zip(program.outs, out_unknowns) if u]
    p1 = Program(ins1, eqns1, outs1 + residuals, f"{program.name}_known")
    p2 = Program(residuals + ins2, eqns2, outs2, f"{program.name}_unknown")
    return p1, p2, out_unknowns, len(residuals)


def _jit_call_partial_eval(trace, tracers, *, program):
    jit_call = REGISTRY["jit_call"]  # registered by transforms.jit, which imports this module's users

    in_unknowns = [not t.pval.is_known for t in tracers]
    key = ("pe", tuple(in_unknowns))
    cache = program.__dict__.setdefault("_transform_cache", {})
    if key not in cache:
        cache[key] = partial_eval_program(program, in_unknowns)
    p1, p2, out_unknowns, num_res = cache[key]
    known_vals = [t.pval.const for t in tracers if t.pval.is_known]
    outs1_res = jit_call.bind(*known_vals, program=p1)
    n1 = len(p1.outs) - num_res
    outs1, res = outs1_res[:n1], outs1_res[n1:]
    res_tracers = [trace.instantiate_const(full_raise(trace, r)) for r in res]
    unknown_tracers = [t for t in tracers if not t.pval.is_known]
    outs2 = trace.stage(jit_call, res_tracers + unknown_tracers, {"program": p2}, p2.out_avals)
    outs1, outs2 = iter(outs1), iter(outs2)
    return [next(outs2) if u else full_raise(trace, next(outs1)) for u in out_unknowns]


# Primitives whose partial evaluation is not "known inputs -> evaluate, else stage" (JAX's
# custom_partial_eval_rules): jit_call splits its Program into a known and an unknown part.
PARTIAL_EVAL_RULES = {"jit_call": _jit_call_partial_eval}
