"""The public ops (slope.testing.op_table) x every check column: eager, jit, vmap, derivatives
against float64 finite differences, float64 on IREE, error inputs, like the primitives."""
import pytest

from slope.testing import COLUMNS, plan, prefetch, run_check
from slope.testing.op_table import OPS

CELLS = [(name, column) for name in sorted(OPS) for column in COLUMNS]


@pytest.mark.parametrize("name,column", CELLS, ids=[f"{n}-{c}" for n, c in CELLS])
def test_op_cell(name, column):
    kind, what = plan(OPS[name])[column]
    if kind == "exempt":
        pytest.skip(f"exempt: {what}")
    if kind == "fail":
        pytest.fail(what, pytrace=False)
    prefetch(OPS[name], what)
    for check, dtype in what:
        run_check(name, check, dtype)
