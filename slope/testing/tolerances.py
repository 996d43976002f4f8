"""The one tolerance table of the verification harness.

A check compares `actual` with `expected` elementwise: |actual - expected| <= atol + rtol * |expected|.
Tolerances depend only on the dtype being checked and the kind of comparison, never on the size
of the arrays (scaling with size hides real errors in big arrays; jax#3130).

Kinds
  value   slope's result vs the NumPy oracle run in the same dtype (eager, jit, vmap, primal outputs)
  grad    a first derivative (jvp, vjp, linearize) vs central finite differences computed in float64
          on the NumPy reference at the same inputs (the float64 "truth")
  grad2   a second derivative (jvp of grad) vs finite differences of the finite-difference gradient
  adjoint the dot-product test <ct, J t> == <J^T ct, t>, both sides from slope; the tolerance is
          relative to sum(|ct * J t|), the natural rounding-error scale of the two inner products

Why these numbers
  * float32 values: the oracle runs NumPy float32 kernels, IREE runs its own (polynomial
    approximations of exp/log/sin/tanh/erf...); both are within a few ulp (1 ulp = 6e-8), so 1e-5
    is ~100 ulp of headroom and still catches any wrong formula.
  * float32 gradients: slope differentiates in float32, the truth is float64 FD (accurate to ~1e-10
    with Richardson extrapolation), so the only error is float32 rounding in the derivative rules:
    rtol 1e-3 is far above it and far below any wrong rule (a wrong sign or factor is O(1)).
  * float64: IREE really computes in f64 (see DESIGN.md); values to 1e-12, first derivatives to
    1e-7 (FD error ~1e-11 relative), second derivatives to 1e-6 (nested FD error ~1e-9).
  * integers and bool: exact.
"""
from __future__ import annotations

import numpy as np

# dtype name -> kind -> (rtol, atol)
TOLERANCES: dict[str, dict[str, tuple[float, float]]] = {
    "float16": {"value": (2e-3, 1e-3), "grad": (1e-2, 1e-3), "grad2": (2e-2, 2e-3), "adjoint": (1e-2, 0.0)},
    "bfloat16": {"value": (1.6e-2, 1e-2), "grad": (5e-2, 1e-2), "grad2": (1e-1, 1e-2), "adjoint": (5e-2, 0.0)},
    "float32": {"value": (1e-5, 1e-6), "grad": (1e-3, 1e-5), "grad2": (1e-3, 1e-4), "adjoint": (1e-4, 0.0)},
    "float64": {"value": (1e-12, 1e-14), "grad": (1e-7, 1e-9), "grad2": (1e-6, 1e-8), "adjoint": (1e-11, 0.0)},
}
EXACT = (0.0, 0.0)  # every integer and bool dtype, every kind


def tolerance(dtype, kind: str = "value") -> tuple[float, float]:
    """(rtol, atol) for comparing results of `dtype` (a slope DType, NumPy dtype or name)."""
    name = _name(dtype)
    row = TOLERANCES.get(name)
    if row is None:
        return EXACT
    return row[kind]


def _name(dtype) -> str:
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, np.dtype):
        return dtype.name
    name = getattr(dtype, "name", None)
    return name if isinstance(name, str) else np.dtype(dtype).name


class Mismatch(AssertionError):
    """A check found slope's result different from the truth."""


def assert_close(actual, expected, dtype, kind: str = "value", what: str = "result", truth_error=None):
    """Elementwise comparison with the table's tolerance for (dtype, kind); NaNs must match.
    truth_error: how far the expected values themselves may be off (finite differences' rounding,
    fd.hvp_noise), added to the allowed difference element by element."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        raise Mismatch(f"{what}: shape {actual.shape} != expected {expected.shape}")
    rtol, atol = tolerance(dtype, kind)
    if (rtol, atol) == EXACT and not _is_float(expected.dtype):
        bad = actual != expected
        if np.any(bad):
            raise Mismatch(_report(what, actual, expected, bad, rtol, atol, kind, dtype))
        return
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    both_nan = np.isnan(a) & np.isnan(e)
    same_inf = np.isinf(e) & (a == e)
    slack = 0.0 if truth_error is None else np.asarray(truth_error, np.float64)
    with np.errstate(invalid="ignore"):
        ok = (np.abs(a - e) <= atol + rtol * np.abs(e) + slack) | both_nan | same_inf
    if not np.all(ok):
        report = _report(what, actual, expected, ~ok, rtol, atol, kind, dtype)
        if truth_error is not None:
            report += f"\n  plus the expected values' own error, up to {float(np.max(slack, initial=0.0)):.3g}"
        raise Mismatch(report)


def assert_scalar_close(a: float, b: float, scale: float, dtype, kind="adjoint", what="inner products", flushed=0.0):
    """|a - b| <= atol + rtol * scale + flushed (used by the dot-product test). flushed: how much the
    flush of subnormal results to zero may move the inner products (slope's convention, as XLA:CPU)."""
    rtol, atol = tolerance(dtype, kind)
    allowed = atol + rtol * scale + flushed
    if not abs(a - b) <= allowed:
        flush = f" + flushed subnormals {flushed:.3g}" if flushed else ""
        raise Mismatch(f"{what}: {a!r} != {b!r} (difference {abs(a - b):.3g}, allowed {allowed:.3g} "
                       f"= {atol} + {rtol} * scale {scale:.3g}{flush}; dtype {_name(dtype)}, kind {kind})")


def _is_float(npd) -> bool:
    return np.dtype(npd).kind == "f"


def _report(what, actual, expected, bad, rtol, atol, kind, dtype) -> str:
    idx = np.argwhere(bad)
    n = len(idx)
    first = tuple(int(i) for i in idx[0]) if actual.ndim else ()
    a, e = actual[first] if actual.ndim else actual[()], expected[first] if expected.ndim else expected[()]
    err = ""
    if _is_float(expected.dtype) or _is_float(actual.dtype):
        d = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = d / np.abs(expected.astype(np.float64))
        err = f"; max abs err {np.nanmax(np.where(bad, d, 0)):.3g}, max rel err {np.nanmax(np.where(bad, rel, 0)):.3g}"
    return (f"{what}: {n} of {bad.size} elements differ (rtol={rtol}, atol={atol}, kind={kind}, dtype={_name(dtype)})"
            f"; first at index {first}: got {a!r}, expected {e!r}{err}\n  got:      {_fmt(actual)}\n  expected: {_fmt(expected)}")


def _fmt(x) -> str:
    return np.array2string(np.asarray(x), precision=10, separator=", ", threshold=64).replace("\n", " ")
