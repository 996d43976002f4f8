"""What the property suite needs to know about a primitive besides its rules: `Spec(verify=Verify(...))`.

    Verify(dtypes=("float32", "float64"),          # dtypes the checks run at (the first is the default)
           exempt={"transpose": Exempt.NOT_LINEAR}, # rule or check column -> the reason it does not apply
           edge_cases=fn,                           # (dtype) -> [(list of np args, params)], always checked
           on_derivative_kink=fn)                   # (*np args, **params) -> bool: skip second-order there

An exemption names a rule the spec lacks (or a check column that cannot apply) and one of the
enumerated `Exempt` reasons; `Verify` rejects unknown keys and free-text reasons when it is made.
The Hypothesis samplers of the inputs live with the harness (slope.testing.samplers), found by the
primitive's name; a primitive without one exempts "sample".
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

# Rules a Spec may lack (with an exemption), "sample" (the harness's sampler of its inputs), "grad"
# (every derivative check at once) and the check columns of slope.testing (test_completeness asserts
# that its COLUMNS are a subset of this set).
EXEMPT_RULES = ("reference", "jvp", "transpose", "vmap", "sample", "error_inputs")
EXEMPT_CHECKS = ("abstract_eval", "eager", "jit", "vmap", "jvp", "vjp", "linearize", "second_order", "errors",
                 "float64")
EXEMPTABLE = frozenset(EXEMPT_RULES + EXEMPT_CHECKS + ("grad",))


class Exempt(Enum):
    """Why a rule or check does not apply to a primitive; the value is the sentence reports print."""

    NOT_LINEAR = "not linear in any operand"
    ZERO_DERIVATIVE = "derivative is zero everywhere it exists (piecewise constant, non-float output or by definition)"
    INTEGER_OUTPUT = "integer output: not linear, and the tangent is identically zero"
    BIT_REINTERPRETATION = "reinterprets bits: not linear, and no useful derivative"
    NO_OPERANDS = "has no operands: nothing to transpose, and the tangent is zero"
    NO_INVALID_INPUT = "every tensor is a valid input: there is no bad input to reject"
    RUNS_A_PROGRAM = "runs a staged Program of other primitives, each verified on its own (the jit tests cover it)"
    BAD_INPUTS_TESTED_APART = "a public op: its bad inputs are tested by tests/test_bad_inputs.py"

    def __str__(self):
        return self.value


@dataclass(frozen=True, eq=False)
class Verify:
    """Verification metadata of one primitive (see the module docstring); immutable once made."""

    dtypes: tuple = ("float32", "float64")
    exempt: Mapping[str, Exempt] = field(default_factory=dict)  # stored as a read-only mapping
    edge_cases: Callable | None = None
    on_derivative_kink: Callable | None = None

    def __post_init__(self):
        exempt = dict(self.exempt)
        for key, reason in exempt.items():
            if key not in EXEMPTABLE:
                raise ValueError(f"Verify: unknown exemption key {key!r} (a rule or check column: "
                                 f"{', '.join(sorted(EXEMPTABLE))})")
            if not isinstance(reason, Exempt):
                raise TypeError(f"Verify: the reason for exempting {key!r} must be an Exempt member, got {reason!r}")
        object.__setattr__(self, "exempt", MappingProxyType(exempt))
        object.__setattr__(self, "dtypes", tuple(self.dtypes))
        if not self.dtypes:
            raise ValueError("Verify: dtypes must name at least one dtype")

    def reason(self, key: str, default: str | None = None) -> str | None:
        """The sentence exempting `key`, or `default` when it is not exempt."""
        r = self.exempt.get(key)
        return default if r is None else r.value
