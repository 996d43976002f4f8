"""The StableHLO text emitter: MLIR types and literals, LoweringContext (a builder of one
function body: fresh SSA names, generic ops, constants, regions), and LOWERINGS, the table of
one lowering per primitive, keyed by the primitive's name (filled by slope.backends.iree.lowerings).

A lowering is `fn(ctx, arg_names, in_avals, out_avals, **params) -> [result names]`.

While it emits, a LoweringContext notes what the compiler must know about the module (`Needs`:
float64 values, the largest dot_general), from the avals of the ops it emits;
compile.compiler_flags turns that into compiler flags."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from slope.core import dtypes as dt
from slope.core.aval import Aval


@dataclass(frozen=True)
class Needs:
    """What the compiler must be told about a module, noted from the avals its ops were emitted with."""

    f64: bool = False  # some value is float64 (f64 math links only with the system linker)
    dot_mnk: int = 0  # multiply-adds M*K*N of its largest dot_general (batch dims not counted)


class _Notes:
    """Needs being collected: shared by a function body and the regions emitted inside it."""

    __slots__ = ("dot_mnk", "f64")

    def __init__(self):
        self.f64, self.dot_mnk = False, 0

    def avals(self, avals):
        if not self.f64:
            for a in avals:
                if a.dtype is dt.float64:
                    self.f64 = True
                    return


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


COMMUTATIVE = frozenset(f"stablehlo.{op}" for op in ("add", "multiply", "maximum", "minimum", "and", "or", "xor"))


def _ssa_order(name: str):
    """A total order on SSA names (%arg2 < %arg10 < %v3 < %v3#1)."""
    head, _, result = name.partition("#")
    digits = head.lstrip("%abcdefghijklmnopqrstuvwxyz_")
    prefix = head[:len(head) - len(digits)]
    return prefix, int(digits) if digits.isdigit() else 0, digits, int(result or 0)


class LoweringContext:
    """Collects the lines of one function body and hands out fresh SSA names."""

    def __init__(self):
        self.lines: list[str] = []
        self._n = 0
        self.notes = _Notes()

    @property
    def needs(self) -> Needs:
        return Needs(self.notes.f64, self.notes.dot_mnk)

    def fresh(self) -> str:
        self._n += 1
        return f"%v{self._n}"

    def emit(self, line: str):
        self.lines.append("    " + line)

    def op(self, text: str, out_aval: Aval, result_count: int = 1) -> str:
        """Emit `%new = <text> : <type of out>` style op whose text already has its type; return the name."""
        name = self.fresh()
        self.notes.avals((out_aval,))
        self.emit(f"{name} = {text}")
        return name

    def generic(self, op: str, args, in_avals, out_avals, attrs: str = "", regions: str = ""):
        """Emit an op in MLIR generic form; returns one SSA name, or a list when several results.

        A commutative op's operands are written in one canonical order, so that mul(a, b) and
        mul(b, a) are the same text and IREE's CSE merges them: left apart, such twins can be fused
        into one dispatch whose results IREE then mixes up (docs/stablehlo-notes.md, pitfall 35)."""
        if op in COMMUTATIVE and len(args) == 2 and in_avals[0] == in_avals[1]:
            args = sorted(args, key=_ssa_order)
        name = self.fresh()
        lhs = name if len(out_avals) == 1 else f"{name}:{len(out_avals)}"
        attr = f" {{{attrs}}}" if attrs else ""
        reg = f" ({regions})" if regions else ""
        self.notes.avals(in_avals)
        self.notes.avals(out_avals)
        outs = ", ".join(map(mlir_type, out_avals))
        outs = outs if len(out_avals) == 1 else f"({outs})"
        self.emit(f'{lhs} = "{op}"({", ".join(args)}){reg}{attr} : ({", ".join(map(mlir_type, in_avals))}) -> {outs}')
        return name if len(out_avals) == 1 else [f"{name}#{i}" for i in range(len(out_avals))]

    def dot_general(self, args, in_avals, out_aval: Aval, contracting_dims, batch_dims) -> str:
        """stablehlo.dot_general contracting lhs dims contracting_dims[0] with rhs dims contracting_dims[1]
        (batch dims likewise); notes its multiply-adds (Needs.dot_mnk)."""
        (xc, yc), (xb, yb) = contracting_dims, batch_dims
        lhs, rhs = in_avals
        if lhs.shape and rhs.shape:  # M*K from the lhs (its batch dims aside), N from the rhs free dims
            mnk = 1
            for i, d in enumerate(lhs.shape):
                mnk *= 1 if i in xb else d
            for i, d in enumerate(rhs.shape):
                mnk *= 1 if i in yc or i in yb else d
            self.notes.dot_mnk = max(self.notes.dot_mnk, mnk)
        fields = []
        for key, v in [("lhs_batching_dimensions", xb), ("rhs_batching_dimensions", yb),
                       ("lhs_contracting_dimensions", xc), ("rhs_contracting_dimensions", yc)]:
            if v:
                fields.append(f"{key} = [{', '.join(map(str, v))}]")
        return self.generic("stablehlo.dot_general", args, in_avals, [out_aval],
                            f"dot_dimension_numbers = #stablehlo.dot<{', '.join(fields)}>")

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

    def barrier(self, xs, avals, unit_as_scalar=False) -> list[str]:
        """xs through one stablehlo.optimization_barrier: nothing is free at run time, but IREE can
        neither fold an op into one on the other side nor fuse the two into one dispatch.

        unit_as_scalar: a one-element value of rank 2 or more crosses as a 0-d tensor (reshaped there
        and back): IREE 3.13 fails to compile a one-element slice reshaped to all-unit dims that is both
        fenced and used unfenced (docs/stablehlo-notes.md section 35). Only where that was met (conv
        operands): on the fenced constants that scatters write into (pitfall 23) it let two gradients
        in one module add into one buffer."""
        unit = [unit_as_scalar and a.ndim >= 2 and a.size == 1 for a in avals]
        ins = [self.generic("stablehlo.reshape", [x], [a], [Aval((), a.dtype)]) if u else x
               for x, a, u in zip(xs, avals, unit)]
        in_avals = [Aval((), a.dtype) if u else a for a, u in zip(avals, unit)]
        out = self.generic("stablehlo.optimization_barrier", ins, in_avals, in_avals)
        out = out if isinstance(out, list) else [out]
        return [self.generic("stablehlo.reshape", [y], [Aval((), a.dtype)], [a]) if u else y
                for y, a, u in zip(out, avals, unit)]

    def pad(self, x: str, value: str, aval: Aval, out_aval: Aval, low, high, interior, fenced: bool = True) -> str:
        """stablehlo.pad with its result fenced (docs/stablehlo-notes.md §19, pitfalls 20-21); fenced=False
        for a pad whose consumer already keeps it apart (the scatter lowering's, pitfall 34).

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
        return self.barrier([y], [out_aval])[0] if fenced else y

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


def region_builder(parent: LoweringContext) -> LoweringContext:
    """A LoweringContext for the body of a reduce/sort/reduce_window region inside `parent`.

    Its SSA names carry a prefix taken from the parent's name counter, so they never clash with the
    enclosing function's names and the module text is the same in every process (it is the
    compile cache's key).
    """
    ctx = LoweringContext()
    ctx.notes = parent.notes
    prefix = parent.fresh().replace("%v", "%r", 1) + "_"
    counter = itertools.count(1)
    ctx.fresh = lambda: f"{prefix}{next(counter)}"
    return ctx


def region_text(ctx: LoweringContext, block_args, results) -> str:
    """`{ ^bb0(args): <ctx lines> stablehlo.return results }` for ctx.generic's `regions` argument.

    block_args: list of (name, scalar Aval); results: list of (name, scalar Aval).
    """
    head = ", ".join(f"{n}: {mlir_type(a)}" for n, a in block_args)
    ret = (f'"stablehlo.return"({", ".join(n for n, _ in results)}) : '
           f'({", ".join(mlir_type(a) for _, a in results)}) -> ()')
    body = "\n".join("    " + ln for ln in ctx.lines)
    return f"{{\n  ^bb0({head}):\n{body}\n        {ret}\n    }}"


LOWERINGS: dict[str, Callable] = {}


def lowering(*names):
    """Decorator: register fn as the lowering of the primitives `names`."""
    def register(fn):
        for name in names:
            if name in LOWERINGS:
                raise ValueError(f"a lowering for {name} is registered twice")
            LOWERINGS[name] = fn
        return fn

    return register
