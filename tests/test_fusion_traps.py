"""Valid StableHLO that IREE 3.13 rejects (issue 12): slope lowers each class to a form IREE compiles.

A. A product of broadcasts (an outer-product dot_general, an expand then multiply) summed over two or
   more axes: IREE turns the fused multiply + add-reduction into a vector.contract it cannot build
   ("'vector.contract' op invalid accumulator/result vector shape"). slope sums one axis at a time.
B. A conv whose windows leave part of the input (or of the high padding) unread, with one output
   position: "'linalg.generic' op inferred input/output operand ... shape", even eagerly. slope cuts
   the unread tail off first.
C. A gather of a slice strided along its last dim (x[..., ::2], or a strided slice of an interior pad),
   directly or through a transpose: "LLVM Translation failed for operation:
   builtin.unrealized_conversion_cast". slope fences every gather operand with an optimization_barrier.

docs/stablehlo-notes.md §0 (pitfalls 17-19) lists them; §7, §12 and §13 have the minimal StableHLO.
Each class is one program bilinear in (left args, right args), run in float32 and float64: eagerly,
then in ONE slope.jit module: value, grad, vmap (all args batched; left args only) and grad of grad.
The data are small integers, so every sum is exact and NumPy (float64) is the truth.
"""
import functools
import operator

import numpy as np
import pytest

import slope
from slope import lax
from slope.reference import conv as conv_ref
from testutil import assert_close

DTYPES = [np.float32, np.float64]


def _data(rng, shape, dtype):
    return rng.integers(-3, 4, size=shape).astype(dtype)


def _grad_np(fn, args, i):
    """The gradient of a NumPy function affine in args[i] (exact: differences at the unit tensors)."""
    def at(value):
        return fn(*args[:i], value, *args[i + 1:])

    base, g = at(np.zeros_like(args[i])), np.zeros(args[i].shape)
    for j in np.ndindex(args[i].shape):
        unit = np.zeros_like(args[i])
        unit[j] = 1
        g[j] = at(unit) - base
    return g


def _total(terms):
    return functools.reduce(operator.add, terms)


def check_bilinear(f, f_np, left, right, dtype, rng):
    """f(*left_args, *right_args) -> tuple of tensors, bilinear in the two groups; f_np its NumPy twin."""
    n, shapes = len(left), list(left) + list(right)
    args = [_data(rng, s, dtype) for s in shapes]
    outs = f_np(*args)
    weights = [_data(rng, o.shape, dtype) for o in outs]

    def loss(*xs):
        return _total([(slope.tensor(w) * o).sum() for w, o in zip(weights, f(*xs))])

    def loss_np(*xs):
        return sum(float(np.sum(w.astype(np.float64) * o)) for w, o in zip(weights, f_np(*xs)))

    everything = tuple(range(len(args)))
    grads = [_grad_np(loss_np, args, i) for i in everything]
    batched = [_data(rng, (2, *s), dtype) for s in shapes]
    per_slice = [f_np(*[b[k] for b in batched]) for k in range(2)]
    per_left = [f_np(*[b[k] for b in batched[:n]], *args[n:]) for k in range(2)]
    v = [_data(rng, s, dtype) for s in left]
    # <grad_left L, v> = L(v, right) for bilinear L, so grad of grad is grad_right L(v, right)
    grad_grad = [_grad_np(lambda *r: loss_np(*v, *r), args[n:], j) for j in range(len(right))]

    def check_value(got):
        assert len(got) == len(outs)
        for g, e in zip(got, outs):
            assert g.dtype == slope.tensor(e).dtype
            assert_close(g.numpy(), e)

    def check_grads(got, want):
        assert len(got) == len(want)
        for g, e in zip(got, want):
            assert_close(g.numpy(), e)

    check_value(f(*map(slope.tensor, args)))  # eagerly: each primitive compiled on its own

    def staged(*xs):
        a, b, w = xs[:len(args)], xs[len(args):2 * len(args)], xs[2 * len(args):]

        def inner(*r):
            g = slope.grad(loss, argnums=tuple(range(n)))(*a[:n], *r)
            return _total([(gi * wi).sum() for gi, wi in zip(g, w)])

        return (f(*a), slope.grad(loss, argnums=everything)(*a), slope.vmap(f)(*b),
                slope.vmap(f, in_axes=(0,) * n + (None,) * len(right))(*b[:n], *a[n:]),
                slope.grad(inner, argnums=tuple(range(len(right))))(*a[n:]))

    value, grad, vm, vm_left, gg = slope.jit(staged)(*map(slope.tensor, args + batched + v))
    check_value(value)
    check_grads(grad, grads)
    check_grads(vm, [np.stack([p[k] for p in per_slice]) for k in range(len(outs))])
    check_grads(vm_left, [np.stack([p[k] for p in per_left]) for k in range(len(outs))])
    check_grads(gg, grad_grad)


# ---------------------------------------------------------------- A: products of broadcasts, summed over 2+ axes


def _products(a, x, p, b, y, q):
    no = ((), ())
    outer = lax.dot_general(a, b, contracting_dims=no, batch_dims=no).sum(dim=(0, 1, 2))  # [5,3,4,5] -> [5]
    expanded = (x.reshape(3, 1, 1).expand(3, 4, 5) * y).sum(dim=(1, 2))  # expand, then multiply: [3]
    batched = lax.dot_general(p, q, contracting_dims=no, batch_dims=((0,), (0,))).sum(dim=(1, 3))  # [2,5,3,4] -> [2,3]
    return outer, expanded, batched


def _products_np(a, x, p, b, y, q):
    return (np.einsum("ij,kl->l", a, b), x * 4 * y.sum(), np.einsum("nij,nk->nj", p, q))


@pytest.mark.parametrize("dtype", DTYPES)
def test_products_of_broadcasts_summed_over_several_axes(dtype, rng):
    check_bilinear(_products, _products_np, [(5, 3), (3,), (2, 5, 3)], [(4, 5), (5,), (2, 4)], dtype, rng)


def test_multi_axis_sums_are_lowered_one_axis_at_a_time():
    from slope.backends.iree.lowering import lower_primitive
    from slope.primitives import REGISTRY

    spec = REGISTRY["reduce_sum"]
    avals = [slope.Aval((2, 3, 4), slope.float32)]
    text = lower_primitive(spec, avals, spec.abstract_eval(*avals, axes=(0, 2)), {"axes": (0, 2)})
    assert text.count('"stablehlo.reduce"') == 2 and "dimensions = array<i64: 2>" in text


# ---------------------------------------------------------------- B: conv windows that leave an input tail unread

_CONVS = [  # (lhs, rhs, strides, padding, lhs_dilation, rhs_dilation, groups): one output position, a tail unread
    ((2, 1, 4), (2, 1, 3), (2,), ((0, 0),), (1,), (1,), 1),  # length 4, kernel 3, stride 2: element 3 unread
    ((2, 2, 5, 4), (3, 2, 3, 2), (3, 2), ((0, 0), (1, 0)), (1, 1), (1, 1), 1),  # 2-d: rows 3-4 unread (out 1x2)
    ((1, 2, 6), (2, 1, 2), (4,), ((0, 0),), (1,), (2,), 2),  # dilated kernel spans 3 of 6, feature groups
    ((1, 2, 3), (2, 2, 6), (3,), ((1, 2),), (2,), (1,), 1),  # dilated input; the unread tail is high padding
]


def _conv_params(case):
    _, _, s, p, ld, rd, g = case
    return dict(window_strides=s, padding=p, lhs_dilation=ld, rhs_dilation=rd, feature_group_count=g)


def _convs(*xs):
    n = len(_CONVS)
    return tuple(lax.conv(x, w, **_conv_params(c)) for x, w, c in zip(xs[:n], xs[n:], _CONVS))


def _convs_np(*xs):
    n = len(_CONVS)
    return tuple(conv_ref(x, w, **_conv_params(c)) for x, w, c in zip(xs[:n], xs[n:], _CONVS))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_with_an_unread_input_tail(dtype, rng):
    check_bilinear(_convs, _convs_np, [c[0] for c in _CONVS], [c[1] for c in _CONVS], dtype, rng)


# ---------------------------------------------------------------- C: gathers of strided slices

_ROWS = np.array([1, 0])
_IDX = np.array([[2], [0], [1], [2]], np.int32)


def _gathers(x, z, y1, y2, y3, y4):
    zero = lax.full(shape=(), value=0, dtype=x.dtype)
    interior = lax.pad(x, zero, low=(0, 0, 0), high=(0, 0, 0), interior=(0, 0, 2))[:, :, ::2]  # [3,4,7]
    return (x[:, :, ::2][_ROWS] * y1, lax.gather(x[:, :, ::2], slope.tensor(_IDX)) * y2,
            z[::2].index_select(1, slope.tensor(_ROWS.astype(np.int32))) * y3,
            lax.gather(interior, slope.tensor(_IDX)) * y4)


def _gathers_np(x, z, y1, y2, y3, y4):
    padded = np.zeros((3, 4, 13), x.dtype)
    padded[:, :, ::3] = x
    return (x[:, :, ::2][_ROWS] * y1, x[:, :, ::2][_IDX[:, 0]] * y2, z[::2][:, _ROWS] * y3,
            padded[:, :, ::2][_IDX[:, 0]] * y4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_of_a_strided_slice(dtype, rng):
    check_bilinear(_gathers, _gathers_np, [(3, 4, 5), (6, 4)], [(2, 4, 3), (4, 4, 3), (3, 2), (4, 4, 7)], dtype, rng)
