"""Every raise of a shape/dtype rule is reached by some error input (slope.testing.raises).

check_errors holds each spec to the raises only its own rule has; a raise in a helper several rules
share (check_same, a family's rule factory) must be reached by the error inputs of one of them."""
import numpy as np

import slope
from slope.primitives import REGISTRY
from slope.testing import raises


def test_shared_rule_raises_are_reached():
    with raises.reached() as hit:
        for spec in REGISTRY.values():
            for case in spec.error_inputs() if spec.error_inputs else []:
                try:
                    spec.bind(*[slope.tensor(np.asarray(a)) for a in case.args], **case.params)
                except case.error:
                    pass
    shared = raises.shared_raises(REGISTRY)
    assert shared, "no shared helper raises found: the search is broken"
    missing = {r: names for r, names in shared.items() if r not in hit}
    assert not missing, "raises no error input reaches: " + "; ".join(
        f"{raises.describe([r])} (used by {', '.join(sorted(names)[:5])})" for r, names in missing.items())


def test_a_dead_rule_check_is_reported():
    """The search sees raises in the rule itself, its closure and the family helpers it calls."""
    owned = raises.owned_raises(REGISTRY["conv"], REGISTRY)
    assert len(owned) >= 8
    assert any("feature_group_count must be a positive int" in raises.describe([r]) for r in owned)
