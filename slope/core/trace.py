"""The trace stack and `bind`: how one primitive call finds the transformation that must handle it.

Each active transformation (jvp, vmap, staging for jit, partial evaluation) pushes a MainTrace.
`bind` lifts all operands to the innermost (highest-level) trace among them and lets that trace
process the primitive; level 0 is eager evaluation on IREE.
"""
from __future__ import annotations

from contextlib import contextmanager

from slope.core.aval import Aval
from slope.core.methods import TensorMethods
from slope.core.tensor import as_tensor
from slope.errors import TracerError, describe


class MainTrace:
    __slots__ = ("level", "trace_type", "global_data", "alive")

    def __init__(self, level, trace_type, global_data):
        self.level, self.trace_type, self.global_data, self.alive = level, trace_type, global_data, True

    def __repr__(self):
        return f"MainTrace({self.level}, {self.trace_type.__name__})"


class Trace:
    """One level of transformation; subclasses define how values are wrapped and primitives processed."""

    def __init__(self, main: MainTrace):
        self.main = main

    def pure(self, val):
        raise NotImplementedError

    lift = pure

    def process_primitive(self, spec, tracers, params):
        raise NotImplementedError


class EvalTrace(Trace):
    """Level 0: run the primitive on IREE now."""

    def pure(self, val):
        return val

    lift = pure

    def process_primitive(self, spec, values, params):
        return spec.impl(*values, **params)


trace_stack: list[MainTrace] = [MainTrace(0, EvalTrace, None)]
dynamic_trace: MainTrace | None = None


@contextmanager
def new_main(trace_type, global_data=None):
    level = len(trace_stack)
    main = MainTrace(level, trace_type, global_data)
    trace_stack.append(main)
    try:
        yield main
    finally:
        trace_stack.pop()
        main.alive = False


@contextmanager
def new_dynamic(main):
    """Make `main` catch even primitives with no traced operands (used when staging for jit)."""
    global dynamic_trace
    prev, dynamic_trace = dynamic_trace, main
    try:
        yield
    finally:
        dynamic_trace = prev


class Tracer(TensorMethods):
    """A value seen by a transformation. Has an aval and tensor methods; never holds data itself."""

    __array_priority__ = 1000
    _trace: Trace

    @property
    def aval(self) -> Aval:
        raise NotImplementedError

    def full_lower(self):
        return self

    def _concrete_error(self, what, op=None):
        return TracerError(
            (f"{op}: " if op else "")
            + f"cannot {what} a traced value {self.aval.str_short()} inside {self._trace.main.trace_type.__name__}: "
            "its data is not known while tracing (under jit/vmap/grad use slope ops such as slope.where "
            "instead of Python control flow on tensor values)"
        )

    def numpy(self):
        raise self._concrete_error("convert to NumPy", "numpy")

    def tolist(self):
        raise TracerError(f"tolist: cannot convert a traced value {self.aval.str_short()} to Python inside "
                          f"{self._trace.main.trace_type.__name__}; use it as a tensor or mark the argument static "
                          "(jit's static_argnums)")

    def __array__(self, dtype=None, copy=None):
        raise self._concrete_error("convert to NumPy", "numpy")

    def item(self):
        raise self._concrete_error("take .item() of", "item")

    def __bool__(self):
        raise self._concrete_error("use as a Python bool", "bool")

    def __float__(self):
        raise self._concrete_error("convert to float", "float")

    def __int__(self):
        raise self._concrete_error("convert to int", "int")

    def __index__(self):
        raise self._concrete_error("use as an index", "__index__")

    def __repr__(self):
        return f"{type(self).__name__}({self.aval})"

    def _assign(self, new):
        """Make this tracer stand for `new` from now on (in-place ops: Tensor.add_, x[i] = v): later
        uses read new's value, earlier uses keep the old one. `new` is a tracer of the same trace.
        Traces whose tracers are referenced lazily (partial evaluation) cannot do this."""
        raise TracerError(f"in-place update of a value traced by {self._trace.main.trace_type.__name__} is not "
                          "supported; use the out-of-place op (x = x + y, slope.where, masked_fill)")


def get_aval(x) -> Aval:
    if isinstance(x, Tracer):
        return x.aval
    aval = getattr(x, "aval", None)
    if aval is not None:
        return aval
    return as_tensor(x).aval


def find_top_trace(args) -> Trace:
    top = trace_stack[0]
    for x in args:
        if isinstance(x, Tracer):
            main = x._trace.main
            if main.level > top.level:
                top = main
    if dynamic_trace is not None and dynamic_trace.level > top.level:
        top = dynamic_trace
    return top.trace_type(top)


def full_raise(trace: Trace, val):
    if not isinstance(val, Tracer):
        return trace.pure(as_tensor(val))
    level = trace.main.level
    main = val._trace.main
    if main is trace.main:
        return val
    if main.level < level:
        return trace.lift(val)
    raise TracerError(f"internal: cannot lift {val} from level {main.level} to {level}")


def full_lower(val):
    if isinstance(val, Tracer):
        return val.full_lower()
    return val


def check_alive(spec, args):
    for x in args:
        if isinstance(x, Tracer) and not x._trace.main.alive:
            raise TracerError(
                f"{spec.name}: a traced value from a finished {x._trace.main.trace_type.__name__} was used "
                f"outside its transformation (operands: {describe([get_aval(a) for a in args])}). "
                "Return values from the transformed function instead of storing them in outer variables."
            )


def bind(spec, *args, **params):
    """Apply a primitive to operands, dispatching to the innermost transformation involved."""
    check_alive(spec, args)
    trace = find_top_trace(args)
    tracers = [full_raise(trace, a) for a in args]
    outs = trace.process_primitive(spec, tracers, params)
    if spec.multiple_results:
        return [full_lower(o) for o in outs]
    return full_lower(outs[0])
