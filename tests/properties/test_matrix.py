"""`python -m slope verify`: the markdown conformance matrix and its exit status."""
import dataclasses
import subprocess
import sys

from slope.backends.iree.emitter import LOWERINGS
from slope.primitives import REGISTRY
from slope.testing import matrix
from slope.testing.primitive import COLUMNS, plan
from slope.testing.samplers import SAMPLERS


def test_verify_command_prints_the_matrix_and_exits_zero():
    proc = subprocess.run([sys.executable, "-m", "slope", "verify", "--only", "neg", "sign", "--jobs", "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    header = "| primitive | " + " | ".join(COLUMNS) + " |"
    assert header in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| neg |"))
    assert row.count("pass") == len(COLUMNS)  # neg is linear, differentiable, float64-capable
    sign = next(line for line in proc.stdout.splitlines() if line.startswith("| sign |"))
    assert "exempt" in sign and "FAIL" not in sign
    assert "- sign / jvp:" in proc.stdout  # the exemption's reason is printed


def test_verify_exits_nonzero_and_reports_a_failing_cell(monkeypatch, capsys):
    bad = dataclasses.replace(REGISTRY["exp"], name="exp_lowered_as_neg")
    monkeypatch.setitem(REGISTRY, bad.name, bad)
    monkeypatch.setitem(SAMPLERS, bad.name, SAMPLERS["exp"])
    monkeypatch.setitem(LOWERINGS, bad.name, lambda ctx, args, ia, oa: [ctx.unary("stablehlo.negate", args[0], ia[0])])
    code = matrix.main(["--only", bad.name, "--checks", "eager", "jit", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "| exp_lowered_as_neg | **FAIL** | **FAIL** |" in out
    assert "### exp_lowered_as_neg / eager" in out and "repro:" in out


def test_unknown_primitive_is_a_clear_error(capsys):
    proc = subprocess.run([sys.executable, "-m", "slope", "verify", "--only", "no_such_op"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "no primitive named no_such_op" in proc.stderr


def test_ops_rows_join_the_matrix(capsys):
    """`verify --ops` adds the public ops (slope.testing.op_table) as rows ops.<name>."""
    code = matrix.main(["--ops", "--only", "relu", "neg", "--checks", "eager", "vjp", "--jobs", "1", "--no-details"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "| neg | pass | pass |" in out and "| ops.relu | pass | pass |" in out
    assert "1 primitives, 1 ops: 4 cells pass" in out


def test_a_row_is_one_item_and_its_cells_reach_the_printed_matrix(tmp_path):
    """A row is one pytest item (its first step compiles the whole row, so its cells must share a
    process; pytest 9.2 broke the xdist grouping of one item per cell); the matrix still shows
    every cell, from the row's recorded outcomes, also under xdist."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_file = tmp_path / "matrix.md"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p", "no:randomly",
                           "tests/properties/test_conformance.py::test_row[xor]",
                           "tests/properties/test_conformance.py::test_row[sign]"],
                          cwd=root, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SLOPE_MATRIX": str(out_file)})
    assert proc.returncode == 0 and "2 passed" in proc.stdout, proc.stdout[-3000:]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in out_file.read_text().splitlines()[2:]}
    assert set(rows) == {"sign", "xor"}
    for name in rows:  # each cell as its plan says: exempt where exempt, else passed
        expected = ["exempt" if kind == "exempt" else "pass" for kind, _ in (plan(name)[c] for c in COLUMNS)]
        assert rows[name] == expected, (name, rows[name])
    assert "exempt" in rows["xor"] and "pass" in rows["xor"]
