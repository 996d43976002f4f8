"""Every registered primitive, and every public op of slope.testing.op_table (rows ops.<name>), x every
check column (the conformance matrix), under Hypothesis.

A cell runs its checks at each applicable dtype (slope.testing.plan); an exempt cell is skipped
with the spec's stated reason; a cell the plan marks failed (a missing rule without exemption)
fails. Items are generated from the registry in a fixed order, so pytest-xdist workers agree.
Before its checks run, a cell compiles every module they will need in a few shared IREE modules
(slope.testing.prefetch): IREE's cost is mostly per module.
"""
import pytest

from slope.testing import COLUMNS, get_spec, plan, prefetch, run_check
from slope.testing.matrix import row_names

CELLS = [(name, column) for name in row_names(ops=True) for column in COLUMNS]


@pytest.mark.parametrize("name,column", CELLS, ids=[f"{n}-{c}" for n, c in CELLS])
def test_cell(name, column):
    spec = get_spec(name)
    kind, what = plan(spec)[column]
    if kind == "exempt":
        pytest.skip(f"exempt: {what}")
    if kind == "fail":
        pytest.fail(what, pytrace=False)
    prefetch(spec, what)
    for check, dtype in what:
        run_check(name, check, dtype)
