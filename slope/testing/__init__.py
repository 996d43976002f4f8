"""slope.testing: the verification harness every primitive spec is checked with.

A spec author calls `check_primitive(spec)` (or runs `python -m slope verify --only NAME`):
it draws inputs with the primitive's sampler (slope.testing.samplers, by name) under Hypothesis and runs every applicable check, each a
public function of (spec, Example):

    check_abstract_eval, check_eager, check_jit, check_vmap,
    check_jvp, check_vjp, check_linearize, check_second_order, check_errors

Derivatives are compared with float64 finite differences of the NumPy reference (slope.testing.fd)
using the one tolerance table in slope.testing.tolerances. Profiles (SLOPE_PROFILE=dev|ci|thorough)
are in slope.testing.strategies; the conformance matrix in slope.testing.matrix.
"""
from slope.testing.checks import (  # noqa: F401
    CHECK_FUNCTIONS,
    CHECKS,
    DERIVATIVE_CHECKS,
    NotApplicable,
    batch_placements,
    check_abstract_eval,
    check_eager,
    check_errors,
    check_jit,
    check_jvp,
    check_linearize,
    check_second_order,
    check_vjp,
    check_vmap,
    get_spec,
)
from slope.testing.example import Example  # noqa: F401
from slope.testing.primitive import (  # noqa: F401
    COLUMNS,
    CellResult,
    MissingRule,
    PrimitiveCheckFailed,
    check_primitive,
    dtypes_for,
    exemption,
    plan,
    prefetch,
    prefetch_row,
    repro_line,
    run_cell,
    run_check,
)
from slope.testing.strategies import examples, load_profile, register_profiles, settings_for  # noqa: F401
from slope.testing.tolerances import TOLERANCES, Mismatch, assert_close, tolerance  # noqa: F401
