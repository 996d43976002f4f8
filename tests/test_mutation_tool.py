"""ci/mutation.py, the harness's own measure: its mutants are valid single-site edits, each is
routed to the primitives whose code it touches, and every listed equivalent mutant still exists."""
import ast
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("mutation", ROOT / "ci" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
sys.modules["mutation"] = mutation  # dataclasses look their module up
_spec.loader.exec_module(mutation)


@pytest.fixture(scope="module")
def mutants():
    return [m for f in mutation.target_files(sorted(mutation.TARGETS)) for m in mutation.mutants_of(f)]


@pytest.fixture(scope="module")
def ranges():
    return mutation.primitive_map()


def test_every_mutant_is_one_valid_edit(mutants):
    assert len(mutants) > 1000
    texts = {}
    for k, m in enumerate(mutants):
        text = texts.setdefault(m.path, (ROOT / m.path).read_text())
        new = m.apply(text)
        assert new != text and new[:m.start] == text[:m.start]
        ast.parse(m.replacement, mode="eval")  # an expression for an expression
        if k % 100 == 0:
            ast.parse(new)  # and the file still parses: a mutant is a bug, not a syntax error
    assert len({(m.path, m.start, m.end, m.replacement) for m in mutants}) == len(mutants)


def test_operators_cover_rules_oracles_and_lowerings(mutants):
    seen = {(m.path.split("/")[1 if "backends" not in m.path else 3], m.operator) for m in mutants}
    for family in ("primitives", "reference", "transforms", "lowerings"):
        assert {op for f, op in seen if f == family} >= {"arithmetic", "comparison", "constant"}, family
    assert any(op == "stablehlo" for _, op in seen)


def test_no_mutant_in_docstrings_messages_or_samplers(mutants):
    for m in mutants:
        assert "raise " not in m.source_line or " if " in m.source_line, m.label
        assert "sampling.py" not in m.path


def test_no_mutant_in_test_data(mutants):
    """Edge cases and error inputs are the check, not the code checked: a change there is no planted bug."""
    for m in mutants:
        assert "ErrorInput(" not in m.source_line, m.label
    conv = [m for m in mutants if m.path == "slope/primitives/conv.py"]
    edges = ast.parse((ROOT / "slope/primitives/conv.py").read_text())
    fn = next(n for n in ast.walk(edges) if isinstance(n, ast.FunctionDef) and n.name == "_conv_edges")
    assert conv and not [m.label for m in conv if fn.lineno <= m.line <= fn.end_lineno]
    assert not mutation._is_test_data("_param_error")  # it raises: code under test


def test_the_same_change_twice_on_a_line_has_two_keys(mutants):
    line = "if out.size == 0 or in_avals[0].size == 0 or in_avals[1].size == 0:"
    ms = [m for m in mutants if m.source_line == line and m.original == "0" and m.replacement == "1"]
    assert [m.nth for m in ms] == [1, 2, 3, 4]
    assert len({m.key for m in ms}) == 4


@pytest.mark.parametrize("path,line_text,expected", [
    ("slope/reference/elementwise.py", 'cos = _unary("cos", np.cos)', ["cos"]),
    ("slope/primitives/elementwise.py", '("sin", lambda x, y, t: lax.mul(t, lax.cos(x))', ["sin"]),
])
def test_mutants_verify_the_primitive_they_touch(mutants, ranges, path, line_text, expected):
    ms = [m for m in mutants if m.path == path and m.source_line.startswith(line_text)]
    assert ms, line_text
    for m in ms:
        assert mutation.affected(m, ranges) == expected, m.label


def test_code_serving_every_primitive_verifies_the_representative_set(mutants, ranges):
    m = next(m for m in mutants if m.path == "slope/transforms/transpose.py")
    assert mutation.affected(m, ranges) == [n for n in mutation.REPRESENTATIVE if n in ranges]


def test_equivalent_mutants_are_live_and_explained(mutants):
    keys = {m.key for m in mutants}
    for key, reason in json.loads(mutation.EQUIVALENT.read_text()).items():
        assert key in keys, f"ci/mutation_equivalent.json lists a mutant that no longer exists: {key}"
        assert len(reason) > 20


def test_score_leaves_out_equivalent_and_stillborn_mutants(mutants):
    key = next(iter(json.loads(mutation.EQUIVALENT.read_text())))
    equivalent = next(m for m in mutants if m.key == key)
    others = [m for m in mutants if m.key != key][:4]
    results = [(others[0], [], {"status": "killed"}), (others[1], [], {"status": "killed"}),
               (others[2], [], {"status": "survived"}), (others[3], [], {"status": "stillborn"}),
               (equivalent, [], {"status": "survived"})]
    assert mutation.score(results) == 2 / 3
    text = mutation.report(results, 1.0)
    assert text.startswith("mutation score: 66.7% (2 killed of 3 scored mutants; 1 broke `import slope`, 1 equivalent")
    assert others[2].label in text and equivalent.label not in text


def test_transformation_api_mutants_also_verify_the_transformation_rows(mutants, ranges):
    """Argument checks of slope.grad/vmap/jacfwd/... are reached by their ops rows alone (verify --ops)."""
    from slope.testing.op_table import OPS

    m = next(m for m in mutants if m.path == mutation.TRANSFORM_API)
    names = mutation.affected(m, ranges)
    assert names[:len(names) - len(mutation.TRANSFORM_ROWS)] == [n for n in mutation.REPRESENTATIVE if n in ranges]
    assert set(mutation.TRANSFORM_ROWS) <= set(names)
    rows = {n for n, info in OPS.items() if info.fn.__module__ == "slope.testing.op_table_transforms"}
    assert rows == {r for own in mutation.USER_FACING_ROWS.values() for r in own}  # every transformation row
    jitted = next(m for m in mutants if m.path == "slope/transforms/jit.py" and "kwargs" in m.label)
    assert "ops.jit" in mutation.affected(jitted, ranges)  # the decorator's call handling: the ops.jit row


def test_the_suite_runs_from_an_unmodified_copy(tmp_path):
    """--suite runs pytest from a copy of the package: the tests that import `tests.<module>`
    (test_llama.py) failed to collect there, so every verify survivor counted as killed by the suite."""
    mutation._copy_package(tmp_path)
    assert mutation.suite_baseline(tmp_path, ["tests/test_llama.py"]) is None
    assert "no_such_test" in mutation.suite_baseline(tmp_path, ["tests/no_such_test.py"])


def test_lowering_mutants_also_verify_jit_call(mutants, ranges):
    """reduce_sum's axis-by-axis workaround (pitfall 17) is only visible in a program that multiplies by a
    broadcast before the sum: jit_call's edge case, not reduce_sum's own row."""
    from slope.core import dtypes
    from slope.primitives import REGISTRY

    m = next(m for m in mutants if m.path == "slope/backends/iree/lowerings/reduce.py"
             and m.source_line.startswith('if name == "reduce_sum" and len(axes) > 1:'))
    assert mutation.affected(m, ranges) == ["reduce_max", "reduce_min", "reduce_prod", "reduce_sum", "jit_call"]
    programs = [params["program"] for _, params in REGISTRY["jit_call"].verify.edge_cases(dtypes.float32)]
    assert [e.spec.name for e in programs[0].eqns] == ["broadcast_in_dim", "mul", "reduce_sum"]
    assert programs[1].name == "commutative_twins"  # pitfall 35's workaround (the emitter's operand order)


def test_failing_cells_and_kills_by_column(mutants):
    matrix = ("| primitive | jit | vmap | float64 |\n|---|---|---|---|\n"
              "| sin | pass | **FAIL** | **FAIL** |\n| exp | pass | pass | exempt |\n\n2 primitives: ...\n")
    assert mutation.failing_cells(matrix) == ["sin:vmap", "sin:float64"]
    results = [(mutants[0], [], {"status": "killed", "cells": ["sin:vmap", "exp:vmap", "sin:float64"]}),
               (mutants[1], [], {"status": "killed", "cells": ["sin:vmap"]}),
               (mutants[2], [], {"status": "killed", "cells": []}),  # timed out: no matrix
               (mutants[3], [], {"status": "survived", "cells": []})]
    assert mutation.column_kills(results) == {"vmap": (2, 1), "float64": (1, 0)}
    assert "| vmap | 2 | 1 |" in mutation.report(results, 1.0)
