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
