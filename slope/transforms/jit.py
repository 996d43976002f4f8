"""jit: stage a function to a Program, lower it to StableHLO, compile it with IREE, call it.

The staged call is itself a primitive (`jit_call`) whose param is the Program, so jit composes
with every other transformation: jvp/vmap/transpose rewrite the inner program and re-bind it.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from slope import lax
from slope import reference as ref
from slope.core import backend, memory
from slope.core import dtypes as dt
from slope.core import trace as _trace
from slope.core.aval import Aval
from slope.core.program import Program, UndefPrimal, eval_program, print_program
from slope.core.pytree import LEAF, TreeDef, tree_flatten, tree_unflatten
from slope.core.pytree import _registry as _pytree_registry
from slope.core.tensor import Tensor, as_tensor
from slope.core.trace import Tracer, get_aval
from slope.errors import ArgumentError, DTypeError, ShapeError, SlopeError, TransformError, describe
from slope.primitives.rules import instantiate
from slope.primitives.spec import ErrorInput, Spec, register
from slope.primitives.verify import Verify
from slope.transforms.jvp import jvp_flat
from slope.transforms.staging import make_program
from slope.transforms.transpose import transpose_program
from slope.transforms.vmap import vmap_flat

# ---------------------------------------------------------------- compiling a program


def compile_program(program: Program):
    """The backend's executable for a program (compiled once; cached on the program and on disk)."""
    if program._executable is None:
        memory.check(f"jit({program.name})", program.out_avals, "the results")  # before IREE allocates them
        program._executable = backend.get().compile(program, f"jit({program.name})")
    return program._executable


def _jit_call_rule(*avals, program):
    if list(avals) != program.in_avals:
        raise ShapeError(f"jit({program.name}): called with {describe(avals)}, "
                         f"compiled for {describe(program.in_avals)}")
    return program.out_avals


def _jit_call_impl(*args, program):
    _jit_call_rule(*[a.aval for a in args], program=program)  # the executable checks nothing itself
    exe = compile_program(program)
    bufs = exe([a._buf for a in args])
    return [Tensor(b, a) for b, a in zip(bufs, exe.out_avals)]


def _cached(program, key, build):
    cache = program.__dict__.setdefault("_transform_cache", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def jvp_program(program: Program):
    def build():

        n = len(program.in_vars)

        def traceable(*args):
            primals_out, tangents_out = jvp_flat(lambda *xs: eval_program(program, xs), args[:n], args[n:])
            return [*primals_out, *tangents_out]

        return make_program(traceable, program.in_avals * 2, f"jvp_{program.name}")

    return _cached(program, "jvp", build)


def _jit_call_jvp(primals, tangents, *, program):
    new_program, consts = jvp_program(program)
    outs = jit_call.bind(*consts, *primals, *tangents, program=new_program)
    n = len(program.outs)
    return outs[:n], outs[n:]


def vmap_program(program: Program, axis_size: int, dims: tuple):
    def build():

        avals = []
        for a, d in zip(program.in_avals, dims):
            shape = list(a.shape)
            if d is not None:
                shape.insert(d, axis_size)
            avals.append(Aval(shape, a.dtype))

        def traceable(*args):
            return vmap_flat(lambda *xs: eval_program(program, xs), axis_size, dims, [0] * len(program.outs), args)

        return make_program(traceable, avals, f"vmap_{program.name}")

    return _cached(program, ("vmap", axis_size, tuple(dims)), build)


def _jit_call_vmap(axis_size, args, dims, *, program):
    new_program, consts = vmap_program(program, axis_size, tuple(dims))
    outs = jit_call.bind(*consts, *args, program=new_program)
    return outs, [0] * len(outs)


def _jit_call_transpose(cts, *args, program):

    undef = tuple(isinstance(a, UndefPrimal) for a in args)
    new_program, consts = transpose_program(program, undef)
    residuals = [a for a, u in zip(args, undef) if not u]

    cts = [instantiate(ct, v.aval) for ct, v in zip(cts, program.outs)]
    outs = iter(jit_call.bind(*consts, *residuals, *cts, program=new_program))
    return [next(outs) if u else None for u in undef]


def _jit_call_errors():
    """A program called with operands other than those it was staged for."""
    f32 = dt.float32
    program, _ = make_program(lambda x: [x], [Aval((2,), f32)], "identity")
    return [
        ErrorInput([np.ones(3, np.float32)], {"program": program}, ShapeError,
                   r"jit\(identity\): called with f32\[3\], compiled for f32\[2\]"),
        ErrorInput([np.ones(2, np.int32)], {"program": program}, ShapeError,
                   r"jit\(identity\): called with i32\[2\], compiled for f32\[2\]"),
        ErrorInput([np.ones(2, np.float32), np.ones(2, np.float32)], {"program": program}, ShapeError,
                   r"jit\(identity\): called with f32\[2\], f32\[2\], compiled for f32\[2\]"),
    ]


_EDGE_PROGRAMS: dict = {}  # dtype name -> the staged edge-case program (a Program compiles once per identity)


def _broadcast_sum(x, w):
    """A product with a broadcast summed over two axes: IREE 3.13 fails to compile it as one reduce
    (docs/stablehlo-notes.md pitfall 17), so reduce_sum's lowering reduces axis by axis."""
    wb = lax.broadcast_in_dim(w, shape=(2, 3, 4), broadcast_dimensions=(1,))
    return [lax.reduce_sum(lax.mul(x, wb), axes=(0, 1))]


def _commutative_twins(x1, x2, x5, x9, x16, x20, x22, x32, x45, x51, x54, x56, x58, x60, x63, lax=lax):
    """mul(a, b) next to mul(b, a), fused by IREE with a divide into one dispatch that mixed up its two
    results (pitfall 35, fuzzer program 1163 shrunk): the emitter writes a commutative op's operands
    in one canonical order so that IREE merges the twins. (`lax`: tests pass a NumPy one.)"""
    x33 = lax.neg(x32)
    x36 = lax.add(lax.mul(x2, x33), lax.mul(x33, x2))
    x57 = lax.mul(x56, lax.div(x22, x16))
    x61 = lax.add(lax.add(lax.add(x45, x51), x58), x60)
    x65 = lax.add(x63, lax.mul(x57, x1))
    x66 = lax.broadcast_in_dim(lax.div(x54, x16), shape=(2,), broadcast_dimensions=())
    x67 = lax.dot_general(x66, x20, contracting_dims=((0,), (0,)), batch_dims=((), ()))
    x71 = lax.mul(lax.add(x36, lax.mul(lax.add(x61, x67), x9)), x5)
    return [lax.add(x65, x71)]


def _jit_call_edges(dtype):
    """Programs whose lowering carries a workaround of an IREE bug that only a program composing
    primitives can check (each primitive's own row runs it alone): _broadcast_sum (reduce_sum reduces
    axis by axis) and _commutative_twins (canonical operand order)."""
    if dtype.name not in _EDGE_PROGRAMS:
        twins_avals = [Aval((), dtype)] * 5 + [Aval((2,), dtype)] + [Aval((), dtype)] * 9
        _EDGE_PROGRAMS[dtype.name] = (
            make_program(_broadcast_sum, [Aval((2, 3, 4), dtype), Aval((3,), dtype)], "broadcast_sum")[0],
            make_program(_commutative_twins, twins_avals, "commutative_twins")[0])
    broadcast_sum, twins = _EDGE_PROGRAMS[dtype.name]
    x = ((np.arange(24).reshape(2, 3, 4) % 5 - 2) * 0.25).astype(dtype.np)
    w = np.array([0.5, -1.0, 1.5], dtype.np)
    ones = np.ones((), dtype.np)
    twins_args = [ones] * 5 + [np.array([0.02364325, 0.90092739], dtype.np)] + [ones] * 9
    return [([x, w], {"program": broadcast_sum}), (twins_args, {"program": twins})]


jit_call = register(Spec(
    name="jit_call",
    abstract_eval=_jit_call_rule,
    jvp=_jit_call_jvp,
    transpose=_jit_call_transpose,
    vmap=_jit_call_vmap,
    multiple_results=True,
    eager=_jit_call_impl,
    reference=ref.jit_call,
    verify=Verify(edge_cases=_jit_call_edges),
    error_inputs=lambda: _jit_call_errors(),
    doc="call a staged Program (what slope.jit produces)",
))

# ---------------------------------------------------------------- the user-facing decorator


class Lowered:
    """What `f.lower(*args)` returns: the slope IR (`.program`) and StableHLO (`.code`) for those args."""
    def __init__(self, program: Program, consts):
        self._program, self.consts = program, consts

    @property
    def program(self) -> Program:
        return self._program

    @property
    def code(self) -> str:
        return backend.get().text(self._program)

    def compile(self):
        return compile_program(self._program)

    def __repr__(self):
        return f"{print_program(self._program)}\n{self.code}"


class Jitted:
    """A function staged and compiled per input structure (pytree + shapes + dtypes)."""
    def __init__(self, fun, static_argnums=()):
        functools.update_wrapper(self, fun, updated=())  # name/doc only: never copy fun.__dict__
        self.fun = fun
        self.static_argnums = tuple(static_argnums)
        self._cache = {}
        self._fast = {}  # _flat_tensors signature -> (executable, const buffers, output builder)
        self._sig = _signature(fun)

    def _static_positions(self, args):
        """static_argnums as positions in args (negative ones count from the end, as in JAX)."""
        n, out = len(args), []
        for i in self.static_argnums:
            if not -n <= i < n:
                raise TransformError(f"jit({self.__name__}): static_argnums {self.static_argnums} out of range: "
                                     f"called with {n} positional argument{'s' if n != 1 else ''}")
            out.append(i % n)
        for i in out:
            a = args[i]
            if isinstance(a, (Tensor, Tracer)):
                raise TransformError(f"jit({self.__name__}): argument {i} is static (static_argnums) but is a tensor "
                                     f"{get_aval(a).str_short()}; static arguments must be hashable Python values "
                                     "(ints, floats, strings, tuples): pass tensors as ordinary arguments")
            try:
                hash(a)
            except TypeError:
                raise TransformError(f"jit({self.__name__}): argument {i} is static (static_argnums) but "
                                     f"{type(a).__name__} is not hashable; pass a tuple instead of a list, or "
                                     "pass arrays as ordinary arguments") from None
        return tuple(sorted(set(out)))

    def _prepare(self, args, kwargs):
        positions = self._static_positions(args) if self.static_argnums else ()
        static = tuple((i, args[i]) for i in positions)
        dynamic = tuple(a for i, a in enumerate(args) if i not in positions)
        flat, in_tree = tree_flatten((dynamic, kwargs))
        flat = [x if isinstance(x, (Tensor, Tracer)) else self._as_tensor(x, args, kwargs) for x in flat]
        avals = tuple(get_aval(x) for x in flat)
        key = (in_tree, avals, static)
        entry = self._cache.get(key)
        if entry is None:
            # binding depends only on the argument count and keyword names, both part of the key,
            # so a cached entry was checked when it was made
            self._check_signature(args, kwargs)
            entry = self._cache[key] = self._trace(in_tree, avals, dict(static))
        return entry, flat

    def _as_tensor(self, x, args, kwargs):
        """A non-tensor argument as a tensor (a Python number, a NumPy array); else the error names this jit."""
        try:
            return as_tensor(x)
        except Exception as e:
            self._check_signature(args, kwargs)  # a wrong argument count is the error to report
            kind = type(e) if isinstance(e, SlopeError) else DTypeError
            raise kind(f"jit({self.__name__}): argument {x!r:.40} ({type(x).__name__}) is not a tensor: {e}") from None

    def _check_signature(self, args, kwargs):
        if self._sig is not None:
            try:
                self._sig.bind(*args, **kwargs)
            except TypeError as e:
                raise TransformError(f"jit({self.__name__}): {e} (called with {len(args)} positional args)") from None

    def _trace(self, in_tree, avals, static):
        out_tree_box = []
        n_args = in_tree.children[0].children.__len__()

        def flat_fun(*flat):
            dyn, kwargs = tree_unflatten(in_tree, flat)
            dyn = iter(dyn)
            total = n_args + len(static)
            args = [static[i] if i in static else next(dyn) for i in range(total)]
            out = self.fun(*args, **kwargs)
            leaves, out_tree = tree_flatten(out)
            out_tree_box.append(out_tree)
            return leaves

        program, consts = make_program(flat_fun, list(avals), getattr(self.fun, "__name__", "f"))
        return program, consts, out_tree_box[0]

    def __call__(self, *args, **kwargs):
        sig = None
        if not kwargs and _trace.dynamic_trace is None:
            sig, flat = _flat_tensors(args)
            if sig is not None:
                try:
                    entry = self._fast.get(sig)
                except TypeError:  # an unhashable node aux: the general path takes it (and says why)
                    entry = sig = None
                if entry is not None:  # the fast path: no tracing involved, the executable called directly
                    exe, bufs, build = entry
                    outs = exe(bufs + [t._buf for t in flat])
                    return build([Tensor(b, a) for b, a in zip(outs, exe.out_avals)])
        (program, consts, out_tree), flat = self._prepare(args, kwargs)
        outs = jit_call.bind(*consts, *flat, program=program)
        if sig is not None and not kwargs and not self.static_argnums and _trace.dynamic_trace is None \
                and all(type(c) is Tensor for c in consts) and len(self._fast) < 64:
            self._fast[sig] = (compile_program(program), [c._buf for c in consts], _unflattener(out_tree))
        return tree_unflatten(out_tree, outs)

    def lower(self, *args, **kwargs) -> Lowered:
        (program, consts, _), _ = self._prepare(args, kwargs)
        return Lowered(program, consts)


class _NotFast(Exception):
    """An argument the fast path does not key (a Python number, an array, an unhashable node): the general path takes it."""


def _flat_tensors(args):
    """The Tensor leaves of positional args (pytrees of Tensors: lists, tuples, dicts, None, namedtuples
    and registered nodes such as nn.Modules) and a hashable signature of their structure, shapes and
    dtypes; (None, None) for anything else (a non-Tensor leaf, a dict whose keys do not sort).

    This is the jit fast path's cache key: much cheaper than tree_flatten + avals + the TreeDef's
    hash (a Llama decode step with 38 leaves: ~45 us of the call). A signature seen before was
    accepted by the general path (argument count, pytree, avals), so it needs no checks again. It
    holds what tree_flatten's TreeDef holds: each node's type and aux (a dict's sorted keys) and
    each leaf's aval."""
    flat = []
    registry = _pytree_registry
    add = flat.append

    def rec(x):
        t = type(x)
        if t is Tensor:
            add(x)
            a = x.aval
            return (a.shape, a.dtype)  # hashes ~2x faster than the Aval (whose __hash__ is Python)
        if t is list or t is tuple:
            return (t, tuple([rec(c) for c in x]))
        if t is dict:
            keys = tuple(sorted(x))
            return (dict, keys, tuple([rec(x[k]) for k in keys]))
        if x is None:
            return None
        node = registry.get(t)
        if node is not None:
            children, aux = node.flatten(x)
            return (t, aux, tuple([rec(c) for c in children]))
        if isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
            return (t, tuple([rec(c) for c in x]))
        raise _NotFast

    try:
        return tuple([rec(a) for a in args]), flat
    except (_NotFast, TypeError):  # TypeError: dict keys that do not sort
        return None, None


def _unflattener(tree):
    """A function building the pytree `tree` from its list of leaves (tree_unflatten, with the
    recursion over the structure done once here instead of on every call)."""
    build, _ = _builder(tree, 0)
    return build


def _builder(tree, start):
    if tree.node is None:
        return (lambda leaves: leaves[start]), 1
    kids, n = [], 0
    for c in tree.children:
        f, k = _builder(c, start + n)
        kids.append(f)
        n += k
    end = start + n
    all_leaves = all(c.node is None for c in tree.children)
    if tree.node is list and all_leaves:
        return (lambda leaves: leaves[start:end]), n
    if tree.node is tuple and all_leaves:
        return (lambda leaves: tuple(leaves[start:end])), n
    if tree.node is tuple:
        return (lambda leaves: tuple([f(leaves) for f in kids])), n
    if tree.node is list:
        return (lambda leaves: [f(leaves) for f in kids]), n
    sub = TreeDef(tree.node, tree.aux, [LEAF] * len(kids))
    return (lambda leaves: tree_unflatten(sub, [f(leaves) for f in kids])), n


def _signature(fun):
    try:
        return inspect.signature(fun)
    except (TypeError, ValueError):
        return None


def jit(fun=None, *, static_argnums=()):
    """Compile `fun` with IREE. Use as `@jit`, `@jit(static_argnums=...)` or `jit(f)`."""
    if static_argnums is None:
        static_argnums = ()
    nums = static_argnums if isinstance(static_argnums, (tuple, list)) else (static_argnums,)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise ArgumentError(f"jit: static_argnums must be an int or a tuple of ints, got {static_argnums!r}")
    static_argnums = tuple(nums)
    if fun is not None and not callable(fun):
        raise ArgumentError(f"jit: expected a function to compile, got {type(fun).__name__} {fun!r:.60}")
    if fun is None:
        return lambda f: Jitted(f, static_argnums)
    return Jitted(fun, static_argnums)
