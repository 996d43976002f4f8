"""Products with PyTorch's names: mm, bmm, mv, vdot, inner, addmm, addmv, baddbmm, addbmm, tensordot,
kron, and einsum (any equation: repeated indices, traces/diagonals, ellipsis), contracted pairwise in a
greedy order (the pair whose result is smallest first), each pair one dot_general."""
from __future__ import annotations

import math

from slope import lax
from slope.core import dtypes as dt
from slope.errors import ArgumentError, DTypeError, ShapeError, describe
from slope.ops.arithmetic import add, mul
from slope.ops.linalg import matmul
from slope.ops.promotion import (
    as_array,
    astype,
    broadcast_shapes,
    broadcast_to,
    normalize_dim,
)
from slope.ops.reductions import sum as _sum
from slope.ops.shape import permute, reshape
from slope.ops.layout import diagonal

__all__ = ["addbmm", "addmm", "addmv", "baddbmm", "bmm", "einsum", "inner", "kron", "mm", "mv", "tensordot", "vdot"]


def _ranks(op, want, *xs):
    xs = [as_array(x, op) for x in xs]
    if any(x.ndim != n for x, n in zip(xs, want)):
        raise ShapeError(f"{op}: expects operands of {', '.join(f'{n}-d' for n in want)}, got {describe([x.aval for x in xs])}")
    return xs


def mm(x, y):
    """Matrix product of two 2-d tensors (torch.mm)."""
    return matmul(*_ranks("mm", (2, 2), x, y))


def bmm(x, y):
    """Batched matrix product of two 3-d tensors with equal batch sizes (torch.bmm; no broadcasting)."""
    x, y = _ranks("bmm", (3, 3), x, y)
    if x.shape[0] != y.shape[0]:
        raise ShapeError(f"bmm: batch sizes differ: {describe([x.aval, y.aval])}")
    return matmul(x, y)


def mv(x, v):
    """Matrix-vector product (torch.mv)."""
    return matmul(*_ranks("mv", (2, 1), x, v))


def vdot(x, y):
    """Dot product of two 1-d tensors (real tensors: no conjugation)."""
    return matmul(*_ranks("vdot", (1, 1), x, y))


def inner(x, y):
    """Sum over the last dims of x and y (torch.inner); a 0-d operand multiplies."""
    x, y = as_array(x, "inner"), as_array(y, "inner")
    if x.ndim == 0 or y.ndim == 0:
        return mul(x, y)
    return tensordot(x, y, ([x.ndim - 1], [y.ndim - 1]))


def _scaled(t, s):
    return t if isinstance(s, (int, float)) and s == 1 else mul(t, s)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape (torch.addmm)."""
    return add(_scaled(input, beta), _scaled(mm(mat1, mat2), alpha))


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return add(_scaled(input, beta), _scaled(mv(mat, vec), alpha))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return add(_scaled(input, beta), _scaled(bmm(batch1, batch2), alpha))


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum over the batch of batch1[i] @ batch2[i]."""
    return add(_scaled(input, beta), _scaled(_sum(bmm(batch1, batch2), 0), alpha))


def _same_dtype(op, x, y):
    if x.dtype is not y.dtype:
        d = dt.promote(x.dtype, y.dtype)
        x, y = astype(x, d), astype(y, d)
    if x.dtype.is_bool:
        raise DTypeError(f"{op}: bool operands are not supported, got {describe([x.aval, y.aval])}")
    return x, y


def tensordot(a, b, dims=2):
    """Contract the last `dims` dims of a with the first of b, or the listed dims ([a dims], [b dims])."""
    a, b = as_array(a, "tensordot"), as_array(b, "tensordot")
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: dims={dims} out of range for {describe([a.aval, b.aval])}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        if not isinstance(dims, (tuple, list)) or len(dims) != 2:
            raise ArgumentError(f"tensordot: dims must be an int or a pair of dim lists, got {dims!r}")
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        da = [normalize_dim("tensordot", d, a.ndim) for d in da]
        db = [normalize_dim("tensordot", d, b.ndim) for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise ShapeError(f"tensordot: contracted dims {da} of a and {db} of b differ: {describe([a.aval, b.aval])}")
    a, b = _same_dtype("tensordot", a, b)
    return lax.dot_general(a, b, contracting_dims=(tuple(da), tuple(db)), batch_dims=((), ()))


def kron(a, b):
    """Kronecker product: the block tensor a[i] * b (torch.kron), ranks padded with leading 1s."""
    a, b = as_array(a, "kron"), as_array(b, "kron")
    n = max(a.ndim, b.ndim)
    a, b = reshape(a, *([1] * (n - a.ndim) + list(a.shape))), reshape(b, *([1] * (n - b.ndim) + list(b.shape)))
    wa = reshape(a, *[v for s in a.shape for v in (s, 1)])
    wb = reshape(b, *[v for s in b.shape for v in (1, s)])
    return reshape(mul(wa, wb), *[p * q for p, q in zip(a.shape, b.shape)])


# ------------------------------------------------------------------ einsum
def _parse(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ShapeError(f"einsum: the equation {equation!r} has {len(terms)} operand terms, got {len(operands)} operands")
    ell_letters = None
    parsed = []
    used = set("".join(terms).replace(".", "")) | set((out or "").replace(".", ""))
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used)
    for term, x in zip(terms, operands):
        if term.count("...") > 1 or term.replace("...", "").count(".") > 0:
            raise ShapeError(f"einsum: malformed term {term!r} in {equation!r}")
        if "..." in term:
            k = x.ndim - (len(term) - 3)
            if k < 0:
                raise ShapeError(f"einsum: term {term!r} has more labels than {x.aval.str_short()} has dims")
            if ell_letters is None:
                ell_letters = ""
            while len(ell_letters) < k:
                ell_letters = next(spare) + ell_letters
            term = term.replace("...", ell_letters[len(ell_letters) - k:])
        if not all(c.isalpha() for c in term):
            raise ShapeError(f"einsum: labels must be letters, got {term!r} in {equation!r}")
        if len(term) != x.ndim:
            raise ShapeError(f"einsum: term {term!r} has {len(term)} labels for {x.aval.str_short()}")
        parsed.append(term)
    if out is None:
        counts = {c: "".join(parsed).count(c) for c in set("".join(parsed))}
        out = (ell_letters or "") + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in (ell_letters or "")))
    else:
        out = out.replace("...", ell_letters or "")
        if len(set(out)) != len(out) or any(c not in "".join(parsed) for c in out):
            raise ShapeError(f"einsum: output {out!r} repeats a label or names one no operand has ({equation!r})")
    return parsed, out


def _diagonal_labels(x, term):
    """Take diagonals for labels repeated within one term (e.g. 'ii' -> 'i')."""
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        i, j = term.index(c), term.index(c, term.index(c) + 1)
        x = diagonal(x, 0, i, j)  # the diagonal becomes the last dim
        term = "".join(t for k, t in enumerate(term) if k not in (i, j)) + c
    return x, term


def _sum_labels(x, term, keep):
    drop = [i for i, c in enumerate(term) if c not in keep]
    if drop:
        x = _sum(x, tuple(drop))
        term = "".join(c for i, c in enumerate(term) if i not in drop)
    return x, term


def _contract(x, tx, y, ty, keep):
    """One dot_general: labels in both and kept are batch dims, in both and not kept are contracted."""
    batch = [c for c in tx if c in ty and c in keep]
    contract = [c for c in tx if c in ty and c not in keep]
    sizes = {}
    for c, n in list(zip(tx, x.shape)) + list(zip(ty, y.shape)):
        if sizes.setdefault(c, n) != n and n != 1 and sizes[c] != 1:
            raise ShapeError(f"einsum: label {c!r} has sizes {sizes[c]} and {n}")
    for c in batch + contract:  # broadcast size-1 dims of shared labels
        n = max(x.shape[tx.index(c)], y.shape[ty.index(c)])
        if x.shape[tx.index(c)] != n:
            x = broadcast_to(x, tuple(n if d == c else s for d, s in zip(tx, x.shape)))
        if y.shape[ty.index(c)] != n:
            y = broadcast_to(y, tuple(n if d == c else s for d, s in zip(ty, y.shape)))
    out = lax.dot_general(x, y, contracting_dims=(tuple(tx.index(c) for c in contract), tuple(ty.index(c) for c in contract)),
                          batch_dims=(tuple(tx.index(c) for c in batch), tuple(ty.index(c) for c in batch)))
    term = "".join(batch) + "".join(c for c in tx if c not in ty) + "".join(c for c in ty if c not in tx)
    return out, term


def einsum(equation, *operands):
    """torch.einsum: 'ij,jk->ik', implicit output (labels seen once, sorted), '...' broadcasting, repeated
    labels in one term (diagonals: 'ii->i', 'ii->' is the trace). Labels seen by one operand only and
    not in the output are summed first; then operands are contracted pairwise, each time the pair whose
    result has the fewest elements (a greedy order, like opt_einsum's 'greedy'), with one dot_general each."""
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise ArgumentError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    xs = [as_array(x, "einsum") for x in operands]
    if not xs:
        raise ShapeError("einsum: needs at least one operand")
    d = xs[0].dtype
    for x in xs[1:]:
        d = dt.promote(d, x.dtype)
    xs = [astype(x, d) for x in xs]
    terms, out = _parse(equation, xs)
    items = []
    for x, t in zip(xs, terms):
        x, t = _diagonal_labels(x, t)
        items.append((x, t))

    def needed(skip):
        return set(out).union(*[set(t) for k, (_, t) in enumerate(items) if k not in skip])

    items = [_sum_labels(x, t, needed({k})) for k, (x, t) in enumerate(items)]
    while len(items) > 1:
        best = None
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                keep = needed({i, j})
                (x, tx), (y, ty) = items[i], items[j]
                sizes = dict(zip(tx, x.shape)) | dict(zip(ty, y.shape))
                labels = set(tx) | set(ty)
                cost = math.prod(sizes[c] for c in labels if c in keep or (c in tx) != (c in ty))
                if best is None or cost < best[0]:
                    best = (cost, i, j, keep)
        _, i, j, keep = best
        (x, tx), (y, ty) = items[i], items[j]
        x, tx = _sum_labels(x, tx, keep | set(ty))
        y, ty = _sum_labels(y, ty, keep | set(tx))
        merged = _contract(x, tx, y, ty, keep)
        items = [it for k, it in enumerate(items) if k not in (i, j)] + [merged]
    x, t = _sum_labels(*items[0], set(out))
    if sorted(t) != sorted(out):
        shape = broadcast_shapes(tuple(x.shape))
        raise ShapeError(f"einsum: could not produce output {out!r} from {t!r} {shape}")
    return permute(x, *[t.index(c) for c in out]) if t != out else x
