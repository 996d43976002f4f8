"""Whisper's audio front end: WAV loading, resampling to 16 kHz, pad_or_trim, log-mel spectrogram.

The log-mel spectrogram is the reference Whisper definition (openai/whisper audio.py):

    STFT, n_fft 400, hop 160, periodic Hann window, centre frames (reflect padding of n_fft//2 on both
    sides), the last frame dropped -> len(audio)//160 frames; power |X|^2; Slaney-normalised mel
    filterbank (librosa's mel(sr=16000, n_fft=400, htk=False, norm="slaney"), computed here);
    log10(max(x, 1e-10)); clamp to max - 8; (x + 4) / 4.

The STFT runs in slope as a DFT by matmul: frames (F, 400) @ a windowed cos/sin matrix (400, 400). IREE
3.13 rejects stablehlo.fft for lengths that are not powers of two ("failed to legalize operation
'stablehlo.fft'"), and n_fft is 400; docs/whisper.md has the measurement. The frames are built without a
gather: the padded signal is cut into blocks of one hop (160) and frame f is blocks f, f+1 and the first
80 samples of block f+2.

WAV reading uses Python's `wave` module for integer PCM and its own RIFF chunk parser for what `wave`
refuses (IEEE float, WAVE_FORMAT_EXTENSIBLE). Resampling uses `soxr` when installed (`pip install
slope[audio]`) and otherwise a windowed-sinc polyphase resampler in NumPy (`resample(..., method="numpy")`;
its accuracy is in docs/whisper.md).
"""
from __future__ import annotations

import functools
import math
import os
import struct
import wave

import numpy as np

from slope import ops
from slope.core.tensor import Tensor, tensor
from slope.errors import ArgumentError, DTypeError, ShapeError
from slope.transforms.jit import jit

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_LENGTH = 30
N_SAMPLES = CHUNK_LENGTH * SAMPLE_RATE  # 480000 samples in a 30 s chunk
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 frames in a mel spectrogram of a chunk
N_FREQ = N_FFT // 2 + 1  # 201 rfft bins


# ---------------------------------------------------------------------------------------------- WAV


_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def _pcm_to_float(raw: bytes, width: int) -> np.ndarray:
    """Little-endian integer PCM of `width` bytes a sample -> float32 in [-1, 1)."""
    if width == 1:  # 8-bit WAV is unsigned
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return (v.astype(np.float64) / float(1 << 23)).astype(np.float32)
    if width == 4:
        return (np.frombuffer(raw, "<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    raise ArgumentError(f"read_wav: {8 * width}-bit integer PCM is not supported (8, 16, 24 and 32-bit are)")


def _read_riff(path):
    """(format code, channels, rate, bits, data bytes) from the RIFF chunks of a WAV file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ArgumentError(f"read_wav: {os.fspath(path)!r} is not a RIFF/WAVE file")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            if len(body) < 16:
                raise ArgumentError(f"read_wav: {os.fspath(path)!r} has a truncated fmt chunk")
            code, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if code == _EXTENSIBLE and len(body) >= 26:
                code = struct.unpack("<H", body[24:26])[0]  # the SubFormat GUID starts with the format code
            fmt = (code, channels, rate, bits)
        elif cid == b"data":
            payload = body
        pos += 8 + size + (size & 1)  # chunks are padded to an even size
    if fmt is None or payload is None:
        raise ArgumentError(f"read_wav: {os.fspath(path)!r} has no {'fmt' if fmt is None else 'data'} chunk")
    return (*fmt, payload)


def read_wav(path):
    """Read a WAV file: (samples float32 of shape (frames, channels), sample rate).

    Integer PCM (8, 16, 24, 32-bit) is scaled to [-1, 1); IEEE float (32 or 64-bit) is returned as is."""
    try:
        with wave.open(os.fspath(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
        samples = _pcm_to_float(raw, width)
    except (wave.Error, EOFError):  # IEEE float and WAVE_FORMAT_EXTENSIBLE: the RIFF chunks by hand
        code, channels, rate, bits, raw = _read_riff(path)
        if code == _FLOAT and bits in (32, 64):
            samples = np.frombuffer(raw[:len(raw) - len(raw) % (bits // 8)], "<f4" if bits == 32 else "<f8")
            samples = samples.astype(np.float32)
        elif code == _PCM:
            samples = _pcm_to_float(raw[:len(raw) - len(raw) % (bits // 8)], bits // 8)
        else:
            raise ArgumentError(f"read_wav: WAV format code {code} ({bits}-bit) is not supported "
                                "(integer PCM and 32/64-bit IEEE float are)") from None
    if channels < 1:
        raise ArgumentError(f"read_wav: {os.fspath(path)!r} declares {channels} channels")
    samples = samples[:len(samples) - len(samples) % channels]
    return samples.reshape(-1, channels), rate


def load_audio(path, sr: int = SAMPLE_RATE, method: str = "auto") -> np.ndarray:
    """A WAV file as float32 mono samples at `sr` Hz: channels averaged, resampled with `resample`."""
    samples, rate = read_wav(path)
    mono = samples.mean(axis=1, dtype=np.float64).astype(np.float32)
    return resample(mono, rate, sr, method=method)


# ----------------------------------------------------------------------------------------- resample


def _soxr():
    try:
        import soxr
    except ImportError:
        return None
    return soxr


def resample(audio, orig_sr: int, target_sr: int = SAMPLE_RATE, method: str = "auto") -> np.ndarray:
    """Resample 1-d float audio from `orig_sr` to `target_sr` Hz (float32 out).

    method "soxr" uses soxr (the `audio` extra: `pip install slope[audio]`), "numpy" the windowed-sinc
    polyphase resampler below, "auto" soxr when installed and numpy otherwise."""
    if method not in ("auto", "soxr", "numpy"):
        raise ArgumentError(f"resample: method must be 'auto', 'soxr' or 'numpy', got {method!r}")
    for name, r in (("orig_sr", orig_sr), ("target_sr", target_sr)):
        if not isinstance(r, (int, np.integer)) or isinstance(r, bool) or r <= 0:
            raise ArgumentError(f"resample: {name} must be a positive int, got {r!r}")
    x = np.asarray(audio)
    if x.ndim != 1:
        raise ShapeError(f"resample: expected 1-d (mono) audio, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise DTypeError(f"resample: expected float samples, got {x.dtype}")
    if orig_sr == target_sr:
        return x.astype(np.float32)
    sox = _soxr() if method in ("auto", "soxr") else None
    if method == "soxr" and sox is None:
        raise ImportError("resample: method='soxr' needs the soxr package: pip install 'slope[audio]' (or soxr)")
    if sox is not None:
        return np.asarray(sox.resample(x.astype(np.float32), int(orig_sr), int(target_sr), quality="HQ"), np.float32)
    return _resample_numpy(x.astype(np.float64), int(orig_sr), int(target_sr)).astype(np.float32)


_ZEROS, _ROLLOFF, _BETA = 64, 0.96, 9.0  # sinc zero crossings each side, passband edge, Kaiser beta


def _sinc_kernel(tau, fc, half):
    """Kaiser-windowed ideal low-pass (cutoff fc cycles per input sample) at offsets tau (input samples)."""
    u = np.clip(tau / half, -1.0, 1.0)
    return 2 * fc * np.sinc(2 * fc * tau) * np.i0(_BETA * np.sqrt(1.0 - u * u)) / np.i0(_BETA)


def _resample_numpy(x, orig_sr, target_sr):
    """y[n] = sum_k x[k] h(n * orig/target - k): a windowed sinc at the rational ratio, evaluated per phase."""
    g = math.gcd(orig_sr, target_sr)
    up, down = target_sr // g, orig_sr // g
    fc = 0.5 * min(1.0, up / down) * _ROLLOFF
    half = _ZEROS / (2 * fc)  # window half width in input samples
    k_lo = int(math.ceil(half))
    offsets = np.arange(-k_lo, k_lo + 1)
    n_out = int(math.ceil(len(x) * up / down))
    xp = np.concatenate([np.zeros(k_lo + 1), x, np.zeros(k_lo + 2)])
    table = None
    if up <= 4096:  # one row of taps per phase (n * down mod up)
        frac = (np.arange(up) * down % up) / up
        table = _sinc_kernel(frac[:, None] - offsets[None, :], fc, half)
    out = np.empty(n_out)
    for start in range(0, n_out, 8192):
        n = np.arange(start, min(n_out, start + 8192))
        base = n * down // up
        taps = (table[n % up] if table is not None
                else _sinc_kernel(((n * down % up) / up)[:, None] - offsets[None, :], fc, half))
        out[n] = np.einsum("nk,nk->n", taps, xp[base[:, None] + offsets[None, :] + k_lo + 1])
    return out


# -------------------------------------------------------------------------------------- pad_or_trim


def pad_or_trim(audio, length: int = N_SAMPLES, *, axis: int = -1):
    """Zero-pad or trim `audio` along `axis` to `length` samples (NumPy array in, NumPy out; Tensor in,
    Tensor out), as Whisper does to make a 30 s chunk."""
    if not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 0:
        raise ArgumentError(f"pad_or_trim: length must be a non-negative int, got {length!r}")
    if isinstance(audio, Tensor):
        nd = audio.ndim
        ax = axis % nd if -nd <= axis < nd else None
        if ax is None:
            raise ShapeError(f"pad_or_trim: axis {axis} out of range for a {nd}-d tensor")
        n = audio.shape[ax]
        if n > length:
            return ops.narrow(audio, ax, 0, length)
        if n < length:
            pad = [0] * (2 * (nd - ax))
            pad[-1] = length - n
            return ops.pad(audio, tuple(pad))
        return audio
    a = np.asarray(audio)
    if not -a.ndim <= axis < a.ndim:
        raise ShapeError(f"pad_or_trim: axis {axis} out of range for a {a.ndim}-d array")
    if a.shape[axis] > length:
        return np.take(a, np.arange(length), axis=axis)
    if a.shape[axis] < length:
        widths = [(0, 0)] * a.ndim
        widths[axis] = (0, length - a.shape[axis])
        return np.pad(a, widths)
    return a


# ---------------------------------------------------------------------------------- mel spectrogram


def _hz_to_mel(f):
    """Slaney's mel scale (librosa htk=False): linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep, f / f_sp)


def _mel_to_hz(m):
    m = np.asarray(m, np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@functools.lru_cache(maxsize=None)
def _mel_filters64(n_mels, sr, n_fft):
    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]  # Slaney: each triangle has unit area in Hz
    weights.setflags(write=False)
    return weights


def mel_filters(n_mels: int = 80, *, sr: int = SAMPLE_RATE, n_fft: int = N_FFT, dtype=np.float32) -> np.ndarray:
    """The Slaney-normalised mel filterbank (n_mels, 1 + n_fft//2), equal to librosa's
    `filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, htk=False, norm="slaney")` (which Whisper ships)."""
    if not isinstance(n_mels, (int, np.integer)) or isinstance(n_mels, bool) or n_mels < 1:
        raise ArgumentError(f"mel_filters: n_mels must be a positive int (Whisper uses 80 or 128), got {n_mels!r}")
    return _mel_filters64(int(n_mels), int(sr), int(n_fft)).astype(dtype)


@functools.lru_cache(maxsize=None)
def _dft_matrix():
    """(400, 400) float32: Hann-windowed cos of bins 0..200 then -sin of bins 1..199 (the sin of bins 0
    and 200 is zero), so frames @ W holds the real and imaginary parts of the windowed rfft."""
    n = np.arange(N_FFT)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)  # periodic Hann (torch.hann_window's default)
    angle = 2 * np.pi * np.outer(n, np.arange(N_FREQ)) / N_FFT
    w = np.concatenate([np.cos(angle), -np.sin(angle[:, 1:N_FREQ - 1])], axis=1) * window[:, None]
    return tensor(w.astype(np.float32))


def _audio_tensor(audio, op):
    if isinstance(audio, (str, os.PathLike)):
        audio = load_audio(audio)
    if isinstance(audio, Tensor):
        if audio.dtype.name != "float32":
            raise DTypeError(f"{op}: audio must be float32 samples in [-1, 1], got a {audio.dtype.name} tensor")
        x = audio
    else:
        a = np.asarray(audio)
        if not np.issubdtype(a.dtype, np.floating):
            raise DTypeError(f"{op}: audio must be float samples in [-1, 1], got {a.dtype} "
                             "(integer PCM: divide by 32768 for 16-bit, or use load_audio)")
        x = tensor(a.astype(np.float32))
    if x.ndim != 1:
        raise ShapeError(f"{op}: expected 1-d mono audio of shape (samples,), got shape {tuple(x.shape)} "
                         "(mix channels down first: audio.mean(axis=-1), as load_audio does)")
    if x.shape[0] < HOP_LENGTH:
        raise ShapeError(f"{op}: audio of {x.shape[0]} samples is shorter than one hop ({HOP_LENGTH} samples) "
                         "and has no frames")
    return x


def _stft_power(x, w):
    """(F, 201) power spectrum of the centred, reflect-padded Hann STFT, last frame dropped."""
    n = x.shape[0]
    frames_n = n // HOP_LENGTH
    half = N_FFT // 2
    if n > half:
        p = ops.pad(x, (half, half), mode="reflect")
    else:  # shorter than the padding: NumPy's repeated reflection, by static indices
        p = x[tensor(np.pad(np.arange(n), (half, half), mode="reflect").astype(np.int64))]
    blocks = ops.reshape(p[:HOP_LENGTH * (frames_n + 2)], (frames_n + 2, HOP_LENGTH))
    frames = ops.cat([blocks[:frames_n], blocks[1:frames_n + 1], blocks[2:, :N_FFT - 2 * HOP_LENGTH]], dim=1)
    spec = ops.matmul(frames, w)
    re, im = spec[:, :N_FREQ], spec[:, N_FREQ:]
    return re * re + ops.pad(im * im, (1, 1))


@jit
def _power_jit(x, w):
    return _stft_power(x, w).T


@jit
def _log_mel_jit(x, w, filters):
    mel = ops.matmul(filters, _stft_power(x, w).T)  # (n_mels, F)
    log_spec = ops.log10(ops.maximum(mel, 1e-10))
    log_spec = ops.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


@functools.lru_cache(maxsize=None)
def _filters_tensor(n_mels):
    return tensor(mel_filters(n_mels))


def stft_power(audio) -> Tensor:
    """|STFT|^2 of Whisper's front end: (201, len(audio)//160) float32."""
    return _power_jit(_audio_tensor(audio, "stft_power"), _dft_matrix())


def log_mel_spectrogram(audio, n_mels: int = 80) -> Tensor:
    """Whisper's log-mel spectrogram of float32 16 kHz mono samples (a path, NumPy array or Tensor):
    (n_mels, len(audio)//160) float32 Tensor. No padding to 30 s here: use pad_or_trim first."""
    x = _audio_tensor(audio, "log_mel_spectrogram")
    if not isinstance(n_mels, (int, np.integer)) or isinstance(n_mels, bool) or n_mels < 1:
        raise ArgumentError(f"log_mel_spectrogram: n_mels must be a positive int (80 or 128), got {n_mels!r}")
    return _log_mel_jit(x, _dft_matrix(), _filters_tensor(int(n_mels)))
