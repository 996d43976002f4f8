"""Bad input gets a clear slope error naming the op, shapes and dtypes."""
import numpy as np
import pytest

import slope
from slope.backends.iree.emitter import LOWERINGS
from slope.primitives.spec import Spec


def test_matmul_shape_mismatch():
    with pytest.raises(slope.ShapeError, match=r"matmul: inner dimensions differ: f32\[2,3\], f32\[4,5\]"):
        slope.ones(2, 3) @ slope.ones(4, 5)


def test_broadcast_mismatch():
    with pytest.raises(slope.ShapeError, match=r"add: cannot broadcast operands f32\[2,3\], f32\[4\]"):
        slope.ones(2, 3) + slope.ones(4)


def test_primitive_shape_rule_errors():
    with pytest.raises(slope.ShapeError, match=r"reshape: cannot reshape f32\[2,3\]"):
        slope.lax.reshape(slope.ones(2, 3), shape=(4,))
    with pytest.raises(slope.DTypeError, match=r"add: operands must have equal dtypes, got f32\[2\], i64\[2\]"):
        slope.lax.add(slope.ones(2), slope.arange(2))


def test_grad_of_non_scalar():
    with pytest.raises(slope.TransformError, match=r"must return a float scalar.*got f32\[3\]"):
        slope.grad(lambda x: x * 2)(slope.ones(3))


def test_grad_wrt_integer_input():
    with pytest.raises(slope.DTypeError, match="argument 0 has dtype int64"):
        slope.grad(lambda x: x.sum())(slope.arange(3))


def test_wrong_arg_count_to_jit():
    f = slope.jit(lambda x, y: x + y)
    with pytest.raises(slope.TransformError, match=r"jit\(<lambda>\): missing a required argument"):
        f(slope.ones(2))
    with pytest.raises(slope.TransformError, match="too many positional arguments"):
        f(slope.ones(2), slope.ones(2), slope.ones(2))


def test_tracer_leak():
    leaked = []

    @slope.jit
    def f(x):
        leaked.append(x * 2)
        return x

    f(slope.ones(2))
    with pytest.raises(slope.TracerError, match="outside its transformation"):
        leaked[0] + 1


def test_tracer_concretization():
    with pytest.raises(slope.TracerError, match="cannot use as a Python bool"):
        slope.jit(lambda x: x if x.sum() > 0 else -x)(slope.ones(2))
    with pytest.raises(slope.TracerError, match="convert to NumPy"):
        slope.grad(lambda x: np.asarray(x).sum())(slope.ones(2))


def test_vmap_errors():
    with pytest.raises(slope.TransformError, match="different sizes"):
        slope.vmap(lambda a, b: a + b)(slope.ones(2), slope.ones(3))
    with pytest.raises(slope.TransformError, match="in_axes has 1 entries but the function got 2"):
        slope.vmap(lambda a, b: a + b, in_axes=(0,))(slope.ones(2), slope.ones(2))


def test_backend_failure_is_wrapped_with_program():
    bad = Spec(name="bad_op", abstract_eval=lambda x: [x])
    LOWERINGS["bad_op"] = lambda ctx, args, ia, oa: [ctx.generic("stablehlo.no_such_op", args, ia, oa)]
    with pytest.raises(slope.BackendError, match=r"(?s)IREE failed to compile bad_op.*stablehlo.no_such_op"):
        bad.bind(slope.ones(2))


def test_primitive_without_lowering_is_a_backend_error():
    with pytest.raises(slope.BackendError, match="no StableHLO lowering is registered for the primitive unlowered_op"):
        Spec(name="unlowered_op", abstract_eval=lambda x: [x]).bind(slope.ones(2))


def test_unsupported_dtype_and_operand():
    with pytest.raises(slope.DTypeError, match="does not support dtype"):
        slope.dtype("complex64")
    with pytest.raises(slope.DTypeError, match="unsupported operand type str"):
        slope.ones(2) + "a"


def test_jit_names_itself_and_the_argument_it_cannot_make_a_tensor_of():
    """A jitted call given a string said only "tensor: cannot make a tensor from str" (no jit, no function)."""
    from slope.errors import DTypeError

    f = slope.jit(lambda x, scale: x * scale)
    with pytest.raises(DTypeError, match=r"jit\(<lambda>\): argument 'two' \(str\) is not a tensor: "
                                         r"tensor: cannot make a tensor from str"):
        f(slope.ones(3), "two")
