import os

if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers share the cores: compile_many on one thread each
    os.environ.setdefault("SLOPE_COMPILE_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from testutil import assert_close  # noqa: F401, E402  (kept importable from conftest too)

import slope  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_seed():
    slope.manual_seed(0)


# The conformance matrix of the property suite (tests/properties), printed at the end of the
# session. These hooks live here, not in tests/properties/conftest.py: under xdist the controller
# loads only the conftests of the paths given on the command line and their parents, so they must
# be here for `pytest -n auto tests` as well as `pytest -n auto tests/properties`.
_outcomes: dict[tuple[str, str], str] = {}


def pytest_runtest_logreport(report):
    """Collect cell outcomes (tests/properties/test_conformance.py records each row's as the user
    property slope_cells); under xdist this runs in the controller with the workers' reports."""
    if report.when != "call":
        return
    for key, cells in report.user_properties:
        if key == "slope_cells":
            name = report.nodeid.split("[", 1)[1].rsplit("]", 1)[0]
            _outcomes.update({(name, column): status for column, status in cells.items()})


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    from slope.testing.matrix import SYMBOL
    from slope.testing.primitive import COLUMNS

    names = sorted({n for n, _ in _outcomes})
    lines = ["| primitive | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(SYMBOL.get(_outcomes.get((n, c)), "-") for c in COLUMNS) + " |")
    text = "\n".join(lines) + "\n"
    terminalreporter.write_sep("=", "slope conformance matrix")
    terminalreporter.write(text)
    out = os.environ.get("SLOPE_MATRIX")
    if out:
        with open(out, "w") as f:
            f.write(text)
