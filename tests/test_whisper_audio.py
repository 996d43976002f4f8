"""Whisper's audio front end (slope/models/whisper/audio.py) against an independent float64 NumPy reference,
transformers' WhisperFeatureExtractor and soxr when installed; WAV round trips; resampling; bad inputs."""
from __future__ import annotations

import math
import struct
import wave

import numpy as np
import pytest

import slope
from slope.models import whisper as W
from slope.models.whisper import audio as A

TOL = 1e-4  # max abs difference of the log-mel output (whose values are about -1.5 .. 2)


# ------------------------------------------------------------------------------- the reference


def _ref_mel_filters(n_mels, sr=16000, n_fft=400):
    """Slaney mel filterbank, written from librosa's definition with explicit loops."""
    def hz_to_mel(f):
        return f * 3 / 200 if f < 1000 else 15 + 27 * math.log(f / 1000) / math.log(6.4)

    def mel_to_hz(m):
        return m * 200 / 3 if m < 15 else 1000 * math.exp((m - 15) * math.log(6.4) / 27)

    top = hz_to_mel(sr / 2)
    edges = [mel_to_hz(top * i / (n_mels + 1)) for i in range(n_mels + 2)]
    fb = np.zeros((n_mels, n_fft // 2 + 1))
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        for k in range(n_fft // 2 + 1):
            f = k * sr / n_fft
            if lo < f < hi:
                fb[m, k] = (f - lo) / (mid - lo) if f <= mid else (hi - f) / (hi - mid)
        fb[m] *= 2 / (hi - lo)
    return fb


_FILTERS = {n: _ref_mel_filters(n) for n in (80, 128)}


def ref_log_mel(x, n_mels=80):
    """float64: centred reflect-padded periodic-Hann STFT (n_fft 400, hop 160), last frame dropped, |X|^2,
    Slaney mel, log10(max(., 1e-10)), clamp at max - 8, (x + 4) / 4."""
    x = np.asarray(x, np.float64)
    p = np.pad(x, 200, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(p, 400)[::160][:-1]
    window = np.sin(np.pi * np.arange(400) / 400) ** 2  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    mel = _FILTERS[n_mels] @ power.T
    log = np.log10(np.maximum(mel, 1e-10))
    log = np.maximum(log, log.max() - 8)
    return (log + 4) / 4


def _signals():
    rng = np.random.default_rng(0)
    t = np.arange(A.N_SAMPLES) / 16000
    return {
        "sines": 0.4 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3520.5 * t),
        "chirp": 0.3 * np.sin(2 * np.pi * (50 * t + 130 * t ** 2)),
        "noise": 0.2 * rng.standard_normal(A.N_SAMPLES),
        "loud": np.clip(rng.standard_normal(A.N_SAMPLES), -1, 1),
        "quiet": 1e-4 * rng.standard_normal(A.N_SAMPLES),
        "silence": np.zeros(A.N_SAMPLES),
        "speechlike": 0.3 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t)) * (t % 1 < 0.6),
    }


# --------------------------------------------------------------------------------- log-mel


def test_mel_filters_match_independent_reference():
    for n in (80, 128):
        assert np.abs(W.mel_filters(n, dtype=np.float64) - _FILTERS[n]).max() < 1e-12
        assert W.mel_filters(n).dtype == np.float32 and W.mel_filters(n).shape == (n, 201)


@pytest.mark.parametrize("n_mels", [80, 128])
def test_log_mel_30s_signals(n_mels):
    for name, x in _signals().items():
        x = x.astype(np.float32)
        out = W.log_mel_spectrogram(x, n_mels)
        assert isinstance(out, slope.Tensor) and out.dtype == slope.float32
        assert tuple(out.shape) == (n_mels, A.N_FRAMES), name
        err = np.abs(out.numpy() - ref_log_mel(x, n_mels)).max()
        assert err <= TOL, f"{name}: max abs diff {err}"


@pytest.mark.parametrize("n", [160, 161, 199, 200, 201, 350, 400, 401, 1234, 16000])
def test_log_mel_short_and_odd_lengths(n):
    """Clips shorter than n_fft (and than the reflect padding, where NumPy's repeated reflection applies)."""
    x = (0.3 * np.random.default_rng(n).standard_normal(n)).astype(np.float32)
    out = W.log_mel_spectrogram(x).numpy()
    assert out.shape == (80, n // 160)
    assert np.abs(out - ref_log_mel(x)).max() <= TOL


def test_stft_power_is_the_hann_rfft():
    x = (0.5 * np.random.default_rng(3).standard_normal(4000)).astype(np.float32)
    p = np.pad(x.astype(np.float64), 200, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(p, 400)[::160][:-1]
    want = np.abs(np.fft.rfft(frames * np.hanning(401)[:400], axis=-1)).T ** 2
    got = W.stft_power(x).numpy()
    assert got.shape == (201, 25)
    assert np.abs(got - want).max() <= 1e-5 * want.max()


def test_log_mel_accepts_tensor_float64_numpy_and_path(tmp_path):
    x = (0.1 * np.random.default_rng(4).standard_normal(3200))
    want = ref_log_mel(x.astype(np.float32))
    for a in (x, x.astype(np.float32), slope.tensor(x.astype(np.float32))):
        assert np.abs(W.log_mel_spectrogram(a).numpy() - want).max() <= TOL
    path = tmp_path / "f.wav"
    _write_float_wav(path, x.astype(np.float32)[:, None], 16000, bits=32)
    assert np.abs(W.log_mel_spectrogram(str(path)).numpy() - want).max() <= TOL


def test_log_mel_matches_transformers_feature_extractor():
    tr = pytest.importorskip("transformers")
    rng = np.random.default_rng(5)
    x = (0.1 * rng.standard_normal(16000 * 7)).astype(np.float32)
    for n_mels in (80, 128):
        fe = tr.WhisperFeatureExtractor(feature_size=n_mels)
        assert np.abs(fe.mel_filters.T - W.mel_filters(n_mels, dtype=np.float64)).max() < 1e-12
        want = fe(x, sampling_rate=16000, return_tensors="np")["input_features"][0]  # padded to 30 s
        got = W.log_mel_spectrogram(W.pad_or_trim(x), n_mels).numpy()
        assert np.abs(got - want).max() <= TOL


# ------------------------------------------------------------------------------- pad_or_trim


def test_pad_or_trim():
    x = np.arange(10, dtype=np.float32)
    assert np.array_equal(W.pad_or_trim(x, 4), x[:4])
    assert np.array_equal(W.pad_or_trim(x, 13), np.r_[x, 0, 0, 0])
    assert W.pad_or_trim(x).shape == (A.N_SAMPLES,)
    m = np.ones((2, 5), np.float32)
    assert W.pad_or_trim(m, 3, axis=0).shape == (3, 5)
    t = slope.tensor(x)
    assert np.array_equal(W.pad_or_trim(t, 4).numpy(), x[:4])
    assert np.array_equal(W.pad_or_trim(t, 13).numpy(), np.r_[x, 0, 0, 0])
    assert np.array_equal(W.pad_or_trim(slope.tensor(m), 7).numpy(), np.pad(m, ((0, 0), (0, 2))))
    with pytest.raises(slope.ArgumentError, match="pad_or_trim: length"):
        W.pad_or_trim(x, -1)


# ------------------------------------------------------------------------------------ WAV files


def _write_pcm_wav(path, samples, rate, width):
    """samples: float in [-1, 1], shape (frames, channels) -> integer PCM written with `wave`."""
    if width == 1:
        ints = np.clip(np.round(samples * 128 + 128), 0, 255).astype(np.uint8)
        raw = ints.tobytes()
    else:
        scale = float(1 << (8 * width - 1))
        ints = np.clip(np.round(samples * scale), -scale, scale - 1).astype(np.int64)
        raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in ints.ravel()) if width == 3 \
            else ints.astype({2: "<i2", 4: "<i4"}[width]).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return ints


def _write_float_wav(path, samples, rate, bits=32, extensible=False):
    data = samples.astype("<f4" if bits == 32 else "<f8").tobytes()
    ch = samples.shape[1]
    block = ch * bits // 8
    if extensible:
        guid = struct.pack("<H", 3) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, ch, rate, rate * block, block, bits, 22, bits, 0) + guid
    else:
        fmt = struct.pack("<HHIIHH", 3, ch, rate, rate * block, block, bits)
    junk = b"JUNK" + struct.pack("<I", 3) + b"abc\x00"  # an odd-sized chunk: padded to even
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + junk + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 2])
def test_pcm_wav_round_trip(tmp_path, width, channels):
    rng = np.random.default_rng(width * 10 + channels)
    x = rng.uniform(-0.9, 0.9, (257, channels))
    ints = _write_pcm_wav(tmp_path / "a.wav", x, 22050, width)
    got, rate = W.read_wav(tmp_path / "a.wav")
    assert rate == 22050 and got.dtype == np.float32 and got.shape == (257, channels)
    scale = 128.0 if width == 1 else float(1 << (8 * width - 1))
    want = (ints.astype(np.float64) - (128 if width == 1 else 0)) / scale
    assert np.abs(got - want).max() <= 1e-7
    assert np.abs(got - x).max() <= 1.0 / scale + 6e-8  # quantisation, plus float32 rounding of the result


@pytest.mark.parametrize("bits,extensible", [(32, False), (64, False), (32, True)])
def test_float_wav_round_trip(tmp_path, bits, extensible):
    x = np.random.default_rng(bits).uniform(-1, 1, (300, 2)).astype(np.float32)
    _write_float_wav(tmp_path / "f.wav", x, 44100, bits, extensible)
    got, rate = W.read_wav(tmp_path / "f.wav")
    assert rate == 44100 and np.array_equal(got, x)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_load_audio_mixes_down_and_resamples(tmp_path, rate):
    t = np.arange(rate) / rate  # one second
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 440 * t)
    _write_pcm_wav(tmp_path / "s.wav", np.stack([left, right], 1), rate, 2)
    for method in ("numpy", "auto"):
        y = W.load_audio(tmp_path / "s.wav", method=method)
        assert y.dtype == np.float32 and abs(len(y) - 16000) <= 1
        ts = np.arange(len(y)) / 16000
        mid = slice(200, len(y) - 200)  # away from the edges (zero padding outside the clip)
        assert np.abs(y[mid] - 0.4 * np.sin(2 * np.pi * 440 * ts[mid])).max() <= 2e-3


# ----------------------------------------------------------------------------------- resampling


def _bandlimited(rate, seconds=1.0, top=7000.0):
    t = np.arange(int(rate * seconds)) / rate
    freqs = [f for f in (97.0, 440.0, 1234.5, 3000.0, 5555.0) if f < top] + [top]
    return sum(0.1 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate(freqs)), freqs


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000, 32001])
def test_numpy_resampler_on_bandlimited_signal(rate):
    x, freqs = _bandlimited(rate, top=min(7000.0, 0.4 * rate))
    y = W.resample(x, rate, 16000, method="numpy")
    ts = np.arange(len(y)) / 16000
    want = sum(0.1 * np.sin(2 * np.pi * f * ts + i) for i, f in enumerate(freqs))
    mid = slice(400, len(y) - 400)
    assert np.abs(y[mid] - want[mid]).max() <= 1e-5  # passband error of a unit sine <= 1.5e-5 (docs/whisper.md)


def test_numpy_resampler_agrees_with_soxr():
    pytest.importorskip("soxr")
    for rate in (22050, 44100, 48000, 8000):
        x, _ = _bandlimited(rate, top=min(7000.0, 0.4 * rate))
        a = W.resample(x, rate, 16000, method="numpy")
        b = W.resample(x, rate, 16000, method="soxr")
        assert len(a) == len(b)
        mid = slice(400, len(a) - 400)
        assert np.abs(a[mid] - b[mid]).max() <= 2e-4  # soxr HQ's own passband ripple: ~1e-3 of a unit sine at 7 kHz


def test_resample_identity_and_without_soxr(monkeypatch):
    x = np.linspace(-1, 1, 50)
    assert np.array_equal(W.resample(x, 16000, 16000), x.astype(np.float32))
    monkeypatch.setattr(A, "_soxr", lambda: None)
    with pytest.raises(ImportError, match=r"slope\[audio\]"):
        W.resample(x, 44100, 16000, method="soxr")
    assert W.resample(x, 32000, 16000).shape == (25,)  # auto falls back to numpy


# ---------------------------------------------------------------------------------------- errors


def test_front_end_errors(tmp_path):
    with pytest.raises(slope.ShapeError, match="log_mel_spectrogram: audio of 0 samples"):
        W.log_mel_spectrogram(np.zeros(0, np.float32))
    with pytest.raises(slope.ShapeError, match="shorter than one hop"):
        W.log_mel_spectrogram(np.zeros(100, np.float32))
    with pytest.raises(slope.ShapeError, match="log_mel_spectrogram: expected 1-d mono audio.*mix channels down"):
        W.log_mel_spectrogram(np.zeros((2, 1600), np.float32))
    with pytest.raises(slope.DTypeError, match="log_mel_spectrogram: audio must be float.*int16"):
        W.log_mel_spectrogram(np.zeros(1600, np.int16))
    with pytest.raises(slope.DTypeError, match="log_mel_spectrogram: .*float64 tensor"):
        W.log_mel_spectrogram(slope.zeros(1600, dtype=slope.float64))
    with pytest.raises(slope.ArgumentError, match="log_mel_spectrogram: n_mels"):
        W.log_mel_spectrogram(np.zeros(1600, np.float32), n_mels=0)
    with pytest.raises(slope.ArgumentError, match="resample: method"):
        W.resample(np.zeros(10), 8000, 16000, method="sinc")
    with pytest.raises(slope.ArgumentError, match="resample: orig_sr"):
        W.resample(np.zeros(10), 0, 16000)
    with pytest.raises(slope.DTypeError, match="resample: expected float"):
        W.resample(np.zeros(10, np.int16), 8000, 16000)
    (tmp_path / "x.wav").write_bytes(b"not a wav file at all")
    with pytest.raises(slope.ArgumentError, match="read_wav: .* is not a RIFF/WAVE file"):
        W.read_wav(tmp_path / "x.wav")
    x = np.zeros((10, 1), np.float32)
    _write_float_wav(tmp_path / "y.wav", x, 16000)
    raw = bytearray((tmp_path / "y.wav").read_bytes())
    raw[20:22] = struct.pack("<H", 2)  # ADPCM
    (tmp_path / "y.wav").write_bytes(bytes(raw))
    with pytest.raises(slope.ArgumentError, match="read_wav: WAV format code 2"):
        W.read_wav(tmp_path / "y.wav")
