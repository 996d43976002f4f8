"""Module: PyTorch-like to write, a pytree to transform.

A Module keeps three ordered dicts, as torch.nn.Module does: `_parameters` (every tensor attribute,
unless registered as a buffer), `_buffers` (`register_buffer`: running statistics and other state
that is not trained) and `_modules` (sub-modules). Every other attribute (sizes, strides, eps,
`training`) is a static hyper-parameter.

Every Module subclass is registered as a pytree node: the leaves are its parameters, then its
buffers, then its sub-modules' leaves (the order of `state_dict`), and the hyper-parameters are
the static part of the structure. So `slope.jit`, `slope.grad`, `slope.vmap` take models directly:
`slope.grad(loss)(model, x, y)` returns a model-shaped tree of gradients, and jit compiles once per
model structure (a change of a hyper-parameter or of train/eval mode recompiles).

Tensors are immutable, so updates are functional: `tree_map`, an optimizer's update or `nn.apply`
(for layers that update buffers, like BatchNorm2d) return new models. `load_state_dict`, `train()`,
`eval()` change the Module object they are called on (its attributes, not any tensor), as in PyTorch.
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Iterator, NamedTuple

import numpy as np

from slope.core import pytree
from slope.core.tensor import Tensor, tensor as _to_tensor
from slope.core.trace import Tracer
from slope.errors import ArgumentError, DTypeError, ShapeError

__all__ = ["Module", "apply", "IncompatibleKeys"]

_CONTAINERS = ("_parameters", "_buffers", "_modules", "_non_persistent")


def _is_tensor(x):
    return isinstance(x, (Tensor, Tracer))


def _freeze(v):
    """A hashable stand-in for a static attribute (jit caches key on the structure)."""
    if isinstance(v, (list, tuple)):
        return (type(v).__name__,) + tuple(_freeze(i) for i in v)
    if isinstance(v, dict):
        return ("dict",) + tuple((k, _freeze(v[k])) for k in sorted(v, key=repr))
    if isinstance(v, np.ndarray):
        return ("ndarray", v.dtype.str, v.shape, v.tobytes())
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


class _Aux:
    """The static part of a Module's pytree node: its class, names and hyper-parameters."""

    __slots__ = ("cls", "params", "buffers", "modules", "non_persistent", "static", "_key")

    def __init__(self, cls, params, buffers, modules, non_persistent, static):
        self.cls, self.params, self.buffers, self.modules = cls, params, buffers, modules
        self.non_persistent, self.static = non_persistent, static
        self._key = (cls, params, buffers, modules, non_persistent,
                     tuple((k, _freeze(v)) for k, v in static.items()))

    def __eq__(self, other):
        return isinstance(other, _Aux) and self._key == other._key

    def __hash__(self):
        return hash(self._key)

    def __repr__(self):
        return f"{self.cls.__name__}(params={self.params}, buffers={self.buffers}, modules={self.modules})"


def _flatten(m):
    d = m.__dict__
    static = {k: v for k, v in d.items() if k not in _CONTAINERS}
    p, b, c = d["_parameters"], d["_buffers"], d["_modules"]
    aux = _Aux(type(m), tuple(p), tuple(b), tuple(c), frozenset(d["_non_persistent"]), static)
    return [*p.values(), *b.values(), *c.values()], aux


def _unflatten(aux, children):
    m = object.__new__(aux.cls)
    d = m.__dict__
    d.update(aux.static)
    n_p, n_b = len(aux.params), len(aux.buffers)
    d["_parameters"] = dict(zip(aux.params, children[:n_p]))
    d["_buffers"] = dict(zip(aux.buffers, children[n_p:n_p + n_b]))
    d["_modules"] = dict(zip(aux.modules, children[n_p + n_b:]))
    d["_non_persistent"] = set(aux.non_persistent)
    return m


class IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of layers and models: assign tensors (parameters), Modules (children) and plain values
    (hyper-parameters) in `__init__` after `super().__init__()`, and define `forward`."""

    def __init__(self):
        d = self.__dict__
        d["_parameters"], d["_buffers"], d["_modules"], d["_non_persistent"] = {}, {}, {}, set()
        d["training"] = True

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        pytree.register_pytree_node(cls, _flatten, _unflatten)

    # ------------------------------------------------------------ attributes

    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        params, bufs, mods = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Module):
            params.pop(name, None), bufs.pop(name, None), d.pop(name, None)
            mods[name] = value
        elif _is_tensor(value) or (value is None and (name in params or name in bufs)):
            mods.pop(name, None), d.pop(name, None)
            (bufs if name in bufs else params)[name] = value
        elif isinstance(value, np.ndarray):
            raise DTypeError(f"{type(self).__name__}.{name}: assign a slope tensor (slope.tensor(array)), not a NumPy "
                             "array, as a parameter; keep NumPy data as a plain attribute inside a tuple")
        else:
            if name in params or name in bufs or name in mods:
                params.pop(name, None), bufs.pop(name, None), mods.pop(name, None)
            d[name] = value

    def __getattr__(self, name):  # only called when normal lookup fails
        d = self.__dict__
        for c in ("_parameters", "_buffers", "_modules"):
            if c in d and name in d[c]:
                return d[c][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        d = self.__dict__
        for c in ("_parameters", "_buffers", "_modules"):
            if name in d[c]:
                del d[c][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor of state that is not trained (running statistics): a leaf, in state_dict when persistent."""
        if tensor is not None and not _is_tensor(tensor):
            raise DTypeError(f"register_buffer: {name} must be a tensor or None, got {type(tensor).__name__}")
        d = self.__dict__
        d["_parameters"].pop(name, None), d["_modules"].pop(name, None), d.pop(name, None)
        d["_buffers"][name] = tensor
        (d["_non_persistent"].discard if persistent else d["_non_persistent"].add)(name)

    def register_parameter(self, name, tensor):
        if tensor is not None and not _is_tensor(tensor):
            raise DTypeError(f"register_parameter: {name} must be a tensor or None, got {type(tensor).__name__}")
        d = self.__dict__
        d["_buffers"].pop(name, None), d["_modules"].pop(name, None), d.pop(name, None)
        d["_parameters"][name] = tensor

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise DTypeError(f"add_module: {name} must be a Module, got {type(module).__name__}")
        self.__dict__["_modules"][name] = module

    # ------------------------------------------------------------ calling

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} defines no forward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ traversal

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        return [m for _, m in self.named_children()]

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, m in self.named_children():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def _named(self, container, prefix="", recurse=True):
        for mp, m in (self.named_modules(prefix) if recurse else [(prefix, self)]):
            for name, t in m.__dict__[container].items():
                if t is not None:
                    yield (f"{mp}.{name}" if mp else name), t

    def named_parameters(self, prefix="", recurse=True):
        yield from self._named("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        return [t for _, t in self.named_parameters(recurse=recurse)]

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        return [t for _, t in self.named_buffers(recurse=recurse)]

    # ------------------------------------------------------------ state

    def state_dict(self, prefix=""):
        """OrderedDict of PyTorch-style dotted names (`layers.0.weight`) -> tensors: each module's parameters,
        then its persistent buffers, then its children's entries."""
        out = OrderedDict()
        for mp, m in self.named_modules():
            d = m.__dict__
            base = prefix + (mp + "." if mp else "")
            for name, t in d["_parameters"].items():
                if t is not None:
                    out[base + name] = t
            for name, t in d["_buffers"].items():
                if t is not None and name not in d["_non_persistent"]:
                    out[base + name] = t
        return out

    def _ignored_keys(self):
        """state_dict keys a matching PyTorch module has that slope accepts and ignores (see BatchNorm2d)."""
        return set()

    def load_state_dict(self, state_dict, strict=True):
        """Assign the tensors of `state_dict` (tensors or NumPy arrays, e.g. from slope.load) to the matching
        parameters and buffers, converted to each one's dtype; shapes must match. With strict=True a missing
        or unexpected key raises ArgumentError. Returns (missing_keys, unexpected_keys)."""
        own = {}
        ignored = set()
        for mp, m in self.named_modules():
            d = m.__dict__
            base = mp + "." if mp else ""
            for c in ("_parameters", "_buffers"):
                for name, t in d[c].items():
                    if t is not None and not (c == "_buffers" and name in d["_non_persistent"]):
                        own[base + name] = (m, c, name, t)
            ignored |= {base + k for k in m._ignored_keys()}
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own and k not in ignored]
        if strict and (missing or unexpected):
            raise ArgumentError(f"load_state_dict of {type(self).__name__}: missing keys {missing}, unexpected keys "
                                f"{unexpected}")
        staged = []
        for k, (m, c, name, t) in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            shape = tuple(v.shape)
            if shape != tuple(t.shape):
                raise ShapeError(f"load_state_dict of {type(self).__name__}: {k} has shape {shape} in the state "
                                 f"dict but {tuple(t.shape)} in the module")
            if _is_tensor(v):
                v = v if v.dtype is t.dtype else v.astype(t.dtype)
            else:
                v = _to_tensor(np.asarray(v).astype(t.dtype.np))
            staged.append((m, c, name, v))
        for m, c, name, v in staged:
            m.__dict__[c][name] = v
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ modes

    def train(self, mode=True):
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    # ------------------------------------------------------------ printing

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


pytree.register_pytree_node(Module, _flatten, _unflatten)


# ---------------------------------------------------------------- functional buffer updates

_collecting: list = []  # a stack of {id(module): {buffer name: new value}}


def record_buffer_update(module, name, value):
    """Called by layers whose forward computes new buffer values (BatchNorm2d's running statistics):
    collected by the innermost `nn.apply`, dropped otherwise."""
    if _collecting:
        _collecting[-1].setdefault(id(module), {})[name] = value


@contextlib.contextmanager
def _collect():
    updates: dict = {}
    _collecting.append(updates)
    try:
        yield updates
    finally:
        _collecting.pop()


def apply(model, *args, method="__call__", **kwargs):
    """Run model(*args, **kwargs) and return (output, updated model): a copy of `model` whose buffers hold the
    values its layers computed in this call (BatchNorm2d's running statistics in training mode), the model
    passed in unchanged. Pure, so it works under jit and grad (return the model as grad's aux output)."""
    if not isinstance(model, Module):
        raise ArgumentError(f"nn.apply: expected a Module, got {type(model).__name__}")
    with _collect() as updates:
        out = getattr(model, method)(*args, **kwargs)
    leaves, tree = pytree.tree_flatten(model)
    new = pytree.tree_unflatten(tree, leaves)
    for (_, old), (_, m) in zip(model.named_modules(), new.named_modules()):
        for name, v in updates.get(id(old), {}).items():
            m.__dict__["_buffers"][name] = v
    return out, new
