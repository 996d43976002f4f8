"""conv: N-d cross-correlation with strides, padding, input/kernel dilation and feature groups.

Layouts are fixed: lhs (N, C, *spatial), rhs (O, I, *kernel), out (N, O, *spatial'), C = G*I, O % G == 0
(XLA ConvGeneralDilated with batch_group_count = 1). conv is bilinear, so both transposes are convs:
- w.r.t. lhs: the output cotangent, dilated by the strides, correlated with the spatially flipped
  kernel whose in/out features are swapped inside each group (stride = lhs_dilation);
- w.r.t. rhs: the input correlated with the output cotangent, with batch and features exchanged so
  that the batch is summed (kernel dilation = window_strides, stride = rhs_dilation).
Lowering: stablehlo.convolution for small convs, im2col + dot_general for big ones (12x faster on IREE
CPU, see IM2COL_MIN_MACS). Kernel flips use the `rev` primitive when one is registered.
"""
from __future__ import annotations

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core.aval import Aval
from slope.core.program import UndefPrimal
from slope.errors import DTypeError, ShapeError
from slope.primitives.rules import moveaxis, zeros_aval
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Verify


def _dilate(n, d):
    return 0 if n == 0 else (n - 1) * d + 1


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _out_spatial(in_sp, k_sp, window_strides, padding, lhs_dilation, rhs_dilation):
    out = []
    for n, k, s, (lo, hi), ld, rd in zip(in_sp, k_sp, window_strides, padding, lhs_dilation, rhs_dilation):
        padded, eff = _dilate(n, ld) + lo + hi, _dilate(k, rd)
        out.append(max(0, (padded - eff) // s + 1) if padded >= eff else 0)
    return tuple(out)


def _conv_rule(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, feature_group_count):
    where = f"conv: lhs {lhs.str_short()}, rhs {rhs.str_short()}"
    if lhs.dtype is not rhs.dtype:
        raise DTypeError(f"{where}: operands must have one dtype")
    if lhs.dtype.is_bool:
        raise DTypeError(f"{where}: bool operands are not supported")
    if lhs.ndim < 3 or lhs.ndim != rhs.ndim:
        raise ShapeError(f"{where}: need lhs (N, C, *spatial) and rhs (O, I, *spatial) of one rank >= 3")
    nsp = lhs.ndim - 2
    for pname, val in [("window_strides", window_strides), ("lhs_dilation", lhs_dilation), ("rhs_dilation", rhs_dilation)]:
        if not isinstance(val, tuple) or len(val) != nsp or not all(_is_int(v) and v >= 1 for v in val):
            raise ShapeError(f"{where}: {pname} must be a tuple of {nsp} positive ints, got {val!r}")
    if (not isinstance(padding, tuple) or len(padding) != nsp
            or not all(isinstance(p, tuple) and len(p) == 2 and all(map(_is_int, p)) for p in padding)):
        raise ShapeError(f"{where}: padding must be a tuple of {nsp} (low, high) int pairs, got {padding!r}")
    g = feature_group_count
    if not _is_int(g) or g < 1:
        raise ShapeError(f"{where}: feature_group_count must be a positive int, got {g!r}")
    (n, c), (o, i) = lhs.shape[:2], rhs.shape[:2]
    if c != g * i or o % g:
        raise ShapeError(f"{where}: with feature_group_count={g} need C = {g} * I and O divisible by {g} "
                         f"(C={c}, I={i}, O={o})")
    for d, (size, (lo, hi), ld) in enumerate(zip(lhs.shape[2:], padding, lhs_dilation)):
        if _dilate(size, ld) + lo + hi < 0:
            raise ShapeError(f"{where}: padding {padding[d]} crops spatial dim {d} below zero")
    sp = _out_spatial(lhs.shape[2:], rhs.shape[2:], window_strides, padding, lhs_dilation, rhs_dilation)
    return [Aval((n, o) + sp, lhs.dtype)]


def _conv(lhs, rhs, **params):
    return lax.conv(lhs, rhs, **params)


def _conv_jvp(primals, tangents, **params):
    (x, w), (tx, tw) = primals, tangents
    return [_conv(x, w, **params)], [lax.add(_conv(tx, w, **params), _conv(x, tw, **params))]


def flip(x, dims):
    """x reversed along dims (the rev primitive; nothing when dims is empty)."""
    return lax.rev(x, dimensions=tuple(dims)) if dims else x


def _regroup(x, g):
    """Swap a kernel's in/out features inside each of its g groups: (G*A, B, *K) -> (G*B, A, *K)."""
    a, b = x.shape[0] // g, x.shape[1]
    k = tuple(x.shape[2:])
    y = lax.reshape(x, shape=(g, a, b) + k)
    y = lax.transpose(y, perm=(0, 2, 1) + tuple(range(3, 3 + len(k))))
    return lax.reshape(y, shape=(g * b, a) + k)


def _transpose_lhs(ct, w, lhs_aval, *, window_strides, padding, lhs_dilation, rhs_dilation, feature_group_count):
    nsp = lhs_aval.ndim - 2
    in_sp, k_sp, out_sp = lhs_aval.shape[2:], w.shape[2:], ct.shape[2:]
    if any(s == 0 for s in out_sp) or lhs_aval.size == 0:
        return zeros_aval(lhs_aval)
    kernel = flip(_regroup(w, feature_group_count), tuple(range(2, 2 + nsp)))
    pads = []
    for n, k, m, s, (lo, _), ld, rd in zip(in_sp, k_sp, out_sp, window_strides, padding, lhs_dilation, rhs_dilation):
        before = _dilate(k, rd) - 1 - lo
        after = _dilate(n, ld) + _dilate(k, rd) - 1 - before - _dilate(m, s)
        pads.append((before, after))
    return _conv(ct, kernel, window_strides=tuple(lhs_dilation), padding=tuple(pads), lhs_dilation=tuple(window_strides),
                 rhs_dilation=tuple(rhs_dilation), feature_group_count=feature_group_count)


def _transpose_rhs(ct, x, rhs_aval, *, window_strides, padding, lhs_dilation, rhs_dilation, feature_group_count):
    g = feature_group_count
    nsp = rhs_aval.ndim - 2
    in_sp, k_sp, out_sp = x.shape[2:], rhs_aval.shape[2:], ct.shape[2:]
    if any(s == 0 for s in out_sp) or x.size == 0:
        return zeros_aval(rhs_aval)
    n, c = x.shape[:2]
    i = c // g
    sp = tuple(range(3, 3 + nsp))
    # lhs' (I, G*N, *S): batch = I, features = (group, sample); rhs' (O, N, *S'): out feature o, in feature n
    xs = lax.reshape(x, shape=(n, g, i) + tuple(in_sp))
    xs = lax.reshape(lax.transpose(xs, perm=(2, 1, 0) + sp), shape=(i, g * n) + tuple(in_sp))
    cs = lax.transpose(ct, perm=(1, 0) + tuple(range(2, 2 + nsp)))
    pads = []
    for size, k, m, s, (lo, _), ld, rd in zip(in_sp, k_sp, out_sp, window_strides, padding, lhs_dilation, rhs_dilation):
        hi = _dilate(k, rd) - 1 + _dilate(m, s) - _dilate(size, ld) - lo
        pads.append((lo, hi))
    out = _conv(xs, cs, window_strides=tuple(rhs_dilation), padding=tuple(pads), lhs_dilation=tuple(lhs_dilation),
                rhs_dilation=tuple(window_strides), feature_group_count=g)  # (I, O, *K)
    return lax.transpose(out, perm=(1, 0) + tuple(range(2, 2 + nsp)))


def _conv_transpose(cts, lhs, rhs, **params):
    ct = cts[0]
    out = [None, None]
    if isinstance(lhs, UndefPrimal):
        assert not isinstance(rhs, UndefPrimal), "conv is bilinear, not linear in both operands at once"
        out[0] = _transpose_lhs(ct, rhs, lhs.aval, **params)
    if isinstance(rhs, UndefPrimal):
        out[1] = _transpose_rhs(ct, lhs, rhs.aval, **params)
    return out


def _conv_vmap(axis_size, args, dims, **params):
    """Fold the vmapped axis into N (lhs only), into O (rhs only) or into the feature groups (both)."""
    (x, w), (dx, dw) = args, dims
    b = axis_size
    g = params["feature_group_count"]
    if dw is None:
        x = moveaxis(x, dx, 0)
        n = x.shape[1]
        out = _conv(lax.reshape(x, shape=(b * n,) + tuple(x.shape[2:])), w, **params)
        return [lax.reshape(out, shape=(b, n) + tuple(out.shape[1:]))], [0]
    w = moveaxis(w, dw, 0)  # (B, O, I, *K)
    o, i, k = w.shape[1], w.shape[2], tuple(w.shape[3:])
    nk = len(k)
    if dx is None:  # kernels (G, B, O/G): each group's output features of every batch member together
        wg = lax.reshape(w, shape=(b, g, o // g, i) + k)
        wg = lax.transpose(wg, perm=(1, 0, 2, 3) + tuple(range(4, 4 + nk)))
        out = _conv(x, lax.reshape(wg, shape=(g * b * (o // g), i) + k), **params)  # (N, G*B*O/G, *S')
        n, sp = out.shape[0], tuple(out.shape[2:])
        out = lax.reshape(out, shape=(n, g, b, o // g) + sp)
        out = lax.transpose(out, perm=(0, 2, 1, 3) + tuple(range(4, 4 + len(sp))))
        return [lax.reshape(out, shape=(n, b, o) + sp)], [1]
    x = moveaxis(x, dx, 1)  # (N, B, C, *S): channel (b, g, i) = group b*G + g
    n, c = x.shape[0], x.shape[2]
    xf = lax.reshape(x, shape=(n, b * c) + tuple(x.shape[3:]))
    wf = lax.reshape(w, shape=(b * o, i) + k)
    out = _conv(xf, wf, **{**params, "feature_group_count": b * g})  # (N, B*O, *S')
    sp = tuple(out.shape[2:])
    return [lax.reshape(out, shape=(n, b, o) + sp)], [1]


# (lhs shape, rhs shape, strides, padding, lhs_dilation, rhs_dilation, groups)
def _conv_edges(dtype):
    """One output position (a window covering the input; a strided one leaving an unread tail), none
    (a kernel wider than the input), an empty batch, a size-1 kernel window; one element in the output,
    the input, the kernel; an empty input with a non-empty (padding-only) output; grouped convs big
    enough for the im2col lowering, with padding, strides and dilations, and with two pieces and one to join."""
    d = np.dtype(dtype.np if hasattr(dtype, "np") else dtype)
    x = np.linspace(-1, 1, 2 * 4, dtype=np.float64).reshape(1, 2, 4).astype(d)
    w = np.linspace(0.5, -0.5, 3 * 2 * 3, dtype=np.float64).reshape(3, 2, 3).astype(d)
    return [([x[:, :, :3], w], _params(1)),
            ([x, w], _params(1, window_strides=(2,))),
            ([np.zeros((0, 2, 4), d), w], _params(1)),
            ([x, w[:, :, :1]], _params(1)),
            ([x[:, :1, :3], w[:1, :1]], _params(1)),  # one output element
            ([x[:, :1, :1], w[:2, :1, :1]], _params(1)),  # one input element
            ([x[:, :1], w[:1, :1, :1]], _params(1)),  # one kernel element
            ([x[:, :, :0], w], _params(1, padding=((2, 1),))),  # an empty input padded to one output position
            ([x[:, :, :2], w], _params(1)),  # a kernel wider than the input: no output position
            # one input feature per group and >= IM2COL_MIN_MACS multiply-adds: the im2col lowering (its
            # weight gradient too, one window per output position), padded unevenly, strided and dilated,
            # every window reading the padding (so none of it is cut off before the lowering)
            ([np.sin(np.arange(2 * 520, dtype=np.float64)).reshape(1, 2, 520).astype(d),
              np.cos(np.arange(16 * 9, dtype=np.float64)).reshape(16, 1, 9).astype(d)],
             _params(1, g=2, window_strides=(2,), padding=((3, 1),), lhs_dilation=(2,), rhs_dilation=(2,))),
            # im2col joining exactly two pieces: a window of 2 over 2,048 positions (and its weight gradient,
            # a window of 2,048 at 2 positions); and one piece: a 1x1 kernel over 1,024 positions
            ([np.sin(np.arange(2 * 2049, dtype=np.float64)).reshape(1, 2, 2049).astype(d),
              np.cos(np.arange(16 * 2, dtype=np.float64)).reshape(16, 1, 2).astype(d)], _params(1, g=2)),
            ([np.sin(np.arange(2 * 1024, dtype=np.float64)).reshape(1, 2, 1024).astype(d),
              np.cos(np.arange(64, dtype=np.float64)).reshape(64, 1, 1).astype(d)], _params(1, g=2))]


def _params(nsp, g=1, **kw):
    p = {"window_strides": (1,) * nsp, "padding": ((0, 0),) * nsp, "lhs_dilation": (1,) * nsp,
         "rhs_dilation": (1,) * nsp, "feature_group_count": g}
    p.update(kw)
    return p


conv = register(Spec(
    name="conv",
    abstract_eval=_conv_rule,
    reference=ref.conv,
    jvp=_conv_jvp,
    transpose=_conv_transpose,
    vmap=_conv_vmap,
    verify=Verify(dtypes=("float32", "float64"), edge_cases=_conv_edges),
    error_inputs=lambda: [
        ErrorInput([np.ones((1, 3, 5), np.float32), np.ones((2, 2, 3), np.float32)], _params(1), ShapeError,
                   "conv: lhs f32\\[1,3,5\\], rhs f32\\[2,2,3\\]: with feature_group_count=1 need C = 1 \\* I"),
        ErrorInput([np.ones((1, 2, 5), np.float32), np.ones((2, 2, 3), np.float64)], _params(1), DTypeError,
                   "conv: .* operands must have one dtype"),
        ErrorInput([np.ones((1, 2, 5), np.float32), np.ones((2, 2, 3, 3), np.float32)], _params(1), ShapeError,
                   "conv: .* need lhs \\(N, C, \\*spatial\\)"),
        ErrorInput([np.ones((1, 2, 5), np.float32), np.ones((2, 2, 3), np.float32)], _params(1, window_strides=(0,)),
                   ShapeError, "conv: .* window_strides must be a tuple of 1 positive ints"),
        ErrorInput([np.ones((1, 2, 5), bool), np.ones((2, 2, 3), bool)], _params(1), DTypeError,
                   "conv: lhs bool\\[1,2,5\\], rhs bool\\[2,2,3\\]: bool operands are not supported"),
        ErrorInput([np.ones((1, 2, 5), np.float32), np.ones((2, 2, 3), np.float32)], _params(1, padding=((0, 0, 0),)),
                   ShapeError, "conv: .* padding must be a tuple of 1 \\(low, high\\) int pairs"),
        ErrorInput([np.ones((1, 2, 5), np.float32), np.ones((2, 2, 3), np.float32)], _params(1, feature_group_count=0),
                   ShapeError, "conv: .* feature_group_count must be a positive int, got 0"),
        ErrorInput([np.ones((1, 2, 5), np.float32), np.ones((2, 2, 3), np.float32)], _params(1, padding=((-3, -3),)),
                   ShapeError, "conv: .* padding \\(-3, -3\\) crops spatial dim 0 below zero"),
    ],
    doc="N-d cross-correlation lhs (N,C,*S) * rhs (O,I,*K) -> (N,O,*S') with strides, low/high padding (negative "
        "crops), lhs/rhs dilation and feature groups (XLA ConvGeneralDilated)",
))
