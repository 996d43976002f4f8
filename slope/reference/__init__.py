"""NumPy reference implementations ("oracle") of every slope primitive.

Each function takes NumPy arrays positionally plus keyword-only params and
returns NumPy arrays with exactly the dtype the primitive produces.
"""
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .program import *  # noqa: F401,F403
from .random import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sort import *  # noqa: F401,F403
import importlib as _importlib  # noqa: E402

# The package attribute `sort` is the function (star import wins), so the
# submodules are looked up by full name.
__all__ = sorted(
    name
    for _m in ("creation", "elementwise", "indexing", "linalg", "program", "random", "reduce", "shape", "sort")
    for name in _importlib.import_module(f"{__name__}.{_m}").__all__
)
