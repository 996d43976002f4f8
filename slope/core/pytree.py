"""Pytrees: nested tuples/lists/dicts/namedtuples/None flattened to leaves and a hashable structure."""
from __future__ import annotations

from typing import Any, Callable, NamedTuple


class NodeType(NamedTuple):
    name: str
    flatten: Callable  # node -> (children, aux)
    unflatten: Callable  # (aux, children) -> node


_registry: dict[type, NodeType] = {}


def register_pytree_node(ty, flatten, unflatten):
    """Let user containers take part in transformations (like jax.tree_util.register_pytree_node)."""
    _registry[ty] = NodeType(ty.__name__, flatten, unflatten)


register_pytree_node(tuple, lambda t: (list(t), None), lambda _, cs: tuple(cs))
register_pytree_node(list, lambda t: (list(t), None), lambda _, cs: list(cs))
register_pytree_node(
    dict,
    lambda d: ([d[k] for k in sorted(d)], tuple(sorted(d))),
    lambda keys, cs: dict(zip(keys, cs)),
)
register_pytree_node(type(None), lambda n: ([], None), lambda _, cs: None)


def _node_type(x):
    t = type(x)
    if t in _registry:
        return t, _registry[t]
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
        return t, NodeType(t.__name__, lambda n: (list(n), None), lambda _, cs, t=t: t(*cs))
    return t, None


class TreeDef:
    """Structure of a pytree; hashable so it can key jit caches."""

    __slots__ = ("node", "aux", "children", "_hash")

    def __init__(self, node, aux, children):
        self.node, self.aux, self.children = node, aux, tuple(children)
        self._hash = hash((node, aux, self.children))

    @property
    def num_leaves(self):
        return 1 if self.node is None else sum(c.num_leaves for c in self.children)

    def __eq__(self, other):
        return (
            isinstance(other, TreeDef)
            and self.node == other.node
            and self.aux == other.aux
            and self.children == other.children
        )

    def __hash__(self):
        return self._hash

    def __repr__(self):
        if self.node is None:
            return "*"
        return f"{self.node.__name__}({', '.join(map(repr, self.children))})"


LEAF = TreeDef(None, None, ())


def tree_flatten(x: Any):
    leaves: list = []

    def rec(x):
        t, nt = _node_type(x)
        if nt is None:
            leaves.append(x)
            return LEAF
        children, aux = nt.flatten(x)
        return TreeDef(t, aux, [rec(c) for c in children])

    tree = rec(x)
    return leaves, tree


def tree_unflatten(tree: TreeDef, leaves):
    it = iter(leaves)

    def rec(t):
        if t.node is None:
            return next(it)
        _, nt = _node_type_for(t.node)
        return nt.unflatten(t.aux, [rec(c) for c in t.children])

    return rec(tree)


def _node_type_for(ty):
    if ty in _registry:
        return ty, _registry[ty]
    return ty, NodeType(ty.__name__, None, lambda _, cs, t=ty: t(*cs))


def tree_map(f, tree, *rest):
    leaves, td = tree_flatten(tree)
    others = [tree_flatten(r)[0] for r in rest]
    return tree_unflatten(td, [f(*xs) for xs in zip(leaves, *others)])


def tree_leaves(tree):
    return tree_flatten(tree)[0]


def tree_structure(tree):
    return tree_flatten(tree)[1]
