"""Each transformation and their nesting, against NumPy on fixed examples."""
from collections import namedtuple

import numpy as np
import pytest

import slope
from testutil import assert_close


def f_np(a):
    return np.sin(a) * a


def df_np(a):
    return np.cos(a) * a + np.sin(a)


def d2f_np(a):
    return -np.sin(a) * a + 2 * np.cos(a)


def f(x):
    return x.sin() * x


A = np.array([0.3, -1.2, 2.0], np.float32)


def test_jit_forms_and_lowering():
    @slope.jit
    def sq(x):
        return x * x

    x = slope.ones(1)
    assert_close(sq(x), [1.0])
    assert_close(slope.jit(sq.fun)(slope.tensor([3.0])), [9.0])
    lowered = sq.lower(x)
    text = str(lowered.program)
    assert text.splitlines()[0] == "def sq(x0): # [1, f32] -> [1, f32]"
    assert "slope.mul(x0, x0)" in text
    assert "stablehlo.multiply" in lowered.code and "func.func @main" in lowered.code


def test_jit_caches_per_shape_and_dtype():
    calls = []

    @slope.jit
    def g(x):
        calls.append(1)
        return x + 1

    g(slope.ones(2))
    g(slope.ones(2))
    assert len(calls) == 1
    g(slope.ones(3))
    g(slope.ones(2, dtype=slope.float64))
    assert len(calls) == 3


def test_jit_static_argnums_and_pytrees():
    @slope.jit(static_argnums=(1,))
    def g(params, power):
        return {"y": params["a"] ** power + params["b"], "n": None}

    out = g({"a": slope.tensor([2.0]), "b": slope.tensor([1.0])}, 3)
    assert out["n"] is None
    assert_close(out["y"], [9.0])


def test_jit_closure_constant():
    c = slope.tensor([1.0, 2.0])
    assert_close(slope.jit(lambda x: x * c)(slope.ones(2)), [1.0, 2.0])


def test_jvp():
    y, t = slope.jvp(f, (slope.tensor(A),), (slope.ones(3),))
    assert_close(y, f_np(A))
    assert_close(t, df_np(A), rtol=1e-5)


def test_vjp_and_linearize():
    y, f_vjp = slope.vjp(f, slope.tensor(A))
    assert_close(y, f_np(A))
    (ct,) = f_vjp(slope.tensor([1.0, 2.0, 3.0]))
    assert_close(ct, df_np(A) * [1, 2, 3], rtol=1e-5)
    y, f_lin = slope.linearize(f, slope.tensor(A))
    assert_close(f_lin(slope.tensor([1.0, 0.5, 0.0])), df_np(A) * [1, 0.5, 0], rtol=1e-5)


def test_grad_and_value_and_grad():
    g = slope.grad(lambda x: f(x).sum())
    assert_close(g(slope.tensor(A)), df_np(A), rtol=1e-5)
    vg = slope.value_and_grad(lambda x, y: (x * y).sum(), argnums=(0, 1))
    v, (gx, gy) = vg(slope.tensor([1.0, 2.0]), slope.tensor([3.0, 4.0]))
    assert_close(v, 11.0)
    assert_close(gx, [3.0, 4.0])
    assert_close(gy, [1.0, 2.0])
    (v, aux), gr = slope.value_and_grad(lambda x: ((x * x).sum(), x * 2), has_aux=True)(slope.tensor([1.0, 2.0]))
    assert_close(v, 5.0)
    assert_close(aux, [2.0, 4.0])
    assert_close(gr, [2.0, 4.0])
    gr, aux = slope.grad(lambda x: ((x * x).sum(), x.sum()), has_aux=True)(slope.tensor([1.0, 2.0]))
    assert_close(aux, 3.0)


def test_one_element_argnums_tuple_gives_the_bare_gradient():
    """slope's tutorial convention (the original slope's; JAX returns a 1-tuple): argnums=(1,) and
    argnums=1 give the same bare gradient, two or more argnums give a tuple."""
    f3 = lambda x, w, y: ((x @ w - y) ** 2).mean()  # noqa: E731
    x, w, y = slope.tensor([[1.0, 2.0], [3.0, 4.0]]), slope.tensor([[0.5], [-1.0]]), slope.tensor([[1.0], [0.0]])
    expected = 2 * np.array([[1.0, 2.0], [3.0, 4.0]]).T @ (np.array([[-2.5], [-2.5]])) / 2
    for vg in (slope.value_and_grad(f3, argnums=(1,)), slope.jit(slope.value_and_grad(f3, argnums=(1,))),
               slope.value_and_grad(f3, argnums=1)):
        loss, gw = vg(x, w, y)
        assert isinstance(gw, slope.Tensor) and gw.shape == (2, 1)
        assert_close(gw, expected)
        assert_close(loss, 6.25)
    assert isinstance(slope.grad(f3, argnums=(1,))(x, w, y), slope.Tensor)
    gx, gy = slope.grad(f3, argnums=(0, 2))(x, w, y)
    assert gx.shape == (2, 2) and gy.shape == (2, 1)
    gp = slope.grad(lambda p: (p[0] * p[1]).sum(), argnums=(0,))([slope.ones(2), slope.tensor([2.0, 3.0])])
    assert isinstance(gp, list) and len(gp) == 2  # the pytree's gradient itself, not wrapped
    assert_close(gp[0], [2.0, 3.0])


def test_grad_pytree_params():
    Params = namedtuple("Params", ["w", "b"])

    def loss(p, x):
        return ((x @ p.w + p.b) ** 2).sum()

    p = Params(slope.tensor([[1.0], [2.0]]), slope.tensor([0.5]))
    x = slope.tensor([[1.0, 1.0], [2.0, 0.0]])
    g = slope.grad(loss)(p, x)
    assert isinstance(g, Params)
    pred = np.array([[3.5], [2.5]])
    assert_close(g.w, 2 * np.array([[1.0, 1.0], [2.0, 0.0]]).T @ pred, rtol=1e-5)
    assert_close(g.b, [2 * pred.sum()], rtol=1e-5)


def test_vmap_axes():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = slope.tensor(a)
    assert_close(slope.vmap(lambda r: r.sum())(x), a.sum(1))
    assert_close(slope.vmap(lambda c: c.sum(), in_axes=1)(x), a.sum(0))
    assert_close(slope.vmap(lambda r, s: r * s, in_axes=(0, None))(x, slope.tensor(2.0)), a * 2)
    assert_close(slope.vmap(lambda r: r * 2, out_axes=1)(x), (a * 2).T)
    out = slope.vmap(lambda d: {"s": d["u"] + d["v"]}, in_axes=({"u": 0, "v": 1},))(
        {"u": x, "v": slope.tensor(a.T.copy())})
    assert_close(out["s"], 2 * a)
    assert_close(slope.vmap(lambda r: r @ slope.tensor(a.T))(x), a @ a.T)


def test_nesting():
    x = slope.tensor(A)
    loss = lambda x: f(x).sum()  # noqa: E731
    assert_close(slope.jit(slope.grad(loss))(x), df_np(A), rtol=1e-5)
    assert_close(slope.grad(slope.jit(loss))(x), df_np(A), rtol=1e-5)
    assert_close(slope.vmap(slope.grad(lambda s: f(s)))(x), df_np(A), rtol=1e-5)
    assert_close(slope.vmap(slope.jit(f))(x), f_np(A), rtol=1e-6)
    assert_close(slope.jvp(slope.jit(f), (x,), (slope.ones(3),))[1], df_np(A), rtol=1e-5)
    g2 = slope.grad(lambda s: slope.grad(lambda u: f(u))(s))
    assert_close(slope.vmap(g2)(x), d2f_np(A), rtol=1e-4)
    assert_close(slope.jit(slope.vmap(slope.jit(slope.grad(slope.jit(f)))))(x), df_np(A), rtol=1e-5)


def test_jacobians_and_hessian():
    x = slope.tensor(A)
    assert_close(slope.jacfwd(f)(x), np.diag(df_np(A)), rtol=1e-5, atol=1e-6)
    assert_close(slope.jacrev(f)(x), np.diag(df_np(A)), rtol=1e-5, atol=1e-6)
    m = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    lin = lambda v: slope.tensor(m) @ v  # noqa: E731
    assert_close(slope.jacrev(lin)(slope.ones(2)), m)
    assert_close(slope.jacfwd(lin)(slope.ones(2)), m)
    h = slope.hessian(lambda v: (v * v * v).sum())(slope.tensor([1.0, 2.0]))
    assert_close(h, np.diag([6.0, 12.0]))
    quad = lambda v: (v @ slope.tensor(m) @ v)  # noqa: E731
    assert_close(slope.hessian(quad)(slope.tensor([1.0, -1.0])), m + m.T)


def test_float64_grad():
    x = slope.tensor(A.astype(np.float64))
    g = slope.grad(lambda v: f(v).sum())(x)
    assert g.dtype is slope.float64
    assert_close(g, df_np(A.astype(np.float64)), rtol=1e-12)


def test_integer_inputs_pass_through_jvp():
    out, t = slope.jvp(lambda x, i: x * i.astype(slope.float32), (slope.ones(2), slope.arange(2)), (slope.ones(2), slope.zeros(2, dtype=slope.int64)))
    assert_close(t, [0.0, 1.0])


@pytest.mark.parametrize("n", [1, 3])
def test_log_jit_prints_ir_and_stablehlo(n, capfd, monkeypatch):
    monkeypatch.setenv("LOG_JIT", "1")
    fn = slope.jit(lambda x: x * float(n) + 0.5)
    fn(slope.ones(n + 7))
    out = capfd.readouterr().out
    assert "def <lambda>(x0)" in out and "stablehlo.multiply" in out


def test_jit_call_bound_eagerly_checks_its_operands():
    """Regression: lax.jit_call on concrete operands ran the executable without checking them against
    the program's avals, so IREE computed on an f32[3] buffer for an f32[2] program (BackendError)."""
    program = slope.jit(lambda x: x * 2.0).lower(slope.ones(2)).program
    with pytest.raises(slope.ShapeError, match=r"called with f32\[3\], compiled for f32\[2\]"):
        slope.lax.jit_call(slope.ones(3), program=program)
    assert slope.lax.jit_call(slope.ones(2), program=program)[0].tolist() == [2.0, 2.0]
