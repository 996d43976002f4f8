"""IREE backend: StableHLO text emission, compilation with a disk cache, and the runtime.

Importing it installs IREEBackend as slope's backend (slope.core.backend)."""
# Loaded with slope (not on the first compile) so a disk-cache hit costs only the hit itself.
from slope.backends.iree import compile, lowering, lowerings, polymorphic, profile, runtime  # noqa: F401  (lowerings: registers them)
from slope.core import backend as _backend
from slope.core.program import print_program


class IREEBackend:
    """slope.core.backend's interface on IREE: data in HAL buffers, programs as StableHLO modules."""

    to_device = staticmethod(runtime.to_device)
    to_host = staticmethod(runtime.to_host)
    view = staticmethod(runtime.view)
    buffer_key = staticmethod(runtime.buffer_key)

    @staticmethod
    def text(program) -> str:
        return lowering.lower_program(program)

    @staticmethod
    def module(program):
        """(StableHLO text, Needs): what compile.compile_module / compile_many take for a Program."""
        return lowering.lower_module(program)

    @staticmethod
    def compile(program, name: str):
        """The executable of a Program, compiled once (memory and disk caches; LOG_JIT prints it)."""
        text, needs = lowering.lower_module(program)
        return compile.compile_module(text, name, program.in_avals, program.out_avals, print_program(program),
                                      needs=needs)

    @staticmethod
    def eager_module(program):
        """module() of a program run eagerly (a primitive alone, or an op's route from slope.ops.eager):
        shape-polymorphic where that is provably the same program (polymorphic.py), so that one
        module serves every shape."""
        static = lowering.lower_module(program)
        return polymorphic.dynamic_module(program, static[0]) or static

    @staticmethod
    def compile_eager(program, name: str):
        """compile() of a program run eagerly, through eager_module."""
        text, needs = IREEBackend.eager_module(program)
        return compile.compile_module(text, name, program.in_avals, program.out_avals, print_program(program),
                                      needs=needs)


_backend.install(IREEBackend)
profile._from_environment()  # SLOPE_PROFILE_OPS=1: profile the whole process, print the table at exit
