"""Hypothesis strategies built from each primitive's sampler, and the harness's Hypothesis profiles.

`examples(spec, dtype, ...)` draws an Example: operands and params from the primitive's sampler
(slope.testing.samplers.SAMPLERS[spec.name], its input domain), plus tangents, cotangents and a
batch of same-structure operand lists when a check needs them. Batches use the record/replay
`Draw` of slope.testing.samplers.base: the first member records the sampler's structural draws
(shapes, axes, params), later members replay them and draw fresh values.

Profiles (select with SLOPE_PROFILE=dev|ci|thorough; default ci):
  dev       fast local iteration: few random examples, failures kept in the example database
  ci        derandomized (the same examples every run, so the compile cache stays warm), no
            database, a handful of examples per (primitive, check, dtype), each (primitive, check,
            dtype) seeded apart (`stable_seed`), so float32 and float64, vjp and second_order draw
            different examples; EXAMPLE_WEIGHT spends more on structured primitives (6) than on smooth unary ones (2)
  thorough  many random examples (nightly / before a release)
No profile has a deadline: the first call of a shape compiles an IREE module (~0.3 s).
"""
from __future__ import annotations

import os

import numpy as np

from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.testing.example import Example
from slope.testing.samplers import base, sampler_for
from slope.testing.samplers.base import flush_subnormals

VMAP_BATCH = 4  # members of a vmap batch (a size no sampler uses for an operand dim in the pools)
TANGENT_RANGE = (-1.0, 1.0)

PROFILES = {
    "dev": dict(max_examples=3, derandomize=False, print_blob=True),
    "ci": dict(max_examples=4, derandomize=True, database=None, print_blob=False),
    "thorough": dict(max_examples=40, derandomize=False, print_blob=True),
}
DEFAULT_PROFILE = "ci"


def profile_name(name: str | None = None) -> str:
    name = name or os.environ.get("SLOPE_PROFILE") or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(f"unknown SLOPE_PROFILE {name!r}; choose one of {', '.join(PROFILES)}")
    return name


def register_profiles():
    """Register slope-dev, slope-ci and slope-thorough with Hypothesis (idempotent)."""
    from hypothesis import HealthCheck, Phase, settings

    common = dict(
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
    )
    for name, kw in PROFILES.items():
        settings.register_profile(f"slope-{name}", **{**common, **kw})


# Examples are spent where bugs hide: a primitive whose parameter space has structure (axes,
# permutations, windows, index maps, strides, padding, ties) draws more examples per (check, dtype)
# than the profile's max_examples, a smooth unary elementwise one fewer. Multipliers of the profile's
# count (at least 1 example); a name not listed draws the profile's count.
EXAMPLE_WEIGHT = {
    **dict.fromkeys(("transpose", "slice", "pad", "gather", "scatter", "scatter_add", "dynamic_slice",
                     "dynamic_update_slice", "conv", "dot_general", "concatenate", "rev", "broadcast_in_dim",
                     "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "sort", "argsort", "argmax",
                     "argmin", "cummax", "cummin", "cumsum", "cumprod", "convert"), 1.5),
    **dict.fromkeys(("exp", "log", "sin", "cos", "tan", "tanh", "logistic", "sqrt", "rsqrt", "expm1", "log1p",
                     "erf", "neg", "not", "stop_gradient", "full", "iota", "reshape", "squeeze",
                     "expand_dims"), 0.5),
}


def stable_seed(*parts) -> int:
    """A seed from strings, the same in every process and run (Python's hash() is salted per process)."""
    import hashlib

    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "little")


def max_examples_for(base: int, spec: str | None) -> int:
    return max(1, round(base * EXAMPLE_WEIGHT.get(spec, 1.0))) if spec else base


def settings_for(name: str | None = None, spec: str | None = None):
    """The Hypothesis settings object of a profile (by name, or SLOPE_PROFILE, or the default);
    given a primitive's name, with its example budget (EXAMPLE_WEIGHT)."""
    from hypothesis import settings

    register_profiles()
    base = settings.get_profile(f"slope-{profile_name(name)}")
    if spec is None:
        return base
    return settings(base, max_examples=max_examples_for(base.max_examples, spec))


def load_profile(name: str | None = None) -> str:
    """Make a profile Hypothesis's default (what tests/properties/conftest.py does); returns its name."""
    from hypothesis import settings

    register_profiles()
    name = profile_name(name)
    settings.load_profile(f"slope-{name}")
    return name


# ---------------------------------------------------------------- strategies


def _structure(args, params):
    return [(np.asarray(a).shape, np.asarray(a).dtype) for a in args], params


def _out_avals(spec, args, params):
    avals = [Aval(np.asarray(a).shape, np.asarray(a).dtype) for a in args]
    return spec.abstract_eval(*avals, **params)


def _draw_like(draw, shape, dtype):
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    lo, hi = TANGENT_RANGE
    vals = draw(arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False)))
    return flush_subnormals(vals, dtype)


def examples(spec, dtype, *, tangents=False, cotangents=False, batch=0):
    """A strategy for Examples of `spec` at `dtype` (a name or slope DType).

    tangents:   add one tangent per floating-point operand (drawn in [-1, 1], same dtype)
    cotangents: add one cotangent per floating-point output
    batch:      add `batch` operand lists with the first one's structure (for the vmap check)
    """
    from hypothesis import assume
    from hypothesis import strategies as st

    d = dt.dtype(dtype)
    sample = sampler_for(spec)
    if sample is None:
        raise ValueError(f"{spec.name} has no sampler ({spec.verify.reason('sample', 'no reason given')})")

    @st.composite
    def strategy(draw):
        rec = base.Draw(draw)
        args, params = sample(rec, d)
        args = [np.asarray(a) for a in args]
        ex = Example(d.name, args, dict(params))
        if batch:
            members = [args]
            for _ in range(batch - 1):
                try:
                    more, p2 = sample(base.Draw(draw, replay=rec.log), d)
                except base.ReplayMismatch:
                    assume(False)
                more = [np.asarray(a) for a in more]
                assume(_structure(more, p2) == _structure(args, params))
                members.append(more)
            ex.batch = members
        if tangents:
            ex.tangents = [_draw_like(draw, a.shape, a.dtype) if a.dtype.kind == "f" else None for a in args]
        if cotangents:
            outs = _out_avals(spec, args, params)
            ex.cotangents = [_draw_like(draw, o.shape, o.dtype.np) if o.dtype.is_float else None for o in outs]
        return ex

    return strategy()
