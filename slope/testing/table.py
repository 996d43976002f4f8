"""The README's primitive table, generated from the registry so the two cannot drift.

    python -m slope.testing.table            # print the markdown table
    python -m slope.testing.table --write    # replace the block between the README markers

tests/test_readme.py checks that README.md holds exactly `markdown_table()` between
`<!-- primitives:start -->` and `<!-- primitives:end -->`.
"""
from __future__ import annotations

import os
import sys

import slope  # noqa: F401  (registers every primitive, jit_call included)
from slope.primitives import REGISTRY

START, END = "<!-- primitives:start -->", "<!-- primitives:end -->"
_SHORT = {"float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16", "int8": "i8", "int16": "i16",
          "int32": "i32", "int64": "i64", "uint8": "u8", "uint32": "u32", "bool": "bool"}


def _cell(text: str) -> str:
    """One markdown table cell: pipes escaped, no line breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


def rows(registry=None) -> list[tuple[str, str, str]]:
    """(name, dtypes, meaning) for every registered primitive, sorted by name."""
    if registry is None:
        registry = REGISTRY
    out = []
    for name in sorted(registry):
        spec = registry[name]
        dtypes = ", ".join(_SHORT.get(d, d) for d in spec.verify.dtypes)
        out.append((name, dtypes, spec.doc))
    return out


def markdown_table(registry=None) -> str:
    """The table as markdown (header, separator, one row per primitive), ending with a newline."""
    lines = ["| primitive | dtypes tested | meaning |", "|---|---|---|"]
    for name, dtypes, doc in rows(registry):
        lines.append(f"| `{name}` | {_cell(dtypes)} | {_cell(doc)} |")
    return "\n".join(lines) + "\n"


def readme_block(readme_text: str) -> str:
    """The text between the README markers (without the marker lines)."""
    try:
        head, rest = readme_text.split(START + "\n", 1)
        block, _ = rest.split(END, 1)
    except ValueError:
        raise ValueError(f"README.md has no {START} ... {END} block") from None
    return block


def replace_block(readme_text: str, table: str) -> str:
    head, rest = readme_text.split(START + "\n", 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    table = markdown_table()
    if argv == ["--write"]:
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "README.md")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(replace_block(text, table))
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
