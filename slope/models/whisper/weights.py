"""Whisper checkpoints in Hugging Face's format: safetensors files (read and written here with NumPy) and the
mapping of `WhisperForConditionalGeneration`'s parameter names into a flat params dict.

The params dict keys are HF's names without the `model.` prefix ("encoder.conv1.weight",
"decoder.layers.0.encoder_attn.q_proj.bias", ...). `proj_out.weight` is HF's output projection: tied to
"decoder.embed_tokens.weight" in every released Whisper, so it is only present when the config unties it.
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np

from slope.core.tensor import tensor
from slope.errors import ArgumentError, ShapeError
from slope.models.whisper.config import WhisperConfig

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U8": "u1", "BOOL": "?"}


def _np_dtype(code, path):
    if code == "BF16":
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    if code not in _DTYPES:
        raise ArgumentError(f"read_safetensors: {path!r} holds dtype {code}, which is not supported")
    return np.dtype(_DTYPES[code])


def read_safetensors(path) -> dict:
    """{name: NumPy array} of one .safetensors file."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ArgumentError(f"read_safetensors: {path!r} is too short to be a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ArgumentError(f"read_safetensors: {path!r} has no valid JSON header") from None
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _np_dtype(info["dtype"], path)
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        if end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize or end > len(body):
            raise ArgumentError(f"read_safetensors: {path!r}: tensor {name!r} has {end - begin} bytes for "
                                f"shape {shape} of {info['dtype']}")
        out[name] = np.frombuffer(body[begin:end], dtype).reshape(shape).copy()
    return out


def write_safetensors(path, arrays: dict, metadata: dict | None = None) -> None:
    """Write {name: array} as a .safetensors file (tensors in name order, 8-byte aligned header)."""
    codes = {np.dtype(v): k for k, v in _DTYPES.items()}
    header, chunks, offset = {}, [], 0
    for name in sorted(arrays):
        a = np.asarray(arrays[name], order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        code = "BF16" if a.dtype.name == "bfloat16" else codes.get(a.dtype.newbyteorder("<"))
        if code is None:
            raise ArgumentError(f"write_safetensors: {name!r} has dtype {a.dtype}, which safetensors cannot hold")
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes() if code != "BF16" else a.tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(os.fspath(path), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for c in chunks:
            f.write(c)


def read_checkpoint(directory) -> dict:
    """All tensors of a checkpoint directory: model.safetensors, or the shards named by
    model.safetensors.index.json."""
    directory = os.fspath(directory)
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    elif os.path.exists(os.path.join(directory, "model.safetensors")):
        files = ["model.safetensors"]
    else:
        raise ArgumentError(f"read_checkpoint: {directory!r} has neither model.safetensors nor "
                            "model.safetensors.index.json")
    out = {}
    for name in files:
        out.update(read_safetensors(os.path.join(directory, name)))
    return out


def _attn(prefix, d):
    shapes = {f"{prefix}.{p}_proj.weight": (d, d) for p in ("q", "k", "v", "out")}
    shapes.update({f"{prefix}.{p}_proj.bias": (d,) for p in ("q", "v", "out")})  # k_proj has no bias
    return shapes


def _norm(prefix, d):
    return {f"{prefix}.weight": (d,), f"{prefix}.bias": (d,)}


def param_shapes(config: WhisperConfig) -> dict:
    """{params dict key: shape} of a Whisper model with `config` (HF WhisperForConditionalGeneration)."""
    d = config.d_model
    s = {"encoder.conv1.weight": (d, config.num_mel_bins, 3), "encoder.conv1.bias": (d,),
         "encoder.conv2.weight": (d, d, 3), "encoder.conv2.bias": (d,),
         "encoder.embed_positions.weight": (config.max_source_positions, d),
         **_norm("encoder.layer_norm", d),
         "decoder.embed_tokens.weight": (config.vocab_size, d),
         "decoder.embed_positions.weight": (config.max_target_positions, d),
         **_norm("decoder.layer_norm", d)}
    for side, n, ffn in (("encoder", config.encoder_layers, config.encoder_ffn_dim),
                         ("decoder", config.decoder_layers, config.decoder_ffn_dim)):
        for i in range(n):
            p = f"{side}.layers.{i}"
            s.update(_attn(f"{p}.self_attn", d))
            s.update(_norm(f"{p}.self_attn_layer_norm", d))
            if side == "decoder":
                s.update(_attn(f"{p}.encoder_attn", d))
                s.update(_norm(f"{p}.encoder_attn_layer_norm", d))
            s.update({f"{p}.fc1.weight": (ffn, d), f"{p}.fc1.bias": (ffn,),
                      f"{p}.fc2.weight": (d, ffn), f"{p}.fc2.bias": (d,)})
            s.update(_norm(f"{p}.final_layer_norm", d))
    if not config.tie_word_embeddings:
        s["proj_out.weight"] = (config.vocab_size, d)
    return s


def hf_to_params(tensors: dict, config: WhisperConfig, *, dtype=None, as_numpy: bool = False) -> dict:
    """Map HF parameter names to the params dict, checking every name and shape against `config`.

    Raises ArgumentError naming missing or unexpected parameters and ShapeError for a wrong shape."""
    want = param_shapes(config)
    params = {}
    unexpected = []
    for name, a in tensors.items():
        key = name[len("model."):] if name.startswith("model.") else name
        if key == "proj_out.weight" and config.tie_word_embeddings:
            continue  # the tied output projection is decoder.embed_tokens.weight
        if key not in want:
            unexpected.append(name)
            continue
        if tuple(a.shape) != want[key]:
            raise ShapeError(f"load_whisper: {name} has shape {tuple(a.shape)}, the config wants {want[key]}")
        params[key] = a
    missing = sorted(set(want) - set(params))
    if missing or unexpected:
        raise ArgumentError(f"load_whisper: the checkpoint does not match the config: missing {missing[:5]}"
                            f"{' ...' if len(missing) > 5 else ''} ({len(missing)}), unexpected {unexpected[:5]}"
                            f"{' ...' if len(unexpected) > 5 else ''} ({len(unexpected)})")
    out = {}
    for k in want:
        a = np.asarray(params[k])
        if dtype is not None:
            a = a.astype(np.dtype(dtype))
        elif a.dtype.name in ("bfloat16", "float16"):
            a = a.astype(np.float32)
        out[k] = a if as_numpy else tensor(a)
    return out


def load_whisper(directory, *, dtype=None, as_numpy: bool = False):
    """(WhisperConfig, params dict) of a Hugging Face Whisper checkpoint directory (config.json +
    model.safetensors or shards). Half-precision weights become float32 unless `dtype` says otherwise."""
    config = WhisperConfig.from_json(directory)
    return config, hf_to_params(read_checkpoint(directory), config, dtype=dtype, as_numpy=as_numpy)
