"""Helpers shared by the unit tests.

Test modules import them from here rather than from conftest: tests/properties has a conftest.py of
its own, and under pytest's default import mode `import conftest` gets whichever was loaded last.
"""
import numpy as np


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def random_state_restorer(funcargs):
    """A function that puts back the random state a test draws from as it is now: NumPy's, Python's,
    slope's global key, and the generators among the test's fixtures (rng). tests/conftest.py dry-runs
    a test before running it: the real run must draw what it would have drawn without the dry run."""
    import random

    from slope.random import torch_style
    np_state, py_state, key = np.random.get_state(), random.getstate(), torch_style._global["key"]
    generators = [(g, g.bit_generator.state) for g in funcargs.values() if isinstance(g, np.random.Generator)]

    def restore():
        np.random.set_state(np_state)
        random.setstate(py_state)
        torch_style._global["key"] = key
        for g, state in generators:
            g.bit_generator.state = state
    return restore
