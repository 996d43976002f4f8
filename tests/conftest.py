import os
import shutil

if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers share the cores: compile_many on one thread each
    os.environ.setdefault("SLOPE_COMPILE_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from testutil import assert_close, random_state_restorer  # noqa: F401, E402  (kept importable from conftest too)

import slope  # noqa: E402


# Tests are first dry-run (slope.testing.dryrun.note_call) a window at a time: before a test's
# setup, the next tests of its module or class (up to LOOKAHEAD - 1, stopping at the first that
# cannot be dry-run) are each set up, dry-run and torn down; then the test itself is dry-run with its
# own fixtures, and the programs they would compile one module each (~0.3-0.5 s of iree-compile
# apiece) compile as the functions of one shared module (~0.06 s apiece); then they run for real
# finding them cached. Under pytest-xdist (--dist worksteal: each worker runs stretches of the
# suite) another worker may run some of them: it finds them in the disk cache. Not for tests that
# manage compiling themselves (marker no_prefetch), Hypothesis tests (a dry run's failures would be
# shrunk and saved), or tests holding fixtures wider than a function (a dry run could leave zeros in
# them); and not while the cache is warm: after QUIET_TESTS tests in a row during which this process
# compiled nothing (dry runs would only double the tests' time), until it compiles again.
QUIET_TESTS = 30
LOOKAHEAD = 24
_compiling = {"seen": -1, "quiet": 0}
_dry_run_done: set = set()  # nodeids of the tests dry-run in a window


def _cache_looks_cold() -> bool:
    from slope.backends.iree import compile as iree_compile

    compiles = iree_compile.stats["compiles"]
    _compiling["quiet"] = 0 if compiles != _compiling["seen"] else _compiling["quiet"] + 1
    _compiling["seen"] = compiles
    return _compiling["quiet"] < QUIET_TESTS


def _prefetchable(item) -> bool:
    if item.get_closest_marker("no_prefetch"):
        return False
    fn = getattr(item, "obj", None)
    if fn is None or getattr(fn, "is_hypothesis_test", False) or not hasattr(item, "_request"):
        return False
    defs = getattr(item, "_fixtureinfo", None)
    return defs is not None and all(d.scope == "function" for ds in defs.name2fixturedefs.values() for d in ds
                                    if d.argname in item.fixturenames and not d.argname.startswith("tmp_path"))


_NUMPY_ASSERTS = ("assert_allclose", "assert_array_equal", "assert_equal", "assert_array_almost_equal",
                  "assert_almost_equal", "assert_array_less")


def _dry_run_of(item):
    """item.runtest, with NumPy's value assertions passing (on the dry run's zeros they would end it
    at the first value a test checks) and what it adds to tmp_path removed afterwards."""
    def run():
        saved = {name: getattr(np.testing, name) for name in _NUMPY_ASSERTS}
        tmp = item.funcargs.get("tmp_path")
        before = set(tmp.iterdir()) if tmp is not None else set()
        for name in saved:
            setattr(np.testing, name, lambda *args, **kwargs: None)
        try:
            item.runtest()
        finally:
            for name, fn in saved.items():
                setattr(np.testing, name, fn)
            for path in set(tmp.iterdir()) - before if tmp is not None else ():
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    return run


def _window(item) -> list:
    """The tests after item that share its parent (module or class) and can be dry-run, up to the
    first that cannot: a test marked no_prefetch that counts what it compiles must not find the
    programs of the tests after it compiled already."""
    items = item.session.items
    index = items.index(item) if item in items else len(items)
    window = []
    for j in items[index + 1:index + LOOKAHEAD]:
        if j.parent is not item.parent or not _prefetchable(j):
            break
        if j.nodeid not in _dry_run_done:
            window.append(j)
    return window


def _dry_run_window(item) -> list:
    """The jobs of a dry run of each test of _window(item), each set up, dry-run and torn down back
    to item's parent before item is set up. Their output, warnings and random draws are dropped."""
    import contextlib
    import io
    import warnings

    from slope.testing import dryrun

    state = item.session._setupstate
    restore = random_state_restorer({})
    jobs: list = []
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in _window(item):
            _dry_run_done.add(j.nodeid)
            if not j._request:
                j._initrequest()
            try:
                state.setup(j)
                jobs += dryrun.note_call(_dry_run_of(j))
            except Exception:  # noqa: BLE001 - a failing setup shows in the real run
                pass
            finally:
                try:
                    state.teardown_exact(item)
                except Exception:  # noqa: BLE001 - a failing teardown shows in the real run
                    pass
                j._request, j.funcargs = False, None
    restore()
    return jobs


_window_jobs: dict = {}  # nodeid -> the jobs of the window dry-run before its setup


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    if _cache_looks_cold() and item.nodeid not in _dry_run_done and _prefetchable(item):
        _dry_run_done.add(item.nodeid)
        _window_jobs[item.nodeid] = _dry_run_window(item)


@pytest.hookimpl(hookwrapper=True, trylast=True)  # innermost: inside output capture
def pytest_runtest_call(item):
    jobs = _window_jobs.pop(item.nodeid, None)
    if jobs is not None:  # the window's first test: dry-run with its own fixtures, compile them all
        from slope.testing import dryrun

        restore = random_state_restorer(item.funcargs)
        dryrun.compile_jobs(jobs + dryrun.note_call(_dry_run_of(item)))
        restore()
        for name in ("capsys", "capfd", "capsysbinary", "capfdbinary"):
            if name in item.fixturenames:
                item.funcargs[name].readouterr()
        if "recwarn" in item.fixturenames:
            item.funcargs["recwarn"].clear()
        if "caplog" in item.fixturenames:
            item.funcargs["caplog"].clear()
    yield


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
