"""check_primitive(spec): run every applicable check of a primitive under Hypothesis.

Which checks apply follows from the spec: its rules, its dtypes and its exemptions.

  exemption key (spec.verify.exempt)  exempts
  a check name ("vmap", "jvp"...)     that check
  "grad" or "jvp"                     jvp, vjp, linearize, second_order (not differentiable)
  "sample" or "reference"             every check that needs drawn inputs or the oracle
  "error_inputs"                      errors
  "float64"                           the float64 column
Each exemption's reason is a member of slope.primitives.verify.Exempt; reports print its sentence.
Derivative checks run only for floating-point dtypes; integer/bool dtypes get abstract_eval,
eager, jit, vmap and errors. The "float64" column reruns the other applicable checks in float64
on IREE. A missing rule without an exemption is a failure (see tests/properties/test_completeness.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from slope.backends.iree import compile as iree_compile
from slope.core import dtypes as dt
from slope.primitives import REGISTRY
from slope.testing import batched, dryrun, strategies
from slope.testing.checks import CHECK_FUNCTIONS, CHECKS, DERIVATIVE_CHECKS, NEEDS, NotApplicable, get_spec
from slope.testing.example import Example
from slope.testing.samplers import sampler_for

COLUMNS = CHECKS + ("float64",)
VALUE_CHECKS = ("abstract_eval", "eager", "jit", "vmap")
_REQUIRES = {  # check -> rules it needs (a missing one must be exempted)
    "abstract_eval": ("sample", "reference"), "eager": ("sample", "reference"), "jit": ("sample", "reference"),
    "vmap": ("sample", "reference", "vmap"),
    "jvp": ("sample", "reference", "jvp"), "vjp": ("sample", "reference", "jvp"),
    "linearize": ("sample", "reference", "jvp"), "second_order": ("sample", "reference", "jvp"),
    "errors": ("error_inputs",),
}


class MissingRule(Exception):
    """A spec lacks a rule a check needs and declares no exemption for it."""


def exemption(spec, column: str):
    """The reason `column` does not apply to `spec`, or None if it applies.

    Raises MissingRule when a needed rule is absent without an exemption.
    """
    spec = get_spec(spec)
    ex, dtypes = spec.verify.exempt, spec.verify.dtypes
    if column in ex:
        return ex[column].value
    if column == "float64":
        if "float64" not in dtypes:
            return f"float64 is not among its dtypes {dtypes}"
        if all(exemption(spec, c) is not None for c in CHECKS if c != "errors"):
            return "no check applies (see the other columns)"
        return None
    for rule in _REQUIRES[column]:
        if not has_rule(spec, rule):
            if rule in ex:
                return f"no {rule}: {ex[rule].value}"
            raise MissingRule(f"{spec.name}: no {rule} rule and no exemption for it "
                              f"(add verify=Verify(exempt={{{rule!r}: Exempt.<REASON>}}))")
    if column in DERIVATIVE_CHECKS:
        for key in ("grad", "jvp"):
            if key in ex:
                return ex[key].value
        if not _float_dtypes(dtypes):
            return f"integer/bool only (dtypes {dtypes}): not differentiable"
    return None


def has_rule(spec, rule: str) -> bool:
    """Whether `spec` has `rule`: a Spec field, or "sample" (a sampler registered under its name)."""
    if rule == "sample":
        return sampler_for(spec) is not None
    return getattr(spec, rule) is not None


def _float_dtypes(dtypes):
    return [d for d in dtypes if dt.dtype(d).is_float]


def dtypes_for(spec, check: str, column: str | None = None):
    """The dtypes a check runs at in a column: the spec's dtypes except float64 (which has its own
    column), float ones only for derivative checks; just float64 in the float64 column."""
    spec = get_spec(spec)
    if column == "float64":
        return ["float64"]
    dtypes = spec.verify.dtypes
    main = [d for d in dtypes if d != "float64"] or list(dtypes)
    if check in DERIVATIVE_CHECKS:
        main = _float_dtypes(main)
    return main


def plan(spec):
    """column -> ("exempt", reason) | ("fail", message) | ("run", [(check, dtype), ...])."""
    spec = get_spec(spec)
    out = {}
    for col in COLUMNS:
        try:
            reason = exemption(spec, col)
        except MissingRule as e:
            out[col] = ("fail", str(e))
            continue
        if reason is not None:
            out[col] = ("exempt", reason)
            continue
        if col == "float64":
            items = []
            for c in CHECKS:
                if c == "errors":
                    continue
                try:
                    if exemption(spec, c) is None:
                        items.append((c, "float64"))
                except MissingRule:
                    pass
            out[col] = ("run", items)
        elif col == "errors":
            out[col] = ("run", [("errors", None)])
        else:
            ds = dtypes_for(spec, col)
            if not ds:
                out[col] = ("exempt", f"no dtype of {spec.verify.dtypes} applies besides float64")
            else:
                out[col] = ("run", [(col, d) for d in ds])
    return out


def repro_line(check: str, spec, ex=None) -> str:
    """A shell one-liner that reruns one check on one example."""
    name = get_spec(spec).name
    arg = "" if ex is None else f", {ex!r}"
    return f'python -c "from slope.testing.repro import *; check_{check}({name!r}{arg})"'


def run_check(spec, check: str, dtype=None, profile: str | None = None, dry_run: bool = False):
    """Run one check of one primitive at one dtype over the profile's Hypothesis examples.

    A failure raises the check's error; Hypothesis shrinks it first and prints the minimal
    Example plus a one-line repro (for a registered primitive).

    dry_run: draw the same examples but compile and run nothing: every module a check asks for is
    noted by an enclosing `dryrun.collecting()` block (see prefetch); errors are ignored. Inside
    any dry run (a test's, tests/conftest.py) it is one: failures on its zeros are not shrunk.
    """
    from hypothesis import example, given, note, seed

    dry_run = dry_run or dryrun.active()
    spec = get_spec(spec)
    fn = CHECK_FUNCTIONS[check]
    if check == "errors":
        if dry_run:
            return
        try:
            fn(spec)
        except Exception as e:
            e.add_note(f"repro: {repro_line(check, spec)}")
            raise
        return
    needs = dict(NEEDS[check])
    if "batch" in needs:
        needs["batch"] = strategies.VMAP_BATCH
    strategy = strategies.examples(spec, dtype, **needs)
    registered = _is_registered(spec)

    # Derandomized profiles seed Hypothesis with a stable hash of (primitive, check, dtype): every
    # cell draws its own examples (float32 and float64, vjp and second_order differ), the same on
    # every run and every xdist worker, and a dry run draws the very examples the real run will.
    settings = _settings(spec, check, dtype, profile)
    d = dt.dtype(dtype or spec.verify.dtypes[0])
    edge_cases = spec.verify.edge_cases

    def hypothesis_test(body):
        """body(ex) run on the cell's examples: its edge cases, then the profile's draws."""
        test = settings(given(ex=strategy)(body))
        for args, params in edge_cases(d) if edge_cases else []:
            test = example(ex=Example(d.name, [np.asarray(a) for a in args], dict(params)))(test)
        if settings.derandomize:
            test = seed(strategies.stable_seed(spec.name, _seed_key(spec, check), d.name))(test)
        return test

    # Derandomized draws are the same every time, so their jitted calls can be collected and
    # compiled together (slope.testing.batched); a failure is then reported by the run below.
    outcome = settings.derandomize and batches(spec, check) and batched.run_batched(spec, fn, hypothesis_test, dry_run)
    if outcome is True:
        return

    def conformance(ex):
        if registered:
            note(f"repro: {repro_line(check, spec, ex)}")
        try:
            fn(spec, ex)
        except NotApplicable:
            from hypothesis import reject

            reject()
        except dryrun.Deferred:
            pass
        except Exception:
            if not dry_run:
                raise

    hypothesis_test(conformance)()
    if outcome and not dry_run:
        import warnings

        warnings.warn(f"{spec.name} {check}[{d.name}]: {outcome}; each example alone passes", batched.BatchWarning)


SPOT_CHECK_EXAMPLES = 1


def spot_check(spec, check: str, dtype) -> bool:
    """Whether a check at this dtype repeats rules that the spec's main dtype already draws at full
    budget: vmap at a second dtype, and every check of the float64 column. There a rule's structure
    (axes, windows, batch placements, which operand a derivative flows through) has nothing new to
    show; the lowering at that dtype and the tight float64 tolerance (a derivative rule that is
    slightly wrong) have, and one example shows them, so such a check draws SPOT_CHECK_EXAMPLES
    random examples (and all of the spec's edge cases, kinks and ties included)."""
    spec = get_spec(spec)
    name = dt.dtype(dtype or spec.verify.dtypes[0]).name
    if check == "errors":
        return False
    if name == "float64" and name not in dtypes_for(spec, check):
        return True
    return check == "vmap" and name != dtypes_for(spec, check)[0]


def _settings(spec, check, dtype, profile):
    settings = strategies.settings_for(profile, spec=spec.name)
    if spot_check(spec, check, dtype):
        from hypothesis import settings as hypothesis_settings

        settings = hypothesis_settings(settings, max_examples=min(settings.max_examples, SPOT_CHECK_EXAMPLES))
    return settings


def batches(spec, check: str) -> bool:
    """Whether a derandomized check's jitted calls are staged together (slope.testing.batched): the
    transformation checks', and the jit check's where its program is not the one eager compiles
    anyway (an ops row's composite; a primitive whose eager kernel may be shape-polymorphic, whose
    jit program is its static twin). Elsewhere a primitive staged alone is eager's very program (one
    cache entry), which batching would compile a second time."""
    if check in batched.BATCHED_CHECKS:
        return True
    from slope.backends.iree import polymorphic

    spec = get_spec(spec)
    return check == "jit" and (not _is_registered(spec) or spec.name in polymorphic.PRIMITIVES)


def _seed_key(spec, check):
    """abstract_eval draws eager's examples: both compile the op alone, so they share its modules
    (the shape rule is checked on every one of them all the same). So does a registered primitive's
    jit check: staged alone, a primitive lowers to the program eager runs with its sizes static
    (where eager's module is shape-polymorphic, backends/iree/polymorphic.py) or to that very
    program (one cache entry), so jit checks the static lowering and the staging on eager's
    examples. An ops row's jit program is the whole composite, unlike its eager primitives: it draws
    its own examples."""
    if check == "abstract_eval" or (check == "jit" and _is_registered(spec)):
        return "eager"
    return check


def drawn_examples(spec, check: str, dtype, profile: str | None = None) -> list:
    """The Examples run_check draws for (spec, check, dtype) under a profile (not its edge cases):
    for tests of what the samplers cover. Same settings and seed as run_check."""
    from hypothesis import given, seed

    spec = get_spec(spec)
    needs = dict(NEEDS[check])
    if "batch" in needs:
        needs["batch"] = strategies.VMAP_BATCH
    settings = _settings(spec, check, dtype, profile)
    out = []

    @settings
    @given(ex=strategies.examples(spec, dtype, **needs))
    def collect(ex):
        out.append(ex)

    if settings.derandomize:
        collect = seed(strategies.stable_seed(spec.name, _seed_key(spec, check), dt.dtype(dtype).name))(collect)
    collect()
    return out


def prefetch(spec, runs, profile: str | None = None) -> int:
    """Compile up front, in shared modules, what the checks `runs` [(check, dtype)...] will need.

    Each check example compiles a few small modules and IREE's cost is mostly per module, so a
    dry run collects the modules and compile.compile_many builds them a few dozen per IREE call;
    the real run then finds them all cached. A probe (each example up to its first compile
    request) tells a warm cache from a cold one cheaply; only if it noted anything do the examples
    run through to their ends (slope.testing.dryrun). Only derandomized profiles draw the same
    examples twice (others would only waste the compiles), so it does nothing for them. Returns
    the number of modules noted."""
    if not strategies.settings_for(profile).derandomize:
        return 0
    for through in (False, True):
        with dryrun.collecting(through) as jobs:
            for check, dtype in runs:
                run_check(spec, check, dtype, profile, dry_run=True)
        if not jobs:
            return 0
    try:
        iree_compile.compile_many(jobs)
    except Exception:  # noqa: BLE001 - the real run meets the error in its context
        pass
    return len(jobs)


_rows_prefetched: set = set()


def prefetch_row(spec, profile: str | None = None) -> int:
    """prefetch() for every column of a primitive's row at once, once per process: a row's modules
    fill a few shared modules instead of a few per cell (its cells should run in one process:
    tests/properties/test_conformance.py groups them for pytest-xdist)."""
    spec = get_spec(spec)
    key = (spec.name, strategies.profile_name(profile))  # only for specs their names resolve to
    if key in _rows_prefetched:
        return 0
    _rows_prefetched.add(key)
    runs = [run for kind, what in plan(spec).values() if kind == "run" for run in what]
    return prefetch(spec, runs, profile)


def _is_registered(spec):
    return REGISTRY.get(spec.name) is spec


def _is_known(spec):
    """The spec its name resolves to (a registered primitive or an ops row), not a stand-in of that name."""
    try:
        return get_spec(spec.name) is spec
    except KeyError:
        return False


@dataclass
class CellResult:
    status: str  # "pass" | "fail" | "exempt"
    detail: str = ""
    seconds: float = 0.0
    runs: list = field(default_factory=list)  # (check, dtype) pairs that ran


def run_cell(spec, column: str, profile: str | None = None) -> CellResult:
    """One cell of the conformance matrix: a primitive x a column."""
    spec = get_spec(spec)
    kind, what = plan(spec)[column]
    if kind == "exempt":
        return CellResult("exempt", what)
    if kind == "fail":
        return CellResult("fail", what)
    t0 = time.perf_counter()
    if _is_known(spec):
        prefetch_row(spec, profile)
    else:
        prefetch(spec, what, profile)
    for check, dtype in what:
        try:
            run_check(spec, check, dtype, profile)
        except Exception as e:  # noqa: BLE001 - any exception is a failed cell
            return CellResult("fail", _describe(e, check, dtype), time.perf_counter() - t0, what)
    return CellResult("pass", "", time.perf_counter() - t0, what)


def _describe(e, check, dtype) -> str:
    import traceback

    head = f"{check}[{dtype}]: " if dtype else f"{check}: "
    msg = "".join(traceback.format_exception_only(type(e), e)).strip()
    notes = getattr(e, "__notes__", None) or []
    extra = "\n".join(n for n in notes if n not in msg)
    return head + msg + ("\n" + extra if extra else "")


class PrimitiveCheckFailed(AssertionError):
    pass


def check_primitive(spec, checks=None, profile: str | None = None, raise_on_failure: bool = True) -> dict:
    """Run every applicable check of `spec` (a Spec, registered or not, or a primitive's name).

    checks: restrict to these columns (names from COLUMNS). Returns {column: CellResult};
    raises PrimitiveCheckFailed listing every failing column unless raise_on_failure=False.
    """
    spec = get_spec(spec)
    results = {}
    for col in COLUMNS:
        if checks is not None and col not in checks:
            continue
        results[col] = run_cell(spec, col, profile)
    failed = {c: r for c, r in results.items() if r.status == "fail"}
    if failed and raise_on_failure:
        lines = [f"{spec.name}: {len(failed)} failing check(s)"] + [f"--- {c}\n{r.detail}" for c, r in failed.items()]
        raise PrimitiveCheckFailed("\n".join(lines))
    return results
