"""Samplers: the Hypothesis input domain of every primitive, registered by the primitive's name.

    from slope.testing.samplers.base import draw_array, draw_shape, sampler

    @sampler("my_op")
    def _my_op_sample(draw, dtype):          # -> (list of NumPy operands, params)
        shape = draw_shape(draw)             # structural draw (replayed for vmap batches)
        return [draw_array(draw, shape, dtype, 0.1, 4.0)], {}   # value draw (fresh per member)

SAMPLERS maps a primitive's name to its sampler; `strategies.examples(spec, ...)` finds it there
(`sampler_for`). A primitive without a sampler exempts "sample" in its spec
(`Verify(exempt={"sample": Exempt...})`); tests/properties/test_completeness.py checks both
directions. base.py holds the registry, the record/replay `Draw` and the structure/value helpers;
each other module holds the samplers of one primitive family (importing this package imports them).
"""
from slope.testing.samplers import (  # noqa: F401  (each module registers its family's samplers)
    conv,
    creation,
    elementwise,
    indexing,
    jit,
    linalg,
    random,
    reduce,
    scan,
    shape,
    sort,
)
from slope.testing.samplers.base import SAMPLERS, register, sampler  # noqa: F401


def sampler_for(spec):
    """The sampler of `spec` (a Spec or a primitive's name, or an OpInfo, which holds its own), or None."""
    own = getattr(spec, "sample", None)
    return own if own is not None else SAMPLERS.get(spec if isinstance(spec, str) else spec.name)
