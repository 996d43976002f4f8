"""Random whole-program differential testing: many primitives composed, checked against NumPy.

Primitives are verified one at a time (slope.testing.checks); bugs also live in their
combinations (IREE merged chained pads, fused a pad into a sort, rejected an outer product summed
over two axes, a gather of a strided slice: docs/stablehlo-notes.md pitfalls 17-21). This module
draws random well-typed programs of 3-10 primitive applications over 1-3 float32 or float64 inputs
and checks each one whole.

Programs come from one generator (`generate`), whose every choice goes through a chooser: `programs()`
is the Hypothesis strategy (HypothesisChoices: Hypothesis draws, and can shrink, each choice) and
`random_cases(n, seed, start)` the batch runner's stream (RandomChoices: uniform NumPy draws; case i of
stream `seed` is drawn from default_rng([seed, i]), so it reproduces alone). Values are typed by the
primitives' own shape rules as they are made (a mismatch is a GeneratorBug) and carry interval
bounds, so that log/sqrt/rsqrt/pow/atan2 get positive operands and div operands away from 0 (or a
value is made so first by exp(tanh(.))), and nothing exceeds CAP. Covered: elementwise unary and
binary ops, select on comparisons, clamp, reduce_sum/max/min/prod over random axes, cumsum/cummax/
cummin/cumprod (reverse too), reshape, transpose (random permutations), broadcast_in_dim, slice (starts,
strides), pad (interior, negative edges, a computed 0-d padding value), rev, concatenate (fan-out),
squeeze/expand_dims, dot_general (contracting, batch and outer products), conv (strides, padding,
dilations, groups), gather/scatter/scatter_add with in-range constant indices, gather by computed
argmax/argmin indices, a reduction read through two different broadcasts by one op,
dynamic_slice/dynamic_update_slice, sort of one or two operands; inputs and
values of size 1 and 0-d; outputs are the last value, up to two unused values, and sometimes a sum
to a scalar. A fifth of the programs are large (dims 5, 8, 16, 17, up to 512 elements).

A program is Python source text of `lax` calls,

    def program(lax, x0, x1):
        F = x0.dtype
        v2 = lax.exp(x0)
        v3 = lax.pad(v2, lax.full(shape=(), value=0.5, dtype=F), low=(1,), high=(0,), interior=(1,))
        return [v3]

run with `slope.lax` (SLOPE_LAX: slope, eager or traced) and with `NumpyLax()`, a namespace whose
every function is the primitive's NumPy reference (`REGISTRY[name].reference`): the oracle is the
same function composed of references. A `Case` is that source plus concrete data (inputs, output
weights, tangents, vmap axes and batch) and is its own runnable repro.

Checks per case (CHECKS):
  eager       slope.lax op by op == the oracle in the program's dtype
  jit         slope.jit of the program == the oracle
  grad_eager  slope.grad of loss = sum_k sum(out_k * w_k) w.r.t. every input, eagerly ...
  grad_jit    ... and under jit, == float64 central differences of the oracle's loss (slope.testing.fd)
  jvp         slope.jvp under jit: primals == oracle, tangents == float64 central differences
  vmap        slope.vmap with random in_axes (None for some inputs, negative ones from the end) and
              random out_axes (negative too) under jit == stacked oracle results
  jit_repeat  a second call of the jitted checks returns the same bits (no state leaks between calls)
The composed transformations (HIGHER_CHECKS; programs with at most HIGHER_MAX_SIZE input and output
elements), all under jit, with the inputs flattened into one vector (slice + reshape):
  jacfwd      the Jacobian of the flat outputs by forward mode == the float64 FD Jacobian
  jacrev      ... by reverse mode
  hessian     hessian(loss) is symmetric and H t == float64 FD of the FD gradient along t
  grad_grad   reverse over reverse: grad of <grad loss, t> == the same FD Hessian-vector product
  vmap_grad   vmap(grad(loss)) with the case's in_axes == the FD gradients of the batch members
Tolerances are slope.testing.tolerances' (never loosened). Two kinds of examples are skipped, and
counted (`Report.skipped`):
  * value elements whose float rounding noise exceeds half the tolerance: the oracle is run again
    with every rounding operation perturbed by a few ulp (`NumpyLax(noise=...)`, sums by a few ulp of
    the sum of magnitudes) and an element whose outputs spread by more than that is ill-conditioned;
  * derivative checks where the finite difference is ill-conditioned: central differences with
    steps 1e-3 and 1e-4 disagree, or one-sided differences at 1e-6 and 1e-7 show a kink at the input
    (e.g. maximum near a tie, abs near 0, a jump of floor or of a sort's permutation).

Cost: each case compiles one jitted module (all of its jit checks) plus the eager ops. `check_cases`
stages every case first, compiles the jitted programs a few per IREE module and the eager ops a few
dozen per module (`compile.compile_many`), on threads, then runs. A failing case is shrunk
(`shrink`: keep one output or make an earlier value the output, cut the program's head off by
replacing a value with an input holding the oracle's value, bypass ops, unmap vmap inputs;
candidates compiled in batches) and printed as a repro (`Case.repro()`). A jitted check shrinks and
is printed with the jit parts it was staged with (`rerun_checks`): they are one IREE module, and a
miscompile may need them all. Large programs' gradients
are compared on FD_COORDS random coordinates.

Profiles: tests/test_programs.py runs a fixed batch (ci: BASE_CHECKS, and every check on a few small
programs); `SLOPE_PROFILE=thorough` or
`python -m slope.testing.programs --n 2000` runs long random batches. What it found so far is in
docs/stablehlo-notes.md, pitfalls 22-27 and 33, and tests/test_program_regressions.py. On 2026-12-01
programs 0-1049 of `--seed 2026` (float32 and float64, every check in CHECKS, the thorough profile's)
ran in 81 min of fuzzer time on the shared 2-core machine (4.6 s a program, nearly all of it compiling;
2,000 would take ~2.6 h): 11,903 checks passed, 687 skipped (635 higher checks of programs over
HIGHER_MAX_SIZE, 52 ill-conditioned finite differences), 837 ill-conditioned value elements not
compared, and 3 programs disagreed, each now a regression test in test_program_regressions: 575
(jacfwd failed to compile: pitfall 33, fenced conv operands cross as 0-d); 877 and 1032, which ran
after a first version of that fix applied it to every barrier (a derivative check off by another check's
output: the fenced zeros of two gathers' gradients shared a buffer); the three then passed their 12
checks. Programs 750-1049 ran with that first version, 0-749 before any change. Program 1082: grad_jit
of a gather's input counted the gather's gradient twice, only with grad_grad and vmap_grad staged in the
same module (pitfall 34: two scatters in place into one fenced buffer; the scatter lowering no longer
fences its sentinel pad's result), and its first shrunk repro passed, since the shrinker ran grad_jit
alone (now `rerun_checks`). Program 1163: a float64 grad_grad through atan2 was wrong under jit
(pitfall 35: commutative twins mul(a, b), mul(b, a) fused with a divide; operands are now written in
a canonical order).
"""
from __future__ import annotations

import keyword
import math
import textwrap
import time
from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np

import slope
from slope import lax
from slope.backends.iree import compile as iree_compile
from slope.core import backend
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.core.dtypes import DType
from slope.primitives import REGISTRY
from slope.testing import dryrun, fd
from slope.testing.example import fmt_array
from slope.testing.tolerances import tolerance

BASE_CHECKS = ("eager", "jit", "grad_eager", "grad_jit", "jvp", "vmap", "jit_repeat")
# composed transformations, each against the float64 oracle (FD of the program run with the references)
HIGHER_CHECKS = ("jacfwd", "jacrev", "hessian", "grad_grad", "vmap_grad")
CHECKS = BASE_CHECKS + HIGHER_CHECKS
JIT_PARTS = ("jit", "grad_jit", "jvp", "vmap") + HIGHER_CHECKS  # staged together into one module per case
HIGHER_MAX_SIZE = 48  # the higher checks run on programs whose inputs (and outputs) have this many elements at most
# Second derivatives of whole programs compare at float32's grad2 tolerance in both dtypes: the float64
# FD of the FD gradient of a program's loss carries ~1e-9 * |loss| of rounding noise (above float64's
# grad2 atol of 1e-8), while a wrong rule is off by O(1).
HVP_TOLERANCE_DTYPE = "float32"

CAP = 30.0  # no generated value may exceed this magnitude (interval bound)
MAX_SIZE = 48  # elements per value
MAX_RANK = 4
DIMS = (1, 2, 3, 4)
# a fifth of the programs are "large": dims around the vector widths (8 f64 / 16 f32 lanes with AVX-512)
# and their remainders, up to LARGE_MAX_SIZE elements; their gradients are checked on FD_COORDS coordinates
LARGE_FRACTION = 0.2
LARGE_DIMS = (1, 2, 3, 5, 8, 16, 17)
LARGE_MAX_SIZE = 512
FD_COORDS = 48
DOMAINS = ((-2.0, 2.0), (0.5, 2.0), (-2.0, -0.5), (-1.0, 1.0))
VMAP_BATCH = 3


# ================================================================ the oracle: lax made of references


def _spec(name):
    return REGISTRY[name[:-1] if name.endswith("_") and keyword.iskeyword(name[:-1]) else name]


# ops whose float results are rounded (the others move, select or compare values exactly)
_ROUNDED = {"add", "sub", "mul", "div", "exp", "log", "sqrt", "rsqrt", "tanh", "logistic", "sin", "cos", "expm1",
            "log1p", "erf", "tan", "pow", "atan2", "reduce_prod", "cumprod"}
# sums: the rounding error scales with the sum of the magnitudes of the terms
_SUMS = {"reduce_sum", "cumsum", "dot_general", "conv", "scatter_add"}


class NumpyLax:
    """`lax` made of the primitives' NumPy references (the oracle). With `noise=(rng, eps)` every
    rounded result is perturbed by up to NOISE_ULPS * eps relative (sums: of the sum of magnitudes),
    a model of another implementation's rounding used to find ill-conditioned outputs."""

    NOISE_ULPS = 4.0

    def __init__(self, noise=None):
        self.noise = noise

    def __getattr__(self, name):
        spec = _spec(name)

        def call(*args, **params):
            args = [np.asarray(a) for a in args]
            p = fd.np_params(params)
            out = spec.reference(*args, **p)
            if self.noise is not None and (spec.name in _ROUNDED or spec.name in _SUMS):
                out = self._perturb(spec, args, p, np.asarray(out))
            if spec.multiple_results:
                return [np.asarray(o) for o in out]
            return np.asarray(out)

        return call

    def _perturb(self, spec, args, params, out):
        if out.dtype.kind != "f" or out.size == 0:
            return out
        rng, eps = self.noise
        if spec.name in _SUMS:
            mags = [np.abs(a) if a.dtype.kind == "f" else a for a in args]
            scale = np.abs(np.asarray(spec.reference(*mags, **params), np.float64))
        elif spec.name in ("sin", "cos"):  # f32 range reduction: absolute error ~ eps * |x|
            scale = np.maximum(np.abs(out), np.abs(args[0]))
        else:
            scale = np.abs(out)
        if spec.name in ("reduce_prod", "cumprod"):
            scale = scale * max(1, args[0].size)
        return out + scale * eps * self.NOISE_ULPS * rng.uniform(-1, 1, out.shape)


class _SlopeLax:
    """slope.lax, with NumPy operands (the programs' integer index constants) made tensors."""
    def __getattr__(self, name):
        f = getattr(lax, name)

        def call(*args, **params):
            return f(*[slope.tensor(a) if isinstance(a, np.ndarray) else a for a in args], **params)

        return call


SLOPE_LAX = _SlopeLax()


def compile_source(source: str):
    """The function a program's source defines."""
    ns = {"np": np, "slope": slope}
    exec(compile(source, "<slope program>", "exec"), ns)  # noqa: S102 - our own generated text
    return ns["program"]


# ================================================================ program structure


@dataclass
class Value:
    name: str
    shape: tuple
    dtype: str  # the program's float dtype, or "bool"
    lo: float = 0.0  # bounds on the values (interval arithmetic; floats only)
    hi: float = 0.0

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def is_float(self):
        return self.dtype in ("float32", "float64")


@dataclass(frozen=True)
class Full:
    """A constant operand: lax.full(shape=..., value=..., dtype=F)."""
    shape: tuple
    value: float


@dataclass(frozen=True, eq=False)
class Const:
    """An integer constant operand (gather/scatter indices, dynamic_slice starts)."""
    array: np.ndarray


@dataclass
class Node:
    op: str
    args: list  # value names, Full or Const
    params: dict
    outs: list  # value names

    def render(self):
        args = [a if isinstance(a, str) else _render_arg(a) for a in self.args]
        args += [f"{k}={_render_param(v)}" for k, v in self.params.items()]
        lhs = ", ".join(self.outs) + ("," if len(self.outs) == 1 and _spec(self.op).multiple_results else "")
        return f"{lhs} = lax.{self.op}({', '.join(args)})"


def _render_arg(a):
    if isinstance(a, Full):
        return f"lax.full(shape={a.shape!r}, value={a.value!r}, dtype=F)"
    return fmt_array(a.array)


def _render_param(v):
    if isinstance(v, DType):
        return f"slope.{v.name}"
    if isinstance(v, tuple):
        inner = ", ".join(_render_param(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    return repr(v)


@dataclass
class Program:
    dtype: str
    inputs: list  # Values
    nodes: list
    outputs: list  # value names
    values: dict = field(default_factory=dict)  # name -> Value

    def source(self) -> str:
        lines = [f"def program(lax, {', '.join(v.name for v in self.inputs)}):",
                 f"    F = {self.inputs[0].name}.dtype"]
        lines += ["    " + n.render() for n in self.nodes]
        lines.append(f"    return [{', '.join(self.outputs)}]")
        return "\n".join(lines) + "\n"

    def copy(self) -> "Program":
        return Program(self.dtype, list(self.inputs), [replace(n, args=list(n.args), params=dict(n.params),
                                                               outs=list(n.outs)) for n in self.nodes],
                       list(self.outputs), dict(self.values))

    def prune(self) -> "Program":
        """Drop nodes whose results are not needed for the outputs, and inputs nothing uses (one kept)."""
        need = set(self.outputs)
        keep = []
        for n in reversed(self.nodes):
            if any(o in need for o in n.outs):
                keep.append(n)
                need.update(a for a in n.args if isinstance(a, str))
        self.nodes = keep[::-1]
        used = [v for v in self.inputs if v.name in need]
        self.inputs = used or self.inputs[:1]
        return self


# ================================================================ the generator

def _iv(*xs):
    xs = [float(x) for x in xs]
    return min(xs), max(xs)


def _mag(v):
    return max(abs(v.lo), abs(v.hi))


def _logistic(x):
    return 1 / (1 + math.exp(-x))


# unary elementwise: name -> (domain(lo, hi), image(lo, hi))
UNARY = {
    "neg": (lambda lo, hi: True, lambda lo, hi: (-hi, -lo)),
    "exp": (lambda lo, hi: hi <= 3, lambda lo, hi: (math.exp(lo), math.exp(hi))),
    "log": (lambda lo, hi: lo >= 0.1, lambda lo, hi: (math.log(lo), math.log(hi))),
    "sqrt": (lambda lo, hi: lo >= 0.05, lambda lo, hi: (math.sqrt(lo), math.sqrt(hi))),
    "rsqrt": (lambda lo, hi: lo >= 0.1, lambda lo, hi: (1 / math.sqrt(hi), 1 / math.sqrt(lo))),
    "tanh": (lambda lo, hi: True, lambda lo, hi: (math.tanh(lo), math.tanh(hi))),
    "logistic": (lambda lo, hi: True, lambda lo, hi: (_logistic(lo), _logistic(hi))),
    "sin": (lambda lo, hi: True, lambda lo, hi: (-1.0, 1.0)),
    "cos": (lambda lo, hi: True, lambda lo, hi: (-1.0, 1.0)),
    "abs": (lambda lo, hi: True, lambda lo, hi: (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi)))),
    "expm1": (lambda lo, hi: hi <= 3, lambda lo, hi: (math.expm1(lo), math.expm1(hi))),
    "log1p": (lambda lo, hi: lo >= -0.5, lambda lo, hi: (math.log1p(lo), math.log1p(hi))),
    "erf": (lambda lo, hi: True, lambda lo, hi: (math.erf(lo), math.erf(hi))),
    "tan": (lambda lo, hi: -1.2 <= lo and hi <= 1.2, lambda lo, hi: (math.tan(lo), math.tan(hi))),
    "floor": (lambda lo, hi: True, lambda lo, hi: (math.floor(lo), math.floor(hi))),
    "round": (lambda lo, hi: True, lambda lo, hi: (round(lo) - 1.0, round(hi) + 1.0)),
    "sign": (lambda lo, hi: True, lambda lo, hi: (-1.0, 1.0)),
}
POSITIVE_UNARY = ("log", "sqrt", "rsqrt")


def _away_from_zero(v):
    return v.lo >= 0.25 or v.hi <= -0.25


def _positive(v):
    return v.lo >= 0.25


def _bin_image(op, a, b):
    if op == "add":
        return a.lo + b.lo, a.hi + b.hi
    if op == "sub":
        return a.lo - b.hi, a.hi - b.lo
    if op == "mul":
        return _iv(a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
    if op == "div":
        return _iv(a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi)
    if op == "maximum":
        return max(a.lo, b.lo), max(a.hi, b.hi)
    if op == "minimum":
        return min(a.lo, b.lo), min(a.hi, b.hi)
    if op == "pow":  # base > 0: x ** y = exp(y log x), extremes at the corners
        return _iv(*[math.exp(y * math.log(x)) for x in (a.lo, a.hi) for y in (b.lo, b.hi)])
    if op == "atan2":
        return -math.pi / 2, math.pi / 2
    raise KeyError(op)


BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "pow", "atan2")


class GeneratorBug(Exception):
    """The generator built an ill-typed node (a bug here, not in slope)."""


class _Reject(Exception):
    """The drawn op does not fit here (shape, domain or magnitude); the generator draws another."""


class HypothesisChoices:
    """Choices drawn with Hypothesis's `draw` (so Hypothesis can shrink them)."""
    def __init__(self, draw):
        self.draw = draw

    def int(self, lo, hi):
        from hypothesis import strategies as st

        return self.draw(st.integers(lo, hi))

    def choice(self, seq):
        from hypothesis import strategies as st

        return self.draw(st.sampled_from(list(seq)))

    def perm(self, seq):
        from hypothesis import strategies as st

        return list(self.draw(st.permutations(list(seq))))


class RandomChoices:
    """Uniform choices from a NumPy generator: the batch runner's (Hypothesis's generation favours
    its first choices, which repeats programs in long runs)."""

    def __init__(self, rng):
        self.rng = rng

    def int(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, seq):
        seq = list(seq)
        return seq[int(self.rng.integers(0, len(seq)))]

    def perm(self, seq):
        seq = list(seq)
        return [seq[i] for i in self.rng.permutation(len(seq))]


class Gen:
    """Generator state: the program built so far; every choice goes through `choices`."""
    def __init__(self, choices, dtype, large=False):
        self.choices, self.dtype = choices, dtype
        self.dims, self.max_size = (LARGE_DIMS, LARGE_MAX_SIZE) if large else (DIMS, MAX_SIZE)
        self.values: dict = {}
        self.order: list = []  # float value names in creation order
        self.nodes: list = []
        self.inputs: list = []
        self.consumed: set = set()
        self._n = 0

    def int(self, lo, hi):
        return self.choices.int(lo, hi)

    def choice(self, seq):
        return self.choices.choice(seq)

    def perm(self, seq):
        return self.choices.perm(seq)

    def coin(self, p_true=0.5):
        # a biased boolean that shrinks to False
        return self.int(0, 999) < int(1000 * p_true)

    def subset(self, seq, nonempty=True):
        seq = list(seq)
        pick = [x for x in seq if self.coin()]
        if nonempty and not pick and seq:
            pick = [seq[self.int(0, len(seq) - 1)]]
        return tuple(pick)

    def shape(self, max_rank=3):
        r = self.int(0, max_rank)
        return tuple(self.choice(self.dims) for _ in range(r))

    # -- values
    def fresh(self, prefix="v"):
        name = f"{prefix}{self._n}"
        self._n += 1
        return name

    def add_input(self, shape, lo, hi):
        v = Value(self.fresh("x"), tuple(shape), self.dtype, lo, hi)
        self.values[v.name] = v
        self.order.append(v.name)
        self.inputs.append(v)
        return v

    def emit(self, op, args, params, outs):
        """Append a node; outs: [(shape, dtype or None, lo, hi)] -> the new Values."""
        made = []
        for shape, dtype, lo, hi in outs:
            shape = tuple(int(s) for s in shape)
            if math.prod(shape) > self.max_size or len(shape) > MAX_RANK or 0 in shape:
                raise _Reject(f"{op}: result shape {shape}")
            if dtype not in ("bool", "int32") and (not (math.isfinite(lo) and math.isfinite(hi)) or max(abs(lo), abs(hi)) > CAP):
                raise _Reject(f"{op}: magnitude")
            made.append(Value(self.fresh(), shape, dtype or self.dtype, float(lo), float(hi)))
        self._validate(op, args, params, made)
        for a in args:
            if isinstance(a, str):
                self.consumed.add(a)
        self.nodes.append(Node(op, list(args), dict(params), [v.name for v in made]))
        for v in made:
            self.values[v.name] = v
            if v.is_float:
                self.order.append(v.name)
        return made if len(made) > 1 else made[0]

    def _validate(self, op, args, params, made):
        """The primitive's own shape rule must agree with the generator's: a generator bug otherwise."""
        avals = []
        for a in args:
            if isinstance(a, str):
                v = self.values[a]
                avals.append(Aval(v.shape, dt.dtype(v.dtype)))
            elif isinstance(a, Full):
                avals.append(Aval(a.shape, dt.dtype(self.dtype)))
            else:
                avals.append(Aval(a.array.shape, dt.dtype(a.array.dtype.name)))
        try:
            outs = _spec(op).abstract_eval(*avals, **params)
        except Exception as e:  # noqa: BLE001
            raise GeneratorBug(f"{op}{params} on {avals}: {e}") from e
        got = [(tuple(o.shape), o.dtype.name) for o in outs]
        want = [(v.shape, v.dtype) for v in made]
        if got != want:
            raise GeneratorBug(f"{op}{params} on {avals}: the shape rule gives {got}, the generator {want}")

    def pick(self, pred=lambda v: True):
        """A float value satisfying pred, most recent first (shrinks to the most recent)."""
        cands = [self.values[n] for n in reversed(self.order) if pred(self.values[n])]
        if not cands:
            raise _Reject("no operand fits")
        unused = [v for v in self.inputs if v.name not in self.consumed and pred(v)]
        if unused and self.coin(0.3):  # inputs nothing reads yet (else programs use one input mostly)
            return unused[self.int(0, len(unused) - 1)]
        if self.coin(0.7):
            return cands[self.int(0, min(3, len(cands)) - 1)]
        return cands[self.int(0, len(cands) - 1)]

    # -- making operands fit
    def coerce(self, v, shape):
        """A value of `shape` made from v: itself, a reshape, a broadcast, or a broadcast of its sum."""
        shape = tuple(shape)
        if v.shape == shape:
            return v
        if v.size == math.prod(shape) and self.coin(0.7):
            return self.emit("reshape", [v.name], {"shape": shape}, [(shape, None, v.lo, v.hi)])
        dims = _broadcast_dims(v.shape, shape)
        if dims is not None:
            return self.emit("broadcast_in_dim", [v.name], {"shape": shape, "broadcast_dimensions": dims},
                             [(shape, None, v.lo, v.hi)])
        op = self.choice(["reduce_sum", "reduce_max", "reduce_min"])
        lo, hi = (v.lo * v.size, v.hi * v.size) if op == "reduce_sum" else (v.lo, v.hi)
        s = self.emit(op, [v.name], {"axes": tuple(range(v.ndim))}, [((), None, min(lo, hi), max(lo, hi))])
        if shape == ():
            return s
        return self.emit("broadcast_in_dim", [s.name], {"shape": shape, "broadcast_dimensions": ()},
                         [(shape, None, s.lo, s.hi)])

    def positivize(self, v):
        """exp(v) or exp(tanh(v)): a value in a positive range away from 0 (for log, div, pow...)."""
        if -2 <= v.lo and v.hi <= 2 and self.coin():
            return self.emit("exp", [v.name], {}, [(v.shape, None, math.exp(v.lo), math.exp(v.hi))])
        t = self.emit("tanh", [v.name], {}, [(v.shape, None, math.tanh(v.lo), math.tanh(v.hi))])
        return self.emit("exp", [t.name], {}, [(v.shape, None, math.exp(t.lo), math.exp(t.hi))])

    def partner(self, a, need=None):
        """A second operand with a's shape: another value, a itself (fan-out), or a constant."""
        k = self.int(0, 9)
        if k < 6:
            same = [self.values[n] for n in self.order if self.values[n].shape == a.shape and n != a.name]
            b = self.coerce(self.pick(), a.shape) if not same or self.coin() else same[self.int(0, len(same) - 1)]
        elif k < 8:
            b = a
        else:
            c = self.choice([0.5, 2.0, -1.5, 0.75])
            return Full(a.shape, c), Value("const", a.shape, self.dtype, c, c)
        if need is not None and not need(b):
            b = self.positivize(b)
            if not need(b):
                raise _Reject("no partner in the domain")
        return b.name, b


def _broadcast_dims(src, dst):
    """Increasing positions of src's dims in dst (each dim 1 or equal), or None."""
    if len(src) > len(dst):
        return None
    dims, j = [], 0
    for s in src:
        while j < len(dst) and not (s == dst[j] or s == 1):
            j += 1
        if j == len(dst):
            return None
        dims.append(j)
        j += 1
    return tuple(dims)


# ---------------------------------------------------------------- builders (one per op family)


def b_unary(g: Gen):
    op = g.choice(list(UNARY))
    dom, img = UNARY[op]
    x = g.pick()
    if not dom(x.lo, x.hi):
        if op in POSITIVE_UNARY:
            x = g.positivize(x)
            if not dom(x.lo, x.hi):
                raise _Reject(op)
        elif op in ("exp", "expm1", "tan"):
            x = g.emit("tanh", [x.name], {}, [(x.shape, None, math.tanh(x.lo), math.tanh(x.hi))])
        else:
            raise _Reject(op)
    lo, hi = img(x.lo, x.hi)
    g.emit(op, [x.name], {}, [(x.shape, None, lo, hi)])


def b_binary(g: Gen):
    op = g.choice(BINARY)
    a = g.pick()
    need = {"div": _away_from_zero, "pow": None, "atan2": _positive}.get(op)
    if op == "pow":
        a = a if _positive(a) else g.positivize(a)
        if not _positive(a):
            raise _Reject("pow base")
        need = lambda v: -3 <= v.lo and v.hi <= 3  # noqa: E731
    arg, b = g.partner(a, need)
    if op in ("div", "atan2", "pow") and need is not None and not need(b):
        raise _Reject(op)
    lo, hi = _bin_image(op, a, b)
    g.emit(op, [a.name, arg], {}, [(a.shape, None, lo, hi)])


def b_select(g: Gen):
    c = g.pick()
    arg_d, d = g.partner(c)
    cmp = g.choice(["lt", "gt", "le", "ge"])
    pred = g.emit(cmp, [c.name, arg_d], {}, [(c.shape, "bool", 0, 0)])
    t = g.coerce(g.pick(), c.shape)
    arg_f, f = g.partner(t)
    g.emit("select", [pred.name, t.name, arg_f], {}, [(c.shape, None, min(t.lo, f.lo), max(t.hi, f.hi))])


def b_clamp(g: Gen):
    x = g.pick()
    lo, hi = sorted([g.choice([-1.0, -0.5, 0.0, 0.25]), g.choice([0.5, 1.0, 1.5])])
    g.emit("clamp", [Full(x.shape, lo), x.name, Full(x.shape, hi)], {},
           [(x.shape, None, min(max(x.lo, lo), hi), max(min(x.hi, hi), lo))])


def b_reduce(g: Gen):
    op = g.choice(["reduce_sum", "reduce_max", "reduce_min", "reduce_prod"])
    x = g.pick(lambda v: v.ndim >= 1)
    axes = tuple(sorted(g.subset(range(x.ndim))))
    n = math.prod(x.shape[a] for a in axes)
    shape = tuple(s for i, s in enumerate(x.shape) if i not in axes)
    if op == "reduce_sum":
        lo, hi = _iv(x.lo * n, x.hi * n, x.lo, x.hi)
    elif op == "reduce_prod":
        m = _mag(x) ** n
        lo, hi = (x.lo ** n, x.hi ** n) if x.lo > 0 else (-m, m)
        if not 0.05 <= _mag(x) or m > CAP:
            raise _Reject("reduce_prod magnitude")
    else:
        lo, hi = x.lo, x.hi
    g.emit(op, [x.name], {"axes": axes}, [(shape, None, lo, hi)])


def b_reduction_two_ways(g: Gen):
    """A reduction read through two different broadcasts by one op (`s[None, :] - s[:, None]`, or a
    broadcast and its transposed twin): IREE 3.13 fused the reduce into that consumer and got only the
    diagonal right (docs/stablehlo-notes.md §29); eigh's Hessian-vector product made one."""
    op = g.choice(["reduce_sum", "reduce_max", "reduce_min"])
    x = g.pick(lambda v: v.ndim >= 2)
    keep = g.int(0, x.ndim - 1)
    axes = tuple(a for a in range(x.ndim) if a != keep)
    n = x.shape[keep]
    m = math.prod(x.shape[a] for a in axes)
    lo, hi = _iv(x.lo * m, x.hi * m, x.lo, x.hi) if op == "reduce_sum" else (x.lo, x.hi)
    s = g.emit(op, [x.name], {"axes": axes}, [((n,), None, lo, hi)])
    rows = g.emit("broadcast_in_dim", [s.name], {"shape": (n, n), "broadcast_dimensions": (0,)}, [((n, n), None, lo, hi)])
    cols = g.emit("broadcast_in_dim", [s.name], {"shape": (n, n), "broadcast_dimensions": (1,)}, [((n, n), None, lo, hi)])
    combine = g.choice(["sub", "add", "mul"])
    out_lo, out_hi = _bin_image(combine, rows, cols)
    g.emit(combine, [rows.name, cols.name], {}, [((n, n), None, out_lo, out_hi)])


def b_scan(g: Gen):
    op = g.choice(["cumsum", "cummax", "cummin", "cumprod"])
    x = g.pick(lambda v: v.ndim >= 1)
    axis = g.int(0, x.ndim - 1)
    n = x.shape[axis]
    if op == "cumsum":
        lo, hi = _iv(x.lo * n, x.hi * n, x.lo, x.hi)
    elif op == "cumprod":
        m = max(1.0, _mag(x)) ** n
        lo, hi = (-m, m) if x.lo <= 0 else _iv(x.lo, x.hi, x.lo ** n, x.hi ** n)
    else:
        lo, hi = x.lo, x.hi
    g.emit(op, [x.name], {"axis": axis, "reverse": g.coin(0.4)}, [(x.shape, None, lo, hi)])


def _factor_shape(g: Gen, size):
    """A random shape with `size` elements."""
    factors = []
    n, p = size, 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    dims = []
    for f in factors:
        if dims and g.coin(0.4):
            dims[g.int(0, len(dims) - 1)] *= f
        else:
            dims.append(f)
    for _ in range(g.int(0, 2)):
        if len(dims) < MAX_RANK:
            dims.insert(g.int(0, len(dims)), 1)
    return tuple(dims)


def b_reshape(g: Gen):
    x = g.pick()
    shape = _factor_shape(g, x.size)
    g.emit("reshape", [x.name], {"shape": shape}, [(shape, None, x.lo, x.hi)])


def b_transpose(g: Gen):
    x = g.pick(lambda v: v.ndim >= 2)
    perm = tuple(g.perm(list(range(x.ndim))))
    g.emit("transpose", [x.name], {"perm": perm}, [(tuple(x.shape[p] for p in perm), None, x.lo, x.hi)])


def b_broadcast(g: Gen):
    x = g.pick(lambda v: v.ndim < MAX_RANK)
    k = g.int(0 if 1 in x.shape else 1, min(2, MAX_RANK - x.ndim))
    rank = x.ndim + k
    dims = tuple(sorted(g.perm(list(range(rank)))[:x.ndim]))
    shape = [0] * rank
    for i, d in enumerate(dims):
        shape[d] = x.shape[i] if x.shape[i] != 1 or not g.coin(0.6) else g.choice([2, 3])
    for d in range(rank):
        if shape[d] == 0:
            shape[d] = g.choice([1, 2, 3])
    g.emit("broadcast_in_dim", [x.name], {"shape": tuple(shape), "broadcast_dimensions": dims},
           [(shape, None, x.lo, x.hi)])


def b_slice(g: Gen):
    x = g.pick(lambda v: v.ndim >= 1 and v.size > 1)
    start, limit, strides = [], [], []
    for n in x.shape:
        a = g.int(0, n - 1)
        b = g.int(a + 1, n)
        start.append(a)
        limit.append(b)
        strides.append(g.choice([1, 2, 1, 3]))
    shape = [-(-(b - a) // s) for a, b, s in zip(start, limit, strides)]
    params = {"start_indices": tuple(start), "limit_indices": tuple(limit)}
    if any(s != 1 for s in strides) or g.coin():
        params["strides"] = tuple(strides)
    g.emit("slice", [x.name], params, [(shape, None, x.lo, x.hi)])


def b_pad(g: Gen):
    x = g.pick(lambda v: v.ndim >= 1)
    low, high, interior, shape = [], [], [], []
    for n in x.shape:
        it = g.choice([0, 0, 1, 2])
        full = n + max(n - 1, 0) * it
        lo = g.int(-min(2, full - 1), 2)
        hi = g.int(-min(2, full + lo - 1), 2)
        low.append(lo)
        high.append(hi)
        interior.append(it)
        shape.append(full + lo + hi)
    if any(g.values[n].ndim == 0 for n in g.order) and g.coin(0.3):
        pv = g.pick(lambda v: v.ndim == 0)
        arg, plo, phi = pv.name, pv.lo, pv.hi
    else:
        c = g.choice([0.0, 0.5, -1.0])
        arg, plo, phi = Full((), c), c, c
    g.emit("pad", [x.name, arg], {"low": tuple(low), "high": tuple(high), "interior": tuple(interior)},
           [(shape, None, min(x.lo, plo), max(x.hi, phi))])


def b_rev(g: Gen):
    x = g.pick(lambda v: v.ndim >= 1)
    dims = tuple(sorted(g.subset(range(x.ndim))))
    g.emit("rev", [x.name], {"dimensions": dims}, [(x.shape, None, x.lo, x.hi)])


def b_concatenate(g: Gen):
    x = g.pick(lambda v: v.ndim >= 1)
    d = g.int(0, x.ndim - 1)
    args, vals = [x.name], [x]
    for _ in range(g.int(1, 2)):
        if g.coin(0.3):
            args.append(x.name)
            vals.append(x)
            continue
        shape = list(x.shape)
        shape[d] = g.choice([1, 2, 3])
        v = g.coerce(g.pick(), shape)
        args.append(v.name)
        vals.append(v)
    shape = list(x.shape)
    shape[d] = sum(v.shape[d] for v in vals)
    g.emit("concatenate", args, {"dimension": d},
           [(shape, None, min(v.lo for v in vals), max(v.hi for v in vals))])


def b_squeeze_expand(g: Gen):
    x = g.pick()
    ones = [i for i, s in enumerate(x.shape) if s == 1]
    if ones and g.coin():
        dims = tuple(sorted(g.subset(ones)))
        shape = tuple(s for i, s in enumerate(x.shape) if i not in dims)
        g.emit("squeeze", [x.name], {"dimensions": dims}, [(shape, None, x.lo, x.hi)])
        return
    k = g.int(1, 2)
    if x.ndim + k > MAX_RANK:
        raise _Reject("expand_dims rank")
    rank = x.ndim + k
    dims = tuple(sorted(g.perm(list(range(rank)))[:k]))
    shape, it = [], iter(x.shape)
    for i in range(rank):
        shape.append(1 if i in dims else next(it))
    g.emit("expand_dims", [x.name], {"dimensions": dims}, [(shape, None, x.lo, x.hi)])


def b_dot_general(g: Gen):
    x = g.pick()
    roles = [g.choice("cfb") for _ in range(x.ndim)]  # contracting, free, batch
    xc = tuple(i for i, r in enumerate(roles) if r == "c")
    xb = tuple(i for i, r in enumerate(roles) if r == "b")
    yfree = [g.choice([1, 2, 3]) for _ in range(g.int(0, 2))]
    # rhs dims: batch (sizes of x's), contracting (x's, in a random order), free; then permuted
    c_order = list(g.perm(list(xc))) if xc else []
    labels = [("b", i) for i in xb] + [("c", i) for i in c_order] + [("f", k) for k in range(len(yfree))]
    perm = list(g.perm(list(range(len(labels))))) if labels else []
    ylabels = [labels[p] for p in perm]
    yshape = tuple(x.shape[i] if kind != "f" else yfree[i] for kind, i in ylabels)
    yc = tuple(ylabels.index(("c", i)) for i in xc)
    yb = tuple(ylabels.index(("b", i)) for i in xb)
    y = g.coerce(g.pick(), yshape)
    k = math.prod(x.shape[i] for i in xc)
    m = k * _mag(x) * _mag(y)
    lo, hi = (0.0, m) if (x.lo >= 0 and y.lo >= 0) else (-m, m)
    shape = ([x.shape[i] for i in xb] + [x.shape[i] for i, r in enumerate(roles) if r == "f"]
             + [yshape[j] for j in range(len(yshape)) if j not in yc and j not in yb])
    g.emit("dot_general", [x.name, y.name], {"contracting_dims": (xc, yc), "batch_dims": (xb, yb)},
           [(shape, None, lo, hi)])


def _indices(g: Gen, batch, dims):
    rng = np.random.default_rng(g.int(0, 2 ** 31 - 1))
    cols = [rng.integers(0, n, size=batch) for n in dims]
    return np.stack(cols, axis=-1).astype(np.int32)


def b_gather(g: Gen):
    x = g.pick(lambda v: v.ndim >= 1)
    k = g.int(1, x.ndim)
    batch = g.choice([(1,), (2,), (3,), (2, 2)])
    idx = _indices(g, batch, x.shape[:k])
    g.emit("gather", [x.name, Const(idx)], {}, [(batch + x.shape[k:], None, x.lo, x.hi)])


def b_dynamic_slice(g: Gen):
    x = g.pick(lambda v: v.ndim >= 1)
    sizes = tuple(g.int(1, n) for n in x.shape)
    starts = [Const(np.asarray(g.int(0, n - z), np.int32)) for n, z in zip(x.shape, sizes)]
    g.emit("dynamic_slice", [x.name, *starts], {"slice_sizes": sizes}, [(sizes, None, x.lo, x.hi)])


def b_dynamic_update_slice(g: Gen):
    x = g.pick(lambda v: v.ndim >= 1)
    sizes = tuple(g.int(1, n) for n in x.shape)
    u = g.coerce(g.pick(), sizes)
    starts = [Const(np.asarray(g.int(0, n - z), np.int32)) for n, z in zip(x.shape, sizes)]
    g.emit("dynamic_update_slice", [x.name, u.name, *starts], {},
           [(x.shape, None, min(x.lo, u.lo), max(x.hi, u.hi))])


def b_scatter_add(g: Gen):
    """scatter_add, or scatter (replace: on duplicate rows the last wins)."""
    x = g.pick(lambda v: v.ndim >= 1)
    k = g.int(1, x.ndim)
    batch = g.choice([(1,), (2,), (3,)])
    idx = _indices(g, batch, x.shape[:k])
    u = g.coerce(g.pick(), batch + x.shape[k:])
    n = batch[0]
    if g.coin(0.3):
        g.emit("scatter", [x.name, Const(idx), u.name], {}, [(x.shape, None, min(x.lo, u.lo), max(x.hi, u.hi))])
        return
    g.emit("scatter_add", [x.name, Const(idx), u.name], {},
           [(x.shape, None, *_iv(x.lo + n * min(u.lo, 0), x.hi + n * max(u.hi, 0)))])


def b_argmax_gather(g: Gen):
    """Rows of a value picked by computed indices: gather(y, expand_dims(argmax(x, axis))) where
    y is x with the axis moved to the front (integer values flowing into an index)."""
    x = g.pick(lambda v: v.ndim >= 1)
    axis = g.int(0, x.ndim - 1)
    op = g.choice(["argmax", "argmin"])
    rest = tuple(s for i, s in enumerate(x.shape) if i != axis)
    idx = g.emit(op, [x.name], {"axis": axis, "index_dtype": dt.int32}, [(rest, "int32", 0, 0)])
    ind = g.emit("expand_dims", [idx.name], {"dimensions": (len(rest),)}, [(rest + (1,), "int32", 0, 0)])
    y = x
    if axis != 0:
        perm = (axis,) + tuple(i for i in range(x.ndim) if i != axis)
        y = g.emit("transpose", [x.name], {"perm": perm}, [(tuple(x.shape[p] for p in perm), None, x.lo, x.hi)])
    g.emit("gather", [y.name, ind.name], {}, [(rest + y.shape[1:], None, x.lo, x.hi)])


def b_sort(g: Gen):
    x = g.pick(lambda v: v.ndim >= 1)
    d = g.int(0, x.ndim - 1)
    if g.coin(0.4):
        arg, y = g.partner(x)
        if not isinstance(arg, str):
            raise _Reject("sort of a constant")
        g.emit("sort", [x.name, y.name], {"dimension": d, "num_keys": 1},
               [(x.shape, None, x.lo, x.hi), (x.shape, None, y.lo, y.hi)])
    else:
        g.emit("sort", [x.name], {"dimension": d, "num_keys": 1}, [(x.shape, None, x.lo, x.hi)])


def b_conv(g: Gen):
    x = g.pick(lambda v: v.size >= 2)
    nsp = g.int(1, 2)
    if x.ndim != nsp + 2:  # reshape into (N, C, *spatial)
        shape = _conv_shape(g, x.size, nsp)
        x = g.emit("reshape", [x.name], {"shape": shape}, [(shape, None, x.lo, x.hi)])
    n, c, *sp = x.shape
    groups = g.choice([d for d in range(1, c + 1) if c % d == 0])
    o = groups * g.int(1, 2)
    ks, strides, pads, ld, rd, out = [], [], [], [], [], []
    for size in sp:
        ldil = g.choice([1, 1, 2])
        dil = (size - 1) * ldil + 1
        k = g.int(1, min(3, dil))
        rdil = g.choice([1, 1, 2]) if (k - 1) * 2 + 1 <= dil else 1
        eff = (k - 1) * rdil + 1
        lo, hi = g.int(-1, 1), g.int(-1, 2)
        if dil + lo + hi < eff:
            lo, hi = 0, 0
        s = g.choice([1, 1, 2])
        out.append((dil + lo + hi - eff) // s + 1)
        ks.append(k)
        strides.append(s)
        pads.append((lo, hi))
        ld.append(ldil)
        rd.append(rdil)
    wshape = (o, c // groups, *ks)
    w = g.coerce(g.pick(), wshape)
    m = (c // groups) * math.prod(ks) * _mag(x) * _mag(w)
    params = {"window_strides": tuple(strides), "padding": tuple(pads), "lhs_dilation": tuple(ld),
              "rhs_dilation": tuple(rd), "feature_group_count": groups}
    g.emit("conv", [x.name, w.name], params, [((n, o, *out), None, -m, m)])


def _conv_shape(g: Gen, size, nsp):
    """A shape (N, C, *spatial) with `size` elements."""
    def divisors(m):
        return [d for d in range(1, m + 1) if m % d == 0]

    n = g.choice(divisors(size)[:3])
    c = g.choice(divisors(size // n))
    rest = size // n // c
    if nsp == 1:
        return (n, c, rest)
    h = g.choice(divisors(rest))
    return (n, c, h, rest // h)


BUILDERS = {  # name -> (builder, weight); shrinking prefers the first ones
    "unary": (b_unary, 6), "binary": (b_binary, 6), "reduce": (b_reduce, 3), "reshape": (b_reshape, 2),
    "transpose": (b_transpose, 2), "broadcast_in_dim": (b_broadcast, 2), "slice": (b_slice, 2), "pad": (b_pad, 2),
    "rev": (b_rev, 1), "concatenate": (b_concatenate, 2), "squeeze_expand": (b_squeeze_expand, 1),
    "dot_general": (b_dot_general, 3), "select": (b_select, 1), "clamp": (b_clamp, 1), "scan": (b_scan, 2),
    "gather": (b_gather, 2), "dynamic_slice": (b_dynamic_slice, 1), "dynamic_update_slice": (b_dynamic_update_slice, 1),
    "scatter_add": (b_scatter_add, 1), "sort": (b_sort, 2), "conv": (b_conv, 1), "argmax_gather": (b_argmax_gather, 1),
    "reduction_two_ways": (b_reduction_two_ways, 1),
}
_KINDS = [name for name, (_, w) in BUILDERS.items() for _ in range(w)]


def generate(choices, dtypes=("float32", "float64"), min_ops=3, max_ops=10, max_inputs=3, kinds=None) -> "Case":
    """One random Case, every choice made by `choices` (HypothesisChoices or RandomChoices)."""
    c = choices
    dtype = c.choice(dtypes)
    g = Gen(c, dtype, large=c.int(0, 99) < 100 * LARGE_FRACTION)
    for _ in range(c.choice([n for n in (1, 2, 2, 3, 3) if n <= max_inputs])):
        lo, hi = c.choice(DOMAINS)
        g.add_input(g.shape(), lo, hi)
    n_ops = c.int(min_ops, max_ops)
    pool = _KINDS if kinds is None else [k for k in _KINDS if k in kinds]
    for _ in range(60):
        if len(g.nodes) >= n_ops:
            break
        mark = (len(g.nodes), dict(g.values), list(g.order), set(g.consumed), g._n)
        try:
            BUILDERS[c.choice(pool)][0](g)
        except _Reject:
            g.nodes = g.nodes[:mark[0]]
            g.values, g.order, g.consumed, g._n = mark[1], mark[2], mark[3], mark[4]
    if not g.nodes:
        x = g.inputs[0]
        g.emit("neg", [x.name], {}, [(x.shape, None, -x.hi, -x.lo)])
    last = [o for o in g.nodes[-1].outs if g.values[o].is_float]
    dangling = [n for n in g.order if n not in g.consumed and n not in last
                and n not in {v.name for v in g.inputs}]
    extra = min(len(dangling), 3 - len(last), c.int(0, 2))
    outputs = last[:3] + (dangling[len(dangling) - extra:] if extra > 0 else [])
    if c.int(0, 9) < 3:  # reduce the first output to a scalar
        v = g.values[outputs[0]]
        if v.ndim and v.size * _mag(v) <= CAP:
            s = g.emit("reduce_sum", [v.name], {"axes": tuple(range(v.ndim))},
                       [((), None, *_iv(v.lo * v.size, v.hi * v.size))])
            outputs[0] = s.name
    program = Program(dtype, g.inputs, g.nodes, outputs, g.values).prune()
    return make_case(program, c.int(0, 2 ** 32 - 1), c.int(0, 2 ** 16))


def programs(dtypes=("float32", "float64"), min_ops=3, max_ops=10, max_inputs=3, kinds=None):
    """Hypothesis strategy for random well-typed Cases (a program plus its data)."""
    from hypothesis import strategies as st

    return st.composite(lambda draw: generate(HypothesisChoices(draw), dtypes, min_ops, max_ops, max_inputs, kinds))()


def random_cases(n, seed, start=0, **kw) -> list:
    """Cases start .. start + n - 1 of the random stream `seed` (case i is drawn from a NumPy
    generator seeded with [seed, i], so `random_cases(1, seed, i)` reproduces it alone)."""
    return [generate(RandomChoices(np.random.default_rng([seed, i])), **kw) for i in range(start, start + n)]


# ================================================================ cases: program + data


@dataclass
class Case:
    """A program's source and concrete data: a runnable repro (`repr`) and what the checks need.

    inputs    one array per program input (program's dtype)
    weights   one array per output: the grad checks differentiate sum_k sum(out_k * weights_k)
    tangents  one array per input, for the jvp check
    in_axes   per input: the vmap axis of its batch (negative ones count from the end), or None (the
              input is then not mapped)
    batch     per input: VMAP_BATCH fresh inputs stacked at in_axes[i], or None
    out_axes  per output: where vmap puts the batch dim (negative: from the end); () means all 0
    """

    source: str
    dtype: str
    inputs: list
    weights: list
    tangents: list
    in_axes: tuple
    batch: list
    program: Optional[Program] = field(default=None, repr=False, compare=False)
    domains: Optional[list] = field(default=None, repr=False, compare=False)
    out_axes: tuple = ()

    def __post_init__(self):
        self._fn = None

    @property
    def fn(self):
        if self._fn is None:
            self._fn = compile_source(self.source)
        return self._fn

    @property
    def n_ops(self):
        return sum(1 for line in self.source.splitlines() if " = lax." in line)

    def __repr__(self):
        def arrs(xs):
            return "[" + ", ".join(fmt_array(x) for x in xs) + "]"  # fmt_array(None) is "None"

        return (f"Case(source={self.source!r},\n     dtype={self.dtype!r},\n     inputs={arrs(self.inputs)},\n"
                f"     weights={arrs(self.weights)},\n     tangents={arrs(self.tangents)},\n"
                f"     in_axes={self.in_axes!r},\n     batch={arrs(self.batch)}"
                + (f",\n     out_axes={self.out_axes!r})" if self.out_axes else ")"))

    def repro(self, checks=CHECKS) -> str:
        """A runnable script: the program (as source), its data, and the checks that failed."""
        case = self
        staged = set(checks) | set(_jit_parts(checks))  # jit_repeat stages every jit part, vmap too
        if not {"vmap", "vmap_grad"} & staged:  # leave out the batch no check reads
            case = replace(self, in_axes=(None,) * len(self.inputs), batch=[None] * len(self.inputs), out_axes=())
        return ("import numpy as np\nfrom slope.testing.programs import Case, check_case\n\n"
                f"# the program under test (the oracle is the same function run with NumpyLax):\n"
                f"{textwrap.indent(self.source, '# ')}"
                f"case = {case!r}\n"
                f"check_case(case, checks={tuple(checks)!r}).raise_failures()\n")


def _draw_in(rng, lo, hi, shape, dtype):
    return np.asarray(rng.uniform(lo, hi, shape)).astype(dtype)


def make_case(program: Program, seed: int, axes_seed: int = 0) -> Case:
    """Data for a program: inputs from their domains, weights and tangents in [-1, 1], a vmap axis
    per input (None for some, never all) and a batch for the mapped ones."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(program.dtype)
    inputs = [_draw_in(rng, v.lo, v.hi, v.shape, dt) for v in program.inputs]
    outs = [program.values[o] for o in program.outputs]
    weights = [_draw_in(rng, -1, 1, v.shape, dt) for v in outs]
    tangents = [_draw_in(rng, -1, 1, v.shape, dt) for v in program.inputs]
    arng = np.random.default_rng(axes_seed)
    axes = [None if (len(inputs) > 1 and arng.random() < 0.3) else int(arng.integers(0, v.ndim + 1))
            for v in program.inputs]
    if all(a is None for a in axes):
        axes[0] = 0
    # negative in_axes (from the end) for some mapped inputs, and a random out_axes per output
    axes = [a - (v.ndim + 1) if (a is not None and arng.random() < 0.3) else a for a, v in zip(axes, program.inputs)]
    out_axes = tuple(int(arng.integers(-(v.ndim + 1), v.ndim + 1)) for v in outs)
    batch = []
    for v, a in zip(program.inputs, axes):
        if a is None:
            batch.append(None)
        else:
            members = [_draw_in(rng, v.lo, v.hi, v.shape, dt) for _ in range(VMAP_BATCH)]
            batch.append(np.stack(members, axis=a))
    return Case(program.source(), program.dtype, inputs, weights, tangents, tuple(axes), batch, program,
                [(v.lo, v.hi) for v in program.inputs], out_axes)


# ================================================================ the truth


@dataclass
class Truth:
    values: list  # oracle outputs in the program's dtype
    values64: list  # oracle outputs in float64
    ok: list  # per output: mask of well-conditioned elements
    grads: Optional[list]  # float64 FD gradient of the loss per input, or None (ill-conditioned)
    grad_skip: str
    jvp: Optional[list]  # float64 FD directional derivative per output, or None
    jvp_skip: str
    vmap: list  # stacked oracle outputs (dtype), the batch dim at the case's out_axes
    vmap64: list
    vmap_ok: list
    jac: Optional[np.ndarray] = None  # float64 FD Jacobian of the flat outputs w.r.t. the flat inputs
    jac_skip: str = ""
    hvp: Optional[np.ndarray] = None  # float64 FD of the FD gradient of the loss along the flat tangents
    hvp_skip: str = ""
    vmap_grads: Optional[list] = None  # per input, the FD gradients of the batch members stacked at 0
    vmap_grads_skip: str = ""


def _noise_eps(dtype):
    return float(np.finfo(np.dtype(dtype)).eps)


def _run_ref(case, xs, lax=None):
    outs = case.fn(lax or NumpyLax(), *xs)
    return [np.asarray(o) for o in outs]


def _conditioned(case, xs, values64, k=4, seed=0):
    """Per output, the elements whose oracle value moves by at most half the value tolerance when
    every rounding is perturbed by a few ulp (K runs)."""
    rng = np.random.default_rng(seed)
    x64 = [np.asarray(x, np.float64) for x in xs]
    spread = [np.zeros(v.shape) for v in values64]
    with np.errstate(all="ignore"):
        for _ in range(k):
            outs = _run_ref(case, x64, NumpyLax((rng, _noise_eps(case.dtype))))
            for s, o, v in zip(spread, outs, values64):
                d = np.abs(o - v)
                s[...] = np.where(np.isnan(d), np.inf, np.maximum(s, d))
    rtol, atol = tolerance(case.dtype, "value")
    return [s <= 0.5 * (atol + rtol * np.abs(v)) for s, v in zip(spread, values64)]


class _Loss:
    """The oracle's loss sum_k sum(out_k * w_k) in float64 as a function of the flat inputs."""
    def __init__(self, case, inputs=None):
        inputs = case.inputs if inputs is None else inputs
        self.case = case
        self.shapes = [x.shape for x in inputs]
        self.sizes = [x.size for x in inputs]
        self.w = [np.asarray(w, np.float64) for w in case.weights]
        self.x0 = np.concatenate([np.asarray(x, np.float64).ravel() for x in inputs])

    def unpack(self, vec):
        out, pos = [], 0
        for s, n in zip(self.shapes, self.sizes):
            out.append(vec[pos:pos + n].reshape(s))
            pos += n
        return out

    def outputs(self, vec):
        return _run_ref(self.case, self.unpack(vec))

    def __call__(self, vec):
        return np.asarray([sum(float(np.sum(o * w)) for o, w in zip(self.outputs(vec), self.w))])


def _fd_checked(F, x, v, dtype):
    """Float64 central difference of F at x along v, or (None, why) when it is ill-conditioned."""
    d = fd.directional(F, x, v, fd.H)
    d_small = fd.directional(F, x, v, fd.H / 10)
    rtol, atol = tolerance(dtype, "grad")
    if not np.all(np.abs(d - d_small) <= 0.25 * (atol + rtol * np.abs(d))):
        return None, "central differences with steps 1e-3 and 1e-4 disagree (a kink or jump within 1e-3)"
    f0 = F(x)
    asym = []
    for h in (1e-6, 1e-7):
        fwd, bwd = (F(x + h * v) - f0) / h, (f0 - F(x - h * v)) / h
        asym.append(np.abs(fwd - bwd))
    noise = 1e-15 * (np.abs(f0) + 1) / 1e-7 * 4
    kink = (asym[1] > 0.5 * asym[0]) & (asym[1] > noise) & (asym[1] > 0.1 * (atol + rtol * np.abs(d)))
    if np.any(kink):
        return None, "one-sided differences differ at steps 1e-6 and 1e-7 alike (a kink at the input)"
    if not np.all(np.isfinite(d)):
        return None, "non-finite finite difference"
    return d, ""


def _fd_grads(loss, dtype):
    """The FD gradient of a _Loss per input (coordinates not differentiated are NaN), or (None, why)."""
    n = loss.x0.size
    coords = range(n) if n <= FD_COORDS else np.sort(np.random.default_rng(0).choice(n, FD_COORDS, False))
    full = np.full(n, np.nan)  # coordinates not differentiated stay NaN (not compared)
    for i in coords:
        e = np.zeros(n)
        e[i] = 1.0
        d, why = _fd_checked(loss, loss.x0, e, dtype)
        if d is None:
            return None, why
        full[i] = d[0]
    return loss.unpack(full), ""


def _fd_jacobian(F, x0, dtype):
    """The FD Jacobian (len(F(x0)) x len(x0)), every column checked by _fd_checked, or (None, why)."""
    cols = []
    for i in range(x0.size):
        e = np.zeros(x0.size)
        e[i] = 1.0
        d, why = _fd_checked(F, x0, e, dtype)
        if d is None:
            return None, why
        cols.append(d)
    return np.stack(cols, axis=1), ""


def _fd_hvp(loss, t, dtype):
    """d/ds grad(loss)(x + s t) by central differences of the FD gradient, with the steps 1e-3 and
    1e-4 agreeing (the gradient has no kink within 1e-3), or (None, why)."""
    def grad(x):
        return fd.jacobian(loss, x)[0]

    d = fd.directional(grad, loss.x0, t, fd.H)
    d_small = fd.directional(grad, loss.x0, t, fd.H / 10)
    rtol, atol = tolerance(HVP_TOLERANCE_DTYPE, "grad2")
    if not np.all(np.isfinite(d)):
        return None, "non-finite finite difference"
    if not np.all(np.abs(d - d_small) <= 0.25 * (atol + rtol * np.abs(d))):
        return None, "second differences with steps 1e-3 and 1e-4 disagree (a kink of the gradient within 1e-3)"
    return d, ""


def _higher_size_ok(case):
    n = sum(np.size(x) for x in case.inputs)
    m = sum(np.size(w) for w in case.weights)
    return n <= HIGHER_MAX_SIZE and m <= HIGHER_MAX_SIZE


_TOO_LARGE = f"more than {HIGHER_MAX_SIZE} input or output elements (the higher checks take small programs)"


def truth(case: Case, checks=CHECKS) -> Truth:
    xs = [np.asarray(x) for x in case.inputs]
    with np.errstate(all="ignore"):
        values = _run_ref(case, xs)
        values64 = _run_ref(case, [x.astype(np.float64) for x in xs])
        ok = _conditioned(case, xs, values64)
        grads, grad_skip, jvp, jvp_skip = None, "", None, ""
        if {"grad_eager", "grad_jit", "hessian", "grad_grad"} & set(checks):
            grads, grad_skip = _fd_grads(_Loss(case), case.dtype)
        if "jvp" in checks:
            loss = _Loss(case)
            F = lambda vec: np.concatenate([o.ravel() for o in loss.outputs(vec)])  # noqa: E731
            t = np.concatenate([np.asarray(t, np.float64).ravel() for t in case.tangents])
            d, jvp_skip = _fd_checked(F, loss.x0, t, case.dtype)
            if d is not None:
                jvp, pos = [], 0
                for v in values64:
                    jvp.append(d[pos:pos + v.size].reshape(v.shape))
                    pos += v.size
        vm, vm64, vm_ok = [], [], []
        if "vmap" in checks:
            members = _members(case)
            per = [_run_ref(case, m) for m in members]
            per64 = [_run_ref(case, [x.astype(np.float64) for x in m]) for m in members]
            oks = [_conditioned(case, m, p64, seed=j + 1) for j, (m, p64) in enumerate(zip(members, per64))]
            for k in range(len(values)):
                ax = _out_axis(case, k)
                vm.append(np.moveaxis(np.stack([p[k] for p in per]), 0, ax))
                vm64.append(np.moveaxis(np.stack([p[k] for p in per64]), 0, ax))
                vm_ok.append(np.moveaxis(np.stack([o[k] for o in oks]), 0, ax))
        t = Truth(values, values64, ok, grads, grad_skip, jvp, jvp_skip, vm, vm64, vm_ok)
        higher = set(HIGHER_CHECKS) & set(checks)
        if higher and not _higher_size_ok(case):
            t.jac_skip = t.hvp_skip = t.vmap_grads_skip = _TOO_LARGE
        elif higher:
            loss = _Loss(case)
            if {"jacfwd", "jacrev"} & higher:
                F = lambda vec: np.concatenate([o.ravel() for o in loss.outputs(vec)])  # noqa: E731
                t.jac, t.jac_skip = _fd_jacobian(F, loss.x0, case.dtype)
            if {"hessian", "grad_grad"} & higher:
                if grads is None:
                    t.hvp_skip = grad_skip
                else:
                    tv = np.concatenate([np.asarray(x, np.float64).ravel() for x in case.tangents])
                    t.hvp, t.hvp_skip = _fd_hvp(loss, tv, case.dtype)
            if "vmap_grad" in higher:
                per = []
                for m in _members(case):
                    g, why = _fd_grads(_Loss(case, m), case.dtype)
                    if g is None:
                        t.vmap_grads_skip = why
                        break
                    per.append(g)
                else:
                    t.vmap_grads = [np.stack([g[i] for g in per]) for i in range(len(case.inputs))]
    return t


def _out_axis(case, k):
    return case.out_axes[k] if case.out_axes else 0


def _members(case):
    out = []
    for j in range(VMAP_BATCH):
        out.append([x if a is None else np.take(b, j, axis=a) for x, a, b in zip(case.inputs, case.in_axes, case.batch)])
    return out


# ================================================================ slope's side


def _loss_fn(case, ws):
    fn = case.fn

    def loss(*xs):
        total = None
        for o, w in zip(fn(SLOPE_LAX, *xs), ws):
            term = lax.reduce_sum(lax.mul(o, w), axes=tuple(range(len(o.shape))))
            total = term if total is None else lax.add(total, term)
        return total

    return loss


def _grad(case, ws, xs):
    g = slope.grad(_loss_fn(case, ws), argnums=tuple(range(len(xs))))(*xs)
    return list(g) if isinstance(g, (tuple, list)) else [g]


def _part(case, part):
    """The slope function of one jit part: flat inputs -> flat outputs."""
    n, m = len(case.inputs), len(case.weights)
    fn = case.fn

    def run(*flat):
        xs, ws, ts, bs = flat[:n], flat[n:n + m], flat[n + m:2 * n + m], flat[2 * n + m:]
        if part == "jit":
            return list(fn(SLOPE_LAX, *xs))
        if part == "grad_jit":
            return _grad(case, ws, xs)
        if part == "jvp":
            po, to = slope.jvp(lambda *a: fn(SLOPE_LAX, *a), tuple(xs), tuple(ts))
            return list(po) + list(to)
        if part == "vmap":
            it = iter(bs)  # the batches of the mapped inputs only
            vargs = [x if a is None else next(it) for x, a in zip(xs, case.in_axes)]
            out_axes = list(case.out_axes) if case.out_axes else 0
            return list(slope.vmap(lambda *a: list(fn(SLOPE_LAX, *a)), in_axes=tuple(case.in_axes),
                                   out_axes=out_axes)(*vargs))
        if part in ("jacfwd", "jacrev"):  # of the flat outputs w.r.t. the flat inputs
            jac = slope.jacfwd if part == "jacfwd" else slope.jacrev
            return [jac(lambda v: _flat_outputs(case, _unflatten(case, v)))(_flatten(xs))]
        if part == "hessian":  # of the loss w.r.t. the flat inputs
            return [slope.hessian(lambda v: _loss_fn(case, ws)(*_unflatten(case, v)))(_flatten(xs))]
        if part == "grad_grad":  # reverse over reverse: grad of <grad loss, t> = H t
            tv = _flatten(ts)
            g = slope.grad(lambda v: _loss_fn(case, ws)(*_unflatten(case, v)))

            def inner(v):
                return lax.reduce_sum(lax.mul(g(v), tv), axes=(0,))

            return [slope.grad(inner)(_flatten(xs))]
        if part == "vmap_grad":  # per-member gradients of the loss, the batch dim in front
            it = iter(bs)
            vargs = [x if a is None else next(it) for x, a in zip(xs, case.in_axes)]
            gfn = slope.grad(_loss_fn(case, ws), argnums=tuple(range(n)))
            def grads(*a):
                g = gfn(*a)  # a bare gradient for one input
                return list(g) if isinstance(g, (tuple, list)) else [g]

            return list(slope.vmap(grads, in_axes=tuple(case.in_axes))(*vargs))
        raise KeyError(part)

    return run


def _flatten(xs):
    return lax.concatenate(*[lax.reshape(x, shape=(int(np.prod(x.shape, dtype=np.int64)),)) for x in xs], dimension=0)


def _unflatten(case, v):
    out, pos = [], 0
    for x in case.inputs:
        size = int(np.size(x))
        piece = lax.slice(v, start_indices=(pos,), limit_indices=(pos + size,), strides=(1,))
        out.append(lax.reshape(piece, shape=tuple(np.shape(x))))
        pos += size
    return out


def _flat_outputs(case, xs):
    return _flatten(list(case.fn(SLOPE_LAX, *xs)))


def _flat_args(case):
    bs = [b for b in case.batch if b is not None]
    return [slope.tensor(np.asarray(a)) for a in [*case.inputs, *case.weights, *case.tangents, *bs]]


def _jit_fn(case, parts):
    pieces = [_part(case, p) for p in parts]

    def checks(*flat):
        out = []
        for p in pieces:
            out.extend(p(*flat))
        return out

    checks.__name__ = checks.__qualname__ = "program_checks"
    return slope.jit(checks)


# ================================================================ running and comparing


@dataclass
class Failure:
    check: str
    message: str


@dataclass
class Report:
    case: Case
    passed: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # Failure
    skipped: dict = field(default_factory=dict)  # check -> reason
    masked: int = 0  # ill-conditioned value elements not compared

    @property
    def ok(self):
        return not self.failures

    def raise_failures(self):
        if self.failures:
            raise AssertionError("\n".join(f"[{f.check}] {f.message}" for f in self.failures))
        return self


def _cmp_values(what, got, want, want64, ok, dtype, report):
    """Value comparison on the well-conditioned elements: within tolerance of the oracle in the
    program's dtype, or of the float64 oracle."""
    rtol, atol = tolerance(dtype, "value")
    if len(got) != len(want):
        return f"{what}: {len(got)} outputs, the oracle has {len(want)}"
    for k, (a, e, e64, m) in enumerate(zip(got, want, want64, ok)):
        a = np.asarray(a)
        if a.shape != e.shape or a.dtype != e.dtype:
            return f"{what} output {k}: {a.dtype}{list(a.shape)} != oracle {e.dtype}{list(e.shape)}"
        report.masked += int(np.sum(~m))
        a64 = a.astype(np.float64)
        with np.errstate(invalid="ignore"):
            close = np.abs(a64 - e) <= atol + rtol * np.abs(e.astype(np.float64))
            close |= np.abs(a64 - e64) <= atol + rtol * np.abs(e64)
            close |= (np.isnan(a64) & np.isnan(e64)) | (np.isinf(e64) & (a64 == e64))
        bad = m & ~close
        if np.any(bad):
            return _describe(f"{what} output {k}", a, e, bad, rtol, atol)
    return None


def _cmp_grads(what, got, want, dtype, kind="grad"):
    rtol, atol = tolerance(dtype, kind)
    for k, (a, e) in enumerate(zip(got, want)):
        a = np.asarray(a)
        if a.shape != e.shape:
            return f"{what} {k}: shape {a.shape} != {e.shape}"
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(a.astype(np.float64) - e) <= atol + rtol * np.abs(e)) & ~np.isnan(e)
        if np.any(bad):
            return _describe(f"{what} {k}", a, e, bad, rtol, atol)
    return None


def _describe(what, a, e, bad, rtol, atol):
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()
    return (f"{what}: {int(np.sum(bad))} of {bad.size} elements differ (rtol={rtol}, atol={atol}); first at {idx}: "
            f"got {a[idx]!r}, expected {e[idx]!r}\n  got:      {np.array2string(np.asarray(a), precision=8)}\n"
            f"  expected: {np.array2string(np.asarray(e), precision=8)}")


def _compare(case, truth_: Truth, check, outs, report):
    dt = case.dtype
    n = len(truth_.values)
    if check in ("eager", "jit"):
        return _cmp_values(check, outs, truth_.values, truth_.values64, truth_.ok, dt, report)
    if check in ("grad_eager", "grad_jit"):
        if truth_.grads is None:
            report.skipped[check] = truth_.grad_skip
            return None
        return _cmp_grads(f"{check} d loss / d input", outs, truth_.grads, dt)
    if check == "jvp":
        msg = _cmp_values("jvp primal", outs[:n], truth_.values, truth_.values64, truth_.ok, dt, report)
        if msg:
            return msg
        if truth_.jvp is None:
            report.skipped[check] = truth_.jvp_skip
            return None
        return _cmp_grads("jvp tangent", outs[n:], truth_.jvp, dt)
    if check == "vmap":
        return _cmp_values("vmap", outs, truth_.vmap, truth_.vmap64, truth_.vmap_ok, dt, report)
    if check in ("jacfwd", "jacrev"):
        if truth_.jac is None:
            report.skipped[check] = truth_.jac_skip
            return None
        return _cmp_grads(f"{check} d flat outputs / d flat inputs", outs, [truth_.jac], dt)
    if check in ("hessian", "grad_grad"):
        if truth_.hvp is None:
            report.skipped[check] = truth_.hvp_skip
            return None
        got = np.asarray(outs[0], np.float64)
        if check == "hessian":
            rtol, atol = tolerance(HVP_TOLERANCE_DTYPE, "grad2")
            asym = np.abs(got - got.T) > atol + rtol * np.abs(got)
            if np.any(asym):
                return _describe("hessian (not symmetric: H vs H^T)", got, got.T, asym, rtol, atol)
            t = np.concatenate([np.asarray(x, np.float64).ravel() for x in case.tangents])
            got = got @ t
        return _cmp_grads(f"{check} Hessian-vector product of the loss (vs FD of the FD gradient)", [got],
                          [truth_.hvp], HVP_TOLERANCE_DTYPE, "grad2")
    if check == "vmap_grad":
        if truth_.vmap_grads is None:
            report.skipped[check] = truth_.vmap_grads_skip
            return None
        return _cmp_grads("vmap of grad, d loss / d input", outs, truth_.vmap_grads, dt)
    raise KeyError(check)


def _err(e):
    import traceback

    lines = "".join(traceback.format_exception_only(type(e), e)).strip()
    return lines if len(lines) < 3000 else lines[:3000] + " ..."


def _np(xs):
    return [np.asarray(x.numpy()) if hasattr(x, "numpy") else np.asarray(x) for x in xs]


def run_checks(case: Case, checks=CHECKS, truth_: Truth | None = None) -> Report:
    """Run the checks of one case (compiling whatever is not cached)."""
    report = Report(case)
    truth_ = truth_ or truth(case, checks)
    tensors = [slope.tensor(np.asarray(x)) for x in case.inputs]
    wts = [slope.tensor(np.asarray(w)) for w in case.weights]
    results = {}
    if "eager" in checks:
        try:
            results["eager"] = _np(case.fn(SLOPE_LAX, *tensors))
        except Exception as e:  # noqa: BLE001 - any error is a failure of the check
            report.failures.append(Failure("eager", f"raised {_err(e)}"))
    if "grad_eager" in checks:
        try:
            results["grad_eager"] = _np(_grad(case, wts, tensors))
        except Exception as e:  # noqa: BLE001
            report.failures.append(Failure("grad_eager", f"raised {_err(e)}"))
    parts = _case_parts(case, checks)
    if parts:
        flat = _flat_args(case)
        try:
            jitted = _jit_fn(case, parts)
            outs = _np(jitted(*flat))
        except Exception:  # noqa: BLE001 - find which part fails, each alone
            outs = None
        if outs is not None and "jit_repeat" in checks:
            again = _np(jitted(*flat))
            diff = [k for k, (a, b) in enumerate(zip(outs, again)) if not _same_bits(a, b)]
            if diff:
                k = diff[0]
                report.failures.append(Failure("jit_repeat", f"the second call of the jitted checks returned "
                                               f"other values (output {k}):\n  first:  {outs[k]!r}\n  second: {again[k]!r}"))
            else:
                report.passed.append("jit_repeat")
        if outs is None:
            for p in parts:
                try:
                    results[p] = _np(_jit_fn(case, [p])(*flat))
                except Exception as e:  # noqa: BLE001
                    report.failures.append(Failure(p, f"raised {_err(e)}"))
        else:
            counts = _part_counts(case, parts)
            pos = 0
            for p, c in zip(parts, counts):
                results[p] = outs[pos:pos + c]
                pos += c
    for check in checks:
        if check in HIGHER_CHECKS and check not in parts and check in _jit_parts(checks):
            report.skipped[check] = _TOO_LARGE
        if check in results:
            msg = _compare(case, truth_, check, results[check], report)
            if msg:
                report.failures.append(Failure(check, msg))
            elif check not in report.skipped:
                report.passed.append(check)
    return report


def _case_parts(case, checks):
    """The jit parts of one case: the higher checks only for small programs (truth says why not)."""
    parts = _jit_parts(checks)
    return parts if _higher_size_ok(case) else [p for p in parts if p not in HIGHER_CHECKS]


def _jit_parts(checks):
    """The parts staged into a case's jitted module (all of them when only jit_repeat is asked)."""
    return [p for p in JIT_PARTS if p in checks] or (list(JIT_PARTS) if "jit_repeat" in checks else [])


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return (a.shape == b.shape and a.dtype == b.dtype
            and np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)))


def _part_counts(case, parts):
    n, m = len(case.inputs), len(case.weights)
    return [{"jit": m, "grad_jit": n, "jvp": 2 * m, "vmap": m, "jacfwd": 1, "jacrev": 1, "hessian": 1,
             "grad_grad": 1, "vmap_grad": n}[p] for p in parts]


def check_case(case: Case, checks=CHECKS) -> Report:
    """All checks of one case; `.raise_failures()` raises an AssertionError naming each failure."""
    return run_checks(case, tuple(checks))


# ---------------------------------------------------------------- compiling many cases at once

JIT_OPS_PER_MODULE = 400  # jitted check programs are grouped up to this many ops per IREE module


def _program_jobs(case, parts):
    lowered = _jit_fn(case, parts).lower(*_flat_args(case))
    p = lowered.program
    text, needs = backend.get().module(p)
    return (text, f"jit({p.name})", p.in_avals, p.out_avals, needs), len(p.eqns)


def _eager_eqns(case):
    """The equations eager evaluation of the program and of its gradient binds (staged to find them)."""
    n = len(case.inputs)

    def both(*flat):  # the loss's value too: a jitted grad drops the primal ops it does not need
        xs, ws = flat[:n], flat[n:]
        value, g = slope.value_and_grad(_loss_fn(case, ws), argnums=tuple(range(n)))(*xs)
        return list(case.fn(SLOPE_LAX, *xs)) + [value] + (list(g) if isinstance(g, (tuple, list)) else [g])

    args = [slope.tensor(np.asarray(a)) for a in [*case.inputs, *case.weights]]
    return slope.jit(both).lower(*args).program.eqns


def precompile(cases, checks=CHECKS, workers=2, log=None):
    """Compile, in shared modules on `workers` threads, what running the checks of `cases` needs:
    each case's jitted checks (grouped up to JIT_OPS_PER_MODULE ops per module) and the eager ops.
    Errors are left for the real run to meet (and report) in context."""
    from concurrent.futures import ThreadPoolExecutor


    t0 = time.perf_counter()
    parts = _jit_parts(checks)
    groups, cur, size = [], [], 0
    eager_jobs = []
    for case in cases:
        if parts:
            try:
                job, n = _program_jobs(case, _case_parts(case, checks))
            except Exception:  # noqa: BLE001 - staging errors are reported by the real run
                job = None
            if job is not None and not iree_compile.cached(job[0], job[4]):
                if cur and size + n > JIT_OPS_PER_MODULE:
                    groups.append(cur)
                    cur, size = [], 0
                cur.append(job)
                size += n
        if {"eager", "grad_eager"} & set(checks):
            try:
                eager_jobs += dryrun.eager_jobs(_eager_eqns(case))
            except Exception:  # noqa: BLE001
                pass
    if cur:
        groups.append(cur)
    uniq = {}
    for j in eager_jobs:
        uniq.setdefault(j[0], j)
    eager_jobs = list(uniq.values())
    groups += [eager_jobs[i:i + iree_compile.BATCH_MAX] for i in range(0, len(eager_jobs), iree_compile.BATCH_MAX)]

    def build(group):
        try:
            iree_compile.compile_many(group, max_workers=1)
        except Exception:  # noqa: BLE001 - one program of the group fails: compile the others alone
            for text, name, in_avals, out_avals, needs in group:
                try:
                    iree_compile.compile_module(text, name, in_avals, out_avals, needs=needs)
                except Exception:  # noqa: BLE001
                    pass

    if groups:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            list(pool.map(build, groups))
    if log:
        log(f"precompiled {sum(len(g) for g in groups)} programs in {len(groups)} modules "
            f"({time.perf_counter() - t0:.1f} s)")


def check_cases(cases, checks=CHECKS, workers=2, log=None) -> list:
    """Reports for many cases: everything compiled up front in shared modules, then run."""
    precompile(cases, checks, workers, log)
    return [run_checks(c, checks) for c in cases]


# ================================================================ shrinking


def _fails(report, check):
    return any(f.check == check for f in report.failures)


def _with_program(case: Case, program: Program, extra=None) -> Case:
    """A case for a modified program: data kept for surviving inputs; new inputs from `extra`."""
    extra = extra or {}
    old = {v.name: i for i, v in enumerate(case.program.inputs)}
    xs, ts, axes, bs, doms = [], [], [], [], []
    for v in program.inputs:
        if v.name in old:
            i = old[v.name]
            xs.append(case.inputs[i])
            ts.append(case.tangents[i])
            axes.append(case.in_axes[i])
            bs.append(case.batch[i])
            doms.append(case.domains[i] if case.domains else (v.lo, v.hi))
        else:
            x, t, a, b = extra[v.name]
            xs.append(x)
            ts.append(t)
            axes.append(a)
            bs.append(b)
            doms.append((v.lo, v.hi))
    if all(a is None for a in axes):
        return None
    old_out = {o: k for k, o in enumerate(case.program.outputs)}
    ws = [case.weights[old_out[o]] if o in old_out else
          _draw_in(np.random.default_rng(1), -1, 1, program.values[o].shape, np.dtype(case.dtype))
          for o in program.outputs]
    out_axes = tuple(_out_axis(case, old_out[o]) if o in old_out else 0 for o in program.outputs)
    return Case(program.source(), case.dtype, xs, ws, ts, tuple(axes), bs, program, doms,
                out_axes if any(out_axes) else ())


def _candidates(case: Case):
    """Smaller variants of a case, smallest first."""
    prog = case.program
    out = []
    # one output
    if len(prog.outputs) > 1:
        for o in prog.outputs:
            p = prog.copy()
            p.outputs = [o]
            out.append(_with_program(case, p.prune()))
    # truncate: an earlier value becomes the only output
    inputs = {v.name for v in prog.inputs}
    for name, v in prog.values.items():
        if v.is_float and name not in inputs and name not in prog.outputs and any(name in n.outs for n in prog.nodes):
            p = prog.copy()
            p.outputs = [name]
            out.append(_with_program(case, p.prune()))
    # cut: a node's float result becomes an input holding the oracle's value
    env = _trace_values(case)
    for i, node in enumerate(prog.nodes):
        for o in node.outs:
            v = prog.values[o]
            if not v.is_float or o not in env:
                continue
            p = prog.copy()
            newname = "x" + o[1:] if o.startswith("v") else o + "_in"
            nv = Value(newname, v.shape, v.dtype, v.lo, v.hi)
            p.values[newname] = nv
            p.inputs = p.inputs + [nv]
            _rename_uses(p, o, newname)
            p.prune()
            if nv not in p.inputs:
                continue
            x, bvals = env[o]
            t = _draw_in(np.random.default_rng(2), -1, 1, v.shape, np.dtype(case.dtype))
            extra = {newname: (x, t, 0 if bvals is not None else None, bvals)}
            c = _with_program(case, p, extra=extra)
            if c is not None:
                out.append(c)
    # bypass: a node whose result has the shape of one of its operands is replaced by that operand
    for i, node in enumerate(prog.nodes):
        if len(node.outs) != 1:
            continue
        v = prog.values[node.outs[0]]
        for a in node.args:
            if isinstance(a, str) and prog.values[a].shape == v.shape and prog.values[a].is_float == v.is_float:
                p = prog.copy()
                del p.nodes[i]
                _rename_uses(p, node.outs[0], a)
                out.append(_with_program(case, p.prune()))
                break
    # drop an input (when others remain) by making it... (handled by cut/prune); fewer vmap axes
    for i, a in enumerate(case.in_axes):
        if a is not None and sum(x is not None for x in case.in_axes) > 1:
            c = replace(case, in_axes=tuple(None if j == i else x for j, x in enumerate(case.in_axes)),
                        batch=[None if j == i else b for j, b in enumerate(case.batch)])
            out.append(c)
    out = [c for c in out if c is not None]
    out.sort(key=lambda c: (c.n_ops, len(c.inputs), sum(np.size(x) for x in c.inputs)))
    return out


def _rename_uses(p: Program, old, new):
    for n in p.nodes:
        n.args = [new if a == old else a for a in n.args]
    p.outputs = [new if o == old else o for o in p.outputs]


def _trace_values(case):
    """The oracle's value of every intermediate (program dtype), and its values on the vmap members
    stacked at axis 0 (None if no input is mapped)."""
    prog = case.program
    env = {}
    members = _members(case)

    class Recorder(NumpyLax):
        def __init__(self, sink):
            super().__init__()
            self.sink = sink

        def __getattr__(self, name):
            f = NumpyLax.__getattr__(self, name)

            def call(*args, **params):
                r = f(*args, **params)
                if name != "full":  # constant operands, not nodes
                    self.sink.append(r)
                return r

            return call

    def run(xs):
        sink = []
        with np.errstate(all="ignore"):
            case.fn(Recorder(sink), *xs)
        return sink

    main = run(case.inputs)
    per = [run(m) for m in members]
    k = 0
    for node in prog.nodes:
        r = main[k]
        rs = [p[k] for p in per]
        k += 1
        outs = r if isinstance(r, list) else [r]
        for j, o in enumerate(node.outs):
            env[o] = (outs[j], np.stack([(x if isinstance(x, list) else [x])[j] for x in rs]))
    return env


def rerun_checks(case: Case, check: str, checks=CHECKS) -> tuple:
    """The checks that reproduce a failure of `check` found by running `checks` on `case`: a jitted
    check together with the parts it was staged with (they are one IREE module, and a miscompile
    may need the company: program 1082 of --seed 2026 was wrong only with grad_grad and vmap_grad
    staged beside it), any other check alone."""
    if check not in JIT_PARTS and check != "jit_repeat":
        return (check,)
    parts = set(_case_parts(case, checks))
    return tuple(c for c in CHECKS if c == check or c in parts)


def shrink(case: Case, check: str, checks_budget=400, log=None, checks=None) -> Case:
    """A smaller case on which `check` still fails when run with `rerun_checks(case, check, checks)`
    (`checks`: those of the run that found it; default `(check,)`). Greedy: each round compiles
    every candidate in shared modules and keeps the smallest that fails."""
    if case.program is None:
        return case
    rerun = rerun_checks(case, check, checks or (check,))
    tried = 0
    while tried < checks_budget:
        cands = _candidates(case)
        if not cands:
            break
        precompile(cands, rerun)
        for c in cands:
            tried += 1
            try:
                r = run_checks(c, rerun)
            except Exception:  # noqa: BLE001 - an oracle error: the candidate is not valid
                continue
            if _fails(r, check):
                case = c
                if log:
                    log(f"  shrunk to {c.n_ops} ops, {len(c.inputs)} inputs")
                break
        else:
            break
    return case


# ================================================================ batches and the command line


@dataclass
class Summary:
    programs: int = 0
    ops: int = 0
    passed: int = 0
    skipped: dict = field(default_factory=dict)  # reason -> count
    masked: int = 0
    failures: list = field(default_factory=list)  # (check, message, shrunk repro)
    seconds: float = 0.0
    op_counts: dict = field(default_factory=dict)

    def line(self):
        skipped = sum(self.skipped.values())
        return (f"{self.programs} programs ({self.ops} ops), {self.passed} checks passed, {skipped} skipped, "
                f"{len(self.failures)} failing, {self.masked} ill-conditioned value elements not compared, "
                f"{self.seconds:.0f} s")


def _count_ops(case, counts):
    for line in case.source.splitlines():
        if "= lax." in line:
            op = line.split("= lax.", 1)[1].split("(", 1)[0]
            counts[op] = counts.get(op, 0) + 1


def run_batch(cases, summary: Summary, checks=CHECKS, shrink_failures=True, log=print, first_index=None, seed=None):
    t0 = time.perf_counter()
    reports = check_cases(cases, checks, log=log)
    for i, r in enumerate(reports):
        summary.programs += 1
        summary.ops += r.case.n_ops
        summary.passed += len(r.passed)
        summary.masked += r.masked
        _count_ops(r.case, summary.op_counts)
        for check, why in r.skipped.items():
            key = f"{check}: {why}"
            summary.skipped[key] = summary.skipped.get(key, 0) + 1
        if r.failures:
            f = r.failures[0]
            where = f" (--seed {seed} --start {first_index + i} --n 1)" if seed is not None else ""
            log(f"FAIL [{f.check}]{where} {f.message.splitlines()[0][:300]}\n{r.case.source}")
            rerun = rerun_checks(r.case, f.check, checks)
            small = shrink(r.case, f.check, log=log, checks=checks) if shrink_failures else r.case
            again = run_checks(small, rerun)
            msg = next((g.message for g in again.failures if g.check == f.check), f.message)
            repro = small.repro(rerun)
            summary.failures.append((f.check, msg, repro))
            log(f"--- shrunk repro ({small.n_ops} ops) ---\n{repro}--- {msg}\n")
    summary.seconds += time.perf_counter() - t0
    return reports


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="python -m slope.testing.programs",
                                 description="random whole-program differential testing against the NumPy oracle")
    ap.add_argument("--n", type=int, default=200, help="programs to run")
    ap.add_argument("--batch", type=int, default=40, help="programs compiled and checked together")
    ap.add_argument("--seed", type=int, default=None, help="the random stream (default: from the clock)")
    ap.add_argument("--start", type=int, default=0, help="index of the first program in the stream")
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    ap.add_argument("--max-ops", type=int, default=10)
    ap.add_argument("--checks", nargs="+", default=list(CHECKS), choices=CHECKS)
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--print", action="store_true", help="print each program before running it")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time()) % 1000000
    summary = Summary()
    print(f"slope program fuzzer: {args.n} programs from --seed {seed} --start {args.start}, "
          f"batches of {args.batch}", flush=True)
    pos = args.start
    while pos < args.start + args.n:
        n = min(args.batch, args.start + args.n - pos)
        cases = random_cases(n, seed, pos, dtypes=tuple(args.dtypes), max_ops=args.max_ops)
        if args.print:
            for i, c in enumerate(cases):
                print(f"# program {pos + i}\n{c.source}", flush=True)
        run_batch(cases, summary, tuple(args.checks), not args.no_shrink, log=lambda m: print(m, flush=True),
                  first_index=pos, seed=seed)
        print(f"[programs {pos}..{pos + n - 1}] {summary.line()}", flush=True)
        pos += n
    print("\nskipped:", *(f"  {n} x {why}" for why, n in sorted(summary.skipped.items())), sep="\n")
    print("ops:", ", ".join(f"{k} {v}" for k, v in sorted(summary.op_counts.items(), key=lambda kv: -kv[1])))
    print(summary.line())
    for check, msg, repro in summary.failures:
        print(f"\n=== {check}: {msg.splitlines()[0]}\n{repro}")
    return 1 if summary.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
