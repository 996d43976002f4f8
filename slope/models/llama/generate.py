"""Generation with a preallocated KV cache: one compiled prefill and one compiled decode step.

The cache is a list of `(k, v)` per layer, each `(batch, kv_heads, max_len, head_dim)` float32, allocated
once; a step writes its keys and values at slot `start` (a 0-d int32 tensor, traced: every decode step runs
the same program) with `dynamic_update_slice` and attends over every slot with a mask. Sampling happens
inside the step (`slope.random`), so only the next token ids leave it.
"""
from __future__ import annotations

import numpy as np

import slope
import slope.random as R
from slope.errors import ArgumentError, DomainError
from slope.models.llama.model import as_tokens, decoder, positions_from_mask

_STEPS: dict = {}
FROM_MODEL = "from model"        # generate's default for eos/pad: the model's generation_config


def sample(logits, key, temperature=0.0, top_k=None, top_p=None):
    """Next token ids (batch,) int32 from logits (batch, vocab): argmax when temperature == 0, else a draw
    from softmax(logits / temperature) restricted to the top_k largest and the smallest set of tokens whose
    probability reaches top_p (nucleus)."""
    if not temperature:
        return logits.argmax(-1).astype(slope.int32)
    logits = logits / temperature
    neg = float("-inf")
    if top_k is not None:
        kth = slope.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = slope.where(logits < kth, neg, logits)
    if top_p is not None and top_p < 1.0:
        s = slope.sort(logits, dim=-1, descending=True).values
        p = s.softmax(-1)
        keep = (p.cumsum(-1) - p) < top_p                # always keeps the most likely token
        threshold = slope.where(keep, s, float("inf")).amin(-1, keepdim=True)
        logits = slope.where(logits < threshold, neg, logits)
    return R.categorical(key, logits, axis=-1).astype(slope.int32)


def step_function(temperature=0.0, top_k=None, top_p=None):
    """The jitted step (shared by every model and call with these sampling settings): prefill when given
    the prompt, decode when given one token; its jit cache holds one program per (model, shapes)."""
    settings = (float(temperature), top_k, top_p)
    if settings not in _STEPS:
        def llama_step(model, cache, tokens, positions, mask, start, key):
            T, S = tokens.shape[1], mask.shape[1]
            slots = slope.arange(S, dtype=slope.int32)
            query_slots = start + slope.arange(T, dtype=slope.int32)
            m = (slots[None, :] <= query_slots[:, None])[None] & mask[:, None, :]
            logits, cache = decoder(model.params, model.config, tokens, positions, m, cache, start)
            nxt = sample(logits[:, -1], R.fold_in(key, start), *settings)
            return nxt[:, None], cache
        _STEPS[settings] = slope.jit(llama_step)
    return _STEPS[settings]


def compiled_programs() -> int:
    """How many step programs have been traced and compiled in this process (for tests and benchmarks)."""
    return sum(len(f._cache) for f in _STEPS.values())


def init_cache(config, batch: int, max_len: int):
    shape = (batch, config.num_key_value_heads, max_len, config.head_dim)
    return [(slope.zeros(*shape), slope.zeros(*shape)) for _ in range(config.num_hidden_layers)]


def _token_ids(value, what, vocab_size):
    """None or a tuple of token ids in [0, vocab_size); a DomainError naming `what` otherwise."""
    if value is None:
        return None
    ids = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < vocab_size:
            raise DomainError(f"Llama.generate: {what} must be token ids in [0, vocab_size={vocab_size}), "
                              f"got {value!r}")
    return tuple(int(i) for i in ids) or None


def generate(model, tokens, max_new_tokens: int, temperature: float = 0.0, top_k: int | None = None,
             top_p: float | None = None, key=None, attention_mask=None, max_len: int | None = None,
             eos_token_id=FROM_MODEL, pad_token_id=FROM_MODEL):
    """prompt + up to max_new_tokens new tokens, (batch, seq + n) int32, n <= max_new_tokens.

    Greedy when temperature == 0; otherwise sampled with `key` (a `slope.random` key, default key(0)).
    attention_mask (batch, seq) marks left padding with 0 (padded rows get Hugging Face's position ids).
    max_len: the cache size (default seq + max_new_tokens); keep it fixed across calls to reuse programs.
    eos_token_id: an id or a list of ids ending a row (default: the model's generation_config; None never
    stops). As transformers' generate: a row that has produced one is finished, its later tokens are
    pad_token_id (default: the generation_config's, else the first eos id), and generation stops early,
    giving a shorter result, once every row is finished.
    """
    config = model.config
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ArgumentError(f"Llama.generate: max_new_tokens must be a non-negative int, got {max_new_tokens!r}")
    if temperature < 0:
        raise DomainError(f"Llama.generate: temperature must be >= 0, got {temperature}")
    if top_k is not None and not (isinstance(top_k, int) and 1 <= top_k <= config.vocab_size):
        raise DomainError(f"Llama.generate: top_k must be an int in [1, vocab_size={config.vocab_size}], got {top_k!r}")
    if top_p is not None and not (0.0 < top_p <= 1.0):
        raise DomainError(f"Llama.generate: top_p must be in (0, 1], got {top_p!r}")
    gen_config = getattr(model, "generation_config", None) or {}
    eos = _token_ids(gen_config.get("eos_token_id") if eos_token_id is FROM_MODEL else eos_token_id,
                     "eos_token_id", config.vocab_size)
    pad = gen_config.get("pad_token_id") if pad_token_id is FROM_MODEL else pad_token_id
    pad = _token_ids(pad, "pad_token_id", config.vocab_size)
    pad = (pad or eos or (0,))[0]
    tokens = as_tokens(tokens, config)
    B, T = tokens.shape
    prompt = np.asarray(tokens).astype(np.int32)
    S = T + max_new_tokens if max_len is None else max_len
    if S < T + max_new_tokens:
        raise DomainError(f"Llama.generate: max_len={S} is shorter than the prompt ({T}) + max_new_tokens "
                          f"({max_new_tokens})")
    if S > config.max_position_embeddings:
        raise DomainError(f"Llama.generate: prompt ({T}) + max_new_tokens ({max_new_tokens}) = {T + max_new_tokens} "
                          f"tokens is longer than max_position_embeddings ({config.max_position_embeddings})")
    if max_new_tokens == 0:
        return slope.tensor(prompt)
    if attention_mask is None:
        pmask = np.ones((B, T), bool)
    else:
        pmask = np.asarray(attention_mask) != 0
        if pmask.shape != (B, T):
            raise DomainError(f"Llama.generate: attention_mask must have the prompt's shape {(B, T)}, "
                              f"got {pmask.shape}")
    mask = slope.tensor(np.concatenate([pmask, np.ones((B, S - T), bool)], 1))
    positions = positions_from_mask(pmask).astype(np.int32)
    next_pos = pmask.sum(1).astype(np.int32)                      # position id of the first new token
    key = R.key(0) if key is None else key
    step = step_function(temperature, top_k, top_p)
    cache = init_cache(config, B, S)
    nxt, cache = step(model, cache, slope.tensor(prompt), slope.tensor(positions), mask,
                      slope.tensor(0, dtype=slope.int32), key)
    out = [nxt]
    finished = np.zeros((B, 1), bool)
    for i in range(max_new_tokens - 1):
        if eos is not None:         # reading the ids waits for this step: only when there is something to stop
            finished |= np.isin(np.asarray(out[-1]), eos)
            if finished.all():
                break
        pos = slope.tensor((next_pos + i)[:, None])
        nxt, cache = step(model, cache, nxt, pos, mask, slope.tensor(T + i, dtype=slope.int32), key)
        out.append(nxt)
    new = np.concatenate([np.asarray(t) for t in out], 1)
    if eos is not None:             # a row's tokens after its first eos become pad
        after = np.cumsum(np.isin(new, eos), 1) - np.isin(new, eos) > 0
        new = np.where(after, pad, new).astype(np.int32)
    return slope.tensor(np.concatenate([prompt, new], 1))
