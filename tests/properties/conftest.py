"""The property suite: one pytest item per cell of the conformance matrix (primitive x check column).

The Hypothesis profile comes from SLOPE_PROFILE (dev | ci | thorough; default ci). At the end of
the session tests/conftest.py prints the matrix (and writes it to $SLOPE_MATRIX if set), so a CI log
shows which cells pass, fail or are exempt; any failing cell fails the run: this is the CI gate.
"""
from slope.testing import load_profile

PROFILE = load_profile()


def pytest_report_header(config):
    return f"slope property suite: Hypothesis profile {PROFILE!r} (SLOPE_PROFILE)"
