"""slope.save / slope.load: checkpoints in the safetensors format (no pickle).

    slope.save(model, "model.safetensors")             # a Module: its state_dict, PyTorch's dotted names
    model.load_state_dict(slope.load("model.safetensors"))
    slope.save({"model": model, "opt": opt_state, "epoch": 3}, "ckpt.safetensors")
    ckpt = slope.load("ckpt.safetensors")              # the same nesting back (Modules as their state dicts)

Files are written by the `safetensors` package: flat dotted keys (`layers.0.weight`; nested dicts
and lists join their keys/indices with dots), every dtype kept bit for bit (float16/bfloat16 via
ml_dtypes), and the pytree structure in the metadata (`slope.tree`, JSON), so a file PyTorch wrote
from a state_dict (no slope metadata) loads as a flat dict of its keys. `load` memory-maps the file
and reads each tensor's bytes from the map (`mmap=True`, the default) into a slope tensor, or returns
NumPy views of the map with `to_tensor=False`.
"""
from __future__ import annotations

import json
import os
import struct
from collections import OrderedDict

import numpy as np

from slope.core.tensor import Tensor, tensor as _tensor
from slope.errors import ArgumentError, DTypeError

__all__ = ["save", "load", "flatten_state", "SAFETENSORS_DTYPES"]

# safetensors dtype names <-> NumPy (ml_dtypes supplies bfloat16)
SAFETENSORS_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
                      "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "U16": "uint16", "U32": "uint32",
                      "U64": "uint64", "BOOL": "bool"}


def _np_dtype(name):
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _is_module(x):
    return hasattr(x, "state_dict") and hasattr(x, "named_parameters")


def _to_numpy(key, v):
    if isinstance(v, Tensor):
        return v.numpy()
    if isinstance(v, (np.ndarray, np.generic)):
        return np.asarray(v)
    if isinstance(v, (bool, int, float)):
        return np.asarray(v)
    raise DTypeError(f"slope.save: {key!r} is a {type(v).__name__}; checkpoints hold tensors, arrays and numbers "
                     "in dicts, lists and tuples (and Modules, saved as their state_dict)")


def flatten_state(tree):
    """(OrderedDict dotted key -> NumPy array, structure) for a Module, a dict/list/tuple tree or a tensor."""
    flat = OrderedDict()

    def rec(prefix, x):
        if _is_module(x):
            x = x.state_dict()
        if isinstance(x, dict):
            keys = list(x)
            for k in keys:
                if not isinstance(k, str):
                    raise ArgumentError(f"slope.save: dict keys must be strings, got {k!r}")
            return {"dict": [[k, rec(f"{prefix}{k}.", x[k])] for k in keys]}
        if isinstance(x, (list, tuple)):
            return {type(x).__name__: [rec(f"{prefix}{i}.", v) for i, v in enumerate(x)]}
        if x is None:
            return None
        key = prefix[:-1] if prefix else "tensor"
        if key in flat:
            raise ArgumentError(f"slope.save: two entries flatten to the key {key!r}")
        flat[key] = _to_numpy(key, x)
        return key

    structure = rec("", tree)
    return flat, structure


def save(obj, path, metadata=None):
    """Write `obj` (a Module, a state_dict, or a tree of dicts/lists/tuples of tensors) to `path` as safetensors."""
    from safetensors.numpy import save_file

    flat, structure = flatten_state(obj)
    meta = {"format": "pt", "slope.tree": json.dumps(structure), "slope.keys": json.dumps(list(flat))}
    if metadata:
        meta.update({str(k): str(v) for k, v in metadata.items()})
    arrays = {k: np.array(v, order="C", copy=True) for k, v in flat.items()}
    tmp = f"{os.fspath(path)}.tmp{os.getpid()}"
    save_file(arrays, tmp, metadata=meta)
    os.replace(tmp, path)


def _read_header(path):
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ArgumentError(f"slope.load: {path} is not a safetensors file (too short)")
        (n,) = struct.unpack("<Q", raw)
        header = json.loads(f.read(n))
    return header, 8 + n


def load(path, to_tensor=True, mmap=True):
    """Read a safetensors file: the saved tree (a flat dict, in file order, of dotted keys for a state_dict or a file
    written elsewhere). Tensors keep their dtype; with mmap the file is memory-mapped, not read whole."""
    header, start = _read_header(path)
    meta = header.pop("__metadata__", None) or {}
    order = json.loads(meta["slope.keys"]) if "slope.keys" in meta else \
        sorted(header, key=lambda k: header[k]["data_offsets"][0])
    if mmap:
        buf = np.memmap(path, dtype=np.uint8, mode="r")
    else:
        with open(path, "rb") as f:
            buf = np.frombuffer(f.read(), np.uint8)
    flat = {}
    for k in order:
        info = header[k]
        if info["dtype"] not in SAFETENSORS_DTYPES:
            raise DTypeError(f"slope.load: {k} has dtype {info['dtype']}, which slope does not read")
        lo, hi = info["data_offsets"]
        arr = buf[start + lo: start + hi].view(_np_dtype(SAFETENSORS_DTYPES[info["dtype"]])).reshape(info["shape"])
        flat[k] = _tensor(np.array(arr)) if to_tensor else arr
    if "slope.tree" not in meta:
        return flat
    return _rebuild(json.loads(meta["slope.tree"]), flat)


def _rebuild(s, flat):
    if s is None:
        return None
    if isinstance(s, str):
        return flat[s]
    if "dict" in s:
        return {k: _rebuild(v, flat) for k, v in s["dict"]}
    if "list" in s:
        return [_rebuild(v, flat) for v in s["list"]]
    return tuple(_rebuild(v, flat) for v in s["tuple"])
