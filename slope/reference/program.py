"""The oracle of a staged program: its equations run in order with each primitive's reference."""
from __future__ import annotations

import numpy as np

__all__ = ["jit_call"]


def np_params(params, promote_floats=False):
    """Params for a NumPy reference: slope dtypes (they carry their NumPy dtype as `.np`) become NumPy
    dtypes, float ones float64 if `promote_floats`; tuples and lists element-wise."""
    return {k: _np_param(v, promote_floats) for k, v in params.items()}


def _np_param(v, promote):
    if isinstance(v, tuple):
        return tuple(_np_param(x, promote) for x in v)
    if isinstance(v, list):
        return [_np_param(x, promote) for x in v]
    np_dtype = getattr(v, "np", None)
    if not isinstance(np_dtype, np.dtype):
        return v
    return np.dtype(np.float64) if promote and v.is_float else np_dtype


def _promoted(args, program) -> bool:
    """Whether the caller fed a float operand wider than the program was staged for (the float64
    derivative truth of a float32 program): then its float constants and conversions are float64 too,
    or they would round that truth back to float32 mid-program."""
    for a, v in zip(args, program.in_vars):
        given, staged = np.asarray(a).dtype, v.aval.dtype
        if staged.is_float and given.kind == "f" and given.itemsize > staged.np.itemsize:
            return True
    return False


def jit_call(*args, program):
    """Interpret `program` (slope's Program IR: in_vars, eqns of `spec(inputs, **params) -> outs`,
    outs) with the NumPy references of its primitives; a nested jit_call recurses here."""
    env = dict(zip(program.in_vars, args))
    promote = _promoted(args, program)
    for e in program.eqns:
        params = np_params(e.params, promote)
        outs = e.spec.reference(*[env[v] for v in e.inputs], **params)
        env.update(zip(e.outs, outs if e.spec.multiple_results else [outs]))
    return tuple(np.asarray(env[v]) for v in program.outs)
