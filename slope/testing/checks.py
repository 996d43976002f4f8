"""The checks: one public function per property a primitive must have.

Each `check_<name>(spec, example)` takes a Spec (or a registered primitive's name) and an Example
(slope.testing.example), raises `Mismatch` (an AssertionError) with a precise message when slope
disagrees with the truth, and returns None otherwise. They are deterministic functions of their
inputs, so a failing Example is its own reproduction. Transformation checks run under `slope.jit`
so that each compiles ONE module (eager transformations compile every op of a rule separately);
`check_eager` stays eager.

  check_abstract_eval   the shape/dtype rule == the reference's output == IREE's actual buffers
  check_eager           eager evaluation (one op compiled alone) vs the NumPy oracle; the
                        operands' device buffers are unchanged afterwards (no in-place reuse)
  check_jit             the op staged by slope.jit vs the oracle; operands unchanged too
  check_vmap            vmap vs stacking per-slice oracle results, for every batch-dim placement
                        (each operand at each of its dims, and unbatched), all in one module; every
                        other placement puts the batch dim last (out_axes=-1), and out_axes=None
                        must be refused for a batched output
  check_jvp             jvp: primal vs oracle, tangent vs float64 central differences
  check_vjp             dot-product test <ct, J t> == <J^T ct, t>, and J^T ct vs float64 FD
  check_linearize       linearize: primal vs oracle, f_lin(t) vs float64 FD
  check_second_order    jvp of grad: grad vs FD, Hessian-vector product vs FD of the FD gradient
  check_errors          every spec.error_inputs() case raises its error type and message,
                        eagerly and under jit

Derivative truth: float64 FD of the reference, except on an input where the spec's
`on_derivative_kink` holds (abs at 0, tied maximum operands, x at a clamp bound, tied sort keys):
there the spec's declared `kink_derivative` (its convention, e.g. abs'(0) = 1) is the truth, its
transpose for the vjp, and a zero Hessian (slope.primitives.verify). Inputs with a NaN or infinite
operand or output, or a non-finite FD (a domain boundary), have no derivative to compare: the
derivative checks skip them (such edge cases exercise the value checks), as they skip examples of
more than FD_MAX_ELEMENTS differentiable elements (FD would cost thousands of reference calls).
"""
from __future__ import annotations

import re

import numpy as np

import slope
from slope import lax
from slope.core import dtypes as dt
from slope.core.aval import Aval
from slope.errors import ArgumentError, DTypeError
from slope.primitives import REGISTRY
from slope.primitives.spec import checked_params
from slope.testing import batched, fd, raises
from slope.testing.batched import jit_named, run_jitted
from slope.testing.example import Example
from slope.testing.op_table import OPS
from slope.testing.tolerances import Mismatch, assert_close, assert_scalar_close
from slope.transforms.staging import make_program

CHECKS = ("abstract_eval", "eager", "jit", "vmap", "jvp", "vjp", "linearize", "second_order", "errors")
DERIVATIVE_CHECKS = ("jvp", "vjp", "linearize", "second_order")
# what each check needs drawn besides operands and params (see strategies.examples)
NEEDS = {
    "abstract_eval": {}, "eager": {}, "jit": {},
    "vmap": {"batch": None},  # None: strategies.VMAP_BATCH
    "jvp": {"tangents": True},
    "vjp": {"tangents": True, "cotangents": True},
    "linearize": {"tangents": True},
    "second_order": {"tangents": True, "cotangents": True},
}


class NotApplicable(Exception):
    """The example cannot exercise this check (e.g. no floating-point operand to differentiate)."""


def get_spec(spec):
    """A Spec, given one or the name of a registered primitive (or an OpInfo, or "ops.<name>")."""
    if isinstance(spec, str):
        if spec.startswith("ops."):
            return OPS[spec]
        if spec not in REGISTRY:
            raise KeyError(f"no primitive named {spec!r}")
        return REGISTRY[spec]
    return spec


# ---------------------------------------------------------------- helpers


def _tensor(a):
    return slope.tensor(np.asarray(a))


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _bind(spec, xs, params):
    return _as_list(spec.bind(*xs, **params))


def _np_dtype(x):
    return x.dtype.np if hasattr(x.dtype, "np") else np.dtype(x.dtype)


def _tol_dtype(ex_dtype, out_dtype):
    """Compare at the precision of the less precise of the example's dtype and the output's."""
    a, b = dt.dtype(ex_dtype), dt.dtype(out_dtype)
    if a.is_float and b.is_float and a.bits < b.bits:
        return a
    return b


def _compare_outputs(spec, ex, actual, expected, what, kind="value"):
    """Outputs (Tensors) vs oracle arrays: count, shape, dtype, then values."""
    if len(actual) != len(expected):
        raise Mismatch(f"{spec.name} {what}: {len(actual)} outputs, the reference returns {len(expected)}")
    for k, (a, e) in enumerate(zip(actual, expected)):
        label = f"{spec.name} {what}" + (f" {k}" if len(expected) > 1 else "")
        a_np = np.asarray(a)
        if a_np.dtype != e.dtype:
            raise Mismatch(f"{label}: dtype {a_np.dtype} != reference dtype {e.dtype}")
        assert_close(a_np, e, _tol_dtype(ex.dtype, e.dtype), kind, label)


def _default_array(rng, a):
    a = np.asarray(a)
    return np.asarray(rng.uniform(-1, 1, a.shape), dtype=a.dtype)


def _with_tangents(spec, ex: Example, cotangents=False) -> Example:
    """Fill in missing tangents/cotangents deterministically (for hand-written Examples)."""
    rng = np.random.default_rng(0)
    if ex.tangents is None:
        ex.tangents = [_default_array(rng, a) if fd.is_float(a) else None for a in ex.args]
    if cotangents and ex.cotangents is None:
        outs = fd.call_reference(spec, ex.args, ex.params)
        ex.cotangents = [_default_array(rng, o) if fd.is_float(o) else None for o in outs]
    return ex


def _partial(spec, xs, diff, params):
    """The primitive as a function of its differentiable operands, the others fixed to xs."""

    def f(*dx):
        full = list(xs)
        for i, v in zip(diff, dx):
            full[i] = v
        return _bind(spec, full, params)

    return f


# Differentiable operand elements above which an example is for the value checks only: finite
# differences evaluate the reference ~4x per element (16x for the Hessian), so conv's edge cases of
# 2,049 positions (there to reach its lowering's im2col joins) took ~95 s of a row's ~100 s.
FD_MAX_ELEMENTS = 1024


def _flat_for(spec, ex):
    flat = fd.Flat(spec, ex.args, ex.params)
    if not flat.diff:
        raise NotApplicable(f"{spec.name}: no floating-point operand to differentiate in this example")
    if sum(flat.sizes) > FD_MAX_ELEMENTS:
        raise NotApplicable(f"{spec.name}: {int(sum(flat.sizes))} operand elements, too many for finite differences "
                            f"(over {FD_MAX_ELEMENTS}): an example for the value checks")
    if not all(np.all(np.isfinite(ex.args[i])) for i in flat.diff) or not np.all(np.isfinite(flat(flat.x0))):
        raise NotApplicable(f"{spec.name}: a NaN or infinite operand or output (an edge case for the values): "
                            "no derivative to compare")
    return flat


class _Truth:
    """The derivative slope's rules must give at an example: float64 finite differences of the
    reference, or, where the spec's `on_derivative_kink` holds, its declared `kink_derivative`
    (the convention at the kink; its Hessian is 0 there, see slope.primitives.verify)."""

    def __init__(self, spec, ex, flat):
        self.spec, self.ex, self.flat = spec, ex, flat
        kink = spec.verify.on_derivative_kink
        self.on_kink = kink is not None and bool(kink(*ex.args, **ex.params))
        if self.on_kink and spec.verify.kink_derivative is None:
            raise NotApplicable(f"{spec.name}: the example sits on a kink of the derivative and the spec declares "
                                "no kink_derivative")

    def _kink_jvp(self, packed_t):
        flat = self.flat
        ts = [None] * len(self.ex.args)
        for i, t in zip(flat.diff, flat.unpack(packed_t)):
            ts[i] = t
        outs = self.spec.verify.kink_derivative(list(self.ex.args), ts, **self.ex.params)
        return flat.pack([np.asarray(outs[k], np.float64) for k in flat.out_float])

    def _finite(self, arrays, what):
        if not all(np.all(np.isfinite(a)) for a in arrays):
            raise NotApplicable(f"{self.spec.name}: the finite-difference {what} is not finite here (a boundary "
                                "of the domain): no derivative to compare")
        return arrays

    def _fd(self, what, compute, *arrays):
        """compute(), finite differences, memoized on the example and `arrays`: a batched check
        (slope.testing.batched) runs each example twice, and FD of a big reference is slow."""
        key = (self.spec.reference, what, _digest(self.ex.args, self.ex.params, *arrays))  # not by name: stand-ins share names
        if key not in _FD_MEMO:
            if len(_FD_MEMO) >= _FD_MEMO_MAX:
                del _FD_MEMO[next(iter(_FD_MEMO))]
            _FD_MEMO[key] = compute()
        return _FD_MEMO[key]

    def jvp(self, tangents):
        flat = self.flat
        if self.on_kink:
            return flat.unpack_out(self._kink_jvp(flat.pack(tangents)))
        return self._finite(self._fd("jvp", lambda: fd.jvp(flat, tangents), *tangents), "derivative")

    def _kink_jacobian(self):
        n = int(sum(self.flat.sizes))
        cols = [self._kink_jvp(np.eye(n)[j]) for j in range(n)]
        m = int(sum(self.flat.out_sizes))
        return np.stack(cols, axis=1) if cols else np.zeros((m, 0))

    def vjp(self, cotangents):
        flat = self.flat
        if self.on_kink:
            return flat.unpack(self._kink_jacobian().T @ flat.pack(cotangents))
        return self._finite(self._fd("vjp", lambda: fd.vjp(flat, cotangents), *cotangents), "gradient")

    def hvp(self, tangents, cotangents):
        if self.on_kink:
            return [np.zeros(s) for s in self.flat.shapes]
        return self._finite(self._fd("hvp", lambda: fd.hvp(self.flat, tangents, cotangents), *tangents, *cotangents),
                            "Hessian")

    def hvp_noise(self, cotangents):
        """The rounding error of hvp()'s finite differences (none for the declared kink convention)."""
        if self.on_kink:
            return [np.zeros(s) for s in self.flat.shapes]
        return self._fd("hvp_noise", lambda: fd.hvp_noise(self.flat, cotangents), *cotangents)


_FD_MEMO: dict = {}
_FD_MEMO_MAX = 4096  # a row's examples (dry runs and the real run ask for each; FD of conv takes seconds)


def _digest(args, params, *arrays) -> str:
    import hashlib

    h = hashlib.sha256(repr(sorted(params.items(), key=lambda kv: kv[0])).encode())
    for a in (*args, None, *arrays):
        a = np.asarray(a) if a is not None else np.zeros(0, np.int8)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _zero_tangent_check(spec, t, o_aval_like, what):
    t = np.asarray(t)
    if t.shape != np.asarray(o_aval_like).shape:
        raise Mismatch(f"{spec.name} {what}: shape {t.shape} != output shape {np.asarray(o_aval_like).shape}")
    if np.any(t != 0):
        raise Mismatch(f"{spec.name} {what}: the tangent of a non-float output must be zero, got {t!r}")


# ---------------------------------------------------------------- abstract eval, eager, jit


def check_abstract_eval(spec, ex: Example):
    """The shape/dtype rule agrees with the oracle, with staging, and with IREE's actual output buffers."""
    spec = get_spec(spec)
    avals = [Aval(np.asarray(a).shape, np.asarray(a).dtype) for a in ex.args]
    rule = spec.abstract_eval(*avals, **ex.params)
    expected = fd.call_reference(spec, ex.args, ex.params)
    if len(rule) != len(expected):
        raise Mismatch(f"{spec.name}: the shape rule gives {len(rule)} outputs, the reference {len(expected)}")
    for k, (r, e) in enumerate(zip(rule, expected)):
        if r.shape != e.shape or r.dtype.np != e.dtype:
            raise Mismatch(f"{spec.name}: the shape rule gives output {k} as {r.str_short()} "
                           f"{r.shape}, the reference returns {e.dtype} {e.shape}")
    staged, _ = make_program(lambda *xs: _bind(spec, xs, ex.params), avals, f"abstract_eval_{spec.name}")
    if staged.out_avals != list(rule):
        raise Mismatch(f"{spec.name}: staged program outputs {staged.out_avals} != shape rule {rule}")
    outs = _bind(spec, [_tensor(a) for a in ex.args], ex.params)
    for k, (o, r) in enumerate(zip(outs, rule)):
        shape, dtype = _buffer_shape_dtype(o)
        if shape is not None and (tuple(shape) != r.shape):
            raise Mismatch(f"{spec.name}: IREE returned output {k} with shape {tuple(shape)}, the rule says {r.shape}")
        if dtype is not None and dtype != r.dtype.np:
            raise Mismatch(f"{spec.name}: IREE returned output {k} as {dtype}, the rule says {r.dtype.name}")


def _buffer_shape_dtype(t):
    """The shape and NumPy dtype of a tensor's device buffer as IREE reports them (None if unknown)."""
    try:
        import iree.runtime as rt

        bv = t._buf.deref(rt.HalBufferView)
        shape = tuple(int(d) for d in bv.shape)
    except Exception:  # pragma: no cover - other runtime builds
        return None, None
    try:
        from iree.runtime.array_interop import map_hal_element_type_to_dtype
        dtype = np.dtype(map_hal_element_type_to_dtype(bv.element_type))
    except Exception:
        dtype = None
    return shape, dtype


def check_eager(spec, ex: Example):
    """Eager evaluation (the op compiled alone, run on IREE) equals the NumPy oracle, and leaves
    its operands' device buffers as they were."""
    spec = get_spec(spec)
    tensors = [_tensor(a) for a in ex.args]
    outs = _bind(spec, tensors, ex.params)
    _compare_outputs(spec, ex, outs, fd.call_reference(spec, ex.args, ex.params), "eager output")
    _check_operands_unchanged(spec, ex, tensors, "eager")


def check_jit(spec, ex: Example):
    """The op staged and compiled by slope.jit equals the NumPy oracle."""
    spec = get_spec(spec)
    params = ex.params
    tensors = [_tensor(a) for a in ex.args]
    outs = _as_list(run_jitted(lambda *xs: _bind(spec, xs, params), f"jit_{spec.name}", *tensors))
    _compare_outputs(spec, ex, outs, fd.call_reference(spec, ex.args, ex.params), "jit output")
    _check_operands_unchanged(spec, ex, batched.operands(tensors), "jit")


def _check_operands_unchanged(spec, ex, tensors, mode):
    """IREE may reuse an argument's buffer for a result (iree-org/iree#16168): after the call, a
    fresh read of every operand's device buffer must still equal the drawn array, bit for bit."""
    for k, (t, a) in enumerate(zip(tensors, ex.args)):
        a = np.asarray(a)
        now = t.numpy()
        if (now.shape, now.dtype) != (a.shape, a.dtype) or not np.array_equal(_bytes(now), _bytes(a)):
            raise Mismatch(f"{spec.name} {mode}: the call changed operand {k} ({a.dtype}{a.shape}) in place: "
                           f"{a!r} became {now!r}")


def _bytes(a):
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


# ---------------------------------------------------------------- vmap


def batch_placements(ranks):
    """Batch-dim placements (one entry per operand: a dim of the batched operand, or None = unbatched).

    Covers every operand at every one of its dims, every operand unbatched, operands batched at
    different dims at once, and each operand batched alone. Never all None.
    """
    n = len(ranks)
    out = []

    def add(p):
        if any(d is not None for d in p) and p not in out:
            out.append(p)

    top = max(ranks, default=0)
    for k in range(top + 1):
        add(tuple(min(k, r) for r in ranks))
    if n > 1:
        for k in range(top + 1):
            add(tuple((k + i) % (r + 1) for i, r in enumerate(ranks)))
        for i in range(n):
            add(tuple(None if j == i else r for j, r in enumerate(ranks)))
        for i in range(n):
            add(tuple(0 if j == i else None for j in range(n)))
    return out


def check_vmap(spec, ex: Example, placements=None):
    """vmap of the op equals stacking the oracle's per-slice results, for every batch-dim placement.

    ex.batch holds the members (operand lists of one structure). An unbatched operand takes the
    first member's value for every slice. All placements run in one jitted module.
    """
    spec = get_spec(spec)
    members = ex.batch or [ex.args]
    members = [[np.asarray(a) for a in m] for m in members]
    B, n, params = len(members), len(ex.args), ex.params
    no_operands = n == 0
    ranks = [a.ndim for a in members[0]]
    placements = [tuple(p) for p in (placements or ([(0,)] if no_operands else batch_placements(ranks)))]
    inputs, expected = [], []
    for dims in placements:
        if no_operands:
            inputs.append(np.zeros((B,), np.float32))
            slices = [[] for _ in range(B)]
        else:
            for i, d in enumerate(dims):
                inputs.append(members[0][i] if d is None else np.stack([m[i] for m in members], axis=d))
            slices = [[members[b][i] if d is not None else members[0][i] for i, d in enumerate(dims)] for b in range(B)]
        per = [fd.call_reference(spec, s, params) for s in slices]
        expected.append([np.stack([p[k] for p in per], axis=0) for k in range(len(per[0]))])

    if no_operands:
        def g(_dummy):
            return _bind(spec, [], params)
    else:
        def g(*xs):
            return _bind(spec, xs, params)

    out_axes = [0 if j % 2 == 0 else -1 for j in range(len(placements))]  # every other placement: batch dim last
    # out_axes=None for the first placement: refused (TransformError) where an output is batched, which
    # tracing alone tells; asked before the jitted call so that the call is all the check stages
    unbatched_asked = not no_operands and _returns_unbatched(g, placements[0], inputs[:len(placements[0])])

    def vmap_all(*flat):
        outs, unbatched, pos = [], [], 0
        for j, dims in enumerate(placements):
            args = flat[pos:pos + len(dims)]
            pos += len(dims)
            try:
                outs.append(slope.vmap(g, in_axes=dims, out_axes=out_axes[j])(*args))
            except Exception as e:
                e.add_note(f"while tracing {spec.name} under vmap with in_axes={dims}, out_axes={out_axes[j]}")
                raise
            if j == 0 and unbatched_asked:
                unbatched = _as_list(slope.vmap(g, in_axes=dims, out_axes=None)(*args))
        return outs, unbatched

    results, unbatched = run_jitted(vmap_all, f"vmap_{spec.name}", *[_tensor(a) for a in inputs])
    if unbatched_asked:
        # allowed (as in JAX) only where the output does not depend on the batch: the same for every member
        for k, exp in enumerate(expected[0]):
            if any(not np.array_equal(e, exp[0], equal_nan=True) for e in exp[1:]):
                raise Mismatch(f"{spec.name}: vmap(in_axes={placements[0]}, out_axes=None) returned output {k}, "
                               "which differs between batch members, unbatched instead of raising TransformError")
        _compare_outputs(spec, ex, unbatched, [e[0] for e in expected[0]],
                         f"vmap(in_axes={placements[0]}, out_axes=None) output (the same for every batch member)")
    for j, (dims, got, exp) in enumerate(zip(placements, results, expected)):
        exp = [np.moveaxis(e, 0, out_axes[j]) for e in exp]
        _compare_outputs(spec, ex, _as_list(got), exp, f"vmap(in_axes={dims}, out_axes={out_axes[j]}) output")


def _returns_unbatched(g, dims, inputs) -> bool:
    """Whether vmap(g, in_axes=dims, out_axes=None) traces on these batched inputs (it raises
    TransformError where an output depends on the batch)."""
    from slope.errors import TransformError

    avals = [Aval(np.shape(a), np.asarray(a).dtype) for a in inputs]
    try:
        make_program(lambda *xs: _as_list(slope.vmap(g, in_axes=dims, out_axes=None)(*xs)), avals, "vmap_unbatched")
    except TransformError:
        return False
    return True


# ---------------------------------------------------------------- derivatives


def _check_forward(spec, ex: Example, transform: str, apply):
    """Shared by check_jvp and check_linearize: run `apply(f, primals, tangents) -> (outs, touts)`
    under jit; primal outputs == oracle, tangent outputs == float64 central differences."""
    spec = get_spec(spec)
    ex = _with_tangents(spec, ex)
    flat = _flat_for(spec, ex)
    diff, n, params = flat.diff, len(ex.args), ex.params

    def forward(*a):
        xs, ts = a[:n], a[n:]
        return apply(_partial(spec, xs, diff, params), tuple(xs[i] for i in diff), tuple(ts))

    expected = fd.call_reference(spec, ex.args, params)
    truth = _Truth(spec, ex, flat)  # before the call: an example it rejects (NotApplicable) stages nothing
    vs = "the declared derivative at the kink" if truth.on_kink else "float64 FD"
    truth = iter(truth.jvp([ex.tangents[i] for i in diff]))
    po, to = run_jitted(forward, f"{transform}_{spec.name}", *[_tensor(x) for x in ex.args],
                        *[_tensor(ex.tangents[i]) for i in diff])
    _compare_outputs(spec, ex, _as_list(po), expected, f"{transform} primal output")
    for k, (t, e) in enumerate(zip(_as_list(to), expected)):
        label = f"{spec.name} {transform} tangent output" + (f" {k}" if len(expected) > 1 else "")
        if k in flat.out_float:
            t_np = np.asarray(t)
            if t_np.dtype != e.dtype:
                raise Mismatch(f"{label}: dtype {t_np.dtype} != output dtype {e.dtype}")
            assert_close(t_np, next(truth), _tol_dtype(ex.dtype, e.dtype), "grad", f"{label} (vs {vs})")
        else:
            _zero_tangent_check(spec, t, e, f"{transform} tangent output {k}")


def check_jvp(spec, ex: Example):
    """jvp under jit: primal outputs == oracle, tangent outputs == float64 central differences."""
    _check_forward(spec, ex, "jvp", lambda f, xs, ts: slope.jvp(f, xs, ts))


def _cotangent_tensors(slope, spec, ex, cts_in, flat, expected_avals):
    """A cotangent per output: the drawn one for float outputs, zeros for the others."""
    it = iter(cts_in)
    out = []
    for k, aval in enumerate(expected_avals):
        if k in flat.out_float:
            out.append(next(it))
        else:
            out.append(lax.full(shape=tuple(aval.shape), value=0, dtype=aval.dtype))
    return out


def _float_cts(ex, flat):
    cts = [ex.cotangents[k] for k in flat.out_float]
    if any(c is None for c in cts):
        raise Mismatch("example has no cotangent for a floating-point output")
    return cts


def check_vjp(spec, ex: Example):
    """vjp under jit: the dot-product test <ct, J t> == <J^T ct, t> (J t from slope's jvp), and
    J^T ct vs float64 finite differences of the reference."""
    spec = get_spec(spec)
    ex = _with_tangents(spec, ex, cotangents=True)
    flat = _flat_for(spec, ex)
    diff, n, nd, params = flat.diff, len(ex.args), len(flat.diff), ex.params
    if not flat.out_float:
        raise NotApplicable(f"{spec.name}: no floating-point output in this example")
    out_avals = spec.abstract_eval(*[Aval(np.asarray(a).shape, np.asarray(a).dtype) for a in ex.args], **params)
    cts = _float_cts(ex, flat)

    def vjp_fn(*a):
        xs, ts, cts_in = a[:n], a[n:n + nd], a[n + nd:]
        f = _partial(spec, xs, diff, params)
        dx = tuple(xs[i] for i in diff)
        _, jt = slope.jvp(f, dx, tuple(ts))
        _, f_vjp = slope.vjp(f, *dx)
        xbar = f_vjp(_cotangent_tensors(slope, spec, ex, cts_in, flat, out_avals))
        return list(jt), list(xbar)

    truth = _Truth(spec, ex, flat)  # before the call: an example it rejects (NotApplicable) stages nothing
    vs = "the transposed declared derivative at the kink" if truth.on_kink else "float64 FD"
    xbar_truth = truth.vjp(cts)
    jt, xbar = run_jitted(vjp_fn, f"vjp_{spec.name}", *[_tensor(x) for x in ex.args],
                          *[_tensor(ex.tangents[i]) for i in diff], *[_tensor(c) for c in cts])
    jt = [np.asarray(jt[k], np.float64) for k in flat.out_float]
    xbar = [np.asarray(x) for x in xbar]
    ts = [np.asarray(ex.tangents[i], np.float64) for i in diff]
    for i, (x, a) in zip(diff, zip(xbar, [ex.args[i] for i in diff])):
        if x.shape != np.asarray(a).shape or x.dtype != np.asarray(a).dtype:
            raise Mismatch(f"{spec.name} vjp: cotangent of operand {i} is {x.dtype}{x.shape}, "
                           f"the operand is {np.asarray(a).dtype}{np.asarray(a).shape}")
    lhs_terms = [np.asarray(c, np.float64) * j for c, j in zip(cts, jt)]
    rhs_terms = [x.astype(np.float64) * t for x, t in zip(xbar, ts)]
    lhs = float(sum(np.sum(t) for t in lhs_terms))
    rhs = float(sum(np.sum(t) for t in rhs_terms))
    scale = float(sum(np.sum(np.abs(t)) for t in lhs_terms + rhs_terms))
    # the inner products are only as exact as the least precise float among operands and outputs
    # (convert f64 -> f32 rounds J t to float32)
    adj_dtype = ex.dtype
    for k in flat.out_float:
        adj_dtype = _tol_dtype(adj_dtype, out_avals[k].dtype)
    # slope flushes subnormal results to zero: an element of J t or J^T ct that came out 0 may stand for a
    # value below the smallest normal number, which NumPy's inner product on the other side keeps
    flushed = dt.smallest_normal(dt.dtype(adj_dtype).np) * float(
        sum(np.sum(np.abs(np.asarray(c, np.float64))[j == 0]) for c, j in zip(cts, jt))
        + sum(np.sum(np.abs(t)[x == 0]) for x, t in zip(xbar, ts)))
    assert_scalar_close(lhs, rhs, scale, adj_dtype, "adjoint",
                        f"{spec.name} vjp dot-product test <ct, J t> vs <J^T ct, t> (the transpose is not the adjoint "
                        "of the linearization)", flushed=flushed)
    for i, x, e in zip(diff, xbar, xbar_truth):
        assert_close(x, e, _tol_dtype(ex.dtype, x.dtype), "grad", f"{spec.name} vjp cotangent of operand {i} (vs {vs})")


def check_linearize(spec, ex: Example):
    """linearize under jit: primal outputs == oracle, f_lin(t) == float64 central differences."""

    def apply(f, xs, ts):
        out, f_lin = slope.linearize(f, *xs)
        return out, f_lin(*ts)

    _check_forward(spec, ex, "linearize", apply)


def check_second_order(spec, ex: Example):
    """jvp of grad under jit, for g(x) = sum_k <ct_k, f(x)_k>: grad g == FD, H t == FD of the FD gradient."""
    spec = get_spec(spec)
    ex = _with_tangents(spec, ex, cotangents=True)
    flat = _flat_for(spec, ex)
    if not flat.out_float:
        raise NotApplicable(f"{spec.name}: no floating-point output in this example")
    truth = _Truth(spec, ex, flat)
    diff, n, nd, params = flat.diff, len(ex.args), len(flat.diff), ex.params
    cts = _float_cts(ex, flat)
    out_float = flat.out_float

    def so_fn(*a):
        xs, ts, cts_in = a[:n], a[n:n + nd], a[n + nd:]
        f = _partial(spec, xs, diff, params)

        def g(*dx):
            outs = f(*dx)
            total = None
            for k, ct in zip(out_float, cts_in):
                s = lax.mul(ct, outs[k])
                if s.ndim:
                    s = lax.reduce_sum(s, axes=tuple(range(s.ndim)))
                if total is not None and s.dtype is not total.dtype:
                    s = lax.convert(s, dtype=total.dtype)
                total = s if total is None else lax.add(total, s)
            return total

        gg = slope.grad(g, argnums=tuple(range(nd)))
        grads, hv = slope.jvp(gg, tuple(xs[i] for i in diff), tuple(ts))
        return (list(grads), list(hv)) if nd > 1 else ([grads], [hv])  # one argnum: a bare gradient

    g_truth = truth.vjp(cts)  # before the call: an example they reject (NotApplicable) stages nothing
    h_truth = truth.hvp([ex.tangents[i] for i in diff], cts)
    h_noise = truth.hvp_noise(cts)
    grads, hv = run_jitted(so_fn, f"second_order_{spec.name}", *[_tensor(x) for x in ex.args],
                           *[_tensor(ex.tangents[i]) for i in diff], *[_tensor(c) for c in cts])
    vs = ("the declared derivative at the kink", "0 at the kink") if truth.on_kink else (
        "float64 FD", "float64 FD of the FD gradient")
    for i, g_, gt, h_, ht, hn in zip(diff, grads, g_truth, hv, h_truth, h_noise):
        dt_ = _tol_dtype(ex.dtype, np.asarray(g_).dtype)
        assert_close(np.asarray(g_), gt, dt_, "grad", f"{spec.name} grad of <ct, f> w.r.t. operand {i} (vs {vs[0]})")
        assert_close(np.asarray(h_), ht, dt_, "grad2",
                     f"{spec.name} jvp of grad (Hessian-vector product) w.r.t. operand {i} (vs {vs[1]})",
                     truth_error=hn)


# ---------------------------------------------------------------- errors


def check_errors(spec, ex: Example | None = None):
    """Every spec.error_inputs() case raises its error type with a message matching its regex,
    both eagerly and while staging under jit; together they reach every raise of the shape rule."""
    spec = get_spec(spec)
    if spec.error_inputs is None:
        raise NotApplicable(f"{spec.name} declares no error_inputs")
    cases = spec.error_inputs()
    if not cases:
        raise Mismatch(f"{spec.name}: error_inputs() returned no cases (exempt 'error_inputs' with a reason instead)")
    with raises.reached() as hit:
        for j, case in enumerate(cases):
            _check_error_case(spec, j, case)
    _check_unknown_param(spec, cases)
    _check_param_kinds(spec, cases)
    missing = raises.owned_raises(spec, REGISTRY) - hit
    if missing:
        raise Mismatch(f"{spec.name}: no error input reaches {len(missing)} raise(s) of its shape rule (add an "
                       f"ErrorInput for each, or delete the check if it cannot fire): {raises.describe(missing)}")


def _check_unknown_param(spec, cases):
    """A param the primitive does not take is refused by bind (spec.check_call), whatever the operands:
    tried on the first error input whose call is otherwise well formed."""
    if not hasattr(spec, "check_call"):
        return  # an ops row: a Python function, which refuses unknown keywords itself
    call = _well_formed_call(spec, cases)
    if call is None:
        return
    tensors, good = call
    _expect_refusal(spec, tensors, {**good, "not_a_param": 0}, (ArgumentError,),
                    lambda m: re.search(rf"^{re.escape(spec.name)}: unexpected param not_a_param", m),
                    "ArgumentError 'unexpected param' for an unknown param")


def _expect_refusal(spec, tensors, params, errors, matches, expected):
    """bind(*tensors, **params) raises one of `errors` whose message `matches`, else a Mismatch that says
    what was `expected`."""
    try:
        spec.bind(*tensors, **params)
    except errors as e:
        if matches(str(e)):
            return
        raise Mismatch(f"{spec.name} with params {params}: raised {str(e)!r}, expected {expected}") from e
    except Exception as e:
        raise Mismatch(f"{spec.name} with params {params}: expected {expected}, got {type(e).__name__}: {e}") from e
    raise Mismatch(f"{spec.name} with params {params}: accepted; expected {expected}")


def _well_formed_call(spec, cases):
    """The operands and params of the first error input whose call bind accepts (its rule refuses it)."""
    for case in cases:
        tensors = [_tensor(a) for a in case.args]
        try:
            spec.check_call(tensors, case.params)
        except (TypeError, ValueError):
            continue
        return tensors, case.params
    return None


def _check_param_kinds(spec, cases):
    """Each param the primitive takes whose kind bind checks (a dtype, a tuple of ints, a bool ...) is
    refused with a value of the wrong kind, named in the message: the samplers leave optional params
    (dot_general's preferred_dtype) at their default, so only this reaches their check."""
    if not hasattr(spec, "check_call"):
        return
    call = _well_formed_call(spec, cases)
    if call is None:
        return
    tensors, good = call
    for key, what in checked_params(spec).items():
        bad = f"not-{key}"
        _expect_refusal(spec, tensors, {**good, key: bad}, (ArgumentError, DTypeError),
                        lambda m, bad=bad: m.startswith(f"{spec.name}: ") and repr(bad) in m,
                        f"the error that {key} must be {what}")


def _check_error_case(spec, j, case):
    tensors = [_tensor(a) for a in case.args]
    for mode in ("eager", "jit"):
        if mode == "eager":
            run = lambda: spec.bind(*tensors, **case.params)  # noqa: E731
        else:
            run = lambda: jit_named(lambda *xs: _bind(spec, xs, case.params), f"errors_{spec.name}")(*tensors)  # noqa: E731
        label = f"{spec.name} error_inputs case {j} ({mode}; params {case.params})"
        try:
            run()
        except case.error as e:
            if not re.search(case.match, str(e)):
                raise Mismatch(f"{label}: raised {type(e).__name__} with message {str(e)!r}, "
                               f"which does not match {case.match!r}") from e
        except Exception as e:
            raise Mismatch(f"{label}: expected {case.error.__name__} matching {case.match!r}, "
                           f"got {type(e).__name__}: {e}") from e
        else:
            raise Mismatch(f"{label}: expected {case.error.__name__} matching {case.match!r}, nothing was raised")


CHECK_FUNCTIONS = {
    "abstract_eval": check_abstract_eval,
    "eager": check_eager,
    "jit": check_jit,
    "vmap": check_vmap,
    "jvp": check_jvp,
    "vjp": check_vjp,
    "linearize": check_linearize,
    "second_order": check_second_order,
    "errors": check_errors,
}
