"""The Spec: one object holding everything slope knows about a primitive.

A newcomer finds a primitive's whole definition in one `Spec(...)` call: its shape/dtype rule,
NumPy oracle, JVP, transpose (or why it has none), vmap rule, StableHLO lowering, the input
domain for property tests and the inputs that must be rejected. Tests enumerate REGISTRY.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from slope.core import backend
from slope.core import trace as _trace
from slope.core.program import Eqn, Program, Var, format_param
from slope.core.tensor import Tensor

RULES = ("abstract_eval", "reference", "jvp", "transpose", "vmap", "sample", "error_inputs")


@dataclass(eq=False, frozen=True)
class Spec:
    name: str
    abstract_eval: Callable  # (*in_avals, **params) -> list[Aval]; raises slope errors on bad input
    reference: Optional[Callable] = None  # NumPy oracle: (*np arrays, **params) -> array | tuple
    jvp: Optional[Callable] = None  # (primals, tangents, **params) -> (primal_outs, tangent_outs)
    transpose: Optional[Callable] = None  # (cts, *args with UndefPrimal for linear ones, **params) -> cts per arg
    vmap: Optional[Callable] = None  # (axis_size, args, dims, **params) -> (outs, out_dims)
    sample: Optional[Callable] = None  # (draw, dtype) -> (list of np args, params): valid inputs
    # (dtype) -> [(list of np args, params)]: deterministic examples every check runs before the
    # drawn ones, for cases a few random draws may miss (boundaries, partial updates, ties)
    edge_cases: Optional[Callable] = None
    error_inputs: Optional[Callable] = None  # () -> list of ErrorInput
    multiple_results: bool = False
    dtypes: tuple = ("float32", "float64")  # dtypes the property suite exercises
    exempt: dict = field(default_factory=dict)  # rule/check name -> reason it does not apply
    # (*np args, **params) -> bool: the example sits where the derivative itself has a kink (e.g.
    # maximum's exact ties, which the sampler keeps on purpose for first-order checks); there the
    # Hessian does not exist, so second-order checks skip the example.
    on_derivative_kink: Optional[Callable] = None
    # (**params, *tensors) -> list of Tensors: eager evaluation other than compiling the primitive
    # alone (full fills a host array; jit_call runs its compiled Program)
    eager: Optional[Callable] = None
    doc: str = ""

    def __post_init__(self):
        object.__setattr__(self, "_eager_cache", {})  # (avals, params) -> executable: the one mutable part

    def __repr__(self):
        return f"<primitive {self.name}>"

    def bind(self, *args, **params):
        if _trace.dynamic_trace is None:
            for a in args:
                if type(a) is not Tensor:
                    break
            else:  # only concrete operands and nothing staging: trace.bind would pick eager evaluation
                outs = self.impl(*args, **params)
                return list(outs) if self.multiple_results else outs[0]
        return _trace.bind(self, *args, **params)

    __call__ = bind

    def impl(self, *tensors, **params):
        """Eager evaluation: compile this primitive alone once per (avals, params), run it on IREE."""
        if self.eager is not None:
            return self.eager(*tensors, **params)
        key = (tuple([t.aval for t in tensors]), tuple(params.items()) if params else ())
        exe = self._eager_cache.get(key)
        if exe is None:
            exe = self._compile_eager(key[0], params)
            self._eager_cache[key] = exe
        bufs = exe([t._buf for t in tensors])
        if len(bufs) == 1:
            return [Tensor(bufs[0], exe.out_avals[0])]
        return [Tensor(b, a) for b, a in zip(bufs, exe.out_avals)]

    def eager_program(self, in_avals, params):
        """(Program, name): this primitive alone on these avals, as eager evaluation compiles it."""
        out_avals = self.abstract_eval(*in_avals, **params)
        ins, outs = [Var(a) for a in in_avals], [Var(a) for a in out_avals]
        return Program(ins, [Eqn(self, ins, params, outs)], outs, self.name), self.name + _params_text(params)

    def _compile_eager(self, in_avals, params):
        return backend.get().compile(*self.eager_program(in_avals, params))


def _params_text(params) -> str:
    return f"({', '.join(f'{k}={format_param(v)}' for k, v in params.items())})" if params else ""


@dataclass
class ErrorInput:
    """Invalid operands/params for a primitive and the error they must raise."""
    args: list  # NumPy arrays
    params: dict
    error: type
    match: str  # regex the message must contain


REGISTRY: dict[str, Spec] = {}


def register(spec: Spec) -> Spec:
    if spec.name in REGISTRY:
        raise ValueError(f"primitive {spec.name} registered twice")
    REGISTRY[spec.name] = spec
    return spec
