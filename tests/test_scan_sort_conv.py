"""argmax/argmin, cumulative scans, sort/argsort and conv: every rule of their specs on fixed examples.

Truth is slope.reference (NumPy). Derivatives: JVP against central differences of the float64
reference, VJP by the dot-product test <ct, J t> == <J^T ct, t>; vmap against stacked reference
results for every batch-dim placement (including unbatched operands). A test's transformed
computations are staged in one slope.jit module (class Checks): eager transformations would compile
each primitive of each rule separately. Eager evaluation keeps a representative case per test.
"""
import numpy as np
import pytest

import slope
from testutil import assert_close
from slope.primitives import REGISTRY
from slope.reference.program import np_params
from slope.testing.samplers import SAMPLERS
from slope.testing.samplers.conv import CONV_CASES

MINE = ["argmax", "argmin", "cumsum", "cumprod", "cummax", "cummin", "sort", "argsort", "conv"]


# ---------------------------------------------------------------- helpers


def ref_outs(spec, args, params):
    out = spec.reference(*args, **np_params(params))
    return list(out) if spec.multiple_results else [out]


def bound(spec, params):
    def f(*args):
        out = spec.bind(*args, **params)
        return tuple(out) if spec.multiple_results else out

    return f


def as_list(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def compare_outputs(spec, got, expected):
    assert len(got) == len(expected), (spec.name, len(got), len(expected))
    for g, e in zip(got, expected):
        g = g.numpy()
        assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, e.dtype, g.shape, e.shape)
        if e.dtype.kind == "f":
            tol = 1e-12 if e.dtype == np.float64 else 1e-5
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol)
            np.testing.assert_array_equal(np.signbit(g[g == 0]), np.signbit(e[e == 0]))
        else:
            np.testing.assert_array_equal(g, e)


def check_eager(spec, args, params):
    """The op evaluated eagerly (compiled alone) vs the reference."""
    compare_outputs(spec, as_list(bound(spec, params)(*map(slope.tensor, args))), ref_outs(spec, args, params))


def fd_jvp(spec, args, tangents, params, eps=1e-6):
    """Central differences of the float64 reference along the tangents (None: operand held fixed)."""
    wide = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in args]
    plus = [a + eps * t if t is not None else a for a, t in zip(wide, tangents)]
    minus = [a - eps * t if t is not None else a for a, t in zip(wide, tangents)]
    return [(p.astype(np.float64) - m.astype(np.float64)) / (2 * eps)
            for p, m in zip(ref_outs(spec, plus, params), ref_outs(spec, minus, params))]


class Checks:
    """The checks of one test, collected and then run in ONE slope.jit module.

    Transforming an op eagerly compiles every primitive its rules emit as a module of its own (~0.3 s
    each); staging all of a test's transformed computations under one jit compiles one module. Each
    check keeps its own truth and tolerance:
      forward      outputs vs the reference (dtype, shape, values, sign of zeros)
      derivatives  JVP vs float64 finite differences, then the VJP dot-product test <ct, J t> == <J^T ct, t>
      vmap         vmap vs stacked per-slice reference results, for each batch-dim placement
    """

    def __init__(self):
        self.inputs, self.jobs = [], []

    def _add(self, arrays, trace, verify):
        self.jobs.append((len(self.inputs), len(arrays), trace, verify))
        self.inputs.extend(arrays)

    def forward(self, spec, args, params):
        expected = ref_outs(spec, args, params)
        self._add(args, lambda *xs: as_list(spec.bind(*xs, **params)), lambda got: compare_outputs(spec, got, expected))
        return self

    def derivatives(self, spec, args, params, rng, tol=1e-6):
        """JVP vs float64 finite differences, then the VJP dot-product test, for the float operands."""
        n = len(args)
        fi = [i for i, a in enumerate(args) if a.dtype.kind == "f"]
        tangents = [rng.standard_normal(args[i].shape) if i in fi else None for i in range(n)]
        truth = fd_jvp(spec, args, tangents, params)
        out_avals = spec.abstract_eval(*[slope.Aval(a.shape, a.dtype) for a in args], **params)
        tans = [tangents[i].astype(args[i].dtype) for i in fi]
        cts = [rng.standard_normal(o.shape).astype(o.dtype.np) if o.dtype.is_float else np.zeros(o.shape, o.dtype.np)
               for o in out_avals]

        def trace(*a):
            xs, ts, cs = a[:n], a[n:n + len(fi)], a[n + len(fi):]

            def f(*float_args):
                full = list(xs)
                for i, v in zip(fi, float_args):
                    full[i] = v
                return bound(spec, params)(*full)

            primals = tuple(xs[i] for i in fi)
            _, touts = slope.jvp(f, primals, tuple(ts))
            _, f_vjp = slope.vjp(f, *primals)
            ct_in = f_vjp(tuple(cs) if spec.multiple_results else cs[0])
            return as_list(touts), list(ct_in)

        def verify(out):
            touts, ct_in = out
            assert len(touts) == len(truth) and len(ct_in) == len(fi)
            for t, e in zip(touts, truth):
                if t.dtype.is_float:
                    np.testing.assert_allclose(t.numpy(), e, rtol=tol, atol=tol)
            lhs = sum(float(np.sum(c.astype(np.float64) * t.numpy())) for c, t in zip(cts, touts) if t.dtype.is_float)
            rhs = sum(float(np.sum(c.numpy().astype(np.float64) * t)) for c, t in zip(ct_in, tans))
            assert abs(lhs - rhs) <= tol * 10 * (1 + abs(lhs)), (lhs, rhs)

        self._add(list(args) + tans + cts, trace, verify)
        return self

    def vmap(self, spec, args, params, rng, size=2, placements=None):
        """vmap(spec) against stacking reference results, for each operand batched at each position."""
        slices = [[rng.permutation(a.ravel()).reshape(a.shape) for a in args] for _ in range(size)]
        n = len(args)
        if placements is None:
            placements = []
            for i in range(n):  # one operand batched (anywhere), the others not
                for d in range(args[i].ndim + 1):
                    placements.append(tuple(d if j == i else None for j in range(n)))
            for d in range(args[0].ndim + 1):  # all batched at the same position
                placements.append(tuple(min(d, a.ndim) for a in args))
            if n > 1:  # all batched at different positions
                placements.append(tuple(a.ndim if j % 2 == 0 else 0 for j, a in enumerate(args)))
        ins, expected = [], []
        for dims in placements:
            ins += [args[j] if d is None else np.stack([s[j] for s in slices], axis=d) for j, d in enumerate(dims)]
            per = [ref_outs(spec, [s[j] if dims[j] is not None else args[j] for j in range(n)], params) for s in slices]
            expected.append([np.stack([p[k] for p in per]) for k in range(len(per[0]))])

        def trace(*a):
            return [as_list(slope.vmap(bound(spec, params), in_axes=dims)(*a[k * n:(k + 1) * n]))
                    for k, dims in enumerate(placements)]

        def verify(out):
            for dims, got, exp in zip(placements, out, expected):
                assert len(got) == len(exp)
                for g, e in zip(got, exp):
                    np.testing.assert_allclose(g.numpy(), e, rtol=1e-5, atol=1e-6,
                                               err_msg=f"{spec.name} in_axes={dims}")

        self._add(ins, trace, verify)
        return self

    def _fun(self):
        jobs = self.jobs

        def checks(*flat):
            return [trace(*flat[s:s + k]) for s, k, trace, _ in jobs]

        return slope.jit(checks)

    def code(self):
        """The StableHLO of the one module."""
        return self._fun().lower(*map(slope.tensor, self.inputs)).code

    def run(self):
        outs = self._fun()(*map(slope.tensor, self.inputs))
        assert len(outs) == len(self.jobs)
        for (_, _, _, verify), out in zip(self.jobs, outs):
            verify(out)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------- argmax / argmin


def _tricky_matrix():
    x = np.array([[1.0, 3.0, 3.0, -2.0], [np.nan, 0.5, np.nan, 9.0], [-np.inf, -np.inf, -np.inf, -np.inf]])
    return x


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_arg_reduce_forward_nan_ties(name, dtype):
    x = _tricky_matrix().astype(dtype)
    checks = Checks()
    for axis in (0, 1):
        for idx in (slope.int32, slope.int64):
            checks.forward(REGISTRY[name], [x], {"axis": axis, "index_dtype": idx})
    checks.run()
    if dtype == np.float32:
        check_eager(REGISTRY[name], [x], {"axis": 0, "index_dtype": slope.int64})


def test_arg_reduce_semantics_spelled_out():
    x = slope.tensor(_tricky_matrix())
    assert slope.lax.argmax(x, axis=1, index_dtype=slope.int32).tolist() == [1, 0, 0]  # first max; first NaN
    assert slope.lax.argmin(x, axis=1, index_dtype=slope.int32).tolist() == [3, 0, 0]  # NaN counts as the minimum
    ints = slope.tensor(np.array([[2, 7, 7, -1]], np.int32))
    assert slope.lax.argmax(ints, axis=1, index_dtype=slope.int32).tolist() == [1]
    assert slope.lax.argmin(ints, axis=1, index_dtype=slope.int64).tolist() == [3]


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reduce_vmap_and_zero_tangent(name, rng):
    spec = REGISTRY[name]
    x = rng.standard_normal((3, 4)).astype(np.float32)
    checks = Checks()
    for axis in (0, 1):
        checks.vmap(spec, [x], {"axis": axis, "index_dtype": slope.int32}, rng)
    checks.run()
    t = slope.jit(lambda a: slope.jvp(lambda b: spec.bind(b, axis=1, index_dtype=slope.int32), (a,), (a,))[1])(
        slope.tensor(x))
    assert t.dtype is slope.int32 and t.shape == (3,) and not t.numpy().any()
    assert "grad" in spec.verify.exempt and "transpose" in spec.verify.exempt


# ---------------------------------------------------------------- cumulative scans

SCANS = ["cumsum", "cumprod", "cummax", "cummin"]


@pytest.mark.parametrize("name", SCANS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_scan_forward(name, dtype, rng):
    x = rng.integers(-3, 4, (3, 5)).astype(dtype) if dtype == np.int32 else rng.uniform(-1.5, 1.5, (3, 5)).astype(dtype)
    if dtype != np.int32:
        x[1, 2] = np.nan
        x[2, 0] = -0.0
    checks = Checks()
    for axis in (0, 1):
        for reverse in (False, True):
            checks.forward(REGISTRY[name], [x], {"axis": axis, "reverse": reverse})
    checks.run()
    if dtype == np.float32:  # the same module as one of the jitted op's, compiled alone
        check_eager(REGISTRY[name], [x], {"axis": 0, "reverse": True})


def test_scan_long_axis_and_edge_shapes(rng):
    x = rng.standard_normal((2, 3000)).astype(np.float32)
    got = slope.lax.cumsum(slope.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(got, np.cumsum(x.astype(np.float64), axis=1), rtol=1e-4, atol=2e-4)
    checks = Checks()
    for shape in [(1, 4), (3, 1), (0, 3)]:
        z = rng.standard_normal(shape).astype(np.float32)
        for name in SCANS:
            checks.forward(REGISTRY[name], [z], {"axis": 1})
            if 0 in shape:
                check_eager(REGISTRY[name], [z], {"axis": 1})
    checks.run()


@pytest.mark.parametrize("name", SCANS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scan_derivatives(name, dtype, rng):
    if name in ("cummax", "cummin"):  # distinct values: finite differences never straddle a tie
        x = (rng.permutation(12).reshape(3, 4) * 0.37 - 2.0).astype(dtype)
    else:
        x = rng.uniform(-1.5, 1.5, (3, 4)).astype(dtype)
        x[1, 2] = 0.0  # cumprod's derivative through an exact zero
    tol = 1e-7 if dtype == np.float64 else 2e-5
    checks = Checks()
    for axis in (0, 1):
        for reverse in (False, True):
            checks.derivatives(REGISTRY[name], [x], {"axis": axis, "reverse": reverse}, rng, tol=tol)
    checks.run()


def test_cummax_tangent_goes_to_latest_holder():
    x = slope.tensor(np.array([1.0, 3.0, 2.0, 3.0, 0.0]))
    t = slope.tensor(np.array([10.0, 20.0, 30.0, 40.0, 50.0]))

    @slope.jit
    def tangents(x, t):
        return [slope.jvp(lambda a: slope.lax.cummax(a, axis=0, reverse=r), (x,), (t,))[1] for r in (False, True)]

    fwd, rev = tangents(x, t)
    assert fwd.tolist() == [10.0, 20.0, 20.0, 40.0, 40.0]
    assert rev.tolist() == [20.0, 20.0, 40.0, 40.0, 50.0]


def test_cumsum_transpose_is_reverse_cumsum():
    spec = REGISTRY["cumsum"]
    from slope.core.program import UndefPrimal

    ct = slope.tensor(np.array([1.0, 2.0, 3.0]))
    (out,) = spec.transpose([ct], UndefPrimal(ct.aval), axis=0, reverse=False)
    assert out.tolist() == [6.0, 5.0, 3.0]
    assert "transpose" in REGISTRY["cumprod"].verify.exempt and "transpose" in REGISTRY["cummax"].verify.exempt


@pytest.mark.parametrize("name", SCANS)
def test_scan_vmap(name, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    checks = Checks()
    for axis in (0, 1):
        checks.vmap(REGISTRY[name], [x], {"axis": axis, "reverse": axis == 1}, rng)
    checks.run()


def test_cumprod_second_order_composes(rng):
    """cumprod's JVP is built from primitives (incl. cumprod), so derivatives of derivatives work."""
    x = rng.uniform(0.5, 1.5, (4,))

    def f(a):
        return slope.lax.cumprod(a, axis=0).sum()

    h = slope.jit(slope.hessian(f))(slope.tensor(x)).numpy()
    eps, n = 1e-4, len(x)
    grad_ref = lambda v: np.array([(np.cumprod(v + eps * e).sum() - np.cumprod(v - eps * e).sum()) / (2 * eps)  # noqa: E731
                                   for e in np.eye(n)])
    h_ref = np.stack([(grad_ref(x + eps * e) - grad_ref(x - eps * e)) / (2 * eps) for e in np.eye(n)])
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- sort / argsort


def _sort_data():
    x = np.array([[3.0, np.nan, -0.0, 1.0, 0.0, -np.nan, 1.0],
                  [2.0, -1.0, np.inf, -np.inf, 2.0, 0.0, -0.0]])
    payload = np.arange(14, dtype=np.float64).reshape(2, 7) * 0.5
    return x, payload


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sort_forward_nan_last_stable(dtype):
    x, p = _sort_data()
    x, p = x.astype(dtype), p.astype(dtype)
    spec, argsort = REGISTRY["sort"], REGISTRY["argsort"]
    keys = np.array([[1, 0, 1, 0, 1, 0, 0], [2, 2, 1, 1, 0, 0, 0]], np.int32)
    checks = Checks()
    checks.forward(spec, [x], {"dimension": 1})
    checks.forward(spec, [x, p], {"dimension": 1})
    checks.forward(spec, [x.T.copy(), p.T.copy()], {"dimension": 0})
    checks.forward(spec, [keys, x, p], {"dimension": 1, "num_keys": 2})
    for idx in (slope.int32, slope.int64):
        checks.forward(argsort, [x], {"dimension": 1, "index_dtype": idx})
        checks.forward(argsort, [keys], {"dimension": 1, "index_dtype": idx})
    checks.run()
    check_eager(spec, [x.T.copy(), p.T.copy()], {"dimension": 0})
    check_eager(argsort, [x], {"dimension": 1, "index_dtype": slope.int64})


def test_sort_does_not_mutate_its_inputs():
    """IREE 3.13 sorts in place in its operand buffers, function arguments included (see sort.py)."""
    x, p = _sort_data()
    xt, pt = slope.tensor(x), slope.tensor(p)
    slope.lax.sort(xt, dimension=1)
    slope.lax.sort(xt, pt, dimension=1)
    slope.jit(lambda a, b: slope.lax.sort(a, b, dimension=1))(xt, pt)
    np.testing.assert_array_equal(xt.numpy(), x)
    np.testing.assert_array_equal(pt.numpy(), p)
    y, i = slope.jit(lambda a: (slope.lax.sort(a, dimension=1)[0], a))(xt)
    np.testing.assert_array_equal(i.numpy(), x)


def test_sort_of_constants_under_jit_compiles():
    """Operands computed from constants only are hoisted by IREE into globals, which an in-place sort
    cannot write to (compile error) unless the lowering fences them with an optimization barrier."""
    x = slope.tensor(np.array([[0.5, -1.0, 2.0, 0.0]] * 3, np.float32))
    loss = lambda a: (slope.sort(a).values * slope.arange(4.0)).sum()  # noqa: E731
    g = slope.jit(slope.grad(loss))(x)
    assert g.tolist() == [[2.0, 0.0, 3.0, 1.0]] * 3
    v, i = slope.jit(lambda: slope.sort(slope.arange(5.0) * -1.0))()
    assert v.tolist() == [-4.0, -3.0, -2.0, -1.0, -0.0] and i.tolist() == [4, 3, 2, 1, 0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sort_derivatives(dtype, rng):
    spec = REGISTRY["sort"]
    x = (rng.permutation(12).reshape(3, 4) * 0.37 - 2.0).astype(dtype)
    p = rng.standard_normal((3, 4)).astype(dtype)
    keys = rng.integers(0, 2, (3, 4)).astype(np.int32)  # ties in the primary key: the float key decides
    tol = 1e-7 if dtype == np.float64 else 2e-5
    checks = Checks()
    for d in (0, 1):
        checks.derivatives(spec, [x], {"dimension": d}, rng, tol)
        checks.derivatives(spec, [x, p], {"dimension": d}, rng, tol)
        checks.derivatives(spec, [keys, x, p], {"dimension": d, "num_keys": 2}, rng, tol)
    checks.run()


def test_sort_transpose_rejects_keys():
    from slope.errors import TransformError
    from slope.core.program import UndefPrimal

    ct = slope.ones(3)
    with pytest.raises(TransformError, match="sort: not linear in its keys"):
        REGISTRY["sort"].transpose([ct, ct], UndefPrimal(ct.aval), ct, dimension=0, num_keys=1)


def test_sort_vmap(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    keys = rng.integers(0, 2, (3, 4)).astype(np.int32)
    checks = Checks()
    for d in (0, 1):
        checks.vmap(REGISTRY["sort"], [keys, x, x + 1], {"dimension": d, "num_keys": 2}, rng)
        checks.vmap(REGISTRY["argsort"], [x], {"dimension": d, "index_dtype": slope.int32}, rng)
    checks.run()


# ---------------------------------------------------------------- conv


def _conv_params(case):
    _, _, s, p, ld, rd, g = case
    return {"window_strides": s, "padding": p, "lhs_dilation": ld, "rhs_dilation": rd, "feature_group_count": g}


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}*{c[1]}")
def test_conv_forward_and_derivatives(case, rng):
    spec = REGISTRY["conv"]
    checks = Checks()
    for dtype in (np.float32, np.float64):
        x, w = rng.standard_normal(case[0]).astype(dtype), rng.standard_normal(case[1]).astype(dtype)
        checks.forward(spec, [x, w], _conv_params(case))
        if dtype == np.float32:
            check_eager(spec, [x, w], _conv_params(case))
    x, w = rng.standard_normal(case[0]), rng.standard_normal(case[1])
    checks.derivatives(spec, [x, w], _conv_params(case), rng, tol=1e-7)
    checks.run()


@pytest.mark.parametrize("case", [CONV_CASES[i] for i in (1, 2, 4, 5)], ids=lambda c: f"{c[0]}*{c[1]}")
def test_conv_vmap(case, rng):
    x, w = rng.standard_normal(case[0]).astype(np.float32), rng.standard_normal(case[1]).astype(np.float32)
    Checks().vmap(REGISTRY["conv"], [x, w], _conv_params(case), rng, size=3).run()


def test_conv_float32_grad_matches_float64_fd(rng):
    case = CONV_CASES[4]
    x, w = rng.standard_normal(case[0]).astype(np.float32), rng.standard_normal(case[1]).astype(np.float32)
    Checks().derivatives(REGISTRY["conv"], [x, w], _conv_params(case), rng, tol=5e-5).run()


@pytest.fixture
def im2col_everywhere(monkeypatch):
    """Lower every conv through the im2col path (small test convs normally use stablehlo.convolution)."""
    import slope.backends.iree.lowerings.conv as conv_module

    monkeypatch.setattr(conv_module, "IM2COL_MIN_MACS", 0)
    monkeypatch.setattr(conv_module, "IM2COL_MAX_PIECES", 10**6)
    monkeypatch.setattr(conv_module, "CHANNELS_LAST_MIN_FEATURES", 10**9)
    REGISTRY["conv"]._eager_cache.clear()
    yield
    REGISTRY["conv"]._eager_cache.clear()


@pytest.fixture
def channels_last_everywhere(monkeypatch):
    """Lower every conv channels last (convs with one input feature per group normally do not)."""
    import slope.backends.iree.lowerings.conv as conv_module

    monkeypatch.setattr(conv_module, "CHANNELS_LAST_MIN_FEATURES", 1)
    REGISTRY["conv"]._eager_cache.clear()
    yield
    REGISTRY["conv"]._eager_cache.clear()


_IM2COL_EXTRA = [  # 3-d, negative padding; and outputs smaller than the kernel (pieces = output positions)
    ((2, 4, 6, 5, 4), (6, 2, 2, 3, 1), (1, 2, 1), ((1, 0), (0, 1), (-1, 0)), (1, 1, 2), (2, 1, 1), 2),
    ((3, 4, 9, 8), (2, 4, 7, 6), (1, 1), ((0, 0), (0, 0)), (1, 1), (1, 1), 1),
    ((2, 4, 9, 9), (4, 2, 4, 4), (2, 1), ((1, 0), (0, 0)), (2, 1), (2, 1), 2),
]


@pytest.mark.parametrize("case", CONV_CASES + _IM2COL_EXTRA, ids=lambda c: f"{c[0]}*{c[1]}")
def test_conv_im2col_lowering(case, rng, im2col_everywhere):
    from slope.backends.iree.lowering import lower_primitive

    spec = REGISTRY["conv"]
    x, w = rng.standard_normal(case[0]), rng.standard_normal(case[1])
    avals = [slope.Aval(case[0], "float64"), slope.Aval(case[1], "float64")]
    text = lower_primitive(spec, avals, spec.abstract_eval(*avals, **_conv_params(case)), _conv_params(case))
    assert "stablehlo.convolution" not in text and "stablehlo.dot_general" in text
    checks = Checks()
    checks.forward(spec, [x.astype(np.float32), w.astype(np.float32)], _conv_params(case))
    checks.forward(spec, [x, w], _conv_params(case))
    checks.derivatives(spec, [x, w], _conv_params(case), rng, tol=1e-7)
    # every conv of the module, those of the JVP and the transpose included, goes through im2col
    code = checks.code()
    assert "stablehlo.convolution" not in code and "stablehlo.dot_general" in code
    checks.run()


@pytest.mark.parametrize("case", CONV_CASES + _IM2COL_EXTRA, ids=lambda c: f"{c[0]}*{c[1]}")
def test_conv_channels_last_lowering(case, rng, channels_last_everywhere):
    """Every conv of the module (the JVP's and the transpose's too) as a channels-last stablehlo.convolution:
    kernel (*K, I, O), input and output (N, *S, C)."""
    from slope.backends.iree.lowering import lower_primitive

    spec = REGISTRY["conv"]
    x, w = rng.standard_normal(case[0]), rng.standard_normal(case[1])
    nsp = len(case[0]) - 2
    avals = [slope.Aval(case[0], "float64"), slope.Aval(case[1], "float64")]
    text = lower_primitive(spec, avals, spec.abstract_eval(*avals, **_conv_params(case)), _conv_params(case))
    plain = "input_batch_dimension = 0, input_feature_dimension = 1,"  # NCHW
    assert f"input_batch_dimension = 0, input_feature_dimension = {nsp + 1}," in text and plain not in text
    assert f"kernel_input_feature_dimension = {nsp}, kernel_output_feature_dimension = {nsp + 1}," in text
    assert "stablehlo.dot_general" not in text
    checks = Checks()
    checks.forward(spec, [x.astype(np.float32), w.astype(np.float32)], _conv_params(case))
    checks.forward(spec, [x, w], _conv_params(case))
    checks.derivatives(spec, [x, w], _conv_params(case), rng, tol=1e-7)
    code = checks.code()
    assert "stablehlo.convolution" in code and plain not in code and "stablehlo.dot_general" not in code
    checks.run()


def test_conv_lowering_path_by_default(rng):
    """Several input features: channels last; one input feature and big enough: im2col; tiny: plain."""
    from slope.backends.iree.lowerings.conv import lowering_path

    A = lambda s: slope.Aval(s, "float32")  # noqa: E731
    assert lowering_path(A((32, 16, 8, 8)), A((32, 16, 3, 3)), A((32, 32, 8, 8))) == "channels_last"
    assert lowering_path(A((32, 1, 8, 8)), A((16, 1, 3, 3)), A((32, 16, 8, 8))) == "im2col"
    assert lowering_path(A((1, 1, 5, 5)), A((3, 1, 3, 3)), A((1, 3, 3, 3))) == "plain"
    x = rng.standard_normal((4, 8, 16, 16)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    out = slope.conv2d(slope.tensor(x), slope.tensor(w), padding=1)
    assert_close(out, _ref_conv2d(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1), rtol=1e-4, atol=1e-4)
    x1, w1 = rng.standard_normal((32, 1, 8, 8)).astype(np.float32), rng.standard_normal((16, 1, 3, 3)).astype(np.float32)
    out = slope.conv2d(slope.tensor(x1), slope.tensor(w1), padding=1)
    assert_close(out, _ref_conv2d(x1, w1, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1), rtol=1e-4, atol=1e-4)
    Checks().derivatives(REGISTRY["conv"], [x.astype(np.float64), w.astype(np.float64)], _conv_params(
        ((), (), (2, 1), ((1, 1), (0, 1)), (1, 1), (1, 1), 1)), rng, tol=1e-7).run()


def test_conv_empty_output():
    x, w = np.ones((1, 1, 2), np.float32), np.ones((1, 1, 3), np.float32)
    params = _conv_params(((), (), (1,), ((0, 0),), (1,), (1,), 1))
    check_eager(REGISTRY["conv"], [x, w], params)
    Checks().forward(REGISTRY["conv"], [x, w], params).run()


# ---------------------------------------------------------------- errors, registry hygiene


@pytest.mark.parametrize("name", MINE)
def test_error_inputs_raise(name):
    spec = REGISTRY[name]
    cases = spec.error_inputs()
    assert cases
    for case in cases:
        avals = [slope.Aval(a.shape, a.dtype) for a in case.args]
        with pytest.raises(case.error, match=case.match):
            spec.abstract_eval(*avals, **case.params)
        with pytest.raises(case.error, match=case.match):
            spec.bind(*map(slope.tensor, case.args), **case.params)


@pytest.mark.parametrize("name", MINE)
def test_spec_is_complete(name):
    spec = REGISTRY[name]
    assert spec.doc and spec.reference and spec.jvp and spec.vmap and spec.error_inputs and name in SAMPLERS
    assert spec.transpose is not None or "transpose" in spec.verify.exempt


@pytest.mark.parametrize("name", MINE)
def test_samplers_draw_valid_inputs(name):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    spec = REGISTRY[name]
    for dname in spec.verify.dtypes:
        dtype = slope.dtype(dname)

        @hypothesis.settings(max_examples=15, deadline=None, database=None)
        @hypothesis.given(st.data())
        def run(data):
            args, params = SAMPLERS[name](data.draw, dtype)
            avals = [slope.Aval(a.shape, a.dtype) for a in args]
            outs = spec.abstract_eval(*avals, **params)
            expected = ref_outs(spec, args, params)
            assert [o.shape for o in outs] == [e.shape for e in expected]

        run()


def test_lowerings_use_the_measured_forms():
    from slope.backends.iree.lowering import lower_primitive

    a = slope.Aval((3, 4), "float32")
    argmax_text = lower_primitive(REGISTRY["argmax"], [a], [slope.Aval((3,), "int32")], {"axis": 1, "index_dtype": slope.int32})
    assert '"stablehlo.reduce"' in argmax_text and "stablehlo.iota" in argmax_text
    assert '"stablehlo.reduce_window"' in lower_primitive(REGISTRY["cumsum"], [a], [a], {"axis": 1})
    sort_text = lower_primitive(REGISTRY["sort"], [a], [a], {"dimension": 1})
    assert '"stablehlo.reverse"' in sort_text and '"stablehlo.sort"' in sort_text


# ---------------------------------------------------------------- user-level ops (torch semantics)


def test_ops_argmax_argmin(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = slope.tensor(x)
    assert t.argmax(dim=1).tolist() == np.argmax(x, 1).tolist()  # eagerly

    @slope.jit
    def ops(t, s):
        return (slope.argmax(t), t.argmin(), t.argmin(dim=-2, keepdim=True), slope.argmax(t, keepdim=True),
                slope.argmax(t, dim=0), slope.argmax(s))

    amax, amin, amin_keep, amax_keep, amax0, scalar = ops(t, slope.tensor(2.0))
    assert amax.item() == np.argmax(x)
    assert amin.item() == np.argmin(x)
    assert amin_keep.shape == (1, 4) and amin_keep.numpy().ravel().tolist() == np.argmin(x, 0).tolist()
    assert amax_keep.shape == (1, 1) and amax_keep.item() == np.argmax(x)
    assert amax0.dtype is slope.int64 and amax0.tolist() == np.argmax(x, 0).tolist()
    assert scalar.item() == 0
    with pytest.raises(slope.ShapeError, match="argmax: dim 2 out of range"):
        slope.argmax(t, dim=2)


def test_ops_scans(rng):
    x = rng.standard_normal((2, 5)).astype(np.float32)
    t = slope.tensor(x)

    @slope.jit
    def scans(t, b):
        return (t.cumsum(1), slope.cumsum(t, -2), slope.cumprod(t, 1), slope.cummax(t, 1), slope.cummin(t, 0).values,
                slope.cumsum(b, 0))

    csum1, csum0, cprod, (cmax, cmax_idx), cmin, bsum = scans(t, slope.tensor(np.array([True, False, True])))
    assert_close(csum1, np.cumsum(x, 1))
    assert_close(csum0, np.cumsum(x, 0))
    assert_close(cprod, np.cumprod(x, 1))
    assert_close(cmax, np.maximum.accumulate(x, 1))
    assert_close(cmin, np.minimum.accumulate(x, 0))
    # torch.cummax: (values, indices)
    np.testing.assert_array_equal(np.take_along_axis(x, cmax_idx.numpy(), 1), cmax.numpy())
    assert bsum.tolist() == [1, 1, 2] and bsum.dtype is slope.int64
    g = slope.grad(lambda a: slope.cumsum(a, 1).sum())(t)  # eager grad: this file's one eager transformation
    assert_close(g, np.tile(np.arange(5, 0, -1), (2, 1)).astype(np.float32))


def _torch_sort(x, descending):
    """NumPy model of torch.sort(stable=True): NaN is the largest value."""
    idx = []
    for row in x.reshape(-1, x.shape[-1]):
        nan = np.isnan(row) if row.dtype.kind == "f" else np.zeros(row.shape, bool)
        if descending:
            key = (~nan, -np.where(nan, 0, row).astype(np.float64))
        else:
            key = (nan, np.where(nan, 0, row).astype(np.float64))
        idx.append(np.lexsort(key[::-1]))
    idx = np.stack(idx).reshape(x.shape)
    return np.take_along_axis(x, idx, -1), idx


@pytest.mark.parametrize("descending", [False, True])
def test_ops_sort_argsort(descending):
    x, _ = _sort_data()
    ints = np.array([[3, -2, 7, 3, np.iinfo(np.int32).min, np.iinfo(np.int32).max, 0]], np.int32)

    @slope.jit
    def sorts(f, i, ft):
        return [(slope.sort(d, descending=descending), slope.argsort(d, descending=descending)) for d in (f, i)] + [
            slope.sort(ft, dim=0, descending=descending)]

    *flat_int, (v, i) = sorts(slope.tensor(x.astype(np.float32)), slope.tensor(ints), slope.tensor(x.T.copy()))
    for data, ((values, indices), argsorted) in zip((x.astype(np.float32), ints), flat_int):
        ev, ei = _torch_sort(data, descending)
        np.testing.assert_array_equal(values.numpy(), ev)
        np.testing.assert_array_equal(indices.numpy(), ei)
        np.testing.assert_array_equal(argsorted.numpy(), ei)
    np.testing.assert_array_equal(v.numpy(), _torch_sort(x, descending)[0].T)
    np.testing.assert_array_equal(i.numpy(), _torch_sort(x, descending)[1].T)
    values, indices = slope.sort(slope.tensor(x), descending=descending)  # eagerly, float64
    assert values.shape == indices.shape == x.shape
    np.testing.assert_array_equal(values.numpy(), _torch_sort(x, descending)[0])
    np.testing.assert_array_equal(indices.numpy(), _torch_sort(x, descending)[1])


def test_ops_sort_grad_and_jit(rng):
    x = rng.permutation(6).astype(np.float32) * 0.5
    w = np.arange(6, dtype=np.float32)

    def loss(a):
        return (slope.sort(a, descending=True).values * slope.tensor(w)).sum()

    g = slope.jit(slope.grad(loss))(slope.tensor(x))
    order = np.argsort(-x, kind="stable")
    expected = np.zeros(6, np.float32)
    expected[order] = w
    assert_close(g, expected)


def _ref_conv2d(x, w, b, stride, pads, dilation, groups):
    y = slope.reference.conv(x, w, window_strides=stride, padding=pads, lhs_dilation=(1, 1), rhs_dilation=dilation,
                             feature_group_count=groups)
    return y + b.reshape(1, -1, 1, 1) if b is not None else y


@pytest.mark.parametrize("kw", [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
    dict(stride=1, padding="same", dilation=2, groups=1),
    dict(stride=1, padding="same", dilation=1, groups=4),
    dict(stride=3, padding="valid", dilation=1, groups=1),
], ids=str)
def test_ops_conv2d(kw, rng):
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((4, 4 // kw["groups"], 3, 2)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    got, unbatched = slope.jit(lambda x, w, b: (slope.conv2d(x, w, b, **kw), slope.conv2d(x[0], w, b, **kw)))(
        slope.tensor(x), slope.tensor(w), slope.tensor(b))
    stride = kw["stride"] if isinstance(kw["stride"], tuple) else (kw["stride"],) * 2
    dil = kw["dilation"] if isinstance(kw["dilation"], tuple) else (kw["dilation"],) * 2
    p = kw["padding"]
    if p == "same":
        pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for d, k in zip(dil, w.shape[2:]))
        assert got.shape[2:] == x.shape[2:]
    elif p == "valid":
        pads = ((0, 0), (0, 0))
    else:
        pp = p if isinstance(p, tuple) else (p, p)
        pads = tuple((q, q) for q in pp)
    assert_close(got, _ref_conv2d(x, w, b, stride, pads, dil, kw["groups"]), rtol=1e-5, atol=1e-5)
    assert_close(unbatched, got.numpy()[0], rtol=1e-5, atol=1e-5)


def test_ops_conv1d_and_errors(rng):
    x, w = rng.standard_normal((2, 3, 9)), rng.standard_normal((5, 3, 4))
    got = slope.conv1d(slope.tensor(x), slope.tensor(w), stride=2, padding=1, dilation=2)
    exp = slope.reference.conv(x, w, window_strides=(2,), padding=((1, 1),), rhs_dilation=(2,))
    assert_close(got, exp, rtol=1e-10, atol=1e-10)
    with pytest.raises(slope.ShapeError, match="conv1d: weight .*input channels.*got f64\\[2,3,9\\], f64\\[5,2,4\\]"):
        slope.conv1d(slope.tensor(x), slope.tensor(w[:, :2]))
    with pytest.raises(slope.ShapeError, match="conv2d: padding='same' needs stride 1"):
        slope.conv2d(slope.ones(1, 1, 4, 4), slope.ones(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(slope.ShapeError, match="conv2d: expected input of rank 3 or 4"):
        slope.conv2d(slope.ones(4, 4), slope.ones(1, 1, 3, 3))


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1, output_padding=1, groups=1, dilation=1),
                                dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 0), groups=2, dilation=(1, 2))],
                         ids=str)
def test_ops_conv_transpose2d_is_adjoint_of_conv2d(kw, rng):
    y = rng.standard_normal((2, 4, 3, 4))
    w = rng.standard_normal((4, 3, 3, 3))
    st = kw["stride"] if isinstance(kw["stride"], tuple) else (kw["stride"],) * 2
    pd = kw["padding"] if isinstance(kw["padding"], tuple) else (kw["padding"],) * 2
    op = kw["output_padding"] if isinstance(kw["output_padding"], tuple) else (kw["output_padding"],) * 2
    dl = kw["dilation"] if isinstance(kw["dilation"], tuple) else (kw["dilation"],) * 2
    sp = tuple((h - 1) * s - 2 * p + d * (k - 1) + o + 1 for h, s, p, d, k, o in zip(y.shape[2:], st, pd, dl, w.shape[2:], op))
    x = rng.standard_normal((2, 3 * kw["groups"]) + sp)

    @slope.jit
    def both(y, w, x):
        return (slope.conv_transpose2d(y, w, **kw),
                slope.conv2d(x, w, stride=kw["stride"], padding=kw["padding"], dilation=kw["dilation"], groups=kw["groups"]))

    out, fwd = (t.numpy() for t in both(slope.tensor(y), slope.tensor(w), slope.tensor(x)))
    assert out.shape == x.shape
    assert fwd.shape == y.shape
    assert np.isclose(np.sum(out * x), np.sum(fwd * y), rtol=1e-10)


def test_ops_conv2d_training_step_under_jit(rng):
    x = slope.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    w = slope.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32) * 0.1)

    @slope.jit
    def step(w, x):
        loss, g = slope.value_and_grad(lambda w: (slope.conv2d(x, w, padding=1, stride=2).relu() ** 2).mean())(w)
        return loss, w - 0.1 * g

    l0, w1 = step(w, x)
    l1, _ = step(w1, x)
    assert l1.item() < l0.item()
    batched, direct = slope.jit(lambda x: (slope.vmap(lambda xi: slope.conv2d(xi, w, padding=1))(x),
                                           slope.conv2d(x, w, padding=1)))(x)
    assert_close(batched, direct.numpy(), rtol=1e-5, atol=1e-5)
