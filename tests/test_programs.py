"""Whole-program differential testing (slope.testing.programs): random programs of 3-10 lax calls,
checked eagerly, under jit, grad, jvp and vmap against the same program run with the NumPy references.

Profiles (SLOPE_PROFILE): ci (default) runs a fixed batch of CI_PROGRAMS programs (the same every run,
so the compile cache stays warm; cold, they compile in a few shared modules); dev runs DEV_PROGRAMS;
thorough runs THOROUGH_PROGRAMS from a clock seed (printed). Longer runs:
`python -m slope.testing.programs --n 2000`. A failure prints the shrunk program as a runnable repro.
"""
import os
import time

import numpy as np
import pytest

from slope.testing import programs as P
from slope.testing.strategies import profile_name

pytestmark = pytest.mark.no_prefetch  # compiles its programs up front itself (programs.precompile)

CI_SEED = 20240614
CI_PROGRAMS = 32
DEV_PROGRAMS = 12
THOROUGH_PROGRAMS = 300
# the composed transformations (jacfwd, jacrev, hessian, grad of grad, vmap of grad) compile bigger
# modules: ci and dev run them on a few small programs, thorough on every program
HIGHER_SEED = 20240615
HIGHER_PROGRAMS = 8
HIGHER_MAX_OPS = 6


def _batch():
    profile = profile_name()
    if profile == "thorough":
        seed = int(os.environ.get("SLOPE_PROGRAMS_SEED", int(time.time()) % 1000000))
        return seed, THOROUGH_PROGRAMS
    return CI_SEED, DEV_PROGRAMS if profile == "dev" else CI_PROGRAMS


def _run(capsys, seed, n, checks, **kw):
    summary = P.Summary()
    lines = []
    for start in range(0, n, 40):
        cases = P.random_cases(min(40, n - start), seed, start, **kw)
        P.run_batch(cases, summary, checks, log=lines.append, first_index=start, seed=seed)
    with capsys.disabled():
        print(f"\nprogram fuzzer (seed {seed}, checks {', '.join(checks)}): {summary.line()}")
        for why, count in sorted(summary.skipped.items()):
            print(f"  skipped {count} x {why}")
    if summary.failures:
        report = "\n\n".join(f"[{check}] {msg}\n--- repro ---\n{repro}" for check, msg, repro in summary.failures)
        pytest.fail(f"{len(summary.failures)} of {summary.programs} programs disagree with the oracle "
                    f"(seed {seed}):\n\n{report}", pytrace=False)
    return summary


def test_random_programs_agree_with_the_oracle(capsys):
    seed, n = _batch()
    checks = P.CHECKS if profile_name() == "thorough" else P.BASE_CHECKS
    summary = _run(capsys, seed, n, checks)
    # the batch really exercised the checks: skips are the exception
    assert summary.passed >= 5 * summary.programs


def test_composed_transformations_of_random_programs_agree_with_the_oracle(capsys):
    """vmap with random (negative) in_axes and out_axes, jacfwd, jacrev, hessian, grad of grad and
    vmap of grad of small random programs, against float64 finite differences of the oracle."""
    if profile_name() == "thorough":
        pytest.skip("the thorough batch runs every check on every program")
    summary = _run(capsys, HIGHER_SEED, HIGHER_PROGRAMS, P.CHECKS, max_ops=HIGHER_MAX_OPS)
    assert summary.passed >= 8 * summary.programs


# ---------------------------------------------------------------- the generator itself (no compiling)


def test_generated_programs_are_well_typed_and_cover_the_op_families():
    """Every node is checked against its primitive's shape rule as it is generated (GeneratorBug);
    every program runs on the oracle; 300 programs use every family the generator knows."""
    counts = {}
    for case in P.random_cases(300, 1):
        outs = case.fn(P.NumpyLax(), *case.inputs)
        assert len(outs) == len(case.weights)
        for o, w in zip(outs, case.weights):
            assert o.shape == w.shape and o.dtype == np.dtype(case.dtype)
            assert np.all(np.isfinite(o))
        P._count_ops(case, counts)
    wanted = {"exp", "log", "sqrt", "rsqrt", "tanh", "add", "sub", "mul", "div", "maximum", "reduce_sum", "reduce_max",
              "reduce_min", "reshape", "transpose", "broadcast_in_dim", "slice", "pad", "rev", "concatenate", "squeeze",
              "expand_dims", "dot_general", "gather", "dynamic_slice", "dynamic_update_slice", "scatter_add", "sort",
              "cumsum", "cummax", "conv", "select", "clamp"}
    assert any(c.source.count("broadcast_in_dim") >= 2 for c in P.random_cases(300, 1)
               if "reduce_" in c.source)
    assert wanted <= set(counts), sorted(wanted - set(counts))


def test_hypothesis_strategy_draws_valid_cases():
    from hypothesis import given, settings

    from slope.testing.strategies import settings_for

    @settings(settings_for(), max_examples=20)
    @given(P.programs())
    def draw(case):
        assert 1 <= len(case.inputs) <= 3
        assert any(a is not None for a in case.in_axes)
        case.fn(P.NumpyLax(), *case.inputs)

    draw()


def test_case_repr_is_a_runnable_repro():
    case = P.random_cases(1, 3)[0]
    ns = {"np": np, "Case": P.Case}
    again = eval(repr(case), ns)  # noqa: S307 - our own text
    assert again.source == case.source and again.in_axes == case.in_axes
    for a, b in zip(again.inputs + again.batch, case.inputs + case.batch):
        assert (a is None and b is None) or np.array_equal(a, b)
    compile(case.repro(), "<repro>", "exec")


# ---------------------------------------------------------------- the checks catch wrong results


_NumpyLax = P.NumpyLax


class _WrongTanh(_NumpyLax):
    """An oracle whose tanh is off by 1% of x: every check of a program with a tanh must fail."""

    def __getattr__(self, name):
        f = _NumpyLax.__getattr__(self, name)
        if name != "tanh":
            return f
        return lambda x: f(x) + np.asarray(0.01, x.dtype) * x


def test_checks_catch_a_wrong_primitive_and_the_shrinker_isolates_it(monkeypatch):
    source = ("def program(lax, x0, x1):\n    F = x0.dtype\n    v2 = lax.exp(x0)\n    v3 = lax.mul(v2, x1)\n"
              "    v4 = lax.tanh(v3)\n    v5 = lax.reduce_sum(v4, axes=(0,))\n    return [v5]\n")
    rng = np.random.default_rng(0)
    x0, x1 = rng.uniform(-1, 1, (3,)).astype(np.float32), rng.uniform(-1, 1, (3,)).astype(np.float32)
    prog = _program_of(source, [x0, x1])
    case = P.make_case(prog, 5)
    assert P.check_case(case).ok
    monkeypatch.setattr(P, "NumpyLax", _WrongTanh)
    report = P.check_case(case)
    assert {f.check for f in report.failures} == set(P.CHECKS) - {"jit_repeat"}, report.failures
    small = P.shrink(case, "jit")
    assert small.n_ops == 1 and "lax.tanh" in small.source, small.source


def _wrong_in_company(monkeypatch, part, company):
    """Make the jitted checks return `part`'s outputs off by 1 when `company` is staged beside it,
    as IREE did for grad_jit of program 1082 of --seed 2026 (with grad_grad and vmap_grad)."""
    real = P._jit_fn

    def jit_fn(case, parts):
        jitted = real(case, parts)
        if part not in parts or company not in parts:
            return jitted
        counts = P._part_counts(case, parts)
        start = sum(counts[:list(parts).index(part)])

        def run(*flat):
            outs = list(jitted(*flat))
            for k in range(start, start + counts[list(parts).index(part)]):
                outs[k] = outs[k] + 1.0
            return outs

        run.lower = jitted.lower
        return run

    monkeypatch.setattr(P, "_jit_fn", jit_fn)


def test_the_shrinker_reruns_a_jitted_check_with_the_parts_staged_beside_it(monkeypatch):
    """A case's jit parts are one IREE module, so a failure may need the company: the shrunk case
    must fail with the parts the failing check was staged with, and its repro must run them."""
    source = ("def program(lax, x0, x1):\n    F = x0.dtype\n    v2 = lax.exp(x0)\n    v3 = lax.mul(v2, x1)\n"
              "    v4 = lax.sin(v3)\n    return [v4]\n")
    rng = np.random.default_rng(0)
    prog = _program_of(source, [rng.uniform(-1, 1, (3,)).astype(np.float32) for _ in range(2)])
    case = P.make_case(prog, 5)
    checks = ("grad_jit", "vmap_grad")
    _wrong_in_company(monkeypatch, "grad_jit", "vmap_grad")
    assert P.check_case(case, ("grad_jit",)).ok
    assert [f.check for f in P.check_case(case, checks).failures] == ["grad_jit"]
    rerun = P.rerun_checks(case, "grad_jit", checks)
    assert rerun == checks
    small = P.shrink(case, "grad_jit", checks=checks)
    assert small.n_ops < case.n_ops, small.source
    with pytest.raises(AssertionError, match=r"\[grad_jit\]"):
        exec(small.repro(rerun), {})  # noqa: S102 - our own text


def test_a_repro_of_jit_repeat_keeps_the_vmap_batch():
    """jit_repeat stages every jit part, vmap among them: its repro must keep the mapped inputs
    (it printed in_axes=(None, None), and vmap raised "at least one argument must be mapped")."""
    case = P.random_cases(1, 3)[0]
    repro = case.repro(("jit_repeat",))
    assert f"in_axes={case.in_axes!r}" in repro
    exec(repro, {})  # noqa: S102 - our own text; raises if a check fails


def test_the_jit_check_finds_a_reduction_read_two_ways_when_the_lowering_does_not_fence_it(monkeypatch):
    """IREE 3.13 miscompiles a reduce read through two different broadcasts by one op (stablehlo-notes
    §29; slope fences it in lowering._reductions_read_two_ways). The generator draws that pattern, and
    with the fence removed the jit check of a few such programs must fail; with it, they pass."""
    from slope.backends.iree import lowering

    cases = P.random_cases(6, 7, 0, kinds=["reduction_two_ways", "unary"], max_ops=4)
    assert any("reduce_" in c.source and c.source.count("broadcast_in_dim") >= 2 for c in cases)
    assert all(P.check_case(c, ["jit"]).ok for c in cases)
    monkeypatch.setattr(lowering, "_reductions_read_two_ways", lambda program: set())
    assert any(not P.check_case(c, ["jit"]).ok for c in cases)


def _program_of(source, inputs):
    """A Program structure for hand-written source (for shrinking): parse 'vN = lax.op(args, k=v)' lines."""
    import ast

    dtype = inputs[0].dtype.name
    values = {f"x{i}": P.Value(f"x{i}", x.shape, dtype, -1.0, 1.0) for i, x in enumerate(inputs)}
    nodes, outputs = [], []
    env = {f"x{i}": x for i, x in enumerate(inputs)}
    lax = P.NumpyLax()
    for line in source.splitlines()[2:]:
        line = line.strip()
        if line.startswith("return"):
            outputs = [n.strip() for n in line[len("return ["):-1].split(",")]
            continue
        out, call = line.split(" = ", 1)
        tree = ast.parse(call, mode="eval").body
        op = tree.func.attr
        args = [a.id for a in tree.args]
        params = {k.arg: ast.literal_eval(k.value) for k in tree.keywords}
        env[out] = getattr(lax, op)(*[env[a] for a in args], **params)
        values[out] = P.Value(out, env[out].shape, dtype, -1.0, 1.0)
        nodes.append(P.Node(op, args, params, [out]))
    return P.Program(dtype, [values[f"x{i}"] for i in range(len(inputs))], nodes, outputs, values)


# ---------------------------------------------------------------- when the truth itself is unreliable


@pytest.mark.parametrize("x0, kink", [(0.3, False), (0.0, True), (1e-9, True), (2e-4, True), (5e-3, False)])
def test_finite_differences_near_a_kink_are_skipped(x0, kink):
    """|x| near 0: central differences are taken on both sides of the kink (or at it) and the
    derivative check must be skipped, not failed; far from 0 it is kept."""
    F = lambda v: np.abs(v)  # noqa: E731
    d, why = P._fd_checked(F, np.array([x0]), np.array([1.0]), "float32")
    assert (d is None) == kink, (d, why)
    if not kink:
        assert abs(d[0] - np.sign(x0)) < 1e-9


def test_ill_conditioned_value_elements_are_not_compared():
    """exp(x) - exp(y) with x == y + 1e-7: float32 rounding of the two exps decides the result, so
    that element is masked; the well-separated element is compared."""
    source = ("def program(lax, x0, x1):\n    F = x0.dtype\n    v2 = lax.exp(x0)\n    v3 = lax.exp(x1)\n"
              "    v4 = lax.sub(v2, v3)\n    return [v4]\n")
    x0 = np.array([1.0, 1.0], np.float32)
    x1 = np.array([np.nextafter(np.float32(1.0), np.float32(2.0)), 0.5], np.float32)
    case = P.Case(source, "float32", [x0, x1], [np.ones(2, np.float32)], [x0, x1], (0, None), [x0[None], None])
    truth = P.truth(case, ("jit",))
    assert truth.ok[0].tolist() == [False, True]
