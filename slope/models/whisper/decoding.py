"""Whisper decoding: one compiled encoder call, one compiled decode step, greedy and beam search on the host.

`prepare` (jitted) runs the encoder and projects the cross-attention keys and values of every decoder
layer once. `step` (jitted) feeds one token per row at slot `start` (a traced 0-d int32: every step runs the
same program) into a self-attention cache of max_target_positions slots and returns the logits of that
token; the beam-search variant first reorders the cache rows by the parents of the surviving beams. The
prompt goes through the same step one token at a time, so the logits after <|startoftranscript|> give the
language. Suppression, log-softmax and the beam bookkeeping run in NumPy (float64) on the (rows, vocab)
logits.

Beam search follows openai/whisper's BeamSearchDecoder: each beam proposes its beam_size + 1 best tokens;
the candidates, sorted by summed log-probability, fill beam_size live beams, those ending in <|endoftext|>
ranked above the last live beam are set aside as finished, and an audio is done with beam_size finished
sequences. Ranking (openai's MaximumLikelihoodRanker): the summed log-probability divided by the length
(text tokens, the stop token not counted, at least 1) when length_penalty is None, else by
((5 + length) / 6) ** length_penalty.
"""
from __future__ import annotations

import numpy as np

import slope
from slope.errors import ArgumentError, DomainError
from slope.models.whisper.model import check_mel, cross_kv, decoder, encoder

DEFAULT_SAMPLE_LEN = 224  # openai/whisper's default sample_len: half of max_target_positions


def _prepare(model, mel):
    return cross_kv(model.params, model.config, encoder(model.params, model.config, mel))


def _step(model, cache, cross, tokens, start):
    S = cache[0][0].shape[2]
    mask = (slope.arange(S, dtype=slope.int32) <= start)[None, None, :]        # (1, 1 query, S slots)
    positions = start + slope.zeros(tokens.shape, dtype=slope.int32)
    logits, cache = decoder(model.params, model.config, tokens, positions, mask, cross, cache, start)
    return logits[:, -1], cache


def _step_reorder(model, cache, cross, tokens, start, parent):
    cache = [(k[parent], v[parent]) for k, v in cache]
    return _step(model, cache, cross, tokens, start)


prepare = slope.jit(_prepare)
step = slope.jit(_step)
step_reorder = slope.jit(_step_reorder)


def compiled_programs() -> int:
    """How many encoder and decode-step programs have been traced and compiled in this process."""
    return sum(len(f._cache) for f in (prepare, step, step_reorder))


def init_cache(config, rows: int):
    shape = (rows, config.decoder_attention_heads, config.max_target_positions, config.d_model //
             config.decoder_attention_heads)
    return [(slope.zeros(*shape), slope.zeros(*shape)) for _ in range(config.decoder_layers)]


def _log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def language_id(special, language) -> int | None:
    """The token id of a language given as "en", "<|en|>" or None (None: detect, or none for English-only)."""
    if language is None:
        return None
    code = str(language).strip("<|>").lower()
    if not special.languages:
        if code == "en":
            return None              # an English-only checkpoint has no language token
        raise ArgumentError(f"Whisper: this checkpoint is English-only (no language tokens); got language "
                            f"{language!r}")
    if code not in special.languages:
        raise ArgumentError(f"Whisper: unknown language {language!r}; the checkpoint knows "
                            f"{sorted(special.languages)[:20]}{' ...' if len(special.languages) > 20 else ''}")
    return special.languages[code]


class _Runner:
    """The cache, cross K/V and the current position of one generate call over `rows` decoder rows."""

    def __init__(self, model, mel, repeat: int):
        self.model = model
        cross = prepare(model, mel)
        if repeat > 1:
            idx = slope.tensor(np.repeat(np.arange(mel.shape[0], dtype=np.int32), repeat))
            cross = [(k[idx], v[idx]) for k, v in cross]
        self.cross = cross
        self.rows = mel.shape[0] * repeat
        self.cache = init_cache(model.config, self.rows)
        self.pos = 0
        self.reorder = repeat > 1

    def feed(self, tokens, parent=None):
        """Logits (rows, vocab) float64 after feeding tokens (rows,) at the next position."""
        tok = slope.tensor(np.asarray(tokens, np.int32).reshape(self.rows, 1))
        start = slope.tensor(self.pos, dtype=slope.int32)
        if self.reorder:
            par = np.arange(self.rows, dtype=np.int32) if parent is None else np.asarray(parent, np.int32)
            logits, self.cache = step_reorder(self.model, self.cache, self.cross, tok, start, slope.tensor(par))
        else:
            logits, self.cache = step(self.model, self.cache, self.cross, tok, start)
        self.pos += 1
        return np.asarray(logits).astype(np.float64)


def _prompt_logits(runner, special, language, task, repeat):
    """Feed the prompt; returns (prompt (rows, P) int array, logits after it, language ids per audio)."""
    rows = runner.rows
    logits = runner.feed(np.full(rows, special.sot))
    lang = language_id(special, language)
    if lang is None and language is None and special.languages:        # detect from the first step
        ids = np.array(sorted(special.languages.values()))
        langs = ids[logits[:, ids].argmax(-1)]
        langs = np.repeat(langs[::repeat], repeat)                      # a beam group follows its first row
    else:
        langs = np.full(rows, -1 if lang is None else lang)
    prompts = np.array([special.prompt(None if lg < 0 else int(lg), task) for lg in langs], np.int64)
    for j in range(1, prompts.shape[1]):
        logits = runner.feed(prompts[:, j])
    return prompts, logits, langs[::repeat]


def _check(model, task, beam_size, max_new_tokens, length_penalty):
    if task not in ("transcribe", "translate"):
        raise ArgumentError(f"Whisper.generate: task must be 'transcribe' or 'translate', got {task!r}")
    if beam_size is not None and (isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1):
        raise ArgumentError(f"Whisper.generate: beam_size must be a positive int or None, got {beam_size!r}")
    if max_new_tokens is not None and (isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int)
                                       or max_new_tokens < 0):
        raise ArgumentError(f"Whisper.generate: max_new_tokens must be a non-negative int, got {max_new_tokens!r}")
    if length_penalty is not None and not isinstance(length_penalty, (int, float)):
        raise ArgumentError(f"Whisper.generate: length_penalty must be a number or None, got {length_penalty!r}")


def generate(model, mel, max_new_tokens=None, language=None, task="transcribe", beam_size=None,
             length_penalty=None, return_language=False):
    """Token ids (batch, prompt + generated) int32, the prompt first; rows that stop early are padded with
    <|endoftext|> (the stop token itself is kept). Greedy when beam_size is None or 1."""
    _check(model, task, beam_size, max_new_tokens, length_penalty)
    special, config = model.special, model.config
    mel = check_mel(mel, config, "Whisper.generate")
    if task == "translate" and not special.languages:
        raise ArgumentError("Whisper.generate: this checkpoint is English-only (no language or task tokens) "
                            "and cannot translate")
    language_id(special, language)                                   # an unknown language fails here
    P = len(special.prompt(special.sot if special.languages else None, task))
    room = config.max_target_positions - P
    n = min(DEFAULT_SAMPLE_LEN, room) if max_new_tokens is None else max_new_tokens
    if n > room:
        raise DomainError(f"Whisper.generate: prompt ({P}) + max_new_tokens ({n}) is more than "
                          f"max_target_positions ({config.max_target_positions})")
    K = beam_size or 1
    B = mel.shape[0]
    runner = _Runner(model, mel, K)
    prompts, logits, langs = _prompt_logits(runner, special, language, task, K)
    never = special.never(config.vocab_size)
    begin = list(special.begin_suppress)
    if K == 1:
        new = _greedy(runner, logits, n, special.eot, never, begin)
    else:
        new = _beam(runner, logits, n, special.eot, never, begin, B, K, length_penalty)
    out = np.concatenate([prompts[::K], new], 1).astype(np.int32)
    return (slope.tensor(out), langs) if return_language else slope.tensor(out)


def _suppress(logits, never, begin, first):
    logits = logits.copy()
    logits[:, never] = -np.inf
    if first and begin:
        logits[:, begin] = -np.inf
    return logits


def _greedy(runner, logits, n, eot, never, begin):
    rows = runner.rows
    done = np.zeros(rows, bool)
    out = []
    for t in range(n):
        nxt = _suppress(logits, never, begin, t == 0).argmax(-1)
        nxt = np.where(done, eot, nxt)
        out.append(nxt)
        done |= nxt == eot
        if done.all() or t == n - 1:
            break
        logits = runner.feed(nxt)
    return np.stack(out, 1) if out else np.zeros((rows, 0), np.int64)


def _top(row, k):
    """The indices of the k largest entries, largest first (ties: lower index first), without sorting the
    whole vocabulary."""
    k = min(k, row.shape[0])
    idx = np.argpartition(-row, k - 1)[:k]
    return idx[np.lexsort((idx, -row[idx]))]


def _score(logprob, length, length_penalty):
    penalty = length if length_penalty is None else ((5 + length) / 6) ** length_penalty
    return logprob / penalty


def _beam(runner, logits, n, eot, never, begin, B, K, length_penalty):
    seqs = [[] for _ in range(B * K)]
    sums = np.zeros(B * K)
    finished = [{} for _ in range(B)]
    for t in range(n):
        logp = _log_softmax(_suppress(logits, never, begin, t == 0))
        parent = np.arange(B * K)
        tokens = np.full(B * K, eot)
        new_seqs, new_sums = list(seqs), sums.copy()
        for b in range(B):
            if len(finished[b]) >= K:
                continue
            cands = {}
            for r in range(b * K, (b + 1) * K):
                top = _top(logp[r], K + 1)
                for tok in top:
                    if np.isfinite(logp[r, tok]):
                        cands.setdefault(tuple(seqs[r]) + (int(tok),), (sums[r] + logp[r, tok], r))
            kept = 0
            for seq, (lp, r) in sorted(cands.items(), key=lambda kv: -kv[1][0]):
                if seq[-1] == eot:
                    if len(finished[b]) < K:
                        finished[b][seq] = lp
                else:
                    row = b * K + kept
                    new_seqs[row], new_sums[row], parent[row], tokens[row] = list(seq), lp, r, seq[-1]
                    kept += 1
                    if kept == K:
                        break
        seqs, sums = new_seqs, new_sums
        if all(len(f) >= K for f in finished) or t == n - 1:
            break
        logits = runner.feed(tokens, parent)
    best = []
    for b in range(B):
        pool = dict(finished[b])
        if len(pool) < K:                                            # out of room: the live beams count too
            for r in range(b * K, (b + 1) * K):
                if seqs[r]:
                    pool.setdefault(tuple(seqs[r]), sums[r])
        if not pool:
            best.append(())
            continue
        best.append(max(pool, key=lambda s: _score(pool[s], max(1, len(s) - (s[-1] == eot)), length_penalty)))
    L = max((len(s) for s in best), default=0)
    return np.array([list(s) + [eot] * (L - len(s)) for s in best], np.int64).reshape(B, L)
