"""The transformation rows of the ops table (slope/testing/op_table_transforms.py): their error inputs
are what `python -m slope verify --ops` knows of the transformations' argument checks, so together
they must reach every `raise` of slope/transforms/api.py, each with its own slope error and message."""
import ast
import os

import pytest

import slope
import slope.transforms.api as api
from slope.testing import raises
from slope.testing.op_table import OPS

ROWS = sorted(n for n, info in OPS.items() if info.fn.__module__ == "slope.testing.op_table_transforms")


def test_every_public_transformation_has_a_row():
    assert ROWS == sorted(f"ops.{n}" for n in ("jvp", "vjp", "linearize", "grad", "value_and_grad", "vmap",
                                               "jacfwd", "jacrev", "hessian", "jit"))


def test_the_jit_row_reaches_every_raise_of_the_decorator():
    """jit()'s argument checks and a jitted call's (static arguments, the signature), each with its message."""
    import slope.transforms.jit as jit_module

    path = os.path.realpath(jit_module.__file__)
    tree = ast.parse(open(path).read())
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name in ("Jitted", "jit")]
    lines = {(path, r.lineno) for s in scopes for r in ast.walk(s) if isinstance(r, ast.Raise)
             and not (isinstance(r.exc, ast.Name) and r.exc.id == "_NotFast")}  # the fast path's own signal
    assert len(lines) >= 6
    with raises.reached(path) as hit:
        for case in OPS["ops.jit"].error_inputs():
            with pytest.raises(case.error, match=case.match):
                OPS["ops.jit"].bind(*[slope.tensor(a) for a in case.args], **case.params)
    assert not lines - hit, f"no error input of ops.jit reaches: {raises.describe(lines - hit)}"


def test_error_inputs_reach_every_raise_of_the_transformations_api():
    path = os.path.realpath(api.__file__)
    with open(path) as f:
        lines = {(path, n.lineno) for n in ast.walk(ast.parse(f.read())) if isinstance(n, ast.Raise)}
    assert len(lines) > 20
    with raises.reached(path) as hit:
        for name in ROWS:
            for case in OPS[name].error_inputs():
                with pytest.raises(case.error, match=case.match):
                    OPS[name].bind(*[slope.tensor(a) for a in case.args], **case.params)
    assert not lines - hit, f"no error input of the transformation rows reaches: {raises.describe(lines - hit)}"
