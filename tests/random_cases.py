"""The calls whose results tests/data/random_vectors.npz holds, written once for both APIs.

Each case is (name, fn(R, key), bound): R is `jax.random` (when ci/make_random_vectors.py makes
the vectors) or `slope.random` (when tests/test_random.py checks them); the arrays in the calls
are NumPy arrays, which both take. bound is "exact" (bit for bit) or ("ulp", n): |slope - jax| <=
n ulp of max(|jax|, 1) (float32 results through transcendental functions), or "x64" for a float64
case (JAX made it with jax_enable_x64)."""
import numpy as np

SEEDS = [0, 1, 42, -7, 2**31, 2**40 + 3]
SHAPES = [(), (1,), (2,), (7,), (3, 5), (0,), (2, 0, 3), (4, 1, 3), (1001,)]

_X = np.arange(12, dtype=np.float32).reshape(3, 4)
_P = np.array([0.125, 0.25, 0.5, 0.125], np.float32)
_LOGITS = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], np.float32))

CASES = [("split", lambda R, k: R.split(k), "exact"),
         ("split5", lambda R, k: R.split(k, 5), "exact"),
         ("split2x3", lambda R, k: R.split(k, (2, 3)), "exact"),
         ("fold_in0", lambda R, k: R.fold_in(k, 0), "exact"),
         ("fold_in5", lambda R, k: R.fold_in(k, 5), "exact"),
         ("fold_in_max", lambda R, k: R.fold_in(k, 2**32 - 1), "exact"),
         ("bits_u8", lambda R, k: R.bits(k, (2, 3), "uint8"), "exact"),
         ("uniform_range", lambda R, k: R.uniform(k, (9,), minval=-2.5, maxval=3.0), "exact"),
         ("uniform_bcast", lambda R, k: R.uniform(k, (2, 3), minval=np.float32([0, 1, 2]), maxval=5.0), "exact"),
         ("uniform_f64", lambda R, k: R.uniform(k, (5,), "float64"), "x64"),
         ("normal", lambda R, k: R.normal(k, (1000,)), ("ulp", 3)),
         ("normal_2d", lambda R, k: R.normal(k, (50, 2)), ("ulp", 3)),
         ("randint", lambda R, k: R.randint(k, (100,), -5, 17), "exact"),
         ("randint_wide", lambda R, k: R.randint(k, (100,), -2**31, 2**31 - 1), "exact"),
         ("randint_pow2", lambda R, k: R.randint(k, (20,), 0, 1024), "exact"),
         ("randint_empty_range", lambda R, k: R.randint(k, (5,), 3, 3), "exact"),
         ("randint_u32", lambda R, k: R.randint(k, (20,), 0, 100000, "uint32"), "exact"),
         ("bernoulli", lambda R, k: R.bernoulli(k, 0.3, (50,)), "exact"),
         ("bernoulli_p", lambda R, k: R.bernoulli(k, np.float32([0.1, 0.5, 0.9])), "exact"),
         ("bernoulli_high", lambda R, k: R.bernoulli(k, 0.3, (50,), mode="high"), "exact"),
         ("gumbel", lambda R, k: R.gumbel(k, (500,)), ("ulp", 2)),
         ("gumbel_high", lambda R, k: R.gumbel(k, (100,), mode="high"), ("ulp", 2)),
         ("exponential", lambda R, k: R.exponential(k, (500,)), ("ulp", 2)),
         ("laplace", lambda R, k: R.laplace(k, (500,)), ("ulp", 2)),
         ("truncated_normal", lambda R, k: R.truncated_normal(k, -1.5, 2.0, (500,)), ("ulp", 8)),
         ("truncated_normal_bcast", lambda R, k: R.truncated_normal(k, np.float32([-1, 0]), 1.0), ("ulp", 8)),
         ("permutation", lambda R, k: R.permutation(k, 10), "exact"),
         ("permutation_2rounds", lambda R, k: R.permutation(k, 2000), "exact"),
         ("permutation_array", lambda R, k: R.permutation(k, _X, axis=1), "exact"),
         ("permutation_independent", lambda R, k: R.permutation(k, _X, axis=1, independent=True), "exact"),
         ("choice", lambda R, k: R.choice(k, 10, (4,)), "exact"),
         ("choice_noreplace", lambda R, k: R.choice(k, 10, (4,), replace=False), "exact"),
         ("choice_array", lambda R, k: R.choice(k, _X, (2,), axis=1), "exact"),
         ("choice_p", lambda R, k: R.choice(k, 4, (20,), p=_P), "exact"),
         ("choice_p_noreplace", lambda R, k: R.choice(k, 4, (3,), replace=False, p=_P), "exact"),
         ("categorical", lambda R, k: R.categorical(k, _LOGITS), "exact"),
         ("categorical_shape", lambda R, k: R.categorical(k, _LOGITS, shape=(5, 2)), "exact"),
         ("categorical_axis0", lambda R, k: R.categorical(k, _LOGITS, axis=0), "exact"),
         ("categorical_noreplace", lambda R, k: R.categorical(k, _LOGITS, shape=(2, 2), replace=False), "exact")]
for _s in SHAPES:
    CASES.append((f"bits{_s}", lambda R, k, s=_s: R.bits(k, s), "exact"))
    CASES.append((f"uniform{_s}", lambda R, k, s=_s: R.uniform(k, s), "exact"))
