"""Finite differences in float64 on the NumPy reference: the derivative "truth" of every check.

Finite differences in float32 are dominated by rounding noise (PyTorch gradchecks only in float64;
JAX loosens float32 gradient tolerances to 0.15). Here the reference runs in float64 at exactly
the inputs slope differentiated (float32 values are exact in float64), and central differences
with one Richardson extrapolation step give O(h^4) truncation error:

    D(h) = (F(x + h v) - F(x - h v)) / 2h,   D = D(h/2) + (D(h/2) - D(h)) / 3

With h = 1e-3 the error is ~1e-12 relative for the smooth functions the samplers produce (their
domains keep inputs >= 0.05 away from kinks, so x +- 2h never crosses one). Second derivatives are
finite differences of the finite-difference gradient (error ~1e-9).

The function is flattened: the differentiable (floating-point) operands are concatenated into
one float64 vector x, the floating-point outputs into one vector y = F(x); other operands are
held fixed and other outputs ignored.
"""
from __future__ import annotations

import numpy as np

from slope.reference.program import np_params

H = 1e-3


def call_reference(spec, args, params, promote_floats=False):
    """The reference's outputs as a list of NumPy arrays."""
    out = spec.reference(*args, **np_params(params, promote_floats))
    if isinstance(out, (tuple, list)):
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]


def is_float(a) -> bool:
    return np.asarray(a).dtype.kind == "f" if not isinstance(a, np.dtype) else a.kind == "f"


def diff_indices(args):
    """Which operands are differentiated: the floating-point ones."""
    return [i for i, a in enumerate(args) if is_float(a)]


class Flat:
    """y = F(x): the spec's reference in float64 as a function of one flat vector of its float operands."""

    def __init__(self, spec, args, params):
        self.spec, self.args, self.params = spec, [np.asarray(a) for a in args], params
        self.diff = diff_indices(self.args)
        self.shapes = [self.args[i].shape for i in self.diff]
        self.sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.x0 = self.pack([self.args[i].astype(np.float64) for i in self.diff])
        outs = self._outputs(self.x0)
        self.out_float = [k for k, o in enumerate(outs) if is_float(o)]
        self.out_shapes = [outs[k].shape for k in self.out_float]
        self.out_sizes = [int(np.prod(s, dtype=np.int64)) for s in self.out_shapes]

    def pack(self, arrays) -> np.ndarray:
        if not arrays:
            return np.zeros(0, np.float64)
        return np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])

    def unpack(self, vec, shapes=None, sizes=None):
        if shapes is None:
            shapes, sizes = self.shapes, self.sizes
        out, pos = [], 0
        for s, n in zip(shapes, sizes):
            out.append(vec[pos:pos + n].reshape(s))
            pos += n
        return out

    def unpack_out(self, vec):
        return self.unpack(vec, self.out_shapes, self.out_sizes)

    def _outputs(self, x):
        full = list(self.args)
        for i, v in zip(self.diff, self.unpack(x)):
            full[i] = v
        return call_reference(self.spec, full, self.params, promote_floats=True)

    def __call__(self, x) -> np.ndarray:
        outs = self._outputs(x)
        return self.pack([outs[k] for k in self.out_float])


def directional(F, x, v, h=H) -> np.ndarray:
    """d/ds F(x + s v) at s = 0 (central differences + one Richardson step)."""
    v = np.asarray(v, np.float64)

    def central(step):
        return (F(x + step * v) - F(x - step * v)) / (2 * step)

    d1, d2 = central(h), central(h / 2)
    return d2 + (d2 - d1) / 3


def jacobian(F, x, h=H) -> np.ndarray:
    """The full Jacobian dF/dx, one directional derivative per input element (shape m x n)."""
    n = x.size
    cols = []
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        cols.append(directional(F, x, e, h))
    m = cols[0].size if cols else F(x).size
    return np.stack(cols, axis=1) if cols else np.zeros((m, 0))


def jvp(flat: Flat, tangents) -> list:
    """J t for the float operands' tangents (list aligned with flat.diff) -> one array per float output."""
    return flat.unpack_out(directional(flat, flat.x0, flat.pack(tangents)))


def vjp(flat: Flat, cotangents) -> list:
    """J^T ct for the float outputs' cotangents (aligned with flat.out_float) -> one array per float operand."""
    J = jacobian(flat, flat.x0)
    return flat.unpack(J.T @ flat.pack(cotangents))


def hvp(flat: Flat, tangents, cotangents) -> list:
    """d/ds [J(x + s t)^T ct]: the Hessian of <ct, F(x)> times t, by differences of the FD gradient."""
    ct = flat.pack(cotangents)

    def grad(x):
        return jacobian(flat, x).T @ ct

    return flat.unpack(directional(grad, flat.x0, flat.pack(tangents)))


ROUNDING_ULPS = 4  # float64 rounding error taken for each value of the reference (a few ulps)


def hvp_noise(flat: Flat, cotangents) -> list:
    """How far rounding alone may move hvp()'s result, per operand element (the truth's own error).

    Each reference value F_j carries ~ROUNDING_ULPS * eps * |F_j|; each of the two nested stencils
    weights its values by 3/h in all (Richardson of central differences), so the FD of the FD
    gradient carries up to 9/h^2 * ROUNDING_ULPS * eps * sum_j |ct_j F_j| over the outputs j that
    element i reaches (nonzero Jacobian entries; the others cancel exactly). That is ~1e-8 * |<ct, F>|:
    where the true H t is ~0 and |F| is large (x * 30000, a bilinear conv) it is above float64's
    grad2 atol, while a wrong rule is off by a multiple of the derivative itself."""
    reach = (jacobian(flat, flat.x0) != 0).astype(np.float64)
    ct_f = np.abs(flat.pack(cotangents)) * np.abs(flat(flat.x0))
    eps = np.finfo(np.float64).eps
    return flat.unpack(9.0 / H ** 2 * ROUNDING_ULPS * eps * (reach.T @ ct_f))
