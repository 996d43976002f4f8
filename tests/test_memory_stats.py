"""slope.memory_stats(): live tensors, their device buffers and bytes; training loops hold a constant
number of them from step to step (nothing accumulates per call)."""
import gc

import numpy as np

import slope
import slope.nn as nn
import slope.nn.functional as F


def _live():
    gc.collect()
    s = slope.memory_stats()
    return s["tensors"], s["buffers"], s["bytes"]


def test_memory_stats_counts_live_tensors_and_their_bytes():
    t0, b0, n0 = _live()
    x = slope.tensor(np.ones((3, 5), np.float32))
    y = slope.arange(7, dtype=slope.int64)
    h = slope.ones(100, dtype=slope.float16)  # > 64 elements: eager `full` shares only small constants
    assert _live() == (t0 + 3, b0 + 3, n0 + 60 + 56 + 200)
    del y
    assert _live() == (t0 + 2, b0 + 2, n0 + 60 + 200)
    del x, h
    assert _live() == (t0, b0, n0)
    s = slope.memory_stats()
    assert s["rss_bytes"] > 0 and s["peak_rss_bytes"] >= s["rss_bytes"] // 2


class _MLP(nn.Module):
    def __init__(self, key):
        super().__init__()
        k1, k2 = slope.random.split(key)
        self.l1, self.l2 = nn.Linear(6, 8, key=k1), nn.Linear(8, 3, key=k2)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))


def test_jitted_training_loop_holds_the_same_live_buffers_every_step():
    rng = np.random.default_rng(0)
    x = slope.tensor(rng.standard_normal((5, 6)).astype(np.float32))
    y = slope.tensor(rng.integers(0, 3, 5))
    model = _MLP(slope.random.key(0))
    opt = slope.optim.AdamW(lr=1e-2)
    state = opt.init(model)

    @slope.jit
    def step(model, state, x, y):
        loss, grads = slope.value_and_grad(lambda m: F.cross_entropy(m(x), y))(model)
        model, state = opt.update(model, grads, state)
        return model, state, loss

    seen = []
    for i in range(40):
        model, state, loss = step(model, state, x, y)
        if i in (2, 20, 39):
            seen.append(_live())
    assert seen[0] == seen[1] == seen[2], seen
    assert float(loss) < 1.2  # it trained (cross-entropy of 3 classes starts near ln 3)


def test_eager_loop_holds_the_same_live_buffers_every_step():
    w, t = slope.zeros(16), slope.ones(16)
    seen = []
    for i in range(60):
        w = w - 0.1 * (w - t)
        if i in (2, 59):
            seen.append(_live())
    assert seen[0] == seen[1]
    np.testing.assert_allclose(w.numpy(), 1 - 0.9 ** 60, rtol=1e-5)


def test_eager_reshapes_are_views_of_one_buffer():
    """Eager reshape, squeeze and expand_dims compile nothing and copy nothing: the result is a view of its operand's
    buffer, counted once by memory_stats; the data reads back right through each view."""
    from slope import lax
    from slope.backends.iree import compile as C

    data = np.arange(24, dtype=np.float32) + 0.5
    before_tensors, before_buffers, before_bytes = _live()
    x = slope.tensor(data)
    compiles = C.stats["compiles"] + C.stats["disk_hits"]
    views = [x.reshape(2, 3, 4), lax.expand_dims(x, dimensions=(0, 2)), lax.squeeze(x.reshape(1, 24, 1), dimensions=(0, 2))]
    assert C.stats["compiles"] + C.stats["disk_hits"] == compiles
    tensors, buffers, nbytes = _live()
    assert (tensors - before_tensors, buffers - before_buffers, nbytes - before_bytes) == (4, 1, 96)
    for v, want in zip(views, [data.reshape(2, 3, 4), data.reshape(1, 24, 1), data]):
        assert v.shape == want.shape
        np.testing.assert_array_equal(v.numpy(), want)
    np.testing.assert_array_equal((views[0] * 2).sum(2).numpy(), (data.reshape(2, 3, 4) * 2).sum(2))
