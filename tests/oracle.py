"""One check for a user-level op against its NumPy oracle: eager, jit, gradient (float64, against
central differences of the NumPy function) and vmap (against stacking per-slice NumPy results).

    check(lambda x: slope.roll(x, 1, 0), lambda x: np.roll(x, 1, 0), f32(3, 4))

`fn` takes slope tensors, `ref` the same NumPy arrays; both may return a tensor/array or a tuple of
them. Float arguments are differentiated (float64 on IREE); `grad=False` skips that, `vmap=False`
skips batching the first argument.
"""
import numpy as np

import slope


def f32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _leaves(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _np(out):
    return [np.asarray(o.numpy() if hasattr(o, "numpy") else o) for o in _leaves(out)]


def assert_same(actual, expected, rtol=1e-5, atol=1e-6, exact=False):
    actual, expected = _np(actual), _np(expected)
    assert len(actual) == len(expected), (len(actual), len(expected))
    for a, e in zip(actual, expected):
        assert a.shape == e.shape, (a.shape, e.shape)
        if exact or not np.issubdtype(e.dtype, np.floating):
            np.testing.assert_array_equal(a, e.astype(a.dtype) if a.dtype != e.dtype else e)
        else:
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def numeric_grad(ref, args, i, weights, eps=1e-6):
    """d/d args[i] of sum_k <ref(*args)_k, weights_k> by central differences in float64."""
    x = args[i].astype(np.float64)
    g = np.zeros_like(x)

    def loss(v):
        a = list(args)
        a[i] = v
        return sum(float(np.sum(np.asarray(o, np.float64) * w)) for o, w in zip(_leaves(ref(*a)), weights))

    flat, gflat = x.reshape(-1), g.reshape(-1)
    for j in range(flat.size):
        p, m = flat.copy(), flat.copy()
        p[j] += eps
        m[j] -= eps
        gflat[j] = (loss(p.reshape(x.shape)) - loss(m.reshape(x.shape))) / (2 * eps)
    return g


def check(fn, ref, *args, grad=True, vmap=True, rtol=1e-5, atol=1e-6, grad_rtol=1e-5, grad_atol=1e-6,
          eager=True, exact=False):
    expected = ref(*args)
    if eager:
        assert_same(fn(*[slope.tensor(a) for a in args]), expected, rtol, atol, exact)
    assert_same(slope.jit(fn)(*[slope.tensor(a) for a in args]), expected, rtol, atol, exact)
    floats = [i for i, a in enumerate(args) if np.issubdtype(np.asarray(a).dtype, np.floating)]
    if grad and floats:
        a64 = [np.asarray(a, np.float64) if i in floats else np.asarray(a) for i, a in enumerate(args)]
        outs = _leaves(ref(*a64))
        rng = np.random.default_rng(1)
        weights = [rng.standard_normal(np.shape(o)) for o in outs]

        def loss(*xs):
            return sum((o * slope.tensor(w)).sum() for o, w in zip(_leaves(fn(*xs)), weights)
                       if o.dtype.is_float)

        grads = slope.jit(slope.grad(loss, argnums=tuple(floats)))(*[slope.tensor(a) for a in a64])
        grads = grads if isinstance(grads, tuple) else (grads,)
        for i, g in zip(floats, grads):
            fweights = [w if np.issubdtype(np.asarray(o).dtype, np.floating) else np.zeros_like(w)
                        for o, w in zip(outs, weights)]
            np.testing.assert_allclose(g.numpy(), numeric_grad(ref, a64, i, fweights), rtol=grad_rtol,
                                       atol=grad_atol)
    if vmap:
        first = np.asarray(args[0])
        batch = np.stack([first, *[np.asarray(np.random.default_rng(s).permutation(first.reshape(-1))
                                              .reshape(first.shape)) for s in (2, 3)]])
        rest = [slope.tensor(a) for a in args[1:]]
        got = slope.jit(slope.vmap(lambda b, *r: fn(b, *r), in_axes=(0,) + (None,) * len(rest)))(
            slope.tensor(batch), *rest)
        per = [_np(ref(b, *args[1:])) for b in batch]
        assert_same(got, [np.stack([p[k] for p in per]) for k in range(len(per[0]))], rtol, atol, exact)
