"""Input domains for property tests, declared on each spec as `sample=`.

A sampler is `(draw, dtype) -> (list of NumPy args, params)`; `draw` is Hypothesis's draw.
Hypothesis is imported lazily so `import slope` never needs the test dependencies.
Shapes come from a small pool so the suite compiles few distinct modules.
"""
from __future__ import annotations

import numpy as np

SHAPES = [(), (3,), (2, 3), (2, 1, 3)]


def _st():
    from hypothesis import strategies as st

    return st


def draw_shape(draw, shapes=None, min_rank=0):
    pool = [s for s in (shapes or SHAPES) if len(s) >= min_rank]
    return draw(_st().sampled_from(pool))


def draw_array(draw, shape, dtype, lo=-3.0, hi=3.0, fix=None):
    """An array of `dtype` with values in [lo, hi]; `fix` maps float64 values into the op's domain."""
    from hypothesis.extra.numpy import arrays

    st = _st()
    npd = dtype.np
    if dtype.is_bool:
        return draw(arrays(np.bool_, shape, elements=st.booleans()))
    if dtype.is_int:
        info = np.iinfo(npd)
        lo_i, hi_i = max(int(lo), int(info.min)), min(int(hi), int(info.max))
        return draw(arrays(npd, shape, elements=st.integers(lo_i, hi_i)))
    vals = draw(arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False)))
    if fix is not None:
        vals = fix(vals)
    return np.asarray(vals, dtype=npd)


def away_from_integers(v, margin=0.1, step=1.0):
    """Move values at least `margin` away from multiples of `step` (keeps FD off discontinuities)."""
    frac = np.mod(v, step)
    too_close = (frac < margin) | (frac > step - margin)
    return np.where(too_close, np.floor(v / step) * step + step / 2, v)


def away_from_zero(v, margin=0.5):
    return np.where(np.abs(v) < margin, np.where(v < 0, -margin, margin), v)


def elementwise(n=1, lo=-3.0, hi=3.0, fix=None, fixes=None, int_range=(-20, 20), params=None):
    """Sampler for n equally shaped operands; `fixes` gives a per-operand domain fix."""

    def sample(draw, dtype):
        shape = draw_shape(draw)
        args = []
        for i in range(n):
            f = fixes[i] if fixes else fix
            if dtype.is_int:
                args.append(draw_array(draw, shape, dtype, *int_range))
            else:
                args.append(draw_array(draw, shape, dtype, lo, hi, f))
        return args, dict(params or {})

    return sample
