"""Transposition: evaluate a linear Program backwards (cotangents in, cotangents out); vjp = linearize + this."""
from __future__ import annotations

from slope import lax
from slope.core.program import Program, UndefPrimal, Var
from slope.core.trace import get_aval
from slope.errors import TransformError
from slope.primitives.rules import zeros_aval
from slope.transforms.partial_eval import linearize_flat
from slope.transforms.staging import make_program


def backward_pass(program: Program, args, cotangents):
    """args: values for known inputs, UndefPrimal for linear ones. Returns cotangents of the UndefPrimals."""
    primal_env: dict[Var, object] = {}
    for v, a in zip(program.in_vars, args):
        if not isinstance(a, UndefPrimal):
            primal_env[v] = a
    # forward: evaluate non-linear equations (those reading only known values)
    linear_eqns = []
    for e in program.eqns:
        if all(v in primal_env for v in e.inputs):
            outs = e.spec.bind(*[primal_env[v] for v in e.inputs], **e.params)
            primal_env.update(zip(e.outs, outs if e.spec.multiple_results else [outs]))
        else:
            linear_eqns.append(e)

    ct_env: dict[Var, object] = {}

    def write_ct(v, ct):
        if ct is None or v in primal_env:
            return
        ct_env[v] = lax.add(ct_env[v], ct) if v in ct_env else ct

    for v, ct in zip(program.outs, cotangents):
        write_ct(v, ct)
    for e in reversed(linear_eqns):
        ins = [primal_env.get(v, None) if v in primal_env else UndefPrimal(v.aval) for v in e.inputs]
        cts = [ct_env.pop(v, None) for v in e.outs]
        if all(c is None for c in cts):
            continue
        if e.spec.transpose is None:
            raise TransformError(f"{e.spec.name} is not linear ({e.spec.verify.reason('transpose', 'no transpose rule')}) "
                                 "but appears in a linear computation")
        cts = [zeros_aval(v.aval) if c is None else c for c, v in zip(cts, e.outs)]
        cts_in = e.spec.transpose(cts, *ins, **e.params)
        for v, ct in zip(e.inputs, cts_in):
            write_ct(v, ct)
    return [ct_env.pop(v, None) if v in ct_env else zeros_aval(v.aval)
            for v, a in zip(program.in_vars, args) if isinstance(a, UndefPrimal)]


def transpose_program(program: Program, undef: tuple):
    """A program computing (residuals..., cts...) -> cts of the undefined inputs; cached per pattern."""
    cache = program.__dict__.setdefault("_transform_cache", {})
    key = ("transpose", undef)
    if key not in cache:
        res_avals = [v.aval for v, u in zip(program.in_vars, undef) if not u]
        n_res = len(res_avals)

        def traceable(*args):
            res, cts = iter(args[:n_res]), args[n_res:]
            full_args = [UndefPrimal(v.aval) if u else next(res) for v, u in zip(program.in_vars, undef)]
            return backward_pass(program, full_args, list(cts))

        cache[key] = make_program(traceable, res_avals + program.out_avals, f"transpose_{program.name}")
    return cache[key]


def vjp_flat(f, primals):
    """(primal outputs, function cotangents -> input cotangents) for flat f."""
    primals_out, _, program, consts = linearize_flat(f, primals)
    n_consts = len(consts)
    args = list(consts) + [UndefPrimal(get_aval(x)) for x in primals]
    del n_consts

    def f_vjp(*cts):
        return backward_pass(program, args, list(cts))

    return primals_out, f_vjp
