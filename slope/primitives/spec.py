"""The Spec: one object holding everything slope knows about a primitive.

A newcomer finds a primitive's whole definition in one `Spec(...)` call: its shape/dtype rule,
NumPy oracle, JVP, transpose (or why it has none), vmap rule, the inputs that must be rejected and
its verification metadata (`verify=`: dtypes, exemptions, edge cases). The StableHLO lowering lives
in the backend and the Hypothesis samplers in slope.testing, both found by the primitive's name.
Tests enumerate REGISTRY.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from slope.core import backend, memory
from slope.core import trace as _trace
from slope.core.dtypes import DType
from slope.core.program import Eqn, Program, Var, format_param
from slope.core.tensor import Tensor
from slope.errors import ArgumentError, DTypeError
from slope.primitives.verify import Verify

RULES = ("abstract_eval", "reference", "jvp", "transpose", "vmap", "error_inputs")


@dataclass(eq=False, frozen=True)
class Spec:
    name: str
    abstract_eval: Callable  # (*in_avals, **params) -> list[Aval]; raises slope errors on bad input
    reference: Optional[Callable] = None  # NumPy oracle: (*np arrays, **params) -> array | tuple
    jvp: Optional[Callable] = None  # (primals, tangents, **params) -> (primal_outs, tangent_outs)
    transpose: Optional[Callable] = None  # (cts, *args with UndefPrimal for linear ones, **params) -> cts per arg
    vmap: Optional[Callable] = None  # (axis_size, args, dims, **params) -> (outs, out_dims)
    error_inputs: Optional[Callable] = None  # () -> list of ErrorInput
    multiple_results: bool = False
    # dtypes the property suite exercises, exemptions (enumerated reasons), edge cases and derivative
    # kinks: see slope/primitives/verify.py
    verify: Verify = field(default_factory=Verify)
    # (**params, *tensors) -> list of Tensors: eager evaluation other than compiling the primitive
    # alone (full fills a host array; jit_call runs its compiled Program)
    eager: Optional[Callable] = None
    # (*in_avals, **params) -> None, or a function of the operands giving the result from other primitives
    # without this one: for shapes the backend cannot take (dot_general contracting an empty dim).
    simplify: Optional[Callable] = None
    doc: str = ""

    def __post_init__(self):  # the caches are the only mutable parts
        object.__setattr__(self, "_eager_cache", {})  # (avals, params) -> executable
        object.__setattr__(self, "_signature", None)  # check_call's parsed call signature

    def __repr__(self):
        return f"<primitive {self.name}>"

    def bind(self, *args, **params):
        if _trace.dynamic_trace is None:
            for a in args:
                if type(a) is not Tensor:
                    break
            else:  # only concrete operands and nothing staging: trace.bind would pick eager evaluation
                self.check_call(args, params, tensors=True)
                if self.simplify is not None:
                    replacement = self._simplified(args, params)
                    if replacement is not None:
                        return replacement
                outs = self.impl(*args, **params)
                return list(outs) if self.multiple_results else outs[0]
        self.check_call(args, params)
        if self.simplify is not None:
            replacement = self._simplified(args, params)
            if replacement is not None:
                return replacement
        return _trace.bind(self, *args, **params)

    __call__ = bind

    def _simplified(self, args, params):
        fn = self.simplify(*[_trace.get_aval(a) for a in args], **params)
        return None if fn is None else fn(*args)

    def check_call(self, args, params, tensors=False):
        """Raise ArgumentError/DTypeError naming this primitive for a wrong operand count, a missing or
        unknown param, or a param of the wrong type (a float in a shape, a string as a dtype)."""
        sig = self._signature
        if sig is None:
            sig = _call_signature(self)
            object.__setattr__(self, "_signature", sig)
        lo, hi, names, required = sig
        n = len(args)
        if n < lo or (hi is not None and n > hi):
            count = f"{lo}" if hi == lo else f"at least {lo}" if hi is None else f"{lo} to {hi}"
            raise ArgumentError(f"{self.name}: takes {count} operand{'s' if hi != 1 else ''}, got {n}"
                                + (f": {_describe_args(args)}" if n else ""))
        for i, a in enumerate(() if tensors else args):
            if type(a) is not Tensor and not isinstance(a, _OPERANDS):
                raise ArgumentError(f"{self.name}: operand {i} must be a tensor, got {type(a).__name__} {a!r:.60}")
        keys = params.keys()
        if names is not None and not keys <= names:
            unknown = sorted(set(keys) - names)
            takes = f"its params are {', '.join(sorted(names))}" if names else "it takes no params"
            raise ArgumentError(f"{self.name}: unexpected param{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(unknown)} ({takes})")
        if not required <= keys:
            missing = sorted(required - set(keys))
            raise ArgumentError(f"{self.name}: missing param{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        for k, v in params.items():
            ok = _PARAM_CHECKS.get(k)
            if ok is not None and not ok(v):
                _param_error(self.name, k, v, args)

    def impl(self, *tensors, **params):
        """Eager evaluation: compile this primitive alone once per (avals, params), run it on IREE."""
        if self.eager is not None:
            return self.eager(*tensors, **params)
        key = (tuple([t.aval for t in tensors]), tuple(params.items()) if params else ())
        exe = self._eager_cache.get(key)
        if exe is None:
            memory.check(self.name, self.abstract_eval(*key[0], **params))  # before IREE allocates it
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
        return backend.get().compile_eager(*self.eager_program(in_avals, params))


def _is_int(v):
    return type(v) is int or (isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)))


def _is_ints(v):
    if type(v) is tuple:
        for d in v:
            if type(d) is not int and not _is_int(d):
                return False
        return True
    return isinstance(v, list) and all(_is_int(d) for d in v)


# Params every primitive spells the same way, checked before any rule sees them: name -> (check, what).
_PARAM_KINDS = {
    **dict.fromkeys(("shape", "perm", "axes", "dimensions", "broadcast_dimensions", "slice_sizes", "start_indices",
                     "limit_indices", "low", "high", "interior", "window_strides", "lhs_dilation", "rhs_dilation"),
                    (_is_ints, "a tuple of ints")),
    "strides": (lambda v: v is None or _is_ints(v), "a tuple of ints or None"),
    **dict.fromkeys(("dimension", "axis", "num_keys", "feature_group_count"), (_is_int, "an int")),
    **dict.fromkeys(("contracting_dims", "batch_dims"),
                    (lambda v: isinstance(v, (tuple, list)) and len(v) == 2 and _is_ints(v[0]) and _is_ints(v[1]),
                     "a pair of tuples of ints")),
    **dict.fromkeys(("dtype", "index_dtype"), (lambda v: type(v) is DType, "a slope dtype")),
    "preferred_dtype": (lambda v: v is None or type(v) is DType, "a slope dtype or None"),
    "reverse": (lambda v: isinstance(v, (bool, np.bool_)), "a bool"),
    "program": (lambda v: isinstance(v, Program), "a Program (slope.jit(f).lower(*args).program)"),
}
_PARAM_CHECKS = {k: check for k, (check, _) in _PARAM_KINDS.items()}
_OPERANDS = (Tensor, _trace.Tracer, bool, int, float, np.ndarray, np.generic)


def _param_error(name, key, v, args):
    what = _PARAM_KINDS[key][1]
    if key == "dtype" and args:  # convert, bitcast: a conversion to a target dtype
        raise DTypeError(f"{name}: {_describe_args(args)} to {v!r}: the target must be a slope dtype such as "
                         "slope.float32 (slope.dtype(...) converts names)")
    if "dtype" in what:
        raise DTypeError(f"{name}: {key} must be {what} such as slope.float32 (slope.dtype(...) converts names), "
                         f"got {type(v).__name__} {v!r}")
    raise ArgumentError(f"{name}: {key} must be {what}, got {type(v).__name__} {v!r}")


def _describe_args(args):
    return ", ".join(_trace.get_aval(a).str_short() if isinstance(a, (Tensor, _trace.Tracer)) else repr(a)
                     for a in args)


def _positional(fn):
    """(min, max or None) operands and (param names or None for any, required names) of a rule."""
    params = inspect.signature(fn).parameters.values()
    pos = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var = any(p.kind == p.VAR_POSITIONAL for p in params)
    kws = [p for p in params if p.kind == p.KEYWORD_ONLY]
    lo = sum(p.default is p.empty for p in pos)
    names = None if any(p.kind == p.VAR_KEYWORD for p in params) else frozenset(p.name for p in kws)
    return lo, None if var else len(pos), names, frozenset(p.name for p in kws if p.default is p.empty)


def _call_signature(spec):
    """What a call of the primitive must look like, from its shape rule (and its NumPy reference where
    the rule takes *avals or **params)."""
    lo, hi, names, required = _positional(spec.abstract_eval)
    if spec.reference is not None and (hi is None or names is None):
        rlo, rhi, rnames, rrequired = _positional(spec.reference)
        if hi is None and rhi is not None:
            lo, hi = rlo, rhi
        if names is None:
            names, required = rnames, rrequired
    return lo, hi, names, required


def checked_params(spec) -> dict[str, str]:
    """The params the primitive takes whose kind bind checks (name -> what it must be), for the harness:
    it binds each with a value of the wrong kind, since the samplers leave optional ones at their default."""
    names = _call_signature(spec)[2]
    return {k: _PARAM_KINDS[k][1] for k in sorted(names or ()) if k in _PARAM_KINDS}


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
