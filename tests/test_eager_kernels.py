"""Shape-polymorphic eager kernels (slope/backends/iree/polymorphic.py): a primitive run eagerly compiles one
module per (params, dtypes, rank) where its StableHLO provably does not depend on its sizes, and keeps
its static module everywhere else."""
import numpy as np
import pytest

import slope
from slope import lax
from slope.backends.iree import emitter, polymorphic
from slope.core import backend
from slope.core.aval import Aval
from slope.primitives.spec import REGISTRY

SHAPES = [(3, 4), (5, 1), (1, 7), (2, 2)]
RNG = np.random.default_rng(0)


def _eager_exes(name):
    return list(REGISTRY[name]._eager_cache.values())


@pytest.mark.parametrize("name, call, want", [
    ("add", lambda a, b: lax.add(a, b), lambda a, b: a + b),
    ("lt", lambda a, b: lax.lt(a, b), lambda a, b: a < b),
    ("exp", lambda a, b: lax.exp(a), lambda a, b: np.exp(a)),
    ("reduce_max", lambda a, b: lax.reduce_max(a, axes=(1,)), lambda a, b: a.max(1)),
    ("transpose", lambda a, b: lax.transpose(a, perm=(1, 0)), lambda a, b: a.T),
    ("convert", lambda a, b: lax.convert(a, dtype=slope.float16), lambda a, b: a.astype(np.float16)),
])
def test_one_module_serves_every_shape(name, call, want):
    """Each shape gets the right values, shapes and dtypes from one shared module."""
    for shape in SHAPES:
        a, b = (RNG.standard_normal(shape).astype(np.float32) for _ in range(2))
        got = call(slope.tensor(a), slope.tensor(b))
        expected = want(a, b)
        assert got.shape == expected.shape and got.dtype.np == expected.dtype
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    modules = {id(e.loaded) for e in _eager_exes(name)
               if [a.shape for a in e.in_avals][0] in SHAPES and e.in_avals[0].dtype is slope.float32}
    assert len(modules) == 1


def _text(name, avals, **params):
    program, _ = REGISTRY[name].eager_program([Aval(s, d) for s, d in avals], params)
    return backend.get().eager_module(program)[0]


@pytest.mark.parametrize("name, avals, params", [
    ("add", [((0, 3), "float32")] * 2, {}),  # empty operands
    ("add", [((), "float32")] * 2, {}),  # 0-d: nothing to gain
    ("slice", [((2, 3), "float32")], {"start_indices": (0, 1), "limit_indices": (2, 3), "strides": None}),  # sizes
    ("reshape", [((2, 3), "float32")], {"shape": (3, 2)}),  # sizes in its params (eagerly a view anyway)
    ("dot_general", [((2, 3), "float32"), ((3, 4), "float32")],
     {"contracting_dims": ((1,), (0,)), "batch_dims": ((), ())}),  # tiling depends on sizes
])
def test_static_where_sizes_matter(name, avals, params):
    assert "?" not in _text(name, avals, **params)


def test_a_lowering_that_depends_on_a_size_keeps_its_static_module(monkeypatch):
    """The dynamic text is used only where it is the static program with its dims erased: a lowering that
    emits something else at one size gets its static module at that size (and only there)."""
    plain = emitter.LOWERINGS["exp"]

    def odd_at_seven(ctx, args, in_avals, out_avals):
        if 7 in in_avals[0].shape:
            return [ctx.unary("stablehlo.negate", ctx.unary("stablehlo.negate", plain(ctx, args, in_avals, out_avals)[0],
                                                             out_avals[0]), out_avals[0])]
        return plain(ctx, args, in_avals, out_avals)

    monkeypatch.setitem(emitter.LOWERINGS, "exp", odd_at_seven)
    assert "?" in _text("exp", [((3, 4), "float32")])
    assert "?" not in _text("exp", [((7, 4), "float32")])


def test_dynamic_text_has_only_question_marks_for_sizes():
    text = _text("reduce_sum", [((3, 4), "float32")], axes=(1,))
    assert "tensor<?x?xf32>" in text and "tensor<?xf32>" in text and str(polymorphic.SENTINEL) not in text
    assert text == _text("reduce_sum", [((6, 9), "float32")], axes=(1,))


@pytest.mark.no_prefetch  # counts the kernels its ops compile (tests/conftest.py)
def test_broadcasting_ops_on_every_pattern_of_sizes(monkeypatch):
    """`x + y` with broadcasting: every pair of broadcast-compatible shapes of rank 0-2 over the sizes 1, 7, 11
    gets NumPy's values, while calls that broadcast the same way share a kernel (a size-1 dim that expands is
    stated in the kernel: `known_expanding_dimensions`)."""
    import itertools

    installed = backend.get()
    texts = []

    def noting(program, name):
        texts.append(installed.eager_module(program)[0])
        return compile_eager(program, name)

    compile_eager = installed.compile_eager
    monkeypatch.setattr(installed, "compile_eager", noting)
    shapes = [()] + [(a,) for a in (1, 7, 11)] + list(itertools.product((1, 7, 11), repeat=2))
    pairs = [(sa, sb) for sa in shapes for sb in shapes
             if all(a == b or 1 in (a, b) for a, b in zip(reversed(sa), reversed(sb)))]
    for sa, sb in pairs:
        a, b = RNG.standard_normal(sa).astype(np.float32), RNG.standard_normal(sb).astype(np.float32)
        for got, want in [(slope.tensor(a) + slope.tensor(b), a + b), (slope.tensor(a) * 3, a * 3)]:
            assert got.shape == want.shape
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    assert len(pairs) == 123 and len(texts) >= 100  # the memos of ops.add and ops.mul compile each new signature
    assert len(set(texts)) <= len(texts) / 2  # measured: 136 signatures, 45 kernels


def test_other_primitives_are_not_lowered_at_sentinel_sizes(monkeypatch):
    """A lowering may loop over a dim: eigh's Jacobi rotations, lowered at a size of a million (a sentinel),
    ran out of memory (the first full-suite run with every primitive looked at grew two workers past 9 GB).
    Only the listed primitives are looked at; the rest keep static modules without being lowered twice."""
    lowered = []
    real = polymorphic.lower_module
    monkeypatch.setattr(polymorphic, "lower_module", lambda p: lowered.append(p) or real(p))
    for name, avals, params in [("cumsum", [((3, 4), "float32")], {"axis": 1, "reverse": False}),
                                ("sort", [((3, 4), "float32")], {"dimension": 1, "num_keys": 1}),
                                ("eigh", [((3, 3), "float32")], {}),
                                ("iota", [], {"shape": (3, 4), "dimension": 1, "dtype": slope.int32})]:
        assert "?" not in _text(name, avals, **params)
    assert not lowered


@pytest.mark.parametrize("name, avals, params, call, want", [
    ("convert", [((3, 4), "float32")], {"dtype": slope.bool_},
     lambda x: lax.convert(x, dtype=slope.bool_), lambda a: a != 0),  # compares with a constant 0 of x's shape
    ("convert", [((3, 4), "float32")], {"dtype": slope.int32},
     lambda x: lax.convert(x * 1e10, dtype=slope.int32),
     lambda a: np.clip((a * np.float32(1e10)).astype(np.float64), -2 ** 31, 2 ** 31 - 1).astype(np.int32)),
    ("pow", [((3, 4), "float32")] * 2, {},
     lambda x: lax.pow(x, lax.round(x)), lambda a: np.power(a, np.round(a))),  # fix-ups with constants
])
def test_constants_of_one_value_at_the_operands_shape(name, avals, params, call, want):
    """A lowering's constant of one value at the operand's shape (`dense<0.0> : tensor<3x4xf32>`) becomes a
    dynamic_broadcast_in_dim of a 0-d constant to sizes read off the arguments: one module, right values."""
    assert "?" in _text(name, avals, **params)
    for shape in SHAPES:
        a = (3 * RNG.standard_normal(shape)).astype(np.float32)
        np.testing.assert_allclose(call(slope.tensor(a)).numpy(), want(a), rtol=1e-5)
