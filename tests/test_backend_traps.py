"""The IREE traps slope works around (DESIGN.md, docs/stablehlo-notes.md §0), checked at their edges.

* gather does not clamp out-of-bounds indices on IREE (it reads garbage): slope's gather clamps.
* scatter writes out-of-bounds rows outside the buffer on IREE: slope drops them.
* sort ignores is_stable = true on IREE: slope's sort/argsort are stable anyway, order -0.0 and 0.0
  as equal and put NaN (of either sign) last.
* IREE may write results in place into the caller's buffers (iree-org/iree#16168): no primitive may
  change its inputs, eagerly or under jit (checked in every eager and jit conformance cell).
* compare on signless i32 ignores UNSIGNED: uint32 ops must use unsigned semantics (the PRNG needs them).
* IREE's CPU code flushes subnormal floats to zero (as XLA:CPU, so JAX on CPU, does): slope documents
  it, and the samplers draw no subnormal values since the NumPy oracle keeps them.
* Chained pads and pads after a sort (miscompiled or rejected): tests/test_pad_miscompiles.py.
Every case runs eagerly (one op compiled alone) and under slope.jit, and is compared with NumPy.
"""
import numpy as np
import pytest

import slope
from slope import lax

I32 = np.iinfo(np.int32)


def both(f):
    """f eagerly and under jit."""
    return [("eager", f), ("jit", slope.jit(f))]


# ---------------------------------------------------------------- gather clamps


def _clamp_rows(idx, n):
    return np.clip(idx.astype(np.int64), 0, n - 1)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gather_rows_with_out_of_bounds_indices_are_clamped(index_dtype):
    """The "take rows" form (indices [N, 1] into [R, D]) is the one IREE leaves unclamped."""
    x = np.arange(12, dtype=np.float32).reshape(4, 3) + 1
    raw = np.array([-(2**31) if index_dtype == np.int32 else -(2**40), -5, -1, 0, 3, 4, 7, I32.max], index_dtype)
    expected = x[_clamp_rows(raw, 4)]
    assert expected[0].tolist() == x[0].tolist() and expected[-1].tolist() == x[3].tolist()
    for mode, f in both(lambda a, i: lax.gather(a, i)):
        got = f(slope.tensor(x), slope.tensor(raw[:, None]))
        np.testing.assert_array_equal(got.numpy(), expected, err_msg=mode)


def test_gather_1d_take_and_point_gather_clamp():
    x = np.array([10, 20, 30, 40, 50], np.int32)
    idx = np.array([[-3], [0], [4], [5], [1000]], np.int32)  # 1-D take: [N, 1] into [5]
    m = np.arange(20, dtype=np.float64).reshape(4, 5)
    pts = np.array([[-1, -1], [0, 9], [3, 4], [100, -100], [2, 2]], np.int32)  # point gather (k = rank)
    for mode, f in both(lambda a, i, b, j: (lax.gather(a, i), lax.gather(b, j))):
        take, points = f(slope.tensor(x), slope.tensor(idx), slope.tensor(m), slope.tensor(pts))
        assert take.tolist() == [10, 10, 50, 50, 50], mode
        assert points.tolist() == [m[0, 0], m[0, 4], m[3, 4], m[3, 0], m[2, 2]], mode


def test_gather_with_unsigned_indices_clamps_huge_values_high():
    x = np.arange(6, dtype=np.float32)
    idx = np.array([[0], [5], [6], [2**31], [2**32 - 1]], np.uint32)
    for mode, f in both(lambda a, i: lax.gather(a, i)):
        assert f(slope.tensor(x), slope.tensor(idx)).tolist() == [0, 5, 5, 5, 5], mode


def test_tensor_indexing_wraps_negatives_once_then_clamps():
    """x[t] with a traced tensor t: negative entries count from the end (once), the rest clamp (documented in
    ops); a concrete t is checked eagerly and raises, as NumPy and PyTorch do."""
    x = np.arange(5, dtype=np.float32) * 10
    t = slope.tensor(np.array([-1, -5, -6, -100, 4, 5, 99], np.int32))
    assert slope.jit(lambda a, i: a[i])(slope.tensor(x), t).tolist() == [40, 0, 0, 0, 40, 40, 40]
    with pytest.raises(slope.OutOfBoundsError, match="getitem: index -6 is out of bounds for dimension 0 with size 5"):
        slope.tensor(x)[t]


def test_gather_gradient_of_clamped_rows_lands_on_the_edge_rows():
    x = slope.tensor(np.zeros((3, 2), np.float32))
    idx = slope.tensor(np.array([[-7], [0], [2], [9]], np.int32))
    g = slope.jit(slope.grad(lambda a: lax.gather(a, idx).sum()))(x)
    assert g.tolist() == [[2.0, 2.0], [0.0, 0.0], [2.0, 2.0]]


# ---------------------------------------------------------------- scatter drops out-of-range rows


@pytest.mark.parametrize("name", ["scatter_add", "scatter"])
def test_scatter_drops_out_of_range_rows(name):
    op = getattr(lax, name)
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    idx = np.array([[-1], [4], [100], [1], [-(2**31)], [I32.max]], np.int32)
    upd = np.full((6, 3), 100.0, np.float32)
    expected = x.copy()
    expected[1] = (x[1] + 100) if name == "scatter_add" else 100
    for mode, f in both(lambda a, i, u: op(a, i, u)):
        got = f(slope.tensor(x), slope.tensor(idx), slope.tensor(upd))
        np.testing.assert_array_equal(got.numpy(), expected, err_msg=mode)


def test_scatter_point_rows_out_of_range_in_any_column_are_dropped():
    x = np.zeros((3, 4), np.int32)
    idx = np.array([[0, 0], [0, 4], [3, 0], [-1, 2], [2, 3], [1, -1]], np.int64)
    upd = np.arange(1, 7, dtype=np.int32)
    expected = np.zeros((3, 4), np.int32)
    expected[0, 0], expected[2, 3] = 1, 5
    for mode, f in both(lambda a, i, u: lax.scatter_add(a, i, u)):
        np.testing.assert_array_equal(f(slope.tensor(x), slope.tensor(idx), slope.tensor(upd)).numpy(), expected,
                                      err_msg=mode)


def test_scatter_with_unsigned_indices_drops_values_above_int32():
    x = np.zeros(4, np.float32)
    idx = np.array([[1], [2**31], [2**32 - 1], [3]], np.uint32)
    upd = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    for mode, f in both(lambda a, i, u: lax.scatter(a, i, u)):
        assert f(slope.tensor(x), slope.tensor(idx), slope.tensor(upd)).tolist() == [0, 1, 0, 4], mode


def test_dropped_scatter_rows_get_zero_cotangent():
    idx = slope.tensor(np.array([[5], [0], [-1]], np.int32))
    x = slope.tensor(np.zeros((2, 2), np.float32))
    u = slope.tensor(np.ones((3, 2), np.float32))
    gx, gu = slope.jit(slope.grad(lambda a, b: (lax.scatter_add(a, idx, b) * 3.0).sum(), argnums=(0, 1)))(x, u)
    assert gx.tolist() == [[3, 3], [3, 3]] and gu.tolist() == [[0, 0], [3, 3], [0, 0]]


# ---------------------------------------------------------------- stable sort


def _stable_argsort(x, axis=-1):
    """NumPy's stable argsort: -0.0 == 0.0, NaN (either sign) last, ties in input order."""
    return np.argsort(x, axis=axis, kind="stable")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint32, np.int64])
def test_sort_and_argsort_are_stable_with_many_ties(dtype, rng):
    x = rng.integers(0, 3, size=(3, 96)).astype(dtype)  # ~32 copies of each key per row
    if np.dtype(dtype).kind == "u":
        x = np.where(x == 2, np.uint32(2**32 - 1), x).astype(dtype)  # unsigned order: above 2**31
    payload = np.broadcast_to(np.arange(96, dtype=np.int32), x.shape).copy()
    perm = _stable_argsort(x)
    for mode, f in both(lambda a, p: (lax.argsort(a, dimension=1, index_dtype=slope.int32),
                                      lax.sort(a, p, dimension=1))):
        idx, (vals, carried) = f(slope.tensor(x), slope.tensor(payload))
        np.testing.assert_array_equal(idx.numpy(), perm, err_msg=mode)
        np.testing.assert_array_equal(carried.numpy(), perm, err_msg=mode)
        np.testing.assert_array_equal(vals.numpy(), np.take_along_axis(x, perm, 1), err_msg=mode)
    # along the leading axis too
    for mode, f in both(lambda a: lax.argsort(a, dimension=0, index_dtype=slope.int64)):
        np.testing.assert_array_equal(f(slope.tensor(x.T.copy())).numpy(), _stable_argsort(x.T, axis=0), err_msg=mode)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sort_signed_zeros_tie_and_nans_go_last(dtype):
    computed_nan = np.copysign(np.array(np.nan, dtype), -1)  # the NaN IREE computes (0/0, log(-1))
    x = np.array([0.0, -0.0, np.nan, 1.0, -0.0, -np.inf, computed_nan, 0.0, np.inf, -1.0, np.nan, -0.0], dtype)
    assert np.signbit(x[6]) and not np.signbit(x[2])  # both signs of NaN (IREE computes negative NaNs)
    perm = _stable_argsort(x)
    assert perm.tolist() == [5, 9, 0, 1, 4, 7, 11, 3, 8, 2, 6, 10]
    for mode, f in both(lambda a, p: (lax.argsort(a, dimension=0, index_dtype=slope.int32),
                                      lax.sort(a, p, dimension=0))):
        idx, (vals, carried) = f(slope.tensor(x), slope.tensor(np.arange(12, dtype=np.int32)))
        assert idx.tolist() == perm.tolist(), mode
        assert carried.tolist() == perm.tolist(), mode
        v = vals.numpy()
        np.testing.assert_array_equal(np.signbit(v[:9]), np.signbit(x[perm[:9]]), err_msg=mode)  # zeros keep order
        assert np.isnan(v[9:]).all() and not np.isnan(v[:9]).any(), mode


def test_nan_computed_on_device_sorts_last():
    """0/0 and log(-1) on IREE are negative NaNs (0xFFC00000): they must not sort first."""
    for mode, f in both(lambda a: lax.sort(lax.div(a, a), dimension=0)[0]):
        out = f(slope.tensor(np.array([2.0, 0.0, -3.0, 0.0, 5.0], np.float32))).numpy()
        assert out[:3].tolist() == [1.0, 1.0, 1.0] and np.isnan(out[3:]).all(), mode


@pytest.mark.parametrize("descending", [False, True])
def test_user_sort_ties_keep_input_order_in_both_directions(descending):
    x = np.array([2.0, 1.0, 2.0, np.nan, 1.0, 2.0, -0.0, 0.0], np.float32)
    # torch.sort(stable=True): NaN is the largest value; equal keys keep their input order either way
    expected = [6, 7, 1, 4, 0, 2, 5, 3] if not descending else [3, 0, 2, 5, 1, 4, 6, 7]
    for mode, f in both(lambda a: slope.sort(a, descending=descending).indices):
        assert f(slope.tensor(x)).tolist() == expected, mode
    assert slope.argsort(slope.tensor(x), descending=descending).tolist() == expected


def test_sort_gradient_follows_the_stable_permutation_on_ties():
    x = slope.tensor(np.array([1.0, 0.0, 1.0, 0.0], np.float32))
    w = slope.tensor(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    g = slope.jit(slope.grad(lambda a: (lax.sort(a, dimension=0)[0] * w).sum()))(x)
    assert g.tolist() == [3.0, 1.0, 4.0, 2.0]  # order after sorting: x1, x3, x0, x2


# ---------------------------------------------------------------- unsigned semantics (PRNG arithmetic)


def _u32(rng, n=64):
    v = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    v[:6] = [0, 1, 2**31 - 1, 2**31, 2**31 + 1, 2**32 - 1]
    return v


@pytest.mark.parametrize("name, fn", [
    ("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
    ("maximum", np.maximum), ("minimum", np.minimum), ("div", lambda a, b: a // b), ("rem", np.remainder),
    ("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("xor", np.bitwise_xor),
    ("shift_right_logical", lambda a, b: np.where(b < 32, a >> np.minimum(b, 31), 0).astype(np.uint32)),
    ("shift_left", lambda a, b: np.where(b < 32, a << np.minimum(b, 31), 0).astype(np.uint32)),
])
def test_uint32_ops_use_unsigned_semantics(name, fn, rng):
    x, y = _u32(rng), _u32(rng)[::-1].copy()
    if name in ("div", "rem"):
        y = np.where(y == 0, 3, y).astype(np.uint32)
    if name.startswith("shift"):
        y = (y % 40).astype(np.uint32)
    with np.errstate(over="ignore"):
        expected = fn(x, y)
    op = getattr(lax, name)
    for mode, f in both(lambda a, b: op(a, b)):
        got = f(slope.tensor(x), slope.tensor(y)).numpy()
        assert got.dtype == expected.dtype, (mode, got.dtype)
        np.testing.assert_array_equal(got, expected, err_msg=f"{name} {mode}")


def test_uint32_reductions_scans_and_reverse(rng):
    x = _u32(rng, 24).reshape(4, 6)
    for mode, f in both(lambda a: (lax.reduce_max(a, axes=(1,)), lax.reduce_min(a, axes=(0,)),
                                   lax.cummax(a, axis=1), lax.cumsum(a, axis=0), lax.rev(a, dimensions=(0, 1)),
                                   lax.argsort(a, dimension=1, index_dtype=slope.int32),
                                   lax.argmax(a, axis=1, index_dtype=slope.int32))):
        mx, mn, cm, cs, rv, order, am = [o.numpy() for o in f(slope.tensor(x))]
        np.testing.assert_array_equal(am, np.argmax(x, 1), err_msg=mode)
        np.testing.assert_array_equal(mx, x.max(1), err_msg=mode)
        np.testing.assert_array_equal(mn, x.min(0), err_msg=mode)
        np.testing.assert_array_equal(cm, np.maximum.accumulate(x, 1), err_msg=mode)
        np.testing.assert_array_equal(cs, np.cumsum(x, 0, dtype=np.uint32), err_msg=mode)
        np.testing.assert_array_equal(rv, x[::-1, ::-1], err_msg=mode)
        np.testing.assert_array_equal(order, np.argsort(x, 1, kind="stable"), err_msg=mode)


def test_convert_saturates_out_of_range_and_nan():
    """IREE converts NaN/inf/out-of-range floats to INT_MIN (or 0xFFFFFFFF): slope saturates like XLA."""
    x = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 5e9, -0.7, 2.7, -2.7, 1e30], np.float32)
    cases = {slope.int32: [0, I32.max, I32.min, I32.max, I32.min, I32.max, 0, 2, -2, I32.max],
             slope.uint32: [0, 2**32 - 1, 0, 3000000000, 0, 2**32 - 1, 0, 2, 0, 2**32 - 1],
             slope.int64: [0, 2**63 - 1, -(2**63), 3000000000, -3000000000, 5000000000, 0, 2, -2, 2**63 - 1]}
    for d, expected in cases.items():
        for src in (np.float32, np.float64):
            for mode, f in both(lambda a: lax.convert(a, dtype=d)):
                assert f(slope.tensor(x.astype(src))).tolist() == expected, (d, src, mode)


@pytest.mark.parametrize("dtype,sub", [(np.float32, 1e-40), (np.float64, 1e-310)])
def test_subnormals_flush_to_zero_like_xla_cpu(dtype, sub):
    """Documented semantics, not an oracle bug: subnormal inputs read as 0 and subnormal results are 0."""
    tiny = np.finfo(dtype).tiny
    x = np.array([sub, -sub, 1.0, tiny], dtype)
    half = slope.full((4,), 0.5, dtype=slope.float32 if dtype == np.float32 else slope.float64)
    for mode, f in both(lambda a, h: (lax.sign(a), lax.mul(a, h))):
        sign, halved = [np.asarray(r) for r in f(slope.tensor(x), half)]
        assert sign.tolist() == [0.0, 0.0, 1.0, 1.0], mode
        assert halved.tolist() == [0.0, 0.0, 0.5, 0.0], mode  # tiny / 2 is subnormal: flushed


def test_samplers_draw_no_subnormal_values():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from slope.core import dtypes as dt
    from slope.testing.samplers.base import draw_array

    @settings(max_examples=60, deadline=None, database=None)
    @given(st.data(), st.sampled_from(["float16", "bfloat16", "float32", "float64"]))
    def draw(data, name):
        d = dt.dtype(name)
        v = draw_array(data.draw, (8,), d, -1e-30, 1e-30).astype(np.float64)
        assert not np.any((v != 0) & (np.abs(v) < dt.smallest_normal(d.np))), (name, v)

    draw()


def test_full_rejects_values_out_of_the_dtype_range():
    with pytest.raises(slope.DTypeError, match=r"full: -1 is out of range for uint32 \[0, 4294967295\]"):
        lax.full(shape=(2,), value=-1, dtype=slope.uint32)
    with pytest.raises(slope.DTypeError, match="full: 2147483648 is out of range for int32"):
        slope.jit(lambda: lax.full(shape=(), value=2**31, dtype=slope.int32))()
    assert lax.full(shape=(2,), value=2**32 - 1, dtype=slope.uint32).tolist() == [2**32 - 1] * 2


def test_abs_and_sign_reject_unsigned_operands():
    u = slope.tensor(np.array([1, 2], np.uint32))
    with pytest.raises(slope.DTypeError, match=r"abs: expected a floating-point or signed integer dtype, got u32\[2\]"):
        lax.abs(u)
    with pytest.raises(slope.DTypeError, match=r"sign: .*got u32\[2\]"):
        slope.jit(lambda a: lax.sign(a))(u)


# ---------------------------------------------------------------- no primitive writes into its inputs
# Every primitive's eager and jit conformance cells check that the operands' device buffers are
# unchanged after the call (slope.testing.checks._check_operands_unchanged, iree-org/iree#16168).


def test_dynamic_update_slice_under_jit_leaves_a_reused_argument_alone():
    """The argument is also a result and is read again after the in-place-prone update."""
    x = slope.tensor(np.zeros((4, 3), np.float32))
    u = slope.tensor(np.ones((2, 3), np.float32))
    f = slope.jit(lambda a, b, i: (lax.dynamic_update_slice(a, b, i, lax.full(shape=(), value=0, dtype=slope.int32)), a))
    y, same = f(x, u, slope.tensor(np.int32(1)))
    assert y.numpy()[1:3].tolist() == [[1.0] * 3] * 2 and same.numpy().tolist() == [[0.0] * 3] * 4
    assert x.numpy().tolist() == [[0.0] * 3] * 4


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32])
def test_integer_division_edges_do_not_trap(dtype):
    """x / 0 = -1 (all bits set), x % 0 = x, INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (documented in the specs)."""
    info = np.iinfo(dtype)
    minus1 = -1 if info.min < 0 else 1
    x = np.array([7, info.max, info.min, info.min], dtype)
    y = np.array([0, 0, minus1, 0], dtype)
    all_ones = np.array(-1).astype(dtype)
    for mode, f in both(lambda a, b: (lax.div(a, b), lax.rem(a, b))):
        q, r = (o.numpy() for o in f(slope.tensor(x), slope.tensor(y)))
        assert q.tolist() == [all_ones, all_ones, info.min, all_ones], mode
        assert r.tolist() == [7, info.max, 0, info.min], mode
