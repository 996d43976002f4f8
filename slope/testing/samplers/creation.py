"""Samplers of the operand-free creation primitives (slope/primitives/creation.py): params only."""
from __future__ import annotations

from slope.testing.samplers.base import draw_shape, register, strategies


def _creation_sample(kind):
    def sample(draw, dtype):
        st = strategies()
        shape = draw_shape(draw)
        if kind == "full":
            if dtype.is_unsigned:  # the whole range: the constant's literal must not go through a signed type
                value = draw(st.integers(0, 2**dtype.bits - 1))
            elif dtype.is_int:
                value = draw(st.integers(-5, 5))
            elif dtype.is_bool:
                value = draw(st.booleans())
            else:
                value = draw(st.floats(-5, 5, width=32, allow_subnormal=False))
            return [], {"shape": shape, "value": value, "dtype": dtype}
        shape = shape or (3,)
        return [], {"shape": shape, "dimension": draw(st.integers(0, len(shape) - 1)), "dtype": dtype}

    return sample


register("full", _creation_sample("full"))
register("iota", _creation_sample("iota"))
