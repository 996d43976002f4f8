"""The fast dispatch paths give the same results and errors as the general ones.

`slope.jit` calls whose positional args are Tensors (or lists/tuples of them) skip pytree
flattening and `bind` once a signature has been seen (slope/transforms/jit.py); float64
modules are loaded without leaving the runtime's temporary files behind (runtime.py).
"""
import collections
import os

import numpy as np
import pytest

import slope
from slope.backends.iree import runtime, scheduling


def test_jit_fast_path_same_results_and_structure():
    Pair = collections.namedtuple("Pair", "a b")
    c = slope.tensor([10.0, 20.0, 30.0])

    @slope.jit
    def f(params, x):
        w, b = params
        return {"y": x * w + b + c, "n": None}, (w, [b * 2, Pair(x, w)])

    params = [slope.tensor([1.0, 2.0, 3.0]), slope.tensor([0.5, 0.5, 0.5])]
    x = slope.tensor([1.0, -1.0, 2.0])
    first = f(params, x)
    for _ in range(3):  # later calls take the fast path
        out = f(params, x)
        assert slope.tree_structure(out) == slope.tree_structure(first)
        (d, (w, (b2, pair))) = out
        assert d["n"] is None and isinstance(pair, Pair) and isinstance(out[1], tuple) and isinstance(out[1][1], list)
        np.testing.assert_allclose(d["y"].numpy(), [11.5, 18.5, 36.5])
        np.testing.assert_allclose(b2.numpy(), [1.0, 1.0, 1.0])
        np.testing.assert_allclose(pair.a.numpy(), x.numpy())
    assert len(f._fast) == 1


def test_jit_fast_path_new_shapes_and_dtypes_retrace():
    f = slope.jit(lambda x: x * 2)
    np.testing.assert_allclose(f(slope.ones(3)).numpy(), [2, 2, 2])
    np.testing.assert_allclose(f(slope.ones(3)).numpy(), [2, 2, 2])
    np.testing.assert_allclose(f(slope.ones(2)).numpy(), [2, 2])
    assert f(slope.ones(2, dtype=slope.int32)).dtype is slope.int32
    assert f(slope.ones(2, dtype=slope.int32)).numpy().tolist() == [2, 2]


def test_jit_fast_path_keeps_errors():
    f = slope.jit(lambda x, y: x + y)
    x = slope.ones(3)
    f(x, x)
    f(x, x)
    with pytest.raises(slope.TransformError):
        f(x)
    with pytest.raises(slope.TransformError):
        f(x, x, x)
    with pytest.raises(slope.SlopeError):
        f(x, slope.ones(4))


def test_jit_fast_path_under_transformations():
    f = slope.jit(lambda x: (x.sin() * x).sum())
    x = slope.tensor([0.3, -1.2, 2.0])
    f(x)
    f(x)  # fast entry exists; tracers below must still go through the transformations
    g = slope.grad(f)(x)
    np.testing.assert_allclose(g.numpy(), np.sin(x.numpy()) + x.numpy() * np.cos(x.numpy()), rtol=1e-5)
    v = slope.vmap(f)(slope.stack([x, x]))
    np.testing.assert_allclose(v.numpy(), [f(x).item()] * 2, rtol=1e-6)
    outer = slope.jit(lambda y: f(y) * 2)
    np.testing.assert_allclose(outer(x).item(), 2 * f(x).item(), rtol=1e-6)


def test_float64_module_leaves_no_temporary_files():
    x = slope.tensor([0.5, 1.5], dtype=slope.float64)
    np.testing.assert_allclose(x.sin().numpy(), np.sin([0.5, 1.5]), rtol=1e-12)
    np.testing.assert_allclose(x.tanh().numpy(), np.tanh([0.5, 1.5]), rtol=1e-12)
    if runtime._dylib_dir is not None:  # None when every module came linked in-process
        assert os.listdir(runtime._dylib_dir) == []


def test_transposed_dot_lowered_as_swapped_dot():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((5, 4)).astype(np.float32)
    x, y = slope.tensor(a), slope.tensor(b)
    lax = slope.lax
    once = slope.jit(lambda x, y: lax.transpose(lax.dot_general(x, y, contracting_dims=((0,), (0,)),
                                                                batch_dims=((), ())), perm=(1, 0)))
    assert "stablehlo.transpose" not in once.lower(x, y).code
    np.testing.assert_allclose(once(x, y).numpy(), (a.T @ b).T, rtol=1e-5, atol=1e-6)

    def twice(x, y):  # the dot's result has another use: lowered as written
        d = lax.dot_general(x, y, contracting_dims=((0,), (0,)), batch_dims=((), ()))
        return lax.transpose(d, perm=(1, 0)), d

    assert "stablehlo.transpose" in slope.jit(twice).lower(x, y).code
    t, d = slope.jit(twice)(x, y)
    np.testing.assert_allclose(t.numpy(), (a.T @ b).T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d.numpy(), a.T @ b, rtol=1e-5, atol=1e-6)
    g = slope.jit(slope.grad(lambda w: ((x.T @ w) ** 2).sum()))(y)  # backward pass of a matmul
    np.testing.assert_allclose(g.numpy(), 2 * a @ (a.T @ b), rtol=1e-4, atol=1e-5)


def _drive(choice, cost, calls):
    """Feed a _DriverChoice `calls` synthetic calls whose time on each device is cost(driver, n)."""
    used = []
    for _ in range(calls):
        d = choice.next_driver()
        used.append(d)
        if choice.record(d, cost(d, choice.n)) is None:
            return used, None
    return used, choice.current


def test_driver_choice_small_program_stays_on_local_sync():
    used, best = _drive(runtime._DriverChoice(), lambda d, n: 10e-6, 50)
    assert best is None and set(used) == {"local-sync"}


def test_driver_choice_follows_the_faster_device_and_backs_off():
    c = runtime._DriverChoice()
    used, best = _drive(c, lambda d, n: 300e-6 if d == "local-task" else 600e-6, 1000)
    assert best == "local-task" and used[-1] == "local-task"
    assert c.gap >= 16 * runtime._EXPLORE_FIRST  # bursts on local-sync changed nothing: explored less often
    explored = used[20:].count("local-sync")
    assert 0 < explored < 40 and used[-300:].count("local-sync") <= runtime._EXPLORE_BURST
    # the machine gets busy: local-task becomes slow, and the choice moves back to local-sync
    used, best = _drive(c, lambda d, n: 2e-3 if d == "local-task" else 600e-6, 200)
    assert best == "local-sync" and used[-1] == "local-sync"


def test_driver_choice_recovers_soon_from_a_disturbed_probe():
    """The probe's local-task calls ran while another process held a core (as slow as local-sync);
    the first exploring burst, a few dozen calls later, finds local-task twice as fast."""
    c = runtime._DriverChoice()
    probe = 2 * runtime._PROBE_CALLS + 2
    used, best = _drive(c, lambda d, n: 20e-3 if d == "local-sync" or n <= probe else 10e-3, 60)
    assert used[probe:probe + 10] == ["local-sync"] * 10  # the disturbed probe chose local-sync
    assert best == "local-task" and used[-10:] == ["local-task"] * 10


_LINUX_SCHED = hasattr(os, "SCHED_BATCH") and hasattr(os, "sched_setscheduler")


def _policy():
    return os.sched_getscheduler(0)


@pytest.mark.skipif(not _LINUX_SCHED, reason="needs Linux scheduling policies")
def test_caller_waits_as_batch_and_gets_its_policy_back():
    seen = []

    def invoke(fn, args, rets):
        seen.append(_policy())
        if fn == "fail":
            raise RuntimeError("boom")
        return "ok"

    call = scheduling.CallerWaitsAsBatch(invoke)
    if _policy() != os.SCHED_OTHER:
        pytest.skip("the test runs in a thread that is not SCHED_OTHER")
    assert call("f", None, None) == "ok"
    assert seen[-1] == os.SCHED_BATCH and _policy() == os.SCHED_OTHER
    with pytest.raises(RuntimeError):
        call("fail", None, None)
    assert seen[-1] == os.SCHED_BATCH and _policy() == os.SCHED_OTHER  # restored on errors too
    os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))  # a thread the user made batch stays so
    try:
        call("f", None, None)
        assert _policy() == os.SCHED_BATCH
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


@pytest.mark.skipif(not _LINUX_SCHED, reason="needs Linux scheduling policies")
def test_caller_policy_that_cannot_be_set_still_runs_the_call(monkeypatch):
    def refuse(pid, policy, param):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    call = scheduling.CallerWaitsAsBatch(lambda fn, args, rets: fn)
    assert call("ran", None, None) == "ran"


@pytest.mark.skipif(not _LINUX_SCHED, reason="needs Linux scheduling policies")
def test_local_task_calls_leave_the_callers_policy_as_it_was():
    mm = slope.jit(lambda a, b: a @ b)
    a = np.arange(64 * 64, dtype=np.float32).reshape(64, 64) / 4096
    x = slope.tensor(a)
    mm(x, x)
    exe = next(iter(mm._cache.values()))[0]._executable.use_driver("local-task")
    before = _policy()
    np.testing.assert_allclose(mm(x, x).numpy(), a @ a, rtol=1e-5)
    assert isinstance(exe._invoke, scheduling.CallerWaitsAsBatch) == (scheduling.CALLER_SCHED == "batch")
    assert _policy() == before


def test_caller_scheduling_is_opt_in(monkeypatch):
    """A library must not change its caller's scheduling policy unless asked (SLOPE_IREE_CALLER_SCHED=batch)."""
    class Context:
        invoke = staticmethod(lambda fn, args, rets: fn)

    monkeypatch.setattr(scheduling, "CALLER_SCHED", "os")
    assert scheduling.invoker("local-task", Context) is Context.invoke
    monkeypatch.setattr(scheduling, "CALLER_SCHED", "batch")
    assert scheduling.invoker("local-sync", Context) is Context.invoke
    if _LINUX_SCHED:
        assert isinstance(scheduling.invoker("local-task", Context), scheduling.CallerWaitsAsBatch)


def test_eager_elementwise_ops_are_their_route_compiled_once():
    """ops.mul(x, 2) on concrete tensors runs its whole route (promotion, broadcasting, primitive)
    as one cached module: same values, dtypes and errors as NumPy/the route, one compile per
    operand types (not per scalar value), and scalar buffers cached without mixing 0.0 and -0.0."""
    from slope.backends.iree import compile as C

    a = np.array([[1.5, -2.0, 0.0]], np.float32)
    x, xi, xb = slope.tensor(a), slope.tensor(np.array([[1, -2, 3]], np.int32)), slope.tensor([True, False, True])
    np.testing.assert_array_equal((x * 2).numpy(), a * 2)
    before = C.stats["compiles"] + C.stats["disk_hits"]
    for v in (3.0, 0.25, np.float32(7.0), 1e30):
        np.testing.assert_array_equal((x * v).numpy(), a * np.float32(v))
    assert C.stats["compiles"] + C.stats["disk_hits"] == before  # one module for every value
    assert np.signbit((x[0, 2:] * -0.0).numpy()).all() and not np.signbit((x[0, 2:] * 0.0).numpy()).any()
    assert np.isnan((x * float("nan")).numpy()).all()
    cases = [(lambda: 2 - x, 2 - a), (lambda: x / 4, a / 4), (lambda: xi / 2, np.array([[0.5, -1.0, 1.5]], np.float32)),
             (lambda: xi * 0.5, np.array([[0.5, -1.0, 1.5]], np.float32)), (lambda: xb + xb, np.array([True, False, True])),
             (lambda: xb * 2, np.array([2, 0, 2], np.int64)), (lambda: x + slope.ones(2, 1), a + np.ones((2, 1), np.float32)),
             (lambda: x > 0, a > 0), (lambda: xi.exp(), np.exp(np.array([[1, -2, 3]], np.float32))), (lambda: -xi, -np.array([[1, -2, 3]], np.int32))]
    for f, expected in cases:
        got = f().numpy()
        assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    with pytest.raises(slope.ShapeError, match="add: cannot broadcast"):
        x + slope.ones(2)
    with pytest.raises(slope.DTypeError, match="mul: scalar operand 1099511627776 is out of range for int32"):
        xi * 2**40


def test_eager_memo_keys_follow_scalar_types_and_survive_a_misfit_first_call():
    """The memo is keyed by a tensor's aval and a scalar's Python type: a first call whose scalar does
    not fit the dtype raises the route's error without disabling the memo for later fitting values;
    True and 1 (equal as dict keys) keep their own dtypes; a NumPy scalar is its Python scalar."""
    from slope.backends.iree import compile as C

    xi = slope.tensor(np.array([5, -7, 9], np.int16))
    with pytest.raises(slope.DTypeError, match="mul: scalar operand 100000 is out of range for int16"):
        xi * 100000
    np.testing.assert_array_equal((xi * 3).numpy(), np.array([15, -21, 27], np.int16))
    before = C.stats["compiles"] + C.stats["disk_hits"]
    np.testing.assert_array_equal((xi * -2).numpy(), np.array([-10, 14, -18], np.int16))
    assert C.stats["compiles"] + C.stats["disk_hits"] == before
    xb = slope.tensor([True, False])
    assert (xb + True).numpy().dtype == np.bool_ and (xb + 1).numpy().dtype == np.int64
    np.testing.assert_array_equal((xb + 1).numpy(), [2, 1])
    np.testing.assert_array_equal((xb + True).numpy(), [True, True])
    got = np.float16(3.0) * slope.tensor(np.array([1.5], np.float32))
    assert got.dtype == slope.float32 and got.numpy()[0] == 4.5


def test_eager_binary_with_a_cached_scalar_does_no_dtype_work(monkeypatch):
    """Regression (x*2 on 3 elements went 4.2 -> 7.0 us of CPU when the memo moved into ops/eager.py):
    the memo derived the scalar's weak dtype, built its Aval and ran the misfit check (3 str() calls)
    on every call. It is keyed by the scalar's type now: a cached value costs a dict lookup, and a
    value the dtype cannot hold still takes the general route and its error after the memo exists."""
    from slope.core import dtypes as dt

    xi = slope.tensor(np.array([1, -2, 3], np.int32))
    x = slope.tensor(np.array([1.5, -2.0], np.float32))
    np.testing.assert_array_equal((xi * 3).numpy(), [3, -6, 9])
    np.testing.assert_array_equal((3 * xi).numpy(), [3, -6, 9])
    np.testing.assert_array_equal((x - True).numpy(), [0.5, -3.0])
    calls = []
    for name in ("scalar_misfit", "scalar_dtype", "wrapped_dtype"):
        real = getattr(dt, name)
        monkeypatch.setattr(dt, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    for _ in range(3):
        np.testing.assert_array_equal((xi * 3).numpy(), [3, -6, 9])
        np.testing.assert_array_equal((3 * xi).numpy(), [3, -6, 9])
        np.testing.assert_array_equal((x - True).numpy(), [0.5, -3.0])
    assert calls == []
    with pytest.raises(slope.DTypeError, match="mul: scalar operand 1099511627776 is out of range for int32"):
        xi * 2**40
    assert (xi * np.int64(5)).numpy().tolist() == [5, -10, 15]  # a NumPy scalar reads as the Python int
    assert (xi * 2.5).dtype is slope.float32 and (xi * True).dtype is slope.int32


def test_jit_fast_path_takes_pytrees_of_tensors_and_keys_their_structure():
    """Modules, dicts, None and namedtuples take the fast path too (a Llama decode step spent ~45 us per
    call in tree_flatten); a different structure (dict keys, a Module's static attributes, list vs
    tuple) is a different entry, so it never runs a program staged for another structure."""
    import slope.nn as nn

    Pair = collections.namedtuple("Pair", "a b")

    class Scale(nn.Module):
        def __init__(self, w, k):
            super().__init__()
            self.w, self.k = w, k

        def forward(self, x):
            return x * self.w * self.k

    @slope.jit
    def f(m, d, p, nothing, seq):
        assert nothing is None
        return {"y": m(d["x"]) + p.a - p.b + seq[0], "keys": None}

    x = slope.tensor([1.0, 2.0])
    args = (Scale(slope.tensor([3.0, 4.0]), 2.0), {"x": x}, Pair(x, slope.ones(2)), None, [x])
    first = f(*args)
    np.testing.assert_allclose(first["y"].numpy(), [7.0, 19.0])
    assert len(f._fast) == 1
    for _ in range(2):
        out = f(*args)
        assert out["keys"] is None and slope.tree_structure(out) == slope.tree_structure(first)
        np.testing.assert_allclose(out["y"].numpy(), [7.0, 19.0])
    assert len(f._cache) == 1  # the later calls never reached the general path
    np.testing.assert_allclose(f(Scale(args[0].w, 3.0), *args[1:])["y"].numpy(), [10.0, 27.0])  # static attribute
    np.testing.assert_allclose(f(args[0], {"x": x}, args[2], None, (x,))["y"].numpy(), [7.0, 19.0])  # tuple, not list
    with pytest.raises(Exception):
        f(args[0], {"z": x}, *args[2:])  # other keys: the general path traces it (and the function fails)
    assert len(f._cache) == 3 and len(f._fast) == 3
    g = slope.jit(lambda d: d[1] + d[2])
    np.testing.assert_allclose(g({1: x, 2: x}).numpy(), [2.0, 4.0])
    np.testing.assert_allclose(g({1: x, 2: x}).numpy(), [2.0, 4.0])
    h = slope.jit(lambda t, s: t * s)
    np.testing.assert_allclose(h(x, 2.0).numpy(), [2.0, 4.0])  # a Python number: the general path, each call
    np.testing.assert_allclose(h(x, 3.0).numpy(), [3.0, 6.0])
    assert len(h._fast) == 0


def test_vector_times_transposed_weight_reads_the_weight_in_place():
    """`x @ w.T` for one token (a Llama decode step's every projection): matmul does not broadcast a 2-d
    rhs over x's batch dims, the lowering folds the transpose into the dot's dimension numbers, and a
    dot of a vector with rows is emitted as `w @ x` (IREE 3.13 otherwise copied w transposed on every
    call: a decode step's dispatches 63 -> 48, its CPU time 120 -> 107 us). Same values and gradients."""
    rng = np.random.default_rng(0)
    w_np = rng.standard_normal((5, 4)).astype(np.float32)
    w = slope.tensor(w_np)
    for shape in [(1, 1, 4), (1, 4), (4,), (2, 3, 4), (3, 4)]:
        x_np = rng.standard_normal(shape).astype(np.float32)
        x = slope.tensor(x_np)
        f = slope.jit(lambda x, w: x @ w.T)
        code = f.lower(x, w).code
        assert "stablehlo.transpose" not in code and "stablehlo.broadcast_in_dim" not in code, (shape, code)
        np.testing.assert_allclose(f(x, w).numpy(), x_np @ w_np.T, rtol=1e-5, atol=1e-6)
        gx, gw = slope.jit(slope.grad(lambda x, w: ((x @ w.T) ** 2).sum(), argnums=(0, 1)))(x, w)
        y = x_np @ w_np.T
        np.testing.assert_allclose(gx.numpy(), 2 * y @ w_np, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(gw.numpy(), 2 * (y.reshape(-1, 5).T @ x_np.reshape(-1, 4)), rtol=1e-4, atol=1e-5)
    x = slope.tensor(rng.standard_normal((1, 4)).astype(np.float32))
    assert '"stablehlo.dot_general"(%arg1, %arg0)' in slope.jit(lambda x, w: x @ w.T).lower(x, w).code  # w @ x
    v = slope.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    m = slope.tensor(rng.standard_normal((4, 6)).astype(np.float32))
    np.testing.assert_allclose((v @ m).numpy(), v.numpy() @ m.numpy(), rtol=1e-5, atol=1e-6)  # eager, plain 2-d rhs
    np.testing.assert_allclose((v @ slope.tensor(np.ones(4, np.float32))).numpy(), v.numpy().sum(-1), rtol=1e-5)
    # a transposed dot result (lowered as a swapped dot) feeding another dot: not folded (its dot is never emitted)
    a, b, c = [rng.standard_normal(s).astype(np.float32) for s in [(5, 3), (5, 4), (3, 2)]]
    f = slope.jit(lambda a, b, c: (a.T @ b).T @ c)
    np.testing.assert_allclose(f(*map(slope.tensor, (a, b, c))).numpy(), (a.T @ b).T @ c, rtol=1e-5, atol=1e-5)
