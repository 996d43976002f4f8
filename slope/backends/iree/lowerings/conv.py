"""Lowering of conv: stablehlo.convolution channels last, or im2col + dot_general where IREE's convolution is slow."""
from __future__ import annotations

import itertools

import numpy as np

from slope import lax
from slope.backends.iree.emitter import dense_attr, lowering
from slope.backends.iree.lowering import lower_fn
from slope.core.aval import Aval
from slope.primitives.conv import _dilate


# IREE 3.13's stablehlo.convolution is fast on CPU only in one layout: input (N, *S, C), kernel
# (*K, I, O) (linalg's conv_2d_nhwc_hwcf). A (32,16,8,8) x (32,16,3,3) conv took 8.6 ms in NCHW/OIHW,
# 5.8 ms in NHWC/OHWI and 0.19 ms in NHWC/HWIO (CPU time on local-sync); (32,16,32,32) x (32,16,3,3)
# 3.4 ms against 10.4 ms for im2col (below). So a conv is lowered channels last: its operands are
# transposed there, the result back (IREE fuses the transposes into neighbouring dispatches).
# With one input feature per group (I = 1: a first layer on grey images, depthwise convs) IREE's
# conv is slow in every layout ((32,1,8,8) x (16,1,3,3): 203 us vs 33 us): there, when the conv is
# big enough, the windows are gathered into a patch matrix (im2col) and contracted with one
# dot_general. A piece is one strided slice per kernel offset, or one window per output position
# when there are fewer of those (a weight gradient: a huge "kernel", a tiny output). Below
# IM2COL_MIN_MACS (tiny convs, as in the tests) the plain convolution compiles faster and runs
# as fast (1,350 multiply-adds: 10.5 vs 16.5 us either way).
IM2COL_MIN_MACS = 1 << 16
IM2COL_MAX_PIECES = 49
CHANNELS_LAST_MIN_FEATURES = 2  # kernel input features per group from which the channels-last conv is used


def lowering_path(lhs, rhs, out) -> str:
    """'channels_last', 'im2col' or 'plain' (NCHW stablehlo.convolution) for a conv of these avals."""
    if rhs.shape[1] >= CHANNELS_LAST_MIN_FEATURES:
        return "channels_last"
    return "im2col" if _use_im2col(lhs, rhs, out) else "plain"


def _use_im2col(lhs, rhs, out):
    window, positions = int(np.prod(rhs.shape[2:])), int(np.prod(out.shape[2:]))
    macs = out.size * window * rhs.shape[1]
    return macs >= IM2COL_MIN_MACS and min(window, positions) <= IM2COL_MAX_PIECES


def _lower_im2col(ctx, args, in_avals, out_avals, *, window_strides, padding, lhs_dilation, rhs_dilation,
                  feature_group_count):
    """pad + strided slices into patches (N, *out, KK, G, I) + dot_general with batch dim = feature group."""
    x, w, out = in_avals[0], in_avals[1], out_avals[0]
    dtype, nsp, g = x.dtype, x.ndim - 2, feature_group_count
    (n, c), (o, i) = x.shape[:2], w.shape[:2]
    k_sp, out_sp = tuple(w.shape[2:]), tuple(out.shape[2:])
    kk, npos = int(np.prod(k_sp)), int(np.prod(out_sp))
    A = lambda *shape: Aval(shape, dtype)  # noqa: E731
    # channels last, then padding and input dilation in one pad
    xt_aval = A(n, *x.shape[2:], c)
    xt = ctx.generic("stablehlo.transpose", [args[0]], [x], [xt_aval],
                     f"permutation = {dense_attr((0, *range(2, 2 + nsp), 1))}")
    padded = tuple(_dilate(m, ld) + lo + hi for m, ld, (lo, hi) in zip(x.shape[2:], lhs_dilation, padding))
    xp_aval = A(n, *padded, c)
    xp = ctx.pad(xt, ctx.constant(0, A()), xt_aval, xp_aval, (0, *(lo for lo, _ in padding), 0),
                 (0, *(hi for _, hi in padding), 0), (0, *(ld - 1 for ld in lhs_dilation), 0))

    def piece(starts, sizes, steps, piece1_shape):
        limits = [st + (m - 1) * s + 1 for st, m, s in zip(starts, sizes, steps)]
        sl_aval = A(n, *sizes, c)
        sl = ctx.generic("stablehlo.slice", [xp], [xp_aval], [sl_aval],
                         f"start_indices = {dense_attr((0, *starts, 0))}, limit_indices = {dense_attr((n, *limits, c))}, "
                         f"strides = {dense_attr((1, *steps, 1))}")
        return ctx.generic("stablehlo.reshape", [sl], [sl_aval], [A(*piece1_shape)])

    if kk <= npos:  # one slice per kernel offset: (N, *out, 1, C), joined on the offset axis
        shape1, axis = (n, *out_sp, 1, c), nsp + 1
        pieces = [piece([k * rd for k, rd in zip(offs, rhs_dilation)], out_sp, window_strides, shape1)
                  for offs in itertools.product(*(range(k) for k in k_sp))]
    else:  # one window per output position: (N, 1, *K, C), joined on the position axis
        shape1, axis = (n, 1, *k_sp, c), 1
        pieces = [piece([p * s for p, s in zip(pos, window_strides)], k_sp, rhs_dilation, shape1)
                  for pos in itertools.product(*(range(m) for m in out_sp))]
    joined_shape = list(shape1)
    joined_shape[axis] = len(pieces)
    cat_aval = A(*joined_shape)  # either layout flattens row-major to (N, *out, KK, C)
    cat = pieces[0] if len(pieces) == 1 else ctx.generic(
        "stablehlo.concatenate", pieces, [A(*shape1)] * len(pieces), [cat_aval], f"dimension = {axis} : i64")
    patches_aval = A(n, *out_sp, kk, g, i)
    patches = ctx.generic("stablehlo.reshape", [cat], [cat_aval], [patches_aval])
    # kernel (O, I, *K) -> (G, O/G, K..., I) -> (G, O/G, KK, I)
    wg_aval = A(g, o // g, i, *k_sp)
    wg = ctx.generic("stablehlo.reshape", [args[1]], [w], [wg_aval])
    wt_aval = A(g, o // g, *k_sp, i)
    wt = ctx.generic("stablehlo.transpose", [wg], [wg_aval], [wt_aval],
                     f"permutation = {dense_attr((0, 1, *range(3, 3 + nsp), 2))}")
    wr_aval = A(g, o // g, kk, i)
    wr = ctx.generic("stablehlo.reshape", [wt], [wt_aval], [wr_aval])
    d_aval = A(g, n, *out_sp, o // g)
    d = ctx.dot_general([patches, wr], [patches_aval, wr_aval], d_aval, ((nsp + 1, nsp + 3), (2, 3)), ((nsp + 2,), (0,)))
    r_aval = A(n, g, o // g, *out_sp)
    r = ctx.generic("stablehlo.transpose", [d], [d_aval], [r_aval],
                    f"permutation = {dense_attr((1, 0, nsp + 2, *range(2, 2 + nsp)))}")
    return [ctx.generic("stablehlo.reshape", [r], [r_aval], [out])]


def _lower_channels_last(ctx, args, in_avals, out_avals, *, window_strides, padding, lhs_dilation, rhs_dilation,
                         feature_group_count):
    """stablehlo.convolution on (N, *S, C) inputs and (*K, I, O) kernels, transposed there and back."""
    x, w, out = in_avals[0], in_avals[1], out_avals[0]
    nsp = x.ndim - 2
    A = lambda *shape: Aval(shape, x.dtype)  # noqa: E731
    xt_aval = A(x.shape[0], *x.shape[2:], x.shape[1])
    wt_aval = A(*w.shape[2:], w.shape[1], w.shape[0])
    ot_aval = A(out.shape[0], *out.shape[2:], out.shape[1])
    xt = ctx.generic("stablehlo.transpose", [args[0]], [x], [xt_aval],
                     f"permutation = {dense_attr((0, *range(2, 2 + nsp), 1))}")
    wt = ctx.generic("stablehlo.transpose", [args[1]], [w], [wt_aval],
                     f"permutation = {dense_attr((*range(2, 2 + nsp), 1, 0))}")
    xt, wt = ctx.barrier([xt, wt], [xt_aval, wt_aval], unit_as_scalar=True)  # pitfalls 24, 33, as below
    sp, ksp = list(range(1, 1 + nsp)), list(range(nsp))
    pad_text = "[" + ", ".join(f"[{lo}, {hi}]" for lo, hi in padding) + "]"
    dn = (f"#stablehlo.conv<raw input_batch_dimension = 0, input_feature_dimension = {nsp + 1}, "
          f"input_spatial_dimensions = {sp}, kernel_input_feature_dimension = {nsp}, "
          f"kernel_output_feature_dimension = {nsp + 1}, kernel_spatial_dimensions = {ksp}, "
          f"output_batch_dimension = 0, output_feature_dimension = {nsp + 1}, output_spatial_dimensions = {sp}>")
    attrs = (f"window_strides = {dense_attr(window_strides)}, padding = dense<{pad_text}> : tensor<{nsp}x2xi64>, "
             f"lhs_dilation = {dense_attr(lhs_dilation)}, rhs_dilation = {dense_attr(rhs_dilation)}, "
             f"dimension_numbers = {dn}, feature_group_count = {feature_group_count} : i64, batch_group_count = 1 : i64")
    ot = ctx.generic("stablehlo.convolution", [xt, wt], [xt_aval, wt_aval], [ot_aval], attrs)
    return [ctx.generic("stablehlo.transpose", [ot], [ot_aval], [out],
                        f"permutation = {dense_attr((0, nsp + 1, *range(1, 1 + nsp)))}")]


def _read_part(lhs_sp, k_sp, out_sp, window_strides, padding, lhs_dilation, rhs_dilation):
    """Per spatial dim: how many input elements some window reads, and the padding that the windows read."""
    keep, pads = [], []
    for n, k, m, s, (lo, _), ld, rd in zip(lhs_sp, k_sp, out_sp, window_strides, padding, lhs_dilation, rhs_dilation):
        end = (m - 1) * s + _dilate(k, rd) - lo  # one past the last position read, in the dilated input
        c = min(n, max(0, -(-end // ld)))
        keep.append(c)
        pads.append((lo, end - _dilate(c, ld)))
    return tuple(keep), tuple(pads)


@lowering("conv")
def _conv(ctx, args, in_avals, out_avals, *, window_strides, padding, lhs_dilation, rhs_dilation,
                feature_group_count):
    out = out_avals[0]
    if out.size == 0 or in_avals[0].size == 0 or in_avals[1].size == 0:
        return [ctx.constant(0, out)]  # empty sums (and empty outputs) are zeros
    keep, pads = _read_part(in_avals[0].shape[2:], in_avals[1].shape[2:], out.shape[2:], window_strides, padding,
                            lhs_dilation, rhs_dilation)
    if keep != tuple(in_avals[0].shape[2:]) or pads != tuple(map(tuple, padding)):
        # Cut off the input (and high padding) no window reads: IREE 3.13 rejects a convolution with one
        # output position and an unread tail ("'linalg.generic' op inferred input/output operand #1 has
        # shape's dimension #0 to be 4, but found 3"; docs/stablehlo-notes.md §0, pitfall 18).
        def read_part(x, w):
            x = lax.slice(x, start_indices=(0,) * x.ndim, limit_indices=tuple(x.shape[:2]) + keep)
            return [lax.conv(x, w, window_strides=window_strides, padding=pads, lhs_dilation=lhs_dilation,
                          rhs_dilation=rhs_dilation, feature_group_count=feature_group_count)]

        return lower_fn(ctx, read_part, args, in_avals)
    path = lowering_path(*in_avals, out)
    if path == "channels_last":
        return _lower_channels_last(ctx, args, in_avals, out_avals, window_strides=window_strides, padding=padding,
                                    lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
                                    feature_group_count=feature_group_count)
    if path == "im2col":
        return _lower_im2col(ctx, args, in_avals, out_avals, window_strides=window_strides, padding=padding,
                             lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
                             feature_group_count=feature_group_count)
    nsp = out.ndim - 2
    sp = list(range(2, 2 + nsp))
    pad_text = "[" + ", ".join(f"[{lo}, {hi}]" for lo, hi in padding) + "]"
    dn = (f"#stablehlo.conv<raw input_batch_dimension = 0, input_feature_dimension = 1, input_spatial_dimensions = {sp}, "
          f"kernel_input_feature_dimension = 1, kernel_output_feature_dimension = 0, kernel_spatial_dimensions = {sp}, "
          f"output_batch_dimension = 0, output_feature_dimension = 1, output_spatial_dimensions = {sp}>")
    attrs = (f"window_strides = {dense_attr(window_strides)}, padding = dense<{pad_text}> : tensor<{nsp}x2xi64>, "
             f"lhs_dilation = {dense_attr(lhs_dilation)}, rhs_dilation = {dense_attr(rhs_dilation)}, "
             f"dimension_numbers = {dn}, feature_group_count = {feature_group_count} : i64, batch_group_count = 1 : i64")
    # Fenced operands: IREE 3.13 fuses a broadcast operand into the convolution, and with a kernel
    # broadcast along its input features and one output position (a weight gradient summed over the
    # batch makes one) codegen fails: "'vector.contract' op invalid accumulator/result vector shape"
    # (docs/stablehlo-notes.md pitfall 24). These convs have one input feature per group and are small.
    # A one-element operand crosses as 0-d (pitfall 33, section 35).
    args = ctx.barrier(list(args), list(in_avals), unit_as_scalar=True)
    return [ctx.generic("stablehlo.convolution", args, in_avals, out_avals, attrs)]
