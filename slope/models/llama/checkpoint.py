"""Hugging Face checkpoints: `model.safetensors` or `model.safetensors.index.json` + shards, read and written
with the safetensors package (NumPy framework; bfloat16 through ml_dtypes)."""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

import slope
from slope.errors import ArgumentError, ShapeError
from slope.models.llama.config import LlamaConfig
from slope.models.llama.model import param_shapes

_NP_DTYPES = {"float32": np.float32, "float16": np.float16, "bfloat16": None}


def _bf16():
    import ml_dtypes
    return ml_dtypes.bfloat16


def read_tensors(path: str) -> dict[str, np.ndarray]:
    """Every tensor of a checkpoint directory (or one .safetensors file) as NumPy arrays, by name."""
    from safetensors.numpy import load_file
    if os.path.isfile(path):
        return dict(load_file(path))
    single = os.path.join(path, "model.safetensors")
    index = os.path.join(path, "model.safetensors.index.json")
    if os.path.exists(single):
        return dict(load_file(single))
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        out = {}
        for shard in sorted(set(weight_map.values())):
            shard_path = os.path.join(path, shard)
            if not os.path.exists(shard_path):
                raise ArgumentError(f"Llama checkpoint: shard {shard} named by {index} is missing")
            out.update(load_file(shard_path))
        missing = sorted(set(weight_map) - set(out))
        if missing:
            raise ArgumentError(f"Llama checkpoint: {index} names tensors no shard holds: {', '.join(missing[:5])}")
        return out
    raise ArgumentError(f"Llama checkpoint: no model.safetensors or model.safetensors.index.json in {path}")


def params_from_tensors(config: LlamaConfig, tensors: dict) -> dict:
    """Check names and shapes against the config; floats become float32 slope tensors (compute dtype)."""
    expected = param_shapes(config)
    tensors = dict(tensors)
    # checkpoints of tied models sometimes carry lm_head.weight too; rotary buffers are not parameters
    if config.tie_word_embeddings:
        tensors.pop("lm_head.weight", None)
    for name in list(tensors):
        if name.endswith("rotary_emb.inv_freq"):
            tensors.pop(name)
    missing = [n for n in expected if n not in tensors]
    unexpected = sorted(n for n in tensors if n not in expected)
    if missing:
        raise ArgumentError(f"Llama checkpoint: {len(missing)} tensor(s) missing: {', '.join(missing[:5])}"
                            + (" ..." if len(missing) > 5 else ""))
    if unexpected:
        raise ArgumentError(f"Llama checkpoint: {len(unexpected)} unexpected tensor(s) for this config: "
                            f"{', '.join(unexpected[:5])}" + (" ..." if len(unexpected) > 5 else ""))
    params = {}
    for name, shape in expected.items():
        a = tensors[name]
        if tuple(a.shape) != tuple(shape):
            raise ShapeError(f"Llama checkpoint: {name} has shape {tuple(a.shape)}, the config needs {shape}")
        params[name] = slope.tensor(np.ascontiguousarray(np.asarray(a).astype(np.float32)))
    return params


def save(config: LlamaConfig, params: dict, path: str, dtype: str | None = None, max_shard_bytes: int | None = None,
         generation_config: dict | None = None):
    """Write config.json, generation_config.json and model.safetensors (or shards + index) in `dtype`
    (default: config.torch_dtype) with `{"format": "pt"}` metadata, as transformers writes them.
    generation_config: bos/eos/pad token ids for generation_config.json (default: the config's)."""
    from safetensors.numpy import save_file
    os.makedirs(path, exist_ok=True)
    dtype = dtype or config.torch_dtype or "float32"
    if dtype not in _NP_DTYPES:
        raise ArgumentError(f"Llama.save_pretrained: dtype must be one of {', '.join(_NP_DTYPES)}, got {dtype!r}")
    np_dtype = _NP_DTYPES[dtype] or _bf16()
    expected = param_shapes(config)
    arrays = {name: np.ascontiguousarray(np.asarray(params[name]).astype(np_dtype)) for name in expected}
    dataclasses.replace(config, torch_dtype=dtype).to_json(os.path.join(path, "config.json"))
    keys = ("bos_token_id", "eos_token_id", "pad_token_id")
    values = {k: (generation_config or {}).get(k, getattr(config, k)) for k in keys}
    gen = {"_from_model_config": all(values[k] == getattr(config, k) for k in keys)}
    for k, v in values.items():
        if v is not None:
            gen[k] = list(v) if isinstance(v, tuple) else v
    with open(os.path.join(path, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
    single = os.path.join(path, "model.safetensors")
    index = os.path.join(path, "model.safetensors.index.json")
    for stale in (single, index) if max_shard_bytes is None else (single,):  # never leave a stale copy beside
        if os.path.exists(stale):
            if stale == index:
                with open(index) as f:
                    for shard in set(json.load(f).get("weight_map", {}).values()):
                        if os.path.exists(os.path.join(path, shard)):
                            os.remove(os.path.join(path, shard))
            os.remove(stale)
    if max_shard_bytes is None:
        save_file(arrays, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
        return
    shards, cur, size = [], {}, 0
    for name, a in arrays.items():
        if cur and size + a.nbytes > max_shard_bytes:
            shards.append(cur)
            cur, size = {}, 0
        cur[name] = a
        size += a.nbytes
    shards.append(cur)
    weight_map = {}
    for i, shard in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, os.path.join(path, fname), metadata={"format": "pt"})
        weight_map.update({n: fname for n in shard})
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(a.nbytes for a in arrays.values())}, "weight_map": weight_map},
                  f, indent=2)
