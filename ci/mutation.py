"""Mutation score: how many planted single-line bugs does `python -m slope verify` catch?

Plants one bug at a time (a mutant) into the layers verification is meant to protect
(slope/primitives, slope/reference, slope/transforms, slope/backends/iree/lowerings and the
emitter), runs `python -m slope verify --only <the primitives the mutated code serves>` on a
copy of the package holding that one bug, and counts the mutant killed when verify fails (or
times out). The score is killed / (killed + survived); mutants that break `import slope` are
reported apart (any test kills them) and mutants listed in ci/mutation_equivalent.json (same
behaviour as the original, with a reason) leave the denominator.

    python ci/mutation.py --list                   # every mutation site, no runs
    python ci/mutation.py --sample 40 --jobs 2     # score a seeded sample (the CI job)
    python ci/mutation.py --sample 40 --suite      # also run pytest on verify's survivors
    python ci/mutation.py --match conv.py:145:     # the mutants of one line (or file: --match conv.py)

Mutation operators (chosen from the bugs a rule, oracle or lowering really gets wrong):
arithmetic operator swaps (+ -, * /, ** *), comparison boundaries (< <=, > >=, == !=), removed
negation and `not`, and/or, integer constants off by one, True/False, swapped lax/primitive
functions (max/min, sin/cos, add/sub...), swapped StableHLO op names and comparison directions
in lowerings.
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures as cf
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "primitives": "slope/primitives",
    "reference": "slope/reference",
    "transforms": "slope/transforms",
    "lowerings": "slope/backends/iree/lowerings",
    "emitter": "slope/backends/iree/emitter.py",
}
EQUIVALENT = ROOT / "ci" / "mutation_equivalent.json"
# Primitives verified for a mutant in code that serves every primitive (transforms, the emitter,
# shared rule helpers): one of each family and each kind of rule, and jit_call (a program inside a
# program: the only primitive whose vjp and linearize columns reach partial_eval_program).
REPRESENTATIVE = ("sin", "mul", "max", "select_n", "reduce_sum", "reduce_max", "dot_general", "transpose",
                  "broadcast_in_dim", "slice", "pad", "gather", "scatter_add", "dynamic_update_slice",
                  "cumsum", "sort", "conv", "convert", "concatenate", "argmax", "jit_call")

# Mutants in the user-facing transformations (argnums, in_axes, the tuple checks, jacfwd's defaults)
# also verify the ops rows that call them (slope/testing/op_table_transforms.py; verify --ops).
TRANSFORM_API = "slope/transforms/api.py"
TRANSFORM_ROWS = ("ops.grad", "ops.hessian", "ops.jacfwd", "ops.jacrev", "ops.jvp", "ops.linearize",
                  "ops.value_and_grad", "ops.vjp", "ops.vmap")
# ... and the jit decorator's call handling (keywords, static arguments, its fast path) the ops.jit row
USER_FACING_ROWS = {TRANSFORM_API: TRANSFORM_ROWS, "slope/transforms/jit.py": ("ops.jit",)}

_BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
           ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}
_CMPOPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
           ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_FUNCTIONS = {  # lax.<name> / spec names a rule might confuse
    "add": "sub", "sub": "add", "mul": "div", "div": "mul", "max": "min", "min": "max", "sin": "cos",
    "cos": "sin", "exp": "log", "log": "exp", "neg": "stop_gradient", "reduce_sum": "reduce_max",
    "reduce_max": "reduce_min", "reduce_min": "reduce_max", "maximum": "minimum", "minimum": "maximum",
    "tanh": "sin", "sqrt": "rsqrt", "rsqrt": "sqrt", "floor": "ceil", "ceil": "floor", "abs": "neg",
}
_STRINGS = {  # StableHLO text a lowering might get wrong
    "LT": "LE", "LE": "LT", "GT": "GE", "GE": "GT", "EQ": "NE", "NE": "EQ",
    "stablehlo.add": "stablehlo.subtract", "stablehlo.subtract": "stablehlo.add",
    "stablehlo.multiply": "stablehlo.divide", "stablehlo.divide": "stablehlo.multiply",
    "stablehlo.maximum": "stablehlo.minimum", "stablehlo.minimum": "stablehlo.maximum",
    "stablehlo.sine": "stablehlo.cosine", "stablehlo.cosine": "stablehlo.sine",
    "stablehlo.exponential": "stablehlo.exponential_minus_one", "stablehlo.log": "stablehlo.log_plus_one",
    "stablehlo.floor": "stablehlo.ceil", "stablehlo.ceil": "stablehlo.floor",
    "stablehlo.shift_right_arithmetic": "stablehlo.shift_right_logical",
    "stablehlo.shift_right_logical": "stablehlo.shift_right_arithmetic",
    "stablehlo.and": "stablehlo.or", "stablehlo.or": "stablehlo.and",
}


_NOT_TARGETS = ("__init__.py", "sampling.py")  # sampling.py: the harness's input domains


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to ROOT
    line: int
    start: int  # character offsets into the file's text
    end: int
    original: str
    replacement: str
    operator: str
    source_line: str  # the mutated line, stripped: keys survive edits elsewhere in the file
    nth: int = 1  # the same change made at the nth place on the line (`a.size == 0 or b.size == 0`: 0 -> 1 twice)

    @property
    def key(self) -> str:
        nth = f" #{self.nth}" if self.nth > 1 else ""
        return f"{self.path}: {self.source_line}  [{self.original} -> {self.replacement}{nth}]"

    @property
    def label(self) -> str:
        nth = f" (#{self.nth} on the line)" if self.nth > 1 else ""
        return f"{self.path}:{self.line}: {self.original} -> {self.replacement}{nth}"

    def apply(self, text: str) -> str:
        assert text[self.start:self.end] == self.original, self.label
        return text[:self.start] + self.replacement + text[self.end:]


# ---------------------------------------------------------------- finding mutation sites


def _offsets(text):
    starts, pos = [0], 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def _skipped_lines(tree):
    """Lines that are docstrings, error messages or other text nobody computes with."""
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            skip.update(range(body[0].lineno, body[0].end_lineno + 1))
        if isinstance(node, ast.JoinedStr):
            skip.update(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, ast.FunctionDef) and _is_test_data(node.name):
            skip.update(range(node.lineno, node.end_lineno + 1))  # test inputs, not code under test
        if isinstance(node, ast.keyword) and node.arg in ("edge_cases", "error_inputs", "samples"):
            skip.update(range(node.value.lineno, node.value.end_lineno + 1))  # e.g. error_inputs=lambda: [...]
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ErrorInput":
            skip.update(range(node.lineno, node.end_lineno + 1))
    return skip


def _is_test_data(name):
    """Functions that build a spec's test inputs (samplers, edge cases, error inputs): a change there
    alters the check, not the code it checks, so it is no planted bug (`_param_error` raises: code)."""
    return "sample" in name or "edge" in name or name.endswith("errors")


def _raise_nodes(tree):
    """Nodes inside `raise ...` (the message, not the condition that leads there)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise):
            inside.update(id(n) for n in ast.walk(node))
    return inside


def mutants_of(path: Path) -> list[Mutant]:
    text = path.read_text()
    tree = ast.parse(text)
    starts, lines = _offsets(text), text.splitlines()
    skip, in_raise = _skipped_lines(tree), _raise_nodes(tree)
    rel = str(path.relative_to(ROOT))
    out = []

    def span(node):
        return starts[node.lineno - 1] + node.col_offset, starts[node.end_lineno - 1] + node.end_col_offset

    def add(node, new_node_or_text, operator):
        if node.lineno in skip or id(node) in in_raise:
            return
        a, b = span(node)
        original = text[a:b]
        new = new_node_or_text if isinstance(new_node_or_text, str) else ast.unparse(new_node_or_text)
        if isinstance(node, (ast.BinOp, ast.BoolOp, ast.Compare, ast.UnaryOp)):
            new = f"({new})"
        if new != original:
            out.append(Mutant(rel, node.lineno, a, b, original, new, operator, lines[node.lineno - 1].strip()))

    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
                continue  # string formatting with %
            add(node, ast.BinOp(node.left, _BINOPS[type(node.op)](), node.right), "arithmetic")
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPOPS:
            add(node, ast.Compare(node.left, [_CMPOPS[type(node.ops[0])]()], node.comparators), "comparison")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            add(node, node.operand, "negation")
        elif isinstance(node, ast.BoolOp):
            add(node, ast.BoolOp(ast.Or() if isinstance(node.op, ast.And) else ast.And(), node.values), "boolean")
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            add(node, repr(not node.value), "constant")
        elif isinstance(node, ast.Constant) and type(node.value) is int and node.value < 1 << 20:
            add(node, repr(node.value + 1), "constant")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in _STRINGS:
            add(node, repr(_STRINGS[node.value]), "stablehlo")
        elif isinstance(node, ast.Attribute) and node.attr in _FUNCTIONS and isinstance(node.ctx, ast.Load) \
                and isinstance(node.value, ast.Name) and node.value.id in ("lax", "ops", "np"):
            add(node, f"{node.value.id}.{_FUNCTIONS[node.attr]}", "function")
    out.sort(key=lambda m: (m.start, m.end, m.replacement))
    seen = {}
    for k, m in enumerate(out):
        same = (m.line, m.original, m.replacement)
        seen[same] = seen.get(same, 0) + 1
        if seen[same] > 1:
            out[k] = dataclasses.replace(m, nth=seen[same])
    return out


def target_files(targets) -> list[Path]:
    files = []
    for t in targets:
        p = ROOT / TARGETS[t]
        files += [p] if p.is_file() else sorted(q for q in p.rglob("*.py") if q.name not in _NOT_TARGETS)
    return files


# ---------------------------------------------------------------- which primitives a line serves


def _line_ranges(fn):
    """(file, first line, last line) of a function, or None for builtins and lambdas we cannot see."""
    import inspect

    try:
        fn = inspect.unwrap(fn)
        lines, first = inspect.getsourcelines(fn)
        return os.path.realpath(inspect.getsourcefile(fn)), first, first + len(lines) - 1
    except (TypeError, OSError):
        return None


def primitive_map() -> dict[str, list[tuple[str, int, int]]]:
    """primitive name -> the source ranges of its rules, reference and lowering (in this checkout)."""
    sys.path.insert(0, str(ROOT))
    import slope  # noqa: F401  (registers every primitive and lowering)
    from slope.backends.iree.emitter import LOWERINGS
    from slope.primitives import REGISTRY

    out = {}
    for name, spec in REGISTRY.items():
        fns = [getattr(spec, f, None) for f in ("abstract_eval", "reference", "jvp", "transpose", "vmap", "eager",
                                                 "simplify", "error_inputs")] + [LOWERINGS.get(name)]
        out[name] = [r for r in map(_line_ranges, _with_closures([f for f in fns if callable(f)])) if r]
    return out


def _with_closures(fns, depth=3):
    """The functions and the functions their closures hold (a table row's derivative lambda lives in
    the closure of the jvp rule made from the row)."""
    seen, todo = [], [(f, 0) for f in fns]
    while todo:
        f, d = todo.pop()
        if any(f is g for g in seen):
            continue
        seen.append(f)
        for cell in getattr(f, "__closure__", None) or ():
            try:
                v = cell.cell_contents
            except ValueError:
                continue
            if callable(v) and hasattr(v, "__code__") and d < depth:
                todo.append((v, d + 1))
    return seen


def _named_in_row(m: Mutant, names) -> list[str]:
    """Primitives named (as a string or an assigned name) by the innermost table row, assignment or
    call around the mutated code: `cos = _unary("cos", np.cos)`, `("tan", lambda ...: ..., {...})`."""
    tree = ast.parse((ROOT / m.path).read_text())
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.Assign, ast.Call)) and node.lineno <= m.line <= node.end_lineno:
            found = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and c.value in names}
            if isinstance(node, ast.Assign):
                found |= {t.id for t in node.targets if isinstance(t, ast.Name) and t.id in names}
            size = node.end_lineno - node.lineno
            if found and len(found) <= 3 and (best is None or size < best[0]):
                best = (size, sorted(found))
    return best[1] if best else []


def affected(m: Mutant, ranges) -> list[str]:
    """The primitives whose rules, oracle or lowering contain the mutated line; for a shared helper,
    every primitive with code in that file; for code shared by all, the representative set; for a
    lowering, also jit_call."""
    names = _affected(m, ranges)
    if names and "/lowerings/" in m.path and "jit_call" in ranges and "jit_call" not in names:
        # a lowering's workarounds for IREE's fusion traps show only in composition, and jit_call's
        # programs compose primitives (slope/testing/samplers/jit.py)
        names.append("jit_call")
    return names


def _affected(m: Mutant, ranges) -> list[str]:
    path = os.path.realpath(ROOT / m.path)
    direct = sorted(n for n, rs in ranges.items() if any(f == path and a <= m.line <= b for f, a, b in rs))
    if direct:
        return direct
    named = _named_in_row(m, ranges)
    if named:
        return named
    if "transforms" in m.path or m.path.endswith("emitter.py") or m.path.endswith(("rules.py", "spec.py")):
        rows = [n for n in REPRESENTATIVE if n in ranges]
        # the public transformations' argument handling: only their own rows (verify --ops) call them
        return rows + [r for path, own in USER_FACING_ROWS.items() if m.path.endswith(path) for r in own]
    return sorted(n for n, rs in ranges.items() if any(f == path for f, _, _ in rs))


# ---------------------------------------------------------------- running one mutant


def _copy_package(dest: Path):
    """dest/slope: the copy mutants are planted in; dest/tests: a link to the suite, so that the tests'
    `from tests.x import ...` resolves from dest (the suite runs with cwd = dest, first on sys.path, so
    that `import slope` finds the copy and not the checkout)."""
    shutil.copytree(ROOT / "slope", dest / "slope", ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "tests").symlink_to(ROOT / "tests", target_is_directory=True)


def suite_command(suite_tests=(), collect_only=False) -> list[str]:
    """pytest on the suite (or the given test files), run from a copy's directory."""
    tests = [str(ROOT / t) for t in suite_tests] or [str(ROOT / "tests")]
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
            *(["--collect-only"] if collect_only else []), *tests]


def suite_baseline(workdir: Path, suite_tests=()) -> str | None:
    """None when the suite collects from the unmodified copy in workdir, else pytest's complaint: a
    suite that fails without a mutant would count every verify survivor as killed."""
    env = {**os.environ, "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(suite_command(suite_tests, collect_only=True), check=False, env=env, capture_output=True,
                          text=True, cwd=workdir, timeout=1800)
    return None if proc.returncode == 0 else (proc.stdout + proc.stderr).strip()[-3000:]


def run_mutant(m: Mutant, names, workdir: Path, timeout: float, suite: bool, suite_tests=()) -> dict:
    """Plant `m` in workdir's copy of slope, run verify on `names`; restore the file afterwards."""
    target = workdir / m.path
    original = target.read_text()
    target.write_text(m.apply(original))
    env = {**os.environ, "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"}
    t0 = time.time()
    try:
        check_import = f"import slope, sys; sys.exit(0 if slope.__file__.startswith({str(workdir)!r}) else 3)"
        probe = subprocess.run([sys.executable, "-c", check_import], check=False, env=env, capture_output=True,
                               timeout=120, cwd=workdir)
        if probe.returncode == 3:
            raise RuntimeError(f"the mutated copy in {workdir} is not the slope being imported")
        if probe.returncode != 0:
            return {"status": "stillborn", "seconds": time.time() - t0}
        ops = ["--ops"] if any(n.startswith("ops.") for n in names) else []
        matrix = workdir / ".mutation-matrix.md"
        matrix.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "slope", "verify", *ops, "--only", *names, "--no-details", "--jobs", "1",
               "--output", str(matrix)]
        try:
            proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=timeout, cwd=workdir)
            status = "survived" if proc.returncode == 0 else "killed"
            tail = proc.stdout.strip().splitlines()[-3:] if proc.stdout else []
        except subprocess.TimeoutExpired:
            status, tail = "killed", ["timed out"]
        cells = failing_cells(matrix.read_text()) if matrix.exists() else []
        result = {"status": status, "seconds": time.time() - t0, "verify_tail": tail, "cells": cells}
        if suite and status == "survived":
            proc = subprocess.run(suite_command(suite_tests), check=False, env=env, capture_output=True, text=True,
                                  cwd=workdir, timeout=timeout * 20)
            result["suite"] = "killed" if proc.returncode != 0 else "survived"
        return result
    finally:
        target.write_text(original)


def failing_cells(matrix: str) -> list[str]:
    """The failing cells of a conformance matrix (verify's markdown) as "row:column"."""
    from slope.testing.matrix import SYMBOL

    header, cells = None, []
    for line in matrix.splitlines():
        parts = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if not parts or set(parts[0]) <= set("-"):
            continue
        if header is None:
            header = parts
            continue
        cells += [f"{parts[0]}:{col}" for col, v in zip(header[1:], parts[1:]) if v == SYMBOL["fail"]]
    return cells


def column_kills(results) -> dict[str, tuple[int, int]]:
    """column -> (killed mutants with a failing cell in it, those no other column caught): which
    columns find the planted bugs (where examples are worth spending) and which ones alone do."""
    out: dict[str, list[int]] = {}
    for _, _, r in results:
        if r["status"] != "killed":
            continue
        columns = {c.split(":", 1)[1] for c in r.get("cells", ())}
        for col in columns:
            hit = out.setdefault(col, [0, 0])
            hit[0] += 1
            hit[1] += len(columns) == 1
    return {c: tuple(v) for c, v in sorted(out.items(), key=lambda kv: -kv[1][0])}


# ---------------------------------------------------------------- driver


def _equivalent() -> dict[str, str]:
    return json.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}


def score(results) -> float:
    """killed / (killed + survived), equivalent and stillborn mutants left out."""
    equivalent = _equivalent()
    killed = sum(r["status"] == "killed" for _, _, r in results)
    survived = sum(r["status"] == "survived" and m.key not in equivalent for m, _, r in results)
    return killed / (killed + survived) if killed + survived else float("nan")


def report(results, seconds) -> str:
    equivalent = _equivalent()
    counts = {"killed": 0, "survived": 0, "stillborn": 0, "equivalent": 0}
    survivors = []
    for m, names, r in results:
        status = r["status"]
        if status == "survived" and m.key in equivalent:
            status = "equivalent"
        counts[status] += 1
        if status == "survived":
            survivors.append((m, names, r))
    scored = counts["killed"] + counts["survived"]
    score = counts["killed"] / scored if scored else float("nan")
    lines = [(f"mutation score: {score:.1%} ({counts['killed']} killed of {scored} scored mutants; "
              f"{counts['stillborn']} broke `import slope`, {counts['equivalent']} equivalent; {seconds:.0f} s)")]
    if any("suite" in r for _, _, r in survivors):
        caught = sum(r.get("suite") == "killed" for _, _, r in survivors)
        lines.append(f"the whole test suite kills {caught} of verify's {len(survivors)} survivors")
    by_column = column_kills(results)
    if by_column:
        lines += ["", "kills by column (a mutant counts in every column with a failing cell; alone: no other column failed):",
                  "", "| column | killed | alone |", "|---|---|---|"]
        lines += [f"| {col} | {n} | {alone} |" for col, (n, alone) in by_column.items()]
    if survivors:
        lines += ["", "survivors (fix the harness, or add the key to ci/mutation_equivalent.json with a reason):"]
        for m, names, r in survivors:
            suite = f" [suite: {r['suite']}]" if "suite" in r else ""
            lines.append(f"- {m.label}  (verified: {' '.join(names)}){suite}\n  key: {m.key}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=sorted(TARGETS))
    p.add_argument("--sample", type=int, default=0, help="score a seeded random sample of this many (0: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", "-j", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    p.add_argument("--timeout", type=float, default=600, help="seconds before a verify run counts as a kill")
    p.add_argument("--list", action="store_true", help="print the mutants and the primitives each would verify")
    p.add_argument("--suite", action="store_true", help="also run the pytest suite on each verify survivor")
    p.add_argument("--suite-tests", nargs="+", default=(),
                   help="with --suite: run these test files (paths from the repository root) instead of tests/")
    p.add_argument("--output", "-o", help="also write the report (markdown) to this file")
    p.add_argument("--json", help="also write every mutant's result (status, verified rows, failing cells) here")
    p.add_argument("--match", nargs="+", default=(),
                   help="only mutants whose label (path:line: original -> replacement) contains one of these")
    p.add_argument("--min-score", type=float, default=0.0,
                   help="exit 1 when the score (killed / scored mutants) is below this fraction")
    a = p.parse_args(argv)

    mutants = [m for f in target_files(a.targets) for m in mutants_of(f)]
    if a.match:
        mutants = [m for m in mutants if any(s in m.label for s in a.match)]
    if a.sample and a.sample < len(mutants):
        mutants = sorted(random.Random(a.seed).sample(mutants, a.sample), key=lambda m: (m.path, m.start))
    ranges = primitive_map()
    plan = [(m, affected(m, ranges)) for m in mutants]
    if a.list:
        for m, names in plan:
            print(f"{m.label}  [{m.operator}] -> verify {' '.join(names) or '(nothing)'}")
        print(f"{len(plan)} mutants")
        return 0
    plan = [(m, names) for m, names in plan if names]

    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="slope-mutation-") as tmp:
        workdirs = []
        for j in range(a.jobs):
            w = Path(tmp) / f"w{j}"
            _copy_package(w)
            workdirs.append(w)
        if a.suite and plan:
            complaint = suite_baseline(workdirs[0], a.suite_tests)
            if complaint:
                print(f"the suite fails on the unmodified copy, so --suite would count every survivor as killed:\n"
                      f"{complaint}", file=sys.stderr)
                return 2
        free = list(workdirs)
        results = []
        with cf.ThreadPoolExecutor(a.jobs) as pool:
            def job(item):
                m, names = item
                w = free.pop()
                try:
                    return m, names, run_mutant(m, names, w, a.timeout, a.suite, a.suite_tests)
                finally:
                    free.append(w)

            for k, (m, names, r) in enumerate(pool.map(job, plan), 1):
                print(f"[{k}/{len(plan)}] {r['status']:9s} {r['seconds']:5.0f}s  {m.label}", flush=True)
                results.append((m, names, r))
    text = report(results, time.time() - t0)
    print("\n" + text)
    if a.output:
        Path(a.output).write_text(text + "\n")
    if a.json:
        Path(a.json).write_text(json.dumps([{"mutant": m.label, "verified": names, **r} for m, names, r in results],
                                           indent=1) + "\n")
    return 1 if score(results) < a.min_score else 0


if __name__ == "__main__":
    sys.exit(main())
