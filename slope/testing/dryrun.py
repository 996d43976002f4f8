"""Compiling ahead in shared modules: dry runs that note the programs code would compile, and
the eager executables of a staged program's equations.

A conformance row draws its (derandomized) examples twice: first under `collecting()`, where the
installed backend is wrapped so that every compile request of a module not cached yet is noted;
then, after compile_many has built all the noted modules as the functions of a few shared IREE
modules, for real, finding everything cached.

A dry run has two depths. `collecting()` (a probe) aborts each example at its first compile
request (Deferred): cheap, and enough to tell a warm row (nothing noted) from a cold one.
`collecting(through=True)` lets each example run to its end: a module already cached runs for
real, one not cached yet is noted and stands in as a `Pending` executable that returns zeros of
its output types, so that the example goes on to ask for the modules after it (an eager check of
a composite op compiles one module per primitive, one after the other). A Pending kept by a cache
above the backend (an eager memo, a jitted program) compiles, i.e. finds in the cache, its module
when it is first called outside the dry run."""
from __future__ import annotations

import contextlib

import numpy as np

from slope.backends.iree import compile as iree_compile
from slope.core import backend


class Deferred(BaseException):
    """Raised by a compile request inside `collecting()`: noted, not compiled or run. A
    BaseException, so that no `except Exception` on the way up mistakes it for a failure."""


_through = [False]  # inside collecting(through=True): Pending executables return zeros


class Pending:
    """The executable of a module a dry run noted: zeros while the dry run lasts, the real
    (compiled or cached) executable afterwards."""

    def __init__(self, real, compile_fn, program, name):
        self._real, self._compile, self._program, self._name = real, compile_fn, program, name
        self.out_avals = program.out_avals
        self._exe = None

    def _resolve(self):
        if self._exe is None:
            if _through[0]:
                raise Deferred(self._name)
            self._exe = self._compile(self._program, self._name)
        return self._exe

    def __call__(self, bufs):
        if self._exe is None and _through[0]:
            return [self._real.to_device(np.zeros(a.shape, a.dtype.np)) for a in self.out_avals]
        return self._resolve()(bufs)

    def call_binary(self, a, b):
        """The IREE executable's fast path for a single-result binary op (slope.ops.eager's memo)."""
        if self._exe is None and _through[0]:
            return self([a, b])[0]
        return self._resolve().call_binary(a, b)

    def __getattr__(self, attr):
        return getattr(self._resolve(), attr)


class _Noting:
    """The installed backend, but compile() notes a program not cached yet and stands in for it
    (or, in a probe, aborts with Deferred whether it is cached or not)."""

    def __init__(self, real, jobs, through):
        self.real, self.jobs, self.through = real, jobs, through

    def __getattr__(self, attr):  # all but compiling is the real backend's (to_device, view, module, ...)
        return getattr(self.real, attr)

    def compile(self, program, name):
        return self._note(self.real.module, self.real.compile, program, name)

    def compile_eager(self, program, name):
        return self._note(self.real.eager_module, self.real.compile_eager, program, name)

    def _note(self, module, compile_fn, program, name):
        text, needs = module(program)
        if not iree_compile.cached(text, needs):
            self.jobs.append((text, name, program.in_avals, program.out_avals, needs))
            if self.through:
                return Pending(self.real, compile_fn, program, name)
        elif self.through:
            return compile_fn(program, name)
        raise Deferred(name)


def active() -> bool:
    """Inside a dry run (collecting())."""
    return isinstance(backend.get(), _Noting)


@contextlib.contextmanager
def collecting(through: bool = False):
    """Within this block nothing compiles: yields the list of compile_many jobs noted (see the
    module docstring for the two depths)."""
    jobs: list = []
    real = backend.get()
    if active():  # code under a dry run (prefetch_call of a test) dry-runs: end the outer one here
        raise Deferred("collecting() inside collecting()")
    backend.install(_Noting(real, jobs, through))
    _through[0] = through
    try:
        yield jobs
    finally:
        _through[0] = False
        backend.install(real)


def eager_jobs(eqns) -> list:
    """The compile_many jobs, not cached yet, of the executables that evaluating these equations
    eagerly will ask for (primitives with a Python eager rule ask for none)."""
    jobs = []
    for e in eqns:
        if e.spec.eager is not None:
            continue
        program, name = e.spec.eager_program([v.aval for v in e.inputs], e.params)
        text, needs = backend.get().eager_module(program)
        if not iree_compile.cached(text, needs):
            jobs.append((text, name, program.in_avals, program.out_avals, needs))
    return jobs


def precompile_eager(eqns) -> None:
    """Compile, a few dozen per IREE module, the executables that evaluating these equations
    eagerly will ask for (e.g. the eqns of `slope.jit(f).lower(...).program` before running f
    eagerly, which would otherwise compile one module per op)."""
    iree_compile.compile_many(eager_jobs(eqns))


def prefetch_call(run, budget_s: float = 30.0) -> int:
    """Run `run()` as a dry run through to its end (note_call), then compile what it noted as the
    functions of shared modules (compile_jobs), so that running it for real finds its programs
    cached instead of compiling them one module each (~0.3-0.5 s of iree-compile apiece, ~0.1 s in
    a shared module). Returns the number of programs it noted (and compiled)."""
    jobs = note_call(run, budget_s)
    compile_jobs(jobs)
    return len(jobs)


def compile_jobs(jobs) -> None:
    """compile_many(jobs), a failing compile dropped: the real run compiles that program alone and
    reports it."""
    if jobs:
        try:
            iree_compile.compile_many(jobs)
        except Exception:  # noqa: BLE001 (see above)
            pass


def note_call(run, budget_s: float = 30.0) -> list:
    """The compile_many jobs of the programs `run()` asks for and that are not cached yet, found by
    running it as a dry run through to its end. Whatever the dry run raises is dropped (a test's
    checks fail on zeros; the real run shows real failures). The dry run ends where `run` starts a
    process (a subprocess runs for real, twice would only cost time) and after `budget_s` seconds
    where SIGALRM can be used (the main thread)."""
    import os
    import signal
    import subprocess
    import threading

    def stop(*_):
        raise Deferred("the dry run started a process or ran out of time")

    timed = threading.current_thread() is threading.main_thread() and \
        signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    jobs: list = []
    popen_init, fork = subprocess.Popen.__init__, os.fork
    subprocess.Popen.__init__, os.fork = stop, stop
    if timed:
        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, budget_s)
    try:
        with collecting(through=True) as jobs:
            try:
                run()
            finally:
                if timed:
                    signal.setitimer(signal.ITIMER_REAL, 0)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 (any outcome of a dry run is dropped, see above)
        pass
    finally:
        subprocess.Popen.__init__, os.fork = popen_init, fork
        if timed:
            signal.signal(signal.SIGALRM, previous)
    return jobs
