"""The property suite: one pytest item per cell of the conformance matrix (primitive x check column).

The Hypothesis profile comes from SLOPE_PROFILE (dev | ci | thorough; default ci). At the end of
the session the matrix is printed (and written to $SLOPE_MATRIX if set), so a CI log shows which
cells pass, fail or are exempt; any failing cell fails the run: this is the CI gate.
"""
import os

import pytest

from slope.testing import load_profile

PROFILE = load_profile()
CELL_PREFIX = "test_conformance.py::test_cell["
_outcomes: dict[tuple[str, str], str] = {}


def pytest_report_header(config):
    return f"slope property suite: Hypothesis profile {PROFILE!r} (SLOPE_PROFILE)"


def pytest_runtest_logreport(report):
    """Collect cell outcomes; under xdist this runs in the controller with the workers' reports."""
    if CELL_PREFIX not in report.nodeid:
        return
    name, column = report.nodeid.split("[", 1)[1].rstrip("]").rsplit("-", 1)
    if report.skipped:
        _outcomes[(name, column)] = "exempt"
    elif report.failed:
        _outcomes[(name, column)] = "fail"
    elif report.when == "call":
        _outcomes[(name, column)] = "pass"


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
