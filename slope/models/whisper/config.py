"""WhisperConfig from a Hugging Face `config.json`, and Whisper's sinusoidal position embedding."""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from slope.core.tensor import Tensor, tensor
from slope.errors import ArgumentError


@dataclass(frozen=True)
class WhisperConfig:
    """The fields of HF's WhisperConfig the model needs (defaults: whisper-tiny's config.json)."""
    d_model: int = 384
    encoder_layers: int = 4
    decoder_layers: int = 4
    encoder_attention_heads: int = 6
    decoder_attention_heads: int = 6
    encoder_ffn_dim: int = 1536
    decoder_ffn_dim: int = 1536
    num_mel_bins: int = 80
    max_source_positions: int = 1500
    max_target_positions: int = 448
    vocab_size: int = 51865
    activation_function: str = "gelu"
    scale_embedding: bool = False
    tie_word_embeddings: bool = True
    decoder_start_token_id: int = 50258
    bos_token_id: int = 50257
    eos_token_id: int = 50257
    pad_token_id: int = 50257
    begin_suppress_tokens: tuple = (220, 50257)
    suppress_tokens: tuple = ()
    extra: dict = field(default_factory=dict, compare=False, repr=False)  # the other keys of config.json

    def __post_init__(self):
        for name in ("d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads",
                     "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "num_mel_bins",
                     "max_source_positions", "max_target_positions", "vocab_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ArgumentError(f"WhisperConfig: {name} must be a positive int, got {v!r}")
        for heads in ("encoder_attention_heads", "decoder_attention_heads"):
            if self.d_model % getattr(self, heads):
                raise ArgumentError(f"WhisperConfig: d_model {self.d_model} is not divisible by "
                                    f"{heads} {getattr(self, heads)}")
        if self.d_model % 2:
            raise ArgumentError(f"WhisperConfig: d_model must be even (sinusoidal positions), got {self.d_model}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.encoder_attention_heads

    @property
    def n_audio_frames(self) -> int:
        """Mel frames the encoder takes: two per output position (conv2 has stride 2)."""
        return 2 * self.max_source_positions

    @classmethod
    def from_dict(cls, d: dict) -> "WhisperConfig":
        if not isinstance(d, dict):
            raise ArgumentError(f"WhisperConfig.from_dict: expected a dict, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names and v is not None}
        return cls(**kw, extra={k: v for k, v in d.items() if k not in names})

    @classmethod
    def from_json(cls, path) -> "WhisperConfig":
        """From a config.json, or a checkpoint directory holding one."""
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "config.json")
        with open(path) as f:
            return cls.from_dict(json.load(f))

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        d = {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
        return {**self.extra, **d}


def sinusoids_numpy(length: int, channels: int, max_timescale: float = 10000.0, dtype=np.float32) -> np.ndarray:
    """Whisper's sinusoids(length, channels): (length, channels), sin of channels//2 geometric timescales
    from 1 to max_timescale, then cos of the same."""
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise ArgumentError(f"sinusoids: length must be a non-negative int, got {length!r}")
    if not isinstance(channels, int) or isinstance(channels, bool) or channels < 4 or channels % 2:
        raise ArgumentError(f"sinusoids: channels must be an even int >= 4, got {channels!r}")
    increment = math.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = np.exp(-increment * np.arange(channels // 2, dtype=np.float64))
    scaled = np.arange(length, dtype=np.float64)[:, None] * inv_timescales[None, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1).astype(dtype)


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0, dtype: Optional[str] = None) -> Tensor:
    """Whisper's sinusoidal position embedding as a float32 Tensor of shape (length, channels)."""
    return tensor(sinusoids_numpy(length, channels, max_timescale, np.dtype(dtype or "float32")))
