"""The one backend slope runs on, seen from core and the layers above it.

Core, the primitives and the transformations do not import a backend: the backend installs an
object with this interface when slope is imported (slope.backends.iree does), and they call it:

  to_device(array) -> buffer             copy a NumPy array to the device
  to_host(buffer, aval) -> np.ndarray    a fresh NumPy copy of a buffer
  view(buffer, aval) -> buffer           the same data seen with aval's shape (eager reshape)
  buffer_key(buffer) -> hashable         equal for views of the same data
  compile(program, name) -> executable   a callable list[buffer] -> list[buffer] with .out_avals
  text(program) -> str                   the program as the backend's source text (StableHLO)
  module(program) -> (text, needs)       what the backend compiles for a program
  eager_module(program) -> (text, needs) the same for a program run eagerly (may serve any shape)
  compile_eager(program, name)           compile() through eager_module
"""
from __future__ import annotations

from slope.errors import BackendError

_installed = None


def install(backend) -> None:
    global _installed
    _installed = backend


def get():
    if _installed is None:
        raise BackendError("no backend is installed: import slope (which installs the IREE backend)")
    return _installed
