"""A Hypothesis fuzz of the public API (issue 16): a random op from a list, called with random valid or
invalid shapes, dtypes, dims and params (huge sizes, floats and strings where ints belong, repeated or
out-of-range dims, non-tensor arguments). The outcome must be slope's documented answer: a right
result, checked against NumPy (the oracle below encodes where slope's policy differs from NumPy's),
or, where the oracle refuses the call, a slope error that also is the matching built-in. A raw NumPy
or IREE error, a crash, or an answer where an error is due fails.

Derandomized with few examples, and most drawn calls are refused before anything is compiled, so the
test is fast; the valid calls use a handful of small shapes (their programs come from the disk cache)."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import slope
from slope import lax
from slope.core import memory

FUZZ = settings(max_examples=120, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

BUILTINS = (TypeError, ValueError, IndexError, MemoryError, RuntimeError)


class Refuse(Exception):
    """The oracle's verdict: slope must raise a slope error here."""


def refuse(why):
    raise Refuse(why)


def outcome(call, oracle, what):
    """Run the oracle and slope; they must agree (a value equal to NumPy's, or a slope error)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's mean of an empty slice
            want = oracle()
    except (Refuse, ValueError, TypeError, IndexError):  # where NumPy refuses, slope must refuse too
        want = Refuse
    try:
        got = call()
    except slope.SlopeError as e:
        assert isinstance(e, BUILTINS), f"{what}: {type(e).__name__} is not also a built-in error"
        assert want is Refuse, f"{what}: slope refused a call the oracle accepts: {type(e).__name__}: {e}"
        return
    except Exception as e:  # noqa: BLE001 - anything else is the bug this test hunts
        pytest.fail(f"{what}: raised {type(e).__module__}.{type(e).__name__} (not a slope error): {e}")
    assert want is not Refuse, f"{what}: slope accepted a call it must refuse, returned {got!r}"
    got_np = got.numpy() if isinstance(got, slope.Tensor) else np.asarray(got)
    want = np.asarray(want)
    assert got_np.shape == want.shape, f"{what}: shape {got_np.shape} != NumPy's {want.shape}"
    if want.dtype.kind in "biu" or got_np.dtype.kind in "biu":
        np.testing.assert_array_equal(got_np.astype(np.float64), want.astype(np.float64), err_msg=what)
    else:
        np.testing.assert_allclose(got_np.astype(np.float64), want.astype(np.float64), rtol=2e-6, atol=1e-6,
                                   equal_nan=True, err_msg=what)


# ---------------------------------------------------------------- argument strategies

def is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


HUGE = st.sampled_from([10**12, 2**40, 10**13])
SIZE = st.one_of(st.integers(0, 3), st.integers(0, 3), HUGE, st.integers(-3, -1), st.sampled_from([2.0, 1.5, "3", None, True]))
DIM = st.one_of(st.integers(-4, 3), st.integers(-4, 3), st.sampled_from([1.5, "0", None, 0.0, True]))
DTYPE = st.sampled_from([None, "float32", "int32", "bool", slope.float64, np.float32, "foo", "cuda", complex, "f32"])
SMALL_SHAPES = [(), (3,), (2, 3), (2, 0), (0,), (1, 2, 2)]


def draw_tensor(draw, dtypes=("float32", "int32", "bool"), shapes=SMALL_SHAPES):
    shape = draw(st.sampled_from(shapes))
    d = draw(st.sampled_from(dtypes))
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) - 2
    a = (a > 0) if d == "bool" else a.astype(d)
    return a


def dtype_of(d, default):
    """The oracle of slope.dtype: a slope/NumPy dtype, or Refuse."""
    if d is None:
        return np.dtype(default)
    if isinstance(d, slope.DType):
        return d.np
    if d in ("foo", "cuda", complex):
        refuse("dtype")
    return np.dtype({"f32": "float32"}.get(d, d))


def sizes_of(sizes, allow=None):
    if not all(is_int(s) for s in sizes):
        refuse("a size that is not an int")
    if any(s < 0 and s != allow for s in sizes):
        refuse("negative size")
    return tuple(int(s) for s in sizes)


def fits(shape, itemsize):
    if math.prod(shape) * itemsize > memory.available_bytes():
        refuse("out of memory")


def dims_of(dims, ndim, repeat_ok=False):
    out = []
    for d in dims:
        if not is_int(d):
            refuse("a dim that is not an int")
        n = max(ndim, 1)
        if not -n <= d < n:
            refuse("dim out of range")
        out.append(d % ndim if ndim else 0)
    if not repeat_ok and len(set(out)) != len(out):
        refuse("repeated dim")
    return tuple(out)


# ---------------------------------------------------------------- the ops: draw -> (slope call, oracle)

def op_creation(draw):
    name = draw(st.sampled_from(["ones", "zeros", "full"]))
    sizes = draw(st.lists(SIZE, max_size=3))
    dtype = draw(DTYPE)
    value = {"ones": 1, "zeros": 0, "full": draw(st.sampled_from([2, 1.5, True, "a", [1]]))}[name]

    def call():
        if name == "full":
            return slope.full(tuple(sizes), value, dtype=dtype)
        return getattr(slope, name)(*sizes, dtype=dtype)

    def oracle():
        if name == "full" and not isinstance(value, (bool, int, float)):
            refuse("fill value")
        default = ("bool" if isinstance(value, bool) else "int32" if isinstance(value, int) else "float32") \
            if name == "full" else "float32"
        d = dtype_of(dtype, default)
        shape = sizes_of(sizes)
        fits(shape, d.itemsize)
        return np.full(shape, value, dtype=d)

    return call, oracle, f"{name}{tuple(sizes)} dtype={dtype!r}"


def op_arange(draw):
    bounds = draw(st.lists(st.one_of(st.integers(-2, 4), st.sampled_from([2.5, 0, 10**13, float("nan"), "4"])),
                           min_size=1, max_size=3))

    def oracle():
        if any(isinstance(b, bool) or not isinstance(b, (int, float)) or (isinstance(b, float) and not math.isfinite(b))
               for b in bounds):
            refuse("bound")
        start, stop, step = (0, bounds[0], 1) if len(bounds) == 1 else (*bounds, 1)[:3]
        if step == 0:
            refuse("step 0")
        n = max(0, math.ceil((stop - start) / step))
        floating = any(isinstance(b, float) for b in (start, stop, step))
        fits((n,), 4 if floating else 8)
        return np.arange(start, stop, step, dtype=np.float64 if floating else np.int64)

    return lambda: slope.arange(*bounds), oracle, f"arange{tuple(bounds)}"


REDUCTIONS = {
    "sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min, "prod": np.prod,
    "logsumexp": lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
}


def op_reduce(draw):
    name = draw(st.sampled_from(sorted(REDUCTIONS)))
    x = draw_tensor(draw, ("float32", "int32"))
    dim = draw(st.one_of(st.none(), DIM, st.lists(DIM, max_size=3).map(tuple)))
    keepdim = draw(st.booleans())

    def oracle():
        if name == "mean" and x.dtype.kind != "f":
            raise TypeError("mean of an integer tensor (PyTorch raises; pass dtype=)")
        dims = tuple(range(x.ndim)) if dim is None else dims_of(dim if isinstance(dim, tuple) else (dim,), x.ndim)
        if x.ndim == 0:
            dims = ()  # a 0-d tensor takes dim 0 or -1 and has nothing to reduce (PyTorch)
        a = x.astype(np.float64) if name in ("mean", "logsumexp") else x
        if name in ("amax", "amin") and any(x.shape[d] == 0 for d in dims) and x.ndim:
            # slope's max over nothing is the identity (as JAX), NumPy raises
            shape = tuple(1 if d in dims else s for d, s in enumerate(x.shape))
            ident = -np.inf if name == "amax" else np.inf
            if x.dtype.kind == "i":
                ident = np.iinfo(x.dtype).min if name == "amax" else np.iinfo(x.dtype).max
            out = np.full(shape, ident)
            return out if keepdim else out.reshape([s for d, s in enumerate(shape) if d not in dims])
        with np.errstate(all="ignore"):
            return REDUCTIONS[name](a, axis=dims, keepdims=keepdim)

    return (lambda: getattr(slope, name)(slope.tensor(x), dim, keepdim), oracle,
            f"{name}({x.dtype}{x.shape}, dim={dim!r}, keepdim={keepdim})")


def op_shape(draw):
    name = draw(st.sampled_from(["reshape", "permute", "flatten", "softmax", "unsqueeze", "expand"]))
    x = draw_tensor(draw, ("float32",))
    most = {"flatten": 2, "softmax": 1, "unsqueeze": 1}.get(name, 3)
    args = tuple(draw(st.lists(st.one_of(DIM, SIZE), min_size=1 if name == "unsqueeze" else 0, max_size=most)))

    def oracle():
        if name == "reshape":
            shape = sizes_of(args, allow=-1)
            if shape.count(-1) > 1:
                refuse("two -1")
            if -1 in shape:
                known = math.prod(s for s in shape if s != -1)
                if known == 0 or x.size % known:
                    refuse("-1 does not fit")
            return x.reshape(shape)
        if name == "permute":
            dims = dims_of(args, x.ndim)
            if sorted(dims) != list(range(x.ndim)):
                refuse("not a permutation")
            return x.transpose(dims)
        if name == "flatten":
            s, e = dims_of((*args, 0, -1)[:2] if not args else (*args, -1)[:2], x.ndim, repeat_ok=True)
            if x.ndim == 0:
                return x.reshape(1)
            if s > e:
                refuse("start after end")
            return x.reshape(x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])
        if name == "softmax":
            (d,) = dims_of(args or (-1,), x.ndim)
            if x.ndim == 0:
                return np.ones(())
            e = np.exp(x - x.max(axis=d, keepdims=True)) if x.size else x
            return e / e.sum(axis=d, keepdims=True) if x.size else x
        if name == "unsqueeze":
            (d,) = dims_of(args, x.ndim + 1)
            return np.expand_dims(x, d)
        shape = sizes_of(args, allow=-1)  # expand
        lead = len(shape) - x.ndim
        if lead < 0 or any(s == -1 for s in shape[:lead]):
            refuse("expand shape")
        shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        fits(shape, 4)
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            refuse("cannot broadcast")

    def call():
        return getattr(slope.tensor(x), name)(*args)

    return call, oracle, f"{name}(f32{x.shape}, {args!r})"


def op_getitem(draw):
    x = draw_tensor(draw, ("float32",), [(3,), (2, 3), (2, 0), (0,)])
    kind = draw(st.sampled_from(["int", "list", "tensor", "bad"]))
    raw = draw(st.lists(st.integers(-4, 4), min_size=1, max_size=3))
    a = np.asarray(raw[0]) if kind == "int" else np.asarray(raw)
    idx = {"int": raw[0], "list": raw, "tensor": slope.tensor(a.astype(np.int32)),
           "bad": draw(st.sampled_from([1.5, "a", [0.5], {0: 1}]))}[kind]

    def oracle():
        if kind == "bad":
            refuse("bad index")
        n = x.shape[0]
        if np.any((a < -n) | (a >= n)):
            refuse("out of bounds")
        return x[int(a)] if kind == "int" else x[a]

    return lambda: slope.tensor(x)[idx], oracle, f"getitem(f32{x.shape}, {kind} {raw!r})"


def op_matmul(draw):
    shapes = [(2, 3), (3, 2), (3,), (2, 0), (0, 3), (0,), (2, 2, 3), ()]
    a = draw_tensor(draw, ("float32", "int32", "bool"), shapes)
    b = draw_tensor(draw, ("float32", "int32", "bool"), shapes)

    def oracle():
        if a.ndim == 0 or b.ndim == 0:
            refuse("0-d")
        if a.dtype == np.bool_ and b.dtype == np.bool_:
            refuse("bool matmul")  # (a bool operand next to a number is promoted)
        try:
            out = np.matmul(a.astype(np.float64), b.astype(np.float64))
        except ValueError:
            refuse("shapes")
        return out

    return lambda: slope.tensor(a) @ slope.tensor(b), oracle, f"matmul({a.dtype}{a.shape}, {b.dtype}{b.shape})"


def op_where_pow(draw):
    if draw(st.booleans()):
        c = draw_tensor(draw, ("bool", "float32", "int32"), [(3,)])
        return (lambda: slope.where(slope.tensor(c), slope.ones(3), 0.0),
                lambda: np.where(c, 1.0, 0.0) if c.dtype == np.bool_ else refuse("non-bool condition"),
                f"where({c.dtype})")
    x = draw_tensor(draw, ("int32", "float32"), [(3,)])
    e = draw(st.sampled_from([-2, -1, 0, 1, 2, 3, 0.5]))

    def oracle():
        if x.dtype.kind == "i" and isinstance(e, int) and e < 0:
            refuse("int ** negative int")
        with np.errstate(all="ignore"):
            return np.power(x.astype(np.float64 if x.dtype.kind == "f" or isinstance(e, float) else np.int64), e)

    return lambda: slope.tensor(x) ** e, oracle, f"pow({x.dtype}, {e!r})"


def op_conv(draw):
    dtype = draw(st.sampled_from(["float32", "float32", "int32"]))
    k = draw(st.sampled_from([2, 3, 5, 0]))
    stride = draw(st.sampled_from([1, 2, 0, 1.5]))
    padding = draw(st.sampled_from([0, 1, -1, "same"]))
    x = np.arange(16, dtype=dtype).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, k, k), dtype)

    def oracle():
        if dtype != "float32" or k == 0 or not is_int(stride):
            refuse("dtype, kernel or stride")
        if stride < 1 or padding == -1 or (padding == "same" and stride != 1):
            refuse("stride or padding")
        p = ((k - 1) // 2, k - 1 - (k - 1) // 2) if padding == "same" else (padding, padding)
        if 4 + sum(p) < k:
            refuse("kernel larger than the padded input")
        return slope.reference.conv(x, w, window_strides=(stride,) * 2, padding=(p, p))

    return (lambda: slope.conv2d(slope.tensor(x), slope.tensor(w), stride=stride, padding=padding), oracle,
            f"conv2d({dtype}, k={k}, stride={stride!r}, padding={padding!r})")


LAX = {"add": 2, "mul": 2, "exp": 1, "neg": 1, "select": 3, "reshape": 1, "reduce_sum": 1, "transpose": 1}


def op_lax_and_non_tensors(draw):
    """Wrong operand counts, unknown params and non-tensor arguments: always refused."""
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(LAX)))
        n = draw(st.integers(0, 4).filter(lambda n: n != LAX[name]))
        params = draw(st.sampled_from([{}, {"foo": 1}, {"shape": (3.0,)}, {"axes": "0"}]))
        return (lambda: getattr(lax, name)(*[slope.ones(3)] * n, **params), lambda: refuse("arity"),
                f"lax.{name} with {n} operands, params {params}")
    name = draw(st.sampled_from(["sum", "exp", "softmax", "matmul", "reshape", "flatten", "argmax", "cumsum"]))
    bad = draw(st.sampled_from(["abc", None, object(), {"a": 1}, b"x"]))
    args = {"matmul": (slope.ones(2), bad), "reshape": (bad, 3), "cumsum": (bad, 0)}.get(name, (bad,))
    return lambda: getattr(slope, name)(*args), lambda: refuse("not a tensor"), f"{name}{args!r}"


OPS = [op_creation, op_arange, op_reduce, op_shape, op_getitem, op_matmul, op_where_pow, op_conv, op_lax_and_non_tensors]


@FUZZ
@given(st.data())
def test_public_api_gives_a_slope_error_or_the_right_answer(data):
    op = data.draw(st.sampled_from(OPS), label="op")
    call, oracle, what = op(data.draw)
    outcome(call, oracle, what)
