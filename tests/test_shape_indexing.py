"""slice/pad/rev/concatenate/squeeze/expand_dims and gather/scatter_add/scatter/dynamic_slice/
dynamic_update_slice: every rule of their specs on fixed examples, plus the user-level ops built on them.

Truth is slope.reference (NumPy). Forward: eager and jit against the reference (float32, float64, int32).
JVP: against central differences of the float64 reference (exact for these linear maps up to rounding).
VJP: the dot-product test <ct, J t> == <J^T ct, t> (jvp and vjp staged in one jitted module). vmap: against
stacking per-element reference results (every placement in one jitted module),
for each operand batched at every position alone, all batched at one position, and mixed positions.
"""
import numpy as np
import pytest

import slope
from slope.backends.iree.emitter import LOWERINGS
from slope.primitives import REGISTRY
from slope.testing.samplers import SAMPLERS

SHAPE_PRIMS = ["slice", "pad", "rev", "concatenate", "squeeze", "expand_dims"]
INDEX_PRIMS = ["gather", "scatter_add", "scatter", "dynamic_slice", "dynamic_update_slice"]
MINE = SHAPE_PRIMS + INDEX_PRIMS

i32 = np.int32


def f32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- cases: (args, params), float args in float32

CASES = {
    "slice": [
        ([f32(5)], dict(start_indices=(1,), limit_indices=(5,), strides=(2,))),
        ([f32(4, 5)], dict(start_indices=(1, 0), limit_indices=(3, 5), strides=(1, 3))),
        ([f32(2, 3, 4)], dict(start_indices=(0, 1, 1), limit_indices=(2, 3, 4), strides=(2, 1, 2))),
        ([f32(4, 3)], dict(start_indices=(2, 0), limit_indices=(2, 3), strides=(1, 1))),  # empty result
        ([f32(6)], dict(start_indices=(0,), limit_indices=(6,), strides=None)),
        ([np.float32(3.0)], dict(start_indices=(), limit_indices=(), strides=())),
    ],
    "pad": [
        ([f32(3), np.float32(0.5)], dict(low=(1,), high=(2,), interior=(0,))),
        ([f32(2, 3), np.float32(-1.0)], dict(low=(0, -1), high=(1, -1), interior=(1, 1))),
        ([f32(3, 2), np.float32(2.0)], dict(low=(-2, 1), high=(1, 0), interior=(2, 0))),
        ([f32(2, 1, 3), np.float32(1.5)], dict(low=(1, 0, -1), high=(-1, 2, 0), interior=(1, 0, 1))),
        ([f32(2), np.float32(1.0)], dict(low=(-3,), high=(1,), interior=(0,))),  # crops to empty
        ([np.float32(4.0), np.float32(1.0)], dict(low=(), high=(), interior=())),
    ],
    "rev": [
        ([f32(5)], dict(dimensions=(0,))),
        ([f32(2, 3, 4)], dict(dimensions=(0, 2))),
        ([f32(2, 3)], dict(dimensions=())),
    ],
    "concatenate": [
        ([f32(2, 3), f32(1, 3, seed=1)], dict(dimension=0)),
        ([f32(2, 1, 3), f32(2, 2, 3, seed=1), f32(2, 3, 3, seed=2)], dict(dimension=1)),
        ([f32(2, 0), f32(2, 3, seed=1)], dict(dimension=1)),  # an empty piece
        ([f32(4)], dict(dimension=0)),
    ],
    "squeeze": [
        ([f32(1, 3, 1)], dict(dimensions=(0, 2))),
        ([f32(2, 1, 3)], dict(dimensions=(1,))),
        ([f32(1)], dict(dimensions=(0,))),
        ([f32(2, 3)], dict(dimensions=())),
    ],
    "expand_dims": [
        ([f32(2, 3)], dict(dimensions=(0, 3))),
        ([f32(3)], dict(dimensions=(1,))),
        ([np.float32(2.0)], dict(dimensions=(0, 1))),
    ],
    "gather": [
        ([f32(5), np.array([[0], [4], [7], [-2], [2]], i32)], {}),  # out-of-range rows clamp
        ([f32(4, 3), np.array([[1], [3], [1]], i32)], {}),  # rows, with a duplicate
        ([f32(4, 3), np.array([[[0, 2], [3, 5]], [[-1, 1], [2, 0]]], np.int64)], {}),  # points, 2-d batch
        ([f32(3, 2, 2), np.array([[2, 1], [0, 0], [9, -9]], i32)], {}),  # windows of the last dim
        ([f32(2, 3), np.zeros((3, 0), i32)], {}),  # k = 0: the whole operand per row
        ([f32(4, 3), np.array([2], i32)], {}),  # no batch dims
        ([f32(4, 3), np.zeros((0, 1), i32)], {}),  # no rows
    ],
    "scatter_add": [
        ([f32(5), np.array([[0], [4], [7], [-2], [4]], i32), f32(5, seed=1)], {}),  # drops and duplicates
        ([f32(4, 3), np.array([[1], [3], [1]], i32), f32(3, 3, seed=1)], {}),
        ([f32(4, 3), np.array([[[0, 2], [3, 5]], [[-1, 1], [2, 0]]], np.int64), f32(2, 2, seed=1)], {}),
        ([f32(3, 2, 2), np.array([[2, 1], [0, 0], [2, 1]], i32), f32(3, 2, seed=1)], {}),
        ([f32(2, 3), np.zeros((3, 0), i32), f32(3, 2, 3, seed=1)], {}),  # k = 0
        ([f32(4, 3), np.zeros((0, 1), i32), f32(0, 3, seed=1)], {}),
    ],
    "scatter": [
        ([f32(5), np.array([[0], [4], [7], [-2], [4]], i32), f32(5, seed=1)], {}),  # drops; the last 4 wins
        ([f32(4, 3), np.array([[1], [3], [1], [1], [0]], i32), f32(5, 3, seed=1)], {}),
        ([f32(4, 3), np.array([[[0, 2], [3, 5]], [[0, 2], [2, 0]]], np.int64), f32(2, 2, seed=1)], {}),
        ([f32(3, 2, 2), np.array([[2, 1], [0, 0], [2, 1]], i32), f32(3, 2, seed=1)], {}),
        ([f32(2, 3), np.zeros((3, 0), i32), f32(3, 2, 3, seed=1)], {}),  # k = 0: the last row wins
        ([f32(4, 3), np.zeros((0, 1), i32), f32(0, 3, seed=1)], {}),
    ],
    "dynamic_slice": [
        ([f32(5), i32(1)], dict(slice_sizes=(3,))),
        ([f32(5, 4), i32(4), i32(-2)], dict(slice_sizes=(2, 3))),  # both starts clamp
        ([f32(3, 2, 4), np.int64(1), np.int64(0), np.int64(9)], dict(slice_sizes=(2, 2, 1))),
        ([f32(4, 3), i32(2), i32(1)], dict(slice_sizes=(0, 2))),  # empty window
        ([f32(4), i32(3)], dict(slice_sizes=(4,))),  # the whole operand
    ],
    "dynamic_update_slice": [
        ([f32(5), f32(2, seed=1), i32(1)], {}),
        ([f32(5, 4), f32(2, 3, seed=1), i32(4), i32(-2)], {}),  # both starts clamp
        ([f32(3, 2, 4), f32(2, 1, 2, seed=1), np.int64(1), np.int64(1), np.int64(9)], {}),
        ([f32(4, 3), f32(0, 2, seed=1), i32(2), i32(1)], {}),  # empty update
        ([f32(3), f32(3, seed=1), i32(2)], {}),  # the whole operand
    ],
}

ALL_CASES = [(name, i) for name in MINE for i in range(len(CASES[name]))]
IDS = [f"{n}-{i}" for n, i in ALL_CASES]


def ref_out(spec, args, params):
    return spec.reference(*args, **params)


def bound(spec, params):
    return lambda *args: spec.bind(*args, **params)


def is_float(a):
    return np.asarray(a).dtype.kind == "f"


def cast(args, dtype):
    return [np.asarray(a).astype(dtype) if is_float(a) else a for a in args]


def check_close(got, want, dtype):
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    if want.dtype.kind == "f":
        tol = 1e-12 if want.dtype == np.float64 else 1e-5
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("name,i", ALL_CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_forward_matches_reference(name, i, dtype):
    spec = REGISTRY[name]
    args, params = CASES[name][i]
    args = [(np.round(a * 3)).astype(dtype) if is_float(a) else a for a in args] if dtype == np.int32 else cast(args, dtype)
    want = ref_out(spec, args, params)
    check_close(bound(spec, params)(*map(slope.tensor, args)).numpy(), want, dtype)
    check_close(slope.jit(bound(spec, params))(*map(slope.tensor, args)).numpy(), want, dtype)


def test_scatter_last_duplicate_wins_many_rows():
    """Many duplicates of few places: the result must be the last row's update for every place."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 2)).astype(np.float32)
    idx = rng.integers(-1, 7, size=(200, 1)).astype(i32)
    upd = rng.standard_normal((200, 2)).astype(np.float32)
    want = slope.reference.scatter(x, idx, upd)
    got = slope.lax.scatter(*map(slope.tensor, (x, idx, upd))).numpy()
    np.testing.assert_array_equal(got, want)


def test_index_dtypes_including_unsigned():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    for d in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32):
        idx = np.array([[1], [3], [0]], d)
        if d == np.uint32:
            idx = np.array([[1], [0xFFFFFFFF], [0x80000000]], d)  # huge values clamp high / are dropped
        u = np.ones((3, 3), np.float32)
        np.testing.assert_array_equal(slope.lax.gather(slope.tensor(x), slope.tensor(idx)).numpy(),
                                      slope.reference.gather(x, idx))
        np.testing.assert_array_equal(slope.lax.scatter_add(*map(slope.tensor, (x, idx, u))).numpy(),
                                      slope.reference.scatter_add(x, idx, u))
        np.testing.assert_array_equal(slope.lax.scatter(*map(slope.tensor, (x, idx, u))).numpy(),
                                      slope.reference.scatter(x, idx, u))
    for d in (np.int8, np.uint8, np.uint32, np.int64):
        s = np.array(100, d)  # clamps to the last window
        got = slope.lax.dynamic_slice(slope.tensor(x), slope.tensor(s), slope.tensor(s), slice_sizes=(2, 2)).numpy()
        np.testing.assert_array_equal(got, slope.reference.dynamic_slice(x, s, s, slice_sizes=(2, 2)))


def test_rev_unsigned_and_bool():
    for x in (np.arange(6, dtype=np.uint32).reshape(2, 3), np.array([[True, False, False], [False, True, True]])):
        np.testing.assert_array_equal(slope.lax.rev(slope.tensor(x), dimensions=(1,)).numpy(), x[:, ::-1])


# ---------------------------------------------------------------- derivatives


def fd_jvp(spec, args, tangents, params, eps=1e-3):
    """Central differences of the float64 reference (these maps are linear: any eps is exact up to rounding)."""
    wide = cast(args, np.float64)
    plus = [a + eps * t if t is not None else a for a, t in zip(wide, tangents)]
    minus = [a - eps * t if t is not None else a for a, t in zip(wide, tangents)]
    return (ref_out(spec, plus, params) - ref_out(spec, minus, params)) / (2 * eps)


@pytest.mark.parametrize("name,i", ALL_CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_jvp_and_vjp(name, i, dtype, rng):
    """jvp vs FD and the vjp dot-product test, both staged into one jitted module (compiling each
    op of the rules eagerly would cost a module per op; eager transforms have their own tests)."""
    spec = REGISTRY[name]
    args, params = CASES[name][i]
    args = cast(args, dtype)
    fi = [j for j, a in enumerate(args) if is_float(a)]
    tangents = [rng.standard_normal(np.shape(a)) if j in fi else None for j, a in enumerate(args)]
    truth = fd_jvp(spec, args, tangents, params)
    want = ref_out(spec, args, params)
    ct = rng.standard_normal(want.shape).astype(dtype)

    def f(*float_args):
        full = [slope.tensor(a) for a in args]
        for j, v in zip(fi, float_args):
            full[j] = v
        return spec.bind(*full, **params)

    @slope.jit
    def jvp_and_vjp(primals, tans, ct):
        out, t_out = slope.jvp(f, primals, tans)
        _, f_vjp = slope.vjp(f, *primals)
        return out, t_out, f_vjp(ct)

    primals = tuple(slope.tensor(args[j]) for j in fi)
    tans = tuple(slope.tensor(tangents[j].astype(dtype)) for j in fi)
    out, t_out, ct_in = jvp_and_vjp(primals, tans, slope.tensor(ct))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(t_out.numpy(), truth, rtol=tol, atol=tol)
    np.testing.assert_allclose(out.numpy(), want, rtol=tol, atol=tol)
    # dot-product test: <ct, J t> == <J^T ct, t>
    lhs = float(np.sum(ct.astype(np.float64) * truth))
    rhs = sum(float(np.sum(c.numpy().astype(np.float64) * tangents[j])) for c, j in zip(ct_in, fi))
    assert abs(lhs - rhs) <= 10 * tol * (1 + abs(lhs)), (lhs, rhs)


def test_pad_value_gradient_sums_cotangent_over_padding():
    x = f32(2, 3).astype(np.float64)
    params = dict(low=(1, -1), high=(0, 2), interior=(1, 0))
    f = lambda v: slope.lax.pad(slope.tensor(x), v, **params).sum()  # noqa: E731
    g = slope.grad(f)(slope.tensor(np.float64(0.7)))
    n_pad = ref_out(REGISTRY["pad"], [np.zeros_like(x), 1.0], params).sum()
    assert float(g) == pytest.approx(n_pad)


def test_gather_gradient_counts_clamped_rows():
    """A clamped out-of-range row reads (and so gets gradient from) the edge element."""
    x = slope.tensor(np.arange(4.0, dtype=np.float32))
    idx = slope.tensor(np.array([[5], [-3], [1], [1]], i32))
    g = slope.grad(lambda x: slope.lax.gather(x, idx).sum())(x)
    np.testing.assert_array_equal(g.numpy(), [1, 2, 0, 1])


def test_scatter_gradients():
    x = slope.tensor(np.zeros(4, np.float32))
    idx = slope.tensor(np.array([[1], [7], [1], [3]], i32))
    u = slope.tensor(np.arange(1.0, 5.0, dtype=np.float32))
    w = slope.tensor(np.array([10.0, 20.0, 30.0, 40.0], np.float32))
    gx, gu = slope.grad(lambda x, u: (slope.lax.scatter(x, idx, u) * w).sum(), argnums=(0, 1))(x, u)
    np.testing.assert_array_equal(gx.numpy(), [10, 0, 30, 0])  # overwritten places get nothing
    np.testing.assert_array_equal(gu.numpy(), [0, 0, 20, 40])  # the dropped row and the overwritten duplicate get 0
    gx, gu = slope.grad(lambda x, u: (slope.lax.scatter_add(x, idx, u) * w).sum(), argnums=(0, 1))(x, u)
    np.testing.assert_array_equal(gx.numpy(), [10, 20, 30, 40])
    np.testing.assert_array_equal(gu.numpy(), [20, 0, 20, 40])


def test_hessian_through_gather():
    x = slope.tensor(np.array([1.0, 2.0, 3.0], np.float64))
    idx = slope.tensor(np.array([[2], [0], [2]], i32))
    h = slope.jit(slope.hessian(lambda x: (slope.lax.gather(x, idx) ** 2).sum()))(x)
    np.testing.assert_allclose(h.numpy(), np.diag([2.0, 0.0, 4.0]))


# ---------------------------------------------------------------- vmap


def random_like(a, rng, hi):
    a = np.asarray(a)
    if is_float(a):
        return rng.standard_normal(a.shape).astype(a.dtype)
    return rng.integers(-2, hi + 2, size=a.shape).astype(a.dtype)


def placements(args):
    n, out = len(args), []
    for j in range(n):  # one operand batched (at every position), the others not
        for d in range(np.ndim(args[j]) + 1):
            out.append(tuple(d if m == j else None for m in range(n)))
    for d in range(max(np.ndim(a) for a in args) + 1):  # all batched at one position (clipped to rank)
        out.append(tuple(min(d, np.ndim(a)) for a in args))
    if n > 1:  # all batched, at different positions
        out.append(tuple(np.ndim(a) if m % 2 == 0 else 0 for m, a in enumerate(args)))
        out.append(tuple(0 if m % 2 == 0 else np.ndim(a) for m, a in enumerate(args)))
    return list(dict.fromkeys(out))


@pytest.mark.parametrize("name,i", ALL_CASES, ids=IDS)
def test_vmap_every_batch_dim_placement(name, i, rng):
    """Every placement of this case, vmapped inside one jitted module (one compile per case)."""
    spec = REGISTRY[name]
    args, params = CASES[name][i]
    size = 3
    hi = max([max(np.shape(a), default=1) for a in args])
    per_elem = [[random_like(a, rng, hi) for a in args] for _ in range(size)]
    all_dims = placements(args)
    inputs, wants = [], []
    for dims in all_dims:
        inputs.append([slope.tensor(args[j]) if d is None else slope.tensor(np.stack([e[j] for e in per_elem], axis=d))
                       for j, d in enumerate(dims)])
        wants.append(np.stack([ref_out(spec, [e[j] if dims[j] is not None else args[j] for j in range(len(args))],
                                       params) for e in per_elem]))

    @slope.jit
    def every_placement(inputs):
        return [slope.vmap(bound(spec, params), in_axes=dims)(*ins) for dims, ins in zip(all_dims, inputs)]

    for dims, got, want in zip(all_dims, every_placement(inputs), wants):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6, err_msg=f"{name} in_axes={dims}")


def test_vmap_of_grad_and_nested_vmap():
    """Transforms compose: per-example gradients through gather, vmap of vmap of dynamic_slice."""
    x = f32(3, 5)
    idx = np.array([[[4], [0]], [[1], [1]], [[9], [2]]], i32)
    g = slope.vmap(slope.grad(lambda x, i: slope.lax.gather(x, i).sum()))(slope.tensor(x), slope.tensor(idx))
    want = np.zeros_like(x)
    for b in range(3):
        np.add.at(want[b], np.clip(idx[b, :, 0], 0, 4), 1)
    np.testing.assert_array_equal(g.numpy(), want)
    y = f32(2, 3, 6)
    starts = np.array([[0, 3, 5], [-1, 2, 4]], i32)
    f = slope.vmap(slope.vmap(lambda y, s: slope.lax.dynamic_slice(y, s, slice_sizes=(2,))))
    got = f(slope.tensor(y), slope.tensor(starts)).numpy()
    want = np.stack([np.stack([slope.reference.dynamic_slice(y[a, b], starts[a, b], slice_sizes=(2,)) for b in range(3)])
                     for a in range(2)])
    np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- spec completeness and errors


@pytest.mark.parametrize("name", MINE)
def test_error_inputs_raise(name):
    spec = REGISTRY[name]
    cases = spec.error_inputs()
    assert cases
    for case in cases:
        with pytest.raises(case.error, match=case.match):
            spec.bind(*map(slope.tensor, case.args), **case.params)


@pytest.mark.parametrize("name", MINE)
def test_spec_is_complete(name):
    spec = REGISTRY[name]
    for rule in ("doc", "reference", "jvp", "transpose", "vmap", "error_inputs"):
        assert getattr(spec, rule), rule
    assert name in SAMPLERS and name in LOWERINGS


# ---------------------------------------------------------------- user-level ops

X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
E = Ellipsis
INDEX_CASES = [
    0, -1, (1, 2), (slice(None), 1), (E, 2), (None, 0), (0, None, E, None), slice(None, None, -1),
    (slice(None), slice(3, 0, -2)), (slice(1, None), slice(None, None, 2), slice(-1, None, -1), slice(0, 5, 3)),
    ([0, 1, 1],), (slice(None), [2, 0]), (0, slice(None), [1, 2]), (slice(None), 0, [1, 2]), ([0, 1], [2, -1]),
    ([[0], [1]], slice(None), [1, 2, 0]), (E, [4, 0, -5]), (1, [2, 0], slice(None), [[1], [3]]),
    (None, [1, 0], None), (slice(None), None, [0, 2]), (slice(5, 2),), (E,), (), (0, 0, 0, 0),
    (np.array([1, 0]), slice(None, None, -1)), (slice(None), [], 1), (slice(10, 20),), (slice(-100, 100, 7),),
]


@pytest.mark.parametrize("idx", INDEX_CASES, ids=[repr(c) for c in INDEX_CASES])
def test_getitem_matches_numpy(idx):
    t = slope.tensor(X)
    np.testing.assert_array_equal(t[idx].numpy(), X[idx])
    np.testing.assert_array_equal(slope.jit(lambda a: a[idx])(t).numpy(), X[idx])


def test_getitem_tensor_indices_and_gradient():
    t = slope.tensor(X)
    i = np.array([1, -1, 0], i32)
    np.testing.assert_array_equal(t[slope.tensor(i)].numpy(), X[i])
    np.testing.assert_array_equal(slope.jit(lambda a, j: a[1, :, j])(t, slope.tensor(i)).numpy(), X[1, :, i])
    np.testing.assert_array_equal(t[:, slope.tensor(np.int32(-2))].numpy(), X[:, -2])
    g = slope.grad(lambda a: (a[0, ::-2, [1, 1, 3]] * 2.0).sum())(t)
    want = np.zeros_like(X)
    np.add.at(want, (0, slice(None, None, -2), [1, 1, 3]), 2.0)
    np.testing.assert_array_equal(g.numpy(), want)


def test_getitem_errors():
    t = slope.tensor(X)
    for bad, match in [((5,), "index 5 is out of bounds for dimension 0 with size 2"),
                       ((0, -4), "index -4 is out of bounds for dimension 1 with size 3"),
                       ((0, 0, 0, 0, 0), "too many indices"), ((E, E), "single ellipsis"),
                       (([0, 2],), "index 2 is out of bounds for dimension 0")]:
        with pytest.raises(slope.ShapeError, match=match):
            t[bad]
    with pytest.raises(slope.DTypeError, match="boolean indices are not supported"):
        t[True]
    with pytest.raises(slope.DTypeError, match="integer"):
        t[slope.tensor(np.array([0.0]))]


def test_flip_pad_cat_stack():
    x = f32(2, 3, 4)
    t = slope.tensor(x)
    np.testing.assert_array_equal(slope.flip(t, (0, -1)).numpy(), np.flip(x, (0, 2)))
    np.testing.assert_array_equal(t.flip(1).numpy(), np.flip(x, 1))
    # torch order: last dim first; negative pads crop
    got = slope.pad(t, (1, 2, 0, -1), value=3.0).numpy()
    want = np.pad(x, ((0, 0), (0, 0), (1, 2)), constant_values=3.0)[:, :-1]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(t.pad((1, 1)).numpy(), np.pad(x, ((0, 0), (0, 0), (1, 1))))
    gv = slope.grad(lambda v: slope.pad(t, (1, 1, 2, 0), value=v).sum())(slope.tensor(np.float32(0.0)))
    assert float(gv) == (4 + 2) * (3 + 2) * 2 - x.size
    y = f32(2, 1, 4, seed=1)
    np.testing.assert_array_equal(slope.cat([t, slope.tensor(y)], dim=1).numpy(), np.concatenate([x, y], 1))
    np.testing.assert_array_equal(slope.cat([t, t], dim=-1).numpy(), np.concatenate([x, x], -1))
    ints = slope.cat([slope.tensor(np.array([1, 2], i32)), slope.tensor(np.array([0.5], np.float32))]).numpy()
    np.testing.assert_array_equal(ints, [1.0, 2.0, 0.5])
    for d in (0, 1, 3, -1, -4):
        np.testing.assert_array_equal(slope.stack([t, t * 2.0], dim=d).numpy(), np.stack([x, x * 2], d))
    with pytest.raises(slope.ShapeError, match="cat: sizes must match except in dimension 0"):
        slope.cat([t, slope.tensor(y)])
    with pytest.raises(slope.ShapeError, match="stack: expects tensors of equal shape"):
        slope.stack([t, slope.tensor(y)])
    with pytest.raises(slope.ShapeError, match="pad: pad must be an even number"):
        slope.pad(t, (1,))
    with pytest.raises(slope.ShapeError, match="cat: expected a non-empty list"):
        slope.cat([])


def test_split_chunk_narrow():
    x = f32(7, 2)
    t = slope.tensor(x)
    parts = slope.split(t, 3)
    assert [p.shape for p in parts] == [(3, 2), (3, 2), (1, 2)]
    np.testing.assert_array_equal(np.concatenate([p.numpy() for p in parts]), x)
    parts = slope.split(t, [2, 0, 5], dim=0)
    assert [p.shape for p in parts] == [(2, 2), (0, 2), (5, 2)]
    assert [p.shape for p in slope.chunk(t, 3)] == [(3, 2), (3, 2), (1, 2)]
    assert [p.shape for p in slope.chunk(t, 2, dim=1)] == [(7, 1), (7, 1)]
    np.testing.assert_array_equal(slope.narrow(t, 0, -3, 2).numpy(), x[4:6])
    with pytest.raises(slope.ShapeError, match="split: sections"):
        slope.split(t, [3, 3])


def test_take_along_axis_index_select_index_add():
    x = f32(3, 4)
    t = slope.tensor(x)
    idx = np.array([[0, 3], [1, -1], [2, 2]], i32)
    np.testing.assert_array_equal(slope.take_along_axis(t, idx, 1).numpy(), np.take_along_axis(x, idx % 4, 1))
    i0 = np.array([[2, 0, 1, 1]], i32)
    np.testing.assert_array_equal(slope.take_along_axis(t, slope.tensor(i0), 0).numpy(), np.take_along_axis(x, i0, 0))
    np.testing.assert_array_equal(slope.take_along_axis(t, np.array([11, 0]), None).numpy(), x.ravel()[[11, 0]])
    np.testing.assert_array_equal(slope.index_select(t, 1, [3, 0, 0]).numpy(), x[:, [3, 0, 0]])
    np.testing.assert_array_equal(slope.index_select(t, 0, slope.tensor(np.array([2, -3], i32))).numpy(), x[[2, 0]])
    src = f32(3, 3, seed=1)
    want = x.copy()
    np.add.at(want, (slice(None), [1, 3, 1]), 2.0 * src)
    np.testing.assert_allclose(slope.index_add(t, 1, [1, 3, 1], slope.tensor(src), alpha=2.0).numpy(), want, rtol=1e-6)
    g = slope.grad(lambda s: slope.index_add(t, 1, [1, 3, 1], s).sum())(slope.tensor(src))
    np.testing.assert_array_equal(g.numpy(), np.ones_like(src))


def test_user_ops_are_exported_without_private_names():
    for name in ("getitem", "flip", "pad", "cat", "concat", "stack", "split", "chunk", "narrow", "take_along_axis",
                 "index_select", "index_add"):
        assert callable(getattr(slope, name)), name
    assert not hasattr(slope, "_index_tensor") and not hasattr(slope, "_basic_slices")
