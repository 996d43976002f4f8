"""The conformance matrix: every registered primitive x every check column, pass / fail / exempt.

`python -m slope verify` prints it as markdown and exits non-zero when any cell fails; it is the
CI gate (ci/verify.sh). Primitives are independent, so they run in a process pool (`--jobs`);
each worker shares the on-disk IREE compile cache, so a warm run mostly skips compilation.
"""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from slope.backends.iree import compile as iree_compile
from slope.primitives import REGISTRY
from slope.testing.op_table import OPS
from slope.testing.primitive import COLUMNS, CellResult, run_cell

SYMBOL = {"pass": "pass", "fail": "**FAIL**", "exempt": "exempt"}


def row_names(only=None, ops=False) -> list[str]:
    """The matrix's rows: registered primitives, then (with `ops`) the public ops as ops.<name>;
    `only` keeps those named (an op by ops.<name> or its bare name)."""
    rows = sorted(REGISTRY) + (sorted(OPS) if ops else [])
    if not only:
        return rows
    known = set(rows) | {n[4:] for n in rows if n.startswith("ops.")}
    unknown = [n for n in only if n not in known]
    if unknown:
        what = "primitive or op" if ops else "primitive"
        raise SystemExit(f"slope verify: no {what} named {', '.join(unknown)}; known: {', '.join(rows)}")
    return [n for n in rows if n in only or (n.startswith("ops.") and n[4:] in only)]


def _row(args) -> tuple[str, dict]:
    name, columns, profile = args
    return name, {c: run_cell(name, c, profile) for c in columns}


def _one_compile_thread():
    """In a pool worker: the workers share the cores, so compile_many compiles on one thread."""
    iree_compile.COMPILE_THREADS = 1


def run_matrix(names, columns=COLUMNS, profile=None, jobs=1, progress=None) -> dict[str, dict[str, CellResult]]:
    """{primitive: {column: CellResult}} for the given primitives and columns."""
    work = [(n, tuple(columns), profile) for n in names]
    rows = {}
    if jobs <= 1:
        for item in work:
            name, row = _row(item)
            rows[name] = row
            if progress:
                progress(name, row)
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_one_compile_thread) as pool:
            for name, row in pool.map(_row, work):
                rows[name] = row
                if progress:
                    progress(name, row)
    return {n: rows[n] for n in names}


def to_markdown(rows, columns=COLUMNS, details=True) -> str:
    """The matrix as a markdown table, then one section per failing cell and the exemption reasons."""
    lines = ["| primitive | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(SYMBOL[row[c].status] for c in columns) + " |")
    counts = {s: sum(r[c].status == s for r in rows.values() for c in columns) for s in SYMBOL}
    lines.append("")
    n_ops = sum(n.startswith("ops.") for n in rows)
    what = f"{len(rows) - n_ops} primitives" + (f", {n_ops} ops" if n_ops else "")
    lines.append(f"{what}: {counts['pass']} cells pass, {counts['fail']} fail, "
                 f"{counts['exempt']} exempt")
    if details:
        fails = [(n, c, r[c]) for n, r in rows.items() for c in columns if r[c].status == "fail"]
        if fails:
            lines += ["", "## Failures"]
            for n, c, cell in fails:
                lines += ["", f"### {n} / {c}", "```", cell.detail.strip(), "```"]
        ex = [(n, c, r[c].detail) for n, r in rows.items() for c in columns if r[c].status == "exempt"]
        if ex:
            lines += ["", "## Exemptions", ""]
            lines += [f"- {n} / {c}: {why}" for n, c, why in ex]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m slope verify",
                                description="Run every check of every primitive; print the conformance matrix.")
    p.add_argument("--only", nargs="+", metavar="PRIMITIVE", help="just these primitives")
    p.add_argument("--ops", action="store_true",
                   help="also the public ops (slope.testing.op_table), as rows named ops.<name>")
    p.add_argument("--checks", nargs="+", metavar="COLUMN", choices=COLUMNS, help="just these columns")
    p.add_argument("--profile", choices=("dev", "ci", "thorough"), help="Hypothesis profile (default: SLOPE_PROFILE or ci)")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    p.add_argument("--output", "-o", help="also write the markdown to this file")
    p.add_argument("--no-details", action="store_true", help="table only")
    a = p.parse_args(argv)
    columns = tuple(a.checks) if a.checks else COLUMNS
    names = row_names(a.only, a.ops)
    t0 = time.perf_counter()

    def progress(name, row):
        bad = [c for c, r in row.items() if r.status == "fail"]
        print(f"  {name:<24} {'FAIL ' + ', '.join(bad) if bad else 'ok'}", file=sys.stderr, flush=True)

    rows = run_matrix(names, columns, a.profile, a.jobs, progress)
    text = to_markdown(rows, columns, details=not a.no_details)
    text += f"\n(profile {a.profile or os.environ.get('SLOPE_PROFILE') or 'ci'}, {time.perf_counter() - t0:.0f} s)\n"
    print(text)
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    return 1 if any(r[c].status == "fail" for r in rows.values() for c in columns) else 0
