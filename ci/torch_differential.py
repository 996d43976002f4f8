"""The outside differential of issue #15: common PyTorch calls, as users write them, run through torch and
through slope with the same NumPy inputs, compared on values (tolerance per dtype), shapes, dtypes,
raised-or-not and gradients (torch.autograd against slope.grad, for differentiable float results).

    python ci/torch_differential.py                  # every case, 2 worker processes; writes ci/torch_differential.md
    python ci/torch_differential.py --only svd eigh  # the cases whose code contains one of the words
    python ci/torch_differential.py --jobs 1 -v      # one process, print every disagreement

Each case is one expression (or statements ending in `out = ...`) written against `torch`; slope runs the
same text with the name `torch` bound to the `slope` module: the translation is `torch.` -> `slope.` only.
Needs torch (a development-time oracle: not a dependency of slope, its tests or CI).

Categories:
  agree             the same values (per-dtype tolerance), shapes, dtypes and gradients; or both raise
  missing           slope lacks the name, or the argument (AttributeError, or a TypeError about arguments)
  raises-on-valid   torch returns, slope raises something else (also: the value agrees, slope.grad raises)
  other-convention  slope differs where its docs say it does (the case names the documented difference),
                    or slope returns where torch raises
  silently-wrong    slope returns a different value, shape, dtype or gradient and says nothing
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

CATEGORIES = ["agree", "missing", "raises-on-valid", "other-convention", "silently-wrong"]
TOL = {"float16": (2e-3, 1e-3), "bfloat16": (1e-2, 1e-2), "float32": (1e-4, 1e-5), "float64": (1e-9, 1e-12)}
GRAD_TOL = {"float32": (1e-3, 1e-4), "float64": (1e-7, 1e-9)}


@dataclass
class Case:
    code: str
    inputs: dict
    tol: Optional[tuple] = None  # (rtol, atol) for float values and gradients
    grad: bool = True  # compare gradients when torch's result is differentiable
    values: bool = True  # compare values (False: shape and dtype only, e.g. torch.empty)
    convention: Optional[str] = None  # a documented difference: a mismatch is other-convention
    group: str = ""
    index: int = 0


@dataclass
class Result:
    case: Case
    category: str
    detail: str = ""
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- inputs

_rng = np.random.default_rng(15)


def F(*shape, lo=-2.0, hi=2.0, dtype=np.float32):
    """Floats without ties or zeros: random values in [lo, hi], nudged off 0."""
    v = _rng.uniform(lo, hi, shape)
    v = np.where(np.abs(v) < 0.05, 0.05 + np.abs(v), v)
    return v.astype(dtype)


def D(*shape, lo=-2.0, hi=2.0):
    return F(*shape, lo=lo, hi=hi, dtype=np.float64)


def P(*shape, lo=0.2, hi=3.0, dtype=np.float32):
    return F(*shape, lo=lo, hi=hi, dtype=dtype)


def U(*shape, dtype=np.float32):  # in (-1, 1)
    return F(*shape, lo=-0.9, hi=0.9, dtype=dtype)


def I(*shape, lo=-5, hi=6, dtype=np.int64):  # noqa: E743
    return _rng.integers(lo, hi, shape).astype(dtype)


def NZ(*shape, dtype=np.int64):  # nonzero integers
    v = _rng.integers(1, 6, shape) * _rng.choice([-1, 1], shape)
    return v.astype(dtype)


def B(*shape):
    return _rng.random(shape) < 0.5


def SPD(n, batch=(), dtype=np.float32):
    a = _rng.standard_normal(batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def SYM(n, dtype=np.float32):  # symmetric, well-separated eigenvalues
    q, _ = np.linalg.qr(_rng.standard_normal((n, n)))
    w = np.linspace(-2, 3, n)
    return (q @ np.diag(w) @ q.T).astype(dtype)


def SEP(m, n, dtype=np.float32):  # well-separated singular values
    u, _ = np.linalg.qr(_rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(_rng.standard_normal((n, n)))
    s = np.zeros((m, n))
    k = min(m, n)
    s[np.arange(k), np.arange(k)] = np.linspace(3, 0.5, k)
    return (u @ s @ v.T).astype(dtype)


def DISTINCT(*shape, dtype=np.float32):
    n = math.prod(shape)
    return (_rng.permutation(n).reshape(shape) * 0.37 - 1.0).astype(dtype)


# ---------------------------------------------------------------- the table

CASES: list[Case] = []
_group = [""]


def group(name):
    _group[0] = name


def c(code, **kw):
    opts = {k: kw.pop(k) for k in ("tol", "grad", "values", "convention") if k in kw}
    CASES.append(Case(code=code, inputs=kw, group=_group[0], **opts))


def build():
    # ---- creation
    group("creation")
    c("torch.zeros(2, 3)")
    c("torch.zeros((2, 3), dtype=torch.int64)")
    c("torch.ones(4)")
    c("torch.ones(2, 2, dtype=torch.float64)")
    c("torch.full((2, 3), 7)")
    c("torch.full((2, 3), 1.5)")
    c("torch.full((2,), True)")
    c("torch.arange(5)")
    c("torch.arange(2, 10, 3)")
    c("torch.arange(0, 1, 0.25)")
    c("torch.arange(5, dtype=torch.float32)")
    c("torch.arange(10, 0, -2)")
    c("torch.linspace(0, 1, 5)")
    c("torch.linspace(-1, 1, steps=4, dtype=torch.float64)")
    c("torch.logspace(0, 2, 3)")
    c("torch.eye(3)")
    c("torch.eye(2, 3)")
    c("torch.eye(3, dtype=torch.int64)")
    c("torch.empty(2, 3)", values=False)
    c("torch.tensor([1, 2, 3])")
    c("torch.tensor([1.0, 2, 3])")
    c("torch.tensor([[1, 2], [3, 4]], dtype=torch.float32)")
    c("torch.tensor([True, False])")
    c("torch.tensor(3.5)")
    c("torch.tensor(7)")
    c("torch.tensor([])")
    c("torch.zeros_like(a)", a=F(2, 3))
    c("torch.ones_like(a)", a=I(3))
    c("torch.full_like(a, 2.5)", a=F(2, 2))
    c("torch.full_like(a, 3)", a=I(2, 2))
    c("torch.empty_like(a)", a=F(2, 2), values=False)
    c("torch.zeros_like(a, dtype=torch.float64)", a=I(3))
    c("a.new_zeros(2, 3)", a=F(2))
    c("a.new_ones((2,))", a=I(2))
    c("a.new_full((2, 2), 4)", a=F(2))
    c("a.new_tensor([1, 2])", a=F(2))
    c("torch.tril_indices(3, 3)")
    c("torch.triu_indices(3, 3, 1)")
    c("torch.zeros(0, 3)")
    c("torch.arange(6).reshape(2, 3)")
    c("torch.as_tensor([1.5, 2.5])")
    c("torch.from_numpy(np.arange(4.0))")
    c("torch.diag(a)", a=F(3))
    c("torch.block_diag(a, b)", a=F(2, 2), b=F(1, 3))

    # ---- elementwise math (function and method forms)
    group("math")
    unary = {
        "abs": F, "neg": F, "exp": F, "exp2": F, "expm1": F, "log": P, "log2": P, "log10": P, "log1p": P, "sqrt": P,
        "rsqrt": P, "sin": F, "cos": F, "tan": U, "asin": U, "acos": U, "atan": F, "sinh": F, "cosh": F, "tanh": F,
        "asinh": F, "acosh": lambda *s: P(*s, lo=1.2, hi=4.0), "atanh": U, "sigmoid": F, "relu": F, "erf": F,
        "erfc": F, "erfinv": U, "floor": F, "ceil": F, "round": F, "trunc": F, "frac": F, "sign": F, "sgn": F,
        "reciprocal": P, "square": F, "lgamma": P, "digamma": P, "sinc": F, "deg2rad": F, "rad2deg": F,
        "logit": lambda *s: P(*s, lo=0.1, hi=0.9), "positive": F, "signbit": F, "isnan": F, "isinf": F,
        "isfinite": F, "logical_not": B, "bitwise_not": I, "fix": F, "negative": F, "arcsin": U, "arctan": F,
    }
    for name, gen in unary.items():
        c(f"torch.{name}(a)", a=gen(2, 3))
    for name in ["abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "floor", "ceil", "round",
                 "sign", "reciprocal", "square", "neg", "log1p", "expm1", "rsqrt", "erf", "trunc", "frac",
                 "lgamma", "isnan", "logical_not", "exp2", "log2", "atan", "asin", "sinh"]:
        gen = unary[name]
        c(f"a.{name}()", a=gen(3, 2))
    for name in ["abs", "neg", "sign", "square"]:
        c(f"torch.{name}(a)", a=I(4))
    for name in ["sqrt", "exp", "sin", "log1p", "sigmoid", "tanh", "reciprocal"]:
        c(f"torch.{name}(a)", a=I(4, lo=1, hi=6))
    c("torch.round(a, decimals=2)", a=F(5))
    c("torch.clamp(a, -0.5, 0.5)", a=F(6))
    c("torch.clamp(a, min=0)", a=F(6))
    c("torch.clamp(a, max=1)", a=I(6))
    c("torch.clamp(a, min=b, max=c)", a=F(4), b=F(4, lo=-2, hi=-0.5), c=F(4, lo=0.5, hi=2))
    c("a.clamp(0.0, 1.0)", a=F(5))
    c("a.clip(-1, 1)", a=F(5))
    c("a.clamp_min(0.2)", a=F(5))
    c("torch.nan_to_num(a)", a=np.array([1.0, np.nan, np.inf, -np.inf], np.float32))
    c("torch.nan_to_num(a, nan=0.5, posinf=9.0)", a=np.array([1.0, np.nan, np.inf, -np.inf], np.float32))
    c("torch.isnan(a)", a=np.array([1.0, np.nan, 2.0], np.float32))
    c("torch.exp(a)", a=D(4))
    c("torch.sin(a)", a=D(4))
    c("torch.exp(a)", a=F(3).astype(np.float16), grad=False)
    c("a.pow(2)", a=F(4))
    c("a ** 0.5", a=P(4))
    c("a ** 2", a=I(4))
    c("2 ** a", a=F(4))
    c("2 ** a", a=I(4, lo=0, hi=5))
    c("torch.pow(a, b)", a=P(3), b=F(3))
    c("torch.pow(2.0, a)", a=F(3))
    c("torch.lerp(a, b, 0.3)", a=F(3), b=F(3))
    c("torch.lerp(a, b, w)", a=F(3), b=F(3), w=U(3))
    c("torch.addcmul(a, b, c, value=0.5)", a=F(3), b=F(3), c=F(3))
    c("torch.addcdiv(a, b, c, value=2)", a=F(3), b=F(3), c=P(3))
    c("torch.logaddexp(a, b)", a=F(4), b=F(4))
    c("torch.logaddexp2(a, b)", a=F(4), b=F(4))
    c("torch.xlogy(a, b)", a=F(4), b=P(4))
    c("torch.hypot(a, b)", a=F(4), b=F(4))
    c("torch.copysign(a, b)", a=F(4), b=F(4))
    c("torch.fmax(a, b)", a=F(4), b=F(4))
    c("torch.fmin(a, b)", a=F(4), b=F(4))
    c("torch.heaviside(a, b)", a=F(4), b=F(4), grad=False)
    c("torch.sigmoid(a).sum()", a=F(3, 4))
    c("torch.softmax(a, dim=-1)", a=F(3, 4))
    c("torch.softmax(a, 0)", a=F(3, 4))
    c("a.softmax(dim=1)", a=F(3, 4))
    c("torch.log_softmax(a, dim=1)", a=F(3, 4))
    c("a.log_softmax(-1)", a=F(3, 4))
    c("torch.softmax(a, dim=-1, dtype=torch.float64)", a=F(3, 4))
    c("torch.log_softmax(a, 1, dtype=torch.float64)", a=F(2, 3))
    c("torch.softmax(a, dim=-1)", a=D(2, 3))

    # ---- arithmetic and promotion
    group("arithmetic")
    for op in ["+", "-", "*", "/"]:
        c(f"a {op} b", a=F(2, 3), b=F(3))
        c(f"a {op} b", a=F(2, 3), b=I(2, 3))
        c(f"a {op} b", a=I(2, 3), b=NZ(2, 3))
        c(f"a {op} 2", a=F(3))
        c(f"a {op} 2", a=I(3))
        c(f"a {op} 2.5", a=I(3))
        c(f"3 {op} a", a=P(3))
        c(f"a {op} b", a=F(3), b=D())
        c(f"a {op} b", a=I(3, dtype=np.int32), b=I(3))
    c("a + b", a=B(3), b=I(3))
    c("a + True", a=I(3))
    c("a + b", a=F(1, 3), b=F(2, 1))
    c("a + b", a=I(3), b=D())
    c("a + b", a=I(3, dtype=np.int32), b=I())
    c("a * b", a=B(3), b=F(3))
    c("a - 1", a=I(3, dtype=np.int32))
    c("a / b", a=D(3), b=F(3))
    c("a + b", a=F(3).astype(np.float16), b=F(3), grad=False)
    c("torch.add(a, b, alpha=2)", a=F(3), b=F(3))
    c("a.add(b, alpha=0.5)", a=F(3), b=F(3))
    c("torch.sub(a, b, alpha=3)", a=I(3), b=I(3))
    c("torch.mul(a, 2)", a=F(3))
    c("torch.div(a, b)", a=I(4), b=NZ(4))
    c("torch.div(a, b, rounding_mode='floor')", a=I(4), b=NZ(4))
    c("torch.div(a, b, rounding_mode='trunc')", a=I(4), b=NZ(4))
    c("torch.div(a, b, rounding_mode='floor')", a=F(4), b=F(4), grad=False)
    c("torch.true_divide(a, b)", a=I(3), b=NZ(3))
    c("a // b", a=I(5), b=NZ(5))
    c("a // b", a=F(5), b=F(5), grad=False)
    c("a % b", a=I(5), b=NZ(5))
    c("a % b", a=F(5), b=F(5))
    c("a % 3", a=I(5))
    c("a % 1.5", a=F(5))
    c("torch.remainder(a, b)", a=I(5), b=NZ(5))
    c("torch.fmod(a, b)", a=I(5), b=NZ(5))
    c("torch.fmod(a, 1.5)", a=F(5))
    c("torch.floor_divide(a, b)", a=I(5), b=NZ(5))
    c("-a", a=I(3))
    c("abs(a)", a=F(3))
    c("a @ b", a=F(2, 3), b=F(3, 4))
    c("a @ b", a=I(2, 3), b=I(3))
    c("torch.maximum(a, b)", a=F(4), b=F(4))
    c("torch.minimum(a, b)", a=I(4), b=I(4))
    c("torch.maximum(a, b)", a=F(4), b=I(4))
    c("torch.max(a, b)", a=F(4), b=F(4))
    c("torch.atan2(a, b)", a=F(4), b=F(4))
    c("a & b", a=B(4), b=B(4))
    c("a | b", a=B(4), b=B(4))
    c("a ^ b", a=B(4), b=B(4))
    c("~a", a=B(4))
    c("a & b", a=I(4), b=I(4))
    c("a | b", a=I(4), b=I(4))
    c("a ^ b", a=I(4), b=I(4))
    c("~a", a=I(4))
    c("a << 2", a=I(4, lo=0))
    c("a >> 1", a=I(4))
    c("torch.bitwise_and(a, b)", a=I(4), b=I(4))
    c("torch.bitwise_or(a, 3)", a=I(4))
    c("torch.bitwise_xor(a, b)", a=I(4), b=I(4))
    c("torch.bitwise_left_shift(a, 1)", a=I(4, lo=0))
    c("torch.logical_and(a, b)", a=B(4), b=B(4))
    c("torch.logical_or(a, b)", a=F(4), b=I(4))
    c("torch.logical_xor(a, b)", a=B(4), b=B(4))
    c("a.float() / 3", a=I(4))
    c("a + b", a=F(2, 3), b=np.float32(2.0))
    c("a.mul(b)", a=F(3), b=F(3))
    c("a.sub(1)", a=F(3))
    c("a.div(2)", a=I(3))
    c("a.true_divide(b)", a=F(3), b=P(3))
    c("a.square().sum()", a=F(3))

    # ---- comparisons
    group("comparison")
    for op in ["==", "!=", "<", "<=", ">", ">="]:
        c(f"a {op} b", a=I(2, 3, lo=0, hi=3), b=I(3, lo=0, hi=3))
        c(f"a {op} 0.5", a=F(4))
    for name in ["eq", "ne", "lt", "le", "gt", "ge"]:
        c(f"torch.{name}(a, b)", a=F(4), b=F(4))
        c(f"a.{name}(1)", a=I(4))
    c("torch.greater(a, b)", a=F(4), b=F(4))
    c("torch.less_equal(a, b)", a=F(4), b=F(4))
    c("torch.not_equal(a, 1)", a=I(4))
    c("torch.isclose(a, b)", a=F(4), b=F(4))
    c("torch.allclose(a, a + 1e-7)", a=F(4))
    c("torch.equal(a, b)", a=I(4), b=I(4))
    c("torch.equal(a, a.clone())", a=F(4))
    c("a == b", a=F(3), b=I(3))
    c("torch.where(a > 0, a, b)", a=F(4), b=F(4))
    c("torch.where(a > 0, a, 0.0)", a=F(4))
    c("torch.where(a > 0, 1, 0)", a=F(4))
    c("torch.where(c, a, b)", c=B(2, 1), a=F(2, 3), b=I(3))
    c("torch.where(a > 0)", a=F(2, 3))
    c("a.where(a > 0, b)", a=F(4), b=F(4))
    c("torch.any(a > 1)", a=F(4))
    c("torch.all(a)", a=B(4))
    c("a.any(dim=1)", a=B(2, 3))
    c("a.all(1)", a=I(2, 3))
    c("torch.any(a, dim=0, keepdim=True)", a=B(2, 3))
    c("torch.isin(a, b)", a=I(5), b=I(3))
    c("torch.clamp(a, min=b)", a=F(4), b=F(4))

    # ---- reductions
    group("reductions")
    x23, x234 = F(2, 3), F(2, 3, 4)
    for name in ["sum", "mean", "prod", "amax", "amin", "logsumexp", "std", "var", "norm"]:
        if name == "logsumexp":
            c(f"torch.{name}(a, 1)", a=F(2, 3))
        else:
            c(f"torch.{name}(a)", a=F(2, 3))
        c(f"a.{name}(dim=1)", a=F(2, 3))
        c(f"a.{name}(dim=0, keepdim=True)", a=F(2, 3))
        c(f"a.{name}(dim=(0, 2))", a=F(2, 3, 4),
          convention="prod takes a tuple of dims (torch takes one)" if name == "prod" else None)
        c(f"a.{name}(-1)", a=F(2, 3, 4))
    c("a.sum()", a=x23)
    c("a.sum(1, True)", a=x234)
    c("torch.sum(a, dim=1, dtype=torch.float64)", a=F(2, 3))
    c("a.sum(dtype=torch.float32)", a=I(4))
    c("a.sum()", a=I(4))
    c("a.sum()", a=I(4, dtype=np.int32))
    c("a.sum(0)", a=I(2, 3, dtype=np.int32))
    c("a.sum()", a=B(5))
    c("a.prod()", a=I(4, dtype=np.int32))
    c("a.cumsum(0)", a=I(4, dtype=np.int32))
    c("torch.sum(a, axis=0)", a=F(2, 3))
    c("a.sum(axis=1, keepdim=True)", a=F(2, 3))
    c("a.mean(axis=0)", a=F(2, 3))
    c("a.mean(dtype=torch.float64)", a=F(2, 3))
    c("a.mean()", a=I(4), convention=None)
    c("torch.mean(a, dim=[0, 1])", a=F(2, 3))
    c("a.prod(1)", a=F(2, 3))
    c("a.prod(dim=0, dtype=torch.float64)", a=F(2, 3))
    c("a.max()", a=F(2, 3))
    c("a.max(dim=1)", a=F(2, 3))
    c("a.max(1, keepdim=True)", a=F(2, 3))
    c("a.max(dim=0).values", a=F(2, 3))
    c("a.max(dim=0)[1]", a=F(2, 3))
    c("a.min(dim=-1)", a=F(2, 3))
    c("a.min()", a=I(2, 3))
    c("torch.max(a, 1)", a=I(2, 3))
    c("a.argmax()", a=F(2, 3))
    c("a.argmax(dim=1)", a=F(2, 3))
    c("a.argmax(1, keepdim=True)", a=F(2, 3))
    c("torch.argmax(a, dim=None)", a=F(2, 3))
    c("torch.argmin(a)", a=F(2, 3))
    c("a.argmin(0)", a=I(2, 3))
    c("torch.aminmax(a)", a=F(2, 3))
    c("torch.aminmax(a, dim=1)", a=F(2, 3))
    c("a.std(0, unbiased=False)", a=F(3, 4))
    c("a.std(correction=0)", a=F(3, 4))
    c("a.var(1, keepdim=True)", a=F(3, 4))
    c("a.var(unbiased=False)", a=F(3, 4))
    c("torch.std(a)", a=I(4))
    c("torch.var(a)", a=I(4))
    c("torch.var_mean(a, 1)", a=F(3, 4))
    c("torch.std_mean(a)", a=F(3, 4))
    c("a.norm()", a=F(3, 4))
    c("a.norm(p=1)", a=F(3, 4))
    c("a.norm(dim=1)", a=F(3, 4))
    c("torch.norm(a, p=2, dim=0)", a=F(3, 4))
    c("torch.norm(a, 'fro')", a=F(3, 4))
    c("torch.norm(a, float('inf'))", a=F(3, 4))
    c("torch.logsumexp(a, dim=(0, 1))", a=F(3, 4))
    c("torch.logsumexp(a, 0, keepdim=True)", a=F(3, 4))
    c("a.median()", a=DISTINCT(5))
    c("a.median(dim=1)", a=DISTINCT(3, 4))
    c("torch.median(a, 0)", a=DISTINCT(3, 5))
    c("torch.mode(a)", a=I(3, 6, lo=0, hi=3))
    c("torch.mode(a, 0)", a=I(4, 3, lo=0, hi=3))
    c("a.mode(dim=-1)", a=I(2, 5, lo=0, hi=3))
    c("torch.nansum(a)", a=np.array([1.0, np.nan, 2.0], np.float32))
    c("torch.nanmean(a)", a=np.array([1.0, np.nan, 2.0], np.float32))
    c("torch.count_nonzero(a)", a=I(3, 4, lo=-1, hi=2))
    c("torch.count_nonzero(a, dim=1)", a=I(3, 4, lo=-1, hi=2))
    c("a.cumsum(dim=1)", a=F(2, 3))
    c("torch.cumsum(a, 0)", a=F(4))
    c("torch.cumsum(a, dim=0)", a=I(4))
    c("torch.cumsum(a, dim=0, dtype=torch.float64)", a=F(4))
    c("a.cumprod(0)", a=F(4))
    c("torch.cumprod(a, dim=0)", a=I(4))
    c("torch.cummax(a, 0)", a=F(5))
    c("a.cummin(dim=0)", a=F(5))
    c("torch.logcumsumexp(a, 0)", a=F(5))
    c("torch.diff(a)", a=F(5))
    c("torch.diff(a, dim=0)", a=F(3, 4))
    c("torch.diff(a, n=2)", a=I(6))
    c("a.sum().item()", a=F(3))
    c("a.max().item()", a=I(3))
    c("a.mean(0).tolist()", a=F(2, 2))
    c("a.all()", a=B(3))
    c("a.sum(dim=())", a=F(2, 3), convention=None)
    c("torch.trapezoid(a)", a=F(5))

    # ---- shape ops
    group("shape")
    c("a.reshape(3, 2)", a=F(2, 3))
    c("a.reshape(-1)", a=F(2, 3))
    c("a.reshape((3, -1))", a=F(2, 3))
    c("torch.reshape(a, (6,))", a=F(2, 3))
    c("a.view(3, 2)", a=F(2, 3))
    c("a.view(-1, 1)", a=F(2, 3))
    c("a.view(torch.int32)", a=F(3), grad=False, convention=None)
    c("a.permute(1, 0)", a=F(2, 3))
    c("a.permute((2, 0, 1))", a=F(2, 3, 4))
    c("torch.permute(a, (1, 0, 2))", a=F(2, 3, 4))
    c("a.transpose(0, 1)", a=F(2, 3))
    c("torch.transpose(a, 1, 2)", a=F(2, 3, 4))
    c("a.t()", a=F(2, 3))
    c("a.t()", a=F(3))
    c("a.T", a=F(2, 3))
    c("a.T", a=F(2, 3, 4))
    c("a.mT", a=F(2, 3, 4))
    c("a.mH", a=F(2, 3, 4))
    c("a.H", a=F(2, 3))
    c("a.squeeze()", a=F(1, 3, 1))
    c("a.squeeze(0)", a=F(1, 3))
    c("a.squeeze(1)", a=F(2, 3))
    c("a.squeeze((0, 2))", a=F(1, 3, 1))
    c("a.unsqueeze(0)", a=F(3))
    c("a.unsqueeze(-1)", a=F(2, 3))
    c("torch.unsqueeze(a, 1)", a=F(2, 3))
    c("a.flatten()", a=F(2, 3, 4))
    c("a.flatten(1)", a=F(2, 3, 4))
    c("torch.flatten(a, 0, 1)", a=F(2, 3, 4))
    c("a.ravel()", a=F(2, 3))
    c("torch.ravel(a)", a=F(2, 3))
    c("a.unflatten(1, (2, 2))", a=F(3, 4))
    c("a.expand(3, 4)", a=F(1, 4))
    c("a.expand(2, -1, 3)", a=F(4, 3))
    c("a.expand_as(b)", a=F(3, 1), b=F(3, 4))
    c("a.broadcast_to((2, 3))", a=F(3))
    c("torch.broadcast_tensors(a, b)", a=F(3, 1), b=F(1, 4))
    c("torch.broadcast_shapes((3, 1), (1, 4))")
    c("a.repeat(2, 3)", a=F(2, 2))
    c("a.repeat(2, 1, 1)", a=F(2, 2))
    c("a.tile((2,))", a=F(3))
    c("torch.tile(a, (2, 1))", a=F(2, 3))
    c("a.repeat_interleave(2)", a=F(3))
    c("torch.repeat_interleave(a, 2, dim=0)", a=F(2, 3))
    c("torch.cat([a, b])", a=F(2, 3), b=F(1, 3))
    c("torch.cat((a, b), dim=1)", a=F(2, 3), b=F(2, 2))
    c("torch.cat([a, b], -1)", a=F(2, 3), b=I(2, 1))
    c("torch.concat([a, b])", a=F(2), b=F(3))
    c("torch.concatenate([a, b], axis=0)", a=F(2), b=F(3))
    c("torch.stack([a, b])", a=F(3), b=F(3))
    c("torch.stack((a, b), dim=1)", a=F(2, 3), b=F(2, 3))
    c("torch.hstack([a, b])", a=F(2, 3), b=F(2, 1))
    c("torch.vstack([a, b])", a=F(3), b=F(3))
    c("torch.dstack([a, b])", a=F(2, 3), b=F(2, 3))
    c("torch.column_stack([a, b])", a=F(3), b=F(3))
    c("torch.row_stack([a, b])", a=F(3), b=F(3))
    c("a.split(2)", a=F(5))
    c("a.split([1, 3], dim=1)", a=F(2, 4))
    c("torch.split(a, 1, dim=0)", a=F(2, 4))
    c("a.chunk(2)", a=F(5))
    c("torch.chunk(a, 3, dim=1)", a=F(2, 6))
    c("a.unbind(1)", a=F(2, 3))
    c("torch.unbind(a)", a=F(2, 3))
    c("a.tensor_split(3)", a=F(7))
    c("torch.tensor_split(a, [1, 4])", a=F(6))
    c("a.flip(0)", a=F(3, 2))
    c("torch.flip(a, dims=(0, 1))", a=F(3, 2))
    c("torch.fliplr(a)", a=F(3, 2))
    c("a.flipud()", a=F(3, 2))
    c("torch.roll(a, 1)", a=F(2, 3))
    c("a.roll(-1, dims=1)", a=F(2, 3))
    c("torch.roll(a, (1, 1), (0, 1))", a=F(2, 3))
    c("torch.rot90(a)", a=F(2, 3))
    c("torch.rot90(a, 2, (0, 1))", a=F(2, 3))
    c("a.narrow(1, 1, 2)", a=F(2, 4))
    c("torch.narrow(a, 0, 0, 1)", a=F(2, 4))
    c("torch.movedim(a, 0, -1)", a=F(2, 3, 4))
    c("a.moveaxis(1, 0)", a=F(2, 3, 4))
    c("a.swapaxes(0, 2)", a=F(2, 3, 4))
    c("torch.swapdims(a, 0, 1)", a=F(2, 3))
    c("torch.tril(a)", a=F(3, 3))
    c("a.triu(1)", a=F(3, 4))
    c("torch.tril(a, -1)", a=F(3, 3))
    c("torch.diag(a)", a=F(3, 3))
    c("torch.diag(a, 1)", a=F(3))
    c("a.diagonal()", a=F(3, 4))
    c("torch.diagonal(a, offset=1)", a=F(3, 4))
    c("torch.diagonal(a, 0, 1, 2)", a=F(2, 3, 3))
    c("torch.diag_embed(a)", a=F(2, 3))
    c("torch.trace(a)", a=F(3, 3))
    c("a.trace()", a=I(3, 3))
    c("torch.atleast_1d(a)", a=F())
    c("torch.atleast_2d(a)", a=F(3))
    c("torch.atleast_3d(a)", a=F(2, 3))
    c("torch.meshgrid(a, b, indexing='ij')", a=F(2), b=F(3))
    c("torch.meshgrid(a, b, indexing='xy')", a=F(2), b=F(3))
    c("a.view_as(b)", a=F(6), b=F(2, 3))
    c("a.reshape_as(b)", a=F(6), b=F(2, 3))
    c("a.contiguous()", a=F(2, 3))
    c("a.clone()", a=F(2, 3))
    c("a.detach()", a=F(2, 3), grad=False)
    c("torch.squeeze(a)", a=F(1, 2, 1))
    c("a.dim()", a=F(2, 3))
    c("a.ndim", a=F(2, 3))
    c("a.numel()", a=F(2, 3))
    c("a.size()", a=F(2, 3))
    c("a.size(1)", a=F(2, 3))
    c("a.size(-1)", a=F(2, 3))
    c("a.shape", a=F(2, 3))
    c("a.shape[0]", a=F(2, 3))
    c("len(a)", a=F(4, 3))
    c("a.dtype", a=F(2))
    c("a.dtype == torch.float32", a=F(2))
    c("a.is_floating_point()", a=F(2))
    c("a.is_floating_point()", a=I(2))
    c("torch.is_tensor(a)", a=F(2))
    c("torch.numel(a)", a=F(2, 3))
    c("a.element_size()", a=F(2))
    c("torch.cartesian_prod(a, b)", a=I(2), b=I(3))
    c("torch.combinations(a)", a=I(4))

    # ---- dtype conversions
    group("dtype")
    c("a.float()", a=I(3))
    c("a.double()", a=F(3))
    c("a.int()", a=F(5) * 2)
    c("a.long()", a=F(5) * 2)
    c("a.bool()", a=I(5, lo=-1, hi=2))
    c("a.half()", a=F(3), grad=False)
    c("a.to(torch.float64)", a=F(3))
    c("a.to(torch.int32)", a=F(3) * 3)
    c("a.to(dtype=torch.float32)", a=I(3))
    c("a.to(b)", a=I(3), b=D(2))
    c("a.to('cpu')", a=F(3))
    c("a.type(torch.float64)", a=I(3))
    c("a.type_as(b)", a=I(3), b=F(2))
    c("a.long().float()", a=F(4) * 3)
    c("a.to(torch.uint8)", a=I(4, lo=0, hi=200))
    c("a.to(torch.int8)", a=I(4, lo=-100, hi=100))
    c("a.to(torch.int16)", a=I(4))
    c("a.to(torch.bfloat16)", a=F(3), grad=False)
    c("torch.tensor([1, 2], dtype=torch.long)")
    c("torch.zeros(2, dtype=torch.float)")
    c("torch.ones(2, dtype=torch.int)")
    c("torch.ones(2, dtype=torch.double)")
    c("a.float().mean()", a=B(4))
    c("a.numpy()", a=F(3), grad=False)
    c("a.numpy()", a=I(3))
    c("torch.result_type(a, b)", a=I(3), b=F(3))
    c("torch.promote_types(torch.int32, torch.float32)")
    c("torch.can_cast(torch.float32, torch.int32)")
    c("torch.get_default_dtype()")
    c("a.is_complex()", a=F(2))
    c("torch.finfo(torch.float32).eps")
    c("torch.iinfo(torch.int32).max")

    # ---- indexing
    group("indexing")
    c("a[0]", a=F(3, 4))
    c("a[-1]", a=F(3, 4))
    c("a[1:3]", a=F(4, 2))
    c("a[:, 0]", a=F(3, 4))
    c("a[:, -2:]", a=F(3, 4))
    c("a[::2]", a=F(5))
    c("a[..., 1]", a=F(2, 3, 4))
    c("a[None]", a=F(3))
    c("a[:, None]", a=F(3))
    c("a[1, 2]", a=F(3, 4))
    c("a[i]", a=F(5, 2), i=np.array([0, 2, 4]))
    c("a[i]", a=F(5), i=np.array([[0, 1], [3, -1]]))
    c("a[:, i]", a=F(3, 4), i=np.array([3, 0]))
    c("a[i, j]", a=F(3, 4), i=np.array([0, 2]), j=np.array([1, 3]))
    c("a[[0, 2]]", a=F(3, 4))
    c("a[[0, 1], [1, 2]]", a=F(3, 4))
    c("a[m]", a=F(5), m=B(5))
    c("a[a > 0]", a=F(2, 3))
    c("a[m]", a=F(2, 3), m=B(2, 3))
    c("a[m]", a=F(3, 2), m=B(3))
    c("a[:, m]", a=F(2, 3), m=B(3))
    c("a[i, :, 0]", a=F(3, 4, 2), i=np.array([1, 0]))
    c("a[0, i]", a=F(3, 4), i=np.array([1, 1]))
    c("a[..., i]", a=F(2, 3, 4), i=np.array([0, 3]))
    c("a[t]", a=F(4), t=np.array(2))
    c("a[1][2]", a=I(3, 4))
    c("a = a.clone(); a[0] = 1.0; out = a", a=F(3, 2))
    c("a = a.clone(); a[:, 1] = b; out = a", a=F(3, 2), b=F(3))
    c("a = a.clone(); a[m] = 0; out = a", a=F(4), m=B(4))
    c("a = a.clone(); a[a < 0] = 0; out = a", a=F(2, 3))
    c("a = a.clone(); a[i] = b; out = a", a=F(5), i=np.array([0, 3]), b=F(2))
    c("a = a.clone(); a[1:3] += 1; out = a", a=F(4))
    c("a = a.clone(); a[i] += 1; out = a", a=I(4), i=np.array([1, 2]))
    c("a = a.clone(); a[..., 0] = 5; out = a", a=I(2, 3))
    c("a = a.clone(); a[0, 0] = b; out = a", a=F(2, 2), b=F())
    c("a = a.clone(); a[m] = b; out = a", a=F(3, 2), m=np.array([True, False, True]), b=F(2, 2))
    c("a = a.clone(); a[:] = 0; out = a", a=F(3))
    c("torch.index_select(a, 0, i)", a=F(4, 3), i=np.array([3, 0, 0]))
    c("a.index_select(1, i)", a=F(4, 3), i=np.array([2]))
    c("torch.gather(a, 1, i)", a=F(2, 3), i=np.array([[0, 2], [1, 1]]))
    c("a.gather(0, i)", a=F(2, 3), i=np.array([[1, 0, 1]]))
    c("torch.take_along_dim(a, i, dim=1)", a=F(2, 3), i=np.array([[2], [0]]))
    c("torch.take(a, i)", a=F(2, 3), i=np.array([0, 5, 2]))
    c("a.scatter(0, i, b)", a=F(3, 2), i=np.array([[2, 0]]), b=F(1, 2))
    c("torch.scatter(a, 1, i, 0.5)", a=F(2, 3), i=np.array([[0], [2]]))
    c("a.scatter_add(0, i, b)", a=F(3), i=np.array([0, 0, 2]), b=F(3))
    c("torch.scatter_reduce(a, 0, i, b, reduce='amax')", a=F(3), i=np.array([0, 0, 2]), b=F(3))
    c("a.scatter_reduce(0, i, b, 'sum', include_self=False)", a=F(3), i=np.array([0, 0, 2]), b=F(3))
    c("a.index_add(0, i, b)", a=F(3, 2), i=np.array([0, 2]), b=F(2, 2))
    c("a.index_fill(0, i, -1.0)", a=F(3, 2), i=np.array([1]))
    c("a.index_copy(0, i, b)", a=F(3, 2), i=np.array([2, 0]), b=F(2, 2))
    c("a.index_put((i,), b)", a=F(4), i=np.array([1, 3]), b=F(2))
    c("a.index_put((i,), b, accumulate=True)", a=F(4), i=np.array([1, 1]), b=F(2))
    c("a.masked_fill(m, 0.0)", a=F(2, 3), m=B(2, 3))
    c("a.masked_fill(a > 0, -1)", a=F(2, 3))
    c("torch.masked_fill(a, m, 2)", a=I(3), m=B(3))
    c("torch.masked_select(a, m)", a=F(2, 3), m=B(2, 3))
    c("a.masked_scatter(m, b)", a=F(4), m=np.array([True, False, True, False]), b=F(4))
    c("torch.nonzero(a)", a=I(2, 3, lo=-1, hi=2))
    c("a.nonzero(as_tuple=True)", a=I(2, 3, lo=-1, hi=2))
    c("torch.argwhere(a)", a=I(4, lo=-1, hi=2))
    c("torch.where(a != 0)", a=I(4, lo=-1, hi=2))
    c("a.put(i, b)", a=F(2, 2), i=np.array([0, 3]), b=F(2))
    c("torch.select(a, 1, 0)", a=F(2, 3))
    c("a.select(0, -1)", a=F(2, 3))
    c("a.unfold(0, 2, 1)", a=F(5))
    c("torch.index_select(a, 0, i)", a=I(3), i=np.array([2, 1]))

    # ---- sorting, selection
    group("sorting")
    c("torch.sort(a)", a=DISTINCT(2, 4))
    c("a.sort(dim=0, descending=True)", a=DISTINCT(3, 2))
    c("a.sort(stable=True)", a=I(6, lo=0, hi=3))
    c("torch.argsort(a)", a=DISTINCT(5))
    c("a.argsort(dim=1, descending=True)", a=DISTINCT(2, 3))
    c("torch.argsort(a, stable=True)", a=I(6, lo=0, hi=3))
    c("torch.topk(a, 2)", a=DISTINCT(5))
    c("a.topk(2, dim=0, largest=False)", a=DISTINCT(4, 3))
    c("a.topk(k=1)", a=DISTINCT(2, 3))
    c("torch.kthvalue(a, 2)", a=DISTINCT(5))
    c("torch.kthvalue(a, 1, dim=0)", a=DISTINCT(3, 2))
    c("torch.msort(a)", a=DISTINCT(3, 2))
    c("torch.unique(a)", a=I(8, lo=0, hi=4))
    c("torch.unique(a, return_counts=True)", a=I(8, lo=0, hi=4))
    c("torch.unique(a, return_inverse=True)", a=I(8, lo=0, hi=4))
    c("a.unique()", a=F(3))
    c("torch.unique_consecutive(a)", a=np.array([1, 1, 2, 2, 3, 1]))
    c("torch.searchsorted(s, v)", s=np.array([1.0, 3.0, 5.0], np.float32), v=F(4, lo=0, hi=6))
    c("torch.searchsorted(s, v, right=True)", s=np.array([1, 3, 5]), v=np.array([3, 0, 6]))
    c("torch.bucketize(v, s)", s=np.array([1.0, 3.0, 5.0], np.float32), v=F(4, lo=0, hi=6))
    c("torch.bincount(a)", a=I(6, lo=0, hi=4))
    c("torch.bincount(a, minlength=6)", a=I(6, lo=0, hi=4))
    c("torch.histc(a, bins=4, min=-2, max=2)", a=F(10))
    c("torch.max(a, dim=0)", a=DISTINCT(3, 2))
    c("torch.flip(torch.sort(a).values, [0])", a=DISTINCT(5))
    c("torch.cummax(a, dim=1)", a=I(2, 4))

    # ---- linear algebra
    group("linalg")
    c("torch.matmul(a, b)", a=F(2, 3), b=F(3, 4))
    c("torch.matmul(a, b)", a=F(2, 2, 3), b=F(3, 4))
    c("torch.matmul(a, b)", a=F(3), b=F(3))
    c("a @ b", a=F(2, 1, 2, 3), b=F(3, 3, 2))
    c("a @ b", a=D(2, 3), b=F(3, 2), convention="matmul promotes mixed float dtypes (torch raises)")
    c("torch.mm(a, b)", a=F(2, 3), b=F(3, 4))
    c("torch.bmm(a, b)", a=F(2, 2, 3), b=F(2, 3, 4))
    c("torch.mv(a, b)", a=F(2, 3), b=F(3))
    c("torch.dot(a, b)", a=F(3), b=F(3))
    c("torch.dot(a, b)", a=I(3), b=I(3))
    c("torch.vdot(a, b)", a=F(3), b=F(3))
    c("torch.outer(a, b)", a=F(3), b=F(2))
    c("torch.ger(a, b)", a=F(3), b=F(2))
    c("torch.inner(a, b)", a=F(2, 3), b=F(4, 3))
    c("torch.einsum('ij,jk->ik', a, b)", a=F(2, 3), b=F(3, 4))
    c("torch.einsum('bij,bjk->bik', a, b)", a=F(2, 2, 3), b=F(2, 3, 2))
    c("torch.einsum('ii->', a)", a=F(3, 3))
    c("torch.einsum('i,i', a, b)", a=F(3), b=F(3))
    c("torch.einsum('...ij->...ji', a)", a=F(2, 3, 4))
    c("torch.einsum('ij,ij->i', [a, b])", a=F(2, 3), b=F(2, 3))
    c("torch.tensordot(a, b, dims=1)", a=F(2, 3), b=F(3, 4))
    c("torch.tensordot(a, b, dims=([0], [1]))", a=F(3, 2), b=F(4, 3))
    c("torch.kron(a, b)", a=F(2, 2), b=F(2, 1))
    c("torch.cross(a, b, dim=-1)", a=F(2, 3), b=F(2, 3))
    c("torch.linalg.cross(a, b)", a=F(3), b=F(3))
    c("torch.addmm(c, a, b)", c=F(2, 4), a=F(2, 3), b=F(3, 4))
    c("torch.addmm(c, a, b, beta=0.5, alpha=2)", c=F(4), a=F(2, 3), b=F(3, 4))
    c("torch.baddbmm(c, a, b)", c=F(2, 2, 2), a=F(2, 2, 3), b=F(2, 3, 2))
    c("torch.addmv(c, a, b)", c=F(2), a=F(2, 3), b=F(3))
    c("torch.addr(c, a, b)", c=F(3, 2), a=F(3), b=F(2))
    c("torch.chain_matmul(a, b, c)", a=F(2, 3), b=F(3, 3), c=F(3, 2))
    c("torch.linalg.multi_dot([a, b, c])", a=F(2, 3), b=F(3, 3), c=F(3, 2))
    c("torch.linalg.vecdot(a, b)", a=F(2, 3), b=F(2, 3))
    c("torch.linalg.matmul(a, b)", a=F(2, 3), b=F(3, 2))
    c("torch.linalg.norm(a)", a=F(3, 4))
    c("torch.linalg.norm(a, dim=1)", a=F(3, 4))
    c("torch.linalg.norm(a, ord=1)", a=F(4))
    c("torch.linalg.norm(a, 'fro')", a=F(3, 4))
    c("torch.linalg.norm(a, 2)", a=SEP(3, 4))
    c("torch.linalg.norm(a, 'nuc')", a=SEP(3, 3))
    c("torch.linalg.norm(a, float('inf'))", a=F(3, 4))
    c("torch.linalg.vector_norm(a)", a=F(3, 4))
    c("torch.linalg.vector_norm(a, ord=3, dim=0)", a=F(3, 4))
    c("torch.linalg.vector_norm(a, float('inf'))", a=F(5))
    c("torch.linalg.vector_norm(a, 0)", a=F(5))
    c("torch.linalg.matrix_norm(a)", a=F(3, 4))
    c("torch.linalg.matrix_norm(a, ord=1)", a=F(3, 4))
    c("torch.linalg.matrix_norm(a, ord=-1)", a=F(3, 4))
    c("torch.linalg.matrix_norm(a, ord=float('inf'))", a=F(3, 4))
    c("torch.linalg.matrix_norm(a, ord=2)", a=SEP(3, 4))
    c("torch.linalg.matrix_norm(a, ord=-2)", a=SEP(4, 3))
    c("torch.linalg.matrix_norm(a, ord='nuc')", a=SEP(3, 3))
    c("torch.linalg.matrix_norm(a, ord=2)", a=np.stack([SEP(3, 3), SEP(3, 3)]))
    c("torch.linalg.det(a)", a=SPD(3))
    c("torch.det(a)", a=F(3, 3))
    c("a.det()", a=F(2, 3, 3))
    c("torch.linalg.slogdet(a)", a=F(3, 3))
    c("torch.logdet(a)", a=SPD(3))
    c("torch.linalg.inv(a)", a=SPD(3))
    c("torch.inverse(a)", a=SPD(3, (2,)))
    c("torch.linalg.solve(a, b)", a=SPD(3), b=F(3))
    c("torch.linalg.solve(a, b)", a=SPD(3), b=F(3, 2))
    c("torch.linalg.cholesky(a)", a=SPD(3))
    c("torch.cholesky(a)", a=SPD(3))
    c("torch.linalg.solve_triangular(a, b, upper=False)", a=np.tril(SPD(3)), b=F(3, 2))
    c("torch.triangular_solve(b, a)", a=np.triu(SPD(3)), b=F(3, 2))
    c("torch.cholesky_solve(b, torch.linalg.cholesky(a))", a=SPD(3), b=F(3, 2))
    c("torch.linalg.matrix_power(a, 3)", a=F(3, 3) / 2)
    c("torch.matrix_power(a, 0)", a=F(3, 3))
    c("torch.linalg.matrix_exp(a)", a=F(3, 3) / 3)
    c("torch.linalg.qr(a)", a=F(4, 3), tol=(1e-4, 1e-4))
    c("torch.linalg.qr(a)", a=F(3, 3), tol=(1e-4, 1e-4))
    c("torch.linalg.qr(a, mode='complete')", a=F(4, 3), tol=(1e-4, 1e-4), grad=False)
    c("torch.linalg.qr(a)", a=F(2, 4, 3), tol=(1e-4, 1e-4))
    c("torch.linalg.qr(a).R", a=F(3, 4), tol=(1e-4, 1e-4))
    c("canon_eigh(torch.linalg.eigh(a))", a=SYM(3), tol=(1e-4, 1e-4))
    c("canon_eigh(torch.linalg.eigh(a))", a=SYM(5), tol=(1e-4, 1e-4))
    c("canon_eigh(torch.linalg.eigh(a))", a=np.stack([SYM(3), SYM(3)]), tol=(1e-4, 1e-4))
    c("torch.linalg.eigvalsh(a)", a=SYM(4), tol=(1e-4, 1e-4))
    c("torch.linalg.eigh(a).eigenvalues", a=SYM(4), tol=(1e-4, 1e-4))
    c("canon_eigh(torch.linalg.eigh(a, UPLO='U'))", a=SYM(3), tol=(1e-4, 1e-4))
    c("canon_svd(torch.linalg.svd(a))", a=SEP(3, 3), tol=(1e-4, 1e-4), grad=False)
    c("canon_svd(torch.linalg.svd(a, full_matrices=False))", a=SEP(4, 3), tol=(1e-4, 1e-4))
    c("canon_svd(torch.linalg.svd(a, full_matrices=False))", a=SEP(3, 5), tol=(1e-4, 1e-4))
    c("canon_svd(torch.linalg.svd(a, full_matrices=False))", a=np.stack([SEP(3, 2), SEP(3, 2)]), tol=(1e-4, 1e-4))
    c("torch.linalg.svdvals(a)", a=SEP(4, 3), tol=(1e-4, 1e-4))
    c("torch.linalg.svd(a, full_matrices=False).S", a=SEP(5, 4), tol=(1e-4, 1e-4))
    c("canon_svd(torch.svd(a), v=True)", a=SEP(4, 3), tol=(1e-4, 1e-4))
    c("torch.linalg.pinv(a)", a=SEP(4, 3), tol=(1e-4, 1e-4))
    c("torch.linalg.pinv(a)", a=SEP(2, 3), tol=(1e-4, 1e-4))
    c("torch.linalg.lstsq(a, b).solution", a=SEP(4, 3), b=F(4, 2), tol=(1e-4, 1e-4))
    c("torch.linalg.matrix_rank(a)", a=SEP(4, 3))
    c("torch.linalg.matrix_rank(a)", a=np.outer(F(4), F(3)))
    c("torch.linalg.cond(a)", a=SEP(3, 3), tol=(1e-4, 1e-4))
    c("torch.linalg.eigvals(a)", a=SYM(3), grad=False, convention="complex results: slope has no complex dtype")
    c("torch.cdist(a, b)", a=F(3, 2), b=F(4, 2))
    c("torch.cdist(a, b, p=1)", a=F(3, 2), b=F(4, 2))
    c("torch.dist(a, b)", a=F(3), b=F(3))
    c("torch.trace(a @ a.T)", a=F(3, 3))
    c("torch.linalg.diagonal(a)", a=F(2, 3, 3))
    c("torch.linalg.tensorsolve(a, b)", a=SPD(4).reshape(2, 2, 4), b=F(2, 2), grad=False)
    c("torch.linalg.householder_product(a, t)", a=F(3, 2), t=F(2), grad=False)


# ---------------------------------------------------------------- running a case


def _column_signs(V):
    """+-1 per column (shape (..., 1, k)) making each column's first largest-magnitude entry positive: eigen- and
    singular vectors are unique up to sign only, and LAPACK's choice is unspecified. Tensor methods only, so the
    same code runs on torch and slope results."""
    return V.gather(-2, V.abs().argmax(dim=-2, keepdim=True)).sign()


def canon_eigh(out):
    w, V = out
    return w, V * _column_signs(V)


def canon_svd(out, v=False):
    U, S, W = out  # W is Vh (linalg.svd) or V (torch.svd, v=True)
    k = S.shape[-1]
    s = _column_signs(U[..., :k])
    return U[..., :k] * s, S, (W[..., :k] * s if v else W[..., :k, :] * s.mT)  # a completion is not unique


HELPERS = {"np": np, "math": math, "canon_eigh": canon_eigh, "canon_svd": canon_svd}


def _kind_of_error(exc):
    if isinstance(exc, AttributeError):
        return "missing"
    if isinstance(exc, TypeError) and any(w in str(exc) for w in ("argument", "positional", "keyword", "takes")):
        return "missing"
    return "raises-on-valid"


def _side(mod, case, grad):
    """Evaluate case.code with `torch` bound to mod. Returns (out, leaves, inputs) where leaves are the
    float inputs to differentiate (torch: requires_grad leaves; slope: None, see _slope_grad)."""
    import torch

    ns = {"torch": mod, **HELPERS}
    leaves = {}
    for k, v in case.inputs.items():
        if mod is torch:
            t = torch.tensor(np.array(v))
            if grad and t.is_floating_point() and t.dtype in (torch.float32, torch.float64):
                t.requires_grad_(True)
                leaves[k] = t
                t = t.clone()  # a non-leaf, so in-place code runs
            ns[k] = t
        else:
            ns[k] = mod.tensor(np.array(v))
    return _run(case.code, ns), leaves, ns


def _run(code, ns):
    if "out =" in code:
        exec(code, ns)
        return ns["out"]
    return eval(code, ns)


def _normalize(out):
    """A comparable form: ('tensor', array, dtype name) / ('seq', [...]) / ('py', value) / ('dtype', name)."""
    import torch

    import slope

    if isinstance(out, torch.Tensor):
        o = out.detach()
        name = str(o.dtype).replace("torch.", "")
        if o.dtype == torch.bfloat16:
            return ("tensor", o.float().numpy(), name)
        return ("tensor", o.numpy(), name)
    if isinstance(out, slope.Tensor):
        name = out.dtype.name
        a = np.asarray(out.numpy())
        return ("tensor", a.astype(np.float32) if name == "bfloat16" else a, name)
    if isinstance(out, torch.dtype):
        return ("dtype", str(out).replace("torch.", ""))
    if isinstance(out, slope.DType):
        return ("dtype", out.name)
    if isinstance(out, (tuple, list)):
        return ("seq", [_normalize(o) for o in out])
    if isinstance(out, np.ndarray):
        return ("ndarray", out, str(out.dtype))
    if isinstance(out, (bool, int, float, np.generic)):
        return ("py", out)
    return ("other", repr(out))


def _compare(t, s, tol):
    """None if equal, else a description of the first difference."""
    if t[0] != s[0]:
        return f"kind: torch gives {t[0]}, slope gives {s[0]} ({_short(s)})"
    if t[0] == "seq":
        if len(t[1]) != len(s[1]):
            return f"length: torch {len(t[1])}, slope {len(s[1])}"
        for k, (a, b) in enumerate(zip(t[1], s[1])):
            d = _compare(a, b, tol)
            if d:
                return f"[{k}] {d}"
        return None
    if t[0] == "dtype":
        return None if t[1] == s[1] else f"dtype object: torch {t[1]}, slope {s[1]}"
    if t[0] == "py":
        a, b = t[1], s[1]
        if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, type(a))):
            return f"python type: torch {type(a).__name__} {a!r}, slope {type(b).__name__} {b!r}"
        if isinstance(a, float):
            return None if math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6) or (a != a and b != b) else \
                f"value: torch {a!r}, slope {b!r}"
        return None if a == b else f"value: torch {a!r}, slope {b!r}"
    if t[0] in ("tensor", "ndarray"):
        a, b = t[1], s[1]
        if t[2] != s[2]:
            return f"dtype: torch {t[2]}, slope {s[2]}"
        if a.shape != b.shape:
            return f"shape: torch {a.shape}, slope {b.shape}"
        if tol is False:
            return None
        if a.dtype.kind == "f":
            rtol, atol = tol or TOL.get(t[2], TOL["float32"])
            if not np.allclose(b, a, rtol=rtol, atol=atol, equal_nan=True):
                err = np.max(np.abs(b.astype(np.float64) - a))
                return f"values differ (max abs err {err:.3g}): torch {_fmt(a)}, slope {_fmt(b)}"
            return None
        return None if np.array_equal(a, b) else f"values differ: torch {_fmt(a)}, slope {_fmt(b)}"
    return None if t == s else f"torch {t!r}, slope {s!r}"


def _fmt(a):
    return np.array2string(np.asarray(a), precision=4, threshold=12).replace("\n", "")


def _short(s):
    return repr(s[1])[:60] if s[0] == "py" else s[0]


def _float_leaves(norm):
    if norm[0] == "tensor":
        return [norm] if norm[2] in ("float32", "float64") else []
    if norm[0] == "seq":
        return [x for o in norm[1] for x in _float_leaves(o)]
    return []


def _torch_tensors(out):
    import torch

    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _torch_tensors(o)]
    return []


def _weights(n, shapes):
    rng = np.random.default_rng(n)
    return [rng.standard_normal(s) for s in shapes]


def run_case(case):
    """Run one case; returns a Result."""
    import torch

    import slope

    torch.manual_seed(0)
    try:
        t_out, leaves, _ = _side(torch, case, grad=case.grad)
    except Exception as e:  # torch raises: slope should raise too
        try:
            s_out, _, _ = _side(slope, case, grad=False)
            _normalize(s_out)
        except Exception:
            return Result(case, "agree", f"both raise (torch: {type(e).__name__})")
        return Result(case, "other-convention",
                      case.convention or f"torch raises {type(e).__name__}: {str(e)[:100]}; slope returns a value")
    t_norm = _normalize(t_out)
    try:
        s_out, _, _ = _side(slope, case, grad=False)
        s_norm = _normalize(s_out)
    except Exception as e:
        msg = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
        return Result(case, _kind_of_error(e), msg)
    diff = _compare(t_norm, s_norm, case.tol if case.values else False)
    if diff:
        return Result(case, "other-convention" if case.convention else "silently-wrong",
                      (case.convention + ": " if case.convention else "") + diff)
    # gradients: torch's float results that require grad
    t_tensors = [o for o in _torch_tensors(t_out)]
    diff_outs = [k for k, o in enumerate(t_tensors) if o.requires_grad and o.is_floating_point()]
    if not (case.grad and leaves and diff_outs):
        return Result(case, "agree")
    names = list(leaves)
    ws = _weights(case.index, [tuple(t_tensors[k].shape) for k in diff_outs])
    loss = sum((t_tensors[k] * torch.tensor(w, dtype=t_tensors[k].dtype)).sum() for k, w in zip(diff_outs, ws))
    try:
        t_grads = torch.autograd.grad(loss, [leaves[n] for n in names], allow_unused=True)
    except (RuntimeError, NotImplementedError):  # torch has no derivative for it (unique, ...): values only
        return Result(case, "agree", "values (torch has no gradient)")
    t_grads = [np.zeros(tuple(leaves[n].shape), leaves[n].detach().numpy().dtype)
               if g is None or g._is_zerotensor() else g.numpy() for n, g in zip(names, t_grads)]
    try:
        s_grads = _slope_grad(case, names, diff_outs, ws)
    except Exception as e:
        msg = f"grad: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
        return Result(case, "raises-on-valid", msg)
    for n, tg, sg in zip(names, t_grads, s_grads):
        dtype = str(tg.dtype)
        rtol, atol = case.tol or GRAD_TOL.get(dtype, GRAD_TOL["float32"])
        sg = np.asarray(sg)
        scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isfinite(tg), tg, 0)), initial=0)))
        if sg.shape != tg.shape or not np.allclose(sg, tg, rtol=rtol, atol=atol * scale, equal_nan=True):
            d = f"gradient wrt {n} differs: torch {_fmt(tg)}, slope {_fmt(sg)}"
            return Result(case, "other-convention" if case.convention else "silently-wrong",
                          (case.convention + ": " if case.convention else "") + d)
    return Result(case, "agree", "values and gradients")


def _slope_grad(case, names, diff_outs, ws):
    import slope

    others = {k: slope.tensor(np.array(v)) for k, v in case.inputs.items() if k not in names}

    def loss(*xs):
        ns = {"torch": slope, **HELPERS, **others, **dict(zip(names, xs))}
        out = _run(case.code, ns)
        outs = [o for o in _flat(out)]
        return sum((outs[k] * slope.tensor(w.astype(outs[k].dtype.name))).sum() for k, w in zip(diff_outs, ws))

    args = [slope.tensor(np.array(case.inputs[n])) for n in names]
    g = slope.grad(loss, argnums=tuple(range(len(names))))(*args)
    g = g if isinstance(g, (tuple, list)) else (g,)
    return [x.numpy() for x in g]


def _flat(out):
    import slope

    if isinstance(out, slope.Tensor) or hasattr(out, "aval"):
        return [out]
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flat(o)]
    return []


def _safe_run(case):
    try:
        return run_case(case)
    except Exception as e:  # a harness failure: report it as such, never as agreement
        return Result(case, "raises-on-valid", f"harness: {type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}")


def _worker(indices):
    build()
    for i, cs in enumerate(CASES):
        cs.index = i
    return [(i, _pack(_safe_run(CASES[i]))) for i in indices]


def _pack(r):
    return (r.category, r.detail)


# ---------------------------------------------------------------- report


def report(results, seconds):
    counts = Counter(r.category for r in results)
    n = len(results)
    lines = ["# The PyTorch differential (issue #15)", "",
             f"`python ci/torch_differential.py`: {n} common PyTorch calls run through torch "
             f"{_torch_version()} and slope with the same NumPy inputs ({seconds:.0f} s). The case's code is "
             "written against `torch`; slope runs the same text with `torch` bound to the `slope` module.", "",
             "| category | cases | share |", "|---|---:|---:|"]
    for k in CATEGORIES:
        lines.append(f"| {k} | {counts.get(k, 0)} | {100 * counts.get(k, 0) / n:.1f}% |")
    lines += ["", "By group:", "", "| group | " + " | ".join(CATEGORIES) + " |",
              "|---|" + "---:|" * len(CATEGORIES)]
    groups = list(dict.fromkeys(r.case.group for r in results))
    for g in groups:
        cg = Counter(r.category for r in results if r.case.group == g)
        lines.append(f"| {g} | " + " | ".join(str(cg.get(k, 0)) for k in CATEGORIES) + " |")
    for k in CATEGORIES[1:]:
        rs = [r for r in results if r.category == k]
        if not rs:
            continue
        lines += ["", f"## {k} ({len(rs)})", ""]
        for r in rs:
            inputs = ", ".join(f"{name}={_describe(v)}" for name, v in r.case.inputs.items())
            lines.append(f"- `{r.case.code}`" + (f" ({inputs})" if inputs else "") + f": {r.detail.splitlines()[0]}")
    return "\n".join(lines) + "\n"


def _describe(v):
    a = np.asarray(v)
    return f"{a.dtype}{list(a.shape)}"


def _torch_version():
    import torch

    return torch.__version__


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="run the cases whose code contains one of these strings")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--output", default=os.path.join(HERE, "torch_differential.md"))
    args = ap.parse_args(argv)
    build()
    for i, cs in enumerate(CASES):
        cs.index = i
    todo = [i for i, cs in enumerate(CASES) if not args.only or any(w in cs.code for w in args.only)]
    t0 = time.time()
    if args.jobs > 1 and len(todo) > 1:
        import multiprocessing as mp

        chunks = [todo[k::args.jobs] for k in range(args.jobs)]
        with mp.get_context("spawn").Pool(args.jobs) as pool:
            packed = dict(x for part in pool.map(_worker, chunks) for x in part)
    else:
        packed = {i: _pack(_safe_run(CASES[i])) for i in todo}
    results = [Result(CASES[i], *packed[i]) for i in todo]
    seconds = time.time() - t0
    counts = Counter(r.category for r in results)
    n = len(results)
    print(f"{n} cases, {seconds:.0f} s: " + ", ".join(f"{k} {counts.get(k, 0)}" for k in CATEGORIES)
          + f"; agree {100 * counts.get('agree', 0) / n:.1f}%")
    if args.verbose:
        for r in results:
            if r.category != "agree":
                print(f"  {r.category:17s} {r.case.code}: {r.detail.splitlines()[0]}")
    if not args.only:
        with open(args.output, "w") as f:
            f.write(report(results, seconds))
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
