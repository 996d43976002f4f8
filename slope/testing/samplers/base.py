"""Input domains for property tests: the sampler registry and the helpers samplers draw with.

A sampler is `(draw, dtype) -> (list of NumPy args, params)`: valid inputs of one primitive at one
dtype; `draw` is Hypothesis's draw (or the harness's `Draw` wrapper around it). Samplers live in
this package, one module per primitive family, registered by primitive name in SAMPLERS with
`@sampler("name", ...)` (or `register(name, fn)` for a table); `strategies.examples` finds a
spec's sampler by its name. Hypothesis is imported lazily (through `strategies()`), as everywhere in the
harness. Shapes come from small pools so the suite compiles few distinct modules.

Structure versus values
-----------------------
Every draw a sampler makes is one of two kinds:

* **structure**: shapes, axes, permutations of axes, params, "which case" choices. A plain
  `draw(strategy)` is a structural draw, and so are the helpers `choose`, `draw_shape`,
  `draw_axis`, `draw_axes`, `draw_dims_permutation`, `draw_bool`.
* **values**: the numbers inside the operands. `draw_array`, `draw_permutation` and
  `draw_values` make value draws.

The vmap check needs several *different* inputs with *one* structure. The harness draws the
first example through a recording `Draw`, then re-runs the sampler with a replaying `Draw`:
structural draws return what the first example drew, value draws are fresh. Samplers that follow
the rule above get this for free. A sampler that draws operand values with a plain `draw` still
works, only its batch members share those values (the vmap check is then weaker).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from slope.core import dtypes as dt

SHAPES = [(2, 3), (), (3,), (2, 1, 3)]  # (2, 3) first: the first (simplest) example is not 0-d

SAMPLERS: dict[str, Callable] = {}  # primitive name -> (draw, dtype) -> (list of np args, params)


def register(name: str, fn: Callable) -> Callable:
    """Make `fn` the sampler of the primitive `name` (once: a second sampler for a name is an error)."""
    if name in SAMPLERS:
        raise ValueError(f"a sampler for {name} is registered twice")
    SAMPLERS[name] = fn
    return fn


def sampler(*names: str):
    """Decorator: the function samples the inputs of each named primitive."""

    def deco(fn):
        for name in names:
            register(name, fn)
        return fn

    return deco


def strategies():
    """hypothesis.strategies, imported on first use."""
    from hypothesis import strategies as st

    return st


class ReplayMismatch(Exception):
    """A replayed sampler asked for more (or different) structural draws than were recorded."""


class Draw:
    """A `draw` that records structural draws (first example) or replays them (later ones).

    Call it like Hypothesis's draw. `values(strategy)` is a value draw: always fresh.
    """

    def __init__(self, draw, replay=None):
        self._draw = draw
        self.replay = replay
        self.log: list = [] if replay is None else list(replay)
        self.pos = 0

    def __call__(self, strategy):
        if self.replay is None:
            v = self._draw(strategy)
            self.log.append(v)
            return v
        if self.pos >= len(self.log):
            raise ReplayMismatch("the sampler made more structural draws than the recorded example")
        v = self.log[self.pos]
        self.pos += 1
        return v

    def values(self, strategy):
        return self._draw(strategy)


def draw_values(draw, strategy):
    """A value draw (fresh for every batch member); a plain draw outside the harness."""
    if isinstance(draw, Draw):
        return draw.values(strategy)
    return draw(strategy)


def choose(draw, strategy):
    """A structural draw (replayed for every batch member); the same as draw(strategy)."""
    return draw(strategy)


# ---------------------------------------------------------------- structural helpers


def sampled(draw, options):
    """One of `options` (structural)."""
    return draw(strategies().sampled_from(list(options)))


def draw_bool(draw):
    return draw(strategies().booleans())


def draw_int(draw, lo, hi):
    """An int in [lo, hi] (structural: use it for params, not operand values)."""
    return draw(strategies().integers(lo, hi))


def draw_shape(draw, shapes=None, min_rank=0):
    pool = [s for s in (shapes or SHAPES) if len(s) >= min_rank]
    return draw(strategies().sampled_from(pool))


def draw_axis(draw, ndim):
    """One axis of a rank-`ndim` operand (ndim >= 1)."""
    return draw(strategies().integers(0, ndim - 1))


def draw_axes(draw, ndim, min_size=1):
    """A sorted tuple of distinct axes of a rank-`ndim` operand."""
    st = strategies()
    return tuple(sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=min_size, max_size=ndim))))


def draw_subset(draw, items, min_size=0, prefer=2):
    """A sorted tuple of distinct `items` (structural), subsets of `prefer` elements first: Hypothesis's
    first example takes the first option, which should hold several axes, not one or none."""
    items = list(items)
    subsets = [c for k in range(min_size, len(items) + 1) for c in itertools.combinations(items, k)]
    subsets.sort(key=lambda c: (abs(len(c) - min(prefer, len(items))), c))
    return tuple(draw(strategies().sampled_from(subsets)))


def draw_dims_permutation(draw, ndim):
    """A permutation of range(ndim) (structural: e.g. transpose's perm)."""
    return tuple(draw(strategies().permutations(range(ndim))))


# ---------------------------------------------------------------- value helpers


def draw_array(draw, shape, dtype, lo=-3.0, hi=3.0, fix=None):
    """An array of `dtype` with values in [lo, hi]; `fix` maps float64 values into the op's domain."""
    from hypothesis.extra.numpy import arrays

    st = strategies()
    npd = dtype.np
    if dtype.is_bool:
        return draw_values(draw, arrays(np.bool_, shape, elements=st.booleans()))
    if dtype.is_int:
        info = np.iinfo(npd)
        lo_i, hi_i = max(int(lo), int(info.min)), min(int(hi), int(info.max))
        return draw_values(draw, arrays(npd, shape, elements=st.integers(lo_i, hi_i)))
    vals = draw_values(draw, arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False,
                                                                          allow_infinity=False)))
    if fix is not None:
        vals = fix(vals)
    return flush_subnormals(vals, npd)


def flush_subnormals(vals, npd):
    """`vals` cast to `npd` with values below its smallest normal number replaced by 0.

    IREE's CPU code flushes subnormal inputs and results to zero (as XLA:CPU does), while the NumPy
    oracle keeps them: subnormals lie outside the domain the property suite compares on."""

    out = np.asarray(vals, dtype=npd)
    tiny = dt.smallest_normal(npd)
    wide = out.astype(np.float64)
    return np.where((wide != 0) & (np.abs(wide) < tiny), np.zeros((), npd), out).astype(npd)


def draw_permutation(draw, n):
    """A permutation of range(n) used as operand values (e.g. distinct keys): a value draw."""
    return np.asarray(draw_values(draw, strategies().permutations(range(n))), np.int64)


def away_from_integers(v, margin=0.1, step=1.0):
    """Move values at least `margin` away from multiples of `step` (keeps FD off discontinuities)."""
    frac = np.mod(v, step)
    too_close = (frac < margin) | (frac > step - margin)
    return np.where(too_close, np.floor(v / step) * step + step / 2, v)


def away_from_zero(v, margin=0.5):
    return np.where(np.abs(v) < margin, np.where(v < 0, -margin, margin), v)


def elementwise(n=1, lo=-3.0, hi=3.0, fix=None, fixes=None, int_range=(-20, 20), params=None):
    """Sampler for n equally shaped operands; `fixes` gives a per-operand domain fix.

    Unsigned operands span their whole range (values >= 2**31 are where unsigned and signed
    semantics differ: compare, divide, shift right, max/min, convert)."""

    def sample(draw, dtype):
        shape = draw_shape(draw)
        args = []
        for i in range(n):
            f = fixes[i] if fixes else fix
            if dtype.is_unsigned:
                args.append(draw_array(draw, shape, dtype, 0, 2**dtype.bits - 1))
            elif dtype.is_int:
                args.append(draw_array(draw, shape, dtype, *int_range))
            else:
                args.append(draw_array(draw, shape, dtype, lo, hi, f))
        return args, dict(params or {})

    return sample
