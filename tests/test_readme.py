"""The README's tutorial runs as written, and its values are right."""
import os
import re
import subprocess
import sys

import numpy as np

import slope

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _blocks(lang):
    text = open(os.path.join(ROOT, "README.md")).read()
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def _env():
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_python_snippets_run_verbatim():
    blocks = _blocks("python")
    assert len(blocks) >= 4
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_log_jit_one_liner():
    cmd = next(c for c in _blocks("bash") if "LOG_JIT" in c).strip()
    assert cmd == 'LOG_JIT=1 python -c "import slope; print(slope.ones(3)*2)"'
    out = subprocess.run(["python", "-c", "import slope; print(slope.ones(3)*2)"], env={**_env(), "LOG_JIT": "1"},
                         capture_output=True, text=True, check=True).stdout
    assert "def mul(x0, x1): # [3, f32], [3, f32] -> [3, f32]" in out
    assert "stablehlo.multiply" in out
    assert out.strip().endswith("tensor([2., 2., 2.])")


def test_tutorial_values():
    x = slope.arange(15, dtype=slope.float32).reshape(5, 3)
    y = x @ slope.ones(3, 2) + slope.ones(2)
    np.testing.assert_allclose(y.numpy(), np.arange(15, dtype=np.float32).reshape(5, 3) @ np.ones((3, 2)) + 1)
    f = slope.jit(lambda x: x * x)
    assert f.lower(slope.ones(1)).program.__str__().startswith("def <lambda>(x0): # [1, f32] -> [1, f32]")


def test_training_loss_decreases_every_step():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "tutorial.py")], env=_env(),
                         capture_output=True, text=True, check=True).stdout
    losses = [float(m) for m in re.findall(r"loss (\S+)", out)]
    assert len(losses) == 50
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < 1e-4
    w = re.search(r"w = \[\s*(\S+)\s+(\S+)\s*\] b = \[(\S+)\]", out)
    np.testing.assert_allclose([float(v) for v in w.groups()], [2.0, -3.0, 1.0], atol=5e-3)


def test_primitive_table_in_readme_is_generated_from_the_registry():
    """README's Primitives block == slope.primitives.table.markdown_table(): regenerate it with
    `python -m slope.primitives.table --write` after changing a spec's doc or dtypes."""
    from slope.primitives.table import markdown_table, readme_block

    text = open(os.path.join(ROOT, "README.md")).read()
    assert readme_block(text) == markdown_table()


def test_every_primitive_is_in_the_table_with_a_one_line_doc():
    from slope.primitives import REGISTRY
    from slope.primitives.table import rows

    listed = [name for name, _, _ in rows()]
    assert listed == sorted(REGISTRY) and len(listed) >= 76
    for name, spec in REGISTRY.items():
        assert spec.doc.strip() and "\n" not in spec.doc, name
        assert len(spec.doc) <= 220, (name, len(spec.doc))


def test_table_escapes_pipes_and_the_block_can_be_replaced():
    from slope.primitives.spec import Spec
    from slope.primitives.table import END, START, markdown_table, readme_block, replace_block

    fake = {"b": Spec("b", None, None, dtypes=("int32",), doc="|x|  two\nlines"), "a": Spec("a", None, None, doc="x")}
    table = markdown_table(fake)
    assert table.splitlines()[2:] == ["| `a` | f32, f64 | x |", "| `b` | i32 | \\|x\\| two lines |"]
    doc = f"intro\n{START}\nold\n{END}\nrest\n"
    assert replace_block(doc, table) == f"intro\n{START}\n{table}{END}\nrest\n"
    assert readme_block(replace_block(doc, table)) == table
