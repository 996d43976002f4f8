"""Regressions found by the whole-program fuzzer (slope.testing.programs), each shrunk to a few ops.

Every test runs a small program under slope.jit (where IREE fuses the ops together) and compares
with NumPy (slope.reference); the eager path compiles each op alone and was right all along.
"""
import numpy as np
import pytest

import slope
from slope import lax
from slope import reference as ref

# ---------------------------------------------------------------- strided slices (pitfall 22)
# A slice strided along its innermost non-unit dim, then a reverse or a reverse scan (a
# reduce_window padded at the high end), failed to compile on IREE 3.13: "LLVM Translation failed
# for operation: builtin.unrealized_conversion_cast" (docs/stablehlo-notes.md pitfall 22).

SLICES = {  # name: (input shape, start, limit, strides)
    "2x2_strides_2_2": ((4, 4), (0, 0), (4, 4), (2, 2)),
    "last_dim_stride_3": ((4, 6), (0, 1), (4, 6), (1, 3)),
    "stride_before_a_unit_dim": ((4, 4, 1), (1, 3, 0), (4, 4, 1), (2, 3, 1)),
    "unit_last_dim_of_the_result": ((4, 4), (0, 0), (4, 1), (2, 1)),
}
CONSUMERS = {  # name: (slope op, NumPy op) on a 2-d or 3-d value
    "rev": (lambda v: lax.rev(v, dimensions=(0,)), lambda v: ref.rev(v, dimensions=(0,))),
    "cumsum_reverse": (lambda v: lax.cumsum(v, axis=0, reverse=True), lambda v: ref.cumsum(v, axis=0, reverse=True)),
    "cumprod_reverse": (lambda v: lax.cumprod(v, axis=v.ndim - 1, reverse=True),
                        lambda v: ref.cumprod(v, axis=v.ndim - 1, reverse=True)),
    "cummax_reverse": (lambda v: lax.cummax(v, axis=0, reverse=True), lambda v: ref.cummax(v, axis=0, reverse=True)),
}


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
def test_strided_slice_then_reverse_or_reverse_scan(consumer):
    op, np_op = CONSUMERS[consumer]
    rng = np.random.default_rng(0)
    xs = {name: rng.uniform(-2, 2, shape).astype(np.float32) for name, (shape, *_ ) in SLICES.items()}

    def run(*vs):
        return [op(lax.slice(v, start_indices=a, limit_indices=b, strides=s))
                for v, (_, a, b, s) in zip(vs, SLICES.values())]

    got = slope.jit(run)(*[slope.tensor(x) for x in xs.values()])
    for (name, (_, a, b, s)), x, g in zip(SLICES.items(), xs.values(), got):
        want = np_op(ref.slice(x, start_indices=a, limit_indices=b, strides=s))
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-6, err_msg=name)


def test_fuzzer_repro_slice_then_cumprod():
    """The fuzzer's shrunk program, verbatim."""
    x = np.arange(16, dtype=np.float32).reshape(4, 4) / 8 - 1

    def f(v):
        v4 = lax.slice(v, start_indices=(0, 0), limit_indices=(4, 4), strides=(3, 2))
        return lax.cumprod(v4, axis=0, reverse=True)

    want = ref.cumprod(ref.slice(x, start_indices=(0, 0), limit_indices=(4, 4), strides=(3, 2)), axis=0, reverse=True)
    np.testing.assert_allclose(slope.jit(f)(slope.tensor(x)).numpy(), want, rtol=1e-6)


# ---------------------------------------------------------------- scatters into constants (pitfall 23)
# A scatter_add whose operand is a constant (a zeros `full`, an iota) accumulated across calls of the
# jitted function: IREE 3.13 ran the scatter in place on the constant's storage once slope's scatter
# lowering had padded it (sentinel row) and fenced the pad (docs/stablehlo-notes.md pitfall 23).
# Every jitted gradient of a gather (scatter_add into zeros) was affected: found by the fuzzer as
# a gradient of transpose + gather that was 2x, then 3x the truth as the shrinker re-ran it.


def _three_calls(f, *args):
    j = slope.jit(f)
    return [np.asarray(j(*args).numpy()) for _ in range(3)]


@pytest.mark.parametrize("operand", ["zeros", "iota"])
def test_jitted_scatter_add_into_a_constant_is_the_same_every_call(operand):
    idx = slope.tensor(np.array([[1], [3]], np.int32))
    u = slope.tensor(np.array([1.0, 2.0], np.float32))

    def make():
        if operand == "zeros":
            return lax.full(shape=(4,), value=0.0, dtype=slope.float32)
        return lax.iota(shape=(4,), dimension=0, dtype=slope.float32)

    want = ref.scatter_add(np.zeros(4, np.float32) if operand == "zeros" else np.arange(4, dtype=np.float32),
                           np.array([[1], [3]]), np.array([1.0, 2.0], np.float32))
    for k, got in enumerate(_three_calls(lambda i, v: lax.scatter_add(make(), i, v), idx, u)):
        np.testing.assert_array_equal(got, want, err_msg=f"call {k + 1}")


def test_jitted_gradient_of_a_gather_is_the_same_every_call():
    """The fuzzer's shrunk program: d/dx sum(w * gather(transpose(x), [[0, 2, 0]]))."""
    x = np.arange(8, dtype=np.float32).reshape(2, 1, 4)
    idx = np.array([[0, 2, 0]], np.int32)
    w = np.float32(0.25)

    def loss(v):
        g = lax.gather(lax.transpose(v, perm=(0, 2, 1)), slope.tensor(idx))
        return lax.reduce_sum(lax.mul(g, lax.full(shape=(1,), value=float(w), dtype=slope.float32)), axes=(0,))

    want = np.zeros_like(x)
    want[0, 0, 2] = w
    for k, got in enumerate(_three_calls(slope.grad(loss), slope.tensor(x))):
        np.testing.assert_array_equal(got, want, err_msg=f"call {k + 1}")
