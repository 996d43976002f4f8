"""Which `raise` statements of a primitive's shape/dtype rule its error inputs reach.

A rule's check that no error input reaches is untested: it may raise the wrong error, name the
wrong op, or be dead. A rule is its `abstract_eval`, the functions its closure holds and the helpers
of the primitive families it calls. `check_errors` runs a spec's error inputs under `reached()` and
fails when a raise in a function only that spec's rule uses was never executed; a raise in a helper
several rules share (`check_same`, a family's factory) must be reached by the error inputs of at
least one of them (`shared_raises`, checked over the registry by tests/properties).
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import os
import sys
import textwrap
import types

import slope.primitives as _primitives

PRIMITIVES_DIR = os.path.dirname(os.path.realpath(_primitives.__file__))


def _in_primitives(code, root: str = PRIMITIVES_DIR) -> bool:
    return os.path.realpath(code.co_filename).startswith(root)


def _helpers(fn, depth=3):
    """fn and the functions of slope/primitives it can call: closure cells, globals it names, nested
    lambdas (a rule built by a factory keeps its pieces in its closure)."""
    out, todo = [], [(fn, 0)]
    while todo:
        f, d = todo.pop()
        f = inspect.unwrap(f)
        code = getattr(f, "__code__", None)
        if code is None or not _in_primitives(code) or any(f is g for g in out):
            continue
        out.append(f)
        if d == depth:
            continue
        for cell in f.__closure__ or ():
            try:
                todo.append((cell.cell_contents, d + 1))
            except ValueError:
                pass
        g = getattr(f, "__globals__", {})
        todo += [(g[n], d + 1) for n in code.co_names if isinstance(g.get(n), types.FunctionType)]
    return out


def _raise_lines(fn) -> set[tuple[str, int]]:
    try:
        src, first = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(src)))
    except (OSError, TypeError, SyntaxError):  # a lambda inside a larger expression: no raise in it
        return set()
    path = os.path.realpath(fn.__code__.co_filename)
    return {(path, first + n.lineno - 1) for n in ast.walk(tree) if isinstance(n, ast.Raise)}


def _code_key(f):
    return f.__code__.co_filename, f.__code__.co_firstlineno


def _function_users(registry):
    """{function's code location: (the function, names of the specs whose rule uses it)}."""
    users: dict = {}
    for name, spec in registry.items():
        for f in _helpers(spec.abstract_eval):
            users.setdefault(_code_key(f), (f, set()))[1].add(name)
    return users


def owned_raises(spec, registry) -> set[tuple[str, int]]:
    """(file, line) of every raise in functions of the spec's rule that no other rule uses."""
    users = _function_users(registry)
    return {r for f in _helpers(spec.abstract_eval) if users.get(_code_key(f), (None, {spec.name}))[1] == {spec.name}
            for r in _raise_lines(f)}


def shared_raises(registry) -> dict[tuple[str, int], set[str]]:
    """(file, line) of every raise in a function several rules use -> the names of those primitives."""
    return {r: names for f, names in _function_users(registry).values() if len(names) > 1 for r in _raise_lines(f)}


@contextlib.contextmanager
def reached(root: str = PRIMITIVES_DIR):
    """Record the (file, line) of every line executed in slope/primitives (or the files under `root`)
    inside the block."""
    hit: set[tuple[str, int]] = set()
    root = os.path.realpath(root)

    def local(frame, event, arg):
        if event == "line":
            hit.add((frame.f_code.co_filename, frame.f_lineno))
        return local

    def tracer(frame, event, arg):
        if event == "call" and _in_primitives(frame.f_code, root):
            return local
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield hit
    finally:
        sys.settrace(previous)
    real = {(os.path.realpath(f), n) for f, n in hit}
    hit.clear()
    hit.update(real)


def describe(lines) -> str:
    out = []
    for path, n in sorted(lines):
        with open(path) as f:
            text = f.read().splitlines()[n - 1].strip()
        out.append(f"{os.path.relpath(path, os.path.dirname(PRIMITIVES_DIR))}:{n}: {text}")
    return "; ".join(out)
