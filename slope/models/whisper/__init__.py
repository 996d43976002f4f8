"""Whisper (issue #20): the audio front end (audio.py) and the model's config and checkpoint loading.

    from slope.models import whisper
    audio = whisper.load_audio("speech.wav")          # float32 mono at 16 kHz
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), n_mels=80)   # (80, 3000) Tensor
"""
from slope.models.whisper.audio import (  # noqa: F401
    CHUNK_LENGTH, HOP_LENGTH, N_FFT, N_FRAMES, N_SAMPLES, SAMPLE_RATE,
    load_audio, log_mel_spectrogram, mel_filters, pad_or_trim, read_wav, resample, stft_power,
)
from slope.models.whisper.config import WhisperConfig, sinusoids, sinusoids_numpy  # noqa: F401,E402
from slope.models.whisper.weights import (  # noqa: F401,E402
    hf_to_params, load_whisper, param_shapes, read_checkpoint, read_safetensors, write_safetensors,
)
