"""StableHLO forms IREE 3.13 runs far slower than equivalent ones (docs/stablehlo-notes.md): slope's ops emit
the fast form. Times are compared within one process against a program of the same size, with a wide margin
(the slow forms are 10x-20x off), so a busy machine does not flip the result."""
import time

import numpy as np
import pytest

import slope


def _median_time(f, x, n=7):
    f(x).numpy()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f(x).numpy()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def test_softmax_is_not_the_slow_divide_last_chain():
    """Pitfall 29: exp(x - max) / sum over rows of 1500 ran 12x-20x slower than its own reductions (360 ms vs
    30 ms for 1500 x 1500); slope's softmax multiplies by the reciprocal of the sum."""
    x = slope.tensor(np.random.default_rng(0).standard_normal((1500, 1500)).astype(np.float32))
    softmax = slope.jit(lambda x: x.softmax(-1))
    pieces = slope.jit(lambda x: ((x - x.amax(-1, keepdim=True)).exp().sum(-1), x.exp()))
    got = np.asarray(softmax(x))
    want = np.exp(np.asarray(x) - np.asarray(x).max(-1, keepdims=True))
    assert np.abs(got - want / want.sum(-1, keepdims=True)).max() <= 1e-7
    ratio = _median_time(softmax, x) / _median_time(lambda x: pieces(x)[0], x)
    assert ratio < 8, f"softmax took {ratio:.1f}x the time of its reductions and exponentials"


def test_whisper_head_pads_a_single_row():
    """Pitfall 30: a (1, 384) x (384, 51865) product ran ~3x slower than the same product with 4 rows (75 ms
    vs 25 ms); Whisper's output_logits pads its rows to 4, so one row costs about what four do."""
    from slope.models.whisper.model import output_logits
    rng = np.random.default_rng(1)
    w = slope.tensor((0.02 * rng.standard_normal((51865, 384))).astype(np.float32))
    one = slope.tensor(rng.standard_normal((1, 1, 384)).astype(np.float32))
    four = slope.tensor(rng.standard_normal((4, 1, 384)).astype(np.float32))
    head = slope.jit(output_logits)
    plain = slope.jit(lambda x, w: x.reshape(-1, 384) @ w.T)
    got = np.asarray(head(one, w))
    assert got.shape == (1, 1, 51865)
    assert np.abs(got[0, 0] - np.asarray(w) @ np.asarray(one)[0, 0]).max() <= 1e-4
    ratio = _median_time(lambda x: head(x, w), one) / _median_time(lambda x: plain(x, w), four)
    assert ratio < 2, f"the 1-row head took {ratio:.1f}x the time of a 4-row product"


def test_eigh_and_svd_sweeps_are_a_loop_not_unrolled():
    """The 10 Jacobi sweeps are one stablehlo.while (body: one sweep): unrolled, a 5x5 eigh was 573,000
    characters of StableHLO and took 3x longer to compile (and the eigh/svd rows most of the suite's cold
    compile). The loop computes what the unrolled sweeps did: compared with jacobi_eigh traced eagerly."""
    from slope.primitives import decomp

    a = np.random.default_rng(0).standard_normal((5, 5)).astype(np.float32)
    a = a + a.T
    for f in (lambda m: slope.linalg.eigh(m), lambda m: slope.linalg.svd(m[:, :3])):
        code = slope.jit(f).lower(slope.tensor(a)).code
        assert code.count('"stablehlo.while"') == 1 and len(code) < 150_000
    w, V = slope.jit(lambda m: slope.linalg.eigh(m))(slope.tensor(a))
    w_unrolled, V_unrolled = decomp.jacobi_eigh(slope.tensor(a))  # eager: the sweeps one after the other
    np.testing.assert_allclose(np.asarray(w), np.asarray(w_unrolled), rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(V), np.asarray(V_unrolled), rtol=0, atol=1e-5)


@pytest.mark.parametrize("n", [1, 7, 100, 250])
def test_iterating_a_tensor_compiles_a_few_programs_not_two_per_row(n):
    """`for row in x` took a slice and a squeeze per row, each compiled for its index: iterating over
    random.split(key, 200) compiled 400 programs (88 s cold). Rows now come from one program per chunk of
    ops.layout.ITER_CHUNK rows (the chunk taken by a dynamic_slice with an operand start)."""
    from slope.backends.iree import compile as iree_compile

    a = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3) + 0.5 * n  # shapes no other test iterates
    x = slope.tensor(a)
    before = iree_compile.stats["compiles"] + iree_compile.stats["disk_hits"] + iree_compile.stats["memory_hits"]
    got = [r.numpy() for r in x]
    after = iree_compile.stats["compiles"] + iree_compile.stats["disk_hits"] + iree_compile.stats["memory_hits"]
    assert len(got) == n and all(g.shape == (2, 3) and np.array_equal(g, a[i]) for i, g in enumerate(got))
    assert after - before <= 3, f"{after - before} programs for {n} rows"


def test_iterating_split_keys_and_a_0d_tensor():
    keys = slope.random.split(slope.random.key(0), 3)
    assert [k.numpy().tolist() for k in keys] == keys.numpy().tolist()
    with pytest.raises(TypeError, match="0-d tensor has no length"):
        iter(slope.tensor(1.0))
