"""One StableHLO lowering per primitive, registered by name in emitter.LOWERINGS, a module per
family of primitives (as slope/primitives). Adding a primitive adds its lowering here."""
from slope.backends.iree.lowerings import (  # noqa: F401  (each module registers its lowerings)
    conv, creation, decomp, elementwise, indexing, jit, linalg, random, reduce, scan, shape, sort,
)
