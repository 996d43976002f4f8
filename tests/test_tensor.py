"""The PyTorch-like tensor surface, checked against NumPy on fixed examples."""
import numpy as np
import pytest

import slope
from testutil import assert_close


def test_creation_and_dtypes():
    assert slope.ones(3).dtype is slope.float32
    assert slope.zeros(2, 3).shape == (2, 3)
    assert_close(slope.full((2,), 7.0), [7.0, 7.0])
    assert_close(slope.arange(5), np.arange(5))
    assert slope.arange(5).dtype is slope.int64  # PyTorch's default int
    x = slope.arange(15, dtype=slope.float32).reshape(5, 3)
    assert_close(x, np.arange(15, dtype=np.float32).reshape(5, 3))
    assert_close(slope.arange(1.0, 2.0, 0.25), np.arange(1.0, 2.0, 0.25))
    assert_close(slope.eye(3), np.eye(3))
    assert_close(slope.linspace(0, 1, 5), np.linspace(0, 1, 5))
    assert slope.tensor([1, 2]).dtype is slope.int64
    assert slope.tensor(np.ones(2, np.float64)).dtype is slope.float64
    assert slope.tensor(3.0).shape == ()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool", "float16", "bfloat16", "uint32"])
def test_round_trip_dtypes(dtype):
    d = slope.dtype(dtype)
    a = np.arange(6).reshape(2, 3).astype(d.np)
    t = slope.tensor(a)
    assert t.dtype is d
    out = t.numpy()
    assert out.dtype == d.np and np.array_equal(out, a)
    assert np.array_equal(np.asarray(t), a)


def test_float64_is_real_on_iree():
    x = slope.tensor(np.array([1.0 + 1e-12], np.float64))
    y = (x - 1.0) * 1e12
    assert y.dtype is slope.float64
    assert abs(y.item() - 1.0) < 1e-3  # would be 0 in float32
    assert_close(slope.tensor(np.array([0.5], np.float64)).sin(), np.sin([0.5]), rtol=1e-14, atol=0)


def test_arithmetic_broadcasting_and_scalars(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3,)).astype(np.float32)
    x, y = slope.tensor(a), slope.tensor(b)
    assert_close(x + y, a + b)
    assert_close(x - y, a - b)
    assert_close(x * y, a * b)
    assert_close(x / (y.abs() + 1), a / (np.abs(b) + 1))
    assert_close(2 * x + 1, 2 * a + 1)
    assert_close(1 - x, 1 - a)
    assert_close((x.abs() + 1) ** 1.5, (np.abs(a) + 1) ** 1.5)
    assert_close(x ** 2, a ** 2)
    assert_close(-x, -a)
    assert (slope.arange(3) * 2.5).dtype is slope.float32  # int tensor * float scalar -> float
    assert (slope.arange(3) * 2).dtype is slope.int64
    assert_close(slope.arange(7) / 2, np.arange(7) / 2)


def test_unary_math(rng):
    a = rng.uniform(0.1, 2.0, (4,)).astype(np.float32)
    x = slope.tensor(a)
    for name, ref in [("exp", np.exp), ("log", np.log), ("sin", np.sin), ("cos", np.cos), ("tanh", np.tanh),
                      ("sqrt", np.sqrt), ("abs", np.abs), ("floor", np.floor), ("ceil", np.ceil)]:
        assert_close(getattr(x, name)(), ref(a), rtol=2e-6)
    assert_close(x.sigmoid(), 1 / (1 + np.exp(-a)), rtol=2e-6)
    assert_close(slope.relu(slope.tensor([-1.0, 0.0, 2.0])), [0.0, 0.0, 2.0])


def test_reductions(rng):
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    x = slope.tensor(a)
    assert_close(x.sum(), a.sum(), rtol=1e-5)
    assert_close(x.sum(1), a.sum(1), rtol=1e-5)
    assert_close(x.sum((0, 2), keepdim=True), a.sum((0, 2), keepdims=True), rtol=1e-5)
    assert_close(x.max(), a.max())
    assert_close(x.max(-1).values, a.max(-1))
    assert_close(x.max(-1).indices, a.argmax(-1))
    assert_close(x.min(0, keepdim=True).values, a.min(0, keepdims=True))
    assert_close(x.amax((0, 2)), a.max((0, 2)))
    assert_close(x.mean(1), a.mean(1), rtol=1e-5)
    assert_close(x.var(2), a.var(2, ddof=1), rtol=1e-4)
    assert_close(x.prod(2), a.prod(2), rtol=1e-5)
    assert_close(x.softmax(-1), np.exp(a) / np.exp(a).sum(-1, keepdims=True), rtol=1e-5)
    assert_close(slope.logsumexp(x, 1), np.log(np.exp(a).sum(1)), rtol=1e-5)


def test_shapes_and_matmul(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    x, w = slope.tensor(a), slope.tensor(b)
    assert_close(x @ w, a @ b, rtol=1e-5)
    assert_close(x.T, a.T)
    assert_close(x.permute(1, 0), a.T)
    assert_close(x.reshape(3, -1), a.reshape(3, 2))
    assert_close(x.flatten(), a.ravel())
    assert_close(x.unsqueeze(0).squeeze(0), a)
    assert_close(x.expand(5, 2, 3), np.broadcast_to(a, (5, 2, 3)))
    v = rng.standard_normal(3).astype(np.float32)
    assert_close(x @ slope.tensor(v), a @ v, rtol=1e-5)
    assert_close(slope.tensor(v) @ w, v @ b, rtol=1e-5)
    bat = rng.standard_normal((5, 2, 3)).astype(np.float32)
    assert_close(slope.tensor(bat) @ w, bat @ b, rtol=1e-5)


def test_comparisons_where_astype():
    x = slope.tensor([1.0, -2.0, 3.0])
    assert np.array_equal((x > 0).numpy(), [True, False, True])
    assert (x > 0).dtype is slope.bool
    assert_close(slope.where(x > 0, x, 0.0), [1.0, 0.0, 3.0])
    assert_close(x.astype(slope.int32), [1, -2, 3])
    assert np.array_equal(((x > 0) & (x < 2)).numpy(), [True, False, False])
    assert np.array_equal((~(x > 0)).numpy(), [False, True, False])


def test_repr_and_item():
    assert repr(slope.ones(3) * 2) == "tensor([2., 2., 2.])"
    assert repr(slope.arange(3)) == "tensor([0, 1, 2])"  # int64: no dtype shown, as in PyTorch
    assert repr(slope.arange(3, dtype=slope.int32)) == "tensor([0, 1, 2], dtype=int32)"
    assert slope.tensor(2.5).item() == 2.5
    assert float(slope.tensor([4.0])) == 4.0
