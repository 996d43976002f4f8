"""IREE backend: StableHLO text emission, compilation with a disk cache, and the runtime.

Importing it installs the runtime as the store of tensor data (core.tensor.set_device)."""
# Loaded with slope (not on the first compile) so a disk-cache hit costs only the hit itself.
from slope.backends.iree import compile, runtime  # noqa: F401
from slope.core import tensor as _tensor

_tensor.set_device(runtime)
