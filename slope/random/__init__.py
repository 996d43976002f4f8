"""slope.random: a counter-based threefry PRNG with JAX's functions, names and bits.

    import slope
    k = slope.random.key(0)
    k1, k2 = slope.random.split(k)
    x = slope.random.normal(k1, (3, 2))

Keys are raw `uint32[2]` tensors; every sampler is a pure function of its key (see prng.py for
the stream and docs/random.md for which functions are bit-exact with JAX and which are within a
stated number of ulp). `slope.randn`/`rand`/`randint`/`manual_seed` (torch_style.py) draw from a
global key and are eager-only.
"""
from slope.random.prng import PRNGKey, bits, fold_in, key, key_data, split  # noqa: F401
from slope.random.samplers import (  # noqa: F401
    bernoulli,
    categorical,
    choice,
    erf_inv,
    exponential,
    gumbel,
    laplace,
    normal,
    permutation,
    randint,
    truncated_normal,
    uniform,
)
