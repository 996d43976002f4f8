"""Primitive-level functions: `lax.add(x, y)` binds the add primitive (no broadcasting, no promotion).

Rules inside specs use these so they compose under every transformation. Names that are Python
keywords (and, or, not) get a trailing underscore. Primitives registered after this module is
imported (`jit_call`, by slope.transforms.jit) are found by name too.
"""
import keyword

from slope.primitives import REGISTRY


def _attr(name):
    return name + "_" if keyword.iskeyword(name) else name


for _name, _spec in REGISTRY.items():
    globals()[_attr(_name)] = _spec.bind


def __getattr__(name):
    for spec_name, spec in REGISTRY.items():
        if _attr(spec_name) == name:
            globals()[name] = spec.bind
            return spec.bind
    raise AttributeError(f"module 'slope.lax' has no attribute {name!r} (no primitive of that name; "
                         f"see slope.primitives.REGISTRY)")


def __dir__():
    return sorted(set(globals()) | {_attr(n) for n in REGISTRY})
