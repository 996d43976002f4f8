"""The counter-based PRNG primitive: threefry2x32, the block cipher behind slope.random (as JAX's)."""
from __future__ import annotations

import numpy as np

from slope import reference as ref
from slope.core.aval import Aval
from slope.errors import DTypeError, ShapeError, describe
from slope.primitives.rules import bdim_at_front, zeros_like
from slope.primitives.spec import REGISTRY, ErrorInput, Spec, register
from slope.primitives.verify import Exempt, Verify


def _threefry_rule(k1, k2, x1, x2):
    avals = (k1, k2, x1, x2)
    if any(a.dtype.name != "uint32" for a in avals):
        raise DTypeError(f"threefry2x32: operands (k1, k2, x1, x2) must all be uint32, got {describe(avals)}")
    if len({a.shape for a in avals}) > 1:
        raise ShapeError(f"threefry2x32: operands (k1, k2, x1, x2) must have equal shapes, got {describe(avals)}")
    return [Aval(x1.shape, x1.dtype), Aval(x1.shape, x1.dtype)]


def _threefry_jvp(primals, tangents):
    outs = REGISTRY["threefry2x32"].bind(*primals)
    return outs, [zeros_like(o) for o in outs]


def _threefry_vmap(axis_size, args, dims):
    batched = [d for d in dims if d is not None]
    if all(d == batched[0] for d in dims):  # every operand batched at the same dim: elementwise as is
        return REGISTRY["threefry2x32"].bind(*args), [batched[0]] * 2
    args = [bdim_at_front(x, d, axis_size) for x, d in zip(args, dims)]
    return REGISTRY["threefry2x32"].bind(*args), [0, 0]


def _threefry_edge_cases(dtype):
    z, m = np.zeros((2,), np.uint32), np.full((2,), 0xFFFFFFFF, np.uint32)
    ctr = np.array([0, 1], np.uint32)
    return [([z, z, z, z], {}), ([m, m, m, m], {}), ([z, m, z, ctr], {})]


def _u32(*shape):
    return np.zeros(shape, np.uint32)


threefry2x32 = register(Spec(
    name="threefry2x32",
    abstract_eval=_threefry_rule,
    reference=ref.threefry2x32,
    jvp=_threefry_jvp,
    vmap=_threefry_vmap,
    multiple_results=True,
    verify=Verify(dtypes=("uint32",), edge_cases=_threefry_edge_cases,
                  exempt={"transpose": Exempt.INTEGER_OUTPUT, "grad": Exempt.INTEGER_OUTPUT}),
    error_inputs=lambda: [
        ErrorInput([_u32(3), _u32(3), _u32(3), np.zeros(3, np.int32)], {}, DTypeError,
                   r"threefry2x32: operands \(k1, k2, x1, x2\) must all be uint32, got u32\[3\], u32\[3\], u32\[3\], "
                   r"i32\[3\]"),
        ErrorInput([_u32(), _u32(), _u32(3), _u32(3)], {}, ShapeError,
                   r"threefry2x32: operands \(k1, k2, x1, x2\) must have equal shapes, got u32\[\], u32\[\]"),
    ],
    doc="Threefry-2x32 block cipher (20 rounds, Random123/JAX): encrypt counters (x1, x2) under key (k1, k2); "
        "uint32, equal shapes",
))
