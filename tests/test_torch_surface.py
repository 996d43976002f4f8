"""PyTorch's calling conventions on slope's Tensor surface (issue #15), checked against NumPy.

Each section starts with the regression that was silently wrong before its fix."""
import numpy as np
import pytest
from testutil import assert_close

import slope


def _grad_both(f, x):
    """grad of f eagerly and under jit."""
    return slope.grad(f)(x), slope.jit(slope.grad(f))(x)


# ---------------------------------------------------------------- var / std overloads


def test_var_second_positional_is_unbiased_not_keepdim():
    a = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]], np.float32)
    x = slope.tensor(a)
    # torch: x.var(1, False) is var(dim=1, unbiased=False); it used to read False as keepdim
    assert_close(x.var(1, False), a.var(1, ddof=0), rtol=1e-5)
    assert x.std(0, True).shape == (3,)  # unbiased=True, not keepdim
    assert_close(x.std(0, True), a.std(0, ddof=1), rtol=1e-5)
    for g in _grad_both(lambda v: v.var(1, False).sum(), x):  # d/dx of the biased variance: 2 (x - mean) / n
        assert_close(g, 2 * (a - a.mean(1, keepdims=True)) / 3, rtol=1e-5)


def test_var_std_overloads_match_numpy():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x = slope.tensor(a)
    cases = [  # (slope call, numpy result)
        (lambda x: x.var(), a.var(ddof=1)), (lambda x: x.var(False), a.var(ddof=0)),
        (lambda x: x.var(unbiased=False), a.var(ddof=0)), (lambda x: x.var(0, unbiased=True), a.var(0, ddof=1)),
        (lambda x: x.var(1, False, True), a.var(1, ddof=0, keepdims=True)),
        (lambda x: x.var(1, keepdim=True), a.var(1, ddof=1, keepdims=True)),
        (lambda x: x.var(1, correction=0), a.var(1, ddof=0)), (lambda x: x.var((0, 1), correction=2), a.var(ddof=2)),
        (lambda x: x.std(1, False), a.std(1, ddof=0)), (lambda x: x.std(correction=0), a.std()),
        (lambda x: slope.var(x, 0, True, True), a.var(0, ddof=1, keepdims=True)),
        (lambda x: slope.std(x, dim=1, unbiased=False), a.std(1)),
    ]
    got_jit = slope.jit(lambda x: [f(x) for f, _ in cases])(x)
    for (f, want), j in zip(cases, got_jit):
        assert_close(f(x), want, rtol=1e-5)
        assert_close(j, want, rtol=1e-5)


def test_var_mean_and_std_mean():
    a = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]], np.float32)
    x = slope.tensor(a)
    v, m = slope.var_mean(x, 1, False)
    assert_close(v, a.var(1))
    assert_close(m, a.mean(1))
    s, m = x.std_mean(0, keepdim=True)
    assert_close(s, a.std(0, ddof=1, keepdims=True), rtol=1e-5)
    assert_close(m, a.mean(0, keepdims=True))
    s, m = slope.std_mean(slope.tensor([1, 2, 3]))  # integers: float results
    assert s.dtype is slope.float32 and m.dtype is slope.float32 and s.item() == 1.0 and m.item() == 2.0
    g = slope.jit(slope.grad(lambda v: sum(t.sum() for t in slope.var_mean(v, correction=0))))(x)
    assert_close(g, 2 * (a - a.mean()) / 6 + 1 / 6, rtol=1e-5)


def test_var_bad_arguments_raise_slope_errors():
    x = slope.tensor(np.ones((2, 3), np.float32))
    with pytest.raises(slope.ArgumentError, match="var: pass unbiased or correction, not both"):
        x.var(0, True, correction=1)
    with pytest.raises(slope.ArgumentError, match="std: unbiased must be a bool"):
        x.std(0, 2)
    with pytest.raises(slope.ArgumentError, match="var: keepdim must be a bool"):
        x.var(0, True, 1)
    with pytest.raises(slope.ArgumentError, match="var_mean: correction must be a number"):
        x.var_mean(correction="1")
    with pytest.raises(slope.OutOfBoundsError, match="std: dim 2 out of range"):
        x.std(2)


# ---------------------------------------------------------------- to / type / type_as / cpu


def test_to_and_type_conversions():
    x = slope.tensor(np.array([1.5, -2.0], np.float32))
    i8 = slope.tensor(np.array([1], np.int8))
    assert x.to("cpu") is x and x.cpu() is x and x.to(device="cpu") is x and x.to("cpu:0") is x
    assert x.to(slope.float64).dtype is slope.float64
    assert x.to("cpu", slope.int64).tolist() == [1, -2]
    assert x.to(i8).dtype is slope.int8 and x.to(dtype="float16").dtype is slope.float16
    assert x.to("f4") is x  # NumPy's spellings still name dtypes
    assert x.type() == "slope.FloatTensor" and i8.type() == "slope.CharTensor"
    assert slope.tensor([True]).type() == "slope.BoolTensor"
    assert x.type(slope.int32).type() == "slope.IntTensor"
    assert x.type("torch.DoubleTensor").dtype is slope.float64 and x.type("slope.LongTensor").dtype is slope.int64
    assert x.type_as(i8).tolist() == [1, -2] and x.type_as(i8).dtype is slope.int8
    y = slope.jit(lambda v, o: (v.to("cpu", slope.float64), v.type_as(o), v.type(slope.int16)))(x, i8)
    assert [t.dtype for t in y] == [slope.float64, slope.int8, slope.int16]
    g = slope.grad(lambda v: (v.to(slope.float64) * v.to("cpu")).sum())(x)
    assert g.dtype is slope.float32 and g.tolist() == [3.0, -4.0]


def test_to_errors():
    x = slope.tensor(np.array([1.5, -2.0], np.float32))
    with pytest.raises(slope.DeviceError, match="to: slope has no device 'cuda'"):
        x.to("cuda")
    with pytest.raises(slope.DeviceError, match="to: slope has no device 'cuda:1'"):
        x.to("cuda:1", slope.float64)
    with pytest.raises(slope.DeviceError, match="to: slope has no device 'mps'"):
        x.to(device="mps")
    with pytest.raises(slope.DTypeError, match="to: 'gpu0' names neither a device"):
        x.to("gpu0")
    with pytest.raises(slope.ArgumentError, match="to: two dtypes"):
        x.to(slope.float32, slope.float64)
    with pytest.raises(slope.ArgumentError, match="to: the device comes first"):
        x.to(slope.float32, "cpu")
    with pytest.raises(slope.DTypeError, match="type: unknown tensor type 'torch.CudaTensor'"):
        x.type("torch.CudaTensor")
    with pytest.raises(slope.DTypeError, match="type_as: expected a tensor"):
        x.type_as(np.float64)


# ---------------------------------------------------------------- integer defaults (int64, as PyTorch)


def test_integer_results_do_not_overflow_int32():
    # arange and Python ints were int32: 3 * 10**9 wrapped to a negative number
    assert (slope.arange(4) * 1000000000).tolist() == [0, 10**9, 2 * 10**9, 3 * 10**9]
    assert (slope.tensor([1, 2]) * 2**31).tolist() == [2**31, 2**32]


def test_python_ints_and_index_results_are_int64():
    assert slope.tensor([1, 2]).dtype is slope.int64 and slope.tensor(3).dtype is slope.int64
    assert slope.arange(3).dtype is slope.int64 and slope.full((2,), 3).dtype is slope.int64
    assert slope.randint(0, 5, (3,)).dtype is slope.int64
    assert slope.tensor(np.array([1], np.int32)).dtype is slope.int32  # NumPy data keeps its dtype
    assert (slope.tensor([True, True]).sum()).dtype is slope.int64
    x = slope.tensor(np.array([[3.0, 1.0, 2.0], [1.0, 5.0, 5.0]], np.float32))

    def indices(x):
        return [x.argmax(), x.argmin(1), x.sort(1).indices, x.argsort(1), x.argsort(1, descending=True),
                x.topk(2).indices, x.max(1).indices, x.min(0).indices, x.cummax(1).indices, x.sort(0, True).indices]

    a = np.asarray(x)
    expected = [np.argmax(a), a.argmin(1), np.argsort(a, 1, kind="stable"), np.argsort(a, 1, kind="stable"),
                [[0, 2, 1], [1, 2, 0]], [[0, 2], [1, 2]], a.argmax(1), a.argmin(0), [[0, 0, 0], [0, 1, 2]],
                [[0, 1, 1], [1, 0, 0]]]
    for how, got in (("eager", indices(x)), ("jit", slope.jit(indices)(x))):
        for k, (g, e) in enumerate(zip(got, expected)):
            assert g.dtype is slope.int64, (how, k, g.dtype)
            assert g.tolist() == np.asarray(e).tolist(), (how, k)
    # int64 indices index and gather like any other
    assert x[x.argmax(1), slope.arange(2)].tolist() == [3.0, 5.0]
    assert x.gather(1, x.argsort(1)).tolist() == np.sort(a, 1).tolist()


def test_default_int_repr_like_pytorch():
    assert repr(slope.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(slope.tensor([True])) == "tensor([ True])"
    assert repr(slope.tensor(np.array([1], np.int32))) == "tensor([1], dtype=int32)"


# ---------------------------------------------------------------- type promotion with 0-d tensors


T = slope.tensor
PROMOTION = [  # (x, y, result dtype); what torch 2.13 gives
    (T([1.0], dtype="float32"), T(1.0, dtype="float64"), slope.float32),
    (T([1], dtype="int32"), T(1), slope.int32),
    (T([1.0], dtype="float16"), T(1.0), slope.float16),
    (T([1], dtype="int32"), T(1.0, dtype="float64"), slope.float64),  # the category rises: the 0-d dtype
    (T([1], dtype="int32"), T(1.0, dtype="float16"), slope.float16),
    (T([1], dtype="int32"), 2.5, slope.float32),
    (T([True]), T([True]), slope.bool_),
    (T([True]), 1, slope.int64),
    (T([True]), T(1, dtype="int32"), slope.int32),
    (T([1], dtype="uint8"), T(1, dtype="int8"), slope.uint8),
    (T([1], dtype="uint8"), T(7), slope.uint8),
    (T([1.0], dtype="float16"), T(1.0, dtype="bfloat16"), slope.float16),
    (T([True]), T(1.0, dtype="float64"), slope.float64),
    (T([True]), 2.5, slope.float32),
    (T(1, dtype="int32"), T(1.0, dtype="float64"), slope.float64),  # two 0-d tensors: normal promotion
    (T(1.0), T(1.0, dtype="float64"), slope.float64),
    (T(1.0, dtype="float16"), 2.5, slope.float16),
    (T(1, dtype="int32"), 2.5, slope.float32),
    (T([1.0], dtype="float32"), T([1.0], dtype="float64"), slope.float64),  # dims on both: normal promotion
]


@pytest.mark.parametrize("k", range(len(PROMOTION)))
def test_zero_dim_tensors_promote_like_pytorch(k):
    x, y, want = PROMOTION[k]
    ops = [slope.add, slope.mul, slope.maximum] if want is not slope.bool_ else [slope.add, slope.mul]
    for op in ops:
        for a, b in ((x, y), (y, x)):
            assert op(a, b).dtype is want, (op.__name__, a, b)
    if isinstance(y, float):  # (a Python scalar argument of jit becomes a tensor: close over it)
        assert slope.jit(lambda a: a + y)(x).dtype is want
    else:
        assert slope.jit(lambda a, b: a + b)(x, y).dtype is want
        assert slope.where(T(True), x, y).dtype is want


def test_zero_dim_promotion_values_and_gradient():
    x = T(np.array([1.5, 2.5], np.float32))
    s = T(np.float64(2.0))
    y = x * s
    assert y.dtype is slope.float32 and y.tolist() == [3.0, 5.0]
    gx, gs = slope.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(x, s)
    assert gx.dtype is slope.float32 and gx.tolist() == [2.0, 2.0]
    assert gs.dtype is slope.float64 and gs.item() == 4.0
    assert (T(np.array([1, 2], np.int32)) / T(np.float64(4.0))).tolist() == [0.25, 0.5]


# ---------------------------------------------------------------- subgradient conventions (PyTorch surface vs slope.lax)
# Each entry: the PyTorch-surface derivative (what torch 2.13 gives) and the slope.lax one (JAX's).


def _derivs(f, x):
    """grad of f(x).sum() eagerly and under jit, and the diagonal of jacfwd under jit."""
    x = slope.tensor(np.asarray(x, np.float32))
    g = slope.grad(lambda v: f(v).sum())
    jg, jf = slope.jit(lambda v: (g(v), slope.jacfwd(f)(v)))(x)
    jf = np.asarray(jf)
    return [np.asarray(g(x)), np.asarray(jg), np.diagonal(jf) if jf.ndim == 2 else jf]


CONVENTIONS = {  # name: (surface f, lax f or None, x, surface derivative, lax derivative)
    "abs at 0": (slope.abs, slope.lax.abs, [-2.0, -0.0, 0.0, 3.0], [-1.0, 0.0, 0.0, 1.0], [-1.0, 1.0, 1.0, 1.0]),
    "relu at 0": (slope.relu, lambda v: slope.lax.maximum(v, slope.zeros_like(v)), [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0],
                  [0.0, 0.5, 1.0]),
    "clamp at the bounds": (lambda v: v.clamp(-1.0, 1.0),
                            lambda v: slope.lax.clamp(slope.full((5,), -1.0), v, slope.full((5,), 1.0)),
                            [-2.0, -1.0, 0.0, 1.0, 2.0], [0.0, 1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    "clamp(min=) at the bound": (lambda v: v.clamp(min=0.0), None, [-1.0, 0.0, 1.0], [0.0, 1.0, 1.0], None),
    "clamp(max=) at the bound": (lambda v: slope.clamp(v, max=0.0), None, [-1.0, 0.0, 1.0], [1.0, 1.0, 0.0], None),
    "maximum ties": (lambda v: slope.maximum(v, slope.ones(3)), lambda v: slope.lax.maximum(v, slope.ones(3)),
                     [0.0, 1.0, 2.0], [0.0, 0.5, 1.0], [0.0, 0.5, 1.0]),
    "max() ties share evenly": (lambda v: v.max().reshape(1) * slope.ones(4),
                                lambda v: slope.lax.reduce_max(v, axes=(0,)).reshape(1) * slope.ones(4),
                                [3.0, 1.0, 3.0, 3.0], None, None),
}


@pytest.mark.parametrize("name", list(CONVENTIONS))
def test_subgradient_conventions(name):
    surface, lax_f, x, want, want_lax = CONVENTIONS[name]
    if want is None:  # the max() case: compare grads only (jacfwd of a broadcast is a full matrix)
        for f in (surface, lax_f):
            g = np.asarray(slope.jit(slope.grad(lambda v, f=f: f(v)[0]))(slope.tensor(np.asarray(x, np.float32))))
            assert g.tolist() == pytest.approx([1 / 3, 0.0, 1 / 3, 1 / 3])
        return
    for got in _derivs(surface, x):
        assert got.tolist() == want, name
    if lax_f is not None:
        for got in _derivs(lax_f, x):
            assert got.tolist() == want_lax, name


def test_max_min_along_dim_route_the_gradient_to_the_returned_index():
    a = np.array([[3.0, 1.0, 3.0, 3.0], [0.0, 2.0, -1.0, 2.0]], np.float32)
    x = slope.tensor(a)
    for fn, idx in ((lambda v: v.max(1), [0, 1]), (lambda v: v.min(1), [1, 2]), (lambda v: slope.max(v, 1, True), [0, 1])):
        assert fn(x).indices.reshape(-1).tolist() == idx
        want = np.zeros_like(a)
        want[[0, 1], idx] = 1.0
        for g in _grad_both(lambda v, fn=fn: fn(v).values.sum(), x):
            assert g.tolist() == want.tolist()
    # the value is the one at the index (NaN wins, as in PyTorch)
    n = slope.tensor(np.array([[1.0, np.nan, 2.0]], np.float32))
    v, i = n.max(1)
    assert np.isnan(v.item()) and i.item() == 1
    # amax still shares ties evenly (torch.amax does too)
    g = slope.grad(lambda v: v.amax(1).sum())(x)
    assert_close(g, [[1 / 3, 0, 1 / 3, 1 / 3], [0, 0.5, 0, 0.5]])


def test_clamp_values_match_numpy_and_dtypes_follow_promotion():
    a = np.array([-2.0, -1.0, np.nan, 0.5, 1.0, 2.0], np.float32)
    x = slope.tensor(a)
    assert_close(x.clamp(-1, 1), np.clip(a, -1, 1))
    assert_close(slope.jit(lambda v: v.clamp(min=-1))(x), np.maximum(a, -1))
    assert_close(x.clamp(max=slope.tensor(np.float32(0.0))), np.minimum(a, 0))
    lo, hi = slope.tensor(np.full(6, -0.5, np.float32)), slope.tensor(np.full(6, 0.25, np.float32))
    assert_close(x.clip(lo, hi), np.clip(a, -0.5, 0.25))
    gx, glo, ghi = slope.grad(lambda v, l, h: slope.clamp(v, l, h).sum(), argnums=(0, 1, 2))(x, lo, hi)
    assert gx.tolist() == [0, 0, 0, 0, 0, 0] and glo.tolist() == [1, 1, 0, 0, 0, 0] and ghi.tolist() == [0, 0, 0, 1, 1, 1]
    i = slope.tensor(np.array([-5, 0, 5], np.int32))
    assert i.clamp(-1, 1).dtype is slope.int32 and i.clamp(-1, 1).tolist() == [-1, 0, 1]
    assert i.clamp(min=-1.5).dtype is slope.float32 and i.clamp(min=-1.5).tolist() == [-1.5, 0, 5]
    with pytest.raises(slope.DTypeError, match="clamp"):
        x.clamp("a")
    with pytest.raises(slope.ArgumentError, match="clamp: at least one of min and max"):
        x.clamp()
