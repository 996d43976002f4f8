"""The compile cache: module text is a pure function of the program (it is the cache key),
compile_many's shared modules, the `.ref` disk entries, and slope.testing.dryrun's collecting()."""
import os
import subprocess
import sys

import numpy as np
import pytest

import slope
from slope.backends.iree import compile as C
from slope.backends.iree.lowering import lower_primitive
from slope.core.aval import Aval
from slope.primitives import REGISTRY
from slope.testing import dryrun

pytestmark = pytest.mark.no_prefetch  # counts or stages its own compiles (tests/conftest.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _eager_text(name, shape, dtype="float32", **params):
    spec = REGISTRY[name]
    avals = [Aval(shape, dtype)]
    return lower_primitive(spec, avals, spec.abstract_eval(*avals, **params), params)


REGION_OPS = [("cumsum", {"axis": 1}), ("cummax", {"axis": 0}), ("sort", {"dimension": 1}),
              ("argmax", {"axis": 1, "index_dtype": slope.int32})]


@pytest.mark.parametrize("name,params", REGION_OPS)
def test_module_text_does_not_depend_on_what_was_lowered_before(name, params):
    """Region SSA names once came from a process-wide counter: the same op lowered twice gave two
    texts, so the disk cache never hit across processes."""
    first = _eager_text(name, (2, 3), **params)
    for other, other_params in REGION_OPS:
        _eager_text(other, (4, 2), **other_params)
    assert _eager_text(name, (2, 3), **params) == first


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SLOPE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(C, "_memory", {})
    monkeypatch.setattr(C, "_shared", {})
    monkeypatch.setattr(C, "_warned", False)
    return tmp_path


def _jobs(n, op="sin"):
    spec = REGISTRY[op]
    out = []
    for k in range(n):
        avals = [Aval((k + 1, 5), "float32")]
        out_avals = spec.abstract_eval(*avals)
        out.append((lower_primitive(spec, avals, out_avals, {}), op, avals, out_avals))
    return out


def test_compile_many_shares_one_module_and_each_program_runs(fresh_cache):
    before = C.stats["compiles"]
    exes = C.compile_many(_jobs(5), max_workers=1)  # on more threads, one module per thread
    assert C.stats["compiles"] == before + 1  # one IREE call for five programs
    assert len({id(e.loaded) for e in exes}) == 1
    for k, exe in enumerate(exes):
        x = np.linspace(-2, 2, (k + 1) * 5, dtype=np.float32).reshape(k + 1, 5)
        (out,) = exe([slope.tensor(x)._buf])
        np.testing.assert_allclose(_host(out, exe), np.sin(x), rtol=1e-6)
    assert len(list(fresh_cache.rglob("*.ref"))) == 5


def _host(buf, exe):
    from slope.backends.iree import runtime

    return runtime.to_host(buf, exe.out_avals[0])


def test_shared_module_is_found_from_a_new_process(fresh_cache):
    C.compile_many(_jobs(3, "exp"))
    code = ("import numpy as np, slope\nfrom slope.backends.iree import compile as C\n"
            "x = np.ones((2, 5), np.float32)\n"
            "assert np.allclose(slope.jit(lambda a: a.exp())(slope.tensor(x)).numpy(), np.e)\n"
            "print(C.stats['compiles'], C.stats['disk_hits'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "SLOPE_CACHE_DIR": str(fresh_cache)})
    assert out.stdout.split() == ["0", "1"]


def test_a_corrupt_ref_entry_is_a_miss(fresh_cache):
    (text, name, avals, out_avals), = _jobs(1, "cos")
    C.compile_many(_jobs(2, "cos"), max_workers=1)  # two .ref entries, whatever SLOPE_COMPILE_THREADS says
    for ref in fresh_cache.rglob("*.ref"):
        ref.write_bytes(b"not a key\n")
    C._memory.clear()
    C._shared.clear()
    with pytest.warns(C.CacheWarning, match="not a slope cache entry"):
        exe = C.compile_module(text, name, avals, out_avals)
    x = np.full((1, 5), 0.5, np.float32)
    np.testing.assert_allclose(_host(exe([slope.tensor(x)._buf])[0], exe), np.cos(x), rtol=1e-6)


def test_collecting_notes_misses_and_compiles_nothing(fresh_cache):
    before = C.stats["compiles"]
    x = slope.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    with dryrun.collecting() as jobs:
        with pytest.raises(dryrun.Deferred):
            slope.jit(lambda a: (a * 3.0).tanh())(x)
    assert C.stats["compiles"] == before and len(jobs) == 1
    C.compile_many(jobs)
    assert np.allclose(slope.jit(lambda a: (a * 3.0).tanh())(x).numpy(), np.tanh(3 * np.arange(6).reshape(2, 3)))
    assert C.stats["compiles"] == before + 1



def test_collecting_through_notes_every_module_an_example_asks_for(fresh_cache):
    """A probe stops at an example's first compile; a run through notes the later ones too (eager ops one
    after another), standing in with zeros, and what it handed out works for real after compile_many."""
    before = C.stats["compiles"]
    # a shape no other test uses: the eager memos of this process must not hold these ops already
    x = slope.tensor(np.linspace(0.1, 1, 3 * 19, dtype=np.float32).reshape(3, 19))

    def eager_chain(a):
        return slope.lax.log(slope.lax.exp(a) + a)  # exp, add, log: three eager modules in order

    with dryrun.collecting() as probe_jobs:
        with pytest.raises(dryrun.Deferred):
            eager_chain(x)
    with dryrun.collecting(through=True) as jobs:
        zeros = eager_chain(x).numpy()
    assert len(probe_jobs) == 1 and len(jobs) == 3 and C.stats["compiles"] == before
    assert not zeros.any()  # what the dry run computed is the stand-ins' zeros, not a result
    C.compile_many(jobs)
    compiled = C.stats["compiles"]
    xn = x.numpy()
    np.testing.assert_allclose(eager_chain(x).numpy(), np.log(np.exp(xn) + xn), rtol=1e-6)
    assert C.stats["compiles"] == compiled  # the eager memos kept the stand-ins; they found their modules cached

def test_a_dry_run_goes_through_eager_views(fresh_cache):
    """An eager reshape is a view made by the backend, not a compile: the dry run's stand-in backend once lacked
    `view`, so an example stopped at its first reshape and the modules after it were compiled one by one by
    the real run (the ops.linalg.pinv row: 24 modules)."""
    x = slope.tensor(np.linspace(0.1, 1, 3 * 23, dtype=np.float32).reshape(3, 23))
    with dryrun.collecting(through=True) as jobs:
        slope.lax.exp(slope.lax.reshape(slope.lax.neg(x), shape=(23, 3)))
    assert [job[1] for job in jobs] == ["neg", "exp"]


def test_prefetch_call_compiles_what_a_test_would_compile_one_by_one(fresh_cache):
    """tests/conftest.py dry-runs each test first: its eager ops and jitted programs are compiled in
    shared modules, and the test's own checks (which fail on the dry run's zeros) fail only for real."""
    # sizes no other test uses: the eager memos of this process must not hold these ops (sort, cumsum)
    x = slope.tensor(np.linspace(1, 0.1, 3 * 29, dtype=np.float32).reshape(3, 29))
    xn = x.numpy()

    def a_test():
        y = slope.lax.cumsum(slope.lax.sort(x, dimension=1)[0], axis=1)
        z = slope.jit(lambda a: (a * 2.0).sum(dim=0))(y)
        np.testing.assert_allclose(z.numpy(), 2 * np.cumsum(np.sort(xn, axis=1), axis=1).sum(0), rtol=1e-5)

    before = C.stats["compiles"]
    assert dryrun.prefetch_call(a_test) == 3  # sort, cumsum, the jitted program
    prefetched = C.stats["compiles"]
    assert prefetched - before < 3  # shared modules (one per compile thread)
    a_test()
    assert C.stats["compiles"] == prefetched


def test_a_prefetch_dry_run_ends_where_a_process_starts(fresh_cache):
    import subprocess
    import sys

    x = slope.tensor(np.linspace(1, 0.1, 3 * 31, dtype=np.float32).reshape(3, 31))

    def a_test():
        slope.lax.sort(x, dimension=1)
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        slope.lax.sort(x, dimension=0)

    assert dryrun.prefetch_call(a_test) == 1  # the process and what follows it run only for real
    a_test()  # processes start again once the dry run is over


def test_a_prefetch_dry_run_ends_where_the_test_dry_runs(fresh_cache):
    x = slope.tensor(np.linspace(1, 0.1, 3 * 37, dtype=np.float32).reshape(3, 37))

    def a_test():
        slope.lax.sort(x, dimension=1)
        with dryrun.collecting():
            slope.lax.sort(x, dimension=0)

    assert dryrun.prefetch_call(a_test) == 1


def test_the_prefetch_hook_gives_the_real_run_the_random_state_the_dry_run_drew_from():
    from testutil import random_state_restorer

    funcargs = {"rng": np.random.default_rng(5)}
    np.random.seed(1)
    slope.manual_seed(3)
    restore = random_state_restorer(funcargs)
    np.random.rand(7), slope.randn(9), funcargs["rng"].standard_normal(11)  # what a dry run draws
    restore()
    got = np.random.rand(2), slope.randn(4).numpy(), funcargs["rng"].standard_normal(3)
    np.random.seed(1)
    slope.manual_seed(3)
    want = np.random.rand(2), slope.randn(4).numpy(), np.random.default_rng(5).standard_normal(3)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_a_program_that_fails_in_a_batch_is_named(fresh_cache):
    good = _jobs(2)
    bad = ("func.func @main(%arg0: tensor<2xf32>) -> (tensor<3xf32>) {\n    return %arg0 : tensor<2xf32>\n}\n",
           "bad_program", [Aval((2,), "float32")], [Aval((3,), "float32")])
    with pytest.raises(slope.BackendError, match="IREE failed to compile bad_program"):
        C.compile_many(good + [bad])


# ---------------------------------------------------------------- compiler flags from the Program


def _programs_for_flags():
    """Programs whose flags differ: f32/f64, small/large dot_general (also batched, transposed and as
    the im2col of a conv), f64 only inside a nested jit or after a convert, f64 math in a region."""
    f32, f64 = np.float32, np.float64

    def t(shape, dtype=f32):
        return slope.tensor(np.ones(shape, dtype))

    def conv(x, w):
        return slope.lax.conv(x, w, window_strides=(1, 1), padding=((1, 1), (1, 1)), lhs_dilation=(1, 1),
                              rhs_dilation=(1, 1), feature_group_count=1)

    inner = slope.jit(lambda x: slope.sin(x) * 2)
    return {
        "sin f32": (lambda x: slope.sin(x), [t((3,))]),
        "sin f64": (lambda x: slope.sin(x), [t((3,), f64)]),
        "f64 inside a nested jit": (lambda x: inner(x.to(slope.float64)).to(slope.float32), [t((3,))]),
        "f64 cumsum (a region)": (lambda x: slope.lax.cumsum(x, axis=0), [t((4,), f64)]),
        "f64 sum over two axes (lowered as another program)": (lambda x: x.sum(), [t((2, 3, 4), f64)]),
        "matmul 256^3": (lambda a, b: a @ b, [t((256, 256)), t((256, 256))]),
        "matmul 512^3": (lambda a, b: a @ b, [t((512, 512)), t((512, 512))]),
        "matmul 512^3 f64": (lambda a, b: a @ b, [t((512, 512), f64), t((512, 512), f64)]),
        "batched matmul, 512^3 per batch": (lambda a, b: a @ b, [t((2, 512, 512)), t((2, 512, 512))]),
        "matmul 1024x512x256, transposed after": (lambda a, b: (a @ b).T, [t((1024, 512)), t((512, 256))]),
        "weight gradient (a swapped dot)": (slope.grad(lambda w, x: (x @ w).sum()), [t((512, 512)), t((512, 512))]),
        "conv as im2col + dot_general": (conv, [t((8, 64, 32, 32)), t((64, 64, 3, 3))]),
        "small conv": (conv, [t((1, 2, 5, 5)), t((3, 2, 3, 3))]),
    }


@pytest.mark.parametrize("case", list(_programs_for_flags()))
def test_flags_from_the_program_equal_the_flags_read_off_its_text(case):
    """compile_module gets its Needs from lowering (the avals of the ops emitted), no longer from a
    regex over the text; the flags (part of every cache key) are those the regex gave."""
    from slope.backends.iree import lowering

    fn, args = _programs_for_flags()[case]
    program = slope.jit(fn).lower(*args).program
    text, needs = lowering.lower_module(program)
    assert needs == C.needs_from_text(text)
    assert C.compiler_flags(needs) == C.flags_for_text(text)


def test_flags_of_representative_programs():
    from slope.backends.iree import lowering

    cases = _programs_for_flags()

    def flags(case):
        fn, args = cases[case]
        return C.compiler_flags(lowering.lower_module(slope.jit(fn).lower(*args).program)[1])

    assert flags("sin f32") == C.BASE_FLAGS
    assert flags("sin f64") == flags("f64 inside a nested jit") == C.BASE_FLAGS + C.F64_FLAGS
    assert flags("matmul 256^3") == C.BASE_FLAGS
    assert flags("matmul 512^3") == flags("batched matmul, 512^3 per batch") == C.BASE_FLAGS + C.DATA_TILING_FLAGS
    assert flags("matmul 512^3 f64") == C.BASE_FLAGS + C.F64_FLAGS + C.DATA_TILING_FLAGS
    assert flags("weight gradient (a swapped dot)") == C.BASE_FLAGS + C.DATA_TILING_FLAGS
