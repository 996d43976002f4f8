"""Primitive-level functions: `lax.add(x, y)` binds the add primitive (no broadcasting, no promotion).

Rules inside specs use these so they compose under every transformation. Names that are Python
keywords (and, or, not) get a trailing underscore.
"""
import keyword

from slope.primitives import REGISTRY

for _name, _spec in REGISTRY.items():
    globals()[_name + "_" if keyword.iskeyword(_name) else _name] = _spec.bind
