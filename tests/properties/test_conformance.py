"""Every registered primitive, and every public op of slope.testing.op_table (rows ops.<name>), x every
check column (the conformance matrix), under Hypothesis.

A cell runs its checks at each applicable dtype (slope.testing.plan); an exempt cell is skipped
with the spec's stated reason; a cell the plan marks failed (a missing rule without exemption)
fails. Items are generated from the registry in a fixed order, so pytest-xdist workers agree.
The first cell of a row to run compiles every module the row's checks will need, as the functions
of a few shared IREE modules (slope.testing.prefetch_row): IREE's cost is mostly per module. A row's
cells form one xdist_group, so that under `--dist loadgroup` (pyproject's addopts) they run in the
one process that compiled them.
"""
import pytest

from slope.testing import COLUMNS, get_spec, plan, prefetch_row, run_check
from slope.testing.matrix import row_names

CELLS = [pytest.param(name, column, id=f"{name}-{column}", marks=pytest.mark.xdist_group(name))
         for name in row_names(ops=True) for column in COLUMNS]


@pytest.mark.parametrize("name,column", CELLS)
def test_cell(name, column):
    spec = get_spec(name)
    kind, what = plan(spec)[column]
    if kind == "exempt":
        pytest.skip(f"exempt: {what}")
    if kind == "fail":
        pytest.fail(what, pytrace=False)
    prefetch_row(spec)
    for check, dtype in what:
        run_check(name, check, dtype)
