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
    with pytest.raises(slope.DTypeError, match="std_mean: expects a floating-point tensor"):  # as torch
        slope.std_mean(slope.tensor([1, 2, 3]))
    s, m = slope.std_mean(slope.tensor([1, 2, 3]).float())
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
    gx, glo, ghi = slope.grad(lambda v, lo_, hi_: slope.clamp(v, lo_, hi_).sum(), argnums=(0, 1, 2))(x, lo, hi)
    assert gx.tolist() == [0, 0, 0, 0, 0, 0] and glo.tolist() == [1, 1, 0, 0, 0, 0] and ghi.tolist() == [0, 0, 0, 1, 1, 1]
    i = slope.tensor(np.array([-5, 0, 5], np.int32))
    assert i.clamp(-1, 1).dtype is slope.int32 and i.clamp(-1, 1).tolist() == [-1, 0, 1]
    assert i.clamp(min=-1.5).dtype is slope.float32 and i.clamp(min=-1.5).tolist() == [-1.5, 0, 5]
    with pytest.raises(slope.DTypeError, match="clamp"):
        x.clamp("a")
    with pytest.raises(slope.ArgumentError, match="clamp: at least one of min and max"):
        x.clamp()


# ---------------------------------------------------------------- tensor basics


def test_size_dim_numel_clone():
    x = slope.ones(2, 3)
    assert x.size() == (2, 3) and isinstance(x.size(), tuple) and x.size(1) == 3 and x.size(-2) == 2
    assert repr(x.size()) == "slope.Size([2, 3])" and x.size().numel() == 6 and x.shape == (2, 3)
    assert x.dim() == 2 and x.ndimension() == 2 and x.numel() == 6 and slope.numel(x) == 6
    assert slope.jit(lambda v: v.reshape(v.size(0) * v.size(1)) * v.numel())(x).tolist() == [6.0] * 6
    with pytest.raises(slope.OutOfBoundsError, match="size: dim 2 out of range"):
        x.size(2)
    y = x.clone()
    y.add_(1)
    assert x.tolist() == [[1.0] * 3] * 2 and y.tolist() == [[2.0] * 3] * 2 and x.contiguous() is x
    assert x.new_zeros(2).tolist() == [0.0, 0.0] and x.new_ones((1, 2), dtype=slope.int32).dtype is slope.int32
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_full((2,), 7).dtype is slope.float32
    assert x.new_empty(3).shape == (3,) and x.new_tensor([1, 2]).dtype is slope.float32
    assert slope.tensor([1]).new_tensor([1.5]).dtype is slope.int64


def test_any_all_and_float_tests():
    a = np.array([[0.0, 1.0, np.nan], [0.0, 0.0, np.inf], [-np.inf, 2.0, 3.0]], np.float32)
    x = slope.tensor(a)

    def tests(x):
        return [x.any(), x.all(), x.any(1), x.all(0, keepdim=True), x.isnan(), x.isinf(), x.isfinite(),
                x.isposinf(), x.isneginf(), slope.isclose(x, x + 1e-7), slope.isclose(x, x, equal_nan=True)]

    expected = [a.any(), a.all(), a.any(1), a.all(0, keepdims=True), np.isnan(a), np.isinf(a), np.isfinite(a),
                np.isposinf(a), np.isneginf(a), np.isclose(a, a + np.float32(1e-7)), np.isclose(a, a, equal_nan=True)]
    for got in (tests(x), slope.jit(tests)(x)):
        for g, e in zip(got, expected):
            assert g.dtype is slope.bool_ and g.tolist() == np.asarray(e).tolist()
    assert slope.tensor([1, 2]).isnan().tolist() == [False, False] and slope.zeros(0).all().item() is True
    assert slope.allclose(x, x, equal_nan=True) and not x.allclose(x) and x.equal(x.clone()) is False  # NaN != NaN
    assert slope.equal(slope.tensor([1, 2]), slope.tensor([1, 2])) and not slope.equal(slope.ones(2), slope.ones(3))
    assert_close(x.nan_to_num(), np.nan_to_num(a))
    assert_close(x.nan_to_num(1.0, 5.0, -5.0), np.nan_to_num(a, nan=1.0, posinf=5.0, neginf=-5.0))
    g = slope.grad(lambda v: v.nan_to_num().sum())(x)
    assert g.tolist() == np.isfinite(a).astype(np.float32).tolist()
    with pytest.raises(slope.ArgumentError, match="isclose: rtol must be a non-negative number"):
        slope.isclose(x, x, rtol=-1)
    with pytest.raises(slope.ShapeError, match="any: dim|out of range"):
        x.any(3)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_floor_division_and_remainders_follow_python(dtype):
    a = np.array([-7, -6, -1, 0, 1, 6, 7], dtype)
    b = np.array([2, -4, 3, 5, -3, 4, -2], dtype)
    x, y = slope.tensor(a), slope.tensor(b)
    def ops(x, y):
        return [x // y, x % y, x.fmod(y), x.div(y, rounding_mode="floor"),
                            x.div(y, rounding_mode="trunc"), slope.remainder(x, y), 7 % y, 7 // y]
    expected = [np.floor_divide(a, b), np.remainder(a, b), np.fmod(a, b), np.floor_divide(a, b),
                np.trunc(a / b).astype(dtype), np.remainder(a, b), np.remainder(dtype(7), b), np.floor_divide(dtype(7), b)]
    for got in (ops(x, y), slope.jit(ops)(x, y)):
        for k, (g, e) in enumerate(zip(got, expected)):
            assert g.dtype.np == np.dtype(dtype), k
            np.testing.assert_array_equal(g.numpy(), e, err_msg=str(k))
    if dtype is np.float32:
        assert np.signbit((slope.tensor([-2.0]) % 2).numpy()).tolist() == [False]
        g = slope.grad(lambda v: (v % 3.0).sum() + v.fmod(3.0).sum())(x)
        assert g.tolist() == [2.0] * 7
    with pytest.raises(slope.ArgumentError, match="div: rounding_mode must be"):
        x.div(y, rounding_mode="round")


# ---------------------------------------------------------------- in-place methods and item assignment


def test_inplace_methods_rebind_eagerly():
    x = slope.tensor([1.0, -2.0, 3.0])
    alias = x
    assert x.add_(1) is x and alias.tolist() == [2.0, -1.0, 4.0]
    x.mul_(2).neg_().clamp_(-5, 5)
    assert x.tolist() == [-4.0, 2.0, -5.0]
    x.abs_().sqrt_().exp_()
    assert_close(x, np.exp(np.sqrt([4.0, 2.0, 5.0])))
    x.zero_()
    assert x.tolist() == [0.0] * 3
    x.fill_(2.5).copy_(slope.tensor([1, 2, 3]))
    assert x.dtype is slope.float32 and x.tolist() == [1.0, 2.0, 3.0]
    i = slope.tensor([1, 2])
    i.add_(True).mul_(3)
    assert i.tolist() == [6, 9] and i.dtype is slope.int64
    i.fill_(2.7)
    assert i.tolist() == [2, 2]
    with pytest.raises(slope.DTypeError, match="add_: the result type float32 cannot be cast"):
        i.add_(0.5)
    with pytest.raises(slope.ShapeError, match="add_: the result's shape \\(2, 2\\) does not match"):
        i.add_(slope.ones(2, 1, dtype=slope.int64))


def test_item_assignment_and_masks():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = slope.tensor(a)
    x[0] = 5
    x[1:3, ::2] = 0
    x[x > 6] = -1
    x[slope.tensor([0, 2]), 1] += 10
    x[..., -1] = slope.tensor([7.0, 8.0, 9.0])
    e = a.copy()
    e[0] = 5
    e[1:3, ::2] = 0
    e[e > 6] = -1
    e[[0, 2], 1] += 10
    e[..., -1] = [7.0, 8.0, 9.0]
    assert x.tolist() == e.tolist()
    assert x[x > 6].tolist() == e[e > 6].tolist() and x[[True, False, True]].tolist() == e[[True, False, True]].tolist()
    m = np.array([[True, False, True, False]] * 3)
    x[slope.tensor(m)] = slope.tensor(np.arange(6, dtype=np.float32))
    e[m] = np.arange(6)
    assert x.tolist() == e.tolist()
    with pytest.raises(slope.ShapeError, match="setitem: cannot assign a value of shape \\(2,\\)"):
        x[0] = slope.ones(2)
    with pytest.raises(slope.ShapeError, match="getitem: the mask shape \\(2,\\) does not match"):
        x[np.array([True, False])]


def test_inplace_under_jit_and_grad():
    def f(v):
        y = v * 2
        before = y.clone()
        y.add_(v)          # y = 3v
        y[0] = y[0] * 10   # y[0] = 30 v[0]
        y.masked_fill_(y < 0, 0.0)
        v.mul_(0.5)        # an input updated in place: later uses see it
        return (y * v).sum() + before.sum()

    a = np.array([1.0, -2.0, 3.0], np.float32)

    def f_np(v):
        y = 3 * v
        y[0] *= 10
        y[y < 0] = 0
        return (y * v * 0.5).sum() + (2 * v).sum()

    x = slope.tensor(a)
    assert_close(f(slope.tensor(a)), f_np(a.copy()))
    assert_close(slope.jit(f)(x), f_np(a.copy()))
    assert x.tolist() == a.tolist()  # jit's argument is not changed by the traced update
    want = np.array([30.0 + 2, 2.0, 9 + 2])  # d/dv of f_np: 15 v0^2 -> 30 v0; 1.5 v^2 -> 3 v where y >= 0
    for g in _grad_both(f, x):
        assert_close(g, want)
    assert_close(slope.vmap(f)(slope.tensor(np.stack([a, -a]))), [f_np(a.copy()), f_np(-a)])
    # masks under jit: a where when the value broadcasts, an error naming where/masked_fill otherwise
    assert slope.jit(lambda v: v.masked_fill(v < 0, 1.0) + 0)(x).tolist() == [1.0, 1.0, 3.0]

    def set_mask(v):
        v[v < 0] = 0.0
        return v

    assert slope.jit(set_mask)(x).tolist() == [1.0, 0.0, 3.0]
    with pytest.raises(slope.TracerError, match="getitem: a boolean mask .* use slope.where.*masked_fill"):
        slope.jit(lambda v: v[v > 0])(x)
    c = slope.zeros(3)
    with pytest.raises(slope.TracerError, match="add_: cannot update a concrete tensor .* in place with a value traced"):
        slope.grad(lambda v: c.add_(v).sum())(x)


# ---------------------------------------------------------------- README conventions rows added for the differential


def test_accumulation_and_float_only_conventions():
    x = np.array([1, 2, 3], np.int32)
    assert slope.tensor(x).sum().dtype is slope.int64 and slope.tensor(x).cumsum(0).dtype is slope.int64
    assert slope.lax.reduce_sum(slope.tensor(x), axes=(0,)).dtype is slope.int32
    for op in ("mean", "var", "std"):
        with pytest.raises(slope.DTypeError):
            getattr(slope.tensor(x.astype(np.int64)), op)()


def test_logical_vs_bitwise_convention():
    x, y = np.array([1, 2, 0]), np.array([2, 2, 5])
    np.testing.assert_array_equal(slope.logical_and(slope.tensor(x), slope.tensor(y)).numpy(), [True, True, False])
    np.testing.assert_array_equal((slope.tensor(x) & slope.tensor(y)).numpy(), x & y)
    np.testing.assert_array_equal(slope.lax.and_(slope.tensor(x), slope.tensor(y)).numpy(), x & y)


def test_symmetric_gradient_convention():
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    for f in (lambda m: slope.linalg.cholesky(m)[1, 0], lambda m: slope.linalg.eigh(m).eigenvectors[0, 0]):
        g = slope.grad(f)(slope.tensor(a)).numpy()
        np.testing.assert_allclose(g, g.T, atol=1e-12)
