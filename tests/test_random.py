"""slope.random: known answers from JAX (tests/data/random_vectors.npz, made by
ci/make_random_vectors.py), jit/vmap/grad behaviour, errors, and statistical sanity per sampler."""
import math
import os

import numpy as np
import pytest
from random_cases import CASES, SEEDS

import slope
import slope.random as R

VECTORS = np.load(os.path.join(os.path.dirname(__file__), "data", "random_vectors.npz"))


def _ulp_err(got, want):
    """max |got - want| in ulp of max(|want|, 1) over finite entries (infinities must agree)."""
    assert np.array_equal(np.isfinite(got), np.isfinite(want))
    fin = np.isfinite(want)
    assert np.array_equal(got[~fin], want[~fin])
    if not fin.any():
        return 0.0
    scale = np.spacing(np.maximum(np.abs(want[fin]), 1).astype(want.dtype))
    return float(np.max(np.abs(got[fin].astype(np.float64) - want[fin]) / scale))


@pytest.mark.parametrize("seed", SEEDS)
def test_key_equals_jax_prngkey(seed):
    k = R.key(seed)
    assert k.dtype is slope.uint32 and k.shape == (2,)
    np.testing.assert_array_equal(k.numpy(), VECTORS[f"{seed}|key"])
    np.testing.assert_array_equal(R.PRNGKey(np.int64(seed)).numpy(), VECTORS[f"{seed}|key"])


@pytest.mark.parametrize("name,fn,bound", CASES, ids=[c[0] for c in CASES])
def test_known_answers(name, fn, bound):
    for seed in SEEDS:
        want = VECTORS[f"{seed}|{name}"]
        got = fn(R, R.key(seed)).numpy()
        assert got.shape == want.shape and got.dtype == want.dtype, (seed, got.shape, got.dtype, want.shape, want.dtype)
        if bound in ("exact", "x64"):
            np.testing.assert_array_equal(got, want, err_msg=f"{name} seed {seed}")
        else:
            err = _ulp_err(got, want)
            assert err <= bound[1], f"{name} seed {seed}: {err} ulp > {bound[1]}"


def test_threefry_known_answers_of_random123():
    """The cipher itself: Random123's published threefry2x32_20 test vectors."""
    def u(*v):
        return slope.tensor(np.array(v, np.uint32))
    y1, y2 = slope.lax.threefry2x32(u(0, 0xFFFFFFFF, 0x13198A2E), u(0, 0xFFFFFFFF, 0x03707344),
                                    u(0, 0xFFFFFFFF, 0x243F6A88), u(0, 0xFFFFFFFF, 0x85A308D3))
    assert y1.numpy().tolist() == [0x6B200159, 0x1CB996FC, 0xC4923A9C]
    assert y2.numpy().tolist() == [0x99BA4EFE, 0xBB002BE7, 0x483DF7A0]


# ---------------------------------------------------------------- transformations


def test_jit_takes_keys_as_traced_arguments_without_recompiling():
    f = slope.jit(lambda k: R.uniform(k, (4,)) + R.normal(R.fold_in(k, 1), (4,)))
    for seed in (0, 1, 42):
        k = R.key(seed)
        want = R.uniform(k, (4,)).numpy() + R.normal(R.fold_in(k, 1), (4,)).numpy()
        np.testing.assert_allclose(f(k).numpy(), want, rtol=1e-6)
    assert len(f._cache) == 1  # one compiled program serves every key value


def test_jit_bits_match_eager_and_key_from_traced_seed():
    f = slope.jit(lambda s: R.bits(R.key(s), (3, 5)))
    for seed in (0, 7, -7):
        np.testing.assert_array_equal(f(slope.tensor(seed)).numpy(), VECTORS[f"{seed}|bits(3, 5)"] if seed != 7
                                      else R.bits(R.key(7), (3, 5)).numpy())


def test_vmap_over_a_batch_of_keys():
    keys = R.split(R.key(0), 4)
    for draw in (lambda k: R.uniform(k, (3,)), lambda k: R.bits(k, (2, 2)), lambda k: R.split(k),
                 lambda k: R.normal(k, (5,)), lambda k: R.randint(k, (3,), 0, 10), lambda k: R.permutation(k, 6)):
        got = slope.vmap(draw)(keys).numpy()
        want = np.stack([draw(keys[i]).numpy() for i in range(4)])
        np.testing.assert_array_equal(got, want)


def test_vmap_of_fold_in_over_data():
    k = R.key(3)
    got = slope.vmap(lambda d: R.fold_in(k, d))(slope.tensor(np.arange(4, dtype=np.uint32))).numpy()
    np.testing.assert_array_equal(got, np.stack([R.fold_in(k, i).numpy() for i in range(4)]))


def test_grad_treats_the_sample_as_a_constant():
    k = R.key(5)
    u = R.uniform(k, (3,))
    x = slope.tensor([1.0, 2.0, 3.0])
    g = slope.grad(lambda x: (R.uniform(k, (3,)) * x).sum())(x)
    np.testing.assert_array_equal(g.numpy(), u.numpy())
    g = slope.jit(slope.grad(lambda x, k: (R.normal(k, (3,)) * x * x).sum()))(x, k)
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() * R.normal(k, (3,)).numpy(), rtol=1e-6)


def test_samplers_are_pure_functions_of_the_key():
    k = R.key(11)
    np.testing.assert_array_equal(R.normal(k, (8,)).numpy(), R.normal(k, (8,)).numpy())
    assert not np.array_equal(R.normal(k, (8,)).numpy(), R.normal(R.split(k)[0], (8,)).numpy())


# ---------------------------------------------------------------- torch-style convenience


def test_randn_draws_from_a_global_key_split_per_call():
    slope.manual_seed(3)
    a, b = slope.randn(4), slope.randn(4)
    k1, sub1 = R.split(R.key(3))
    _, sub2 = R.split(k1)
    np.testing.assert_array_equal(a.numpy(), R.normal(sub1, (4,)).numpy())
    np.testing.assert_array_equal(b.numpy(), R.normal(sub2, (4,)).numpy())
    slope.manual_seed(3)
    np.testing.assert_array_equal(slope.randn(4).numpy(), a.numpy())
    np.testing.assert_array_equal(slope.randn(50, 2, seed=0).numpy(), VECTORS["0|normal_2d"])
    np.testing.assert_array_equal(slope.rand(3, seed=1).numpy(), R.uniform(R.key(1), (3,)).numpy())
    np.testing.assert_array_equal(slope.randint(0, 5, (3,), seed=1).numpy(), R.randint(R.key(1), (3,), 0, 5).numpy())
    assert slope.randn(2, dtype="float64").dtype is slope.float64
    assert slope.randint(0, 3, (2,), dtype="int64").dtype is slope.int64


@pytest.mark.parametrize("fn", [lambda x: x + slope.randn(2), lambda x: x + slope.rand(2, seed=0),
                                lambda x: x + slope.randint(0, 3, (2,))])
def test_torch_style_functions_are_eager_only(fn):
    with pytest.raises(slope.TracerError, match=r"global random state, which only works eagerly.*slope\.random"):
        slope.jit(fn)(slope.ones(2))
    with pytest.raises(slope.TracerError, match="only works eagerly"):
        slope.vmap(fn)(slope.ones((3, 2)))


# ---------------------------------------------------------------- errors


K = R.key(0)
ERRORS = [
    (lambda: R.uniform(np.zeros(2, np.int32), (2,)), slope.ArgumentError, r"uniform: key must be a uint32\[2\] tensor"),
    (lambda: R.uniform(slope.tensor([0, 0]), (2,)), slope.DTypeError, r"uniform: key must be uint32\[2\].*got i64\[2\]"),
    (lambda: R.normal(R.split(K, 3), (2,)), slope.ShapeError, r"normal: key must be uint32\[2\].*got u32\[3,2\].*vmap"),
    (lambda: R.bits(K, (2, -1)), slope.ShapeError, r"bits: negative dimension in shape \(2, -1\)"),
    (lambda: R.bits(K, (2.0,)), slope.ArgumentError, r"bits: shape must be a tuple of ints"),
    (lambda: R.bits(K, (2,), "int32"), slope.DTypeError, r"bits: dtype must be an unsigned integer dtype.*int32"),
    (lambda: R.bits(K, (2**20, 2**20)), slope.ShapeError, r"bits: shape \(1048576, 1048576\) has .* at most 2\*\*32"),
    (lambda: R.uniform(K, (2,), "int32"), slope.DTypeError, r"uniform: dtype must be a floating-point dtype.*int32"),
    (lambda: R.uniform(K, (2,), minval=2.0, maxval=1.0), slope.DomainError, r"uniform: needs minval <= maxval"),
    (lambda: R.uniform(K, (2,), minval=-math.inf), slope.DomainError, r"uniform: minval must be finite, got -inf"),
    (lambda: R.uniform(K, (2,), minval=np.zeros(3)), slope.ShapeError,
     r"uniform: minval of shape \(3,\) does not broadcast to the result shape \(2,\)"),
    (lambda: R.uniform(K, (2,), maxval="a"), slope.DTypeError, r"uniform: maxval must be a number or a tensor"),
    (lambda: R.normal(K, (2,), "float64"), slope.DTypeError, r"normal: dtype must be .*\(float32\), got float64"),
    (lambda: R.randint(K, (2,), 0, 5, "float32"), slope.DTypeError, r"randint: dtype must be int32 or uint32"),
    (lambda: R.randint(K, (2,), np.zeros(3, np.int32), 5), slope.ShapeError,
     r"randint: minval of shape \(3,\) does not broadcast to the result shape \(2,\)"),
    (lambda: R.bernoulli(K, slope.tensor([1, 0])), slope.DTypeError, r"bernoulli: probability p must have a floating"),
    (lambda: R.bernoulli(K, 0.5, mode="mid"), slope.ArgumentError, r"bernoulli: mode must be 'low' or 'high'"),
    (lambda: R.categorical(K, np.zeros((2, 3), np.float32), shape=(3,)), slope.ShapeError,
     r"categorical: shape \(3,\) must end with the batch shape \(2,\) of logits f32\[2,3\]"),
    (lambda: R.categorical(K, np.zeros((2, 3), np.float32), axis=2), slope.OutOfBoundsError,
     r"categorical: axis 2 out of range for rank 2"),
    (lambda: R.choice(K, 3, (5,), replace=False), slope.DomainError, r"choice: cannot take a larger sample"),
    (lambda: R.choice(K, 4, (2,), p=np.ones(3, np.float32)), slope.ShapeError, r"choice: p must be None or a 1-d"),
    (lambda: R.permutation(K, 2.5), slope.DTypeError, r"permutation: x must be an int or a tensor"),
    (lambda: R.split(K, -1), slope.ShapeError, r"split: negative dimension"),
    (lambda: R.fold_in(K, 1.5), slope.DTypeError, r"fold_in: data must be a scalar integer, got float"),
    (lambda: R.key(1.5), slope.DTypeError, r"key: seed must be a scalar integer, got float 1\.5"),
    (lambda: R.key(np.arange(2)), slope.DTypeError, r"key: seed must be a scalar integer, got array of shape \(2,\)"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_name_the_op_shapes_and_dtypes(i):
    fn, exc, match = ERRORS[i]
    with pytest.raises(exc, match=match):
        fn()


# ---------------------------------------------------------------- statistical sanity (fixed seed)

N = 20000


def _chi2_uniform_bins(u, bins=20):
    counts, _ = np.histogram(u, bins=bins, range=(0, 1))
    expected = len(u) / bins
    return float(((counts - expected) ** 2 / expected).sum())  # df = 19: 99.9% quantile is 43.8


def _cdf_chi2(x, cdf, bins=20):
    """chi-square of x against a continuous cdf on equal-probability bins (df = bins - 1)."""
    return _chi2_uniform_bins(cdf(np.asarray(x, np.float64)), bins)


def _normal_cdf(x):
    from math import erf
    return 0.5 * (1 + np.vectorize(erf)(x / math.sqrt(2)))


def test_uniform_statistics():
    u = R.uniform(R.key(0), (N,)).numpy()
    assert 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    assert _chi2_uniform_bins(u) < 43.8
    v = R.uniform(R.key(1), (N,), minval=-3.0, maxval=5.0).numpy()
    assert -3 <= v.min() and v.max() < 5 and abs(v.mean() - 1) < 0.1


def test_bits_statistics():
    b = R.bits(R.key(0), (N,)).numpy()
    ones = np.unpackbits(b.view(np.uint8)).mean()
    assert abs(ones - 0.5) < 0.005
    assert _chi2_uniform_bins(b / 2.0**32) < 43.8


def test_normal_statistics():
    x = R.normal(R.key(0), (N,)).numpy()
    assert abs(x.mean()) < 0.03 and abs(x.var() - 1) < 0.04
    assert abs((x**3).mean()) < 0.1 and abs((x**4).mean() - 3) < 0.2
    assert _cdf_chi2(x, _normal_cdf) < 43.8


def test_truncated_normal_statistics():
    x = R.truncated_normal(R.key(0), -1.0, 2.0, (N,)).numpy()
    assert -1 < x.min() and x.max() < 2
    a, b = _normal_cdf(-1.0), _normal_cdf(2.0)
    assert _cdf_chi2(x, lambda v: (_normal_cdf(v) - a) / (b - a)) < 43.8


def test_exponential_laplace_gumbel_statistics():
    e = R.exponential(R.key(0), (N,)).numpy()
    assert e.min() >= 0 and abs(e.mean() - 1) < 0.03 and abs(e.var() - 1) < 0.08
    assert _cdf_chi2(e, lambda v: 1 - np.exp(-v)) < 43.8
    lp = R.laplace(R.key(0), (N,)).numpy()
    assert abs(lp.mean()) < 0.03 and abs(lp.var() - 2) < 0.12
    assert _cdf_chi2(lp, lambda v: np.where(v < 0, 0.5 * np.exp(v), 1 - 0.5 * np.exp(-v))) < 43.8
    g = R.gumbel(R.key(0), (N,)).numpy()
    assert abs(g.mean() - 0.5772) < 0.03 and abs(g.var() - math.pi**2 / 6) < 0.1
    assert _cdf_chi2(g, lambda v: np.exp(-np.exp(-v))) < 43.8


def _chi2_counts(counts, probs):
    expected = np.asarray(probs) * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


def test_discrete_statistics():
    r = R.randint(R.key(0), (N,), -3, 7).numpy()
    assert r.min() == -3 and r.max() == 6
    assert _chi2_counts(np.bincount(r + 3, minlength=10), [0.1] * 10) < 27.9  # df 9, 99.9%
    b = R.bernoulli(R.key(0), 0.3, (N,)).numpy()
    assert abs(b.mean() - 0.3) < 0.015
    p = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    c = R.categorical(R.key(0), np.log(p), shape=(N,)).numpy()
    assert _chi2_counts(np.bincount(c, minlength=4), p) < 16.3  # df 3
    ch = R.choice(R.key(0), 4, (N,), p=p).numpy()
    assert _chi2_counts(np.bincount(ch, minlength=4), p) < 16.3


def test_permutation_and_choice_statistics():
    firsts = np.array([R.permutation(k, 5).numpy() for k in R.split(R.key(0), 200)])
    assert all(sorted(row) == list(range(5)) for row in firsts)
    assert _chi2_counts(np.bincount(firsts[:, 0], minlength=5), [0.2] * 5) < 18.5  # df 4
    picks = R.choice(R.key(0), 100, (50,), replace=False).numpy()
    assert len(set(picks.tolist())) == 50
