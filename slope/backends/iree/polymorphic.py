"""Shape-polymorphic eager kernels: one module per (program, dtypes, rank), not per shape.

Eager evaluation compiles each primitive alone (and slope.ops.eager each elementwise op's whole
route: promotion, broadcasting, the primitive), and IREE's ~0.3 s per module was paid once per new
shape: `x + y` on (3, 4) and on (5, 2) were two modules. For a program whose StableHLO has no size
in it but its tensor types (elementwise ops, comparisons, conversions, reductions, transposes,
broadcasts of its inputs), the same text with every dim written `?` (`tensor<?x?xf32>`) is a
kernel that IREE runs on any shape, taking the sizes from its arguments' buffer views.

A lowering may depend on sizes (workarounds for IREE bugs at size 1, say), so the dynamic text is
used only where it provably is the static program with its dims erased: the program is inferred
again on avals whose dims are distinct sentinel numbers (its `shape` params mapped alike) and both
are lowered; the sentinel text with the call's dims put back must equal the call's text. Then only
ops on the allow-list below (known to compile with dynamic dims) and no size outside a type may be
left. A broadcast, and a constant of one value at a shape (`dense<0.0> : tensor<?x?xf32>` is not
StableHLO), become `dynamic_broadcast_in_dim`, its shape read off the arguments
(`get_dimension_size`) and its size-1 expansions stated (`known_expanding_dimensions`), so a kernel
serves only calls that broadcast the same way. Everything else (empty operands, 0-d
ones, dot_general, whose data tiling depends on its sizes, shape-changing ops) keeps its static
kernel; so does everything under jit.

Measured against static kernels (best of 7, idle): the same call time from 1k to 1M elements (a
1M-element row sum 0.8 -> 0.53 ms), 0.6-2 us more at 3 elements (`x*2` 4.3 -> 4.9 us), the price of a
first use without a compile. A hot shape does not go back to a static kernel: its second compile
(~0.3 s) would be repaid only after ~300k calls.
"""
from __future__ import annotations

import re

from slope.backends.iree.emitter import dense_attr
from slope.backends.iree.lowering import lower_module
from slope.backends.iree.lowerings.elementwise import ONE_OP
from slope.core.aval import Aval
from slope.core.program import Eqn, Program, Var

# Primitives whose lowerings are looked at: elementwise ones, reductions, transposes and broadcasts. Others
# are not even lowered at sentinel sizes (a lowering may unroll a loop over a dim or build a table of it).
PRIMITIVES = frozenset({*ONE_OP, "eq", "ne", "lt", "le", "gt", "ge", "pow", "expm1", "log1p", "convert", "bitcast",
                        "stop_gradient", "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "transpose",
                        "broadcast_in_dim"})
# StableHLO ops whose result shapes follow from their operands' (and attributes) alone
DYNAMIC_OK = frozenset({
    "stablehlo.negate", "stablehlo.exponential", "stablehlo.log", "stablehlo.sine", "stablehlo.cosine",
    "stablehlo.tan", "stablehlo.tanh", "stablehlo.logistic", "stablehlo.sqrt", "stablehlo.rsqrt", "stablehlo.abs",
    "stablehlo.sign", "stablehlo.floor", "stablehlo.ceil", "stablehlo.round_nearest_even", "chlo.erf",
    "stablehlo.not", "stablehlo.add", "stablehlo.subtract", "stablehlo.multiply", "stablehlo.divide",
    "stablehlo.maximum", "stablehlo.minimum", "stablehlo.remainder", "stablehlo.atan2", "stablehlo.and",
    "stablehlo.or", "stablehlo.xor", "stablehlo.shift_left", "stablehlo.shift_right_logical",
    "stablehlo.shift_right_arithmetic", "stablehlo.select", "stablehlo.clamp", "stablehlo.compare",
    "stablehlo.convert", "stablehlo.bitcast_convert", "stablehlo.power", "stablehlo.log_plus_one",
    "stablehlo.exponential_minus_one", "stablehlo.reduce", "stablehlo.return", "stablehlo.transpose",
    "stablehlo.constant",  # 0-d, or one value at a shape (made a dynamic_broadcast_in_dim below)
    "stablehlo.optimization_barrier",
    "stablehlo.broadcast_in_dim",  # rewritten as dynamic_broadcast_in_dim
})
# Sizes no lowering writes by itself: the k-th distinct dim of a call is lowered as SENTINEL + k (but 1).
SENTINEL = 1_000_003
SHAPE_PARAMS = ("shape",)  # params that spell result sizes (broadcast_in_dim's)
_TYPE = re.compile(r"tensor<([^>]*)>")
_STATIC = "tensor<static:"  # a type whose dims are not erased (a shape operand's)
_OP = re.compile(r'"?((?:stablehlo|chlo)\.\w+)')
_SHAPED_CONSTANT = re.compile(r"dense<[^>]*> : tensor<[^>]*x")
_SPLAT = re.compile(r"(\s*)(%\S+) = stablehlo.constant dense<([^<>\[\],]*)> : (tensor<[^>]*x[^>]*>)")
_BROADCAST = re.compile(r'(\s*)(%\S+) = "stablehlo.broadcast_in_dim"\((%\S+)\) '
                        r'\{broadcast_dimensions = array<i64(?:: ([\d, ]+))?>\} : \((tensor<[^>]*>)\) -> (tensor<[^>]*>)')


def _dims(tensor_type: str) -> list[str]:
    return tensor_type[len("tensor<"):-1].split("x")[:-1]


def _retype(text: str, dim) -> str:
    """text with every dim of every tensor type replaced by dim(token)."""
    def one(m):
        *dims, elem = m.group(1).split("x")
        return "tensor<" + "x".join([*map(dim, dims), elem]) + ">"

    return _TYPE.sub(one, text)


def _reinferred(program, sentinel: dict):
    """The program with its inputs' dims (and its `shape` params) mapped through `sentinel`, its
    equations' results inferred again by their shape rules."""
    env = {v: Var(Aval([sentinel[d] for d in v.aval.shape], v.aval.dtype)) for v in program.in_vars}
    eqns = []
    for e in program.eqns:
        params = {k: tuple(sentinel.get(d, d) for d in v) if k in SHAPE_PARAMS else v for k, v in e.params.items()}
        outs = [Var(a) for a in e.spec.abstract_eval(*[env[v].aval for v in e.inputs], **params)]
        env.update(zip(e.outs, outs))
        eqns.append(Eqn(e.spec, [env[v] for v in e.inputs], params, outs))
    return Program([env[v] for v in program.in_vars], eqns, [env[v] for v in program.outs], program.name)


def _shape_operand(indent, name, out_dims, arg_dims, lines) -> str | None:
    """Emit into `lines` a tensor of the sizes out_dims, read off the arguments (arg_dims: sentinel ->
    (argument, axis, its type)) or 1; return its SSA name, None if a size is neither. Its type is written
    with _STATIC, which erasing dims leaves alone."""
    if any(d not in arg_dims and d != "1" for d in out_dims):
        return None
    sizes = []
    for k, d in enumerate(out_dims):
        if d == "1" and d not in arg_dims:
            lines.append(f"{indent}{name}_r{k} = stablehlo.constant dense<1> : {_STATIC}1xi32>")
        else:
            arg, axis, arg_type = arg_dims[d]
            lines.append(f'{indent}{name}_d{k} = "stablehlo.get_dimension_size"({arg}) {{dimension = {axis} : i64}} '
                         f': ({arg_type}) -> tensor<i32>')
            lines.append(f'{indent}{name}_r{k} = "stablehlo.reshape"({name}_d{k}) : (tensor<i32>) -> {_STATIC}1xi32>')
        sizes.append(f"{name}_r{k}")
    if len(sizes) == 1:
        return sizes[0]
    lines.append(f'{indent}{name}_shape = "stablehlo.concatenate"({", ".join(sizes)}) {{dimension = 0 : i64}} '
                 f': ({", ".join([_STATIC + "1xi32>"] * len(sizes))}) -> {_STATIC}{len(sizes)}xi32>')
    return f"{name}_shape"


def _dynamic_broadcasts(text: str, arg_dims: dict) -> str | None:
    """The sentinel text with each broadcast_in_dim, and each splat constant of a shape, made a
    dynamic_broadcast_in_dim whose shape operand is read off the arguments (_shape_operand); None if
    one cannot be."""
    lines = []
    for line in text.split("\n"):
        m = _BROADCAST.fullmatch(line)
        if m is not None:
            indent, name, x, bdims, in_type, out_type = m.groups()
            bd = [int(i) for i in bdims.split(",")] if bdims else []
            in_dims = _dims(in_type)
        elif (m := _SPLAT.fullmatch(line)) is not None:  # a constant of one value at a sentinel shape
            indent, name, value, out_type = m.groups()
            in_type, x, bd, in_dims = f"tensor<{out_type.split('x')[-1]}", f"{name}_scalar", [], []
            lines.append(f"{indent}{x} = stablehlo.constant dense<{value}> : {in_type}")
        elif '"stablehlo.broadcast_in_dim"' in line or _SHAPED_CONSTANT.search(line):
            return None
        else:
            lines.append(line)
            continue
        out_dims = _dims(out_type)
        shape = _shape_operand(indent, name, out_dims, arg_dims, lines)
        if shape is None:
            return None
        attrs = f"broadcast_dimensions = {dense_attr(bd)}"
        if bd:
            attrs += (f", known_expanding_dimensions = {dense_attr([i for i, o in enumerate(bd) if in_dims[i] != out_dims[o]])}"
                      f", known_nonexpanding_dimensions = {dense_attr([i for i, o in enumerate(bd) if in_dims[i] == out_dims[o]])}")
        lines.append(f'{indent}{name} = "stablehlo.dynamic_broadcast_in_dim"({x}, {shape}) {{{attrs}}} : '
                     f'({in_type}, {_STATIC}{len(out_dims)}xi32>) -> {out_type}')
    return "\n".join(lines)


def dynamic_module(program, static_text: str):
    """(text with `?` dims, Needs) of an eagerly run program whose static module text is `static_text`,
    or None where the static one must stay."""
    in_avals = program.in_avals
    if (not any(a.ndim for a in in_avals) or any(a.size == 0 for a in in_avals)
            or any(e.spec.name not in PRIMITIVES for e in program.eqns)):
        return None
    # size 1 stays 1 (broadcasting rules tell it from other sizes); the other sizes become sentinels
    sentinel = {d: d if d == 1 else SENTINEL + k for k, d in enumerate(sorted({d for a in in_avals for d in a.shape}))}
    try:
        s_program = _reinferred(program, sentinel)
    except Exception:  # noqa: BLE001 - a rule that ties params to sizes: not polymorphic
        return None
    back = {str(s): str(d) for d, s in sentinel.items()}
    s_text, needs = lower_module(s_program)
    if _retype(s_text, lambda t: back.get(t, t)) != static_text:
        return None

    def erase(text):
        return _retype(text, lambda t: "?" if t in back else t).replace(_STATIC, "tensor<")

    erased = erase(s_text)
    if (any(t.isdigit() for m in _TYPE.finditer(erased) for t in m.group(1).split("x"))
            or not set(_OP.findall(erased)) <= DYNAMIC_OK):
        return None
    if '"stablehlo.broadcast_in_dim"' in s_text or _SHAPED_CONSTANT.search(s_text):
        # not from an unsigned tensor: IREE 3.13 fails to legalize get_dimension_size of one ('tensor.dim' of ui8)
        arg_dims = {str(d): (f"%arg{i}", axis, f"tensor<{'x'.join(map(str, v.aval.shape))}x{v.aval.dtype.mlir}>")
                    for i, v in reversed(list(enumerate(s_program.in_vars))) if not v.aval.dtype.is_unsigned
                    for axis, d in reversed(list(enumerate(v.aval.shape)))}
        s_text = _dynamic_broadcasts(s_text, arg_dims)
        if s_text is None:
            return None
    return erase(s_text), needs
