"""The long tail of PyTorch's surface found missing by ci/torch_differential.py: creation (logspace, empty,
tril/triu_indices, block_diag), elementwise math (erfc, lgamma, digamma, sinc, logit, copysign, fmax/fmin,
heaviside, ...), bitwise ops and shifts, comparison aliases, isin, reductions (aminmax, nansum, nanmean,
diff, trapezoid), layout (ravel, hstack/vstack/..., tensor_split, rot90, diag_embed, atleast_nd, meshgrid,
broadcast_tensors, cartesian_prod), selection (index_fill, index_copy, masked_scatter, put, select,
unfold, msort, bincount, histc), products (cross, addr, ger, chain_matmul, dist), dtype queries (finfo,
iinfo, result_type, promote_types, can_cast). Each is a composite of verified ops."""
from __future__ import annotations

import builtins
import collections as _collections
import math

import numpy as np

from slope import lax
from slope.core import dtypes as dt
from slope.core.tensor import Tensor, tensor
from slope.errors import ArgumentError, DTypeError, ShapeError
from slope.ops import arithmetic as A
from slope.ops import layout as L
from slope.ops import reductions as R
from slope.ops import shape as S
from slope.ops.promotion import as_array, astype, broadcast_shapes, broadcast_to, is_array, normalize_dim, operands

__all__ = [
    "logspace", "empty", "empty_like", "tril_indices", "triu_indices", "as_tensor", "from_numpy", "block_diag",
    "erfc", "lgamma", "digamma", "sinc", "deg2rad", "rad2deg", "logit", "positive", "signbit", "logaddexp2",
    "copysign", "fmax", "fmin", "heaviside", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_left_shift", "bitwise_right_shift", "true_divide", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "isin", "aminmax", "nansum", "nanmean", "diff", "trapezoid", "ravel", "broadcast_tensors",
    "concatenate", "hstack", "vstack", "dstack", "column_stack", "row_stack", "tensor_split", "rot90",
    "diag_embed", "atleast_1d", "atleast_2d", "atleast_3d", "meshgrid", "cartesian_prod", "is_tensor",
    "is_floating_point", "result_type", "promote_types", "can_cast", "get_default_dtype", "finfo", "iinfo",
    "index_fill", "index_copy", "masked_scatter", "put", "select", "unfold", "msort", "bincount", "histc",
    "ger", "cross", "addr", "chain_matmul", "dist", "det", "logdet", "inverse", "cholesky", "matrix_power",
    "triangular_solve", "cholesky_solve", "svd", "pinverse",
]


def _float(op, x):
    x = as_array(x, op)
    return x if x.dtype.is_float else astype(x, dt.default_float)


def _isnan(x):
    from slope.ops.basics import isnan
    return isnan(x)


def _full_as(x, value):
    return lax.full(shape=tuple(x.shape), value=value, dtype=x.dtype)


# ---------------------------------------------------------------- creation


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None):
    """base ** linspace(start, end, steps) (torch.logspace)."""
    from slope.ops.creation import linspace
    return A.pow(base, linspace(start, end, steps, dtype=dtype or dt.default_float))


def empty(*size, dtype=None, device=None):
    """A tensor of the given size; slope fills it with zeros (torch leaves it uninitialized)."""
    from slope.ops.creation import zeros
    return zeros(*size, dtype=dtype)


def empty_like(x, *, dtype=None, device=None):
    from slope.ops.creation import zeros_like
    return zeros_like(x, dtype=dtype)


def _tri_indices(row, col, offset, lower):
    r, c = np.indices((row, col))
    keep = (c - r <= offset) if lower else (c - r >= offset)
    return tensor(np.stack([r[keep], c[keep]]).astype(np.int64))


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row/column indices of the lower triangle (torch.tril_indices), int64."""
    return _tri_indices(row, col, offset, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row/column indices of the upper triangle (torch.triu_indices), int64."""
    return _tri_indices(row, col, offset, False)


def as_tensor(data, dtype=None, device=None):
    return data if isinstance(data, Tensor) and dtype is None else tensor(data, dtype=dtype)


def from_numpy(a):
    return tensor(np.asarray(a))


def block_diag(*tensors):
    """The block-diagonal matrix of the given (0-d, 1-d as a row, or 2-d) tensors (torch.block_diag)."""
    mats = [as_array(t, "block_diag") for t in tensors]
    mats = [S.reshape(m, 1, 1) if m.ndim == 0 else S.reshape(m, 1, m.shape[0]) if m.ndim == 1 else m for m in mats]
    d = mats[0].dtype
    for m in mats[1:]:
        d = dt.promote(d, m.dtype)
    cols = builtins.sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        rows.append(S.pad(astype(m, d), (left, cols - left - m.shape[1])))
        left += m.shape[1]
    return S.cat(rows, 0)


# ---------------------------------------------------------------- elementwise math


def erfc(x):
    """1 - erf(x) (torch.erfc); computed as the difference, so relative accuracy is lost for x above ~3."""
    return A.sub(1.0, A.erf(_float("erfc", x)))


def _shifted(x, n=10):
    """x[..., None] + (0, 1, ..., n - 1): the recurrence's terms as one tensor (one saved value in a linearized
    program: IREE 3.13 loads no dispatch reading more than 32 buffers, which ten separate terms exceeded)."""
    steps = lax.iota(shape=(n,), dimension=0, dtype=x.dtype)
    return A.add(S.unsqueeze(x, -1), steps)


def _series(inv, coeffs, first_power, step):
    """sum_k coeffs[k] * inv ** (first_power + step * k), vectorized over k (see _shifted)."""
    k = len(coeffs)
    powers = A.add(A.mul(lax.iota(shape=(k,), dimension=0, dtype=inv.dtype), float(step)), float(first_power))
    c = tensor(np.array(coeffs, dtype=inv.dtype.np))
    return R.sum(A.mul(A.pow(S.unsqueeze(inv, -1), powers), c), -1)


def _lgamma_pos(x):
    """log Gamma(x) for x >= 0.5: Stirling's series to x^-13 at x + 10 (truncation below 1e-16), less
    sum log(x + i), i < 10 (Gamma(x) = Gamma(x + 10) / (x (x + 1) ... (x + 9)))."""
    y = A.add(x, 10.0)
    inv = A.div(1.0, y)
    series = _series(inv, [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156], 1, 2)
    stirling = A.add(A.sub(A.mul(A.sub(y, 0.5), A.log(y)), y), A.add(0.5 * math.log(2 * math.pi), series))
    return A.sub(stirling, R.sum(A.log(_shifted(x)), -1))


def _in_f64(fn, op):
    """fn computed in float64 for float32/16 input (the series cancel: float32 would lose digits), cast back."""
    def f(x):
        x = _float(op, x)
        if x.dtype is dt.float64:
            return fn(x)
        return astype(fn(astype(x, dt.float64)), x.dtype)
    f.__name__ = op
    return f


def _lgamma(x):
    small = A.lt(x, 0.5)
    xr = A.where(small, A.sub(1.0, x), x)
    big = _lgamma_pos(xr)
    xs = A.where(small, x, _full_as(x, 0.25))  # the reflection where it is taken (no inf/NaN gradient elsewhere)
    sin_pix = A.abs(A.sin(A.mul(xs, math.pi)))
    refl = A.sub(A.sub(math.log(math.pi), A.log(sin_pix)), big)
    return A.where(small, refl, big)


def lgamma(x):
    """log |Gamma(x)| (torch.lgamma): Stirling's series after shifting x up to 10, the reflection formula below
    0.5, computed in float64 (~1e-15 relative away from the zeros at 1 and 2); the poles (0, -1, ...) give inf."""
    return _in_f64(_lgamma, "lgamma")(x)


def digamma(x):
    """d/dx log Gamma(x) (torch.digamma): shifted up by the recurrence psi(x) = psi(x + 1) - 1/x to x >= 6, then
    the asymptotic series to x^-14; reflection below 0.5; computed in float64."""
    return _in_f64(_digamma, "digamma")(x)


def _digamma(x):
    small = A.lt(x, 0.5)
    xr = A.where(small, A.sub(1.0, x), x)
    y = A.add(xr, 10.0)  # psi(x) = psi(x + 10) - sum 1/(x + i), i < 10; the asymptotic series at x + 10
    inv = A.div(1.0, y)
    series = _series(inv, [1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12], 2, 2)
    psi = A.sub(A.sub(A.sub(A.log(y), A.mul(inv, 0.5)), series), R.sum(A.div(1.0, _shifted(xr)), -1))
    xs = A.where(small, x, _full_as(x, 0.25))  # the reflection where it is taken (no inf/NaN gradient elsewhere)
    refl = A.sub(psi, A.div(math.pi, A.tan(A.mul(xs, math.pi))))
    return A.where(small, refl, psi)


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0 (torch.sinc)."""
    x = _float("sinc", x)
    zero = A.eq(x, 0.0)
    safe = A.where(zero, _full_as(x, 1), x)
    px = A.mul(safe, math.pi)
    return A.where(zero, _full_as(x, 1), A.div(A.sin(px), px))


def deg2rad(x):
    return A.mul(_float("deg2rad", x), math.pi / 180)


def rad2deg(x):
    return A.mul(_float("rad2deg", x), 180 / math.pi)


def logit(x, eps=None):
    """log(x / (1 - x)) (torch.logit); eps clamps x into [eps, 1 - eps] first."""
    x = _float("logit", x)
    if eps is not None:
        x = A.clamp(x, eps, 1 - eps)
    return A.log(A.div(x, A.sub(1.0, x)))


def positive(x):
    return as_array(x, "positive")


def signbit(x):
    """True where the sign bit is set (-0.0 included) (torch.signbit)."""
    x = as_array(x, "signbit")
    if not x.dtype.is_float:
        return A.lt(x, 0)
    neg_zero = A.logical_and(A.eq(x, 0.0), A.lt(A.div(1.0, x), 0.0))
    return A.logical_or(A.lt(x, 0.0), neg_zero)


def logaddexp2(x, y):
    """log2(2**x + 2**y), computed stably (torch.logaddexp2)."""
    from slope.ops.mathfns import logaddexp
    return A.div(logaddexp(A.mul(_float("logaddexp2", x), math.log(2)), A.mul(_float("logaddexp2", y), math.log(2))),
                 math.log(2))


def copysign(x, y):
    """|x| with the sign of y (the sign bit: -0.0 counts as negative) (torch.copysign)."""
    x, y = operands("copysign", x, y)
    x, y = (x, y) if x.dtype.is_float else (astype(x, dt.default_float), astype(y, dt.default_float))
    return A.where(signbit(y), A.neg(A.abs(x)), A.abs(x))


def fmax(x, y):
    """Elementwise maximum ignoring NaN (NaN only where both are NaN) (torch.fmax)."""
    x, y = operands("fmax", x, y)
    if not x.dtype.is_float:
        return A.maximum(x, y)
    return A.where(_isnan(x), y, A.where(_isnan(y), x, A.maximum(x, y)))


def fmin(x, y):
    """Elementwise minimum ignoring NaN (torch.fmin)."""
    x, y = operands("fmin", x, y)
    if not x.dtype.is_float:
        return A.minimum(x, y)
    return A.where(_isnan(x), y, A.where(_isnan(y), x, A.minimum(x, y)))


def heaviside(x, values):
    """0 where x < 0, `values` where x == 0, 1 where x > 0 (torch.heaviside)."""
    x, v = operands("heaviside", x, values)
    return A.where(A.eq(x, 0), v, astype(A.gt(x, 0), x.dtype))


# ---------------------------------------------------------------- bitwise and comparisons


def _bitwise(name, prim):
    def f(x, y):
        x, y = operands(name, x, y)
        if x.dtype.is_float:
            raise DTypeError(f"{name}: expects bool or integer operands, got {x.aval.str_short()}, {y.aval.str_short()}")
        return prim(x, y)

    f.__name__ = name
    f.__doc__ = f"torch.{name}: elementwise on the bits of integers (logical on bool)."
    return f


bitwise_and = _bitwise("bitwise_and", lax.and_)
bitwise_or = _bitwise("bitwise_or", lax.or_)
bitwise_xor = _bitwise("bitwise_xor", lax.xor)


def bitwise_not(x):
    x = as_array(x, "bitwise_not")
    if x.dtype.is_float:
        raise DTypeError(f"bitwise_not: expects a bool or integer tensor, got {x.aval.str_short()}")
    return lax.not_(x)


def _shift(name, signed_prim, unsigned_prim=None):
    def f(x, y):
        x, y = operands(name, x, y)
        if not x.dtype.is_int:
            raise DTypeError(f"{name}: expects integer operands, got {x.aval.str_short()}, {y.aval.str_short()}")
        prim = unsigned_prim if unsigned_prim is not None and x.dtype.is_unsigned else signed_prim
        return prim(x, y)

    f.__name__ = name
    return f


bitwise_left_shift = _shift("bitwise_left_shift", lax.shift_left)
bitwise_right_shift = _shift("bitwise_right_shift", lax.shift_right_arithmetic, lax.shift_right_logical)


def true_divide(x, y):
    return A.div(x, y)


greater, greater_equal, less, less_equal, not_equal = A.gt, A.ge, A.lt, A.le, A.ne


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of `elements` is among `test_elements` (torch.isin), by comparing all pairs."""
    e = as_array(elements, "isin")
    t = S.reshape(as_array(test_elements, "isin"), -1)
    hit = R.amax(astype(A.eq(S.unsqueeze(e, -1), t), dt.int32), -1) if t.shape[0] else A.ne(e, e)
    hit = astype(hit, dt.bool_) if t.shape[0] else lax.full(shape=tuple(e.shape), value=False, dtype=dt.bool_)
    return A.logical_not(hit) if invert else hit


# ---------------------------------------------------------------- reductions


_MinMax = _collections.namedtuple("aminmax", ["min", "max"])


def aminmax(x, *, dim=None, keepdim=False):
    return _MinMax(R.amin(x, dim, keepdim), R.amax(x, dim, keepdim))


def nansum(x, dim=None, keepdim=False, *, dtype=None):
    """The sum with NaN counted as 0 (torch.nansum)."""
    x = as_array(x, "nansum")
    if x.dtype.is_float:
        x = A.where(_isnan(x), _full_as(x, 0), x)
    return R.sum(x, dim, keepdim, dtype=dtype)


def nanmean(x, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN entries (torch.nanmean)."""
    x = as_array(x, "nanmean")
    if dtype is not None:
        x = astype(x, dtype)
    if not x.dtype.is_float:
        raise DTypeError(f"nanmean: expects a floating-point tensor, got {x.aval.str_short()}")
    ok = A.logical_not(_isnan(x))
    return A.div(R.sum(A.where(ok, x, _full_as(x, 0)), dim, keepdim), R.sum(astype(ok, x.dtype), dim, keepdim))


def diff(x, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim (torch.diff); bool input gives x[i+1] != x[i]."""
    x = as_array(x, "diff")
    d = normalize_dim("diff", dim, x.ndim)
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        x = S.cat([broadcast_to(as_array(p, "diff"), tuple(x.shape[:d]) + (as_array(p, "diff").shape[d],)
                                + tuple(x.shape[d + 1:])) if p is not x else p for p in parts], d)
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        if x.dtype.is_bool:
            x = A.logical_xor(S.narrow(x, d, 1, m - 1), S.narrow(x, d, 0, m - 1))
            continue
        # hi - lo as a product with the (m, m - 1) difference matrix: slices' transposes are pads, and float64
        # gradients full of pads hit IREE 3.13's pad-folding failure (docs/stablehlo-notes.md)
        i = lax.iota(shape=(m, m - 1), dimension=0, dtype=dt.int32)
        j = lax.iota(shape=(m, m - 1), dimension=1, dtype=dt.int32)
        D = A.sub(astype(A.eq(i, A.add(j, 1)), x.dtype), astype(A.eq(i, j), x.dtype))
        from slope.ops.linalg import matmul
        x = L.movedim(matmul(L.movedim(x, d, -1), D), -1, d)
    return x


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along dim (torch.trapezoid): spacing dx (default 1) or sample points x."""
    y = _float("trapezoid", y)
    d = normalize_dim("trapezoid", dim, y.ndim)
    m = y.shape[d]
    if m == 0:
        return R.sum(y, d)
    mid = A.mul(A.add(S.narrow(y, d, 1, m - 1), S.narrow(y, d, 0, m - 1)), 0.5)
    if x is not None:
        return R.sum(A.mul(mid, diff(as_array(x, "trapezoid"), dim=dim)), d)
    return A.mul(R.sum(mid, d), 1.0 if dx is None else dx)


# ---------------------------------------------------------------- layout


def ravel(x):
    return S.reshape(as_array(x, "ravel"), -1)


def broadcast_tensors(*tensors):
    ts = [as_array(t, "broadcast_tensors") for t in tensors]
    shape = broadcast_shapes(*[tuple(t.shape) for t in ts], op="broadcast_tensors")
    return tuple(broadcast_to(t, shape) for t in ts)


def concatenate(tensors, axis=0, *, dim=None):
    return S.cat(tensors, axis if dim is None else dim)


def atleast_1d(*tensors):
    out = [S.reshape(t, 1) if as_array(t, "atleast_1d").ndim == 0 else as_array(t, "atleast_1d") for t in
           (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors)]
    return out[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def atleast_2d(*tensors):
    def one(t):
        t = as_array(t, "atleast_2d")
        return S.reshape(t, 1, 1) if t.ndim == 0 else S.unsqueeze(t, 0) if t.ndim == 1 else t
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [one(t) for t in ts]
    return out[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def atleast_3d(*tensors):
    def one(t):
        t = as_array(t, "atleast_3d")
        if t.ndim == 0:
            return S.reshape(t, 1, 1, 1)
        if t.ndim == 1:
            return S.reshape(t, 1, t.shape[0], 1)
        return S.unsqueeze(t, -1) if t.ndim == 2 else t
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [one(t) for t in ts]
    return out[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def hstack(tensors):
    ts = atleast_1d(list(tensors))
    return S.cat(list(ts), 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    return S.cat(list(atleast_2d(list(tensors))), 0)


row_stack = vstack


def dstack(tensors):
    return S.cat(list(atleast_3d(list(tensors))), 2)


def column_stack(tensors):
    ts = [as_array(t, "column_stack") for t in tensors]
    ts = [S.reshape(t, -1, 1) if t.ndim <= 1 else t for t in ts]
    return S.cat(ts, 1)


def tensor_split(x, indices_or_sections, dim=0):
    """Split into pieces along dim (torch.tensor_split): n sections (the first n % size one longer) or at the
    given indices."""
    x = as_array(x, "tensor_split")
    d = normalize_dim("tensor_split", dim, x.ndim)
    m = x.shape[d]
    if isinstance(indices_or_sections, (int, np.integer)):
        n = builtins.int(indices_or_sections)
        q, r = divmod(m, n)
        sizes = [q + 1] * r + [q] * (n - r)
        cuts = list(np.cumsum(sizes)[:-1])
    else:
        cuts = [builtins.int(i) for i in indices_or_sections]
    bounds = [0] + [builtins.min(builtins.max(c, 0), m) for c in cuts] + [m]
    return tuple(S.narrow(x, d, lo, builtins.max(hi - lo, 0)) for lo, hi in zip(bounds[:-1], bounds[1:]))


def rot90(x, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of dims, from the first towards the second (torch.rot90)."""
    x = as_array(x, "rot90")
    a, b = (normalize_dim("rot90", d, x.ndim) for d in dims)
    k %= 4
    if k == 1:
        return L.swapaxes(S.flip(x, (b,)), a, b)
    if k == 2:
        return S.flip(x, (a, b))
    if k == 3:
        return S.flip(L.swapaxes(x, a, b), (b,))
    return x


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """Batched diagonal matrices with x's last dim on the diagonal (torch.diag_embed; offset 0, the last two dims)."""
    x = as_array(x, "diag_embed")
    if (offset, dim1, dim2) != (0, -2, -1):
        raise ArgumentError("diag_embed: only offset=0, dim1=-2, dim2=-1 are supported")
    n = x.shape[-1]
    eye = astype(lax.eq(lax.iota(shape=(n, n), dimension=0, dtype=dt.int32),
                        lax.iota(shape=(n, n), dimension=1, dtype=dt.int32)), x.dtype)
    return A.mul(S.unsqueeze(x, -1), eye) if not x.dtype.is_bool else A.logical_and(S.unsqueeze(x, -1), astype(eye, dt.bool_))


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-d tensors (torch.meshgrid; indexing 'ij' or 'xy')."""
    ts = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors)
    ts = [S.reshape(as_array(t, "meshgrid"), -1) for t in ts]
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    swap = indexing == "xy" and len(ts) >= 2  # 'xy': the first two inputs index the second and first dims
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    grids = [broadcast_to(S.reshape(t, *[-1 if i == k else 1 for i in range(len(ts))]), shape)
             for k, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    grids = meshgrid(*tensors, indexing="ij")
    if len(grids) == 1:
        return grids[0]
    return S.stack([S.reshape(g, -1) for g in grids], 1)


# ---------------------------------------------------------------- dtype queries


def is_tensor(x):
    return is_array(x)


def is_floating_point(x):
    return as_array(x, "is_floating_point").dtype.is_float


def result_type(x, y):
    """The dtype of x op y under PyTorch's promotion (torch.result_type); shapes need not broadcast."""
    def zero_d(v):
        return S.reshape(R.sum(v, dtype=v.dtype), *([1] * builtins.min(v.ndim, 1))) if is_array(v) else v
    return operands("result_type", zero_d(x), zero_d(y))[0].dtype


def promote_types(a, b):
    return dt.promote(dt.dtype(a, "promote_types"), dt.dtype(b, "promote_types"))


def can_cast(from_, to):
    """torch.can_cast: casting may not lower the category (float > int > bool)."""
    f, t = dt.dtype(from_, "can_cast"), dt.dtype(to, "can_cast")
    cat = lambda d: 0 if d.is_bool else 1 if d.is_int else 2  # noqa: E731
    return cat(f) <= cat(t)


def get_default_dtype():
    return dt.default_float


class finfo:
    """torch.finfo: bits, eps, max, min, tiny (smallest_normal), resolution of a float dtype."""
    def __init__(self, dtype=None):
        d = dt.dtype(dtype or dt.default_float, "finfo")
        if not d.is_float:
            raise DTypeError(f"finfo: expects a floating-point dtype, got {d.name}")
        i = np.finfo(d.np)
        self.dtype, self.bits, self.eps = d, i.bits, builtins.float(i.eps)
        self.max, self.min = builtins.float(i.max), builtins.float(i.min)
        self.tiny = self.smallest_normal = builtins.float(i.smallest_normal)
        self.resolution = builtins.float(i.resolution)


class iinfo:
    """torch.iinfo: bits, max, min of an integer dtype."""
    def __init__(self, dtype):
        d = dt.dtype(dtype, "iinfo")
        if not d.is_int:
            raise DTypeError(f"iinfo: expects an integer dtype, got {d.name}")
        i = np.iinfo(d.np)
        self.dtype, self.bits, self.max, self.min = d, i.bits, builtins.int(i.max), builtins.int(i.min)


# ---------------------------------------------------------------- selection


def _dim_mask(x, d, index):
    """bool (x.shape[d],) mask of the positions listed in index (ints, negatives wrap)."""
    idx = S.reshape(as_array(index, "index"), -1)
    n = x.shape[d]
    idx = A.remainder(idx, n) if idx.shape[0] else idx
    pos = lax.iota(shape=(n,), dimension=0, dtype=idx.dtype)
    if not idx.shape[0]:
        return lax.full(shape=(n,), value=False, dtype=dt.bool_)
    return astype(R.amax(astype(A.eq(S.unsqueeze(pos, -1), idx), dt.int32), -1), dt.bool_)


def index_fill(x, dim, index, value):
    """x with the slices at `index` along dim set to value (torch.index_fill)."""
    x = as_array(x, "index_fill")
    d = normalize_dim("index_fill", dim, x.ndim)
    m = _dim_mask(x, d, index)
    m = S.reshape(m, *[-1 if i == d else 1 for i in range(x.ndim)])
    return A.where(m, astype(as_array(value, "index_fill"), x.dtype) if is_array(value) else value, x)


def index_copy(x, dim, index, source):
    """x with x[..., index[i], ...] = source[..., i, ...] along dim (torch.index_copy)."""
    x = as_array(x, "index_copy")
    d = normalize_dim("index_copy", dim, x.ndim)
    idx = [slice(None)] * d + [as_array(index, "index_copy")]
    from slope.ops.basics import setitem
    return setitem(x, tuple(idx), source)


def masked_scatter(x, mask, source):
    """x with the True positions of mask (row-major) filled from source's leading elements in order
    (torch.masked_scatter)."""
    x, mask, source = as_array(x, "masked_scatter"), as_array(mask, "masked_scatter"), as_array(source, "masked_scatter")
    mask = broadcast_to(mask, tuple(x.shape))
    flat = S.reshape(astype(mask, dt.default_int), -1)
    pos = A.sub(R.cumsum(flat, 0), 1)
    src = S.reshape(astype(source, x.dtype), -1)
    from slope.ops.indexing import take_along_dim
    pos = A.clamp(pos, 0, builtins.max(src.shape[0] - 1, 0))
    picked = S.reshape(take_along_dim(src, pos, 0), *x.shape)
    return A.where(mask, picked, x)


def put(x, index, source, accumulate=False):
    """x (viewed flat) with x[index] = source (torch.Tensor.put)."""
    x = as_array(x, "put")
    from slope.ops.selection import index_put
    flat = index_put(S.reshape(x, -1), (S.reshape(as_array(index, "put"), -1),),
                     S.reshape(as_array(source, "put"), -1), accumulate)
    return S.reshape(flat, *x.shape)


def select(x, dim, index):
    """x[..., index, ...] along dim, removing it (torch.select)."""
    x = as_array(x, "select")
    d = normalize_dim("select", dim, x.ndim)
    n = x.shape[d]
    if not -n <= index < n:
        raise ShapeError(f"select: index {index} out of range for dim {dim} of size {n}")
    return S.squeeze(S.narrow(x, d, index % n, 1), d)


def unfold(x, dimension, size, step):
    """All windows of `size` along dimension with stride `step`, as a new last dim (torch.Tensor.unfold)."""
    x = as_array(x, "unfold")
    d = normalize_dim("unfold", dimension, builtins.max(x.ndim, 1))
    n = x.shape[d] if x.ndim else 1
    count = (n - size) // step + 1
    wins = [S.narrow(x, d, i * step, size) for i in range(count)]
    return L.movedim(S.stack(wins, d), d + 1, -1)


def msort(x):
    return R.sort(x, 0).values


def bincount(x, weights=None, minlength=0):
    """Counts (or summed weights) of each value 0..max(x) of a 1-d non-negative integer tensor (torch.bincount;
    eager: the length depends on the values)."""
    x = as_array(x, "bincount")
    if x.ndim != 1 or not x.dtype.is_int:
        raise DTypeError(f"bincount: expects a 1-d integer tensor, got {x.aval.str_short()}")
    n = builtins.max(builtins.int(np.max(x.numpy())) + 1 if x.shape[0] else 0, minlength)
    hits = A.eq(S.unsqueeze(x, -1), lax.iota(shape=(n,), dimension=0, dtype=x.dtype))
    if weights is None:
        return R.sum(astype(hits, dt.default_int), 0)
    w = as_array(weights, "bincount")
    w = w if w.dtype.is_float else astype(w, dt.float64)
    return R.sum(A.mul(astype(hits, w.dtype), S.unsqueeze(w, -1)), 0)


def histc(x, bins=100, min=0, max=0):
    """A histogram of bins equal bins over [min, max] (the data's range when both are 0) (torch.histc); values
    outside are ignored, max falls in the last bin."""
    x = _float("histc", x)
    lo, hi = builtins.float(min), builtins.float(max)
    if lo == hi == 0:
        v = x.numpy()
        lo, hi = (builtins.float(v.min()), builtins.float(v.max())) if v.size else (0.0, 0.0)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    flat = S.reshape(x, -1)
    b = astype(A.floor(A.mul(A.sub(flat, lo), bins / (hi - lo))), dt.int32)
    b = A.where(A.eq(flat, hi), lax.full(shape=tuple(b.shape), value=bins - 1, dtype=dt.int32), b)
    inside = A.logical_and(A.ge(flat, lo), A.le(flat, hi))
    hits = A.logical_and(A.eq(S.unsqueeze(b, -1), lax.iota(shape=(bins,), dimension=0, dtype=dt.int32)),
                         S.unsqueeze(inside, -1))
    return R.sum(astype(hits, x.dtype), 0)


# ---------------------------------------------------------------- products and linear algebra


def ger(x, y):
    from slope.ops.linalg import outer
    return outer(x, y)


def cross(x, y, dim=None):
    """The cross product of 3-vectors along dim (torch.cross; dim=None: the first dim of size 3)."""
    x, y = operands("cross", x, y)
    if dim is None:
        dim = next((i for i, s in enumerate(x.shape) if s == 3), -1)
    d = normalize_dim("cross", dim, x.ndim)
    if x.shape[d] != 3:
        raise ShapeError(f"cross: dim {dim} must have size 3, got {x.aval.str_short()}")
    def comp(t, i):  # t's i-th component along d, as a one-hot contraction (no slices: see diff)
        onehot = astype(A.eq(lax.iota(shape=(3,), dimension=0, dtype=dt.int32), i), t.dtype)
        return R.sum(A.mul(t, S.reshape(onehot, *[3 if k == d else 1 for k in range(t.ndim)])), d)

    c = [comp(x, i) for i in range(3)]
    e = [comp(y, i) for i in range(3)]
    return S.stack([A.sub(A.mul(c[1], e[2]), A.mul(c[2], e[1])), A.sub(A.mul(c[2], e[0]), A.mul(c[0], e[2])),
                    A.sub(A.mul(c[0], e[1]), A.mul(c[1], e[0]))], d)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2) (torch.addr)."""
    return A.add(A.mul(input, beta) if beta != 1 else input, A.mul(ger(vec1, vec2), alpha) if alpha != 1 else ger(vec1, vec2))


def chain_matmul(*matrices):
    from slope.ops.linalg import matmul
    out = matrices[0]
    for m in matrices[1:]:
        out = matmul(out, m)
    return out


def dist(x, y, p=2):
    """The p-norm of x - y (torch.dist)."""
    from slope.ops.norms import vector_norm
    return vector_norm(A.sub(x, y), p)


def det(A_):
    from slope.ops.decomp import det as _det
    return _det(A_)


def logdet(A_):
    """log det A (torch.logdet): NaN for a negative determinant, -inf for a singular A."""
    from slope.ops.decomp import slogdet
    s, ld = slogdet(A_)
    return A.where(A.lt(s, 0), _full_as(ld, builtins.float("nan")), ld)


def inverse(A_):
    from slope.ops.decomp import inv
    return inv(A_)


def cholesky(A_, upper=False):
    from slope.ops.decomp import cholesky as _chol
    return _chol(A_, upper=upper)


def matrix_power(A_, n):
    from slope.ops.decomp import matrix_power as _mp
    return _mp(A_, n)


_TriSolve = _collections.namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def triangular_solve(b, A_, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve (deprecated in torch): (X, A) with A X = b (A^T X = b when transpose)."""
    from slope.ops.decomp import solve_triangular
    M = L.mT(A_) if transpose else A_
    return _TriSolve(solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular), as_array(A_, "triangular_solve"))


def cholesky_solve(b, L_, upper=False):
    """X with (L L^T) X = b for the Cholesky factor L (torch.cholesky_solve)."""
    from slope.ops.decomp import solve_triangular
    if upper:
        L_ = L.mT(L_)
    y = solve_triangular(L_, b, upper=False)
    return solve_triangular(L.mT(L_), y, upper=True)


def svd(A_, some=True, compute_uv=True):
    from slope.ops.decomp import torch_svd
    return torch_svd(A_, some, compute_uv)


def pinverse(A_, rcond=1e-15):
    from slope.ops.decomp import pinv
    return pinv(A_, rtol=rcond)
