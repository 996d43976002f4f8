"""Hand-checked cases for the NumPy reference oracle (slope.reference)."""
import itertools

import ml_dtypes
import numpy as np
import pytest

import slope.reference as R

BF16 = np.dtype(ml_dtypes.bfloat16)


def check(got, want, dtype=None):
    got = np.asarray(got)
    want = np.asarray(want)
    assert isinstance(got, np.ndarray)
    assert got.dtype == (np.dtype(dtype) if dtype is not None else want.dtype), (got.dtype, dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(got.astype(np.float64) if got.dtype == BF16 else got, want)


# ---- elementwise -------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float16, BF16, np.float32, np.float64])
@pytest.mark.parametrize("name", ["neg", "exp", "log", "sin", "cos", "tan", "tanh", "logistic", "sqrt",
                                  "rsqrt", "abs", "sign", "floor", "ceil", "round", "expm1", "log1p", "erf"])
def test_unary_float_dtypes(name, dtype):
    fn = getattr(R, name)
    out = fn(np.array([0.25, 1.5, 3.0], dtype))
    assert out.dtype == np.dtype(dtype) and out.shape == (3,)
    scalar = fn(np.array(0.5, dtype))
    assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar.dtype == np.dtype(dtype)


def test_round_half_even_and_sign():
    check(R.round(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], np.float32)),
          np.array([-2, -2, -0, 0, 2, 2], np.float32))
    check(R.sign(np.array([-3.0, -0.0, 0.0, 2.0, np.nan])), np.array([-1, -0.0, 0, 1, np.nan]))
    check(R.sign(np.array([-5, 0, 7], np.int32)), np.array([-1, 0, 1], np.int32))


def test_logistic_stable_and_erf():
    out = R.logistic(np.array([-1000.0, 0.0, 1000.0], np.float32))
    check(out, np.array([0.0, 0.5, 1.0], np.float32))
    np.testing.assert_allclose(R.erf(np.array([0.0, 0.5, -1.0])), [0.0, 0.5204998778130465, -0.8427007929497149])


def test_not_convert_bitcast():
    check(R.not_(np.array([True, False])), np.array([False, True]))
    check(R.not_(np.array([0, 5], np.int8)), np.array([-1, -6], np.int8))
    check(R.convert(np.array([-1.7, 2.9, -0.5]), dtype=np.int32), np.array([-1, 2, 0], np.int32))
    check(R.convert(np.array([0.0, -0.0, 0.1], np.float32), dtype=np.bool_), np.array([False, False, True]))
    check(R.convert(np.array([1, 2], np.int32), dtype=BF16), np.array([1.0, 2.0]), BF16)
    check(R.bitcast(np.array(1.0, np.float32), dtype=np.int32), np.array(0x3F800000, np.int32))
    check(R.bitcast(np.array([-1], np.int8), dtype=np.uint8), np.array([255], np.uint8))
    with pytest.raises(ValueError):
        R.bitcast(np.array([1.0], np.float32), dtype=np.int16)


def test_int_div_truncates_and_rem_sign():
    a = np.array([7, -7, 7, -7], np.int32)
    b = np.array([2, 2, -2, -2], np.int32)
    check(R.div(a, b), np.array([3, -3, -3, 3], np.int32))
    check(R.rem(a, b), np.array([1, -1, 1, -1], np.int32))
    check(R.rem(np.array([7.0, -7.0], np.float32), np.array([-2.0, 2.0], np.float32)),
          np.array([1.0, -1.0], np.float32))
    check(R.div(np.array([-7.0]), np.array([2.0])), np.array([-3.5]))


def test_pow():
    check(R.pow(np.array([2, -3, 5], np.int32), np.array([10, 3, 0], np.int32)), np.array([1024, -27, 1], np.int32))
    check(R.pow(np.array([4.0], np.float32), np.array([0.5], np.float32)), np.array([2.0], np.float32))


def test_shifts_out_of_range():
    x = np.array([1, 1, 1, -8, -8], np.int32)
    n = np.array([3, 31, 32, 1, -1], np.int32)
    check(R.shift_left(x, n), np.array([8, -2**31, 0, -16, 0], np.int32))
    check(R.shift_right_logical(np.array([-8, -8, -8], np.int32), np.array([1, 32, 99], np.int32)),
          np.array([0x7FFFFFFC, 0, 0], np.int32))
    check(R.shift_right_arithmetic(np.array([-8, -8, 8, -8], np.int32), np.array([1, 32, 33, -1], np.int32)),
          np.array([-4, -1, 0, -1], np.int32))
    check(R.shift_right_logical(np.array([2**31], np.uint32), np.array([31], np.uint32)), np.array([1], np.uint32))
    check(R.shift_left(np.array([3], np.int64), np.array([64], np.int64)), np.array([0], np.int64))


def test_compare_logic_select_clamp():
    check(R.lt(np.array([1.0, np.nan], BF16), np.array([2.0, 1.0], BF16)), np.array([True, False]))
    check(R.xor(np.array([True, True]), np.array([True, False])), np.array([False, True]))
    check(R.and_(np.array([6], np.uint8), np.array([3], np.uint8)), np.array([2], np.uint8))
    check(R.select(np.array([True, False]), np.array([1, 2], np.int8), np.array([3, 4], np.int8)),
          np.array([1, 4], np.int8))
    check(R.clamp(np.zeros(3), np.array([-1.0, 0.5, 5.0]), np.ones(3)), np.array([0.0, 0.5, 1.0]))
    check(R.maximum(np.array([np.nan, 1.0]), np.array([0.0, 2.0])), np.array([np.nan, 2.0]))


# ---- reductions --------------------------------------------------------------

def test_reductions_keep_dtype():
    x = np.array([[100, 100], [100, 1]], np.int8)
    check(R.reduce_sum(x, axes=(0, 1)), np.array(301 - 256, np.int8))
    check(R.reduce_max(np.zeros((0, 2), np.float32), axes=(0,)), np.array([-np.inf, -np.inf], np.float32))
    check(R.reduce_min(x, axes=(1,)), np.array([100, 1], np.int8))
    check(R.reduce_prod(np.array([[1.0, 2.0], [3.0, 4.0]], BF16), axes=(0,)), np.array([3.0, 8.0]), BF16)
    check(R.reduce_sum(x, axes=()), x)


def test_argmax_argmin_first_tie():
    x = np.array([[1, 3, 3], [2, 0, 0]], np.float32)
    check(R.argmax(x, axis=1, index_dtype=np.int32), np.array([1, 0], np.int32))
    check(R.argmin(x, axis=1, index_dtype=np.int64), np.array([0, 1], np.int64))


def test_scans():
    x = np.array([1, 2, 3, 4], np.int32)
    check(R.cumsum(x, axis=0), np.array([1, 3, 6, 10], np.int32))
    check(R.cumsum(x, axis=0, reverse=True), np.array([10, 9, 7, 4], np.int32))
    check(R.cumprod(x, axis=0, reverse=True), np.array([24, 24, 12, 4], np.int32))
    check(R.cummax(np.array([[1.0, 3.0, 2.0]], np.float32), axis=1), np.array([[1.0, 3.0, 3.0]], np.float32))
    check(R.cummin(np.array([3, 1, 2], np.int8), axis=0, reverse=True), np.array([1, 1, 2], np.int8))


# ---- shape -------------------------------------------------------------------

def test_pad_negative_and_interior():
    x = np.array([1, 2, 3], np.int32)
    check(R.pad(x, np.array(0, np.int32), low=(-1,), high=(2,), interior=(1,)), np.array([0, 2, 0, 3, 0, 0], np.int32))
    check(R.pad(x, np.array(9, np.int32), low=(2,), high=(-3,), interior=(2,)), np.array([9, 9, 1, 9, 9, 2], np.int32))
    y = np.arange(4.0).reshape(2, 2)
    check(R.pad(y, np.array(-1.0), low=(0, -1), high=(1, 0), interior=(0, 1)),
          np.array([[-1, 1], [-1, 3], [-1, -1]], np.float64))


def test_broadcast_in_dim_and_friends():
    x = np.arange(6).reshape(2, 3)
    out = R.broadcast_in_dim(x, shape=(3, 4, 2), broadcast_dimensions=(2, 0))
    assert out.shape == (3, 4, 2) and all((out[:, j, :] == x.T).all() for j in range(4))
    check(R.broadcast_in_dim(np.array([[5]]), shape=(2, 1, 3), broadcast_dimensions=(1, 2)), np.full((2, 1, 3), 5))
    check(R.slice(np.arange(10), start_indices=(1,), limit_indices=(8,), strides=(3,)), np.array([1, 4, 7]))
    check(R.rev(np.arange(6).reshape(2, 3), dimensions=(1,)), np.array([[2, 1, 0], [5, 4, 3]]))
    assert R.squeeze(np.zeros((1, 2, 1)), dimensions=(0, 2)).shape == (2,)
    assert R.expand_dims(np.zeros((2, 3)), dimensions=(0, 3)).shape == (1, 2, 3, 1)
    assert R.transpose(np.zeros((2, 3, 4)), perm=(2, 0, 1)).shape == (4, 2, 3)
    check(R.concatenate(np.zeros((1, 2)), np.ones((2, 2)), dimension=0), np.array([[0, 0], [1, 1], [1, 1.0]]))
    check(R.reshape(np.arange(6), shape=(3, 2)), np.arange(6).reshape(3, 2))


# ---- creation ----------------------------------------------------------------

def test_full_iota():
    check(R.full(shape=(2,), value=1.5, dtype=np.float16), np.array([1.5, 1.5], np.float16))
    check(R.full(shape=(), value=3, dtype=np.int32), np.array(3, np.int32))
    check(R.iota(shape=(2, 3), dimension=1, dtype=np.int32), np.array([[0, 1, 2], [0, 1, 2]], np.int32))
    check(R.iota(shape=(2, 3), dimension=0, dtype=BF16), np.array([[0, 0, 0], [1, 1, 1.0]]), BF16)


# ---- linalg ------------------------------------------------------------------

def test_dot_general_dim_order():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)  # (batch, free, contract)
    b = rng.standard_normal((4, 5, 2)).astype(np.float32)  # (contract, free, batch)
    out = R.dot_general(a, b, contracting_dims=((2,), (0,)), batch_dims=((0,), (2,)))
    assert out.dtype == np.float32 and out.shape == (2, 3, 5)
    np.testing.assert_allclose(out, np.einsum("bik,kjb->bij", a, b), rtol=1e-5)
    i8 = np.full((3,), 100, np.int8)
    check(R.dot_general(i8, i8, contracting_dims=((0,), (0,)), batch_dims=((), ()), preferred_dtype=np.int32),
          np.array(30000, np.int32))
    assert R.dot_general(np.ones((2, 3)), np.ones(4), contracting_dims=((), ()), batch_dims=((), ())).shape == (2, 3, 4)


def naive_conv(x, w, strides, padding, lhs_dil, rhs_dil, groups):
    """Direct definition: out[n,o,p] = sum_{i,k} xdil_padded[n, g*I+i, p*s + k*rd] * w[o,i,k]."""
    n, c = x.shape[:2]
    o, ci = w.shape[:2]
    sp = x.shape[2:]
    dil_shape = [(s - 1) * d + 1 if s else 0 for s, d in zip(sp, lhs_dil)]
    xd = np.zeros((n, c, *dil_shape))
    xd[(Ellipsis,) + tuple(slice(None, None, d) for d in lhs_dil)] = x

    def at(nn, cc, pos):  # read the padded dilated input, zero outside
        q = [p - lo for p, (lo, _) in zip(pos, padding)]
        if all(0 <= t < s for t, s in zip(q, dil_shape)):
            return xd[(nn, cc, *q)]
        return 0.0

    padded = [s + lo + hi for s, (lo, hi) in zip(dil_shape, padding)]
    eff = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], rhs_dil)]
    out_sp = [max(0, (p - e) // s + 1) if p >= e else 0 for p, e, s in zip(padded, eff, strides)]
    out = np.zeros((n, o, *out_sp))
    per = o // groups
    for nn, oo in itertools.product(range(n), range(o)):
        g = oo // per
        for pos in itertools.product(*(range(m) for m in out_sp)):
            acc = 0.0
            for i in range(ci):
                for k in itertools.product(*(range(kk) for kk in w.shape[2:])):
                    src = [p * s + kk * d for p, s, kk, d in zip(pos, strides, k, rhs_dil)]
                    acc += at(nn, g * ci + i, src) * w[(oo, i, *k)]
            out[(nn, oo, *pos)] = acc
    return out


@pytest.mark.parametrize("case", [
    dict(x=(1, 2, 7), w=(3, 2, 3), strides=(1,), padding=((0, 0),), lhs_dil=(1,), rhs_dil=(1,), groups=1),
    dict(x=(2, 4, 6), w=(6, 2, 2), strides=(2,), padding=((1, -1),), lhs_dil=(2,), rhs_dil=(2,), groups=2),
    dict(x=(1, 4, 5, 4), w=(4, 1, 2, 3), strides=(1, 2), padding=((2, 1), (-1, 2)), lhs_dil=(1, 2),
         rhs_dil=(2, 1), groups=4),
    dict(x=(1, 1, 3, 2, 3), w=(2, 1, 2, 1, 2), strides=(1, 1, 2), padding=((0, 1), (0, 0), (1, 1)),
         lhs_dil=(1, 1, 1), rhs_dil=(1, 1, 2), groups=1),
])
def test_conv_matches_naive(case):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(case["x"])
    w = rng.standard_normal(case["w"])
    args = (case["strides"], case["padding"], case["lhs_dil"], case["rhs_dil"], case["groups"])
    out = R.conv(x, w, window_strides=args[0], padding=args[1], lhs_dilation=args[2],
                 rhs_dilation=args[3], feature_group_count=args[4])
    want = naive_conv(x, w, *args)
    assert out.dtype == np.float64 and out.shape == want.shape
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    out32 = R.conv(x.astype(np.float32), w.astype(np.float32), window_strides=args[0], padding=args[1],
                   lhs_dilation=args[2], rhs_dilation=args[3], feature_group_count=args[4])
    assert out32.dtype == np.float32


def test_conv_hand_example():
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]], np.float32)
    w = np.array([[[1.0, -1.0]]], np.float32)
    check(R.conv(x, w, window_strides=(1,), padding=((0, 0),)), np.array([[[-1.0, -1.0, -1.0]]], np.float32))
    # lhs_dilation 2 -> [1,0,2,0,3,0,4]; kernel [1,-1] cross-correlated.
    check(R.conv(x, w, window_strides=(1,), padding=((0, 0),), lhs_dilation=(2,)),
          np.array([[[1.0, -2.0, 2.0, -3.0, 3.0, -4.0]]], np.float32))


# ---- indexing ----------------------------------------------------------------

def test_gather_clamps():
    x = np.arange(12).reshape(3, 4)
    check(R.gather(x, np.array([[0, 1], [5, -3], [-1, 9]])), np.array([1, 8, 3]))
    check(R.gather(x, np.array([[7], [-2]], np.int32)), np.array([[8, 9, 10, 11], [0, 1, 2, 3]]))
    check(R.gather(np.arange(5), np.array([[2**32 - 1]], np.uint32)), np.array([4]))
    check(R.gather(np.arange(3), np.zeros((2, 0), np.int32)), np.array([[0, 1, 2], [0, 1, 2]]))


def test_scatter_add_drops_oob_and_accumulates():
    out = R.scatter_add(np.zeros(4, np.float32), np.array([[1], [1], [4], [-1], [3]]),
                        np.array([1, 2, 3, 4, 5], np.float32))
    check(out, np.array([0, 3, 0, 5], np.float32))
    out = R.scatter_add(np.zeros((2, 2), np.int32), np.array([[0, 1], [0, 2], [1, 0]]), np.array([1, 2, 3], np.int32))
    check(out, np.array([[0, 1], [3, 0]], np.int32))


def test_scatter_last_wins_and_drops_oob():
    out = R.scatter(np.zeros(4, np.int32), np.array([[1], [1], [4], [2], [1], [-1]]),
                    np.array([1, 2, 3, 4, 5, 6], np.int32))
    check(out, np.array([0, 5, 4, 0], np.int32))
    check(R.scatter(np.zeros((2, 3)), np.array([[1]]), np.array([[7.0, 8.0, 9.0]])), np.array([[0, 0, 0], [7, 8, 9.0]]))


def test_dynamic_slice_clamps():
    x = np.arange(10)
    check(R.dynamic_slice(x, np.array(8), slice_sizes=(4,)), np.array([6, 7, 8, 9]))
    check(R.dynamic_slice(x, np.array(-3, np.int32), slice_sizes=(2,)), np.array([0, 1]))
    y = np.arange(12).reshape(3, 4)
    check(R.dynamic_slice(y, np.array(2), np.array(1), slice_sizes=(2, 2)), np.array([[5, 6], [9, 10]]))
    check(R.dynamic_update_slice(np.zeros(5, np.int32), np.array([1, 2], np.int32), np.array(10)),
          np.array([0, 0, 0, 1, 2], np.int32))


# ---- sort --------------------------------------------------------------------

def test_sort_stable_nan_last():
    keys = np.array([2.0, np.nan, 1.0, 2.0, 1.0], np.float32)
    vals = np.arange(5, dtype=np.int32)
    k, v = R.sort(keys, vals, dimension=0)
    check(k, np.array([1, 1, 2, 2, np.nan], np.float32))
    check(v, np.array([2, 4, 0, 3, 1], np.int32))


def test_sort_multi_key_and_axis():
    k1 = np.array([1, 0, 1, 0])
    k2 = np.array([5, 5, 4, 4])
    v = np.arange(4)
    out = R.sort(k1, k2, v, dimension=0, num_keys=2)
    check(out[2], np.array([3, 1, 2, 0]))
    (s,) = R.sort(np.array([[3, 1], [2, 0]]), dimension=0)
    check(s, np.array([[2, 0], [3, 1]]))
    check(R.argsort(np.array([3, 1, 3, 1], BF16), dimension=0, index_dtype=np.int32), np.array([1, 3, 0, 2], np.int32))


def test_jit_call_fed_float64_computes_in_float64():
    """The derivative truth runs a float32 program's reference on float64 operands: its float32
    constants and conversions must not round that truth back to float32 mid-program (a second-order
    false alarm: fan_out's `1.5 + y * y` made `full(1.5, float32)` and added in float32)."""
    from slope.core import dtypes as dt
    from slope.testing.samplers.jit import program_for

    x, y = np.full((2, 3), 1 / 3), np.full((2, 3), 1 / 7)
    out = R.jit_call(x, y, program=program_for("fan_out", dt.dtype("float32")))
    assert out[0].dtype == np.float64
    np.testing.assert_allclose(out[0], x * y + x / (1.5 + y * y), rtol=1e-15)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    out32 = R.jit_call(x32, y32, program=program_for("fan_out", dt.dtype("float32")))
    assert out32[0].dtype == np.float32  # fed its own dtypes, it computes in them
