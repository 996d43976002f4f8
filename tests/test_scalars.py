"""NumPy scalars work as operands, like Python scalars of their kind (as in PyTorch), eagerly and
under jit; 0-d tensors format like Python numbers.

Regressions: `x * np.float32(0.5)`, `np.float32(0.5) * x`, `x + np.int32(1)`,
`x.clamp(min=np.float32(0))`, `slope.where(x > 0, x, np.float32(0))` raised
`DTypeError: mul: unsupported operand type float32`; `f"{loss:.4f}"` raised TypeError."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

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
    assert slope.full((2,), np.int64(4)).dtype is slope.int64
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


def _any_scalar():
    """Python floats and ints of any magnitude, bools, and NumPy scalars of every dtype (any bits)."""
    np_scalar = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8,
                                 np.uint32, np.uint64]).flatmap(
        lambda t: st.integers(0, 2 ** (8 * np.dtype(t).itemsize) - 1).map(
            lambda b: np.array(b, f"u{np.dtype(t).itemsize}").view(t)[()]))
    return st.one_of(st.floats(), st.integers(-2**70, 2**70), st.integers(-10**400, 10**400), st.booleans(),
                     np_scalar, st.sampled_from([np.bool_(True), np.bool_(False)]))


def _expected_add(a, value):
    """NumPy's a + value under slope's documented rule, or DTypeError: the scalar is weakly typed
    (a float next to an int or bool tensor gives float32, an int next to a bool tensor int64),
    floats beyond the dtype's range round to +-inf, integers must fit."""
    v = value.item() if isinstance(value, np.generic) else value
    if isinstance(v, bool) or a.dtype.kind == "f" or (isinstance(v, int) and a.dtype.kind in "iu"):
        dtype = a.dtype
    else:
        dtype = np.dtype(np.float32) if isinstance(v, float) else np.dtype(np.int64)
    if isinstance(v, int) and not isinstance(v, bool):
        fits = (-1e308 < v < 1e308) if dtype.kind == "f" else np.iinfo(dtype).min <= v <= np.iinfo(dtype).max
        if not fits:
            return slope.DTypeError
    if isinstance(v, float) and dtype.kind in "iub" and v != v:
        return slope.DTypeError
    with np.errstate(over="ignore", invalid="ignore"):
        b = np.asarray(v).astype(dtype)
        if dtype.kind == "b":
            return a.astype(dtype) | b
        return _flush_subnormals(a.astype(dtype) + _flush_subnormals(b))


def _flush_subnormals(x):
    """IREE's CPU arithmetic flushes subnormal inputs and results to zero (README; like XLA:CPU)."""
    if x.dtype.kind != "f":
        return x
    tiny = np.finfo(x.dtype).tiny
    return np.where(np.abs(x) < tiny, np.copysign(np.zeros_like(x), x), x)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8", "bool"])
@settings(max_examples=3, deadline=None, derandomize=True)
@given(values=st.lists(_any_scalar(), min_size=8, max_size=8))
def test_any_scalar_is_an_operand_in_eager_and_jit(dtype, values):
    """Every Python or NumPy scalar, of any magnitude, added to a tensor of each dtype: eager and
    jit give NumPy's answer under the weak-typing rule, or both raise DTypeError naming `add`."""
    a = np.array([0, 1, 3], dtype)
    x = slope.tensor(a)
    expected = [_expected_add(a, v) for v in values]
    ok = [(v, e) for v, e in zip(values, expected) if e is not slope.DTypeError]
    outs = slope.jit(lambda t: [t + v for v, _ in ok])(x)
    for (v, e), out in zip(ok, outs):
        for got in (out, x + v):
            assert got.dtype.np == e.dtype, (v, got.dtype, e.dtype)
            np.testing.assert_array_equal(got.numpy(), e, err_msg=repr(v))
    for v in [v for v, e in zip(values, expected) if e is slope.DTypeError]:
        with pytest.raises(slope.DTypeError, match="add: scalar operand"):
            x + v
        with pytest.raises(slope.DTypeError, match="add: scalar operand"):
            slope.jit(lambda t: t + v)(x)


def test_scalar_operand_errors_name_the_op():
    x, xi = slope.tensor([1.0, 2.0]), slope.tensor(np.array([1, 2], np.int32))
    with pytest.raises(slope.DTypeError, match=r"add: scalar operand 100000000000\.\.\. \(401 digits\) is too large"):
        x + 10**400
    with pytest.raises(slope.DTypeError, match=r"mul: scalar operand 1099511627776 is out of range for int32"):
        slope.jit(lambda t: t * np.int64(2**40))(xi)
