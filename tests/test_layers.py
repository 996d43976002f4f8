"""slope's layers only point down (core at the bottom, then primitives, transforms, the IREE
backend, ops, testing): the import-linter contracts in .importlinter hold."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_import_contracts_hold():
    done = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                           "sys.exit(lint_imports_command())"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Contracts: 5 kept, 0 broken." in done.stdout


def test_lax_stub_is_generated_from_the_registry():
    """slope/lax.pyi gives editors the signature of every lax function; regenerate it with
    `python -m slope.testing.lax_stub --write` after adding a primitive or changing a shape rule."""
    from slope.primitives import REGISTRY
    from slope.testing.lax_stub import PATH, stub

    text = open(PATH).read()
    assert text == stub()
    assert all(f"\ndef {name}(" in text or f"\ndef {name}_(" in text for name in REGISTRY)
