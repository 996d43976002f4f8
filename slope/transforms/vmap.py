"""Vectorizing map: BatchTracers carry a value plus which of its dims is the batch dim."""
from __future__ import annotations

from slope.core.trace import Trace, Tracer, full_lower, full_raise, get_aval, new_main
from slope.errors import TransformError
from slope.primitives.rules import bdim_at_front, moveaxis

not_mapped = None


class BatchTracer(Tracer):
    __slots__ = ("_trace", "val", "batch_dim")

    def __init__(self, trace, val, batch_dim):
        self._trace, self.val, self.batch_dim = trace, val, batch_dim

    def _assign(self, new):
        self.val, self.batch_dim = new.val, new.batch_dim

    @property
    def aval(self):
        aval = get_aval(self.val)
        if self.batch_dim is None:
            return aval
        shape = list(aval.shape)
        del shape[self.batch_dim]
        return aval.update(shape=shape)

    def full_lower(self):
        if self.batch_dim is None:

            return full_lower(self.val)
        return self


class BatchTrace(Trace):
    def pure(self, val):
        return BatchTracer(self, val, None)

    lift = pure

    @property
    def axis_size(self):
        return self.main.global_data

    def process_primitive(self, spec, tracers, params):
        vals = [t.val for t in tracers]
        dims = [t.batch_dim for t in tracers]
        if all(d is None for d in dims):
            outs = spec.bind(*vals, **params)
            outs = outs if spec.multiple_results else [outs]
            return [BatchTracer(self, o, None) for o in outs]
        if spec.vmap is None:
            raise TransformError(f"{spec.name}: has no vmap rule")
        outs, out_dims = spec.vmap(self.axis_size, vals, dims, **params)
        return [BatchTracer(self, o, d) for o, d in zip(outs, out_dims)]


def vmap_flat(f, axis_size, in_dims, out_dims_request, args):
    """Run f on args batched along in_dims; return outputs with batch dims moved to out_dims_request."""
    with new_main(BatchTrace, axis_size) as main:
        trace = BatchTrace(main)
        tracers = [BatchTracer(trace, x, d) if d is not None else x for x, d in zip(args, in_dims)]
        outs = f(*tracers)
        outs = [full_raise(trace, o) for o in outs]
        vals, dims = [t.val for t in outs], [t.batch_dim for t in outs]
    result = []
    for v, d, want in zip(vals, dims, out_dims_request):
        if want is None:
            if d is not None:
                raise TransformError(f"vmap: out_axes=None but an output is batched along dim {d}")
            result.append(v)
            continue
        if d is None:
            v = bdim_at_front(v, None, axis_size)
            d = 0
        ndim = len(get_aval(v).shape)
        if not -ndim <= want < ndim:
            raise TransformError(f"vmap: out_axes {want} out of range for an output of shape "
                                 f"{tuple(get_aval(v).shape[:d] + get_aval(v).shape[d + 1:])} (batched, it has "
                                 f"{ndim} dims: expected an axis in [{-ndim}, {ndim - 1}])")
        result.append(moveaxis(v, d, want % ndim))
    return result
