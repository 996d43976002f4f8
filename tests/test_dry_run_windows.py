"""tests/conftest.py's dry-run windows, on a throwaway test module run by pytester with this
directory's conftest: when each test is dry-run and when it runs for real."""
import os
import shutil

pytest_plugins = ["pytester"]

HERE = os.path.dirname(os.path.abspath(__file__))

MODULE = '''
import pytest
from slope.testing import dryrun

LOG = {log!r}


def note(name):
    with open(LOG, "a") as f:
        f.write(f"{{name}} {{'dry' if dryrun.active() else 'real'}}\\n")


def test_a1(tmp_path):
    note("a1")


def test_a2():
    note("a2")


@pytest.mark.no_prefetch
def test_b():
    note("b")


def test_c():
    note("c")
'''


def test_a_window_dry_runs_the_tests_after_its_first_and_stops_at_one_that_cannot_be(pytester, tmp_path):
    """a2 is dry-run (set up and torn down) before a1 is set up, then a1 with its own fixtures; b
    (no_prefetch, as tests that count their compiles are) is a barrier: c, after it, must not be
    dry-run before b runs (c's programs would be compiled already)."""
    for name in ("conftest.py", "testutil.py"):
        shutil.copy(os.path.join(HERE, name), pytester.path / name)
    pytester.makeini("[pytest]\nmarkers =\n    no_prefetch: not dry-run first\n")
    log = tmp_path / "log.txt"
    pytester.makepyfile(test_windows=MODULE.format(log=str(log)))
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=4)
    assert log.read_text().split("\n")[:-1] == ["a2 dry", "a1 dry", "a1 real", "a2 real", "b real", "c dry", "c real"]
