"""Every registered primitive, and every public op of slope.testing.op_table (rows ops.<name>), x every
check column (the conformance matrix), under Hypothesis.

One pytest item per row: its first step compiles every module the row's checks will need, as the
functions of a few shared IREE modules (slope.testing.prefetch_row; IREE's cost is mostly per
module), so a row must run in one process. Each cell runs its checks at each applicable dtype
(slope.testing.plan); an exempt cell states the spec's reason; a cell the plan marks failed (a
missing rule without exemption) fails. The item records its cells' outcomes as the user property
`slope_cells`, from which tests/conftest.py prints the matrix. One cell alone:
`python -m slope verify --only <row> --checks <column>`.
"""
import pytest

from slope.testing import COLUMNS, run_cell
from slope.testing.matrix import row_names

pytestmark = pytest.mark.no_prefetch  # counts or stages its own compiles (tests/conftest.py)


@pytest.mark.parametrize("name", row_names(ops=True))
def test_row(name, record_property):
    cells = {column: run_cell(name, column) for column in COLUMNS}
    record_property("slope_cells", {column: cell.status for column, cell in cells.items()})
    failed = [f"--- {name} / {column}\n{cell.detail}" for column, cell in cells.items() if cell.status == "fail"]
    if failed:
        pytest.fail(f"{len(failed)} failing cell(s) of {name}:\n" + "\n".join(failed), pytrace=False)
