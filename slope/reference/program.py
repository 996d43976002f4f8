"""The oracle of a staged program: its equations run in order with each primitive's reference."""
from __future__ import annotations

import numpy as np

__all__ = ["jit_call"]


def _np_param(v):
    """A slope dtype param as its NumPy dtype (a DType carries it as `.np`); tuples element-wise."""
    if isinstance(v, tuple):
        return tuple(_np_param(x) for x in v)
    np_dtype = getattr(v, "np", None)
    return np_dtype if isinstance(np_dtype, np.dtype) else v


def jit_call(*args, program):
    """Interpret `program` (slope's Program IR: in_vars, eqns of `spec(inputs, **params) -> outs`,
    outs) with the NumPy references of its primitives; a nested jit_call recurses here."""
    env = dict(zip(program.in_vars, args))
    for e in program.eqns:
        params = {k: _np_param(v) for k, v in e.params.items()}
        outs = e.spec.reference(*[env[v] for v in e.inputs], **params)
        env.update(zip(e.outs, outs if e.spec.multiple_results else [outs]))
    return tuple(np.asarray(env[v]) for v in program.outs)
