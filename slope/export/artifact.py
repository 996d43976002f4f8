"""Run an exported artifact (slope.export) with the IREE runtime alone.

This module imports NumPy, iree.runtime and slope.errors, nothing else of slope (.importlinter
forbids it): no tracing, no transformations, no compiler. It reads manifest.json, opens the
parameter archive (params.irpa) as the `model` scope of an io_parameters module, loads model.vmfb
and calls its `main` with NumPy arrays, checked against the manifest's shapes and dtypes first.
"""
from __future__ import annotations

import json
import os
import platform
import shlex
import threading

import numpy as np

from slope.errors import ArgumentError, BackendError, DeviceError, DTypeError, ExportError, ShapeError

MANIFEST = "manifest.json"
FORMAT = "slope-export"
VERSION = 1

_devices: dict = {}  # driver -> (VmInstance, HalDevice): made once per process (local-task starts threads)
_lock = threading.Lock()


def _device(driver: str):
    import iree.runtime as rt

    with _lock:
        entry = _devices.get(driver)
        if entry is None:
            instance = rt.VmInstance()
            try:
                device = rt.get_driver(driver).create_default_device()
            except Exception as e:
                raise DeviceError(f"load: the IREE driver {driver!r} is not available here ({e})") from None
            entry = _devices[driver] = (instance, device)
    return entry


def read_manifest(path) -> dict:
    """The manifest of the artifact in directory `path` (ExportError if it is not one)."""
    file = os.path.join(path, MANIFEST)
    try:
        with open(file) as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        raise ExportError(f"load: {path} is not an exported artifact (no {MANIFEST})") from None
    except json.JSONDecodeError as e:
        raise ExportError(f"load: {file} is not valid JSON: {e}") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ExportError(f"load: {file} is not a {FORMAT} manifest of version {VERSION} "
                          f"(format {manifest.get('format')!r}, version {manifest.get('version')!r})")
    return manifest


def _np_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype("bool" if name == "bool" else name)


# ---- pytrees as JSON: {"leaf": i} | {"tuple": [...]} | {"list": [...]} | {"dict": [[key, tree], ...]} | {"none": 0}


def _flatten(x, out):
    """Leaves of nested tuples/lists/dicts (dicts by sorted key, as slope's pytrees), None as no leaf."""
    if isinstance(x, (tuple, list)):
        for c in x:
            _flatten(c, out)
    elif isinstance(x, dict):
        for k in sorted(x):
            _flatten(x[k], out)
    elif x is not None:
        out.append(x)
    return out


def _build(tree, leaves):
    if "leaf" in tree:
        return leaves[tree["leaf"]]
    if "tuple" in tree:
        return tuple(_build(c, leaves) for c in tree["tuple"])
    if "list" in tree:
        return [_build(c, leaves) for c in tree["list"]]
    if "dict" in tree:
        return {k: _build(c, leaves) for k, c in tree["dict"]}
    return None


class Exported:
    """An exported function loaded with the IREE runtime: call it with NumPy arrays (the structure of
    the example arguments, params excluded); it returns NumPy arrays in the structure f returned."""

    def __init__(self, path, driver: str | None = None):
        self.path = os.path.abspath(path)
        self.manifest = m = read_manifest(path)
        self.inputs, self.outputs, self.target = m["inputs"], m["outputs"], m["target"]
        self.driver = driver or m["target"]["driver"]
        arch = m["target"].get("arch")
        if m["target"]["backend"] == "llvm-cpu" and arch not in (None, platform.machine()):
            raise DeviceError(f"load: {path} was compiled for {m['target']['name']} ({arch}); this machine is "
                              f"{platform.machine()}. Run it there: {m['run']['command']}")
        self._in_dtypes = [_np_dtype(i["dtype"]) for i in self.inputs]
        self._out_dtypes = [_np_dtype(o["dtype"]) for o in self.outputs]
        self._function = self._load()

    def _load(self):
        import iree.runtime as rt

        m = self.manifest
        instance, device = _device(self.driver)
        modules = [rt.create_hal_module(instance, device)]
        params = m.get("parameters")
        if params:
            index = rt.ParameterIndex()
            try:
                index.load(os.path.join(self.path, params["file"]))
            except Exception as e:
                raise ExportError(f"load: cannot read the parameter archive {params['file']} of {self.path}: {e}") \
                    from None
            missing = sorted({e["key"] for e in params["entries"]} - {k for k, _ in index.items()})
            if missing:
                raise ExportError(f"load: the parameter archive {params['file']} lacks {', '.join(missing)}")
            modules.append(rt.create_io_parameters_module(instance, index.create_provider(scope=params["scope"])))
        try:
            vm_module = rt.VmModule.mmap(instance, os.path.join(self.path, m["module"]))
            modules.append(vm_module)
            self._context = rt.VmContext(instance, modules=modules)
            function = vm_module.lookup_function(m["function"])
        except Exception as e:
            raise BackendError(f"load: IREE could not load {m['module']} of {self.path} on {self.driver}: {e}") \
                from None
        if function is None:
            raise ExportError(f"load: {m['module']} has no function {m['function']!r}")
        self._index = params and index  # the index maps the archive: keep it alive with the context
        return rt.FunctionInvoker(self._context, device, function)

    def _check(self, args):
        leaves = _flatten(list(args), [])
        if len(leaves) != len(self.inputs):
            names = ", ".join(f"{i['name']}: {i['dtype']}{i['shape']}" for i in self.inputs)
            raise ArgumentError(f"{self.manifest['name']}: expected {len(self.inputs)} input array"
                                f"{'s' if len(self.inputs) != 1 else ''} ({names}), got {len(leaves)}")
        arrays = []
        for x, spec, dt in zip(leaves, self.inputs, self._in_dtypes):
            if isinstance(x, (bool, int, float)):  # a Python scalar takes the input's dtype if its kind fits
                fits = dt.kind == "b" if isinstance(x, bool) else dt.kind in ("iuf" if isinstance(x, int) else "f")
                a = np.asarray(x, dtype=dt if fits else None)
            else:
                a = np.asarray(x)
            if a.dtype != dt:
                raise DTypeError(f"{self.manifest['name']}: input {spec['name']} must have dtype {spec['dtype']}, "
                                 f"got {a.dtype}")
            if list(a.shape) != spec["shape"]:
                raise ShapeError(f"{self.manifest['name']}: input {spec['name']} must have shape {spec['shape']}, "
                                 f"got {list(a.shape)}")
            arrays.append(a if a.flags.c_contiguous else a.copy(order="C"))  # (ascontiguousarray makes 0-d 1-d)
        return arrays

    def __call__(self, *args):
        arrays = self._check(args)
        try:
            results = self._function(*arrays)
        except Exception as e:
            raise BackendError(f"{self.manifest['name']}: the IREE runtime failed: {e}") from None
        if not isinstance(results, tuple):
            results = (results,)
        outs = []
        for r, dt, spec in zip(results, self._out_dtypes, self.outputs):
            a = np.array(r.to_host(), copy=True)
            if a.dtype != dt and a.dtype.itemsize == dt.itemsize:
                a = a.view(dt)  # IREE returns signed/unsigned integers as signless ones
            outs.append(a.reshape(spec["shape"]))
        return _build(self.manifest["output_tree"], outs)

    def command(self) -> list[str]:
        """The iree-run-module argv that runs the artifact on its example inputs (cwd: the artifact)."""
        return list(self.manifest["run"]["argv"])

    def __repr__(self):
        ins = ", ".join(f"{i['name']}: {i['dtype']}{i['shape']}" for i in self.inputs)
        outs = ", ".join(f"{o['name']}: {o['dtype']}{o['shape']}" for o in self.outputs)
        return f"<exported {self.manifest['name']}({ins}) -> ({outs}) for {self.target['name']} at {self.path}>"


def load(path, driver: str | None = None) -> Exported:
    """Load the artifact that slope.export wrote to directory `path`; `driver` overrides the
    manifest's IREE driver (local-task for CPU targets; local-sync also runs them)."""
    return Exported(path, driver)


def command_line(argv) -> str:
    return " ".join(shlex.quote(a) for a in argv)
