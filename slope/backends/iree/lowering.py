"""Emit StableHLO MLIR text for Programs and for single primitives (eager mode)."""
from __future__ import annotations

import numpy as np

from slope.core.aval import Aval


def mlir_type(aval: Aval) -> str:
    dims = "x".join(map(str, aval.shape))
    return f"tensor<{dims}x{aval.dtype.mlir}>" if aval.shape else f"tensor<{aval.dtype.mlir}>"


def fn_type(in_avals, out_avals) -> str:
    return f"({', '.join(map(mlir_type, in_avals))}) -> ({', '.join(map(mlir_type, out_avals))})"


def dense_attr(vals) -> str:
    return "array<i64" + (": " + ", ".join(str(int(v)) for v in vals) if len(vals) else "") + ">"


def scalar_literal(value, dtype) -> str:
    """A StableHLO literal for one scalar of `dtype` that parses back to exactly `value` in `dtype`.

    MLIR reads a decimal float literal as a double and rounds it to the element type, and rejects
    one without a decimal point (`1e-05`); non-finite values and decimals whose double rounding
    would change the value are written as the dtype's bit pattern in hex instead."""
    if dtype.is_bool:
        return "true" if value else "false"
    if not dtype.is_float:
        return str(int(value))
    with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as NumPy and the eager route make it
        x = np.asarray(value).astype(dtype.np)
    if np.isfinite(x):
        text = str(x.astype(np.float64).item() if dtype.bits == 64 else x)
        if np.array(float(text)).astype(dtype.np).tobytes() == x.tobytes():
            mantissa, e, exponent = text.partition("e")
            return (mantissa if "." in mantissa else mantissa + ".0") + e + exponent
    bits = x.view(f"u{dtype.bits // 8}").item()
    return f"0x{bits:0{dtype.bits // 4}X}"


class LoweringContext:
    """Collects the lines of one function body and hands out fresh SSA names."""

    def __init__(self):
        self.lines: list[str] = []
        self._n = 0

    def fresh(self) -> str:
        self._n += 1
        return f"%v{self._n}"

    def emit(self, line: str):
        self.lines.append("    " + line)

    def op(self, text: str, out_aval: Aval, result_count: int = 1) -> str:
        """Emit `%new = <text> : <type of out>` style op whose text already has its type; return the name."""
        name = self.fresh()
        self.emit(f"{name} = {text}")
        return name

    def generic(self, op: str, args, in_avals, out_avals, attrs: str = "", regions: str = ""):
        """Emit an op in MLIR generic form; returns one SSA name, or a list when several results."""
        name = self.fresh()
        lhs = name if len(out_avals) == 1 else f"{name}:{len(out_avals)}"
        attr = f" {{{attrs}}}" if attrs else ""
        reg = f" ({regions})" if regions else ""
        outs = ", ".join(map(mlir_type, out_avals))
        outs = outs if len(out_avals) == 1 else f"({outs})"
        self.emit(f'{lhs} = "{op}"({", ".join(args)}){reg}{attr} : ({", ".join(map(mlir_type, in_avals))}) -> {outs}')
        return name if len(out_avals) == 1 else [f"{name}#{i}" for i in range(len(out_avals))]

    # small helpers for lowerings that are compositions of elementwise ops on one aval
    def unary(self, op: str, x: str, aval: Aval) -> str:
        return self.generic(op, [x], [aval], [aval])

    def binary(self, op: str, x: str, y: str, aval: Aval) -> str:
        return self.generic(op, [x, y], [aval, aval], [aval])

    def compare(self, direction: str, x: str, y: str, aval: Aval) -> str:
        d = aval.dtype
        ctype = "FLOAT" if d.is_float else "UNSIGNED" if (d.is_unsigned or d.is_bool) else "SIGNED"
        attrs = (f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                 f"compare_type = #stablehlo<comparison_type {ctype}>")
        return self.generic("stablehlo.compare", [x, y], [aval, aval], [Aval(aval.shape, "bool")], attrs)

    def select(self, pred: str, a: str, b: str, aval: Aval) -> str:
        return self.generic("stablehlo.select", [pred, a, b], [Aval(aval.shape, "bool"), aval, aval], [aval])

    def constant(self, value, aval: Aval) -> str:
        return self.op(f"stablehlo.constant dense<{scalar_literal(value, aval.dtype)}> : {mlir_type(aval)}", aval)

    def barrier(self, xs, avals) -> list[str]:
        """xs through one stablehlo.optimization_barrier: nothing is free at run time, but IREE can
        neither fold an op into one on the other side nor fuse the two into one dispatch."""
        out = self.generic("stablehlo.optimization_barrier", list(xs), list(avals), list(avals))
        return out if isinstance(out, list) else [out]

    def pad(self, x: str, value: str, aval: Aval, out_aval: Aval, low, high, interior) -> str:
        """stablehlo.pad with its result fenced (docs/stablehlo-notes.md §19, pitfalls 20-21).

        IREE 3.13 turns a pad into `fill + insert_slice` (strided for interior padding) and then
        (1) merges two such pads in a row with one padding value, dropping a stride: MLIR's
        FoldInsertPadIntoFill and IREE's FoldSuccessiveTensorInsertSliceOps; wrong values.
        (2) fuses two in a row with different padding values into the dispatch of the value they
        pad, which codegen rejects ("write affecting operations on global resources are restricted
        to workgroup distributed contexts"). A barrier on every pad's result keeps each pad apart
        from the next; the padded tensor is materialized anyway, so it costs no dispatch or copy.
        """
        attrs = (f"edge_padding_low = {dense_attr(low)}, edge_padding_high = {dense_attr(high)}, "
                 f"interior_padding = {dense_attr(interior)}")
        y = self.generic("stablehlo.pad", [x, value], [aval, Aval((), aval.dtype)], [out_aval], attrs)
        return self.barrier([y], [out_aval])[0]

    def lower_fn(self, fn, args, in_avals) -> list[str]:
        """Emit the slope function fn(*tensors) -> list of tensors, traced on in_avals, with inputs `args`.

        For a lowering that is "this other program": the program's primitives are lowered by their own
        lowerings (so fn must not lead back to the same case of the lowering that calls it)."""
        from slope.transforms.staging import make_program

        program, consts = make_program(fn, list(in_avals), getattr(fn, "__name__", "lowering"))
        assert not consts, "a lowering function may not capture tensors"
        return lower_program_body(self, program, args)

    def fresh_copy(self, x: str, aval: Aval) -> str:
        """A copy of x in a buffer of its own, for ops that IREE runs in place on their operand.

        IREE 3.x may write an in-place op (dynamic_update_slice) straight into a caller's input
        buffer (iree-org/iree#16168), so the caller's tensor would change. A select on an opaque
        `true` (fenced by optimization_barrier, so it cannot be folded) makes a real copy.
        """
        pred0 = Aval((), "bool")
        true = self.barrier([self.constant(True, pred0)], [pred0])[0]
        pred = self.generic("stablehlo.broadcast_in_dim", [true], [pred0], [Aval(aval.shape, "bool")],
                            "broadcast_dimensions = array<i64>")
        return self.select(pred, x, self.constant(0, aval), aval)


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


def lower_program_body(ctx: LoweringContext, program, args: list[str]) -> list[str]:
    """Emit a Program's equations into ctx with inputs bound to SSA names `args`; return output names."""
    env = dict(zip(program.in_vars, args))
    pairs = _transposed_dots(program) if any(e.spec.name == "transpose" for e in program.eqns) else {}
    folded = {id(d) for d in pairs.values()}
    for eqn in program.eqns:
        if folded and id(eqn) in folded:
            continue  # lowered, swapped, at the transpose that consumes it
        dot = pairs.get(eqn) if pairs else None
        if dot is not None:
            x, y = dot.inputs
            (xc, yc) = dot.params["contracting_dims"]
            params = {**dot.params, "contracting_dims": (yc, xc)}
            outs = dot.spec.lower(ctx, [env[y], env[x]], [y.aval, x.aval], [eqn.outs[0].aval], **params)
        else:
            in_names = [env[v] for v in eqn.inputs]
            outs = eqn.spec.lower(ctx, in_names, [v.aval for v in eqn.inputs], [v.aval for v in eqn.outs], **eqn.params)
        env.update(zip(eqn.outs, outs))
    return [env[v] for v in program.outs]


def module_text(in_avals, out_avals, body) -> str:
    """Wrap a body-emitting callback `body(ctx, arg_names) -> out_names` as a module with @main."""
    ctx = LoweringContext()
    args = [f"%arg{i}" for i in range(len(in_avals))]
    outs = body(ctx, args)
    sig = ", ".join(f"{a}: {mlir_type(t)}" for a, t in zip(args, in_avals))
    res = ", ".join(map(mlir_type, out_avals))
    lines = [f"func.func @main({sig}) -> ({res}) {{", *ctx.lines]
    lines.append(f"    return {', '.join(outs)} : {res}" if outs else "    return")
    lines.append("}")
    return "\n".join(lines) + "\n"


def lower_program(program) -> str:
    return module_text([v.aval for v in program.in_vars], [v.aval for v in program.outs],
                       lambda ctx, args: lower_program_body(ctx, program, args))


def lower_primitive(spec, in_avals, out_avals, params) -> str:
    return module_text(in_avals, out_avals, lambda ctx, args: spec.lower(ctx, args, in_avals, out_avals, **params))
