"""Example: one drawn input of a primitive (operands, params, and what the checks need besides)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from slope.core.dtypes import DType


@dataclass
class Example:
    """Inputs for one check of one primitive.

    dtype       name of the dtype the example was drawn for (a name from spec.verify.dtypes)
    args        operands (NumPy arrays)
    params      the primitive's params
    tangents    one array per operand for derivative checks (None for non-float operands)
    cotangents  one array per output for vjp/second-order checks (None for non-float outputs)
    batch       for the vmap check: operand lists of several examples with the structure of
                `args` (batch[0] is args)
    """

    dtype: str
    args: list
    params: dict = field(default_factory=dict)
    tangents: Optional[list] = None
    cotangents: Optional[list] = None
    batch: Optional[list] = None

    def __repr__(self):
        parts = [f"dtype={self.dtype!r}", f"args={_fmt_list(self.args)}", f"params={_fmt_params(self.params)}"]
        if self.tangents is not None:
            parts.append(f"tangents={_fmt_list(self.tangents)}")
        if self.cotangents is not None:
            parts.append(f"cotangents={_fmt_list(self.cotangents)}")
        if self.batch is not None:
            parts.append("batch=[" + ", ".join(_fmt_list(b) for b in self.batch) + "]")
        return f"Example({', '.join(parts)})"


def fmt_array(a) -> str:
    """An evaluable repr that round-trips exactly: np.array(<list>, 'dtype').reshape(shape)."""
    if a is None:
        return "None"
    a = np.asarray(a)
    body = repr(a.reshape(-1).tolist())  # Python floats print the exact value of float32 data too
    tail = f".reshape({a.shape!r})" if a.ndim != 1 else ""
    return f"np.array({body}, {a.dtype.name!r}){tail}"


def _fmt_list(xs) -> str:
    return "[" + ", ".join(fmt_array(x) for x in xs) + "]"


def _fmt_value(v) -> str:
    if isinstance(v, DType):
        return f"slope.dtype({v.name!r})"
    if isinstance(v, tuple):
        inner = ", ".join(_fmt_value(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return _fmt_params(v)
    if isinstance(v, np.ndarray):
        return fmt_array(v)
    if isinstance(v, np.generic):
        return repr(v.item())
    return repr(v)


def _fmt_params(params) -> str:
    return "{" + ", ".join(f"{k!r}: {_fmt_value(v)}" for k, v in params.items()) + "}"
