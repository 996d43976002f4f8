"""Lowerings of eigh and svd: the Jacobi programs of slope/primitives/decomp.py (StableHLO has no LAPACK).

The SWEEPS sweeps run as a stablehlo.while loop whose body is one sweep (its rounds unrolled), between
the program's start and finish: the same operations in the same order as jacobi_eigh / jacobi_svd, in a
program ten times smaller than the unrolled one (a 4x4 eigh's vjp: ~75,000 characters of StableHLO
instead of ~750,000), which IREE compiles in a fraction of the time."""
from __future__ import annotations

import functools

from slope.backends.iree.emitter import lowering, region_builder, region_text
from slope.backends.iree.lowering import lower_program_body, stage_fn
from slope.core.aval import Aval
from slope.primitives import decomp


def _jacobi(ctx, args, in_avals, start, sweep, finish, name):
    """finish(sweep^SWEEPS(start(args))), the sweeps as a while loop counting to SWEEPS."""
    begin = stage_fn(start, in_avals, f"{name}_start")
    state = lower_program_body(ctx, begin, args)
    avals = begin.out_avals
    step = stage_fn(sweep, avals, f"{name}_sweep")
    if step.eqns and decomp.SWEEPS:
        counter = Aval((), "int32")
        cond = region_builder(ctx)
        cond_args = [(cond.fresh(), a) for a in [counter, *avals]]
        more = cond.compare("LT", cond_args[0][0], cond.constant(decomp.SWEEPS, counter), counter)
        body = region_builder(ctx)
        body_args = [(body.fresh(), a) for a in [counter, *avals]]
        swept = lower_program_body(body, step, [n for n, _ in body_args[1:]])
        count = body.binary("stablehlo.add", body_args[0][0], body.constant(1, counter), counter)
        regions = (region_text(cond, cond_args, [(more, Aval((), "bool"))]) + ", "
                   + region_text(body, body_args, [(count, counter), *zip(swept, avals)]))
        loop = ctx.generic("stablehlo.while", [ctx.constant(0, counter), *state], [counter, *avals],
                           [counter, *avals], regions=regions)
        state = loop[1:]
    return lower_program_body(ctx, stage_fn(finish, avals, f"{name}_finish"), state)


@lowering("eigh")
def _eigh(ctx, args, in_avals, out_avals):
    return _jacobi(ctx, args, in_avals, decomp.eigh_start, decomp.eigh_sweep, decomp.eigh_finish, "eigh")


@lowering("svd")
def _svd(ctx, args, in_avals, out_avals):
    (a,) = in_avals
    finish = functools.partial(decomp.svd_finish, wide=a.shape[-2] < a.shape[-1])
    return _jacobi(ctx, args, in_avals, decomp.svd_start, decomp.svd_sweep, finish, "svd")
