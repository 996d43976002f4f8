"""Lowering of threefry2x32: 20 Threefry rounds written out as uint32 StableHLO adds, xors, shifts
and ors (a rotate is `(x << r) | (x >> (32 - r))`), in the order of slope.reference.random."""
from __future__ import annotations

from slope.backends.iree.emitter import lowering

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA


@lowering("threefry2x32")
def _threefry2x32(ctx, args, in_avals, out_avals):
    aval = out_avals[0]
    k1, k2, x1, x2 = args
    consts: dict = {}

    def const(v):  # one splat constant per value, reused by every round
        if v not in consts:
            consts[v] = ctx.constant(v, aval)
        return consts[v]

    def add(a, b):
        return ctx.binary("stablehlo.add", a, b, aval)

    def rotl(v, r):
        left = ctx.binary("stablehlo.shift_left", v, const(r), aval)
        right = ctx.binary("stablehlo.shift_right_logical", v, const(32 - r), aval)
        return ctx.binary("stablehlo.or", left, right, aval)

    k3 = ctx.binary("stablehlo.xor", ctx.binary("stablehlo.xor", k1, k2, aval), const(_PARITY), aval)
    ks = (k1, k2, k3)
    a, b = add(x1, ks[0]), add(x2, ks[1])
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            a = add(a, b)
            b = ctx.binary("stablehlo.xor", rotl(b, r), a, aval)
        a = add(a, ks[(i + 1) % 3])
        b = add(add(b, ks[(i + 2) % 3]), const(i + 1))
    return [a, b]
