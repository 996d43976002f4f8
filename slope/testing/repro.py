"""Namespace for one-line repros: `python -c "from slope.testing.repro import *; check_jvp('exp', Example(...))"`."""
import numpy as np  # noqa: F401

import slope  # noqa: F401
from slope.testing.checks import (  # noqa: F401
    check_abstract_eval,
    check_eager,
    check_errors,
    check_jit,
    check_jvp,
    check_linearize,
    check_second_order,
    check_vjp,
    check_vmap,
)
from slope.testing.example import Example  # noqa: F401

nan, inf = float("nan"), float("inf")
