"""Llama (Hugging Face's `LlamaForCausalLM`) on slope: forward, generation with a KV cache, training,
and Hugging Face checkpoints (config.json + model.safetensors).

    from slope.models.llama import Llama, LlamaConfig
    model = Llama.from_pretrained("path/to/checkpoint")
    logits = model(tokens)                             # (batch, seq, vocab) float32
    out = model.generate(tokens, max_new_tokens=20)    # (batch, seq + 20)

`Llama` is a pytree (its leaves are the parameter tensors, its config the static part), so
`slope.jit(f)(model, ...)` and `slope.grad(loss)(model, ...)` take it directly.
"""
from __future__ import annotations

import slope
import slope.random as R
from slope.models.llama import checkpoint, generate as _generate, model as _model
from slope.models.llama.config import LlamaConfig
from slope.models.llama.generate import compiled_programs, sample
from slope.models.llama.model import forward, init_params, param_shapes

__all__ = ["Llama", "LlamaConfig", "forward", "init_params", "param_shapes", "sample", "compiled_programs"]


class Llama:
    """A config and a dict of parameters named as in Hugging Face's checkpoints."""

    def __init__(self, config: LlamaConfig, params: dict):
        self.config = config
        self.params = params

    @classmethod
    def random(cls, config: LlamaConfig, key=None, std: float = 0.02) -> "Llama":
        return cls(config, init_params(config, R.key(0) if key is None else key, std))

    @classmethod
    def from_pretrained(cls, path: str) -> "Llama":
        """Read config.json and model.safetensors (or the sharded index) of a Hugging Face Llama; float16 and
        bfloat16 weights become float32."""
        config = LlamaConfig.from_json(path)
        return cls(config, checkpoint.params_from_tensors(config, checkpoint.read_tensors(path)))

    def save_pretrained(self, path: str, dtype: str | None = None, max_shard_bytes: int | None = None):
        """Write config.json, generation_config.json and model.safetensors (or shards) that
        `transformers.LlamaForCausalLM.from_pretrained(path)` reads."""
        checkpoint.save(self.config, self.params, path, dtype, max_shard_bytes)

    def __call__(self, tokens, attention_mask=None, positions=None):
        return forward(self.params, self.config, tokens, attention_mask, positions)

    def generate(self, tokens, max_new_tokens: int, temperature: float = 0.0, top_k=None, top_p=None, key=None,
                 attention_mask=None, max_len=None):
        return _generate.generate(self, tokens, max_new_tokens, temperature, top_k, top_p, key, attention_mask,
                                  max_len)

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


def _unflatten(config, children):
    m = Llama.__new__(Llama)
    m.config, m.params = config, children[0]
    return m


slope.register_pytree_node(Llama, lambda m: ([m.params], m.config), _unflatten)
del _model
