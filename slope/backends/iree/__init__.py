"""IREE backend: StableHLO text emission, compilation with a disk cache, and the runtime."""
# Loaded with slope (not on the first compile) so a disk-cache hit costs only the hit itself.
from slope.backends.iree import compile, runtime  # noqa: F401,E402
