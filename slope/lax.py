"""Primitive-level functions: `lax.add(x, y)` binds the add primitive (no broadcasting, no promotion).

Rules inside specs use these so they compose under every transformation. Names that are Python
keywords (and, or, not) get a trailing underscore. The names are looked up in the registry on
first use (so primitive families can `from slope import lax` while they register); slope/lax.pyi
lists their signatures.
"""
import keyword

from slope.primitives.spec import REGISTRY


def _primitive(name):
    return name[:-1] if name.endswith("_") and keyword.iskeyword(name[:-1]) else name


def __getattr__(name):
    spec = REGISTRY.get(_primitive(name))
    if spec is None or (keyword.iskeyword(spec.name) and not name.endswith("_")):
        raise AttributeError(f"slope.lax has no function {name!r} (no primitive of that name is registered)")
    globals()[name] = spec.bind  # found directly from now on
    return spec.bind


def __dir__():
    return sorted(name + "_" if keyword.iskeyword(name) else name for name in REGISTRY)
