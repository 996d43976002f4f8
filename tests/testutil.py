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
