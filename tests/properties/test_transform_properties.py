"""Properties of the transformations that no single primitive's check sees.

- a value used several times gets the SUM of its uses' cotangents (not the last one);
- vmap of a jitted function, and jit of a vmapped one, key their caches on in_axes and out_axes;
- a jitted function called again with another dtype (tensors or Python scalars) recompiles for it.
Hypothesis draws the structure (which ops, how many uses, which axes); NumPy is the oracle.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import slope
from slope.testing.tolerances import assert_close

# op name -> (slope function, NumPy derivative): each use of x contributes c * op'(x)
USES = {
    "sin": (slope.sin, np.cos),
    "square": (lambda x: x * x, lambda x: 2 * x),
    "exp": (slope.exp, np.exp),
    "identity": (lambda x: x, np.ones_like),
    "tanh": (slope.tanh, lambda x: 1 - np.tanh(x) ** 2),
}


@settings(max_examples=10)
@given(uses=st.lists(st.tuples(st.sampled_from(sorted(USES)), st.floats(-2, 2, width=32)), min_size=2, max_size=5),
       jit=st.booleans(), data=st.data())
def test_cotangents_of_a_value_used_several_times_are_summed(uses, jit, data):
    x = data.draw(st.lists(st.floats(-1, 1, width=32), min_size=3, max_size=3))
    x = np.asarray(x, np.float32)

    def f(t):
        total = None
        for name, c in uses:
            term = (USES[name][0](t) * c).sum()
            total = term if total is None else total + term
        return total

    grad = slope.grad(f)
    got = (slope.jit(grad) if jit else grad)(slope.tensor(x)).numpy()
    x64 = x.astype(np.float64)
    expected = sum(c * USES[name][1](x64) for name, c in uses)
    assert_close(got, expected, slope.float32, "grad", f"grad of {uses} (jit={jit})")


def _reduce_rows(m):  # f32[n] -> f32[]: different for rows and columns of a non-symmetric matrix
    return (m * slope.arange(m.shape[0], dtype=slope.float32)).sum()


@settings(max_examples=10)
@given(in_axes=st.lists(st.sampled_from([0, 1, -1, -2]), min_size=2, max_size=4),
       out_axes=st.sampled_from([0, 1, -1, -2]), inner_jit=st.booleans())
def test_vmap_and_jit_caches_key_on_in_axes_and_out_axes(in_axes, out_axes, inner_jit):
    """One jitted/vmapped function object, called with several in_axes/out_axes on one input shape:
    every call must follow its own axes, however the calls before it were cached."""
    m = np.arange(12, dtype=np.float32).reshape(3, 4) % 5
    cube = np.arange(24, dtype=np.float32).reshape(2, 3, 4) % 7
    inner = slope.jit(_reduce_rows) if inner_jit else _reduce_rows
    for ax in in_axes:
        got = slope.vmap(inner, in_axes=ax)(slope.tensor(m)).numpy()
        moved = np.moveaxis(m, ax, 0)
        np.testing.assert_allclose(got, (moved * np.arange(moved.shape[1])).sum(1), rtol=1e-6)
    outer = slope.jit(slope.vmap(lambda r: r * 2.0, in_axes=in_axes[0], out_axes=out_axes))
    for ax in (in_axes[0], in_axes[-1]):
        staged = slope.jit(slope.vmap(lambda r: r * 2.0, in_axes=ax, out_axes=out_axes))
        got = staged(slope.tensor(cube)).numpy()
        expected = np.moveaxis(np.moveaxis(cube, ax, 0) * 2.0, 0, out_axes)
        np.testing.assert_array_equal(got, expected)
    got = outer(slope.tensor(cube)).numpy()
    np.testing.assert_array_equal(got, np.moveaxis(np.moveaxis(cube, in_axes[0], 0) * 2.0, 0, out_axes))


@settings(max_examples=10)
@given(order=st.permutations(["float32", "float64", "int32", "int64", "scalar_int", "scalar_float"]))
def test_jit_follows_the_dtype_of_each_call(order):
    f = slope.jit(lambda a, b: a * b + a)
    base = np.array([1.5, -2.0, 3.0])
    for kind in order:
        if kind.startswith("scalar"):
            b = 3 if kind == "scalar_int" else 0.25
            a = slope.tensor(base.astype(np.float32))
            expected = base.astype(np.float32) * np.float32(b) + base.astype(np.float32)
            want_dtype = slope.float32
        else:
            a = slope.tensor(base.astype(kind))
            b = slope.tensor((base * 2).astype(kind))
            expected = (base.astype(kind) * (base * 2).astype(kind) + base.astype(kind))
            want_dtype = slope.dtype(kind)
        out = f(a, b)
        assert out.dtype is want_dtype, (order, kind, out.dtype)
        np.testing.assert_array_equal(out.numpy(), expected.astype(want_dtype.np))


def test_vmap_check_accepts_an_unbatched_output_that_no_member_changes():
    """ops.linalg.matrix_power with n=0 is the identity whatever the input: vmap(out_axes=None) may
    return it unbatched (as JAX does for a value that does not depend on the batch). The check used to
    require a TransformError there (conformance cells ops.linalg.matrix_power-vmap/-float64 failed); it
    still fails an unbatched return of a value that differs between members (the ops table's own cells)."""
    from slope.testing import Example, check_vmap

    x = np.zeros((2, 2), np.float32)
    check_vmap("ops.linalg.matrix_power", Example("float32", [x], {"n": 0}, batch=[[x], [x + 1], [x - 2]]))
