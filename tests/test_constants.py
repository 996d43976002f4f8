"""Every scalar constant slope prints into StableHLO parses back to exactly its value.

Regression: `slope.jit(lambda v: v + 1e-5)` failed to compile because the constant was printed
as `dense<1e-05>`, which MLIR rejects (a float literal needs a decimal point)."""
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from iree.compiler import ir

import slope
from slope.backends.iree.emitter import scalar_literal
from slope.core import dtypes as dt

_CTX = ir.Context()


def _parsed(literal, dtype):
    """The value MLIR reads from `dense<literal> : tensor<dtype>`, as a 0-d NumPy array of dtype."""
    text = (f"func.func @main() -> tensor<{dtype.mlir}> {{\n"
            f"  %0 = stablehlo.constant dense<{literal}> : tensor<{dtype.mlir}>\n"
            f"  return %0 : tensor<{dtype.mlir}>\n}}")
    module = ir.Module.parse(text, _CTX)  # kept alive while its attribute is read
    attr = module.body.operations[0].regions[0].blocks[0].operations[0].attributes["value"]
    if dtype is dt.bfloat16:  # no buffer protocol for bf16: MLIR prints NaNs as bits, other values exactly
        printed = re.fullmatch(r"dense<(.*)> : tensor<bf16>", str(attr)).group(1)
        if printed.startswith("0x"):
            return np.array(int(printed, 16), np.uint16).view(dtype.np)
        return np.array(ir.FloatAttr(attr.get_splat_value()).value).astype(dtype.np)
    return np.array(attr).astype(dtype.np)


def _assert_round_trips(value, dtype):
    with np.errstate(over="ignore"):
        expected = np.asarray(value).astype(dtype.np)
    literal = scalar_literal(value, dtype)
    got = _parsed(literal, dtype)
    assert got.tobytes() == expected.tobytes(), (value, dtype, literal, got)


def _bit_patterns(dtype):
    """Any value of the dtype: every bit pattern (subnormals, NaN payloads, infinities, extremes)."""
    if dtype.is_bool:
        return st.booleans()
    if dtype.is_int:
        info = np.iinfo(dtype.np)
        return st.integers(int(info.min), int(info.max))
    return st.integers(0, 2**dtype.bits - 1).map(lambda b: np.array(b, f"u{dtype.bits // 8}").view(dtype.np))


@pytest.mark.parametrize("dtype", dt.ALL, ids=lambda d: d.name)
@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data())
def test_every_value_of_every_dtype_round_trips(dtype, data):
    _assert_round_trips(data.draw(_bit_patterns(dtype)), dtype)


@pytest.mark.parametrize("dtype", dt.FLOATS, ids=lambda d: d.name)
@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_python_floats_round_trip_as_the_dtype_holds_them(dtype, value):
    _assert_round_trips(value, dtype)


EDGES = [1e-5, 1e16, 1e20, 3e-5, 1e-300, 1e-8, -0.0, 0.1, 1e-45, 1e-40, 65504.0, 3.4028234663852886e38,
         1.7976931348623157e308, 5e-324, float("inf"), float("-inf"), float("nan")]


@pytest.mark.parametrize("value", EDGES, ids=repr)
@pytest.mark.parametrize("dtype", dt.FLOATS, ids=lambda d: d.name)
def test_float_edges_round_trip(dtype, value):
    _assert_round_trips(value, dtype)


def test_integer_extremes_round_trip():
    for dtype in dt.INTS:
        info = np.iinfo(dtype.np)
        for value in (int(info.min), int(info.max), 0, -1 if info.min < 0 else 1):
            _assert_round_trips(value, dtype)


def _compiled_constants():
    """(dtype, value) pairs compiled into one module by slope.jit and returned as its outputs."""
    pairs = [(d, v) for d in dt.FLOATS for v in EDGES]
    pairs += [(d, v) for d in dt.INTS for v in (int(np.iinfo(d.np).min), int(np.iinfo(d.np).max))]
    pairs += [(dt.bool_, True), (dt.bool_, False)]
    return pairs


def test_constants_compile_and_run_on_iree_with_their_exact_bits():
    pairs = _compiled_constants()
    outs = slope.jit(lambda: [slope.lax.full(shape=(), value=v, dtype=d) for d, v in pairs])()
    for (d, v), out in zip(pairs, outs):
        with np.errstate(over="ignore"):
            expected = np.asarray(v).astype(d.np)
        got = out.numpy()
        assert got.dtype == d.np and got.tobytes() == expected.tobytes(), (d, v, got, expected)


@pytest.mark.parametrize("eps", [1e-5, 1e16, 1e20, 3e-5, 1e-300, 1e-8, 5e-324], ids=repr)
def test_jit_of_a_python_float_constant_matches_eager(eps):
    x = slope.tensor([1.0, -2.0, 0.5])
    f = lambda v: v * 0.5 + eps  # noqa: E731
    np.testing.assert_array_equal(slope.jit(f)(x).numpy(), f(x).numpy())
    np.testing.assert_array_equal(f(x).numpy(), np.array([1.0, -2.0, 0.5], np.float32) * np.float32(0.5) + np.float32(eps))
