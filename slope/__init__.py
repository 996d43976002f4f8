"""slope: a small JAX-like tensor and autodiff engine compiled with IREE, every primitive verified.

    import slope
    x = slope.arange(15, dtype=slope.float32).reshape(5, 3)
    f = slope.jit(lambda x: (x * x).sum())
    slope.grad(f)(x)
"""
from slope.core.dtypes import (  # noqa: F401
    DType, bfloat16, bool_, dtype, float16, float32, float64, int8, int16, int32, int64, uint8, uint32,
)
from slope.core.aval import Aval  # noqa: F401
from slope.core.tensor import Tensor, tensor  # noqa: F401
from slope.core.live import memory_stats  # noqa: F401  (live tensors, their device bytes, RSS)
from slope.core.pytree import (  # noqa: F401
    register_pytree_node, tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten,
)
from slope.errors import (  # noqa: F401
    ArgumentError, BackendError, DeviceError, DomainError, DTypeError, ExportError, OutOfBoundsError, OutOfMemoryError,
    ShapeError, SlopeError, TracerError, TransformError,
)
from slope import primitives  # noqa: F401  (registers every primitive spec)
from slope.backends import iree as _iree  # noqa: F401  (installs the IREE runtime as the store of tensor data)
from slope.backends.iree.profile import profiler  # noqa: F401  (per-program calls and times)
from slope import lax  # noqa: F401
from slope.transforms.jit import jit  # noqa: F401
from slope.transforms import partial_eval as _partial_eval  # noqa: F401
from slope.transforms.api import (  # noqa: F401
    grad, hessian, jacfwd, jacrev, jvp, linearize, value_and_grad, vjp, vmap,
)
from slope.ops import *  # noqa: F401,F403
from slope.ops import abs, max, min, pow, round, sum  # noqa: F401  (shadow builtins on purpose, like torch)
from slope import random  # noqa: F401  (slope.random: threefry keys and samplers, bit-exact with jax.random)
from slope.random.torch_style import manual_seed, rand, randint, randn  # noqa: F401
from slope import data, io, nn, optim  # noqa: F401  (layers, optimizers, the DataLoader, checkpoints)
from slope.io import load, save  # noqa: F401  (safetensors checkpoints)
from slope.ops import linalg  # noqa: F401  (slope.linalg.solve, ...: torch.linalg's names)
from slope.export import export, load as load_exported  # noqa: F401,E402  (slope.export(f, ...), slope.export.load)

bool = bool_  # noqa: A001  slope.bool, like torch.bool
long, int, float, double, half, short = int64, int32, float32, float64, float16, int16  # noqa: A001  torch's aliases
stop_gradient = ops.stop_gradient  # noqa: F405
__version__ = "0.1.0"
