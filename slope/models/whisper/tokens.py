"""Whisper's special tokens and text decoding: ids from a checkpoint's generation_config.json, tokenizer.json
(read with the `tokenizers` package) and config.json, in that order of preference.

The decoder prompt is `<|startoftranscript|> <|lang|> <|transcribe|> or <|translate|> <|notimestamps|>`;
English-only checkpoints (no language tokens) leave out the language and task.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from slope.errors import ArgumentError
from slope.models.whisper.config import WhisperConfig

_LANG = re.compile(r"^<\|([a-z]{2,3}|haw|yue)\|>$")
_NOT_LANG = {"<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
             "<|startofprev|>", "<|nocaptions|>", "<|nospeech|>", "<|notimestamps|>"}


@dataclass(frozen=True)
class SpecialTokens:
    """The ids decoding needs. languages maps a code ("en") to its token id."""
    sot: int
    eot: int
    languages: dict = field(default_factory=dict)
    transcribe: int | None = None
    translate: int | None = None
    no_timestamps: int | None = None
    suppress: tuple = ()
    begin_suppress: tuple = ()
    control: tuple = ()          # other special ids that never belong in the text (startofprev, startoflm, ...)

    def prompt(self, language: int | None, task: str) -> list:
        """The decoder prompt for a language token id (None: none) and task ("transcribe" | "translate")."""
        out = [self.sot]
        if language is not None:
            out.append(language)
        task_id = self.transcribe if task == "transcribe" else self.translate
        if self.languages and task_id is not None:
            out.append(task_id)
        if self.no_timestamps is not None:
            out.append(self.no_timestamps)
        return out

    def never(self, vocab_size: int) -> list:
        """Ids suppressed at every step: the checkpoint's suppress_tokens, the prompt's control tokens and the
        timestamp tokens (every id after <|notimestamps|>, as in every Whisper vocabulary; the prompt turns
        timestamps off)."""
        ids = set(self.suppress) | set(self.control) | set(self.languages.values()) | {self.sot}
        ids |= {t for t in (self.transcribe, self.translate, self.no_timestamps) if t is not None}
        if self.no_timestamps is not None:
            ids |= set(range(self.no_timestamps + 1, vocab_size))
        return sorted(ids)


def load_tokenizer(directory):
    """The checkpoint's tokenizer.json as a `tokenizers.Tokenizer`, or None when the file or package is missing."""
    path = os.path.join(os.fspath(directory), "tokenizer.json")
    if not os.path.exists(path):
        return None
    try:
        import tokenizers
    except ImportError:
        return None
    return tokenizers.Tokenizer.from_file(path)


def _read_json(directory, name):
    path = os.path.join(os.fspath(directory), name)
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def special_tokens(config: WhisperConfig, directory=None, tokenizer=None) -> SpecialTokens:
    """SpecialTokens of a checkpoint directory (generation_config.json, tokenizer.json) with config.json's ids
    as the fallback."""
    gen = _read_json(directory, "generation_config.json") if directory is not None else {}
    added = {}
    if tokenizer is not None:
        added = {t.content: i for i, t in tokenizer.get_added_tokens_decoder().items()}

    def pick(gen_key, content, default=None):
        v = gen.get(gen_key) if gen_key else None
        if isinstance(v, list):
            v = v[0] if v else None
        if v is None:
            v = added.get(content, default)
        return v

    sot = pick("decoder_start_token_id", "<|startoftranscript|>", config.decoder_start_token_id)
    eot = pick("eos_token_id", "<|endoftext|>", config.eos_token_id)
    if "lang_to_id" in gen:
        languages = {k.strip("<|>"): int(v) for k, v in gen["lang_to_id"].items()}
    else:
        languages = {m.group(1): i for c, i in added.items() if c not in _NOT_LANG and (m := _LANG.match(c))}
    tasks = gen.get("task_to_id", {})
    transcribe = tasks.get("transcribe", added.get("<|transcribe|>"))
    translate = tasks.get("translate", added.get("<|translate|>"))
    no_ts = pick("no_timestamps_token_id", "<|notimestamps|>")
    suppress = gen.get("suppress_tokens", config.suppress_tokens) or ()
    begin = gen.get("begin_suppress_tokens", config.begin_suppress_tokens) or ()
    control = tuple(added[c] for c in ("<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|nospeech|>")
                    if c in added)
    # ids outside the vocabulary cannot be emitted: the suppress lists drop them (HF's default config lists
    # 50256 and 220 even for tiny test vocabularies); the prompt's own ids must exist
    suppress = [i for i in suppress if 0 <= int(i) < config.vocab_size]
    begin = [i for i in begin if 0 <= int(i) < config.vocab_size]
    ids = [sot, eot, transcribe, translate, no_ts, *languages.values(), *control]
    bad = [i for i in ids if i is not None and not (0 <= int(i) < config.vocab_size)]
    if bad:
        raise ArgumentError(f"Whisper: special token ids {bad} lie outside the vocabulary (vocab_size "
                            f"{config.vocab_size})")
    return SpecialTokens(int(sot), int(eot), languages, transcribe, translate, no_ts,
                         tuple(int(i) for i in suppress), tuple(int(i) for i in begin), control)
