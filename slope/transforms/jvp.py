"""Forward-mode differentiation: JVPTracers carry (primal, tangent) pairs through each spec's jvp rule."""
from __future__ import annotations

from slope.core.aval import Aval
from slope.core.trace import Trace, Tracer, full_raise, get_aval, new_main
from slope.errors import TransformError
from slope.primitives.rules import zeros_like


class JVPTracer(Tracer):
    __slots__ = ("_trace", "primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace, self.primal, self.tangent = trace, primal, tangent

    def _assign(self, new):  # values: earlier results already hold the old primal and tangent
        self.primal, self.tangent = new.primal, new.tangent

    @property
    def aval(self) -> Aval:

        return get_aval(self.primal)


class JVPTrace(Trace):
    def pure(self, val):
        return JVPTracer(self, val, zeros_like(val))

    lift = pure

    def process_primitive(self, spec, tracers, params):
        if spec.jvp is None:
            raise TransformError(f"{spec.name}: has no JVP rule ({spec.verify.reason('jvp') or spec.verify.reason('grad', 'not differentiable')})")
        primals = [t.primal for t in tracers]
        tangents = [t.tangent for t in tracers]
        primal_outs, tangent_outs = spec.jvp(primals, tangents, **params)
        return [JVPTracer(self, p, t) for p, t in zip(primal_outs, tangent_outs)]


def jvp_flat(f, primals, tangents):
    with new_main(JVPTrace) as main:
        trace = JVPTrace(main)
        tracers_in = [JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
        outs = f(*tracers_in)

        tracers_out = [full_raise(trace, o) for o in outs]
        return [t.primal for t in tracers_out], [t.tangent for t in tracers_out]
