import numpy as np
import pytest
from testutil import assert_close  # noqa: F401  (kept importable from conftest too)

import slope


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_seed():
    slope.manual_seed(0)
