"""NumPy scalars work as operands, like Python scalars of their kind (as in PyTorch), eagerly and
under jit; 0-d tensors format like Python numbers.

Regressions: `x * np.float32(0.5)`, `np.float32(0.5) * x`, `x + np.int32(1)`,
`x.clamp(min=np.float32(0))`, `slope.where(x > 0, x, np.float32(0))` raised
`DTypeError: mul: unsupported operand type float32`; `f"{loss:.4f}"` raised TypeError."""
import numpy as np
import pytest

import slope

X = np.array([-1.5, 0.0, 2.0, 3.25], np.float32)
XI = np.array([-3, 0, 2, 7], np.int32)

# (name, f(x, xi), expected from NumPy with the NumPy scalar read as a Python scalar of its kind)
CASES = [
    ("x * f32", lambda x, xi: x * np.float32(0.5), X * np.float32(0.5)),
    ("f32 * x", lambda x, xi: np.float32(0.5) * x, X * np.float32(0.5)),
    ("x * i64", lambda x, xi: x * np.int64(2), X * np.float32(2)),
    ("x - f16", lambda x, xi: x - np.float16(0.25), X - np.float32(0.25)),
    ("x / u8", lambda x, xi: x / np.uint8(4), X / np.float32(4)),
    ("i32 + i32", lambda x, xi: xi + np.int32(1), XI + np.int32(1)),
    ("i32 * i64 stays i32", lambda x, xi: xi * np.int64(3), XI * np.int32(3)),
    ("i32 * f32 is float32", lambda x, xi: xi * np.float32(0.5), XI.astype(np.float32) * np.float32(0.5)),
    ("x * bool_", lambda x, xi: x * np.bool_(True), X),
    ("x ** i64", lambda x, xi: x ** np.int64(2), X * X),
    ("f64 ** x", lambda x, xi: np.float64(2.0) ** x, np.float32(2.0) ** X),
    ("clamp", lambda x, xi: x.clamp(min=np.float32(0)), np.maximum(X, 0)),
    ("clamp both", lambda x, xi: x.clamp(np.float32(-1), np.float64(2)), np.clip(X, -1, 2)),
    ("where", lambda x, xi: slope.where(x > 0, x, np.float32(0)), np.where(X > 0, X, 0).astype(np.float32)),
    ("compare", lambda x, xi: x > np.float32(0.0), X > 0),
    ("maximum", lambda x, xi: slope.maximum(x, np.float32(1.0)), np.maximum(X, 1)),
    ("bf16 scalar", lambda x, xi: x * np.array(1.5, "bfloat16")[()], X * np.float32(1.5)),
    ("tiny eps", lambda x, xi: x + np.float32(1e-5), X + np.float32(1e-5)),
]


@pytest.mark.parametrize("name,f,expected", CASES, ids=[c[0] for c in CASES])
def test_numpy_scalar_operands_eager(name, f, expected):
    out = f(slope.tensor(X), slope.tensor(XI))
    assert out.dtype.np == expected.dtype, (out.dtype, expected.dtype)
    _assert_same(out.numpy(), expected, name)


def _assert_same(got, expected, name):
    """Exact, but for pow, which IREE computes as exp(y * log(x)) (about 3 float32 ulp here)."""
    rtol = 1e-6 if "**" in name else 0
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0, err_msg=name)


def test_numpy_scalar_operands_under_jit():
    fs = [f for _, f, _ in CASES]
    outs = slope.jit(lambda x, xi: [f(x, xi) for f in fs])(slope.tensor(X), slope.tensor(XI))
    for (name, _, expected), out in zip(CASES, outs):
        assert out.dtype.np == expected.dtype, name
        _assert_same(out.numpy(), expected, name)


def test_numpy_scalar_operands_broadcast_and_promote_like_python_scalars():
    x64 = slope.tensor(np.ones((2, 3)), dtype=slope.float64)
    out = x64 * np.float32(0.1)  # the float32 value, held in float64 (PyTorch does the same)
    assert out.dtype is slope.float64
    np.testing.assert_array_equal(out.numpy(), np.full((2, 3), float(np.float32(0.1))))
    assert slope.full((2,), np.float32(1.5)).dtype is slope.float32
    assert slope.full((2,), np.int64(4)).dtype is slope.int32
    np.testing.assert_array_equal(slope.zeros(2).pad((1, 1), value=np.float32(7)).numpy(), [7, 0, 0, 7])


def test_numpy_scalar_grad():
    g = slope.grad(lambda x: (x * np.float32(3.0) + np.int64(1)).sum())(slope.tensor(X))
    np.testing.assert_array_equal(g.numpy(), np.full(4, 3.0, np.float32))


def test_zero_d_tensor_formats_like_a_python_number():
    loss = slope.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235"
    assert f"{loss:>10.2e}" == "  1.23e-01"
    assert f"{slope.tensor(7):03d}" == "007"
    assert f"{loss}" == str(loss)
    with pytest.raises(slope.ShapeError, match=r"format: '.3f' needs a 0-d tensor, got shape \(2,\)"):
        f"{slope.ones(2):.3f}"
