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
    exes = C.compile_many(_jobs(5))
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
            "assert np.allclose(slope.tensor(x).exp().numpy(), np.e)\n"
            "print(C.stats['compiles'], C.stats['disk_hits'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "SLOPE_CACHE_DIR": str(fresh_cache)})
    assert out.stdout.split() == ["0", "1"]


def test_a_corrupt_ref_entry_is_a_miss(fresh_cache):
    (text, name, avals, out_avals), = _jobs(1, "cos")
    C.compile_many(_jobs(2, "cos"))
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


def test_a_program_that_fails_in_a_batch_is_named(fresh_cache):
    good = _jobs(2)
    bad = ("func.func @main(%arg0: tensor<2xf32>) -> (tensor<3xf32>) {\n    return %arg0 : tensor<2xf32>\n}\n",
           "bad_program", [Aval((2,), "float32")], [Aval((3,), "float32")])
    with pytest.raises(slope.BackendError, match="IREE failed to compile bad_program"):
        C.compile_many(good + [bad])
