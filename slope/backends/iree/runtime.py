"""IREE runtime: one local device, host<->device copies, and loaded executables."""
from __future__ import annotations

import os

import numpy as np
import iree.runtime as rt

from slope.errors import BackendError, DTypeError, ShapeError

DRIVER = os.environ.get("SLOPE_IREE_DRIVER", "local-sync")
_config = rt.Config(DRIVER)
device = _config.device


def to_device(arr: np.ndarray):
    return rt.asdevicearray(device, arr)


def to_host(buf, aval) -> np.ndarray:
    out = buf.to_host()
    return np.array(out, dtype=aval.dtype.np, copy=True).reshape(aval.shape)


class Executable:
    """A compiled module's `main` function, callable on device buffers."""

    def __init__(self, vmfb: bytes, name: str, in_avals, out_avals, source: str):
        self.name, self.in_avals, self.out_avals, self.source = name, list(in_avals), list(out_avals), source
        try:
            ctx = rt.SystemContext(config=_config)
            ctx.add_vm_module(rt.VmModule.copy_buffer(_config.vm_instance, vmfb))
            self._fn = ctx.modules.module["main"]
        except Exception as e:  # pragma: no cover - defensive
            raise BackendError(f"IREE could not load the module for {name}: {e}\n--- program ---\n{source}") from e
        self._ctx = ctx

    def check_inputs(self, avals):
        if len(avals) != len(self.in_avals):
            raise ShapeError(f"{self.name}: expected {len(self.in_avals)} inputs, got {len(avals)}")
        for i, (got, want) in enumerate(zip(avals, self.in_avals)):
            if got != want:
                err = DTypeError if got.shape == want.shape else ShapeError
                raise err(f"{self.name}: input {i} must be {want.str_short()}, got {got.str_short()}")

    def __call__(self, bufs):
        """Run on device buffers; returns a list of device buffers (inputs must already be checked)."""
        try:
            out = self._fn(*bufs)
        except Exception as e:
            raise BackendError(f"IREE failed running {self.name}: {e}\n--- program ---\n{self.source}") from e
        if isinstance(out, tuple):
            return list(out)
        return [out]
