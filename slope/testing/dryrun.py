"""Compiling ahead in shared modules: dry runs that note the programs code would compile, and
the eager executables of a staged program's equations.

A conformance cell draws its (derandomized) examples twice: first under `collecting()`, where
the installed backend is wrapped so that every compile request notes its module (if not cached
yet) and aborts the call with Deferred; then, after compile_many has built all the noted modules
as the functions of a few shared IREE modules, for real, finding everything cached."""
from __future__ import annotations

import contextlib

from slope.backends.iree import compile as iree_compile
from slope.core import backend


class Deferred(BaseException):
    """Raised by a compile request inside `collecting()`: noted, not compiled or run. A
    BaseException, so that no `except Exception` on the way up mistakes it for a failure."""


class _Noting:
    """The installed backend, but compile() notes the program and raises Deferred."""

    def __init__(self, real, jobs):
        self.real, self.jobs = real, jobs
        self.to_device, self.to_host, self.text, self.module = real.to_device, real.to_host, real.text, real.module

    def compile(self, program, name):
        text, needs = self.real.module(program)
        if not iree_compile.cached(text, needs):
            self.jobs.append((text, name, program.in_avals, program.out_avals, needs))
        raise Deferred(name)


@contextlib.contextmanager
def collecting():
    """Within this block nothing compiles or runs: yields the list of compile_many jobs noted."""
    jobs: list = []
    real = backend.get()
    backend.install(_Noting(real, jobs))
    try:
        yield jobs
    finally:
        backend.install(real)


def precompile_eager(eqns) -> None:
    """Compile, a few dozen per IREE module, the executables that evaluating these equations
    eagerly will ask for (e.g. the eqns of `slope.jit(f).lower(...).program` before running f
    eagerly, which would otherwise compile one module per op)."""
    jobs = []
    for e in eqns:
        program, name = e.spec.eager_program([v.aval for v in e.inputs], e.params)
        text, needs = backend.get().module(program)
        jobs.append((text, name, program.in_avals, program.out_avals, needs))
    iree_compile.compile_many(jobs)
