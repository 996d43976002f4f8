"""slope.profiler() and SLOPE_PROFILE_OPS=1: per compiled program, calls, total and mean time and
compile time; nothing is timed (no wrapper is installed) while no profile is active."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import slope
from slope.backends.iree import IREEBackend, profile, runtime
from slope.backends.iree.runtime import Executable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _by_name(p):
    return {(r.name, r.signature): r for r in p.rows()}


def test_profiler_counts_the_programs_that_ran():
    x = slope.tensor(np.arange(5, dtype=np.float32))

    @slope.jit
    def sq_sum(a):
        return (a * a).sum()

    x * 2, sq_sum(x)  # obtained before the block: counted, not reported as obtained in it
    out = io.StringIO()
    with slope.profiler(file=out) as p:
        for _ in range(7):
            y = x * 2
        for _ in range(3):
            sq_sum(x)
        y.numpy()
        slope.tensor([1.0, 2.0])
    rows = _by_name(p)
    mul = rows[("mul", "(f32[5], f32[]) -> (f32[5])")]
    jitted = rows[("jit(sq_sum)", "(f32[5]) -> (f32[])")]
    assert (mul.calls, jitted.calls) == (7, 3)
    assert rows[("device -> host copy", "")].calls == 1 and rows[("host -> device copy", "")].calls == 1
    assert len(rows) == 4
    for r in (mul, jitted):
        assert r.total_s > 0 and abs(r.mean_s - r.total_s / r.calls) < 1e-12 and r.obtained is None
    assert sum(r.total_s for r in rows.values()) <= p.wall_s
    text = out.getvalue()
    assert text == p.report() + "\n"
    assert "jit(sq_sum) (f32[5]) -> (f32[])" in text and "\n       7 " in text and "\n       3 " in text


@pytest.mark.no_prefetch  # its program must compile inside the profiler (tests/conftest.py)
def test_profiler_reports_compile_time_of_programs_compiled_inside(tmp_path, monkeypatch):
    monkeypatch.setenv("SLOPE_CACHE_DIR", str(tmp_path))  # an empty disk cache: the program compiles
    f = slope.jit(lambda a: a.exp() + 17.25)  # a program no other test has
    with slope.profiler(file=io.StringIO()) as p:
        f(slope.ones(3, 7))
    (row,) = [r for r in p.rows() if r.name.startswith("jit(")]
    assert row.obtained == "compiled" and row.calls == 1 and 0.05 < row.compile_s < 120
    assert f"{row.compile_s:.3f} s" in p.report()


def test_profiler_off_installs_nothing_and_profiles_nest():
    x = slope.ones(2)
    with slope.profiler(file=io.StringIO()) as outer:
        x + 1
        with slope.profiler(file=io.StringIO()) as inner:
            x + 1
        x + 1
    assert Executable._run is profile._plain_run
    assert IREEBackend.to_device is runtime.to_device and IREEBackend.to_host is runtime.to_host
    x + 1  # after the block: not counted
    add = lambda p: _by_name(p)[("add", "(f32[2], f32[]) -> (f32[2])")].calls  # noqa: E731
    assert (add(outer), add(inner)) == (3, 1)


def test_profile_environment_variable_prints_at_exit():
    code = "import slope\nx = slope.ones(3)\nfor _ in range(4):\n    y = x - 1.5\nprint(y.numpy())\n"
    env = dict(os.environ, SLOPE_PROFILE_OPS="1", PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, check=True)
    assert "[-0.5 -0.5 -0.5]" in r.stdout
    lines = r.stderr.splitlines()
    head = [i for i, ln in enumerate(lines) if ln.startswith("slope profile:")]
    assert len(head) == 1
    table = lines[head[0] + 2:]
    sub = [ln for ln in table if ln.rstrip().endswith("sub (f32[3], f32[]) -> (f32[3])")]
    assert len(sub) == 1 and sub[0].split()[0] == "4"
    r = subprocess.run([sys.executable, "-c", code], env=dict(env, SLOPE_PROFILE_OPS="0"), capture_output=True,
                       text=True, timeout=300, check=True)
    assert "slope profile" not in r.stderr
