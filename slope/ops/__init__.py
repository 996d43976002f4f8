"""User-level tensor operations: NumPy/PyTorch semantics (broadcasting, dtype promotion, dims)
built from primitives, one module per family. Tensor methods and operators call these."""
from slope.ops import arithmetic, basics, creation, functional, indexing, linalg, promotion, reductions, shape
from slope.ops import layout, mathfns, norms, products, selection, extras
from slope.ops.promotion import *  # noqa: F401,F403
from slope.ops.arithmetic import *  # noqa: F401,F403
from slope.ops.shape import *  # noqa: F401,F403
from slope.ops.reductions import *  # noqa: F401,F403
from slope.ops.linalg import *  # noqa: F401,F403
from slope.ops.indexing import *  # noqa: F401,F403
from slope.ops.functional import *  # noqa: F401,F403
from slope.ops.creation import *  # noqa: F401,F403
from slope.ops.layout import *  # noqa: F401,F403
from slope.ops.selection import *  # noqa: F401,F403
from slope.ops.mathfns import *  # noqa: F401,F403
from slope.ops.norms import *  # noqa: F401,F403
from slope.ops.products import *  # noqa: F401,F403
from slope.ops.basics import *  # noqa: F401,F403  (after the others: its div and getitem extend theirs)
from slope.ops.extras import *  # noqa: F401,F403

from slope.ops import methods as _methods

_methods.attach()  # Tensor and Tracer methods and operators forward to the functions above

from slope.ops import torch_methods as _torch_methods  # noqa: E402

_torch_methods.attach()
linalg._namespace()  # slope.linalg.solve, ... (torch.linalg names)

__all__ = [name for family in (promotion, arithmetic, shape, reductions, linalg, indexing, functional, creation,
                                          layout, selection, mathfns, norms, products, basics, extras)
           for name in family.__all__]
