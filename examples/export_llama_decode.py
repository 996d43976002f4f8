"""Export a Llama decode step (one new token against a KV cache) as a standalone IREE module.

    python examples/export_llama_decode.py [--model DIR] [--out DIR]

Without --model a small random-weight Llama is used. The artifact's inputs are the KV cache, the
current token, its position, the attention mask over the cache slots and the slot to write; its
outputs are the next token (greedy) and the updated cache. The script runs the artifact with the IREE
runtime alone and checks that greedy decoding with it equals slope's own `Llama.generate`.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import slope  # noqa: E402
from slope.models.llama import Llama, LlamaConfig  # noqa: E402
from slope.models.llama.generate import init_cache  # noqa: E402
from slope.models.llama.model import decoder  # noqa: E402

SMALL = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, max_position_embeddings=64)


def decode_step(params, cache, token, position, mask, start, *, config):
    """Greedy next token for one token at slot `start` of the cache; the cache with its K/V written."""
    slots = slope.arange(mask.shape[1], dtype=slope.int32)
    m = (slots[None, :] <= start)[None] & mask[:, None, :]
    logits, cache = decoder(params, config, token, position, m, cache, start)
    return logits[:, -1].argmax(-1).astype(slope.int32), cache


def export(model: Llama, path: str, max_len: int):
    import functools

    cache = init_cache(model.config, 1, max_len)
    example = (cache, np.zeros((1, 1), np.int32), np.zeros((1, 1), np.int32), np.ones((1, max_len), bool),
               np.int32(0))
    step = functools.partial(decode_step, config=model.config)
    return slope.export(step, *example, path=path, params=model.params)


def greedy_with_artifact(path: str, model: Llama, prompt: list[int], new_tokens: int, max_len: int) -> list[int]:
    """Feed the prompt one token at a time, then decode: every step through the exported module."""
    run = slope.export.load(path)
    cfg = model.config
    shape = (1, cfg.num_key_value_heads, max_len, cfg.head_dim)
    cache = [(np.zeros(shape, np.float32), np.zeros(shape, np.float32)) for _ in range(cfg.num_hidden_layers)]
    mask = np.ones((1, max_len), bool)
    out, tok = list(prompt), prompt[0]
    for pos in range(len(prompt) + new_tokens - 1):
        nxt, cache = run(cache, np.array([[tok]], np.int32), np.array([[pos]], np.int32), mask, np.int32(pos))
        tok = prompt[pos + 1] if pos + 1 < len(prompt) else int(np.asarray(nxt)[0])
        if pos + 1 >= len(prompt):
            out.append(tok)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="a Hugging Face Llama checkpoint directory (default: small random weights)")
    p.add_argument("--out", help="artifact directory (default: a temporary one)")
    p.add_argument("--max-len", type=int, default=32)
    a = p.parse_args(argv)
    model = Llama.from_pretrained(a.model) if a.model else Llama.random(SMALL, key=slope.random.key(0))
    out = a.out or tempfile.mkdtemp(prefix="llama-decode-")
    manifest = export(model, out, a.max_len)
    prompt, new = [1, 5, 9, 2], 6
    got = greedy_with_artifact(out, model, prompt, new, a.max_len)
    want = np.asarray(model.generate(slope.tensor(np.array([prompt], np.int32)), max_new_tokens=new,
                                     max_len=a.max_len, eos_token_id=None))[0].tolist()  # the loop has no EOS stop
    print(f"exported to {out}: {len(manifest['inputs'])} inputs, {len(manifest['outputs'])} outputs")
    print(f"artifact greedy: {got}")
    print(f"slope generate:  {want}")
    if got != want:
        raise SystemExit("the exported decode step disagrees with slope's generate")
    print("same tokens")


if __name__ == "__main__":
    main()
