"""Llama (Hugging Face's `LlamaForCausalLM`) on slope: forward, generation with a KV cache, training,
and Hugging Face checkpoints (config.json + model.safetensors).

    from slope.models.llama import Llama, LlamaConfig
    model = Llama.from_pretrained("path/to/checkpoint")
    logits = model(tokens)                             # (batch, seq, vocab) float32
    out = model.generate(tokens, max_new_tokens=20)    # (batch, seq + 20)

`Llama` is a `slope.nn.Module` whose parameters are named as in Hugging Face's checkpoints
(`model.layers.0.self_attn.q_proj.weight`, ...): `named_parameters()`, `state_dict()` and
`load_state_dict()` use those names, and a Module is a pytree (its leaves are the parameter tensors, its
config the static part), so `slope.jit(f)(model, ...)` and `slope.grad(loss)(model, ...)` take it directly.
"""
from __future__ import annotations

import json
import os

import slope.random as R
from slope import nn
from slope.models.llama import checkpoint, generate as _generate, model as _model
from slope.models.llama.config import LlamaConfig
from slope.models.llama.generate import compiled_programs, sample
from slope.models.llama.model import forward, init_params, param_shapes

__all__ = ["Llama", "LlamaConfig", "forward", "init_params", "param_shapes", "sample", "compiled_programs"]


_GENERATION_KEYS = ("bos_token_id", "eos_token_id", "pad_token_id")


class Llama(nn.Module):
    """A config and the parameters of a `LlamaForCausalLM`, held flat under Hugging Face's dotted names.

    The parameters are registered on this one Module under their checkpoint names rather than as a tree of
    sub-layers, so the functional model (`forward(model.params, config, ...)`), the checkpoint reader and
    writer and `state_dict()` all use the same keys with no renaming. `generation_config` holds the
    token ids generation uses (bos/eos/pad; generation_config.json's values win over config.json's).
    """

    def __init__(self, config: LlamaConfig, params: dict, generation_config: dict | None = None):
        super().__init__()
        self.config = config
        self.generation_config = {k: getattr(config, k) for k in _GENERATION_KEYS}
        self.generation_config.update(generation_config or {})
        for name, t in params.items():
            self.register_parameter(name, t)

    @property
    def params(self) -> dict:
        """Hugging Face name -> parameter tensor (the Module's own parameter dict)."""
        return self._parameters

    @classmethod
    def random(cls, config: LlamaConfig, key=None, std: float = 0.02) -> "Llama":
        return cls(config, init_params(config, R.key(0) if key is None else key, std))

    @classmethod
    def from_pretrained(cls, path: str) -> "Llama":
        """Read config.json and model.safetensors (or the sharded index) of a Hugging Face Llama; float16 and
        bfloat16 weights become float32."""
        config = LlamaConfig.from_json(path)
        gen = {}
        gen_path = os.path.join(path, "generation_config.json")
        if os.path.isdir(path) and os.path.exists(gen_path):
            with open(gen_path) as f:
                gen = {k: v for k, v in json.load(f).items() if k in _GENERATION_KEYS}
            if isinstance(gen.get("eos_token_id"), list):
                gen["eos_token_id"] = tuple(gen["eos_token_id"])
        return cls(config, checkpoint.params_from_tensors(config, checkpoint.read_tensors(path)), gen)

    def save_pretrained(self, path: str, dtype: str | None = None, max_shard_bytes: int | None = None):
        """Write config.json, generation_config.json and model.safetensors (or shards) that
        `transformers.LlamaForCausalLM.from_pretrained(path)` reads."""
        checkpoint.save(self.config, self.params, path, dtype, max_shard_bytes, self.generation_config)

    def forward(self, tokens, attention_mask=None, positions=None):
        return forward(self.params, self.config, tokens, attention_mask, positions)

    def generate(self, tokens, max_new_tokens: int, temperature: float = 0.0, top_k=None, top_p=None, key=None,
                 attention_mask=None, max_len=None, eos_token_id=_generate.FROM_MODEL,
                 pad_token_id=_generate.FROM_MODEL):
        """See `slope.models.llama.generate.generate`; eos/pad default to `self.generation_config`'s."""
        return _generate.generate(self, tokens, max_new_tokens, temperature, top_k, top_p, key, attention_mask,
                                  max_len, eos_token_id, pad_token_id)

    def num_parameters(self) -> int:
        n = 0
        for shape in param_shapes(self.config).values():
            size = 1
            for d in shape:
                size *= d
            n += size
        return n

    def __repr__(self):
        c = self.config
        return (f"Llama(layers={c.num_hidden_layers}, hidden={c.hidden_size}, heads={c.num_attention_heads}/"
                f"{c.num_key_value_heads}, vocab={c.vocab_size}, params={self.num_parameters():,})")


del _model
