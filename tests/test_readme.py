"""The README's tutorial runs exactly as printed and prints what the README shows.

Each code block of the Tutorial section runs in a fresh interpreter (this one: `sys.executable`,
also for the `python` of a shell block), and its output is compared with the `text` block that
follows it: text exactly, numbers to float32 rounding, and LOG_JIT's "(compiled in 0.31 s)" /
"(from the disk cache)" as the same thing. `python tests/test_readme.py --write` rewrites the
output blocks from a run (review the diff before committing it)."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
SOURCE = re.compile(r"\((?:compiled in [\d.]+ s|from the (?:memory|disk) cache)\)")


EXPORT = "## Deploying without Python"


def _tutorial(text=None, section="## Tutorial"):
    """[(lang, code, (start, end) of the following output block's body or None)] of the Tutorial
    (or of another README section that shows its output the same way)."""
    text = open(README).read() if text is None else text
    start = text.index(section)
    end = text.index("\n## ", start + 1)
    blocks = [(m.group(1), m.group(2), m.span(2)) for m in FENCE.finditer(text, start, end)]
    out = []
    for i, (lang, code, _) in enumerate(blocks):
        if lang in ("python", "bash"):
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            out.append((lang, code, nxt[2] if nxt and nxt[0] == "text" else None))
    return out


def _run(lang, code):
    """stdout of a block run as printed, in a scratch directory, with this interpreter as `python`."""
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(sys.executable, os.path.join(tmp, "python"))
        env = {**os.environ, "PATH": tmp + os.pathsep + os.environ["PATH"],
               "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
        env.pop("LOG_JIT", None)
        cmd = [sys.executable, "-c", code] if lang == "python" else ["bash", "-c", code]
        done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"README block failed:\n{code}\n--- stderr:\n{done.stderr}"
    return done.stdout


def _assert_same_output(got, shown, code):
    """Same text; numbers equal to float32 rounding (rtol 1e-5); LOG_JIT's cache note either way."""
    norm = lambda t: SOURCE.sub("(SOURCE)", "\n".join(line.rstrip() for line in t.strip().splitlines()))  # noqa: E731
    got, shown = norm(got), norm(shown)
    context = f"block:\n{code}\n--- shown:\n{shown}\n--- printed:\n{got}"
    assert NUMBER.sub("#", got) == NUMBER.sub("#", shown), context
    np.testing.assert_allclose([float(v) for v in NUMBER.findall(got)], [float(v) for v in NUMBER.findall(shown)],
                               rtol=1e-5, atol=1e-7, err_msg=context)


BLOCKS = _tutorial()
EXPORT_BLOCKS = _tutorial(section=EXPORT)


def test_every_tutorial_block_shows_its_output():
    assert len(BLOCKS) >= 5
    assert all(shown is not None for _, _, shown in BLOCKS)


@pytest.mark.parametrize("lang,code,shown", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_tutorial_block_runs_verbatim_and_prints_what_the_readme_shows(lang, code, shown):
    text = open(README).read()
    _assert_same_output(_run(lang, code), text[shown[0]:shown[1]], code)


def test_log_jit_block_is_the_one_liner_and_names_every_program():
    (code, shown), = [(c, s) for lang, c, s in BLOCKS if lang == "bash"]
    assert code.strip() == 'LOG_JIT=1 python -c "import slope; print(slope.ones(3)*2)"'
    out = open(README).read()[shown[0]:shown[1]]
    headers = [line for line in out.splitlines() if line.startswith("[LOG_JIT]")]
    assert headers[0].startswith("[LOG_JIT] host full(shape=(3,), value=1, dtype=float32) -> [3, f32]")
    assert headers[1].startswith("[LOG_JIT] program mul: [3, f32], [f32] -> [3, f32]  (")
    assert headers[2].startswith("[LOG_JIT] host scalar 2 -> [f32]")
    assert "stablehlo.multiply" in out and out.strip().endswith("tensor([2., 2., 2.])")


def test_training_block_is_the_example_and_its_loss_falls():
    (code, shown), = [(c, s) for lang, c, s in BLOCKS if "train_step" in c]
    assert open(os.path.join(ROOT, "examples", "tutorial.py")).read() == code
    out = open(README).read()[shown[0]:shown[1]]
    losses = [float(line.split()[1]) for line in out.splitlines() if re.fullmatch(r"\d+ \S+", line)]
    assert len(losses) == 10
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_jit_block_shows_the_program_and_its_stablehlo():
    (code, shown), = [(c, s) for lang, c, s in BLOCKS if ".lower(x).program" in c]
    out = open(README).read()[shown[0]:shown[1]]
    assert "def f(x0): # [1, f32] -> [1, f32]" in out and "slope.mul(x0, x0)" in out
    assert "func.func @main" in out and "stablehlo.constant dense<1.0e-05>" in out


@pytest.mark.parametrize("lang,code,shown", EXPORT_BLOCKS, ids=[f"block{i}" for i in range(len(EXPORT_BLOCKS))])
def test_export_section_runs_verbatim_and_prints_what_the_readme_shows(lang, code, shown):
    """The README's slope.export example: exports to a temporary directory, runs the artifact with the
    IREE runtime and with the manifest's iree-run-module command line, and compares the bits."""
    text = open(README).read()
    assert "tempfile.TemporaryDirectory()" in code
    out = _run(lang, code)
    _assert_same_output(out, text[shown[0]:shown[1]], code)
    assert out.strip().endswith("True")


def _write_outputs():
    text = open(README).read()
    blocks = sorted(_tutorial(text) + _tutorial(text, EXPORT), key=lambda b: b[2][0])
    for lang, code, shown in reversed(blocks):  # from the end: earlier spans stay valid
        text = text[:shown[0]] + _run(lang, code).rstrip("\n") + "\n" + text[shown[1]:]
    open(README, "w").write(text)


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    _write_outputs()


def test_primitive_table_in_readme_is_generated_from_the_registry():
    """README's Primitives block == slope.testing.table.markdown_table(): regenerate it with
    `python -m slope.testing.table --write` after changing a spec's doc or dtypes."""
    from slope.testing.table import markdown_table, readme_block

    text = open(os.path.join(ROOT, "README.md")).read()
    assert readme_block(text) == markdown_table()


def test_every_primitive_is_in_the_table_with_a_one_line_doc():
    from slope.primitives import REGISTRY
    from slope.testing.table import rows

    listed = [name for name, _, _ in rows()]
    assert listed == sorted(REGISTRY) and len(listed) >= 76
    for name, spec in REGISTRY.items():
        assert spec.doc.strip() and "\n" not in spec.doc, name
        assert len(spec.doc) <= 220, (name, len(spec.doc))


def test_table_escapes_pipes_and_the_block_can_be_replaced():
    from slope.primitives.spec import Spec
    from slope.primitives.verify import Verify
    from slope.testing.table import END, START, markdown_table, readme_block, replace_block

    fake = {"b": Spec("b", None, None, verify=Verify(dtypes=("int32",)), doc="|x|  two\nlines"),
            "a": Spec("a", None, None, doc="x")}
    table = markdown_table(fake)
    assert table.splitlines()[2:] == ["| `a` | f32, f64 | x |", "| `b` | i32 | \\|x\\| two lines |"]
    doc = f"intro\n{START}\nold\n{END}\nrest\n"
    assert replace_block(doc, table) == f"intro\n{START}\n{table}{END}\nrest\n"
    assert readme_block(replace_block(doc, table)) == table
