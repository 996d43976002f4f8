"""The float64 finite-difference truth of the second-order check knows its own rounding error.

Regression: the merged verifysamples draws gave `x * 30000` (ops.scalar_arithmetic, x = 1) and a
bilinear conv (inputs 1.75 and 2) to the float64 second-order column. Their Hessian-vector product
is 0 and slope gave 0, but the FD of the FD gradient carried 1.5e-6 and 9.5e-8 of rounding noise,
above float64's grad2 atol of 1e-8: two false alarms. fd.hvp_noise bounds that noise from |<ct, F>|,
and stays far below any real second derivative, so a wrong rule is still caught."""
from types import SimpleNamespace

import numpy as np
import pytest

from slope.testing import Example, Mismatch, fd
from slope.testing.checks import check_second_order
from slope.testing.tolerances import assert_close


def _flat(reference, *args):
    return fd.Flat(SimpleNamespace(reference=reference), list(args), {})


@pytest.mark.parametrize("c", [3e4, 1e6, -7.5e8])
def test_hvp_noise_covers_the_rounding_of_a_linear_function(c):
    x = np.random.default_rng(0).uniform(-3, 3, (2, 3))
    flat = _flat(lambda v: v * c, x)
    ct = [np.random.default_rng(1).uniform(-1, 1, (2, 3))]
    t = [np.random.default_rng(2).uniform(-1, 1, (2, 3))]
    (h,), (noise,) = fd.hvp(flat, t, ct), fd.hvp_noise(flat, ct)
    assert np.all(np.abs(h) <= noise)  # the true H t is 0
    assert np.all(noise > 0)


def test_hvp_noise_is_far_below_a_real_second_derivative():
    x = np.random.default_rng(3).uniform(-2, 2, (4,))
    flat = _flat(lambda v: 1e4 * np.exp(v), x)
    ct, t = [np.ones(4)], [np.random.default_rng(4).uniform(0.5, 1, (4,))]
    (h,), (noise,) = fd.hvp(flat, t, ct), fd.hvp_noise(flat, ct)
    exact = 1e4 * np.exp(x) * t[0]
    np.testing.assert_allclose(h, exact, rtol=1e-6)
    assert np.all(noise < 1e-6 * np.abs(exact))  # a rule off by 1 ppm of H t would still be seen


def test_an_operand_only_sees_the_outputs_it_reaches():
    """Elementwise: the noise of element i comes from output i alone, not from the array's size."""
    big = _flat(lambda v: v * 3e4, np.ones(50))
    small = _flat(lambda v: v * 3e4, np.ones(1))
    (nb,), (ns,) = fd.hvp_noise(big, [np.ones(50)]), fd.hvp_noise(small, [np.ones(1)])
    np.testing.assert_array_equal(nb, np.full(50, ns[0]))


def test_truth_error_widens_only_by_itself():
    assert_close(np.array([2e-6]), np.array([0.0]), "float64", "grad2", truth_error=np.array([3e-6]))
    with pytest.raises(Mismatch, match="own error, up to 1e-06"):
        assert_close(np.array([2.2e-6]), np.array([0.0]), "float64", "grad2", truth_error=np.array([1e-6]))


def test_second_order_of_a_large_linear_scalar_product_is_no_false_alarm():
    ones = np.ones((2, 3))
    check_second_order("ops.scalar_arithmetic", Example("float64", [ones], {"c": 30000.0, "op": "mul"},
                                                        tangents=[ones], cotangents=[ones]))


def test_second_order_of_a_bilinear_conv_is_no_false_alarm():
    params = dict(window_strides=(1,), padding=((0, 0),), lhs_dilation=(1,), rhs_dilation=(1,), feature_group_count=1)
    x, w = np.full((2, 3, 6), 1.75), np.full((4, 3, 3), 2.0)
    check_second_order("conv", Example("float64", [x, w], params, tangents=[np.zeros_like(x), np.ones_like(w)],
                                       cotangents=[np.ones((2, 4, 4))]))


def test_adjoint_test_allows_for_flushed_subnormal_products():
    """The conformance cell pow-float64 drew cotangents equal to float64's smallest normal number:
    <ct, J t> in NumPy kept the subnormal products (-4.8e-308 in all), while IREE flushed J^T ct
    (ct * x**y * log x, subnormal) to 0, as slope's convention says; the dot-product test must allow
    each term its flush (smallest normal x the other factor) and still catch a wrong transpose."""
    from slope.testing import Example, check_vjp

    tiny = np.finfo(np.float64).tiny
    ex = Example(dtype="float64", args=[np.full((2, 3), 0.3), np.ones((2, 3))], params={},
                 tangents=[np.zeros((2, 3)), np.ones((2, 3))], cotangents=[np.full((2, 3), tiny)])
    check_vjp("pow", ex)
