"""All primitive specs, one module per family; importing this package registers them in REGISTRY."""
from slope.primitives import (  # noqa: F401,E402  # noqa: F401,E402
    conv,
    creation,
    decomp,
    elementwise,
    indexing,  # noqa: F401,E402
    linalg,
    random,
    reduce,
    scan,
    shape,
    sort,
)
from slope.primitives.spec import REGISTRY, ErrorInput, Spec, register  # noqa: F401
