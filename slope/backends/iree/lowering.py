"""Lower slope Programs (and single primitives) to StableHLO modules, each equation by the lowering
registered for its primitive (emitter.LOWERINGS, filled by slope.backends.iree.lowerings).

`lower_module(program)` gives the module text and its `Needs` (what the compiler flags depend on:
float64 values, the largest dot_general), noted from the avals of the ops the lowering emitted;
compile.compile_module takes both."""
from __future__ import annotations

from slope.backends.iree.emitter import LOWERINGS, LoweringContext, Needs, mlir_type
from slope.errors import BackendError
from slope.transforms.staging import make_program


def _lowering(spec):
    fn = LOWERINGS.get(spec.name)
    if fn is None:
        raise BackendError(f"no StableHLO lowering is registered for the primitive {spec.name}")
    return fn


def lower_fn(ctx: LoweringContext, fn, args, in_avals) -> list[str]:
    """Emit the slope function fn(*tensors) -> list of tensors, traced on in_avals, with inputs `args`.

    For a lowering that is "this other program" (JAX's lower_fun): the program's primitives are
    lowered by their own lowerings, so fn must not lead back to the same case of the lowering
    that calls it."""
    return lower_program_body(ctx, stage_fn(fn, in_avals), args)


def stage_fn(fn, in_avals, name: str | None = None):
    """fn(*tensors) -> list of tensors staged on in_avals as a Program, for a lowering to emit."""
    program, consts = make_program(fn, list(in_avals), name or getattr(fn, "__name__", "lowering"))
    assert not consts, "a lowering function may not capture tensors"
    return program


def _transposed_dots(program) -> dict:
    """{transpose eqn: the dot_general eqn it transposes} where the pair is one swapped dot_general.

    Backward passes transpose their weight gradients: `transpose(dot_general(dY, X, contract
    batch), (1, 0))`. IREE compiles the two ops as written (a matmul into a temporary, then a
    copy); `dot_general(X, dY)` writes the transposed result directly and is up to 25% faster
    (MLP train step 570 -> 510 us on local-sync). Only a dot_general without batch dims whose
    result has no other use, and a transpose that swaps its lhs-free and rhs-free dims, qualify."""
    uses: dict = {}
    for e in program.eqns:
        for v in e.inputs:
            uses[v] = uses.get(v, 0) + 1
    for v in program.outs:
        uses[v] = uses.get(v, 0) + 1
    dots, pairs = {}, {}
    for e in program.eqns:
        name = e.spec.name
        if name == "dot_general" and not any(e.params["batch_dims"]):
            dots[e.outs[0]] = e
        elif name == "transpose" and uses.get(e.inputs[0]) == 1 and e.inputs[0] in dots:
            d = dots[e.inputs[0]]
            (xc, yc) = d.params["contracting_dims"]
            nl, nr = d.inputs[0].aval.ndim - len(xc), d.inputs[1].aval.ndim - len(yc)
            if tuple(e.params["perm"]) == tuple(range(nl, nl + nr)) + tuple(range(nl)):
                pairs[e] = d
    return pairs


_REDUCES = frozenset({"reduce_sum", "reduce_max", "reduce_min", "reduce_prod"})
_MOVES = frozenset({"broadcast_in_dim", "transpose", "slice", "rev"})  # views that change the index map
_VIEWS = _MOVES | {"reshape", "expand_dims", "squeeze", "stop_gradient"}


def _reductions_read_two_ways(program) -> set:
    """The outputs of reductions that must go through an optimization_barrier (stablehlo-notes §29).

    IREE 3.13 fuses a reduce into its elementwise consumer; when that dispatch reads the reduced
    value through two different index maps (`s[None, :] - s[:, None]`, or a broadcast and its
    transpose), only the diagonal is right and the rest is zero or garbage (f32 and f64). So a
    reduction's result is fenced when, followed through views (broadcasts, transposes, slices,
    reshapes, ...) to its uses (a program output counts), it is read along two different chains of
    views and one of them changes its index map (has a broadcast, transpose, slice or rev). One use,
    or uses of one broadcast (softmax's sum, read by its forward and backward divisions), keep
    their fusion."""
    uses: dict = {}
    for e in program.eqns:
        for v in e.inputs:
            uses.setdefault(v, []).append(e)
    outs = set(program.outs)
    fenced = set()
    for e in program.eqns:
        if e.spec.name not in _REDUCES:
            continue
        chains, todo = set(), [(e.outs[0], ())]
        while todo:
            v, chain = todo.pop()
            if v in outs:
                chains.add(chain)
            for u in uses.get(v, ()):
                if u.spec.name in _VIEWS:
                    todo.append((u.outs[0], chain + ((u.spec.name, repr(sorted(u.params.items()))),)))
                else:
                    chains.add(chain)
        if len(chains) >= 2 and any(name in _MOVES for chain in chains for name, _ in chain):
            fenced.add(e.outs[0])
    return fenced


def _transposed_operands(program, swapped=()) -> dict:
    """{dot_general eqn: (operands, params)} for dots with an operand that is a transpose made in the
    program, folded into the dot's dimension numbers (the transpose's input becomes the operand);
    {transpose eqn: None} for the transposes left without a use.

    `x @ w.T` stages as transpose + dot_general; IREE 3.13 materializes the transposed copy of the
    weight as a dispatch of its own on every call (a Llama decode step: 15 of its 63 dispatches, one
    per weight matrix); with the transpose folded, the dot_general lowering can read w in place
    (lowerings/linalg.py). Contracting and batch dims map through the permutation; an operand is
    folded only when its free dims keep their order, so the dot's result is the same array."""
    # a transpose lowered as a swapped dot (_transposed_dots) stays: the dot it transposes is not emitted
    made = {e.outs[0]: e for e in program.eqns if e.spec.name == "transpose" and e not in swapped}
    out = {}
    for e in program.eqns:
        if e.spec.name != "dot_general" or not any(v in made for v in e.inputs):
            continue
        operands = list(e.inputs)
        cs = [list(d) for d in e.params["contracting_dims"]]
        bs = [list(d) for d in e.params["batch_dims"]]
        changed = False
        for i, v in enumerate(e.inputs):
            t = made.get(v)
            if t is None:
                continue
            perm = t.params["perm"]
            free = [d for d in range(v.aval.ndim) if d not in cs[i] and d not in bs[i]]
            mapped = [perm[d] for d in free]
            if mapped != sorted(mapped):
                continue
            operands[i] = t.inputs[0]
            cs[i], bs[i] = [perm[d] for d in cs[i]], [perm[d] for d in bs[i]]
            changed = True
        if changed:
            out[e] = (operands, {**e.params, "contracting_dims": tuple(map(tuple, cs)),
                                 "batch_dims": tuple(map(tuple, bs))})
    if out:  # transposes whose every use is a folded operand are not emitted
        still_used = set(program.outs)
        for e in program.eqns:
            folded_from = {v for v, w in zip(e.inputs, out[e][0]) if v is not w} if e in out else set()
            still_used.update(v for v in e.inputs if v not in folded_from)
        out.update({t: None for v, t in made.items() if v not in still_used})
    return out


def lower_program_body(ctx: LoweringContext, program, args: list[str]) -> list[str]:
    """Emit a Program's equations into ctx with inputs bound to SSA names `args`; return output names."""
    env = dict(zip(program.in_vars, args))
    has_transpose = any(e.spec.name == "transpose" for e in program.eqns)
    pairs = _transposed_dots(program) if has_transpose else {}
    operand_folds = _transposed_operands(program, pairs) if has_transpose else {}
    fenced = _reductions_read_two_ways(program) if any(e.spec.name in _REDUCES for e in program.eqns) else set()
    folded = {id(d) for d in pairs.values()}
    for eqn in program.eqns:
        if folded and id(eqn) in folded:
            continue  # lowered, swapped, at the transpose that consumes it
        dot = pairs.get(eqn) if pairs else None
        if dot is not None:
            (x, y), params = operand_folds.get(dot, (dot.inputs, dot.params))
            (xc, yc) = params["contracting_dims"]
            params = {**params, "contracting_dims": (yc, xc)}
            outs = LOWERINGS["dot_general"](ctx, [env[y], env[x]], [y.aval, x.aval], [eqn.outs[0].aval], **params)
        elif eqn in operand_folds:
            if operand_folds[eqn] is None:
                continue  # a transpose folded into every dot that uses it
            operands, params = operand_folds[eqn]
            outs = LOWERINGS["dot_general"](ctx, [env[v] for v in operands], [v.aval for v in operands],
                                            [v.aval for v in eqn.outs], **params)
        else:
            in_names = [env[v] for v in eqn.inputs]
            outs = _lowering(eqn.spec)(ctx, in_names, [v.aval for v in eqn.inputs], [v.aval for v in eqn.outs],
                                          **eqn.params)
        if fenced and eqn.outs[0] in fenced:
            outs = ctx.barrier(outs, [eqn.outs[0].aval])
        env.update(zip(eqn.outs, outs))
    return [env[v] for v in program.outs]


def module_text(in_avals, out_avals, body) -> str:
    """Wrap a body-emitting callback `body(ctx, arg_names) -> out_names` as a module with @main."""
    return _module(in_avals, out_avals, body)[0]


def _module(in_avals, out_avals, body) -> tuple[str, Needs]:
    ctx = LoweringContext()
    ctx.notes.avals(in_avals)
    ctx.notes.avals(out_avals)
    args = [f"%arg{i}" for i in range(len(in_avals))]
    outs = body(ctx, args)
    sig = ", ".join(f"{a}: {mlir_type(t)}" for a, t in zip(args, in_avals))
    res = ", ".join(map(mlir_type, out_avals))
    lines = [f"func.func @main({sig}) -> ({res}) {{", *ctx.lines]
    lines.append(f"    return {', '.join(outs)} : {res}" if outs else "    return")
    lines.append("}")
    return "\n".join(lines) + "\n", ctx.needs


def lower_module(program) -> tuple[str, Needs]:
    """(StableHLO text with @main, Needs) of a Program."""
    return _module([v.aval for v in program.in_vars], [v.aval for v in program.outs],
                   lambda ctx, args: lower_program_body(ctx, program, args))


def lower_program(program) -> str:
    return lower_module(program)[0]


def lower_primitive(spec, in_avals, out_avals, params) -> str:
    return module_text(in_avals, out_avals, lambda ctx, args: _lowering(spec)(ctx, args, in_avals, out_avals, **params))
