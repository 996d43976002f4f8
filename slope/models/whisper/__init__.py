"""Whisper (Hugging Face's `WhisperForConditionalGeneration`) on slope: the log-mel front end, the
encoder-decoder, greedy and beam decoding with a KV cache, and transcription of WAV files.

    from slope.models.whisper import Whisper, log_mel_spectrogram
    model = Whisper.from_pretrained("whisper-tiny/")   # config.json, model.safetensors, tokenizer.json, ...
    text = model.transcribe("speech.wav")
    enc = model.encode(mel)                            # (batch, 1500, d_model)
    logits = model(mel, tokens)                        # (batch, len, vocab)
    ids = model.generate(mel, max_new_tokens=50)       # prompt first

`Whisper` is a pytree (its leaves are the parameter tensors, its config the static part), so
`slope.jit(f)(model, ...)` takes it directly.
"""
from __future__ import annotations

import os

import numpy as np

import slope
from slope.errors import ArgumentError, DTypeError, ShapeError
from slope.models.whisper.audio import (  # noqa: F401
    CHUNK_LENGTH, HOP_LENGTH, N_FFT, N_FRAMES, N_SAMPLES, SAMPLE_RATE,
    load_audio, log_mel_spectrogram, mel_filters, pad_or_trim, read_wav, resample, stft_power,
)
from slope.models.whisper.config import WhisperConfig, sinusoids, sinusoids_numpy  # noqa: F401,E402
from slope.models.whisper.weights import (  # noqa: F401,E402
    hf_to_params, load_whisper, param_shapes, read_checkpoint, read_safetensors, write_safetensors,
)
from slope.models.whisper import decoding as _decoding  # noqa: E402
from slope.models.whisper.decoding import compiled_programs  # noqa: F401,E402
from slope.models.whisper.model import check_mel, check_tokens, encoder, forward  # noqa: E402
from slope.models.whisper.tokens import SpecialTokens, load_tokenizer, special_tokens  # noqa: F401,E402

__all__ = ["Whisper", "WhisperConfig", "log_mel_spectrogram", "load_audio", "pad_or_trim", "compiled_programs"]

_ENCODE = slope.jit(lambda model, mel: encoder(model.params, model.config, mel))
_FORWARD = slope.jit(lambda model, mel, tokens: forward(model.params, model.config, mel, tokens))


class Whisper:
    """A config, a params dict named as in Hugging Face's checkpoints, and (outside the pytree) the special
    tokens and the tokenizer used for decoding."""

    def __init__(self, config: WhisperConfig, params: dict, special: SpecialTokens | None = None, tokenizer=None):
        self.config = config
        self.params = params
        self._special = special
        self.tokenizer = tokenizer

    @property
    def special(self) -> SpecialTokens:
        """The special token ids decoding uses (from config.json alone when none were given)."""
        if self._special is None:
            self._special = special_tokens(self.config)
        return self._special

    @classmethod
    def from_pretrained(cls, path) -> "Whisper":
        """Read config.json, model.safetensors (or shards), generation_config.json and tokenizer.json (the
        last two optional) of a Hugging Face Whisper checkpoint directory."""
        path = os.fspath(path)
        config, params = load_whisper(path)
        tok = load_tokenizer(path)
        return cls(config, params, special_tokens(config, path, tok), tok)

    def encode(self, mel):
        """Encoder output (batch, max_source_positions, d_model) of log-mel input (batch, n_mels, frames)."""
        return _ENCODE(self, check_mel(mel, self.config))

    def __call__(self, mel, tokens):
        """Decoder logits (batch, len, vocab) float32 of tokens (batch, len) given log-mel input."""
        mel = check_mel(mel, self.config, "Whisper")
        tokens = check_tokens(tokens, self.config, "Whisper")
        if mel.shape[0] != tokens.shape[0]:
            raise ShapeError(f"Whisper: mel has batch {mel.shape[0]} but tokens have batch {tokens.shape[0]}")
        return _FORWARD(self, mel, tokens)

    def generate(self, mel, max_new_tokens=None, language=None, task="transcribe", beam_size=None,
                 length_penalty=None):
        """Token ids (batch, prompt + new) int32, prompt first (see slope.models.whisper.decoding)."""
        return _decoding.generate(self, mel, max_new_tokens, language, task, beam_size, length_penalty)

    def detect_language(self, mel) -> list:
        """The most likely language code of each audio in the batch (from the first decoder step)."""
        if not self.special.languages:
            raise ArgumentError("Whisper.detect_language: this checkpoint has no language tokens")
        _, langs = _decoding.generate(self, mel, 0, return_language=True)
        names = {v: k for k, v in self.special.languages.items()}
        return [names[int(i)] for i in langs]

    @property
    def window_samples(self) -> int:
        """Samples of one decoding window: 30 s at 16 kHz (2 * max_source_positions mel frames)."""
        return self.config.n_audio_frames * HOP_LENGTH

    def transcribe(self, audio, language=None, task="transcribe", beam_size=None, length_penalty=None,
                   max_new_tokens=None) -> str:
        """The text of a WAV path or float samples at 16 kHz: consecutive 30 s windows, each decoded from its
        own log-mel spectrogram, their texts joined by a space. Empty audio gives ""."""
        if self.tokenizer is None:
            raise ArgumentError("Whisper.transcribe: needs the checkpoint's tokenizer.json and the `tokenizers` "
                                "package (pip install tokenizers)")
        samples = _samples(audio)
        texts = []
        n = self.window_samples
        for i in range(0, len(samples), n):
            mel = log_mel_spectrogram(pad_or_trim(samples[i:i + n], n), self.config.num_mel_bins)
            ids = np.asarray(self.generate(mel[None], max_new_tokens, language, task, beam_size, length_penalty))[0]
            ids = [int(t) for t in ids if t != self.special.eot]
            texts.append(self.tokenizer.decode(ids, skip_special_tokens=True).strip())
        return " ".join(t for t in texts if t)

    def num_parameters(self) -> int:
        return sum(int(np.prod(s)) for s in param_shapes(self.config).values())

    def __repr__(self):
        c = self.config
        return (f"Whisper(d_model={c.d_model}, layers={c.encoder_layers}+{c.decoder_layers}, "
                f"heads={c.encoder_attention_heads}, mels={c.num_mel_bins}, vocab={c.vocab_size}, "
                f"params={self.num_parameters():,})")


def _samples(audio) -> np.ndarray:
    if isinstance(audio, (str, os.PathLike)):
        return load_audio(audio)
    a = np.asarray(audio)
    if a.dtype.kind != "f":
        raise DTypeError(f"Whisper.transcribe: audio must be float samples at 16 kHz or a WAV path, got {a.dtype}")
    if a.ndim != 1:
        raise ShapeError(f"Whisper.transcribe: audio must be 1-d mono samples, got shape {a.shape}")
    return a.astype(np.float32)


def _unflatten(config, children):
    m = Whisper.__new__(Whisper)
    m.config, m.params = config, children[0]
    m._special, m.tokenizer = None, None
    return m


slope.register_pytree_node(Whisper, lambda m: ([m.params], m.config), _unflatten)
