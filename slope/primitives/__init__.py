"""All primitive specs, one module per family; importing this package registers them in REGISTRY."""
from slope.primitives.spec import REGISTRY, ErrorInput, Spec, register  # noqa: F401
from slope.primitives import elementwise, creation, shape, reduce, linalg  # noqa: F401,E402
from slope.primitives import scan, sort, conv  # noqa: F401,E402
from slope.primitives import indexing  # noqa: F401,E402
