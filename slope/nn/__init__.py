"""slope.nn: PyTorch-like layers that are pytrees (see docs/nn.md).

    import slope, slope.nn as nn, slope.nn.functional as F
    model = nn.Sequential(nn.Linear(4, 16, key=slope.random.key(0)), nn.ReLU(), nn.Linear(16, 3))
    loss, grads = slope.value_and_grad(lambda m, x, y: F.cross_entropy(m(x), y))(model, x, y)
"""
from slope.nn import functional, init  # noqa: F401
from slope.nn.module import IncompatibleKeys, Module, apply  # noqa: F401
from slope.nn.layers import *  # noqa: F401,F403
from slope.nn.layers import __all__ as _layers

__all__ = ["Module", "apply", "IncompatibleKeys", "functional", "init", *_layers]
