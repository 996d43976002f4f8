"""LlamaConfig: the fields of a Hugging Face Llama `config.json` that decide the computation."""
from __future__ import annotations

import dataclasses
import json
import math
import os

import numpy as np

from slope.errors import ArgumentError, DomainError

_ROPE_TYPES = ("default", "linear", "llama3")


@dataclasses.dataclass(frozen=True)
class LlamaConfig:
    """A Llama architecture (Hugging Face's `LlamaConfig` names and defaults).

    Frozen and hashable: it is the static part of a `Llama` pytree, so it keys `slope.jit`'s cache.
    `rope_scaling` is kept as a tuple of sorted `(key, value)` pairs; `rope_scaling_dict` gives the dict.
    """

    vocab_size: int = 32000
    hidden_size: int = 4096
    intermediate_size: int = 11008
    num_hidden_layers: int = 32
    num_attention_heads: int = 32
    num_key_value_heads: int | None = None
    head_dim: int | None = None
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    rope_scaling: tuple | None = None
    max_position_embeddings: int = 2048
    tie_word_embeddings: bool = False
    attention_bias: bool = False
    mlp_bias: bool = False
    torch_dtype: str = "float32"
    bos_token_id: int | None = 1
    eos_token_id: int | tuple | None = 2
    pad_token_id: int | None = None

    def __post_init__(self):
        if self.num_key_value_heads is None:
            object.__setattr__(self, "num_key_value_heads", self.num_attention_heads)
        if self.head_dim is None:
            object.__setattr__(self, "head_dim", self.hidden_size // self.num_attention_heads)
        if isinstance(self.rope_scaling, dict):
            object.__setattr__(self, "rope_scaling", tuple(sorted(
                (k, tuple(v) if isinstance(v, list) else v) for k, v in self.rope_scaling.items())))
        if isinstance(self.eos_token_id, list):
            object.__setattr__(self, "eos_token_id", tuple(self.eos_token_id))
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                     "num_key_value_heads", "head_dim", "max_position_embeddings"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ArgumentError(f"LlamaConfig: {name} must be a positive int, got {v!r}")
        if self.num_attention_heads % self.num_key_value_heads:
            raise DomainError(f"LlamaConfig: num_attention_heads ({self.num_attention_heads}) must be a multiple of "
                              f"num_key_value_heads ({self.num_key_value_heads}) (grouped-query attention)")
        if self.head_dim % 2:
            raise DomainError(f"LlamaConfig: head_dim must be even for rotary embeddings, got {self.head_dim}")
        rope_type = self.rope_type
        if rope_type not in _ROPE_TYPES:
            raise DomainError(f"LlamaConfig: rope_scaling type {rope_type!r} is not supported (supported: "
                              f"{', '.join(_ROPE_TYPES)})")

    # -- derived --------------------------------------------------------------------------------------------
    @property
    def rope_scaling_dict(self) -> dict | None:
        return None if self.rope_scaling is None else {k: (list(v) if isinstance(v, tuple) else v)
                                                       for k, v in self.rope_scaling}

    @property
    def rope_type(self) -> str:
        d = self.rope_scaling_dict
        if not d:
            return "default"
        return d.get("rope_type", d.get("type", "default"))

    @property
    def num_key_value_groups(self) -> int:
        return self.num_attention_heads // self.num_key_value_heads

    def inv_freq(self) -> np.ndarray:
        """The rotary inverse frequencies (head_dim // 2,), float32, as Hugging Face's `_compute_*_parameters`."""
        d = self.head_dim
        inv = 1.0 / (self.rope_theta ** (np.arange(0, d, 2, dtype=np.int64).astype(np.float32) / d))
        inv = inv.astype(np.float32)
        s = self.rope_scaling_dict or {}
        if self.rope_type == "linear":
            inv = inv / np.float32(s["factor"])
        elif self.rope_type == "llama3":
            factor = s["factor"]
            low, high = s.get("low_freq_factor", 1.0), s.get("high_freq_factor", 4.0)
            old = s.get("original_max_position_embeddings", 8192)
            low_wavelen, high_wavelen = old / low, old / high
            wavelen = 2 * math.pi / inv
            scaled = np.where(wavelen > low_wavelen, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
            inv = np.where(medium, smoothed, scaled)
        return np.asarray(inv, dtype=np.float32)

    # -- Hugging Face config.json ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> "LlamaConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if "dtype" in d and "torch_dtype" not in d:
            kw["torch_dtype"] = d["dtype"]
        if kw.get("torch_dtype") is None:
            kw.pop("torch_dtype", None)
        return cls(**kw)

    @classmethod
    def from_json(cls, path: str) -> "LlamaConfig":
        if os.path.isdir(path):
            path = os.path.join(path, "config.json")
        try:
            with open(path) as f:
                d = json.load(f)
        except FileNotFoundError:
            raise ArgumentError(f"LlamaConfig: no config.json at {path}") from None
        mt = d.get("model_type", "llama")
        if mt not in ("llama",):
            raise ArgumentError(f"LlamaConfig: {path} is a {mt!r} model, not 'llama'")
        return cls.from_dict(d)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["rope_scaling"] = self.rope_scaling_dict
        if isinstance(d["eos_token_id"], tuple):
            d["eos_token_id"] = list(d["eos_token_id"])
        d.update(architectures=["LlamaForCausalLM"], model_type="llama", hidden_act="silu",
                 attention_dropout=0.0, initializer_range=0.02, pretraining_tp=1, use_cache=True)
        return d

    def to_json(self, path: str):
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)
            f.write("\n")
