"""WhisperConfig, sinusoids and the HF-format checkpoint loader (slope/models/whisper/{config,weights}.py)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import slope
from slope.models import whisper as W

TINY = {"d_model": 16, "encoder_layers": 2, "decoder_layers": 1, "encoder_attention_heads": 2,
        "decoder_attention_heads": 4, "encoder_ffn_dim": 24, "decoder_ffn_dim": 20, "num_mel_bins": 80,
        "max_source_positions": 30, "max_target_positions": 12, "vocab_size": 50, "decoder_start_token_id": 3,
        "eos_token_id": 2, "pad_token_id": 1, "bos_token_id": 2, "model_type": "whisper",
        "begin_suppress_tokens": [7, 2]}


def _random_checkpoint(path, cfg, dtype=np.float32, prefix="model.", proj_out=True):
    rng = np.random.default_rng(0)
    arrays = {prefix + k: rng.standard_normal(s).astype(dtype) for k, s in W.param_shapes(cfg).items()}
    if proj_out:
        arrays["proj_out.weight"] = arrays[prefix + "decoder.embed_tokens.weight"]
    path.mkdir(exist_ok=True)
    (path / "config.json").write_text(json.dumps(cfg.to_dict()))
    W.write_safetensors(path / "model.safetensors", arrays, {"format": "pt"})
    return arrays


def test_config_from_json(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    cfg = W.WhisperConfig.from_json(tmp_path)
    assert cfg.d_model == 16 and cfg.decoder_attention_heads == 4 and cfg.eos_token_id == 2
    assert cfg.begin_suppress_tokens == (7, 2) and cfg.extra == {"model_type": "whisper"}
    assert cfg.head_dim == 8 and cfg.n_audio_frames == 60
    assert W.WhisperConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(slope.ArgumentError, match="not divisible by encoder_attention_heads 3"):
        W.WhisperConfig.from_dict({**TINY, "encoder_attention_heads": 3})
    with pytest.raises(slope.ArgumentError, match="vocab_size must be a positive int"):
        W.WhisperConfig.from_dict({**TINY, "vocab_size": 0})


def test_sinusoids():
    s = W.sinusoids(7, 8)
    assert s.dtype == slope.float32 and tuple(s.shape) == (7, 8)
    t, inc = np.arange(7)[:, None], math.log(10000) / 3
    want = np.concatenate([np.sin(t * np.exp(-inc * np.arange(4))), np.cos(t * np.exp(-inc * np.arange(4)))], 1)
    assert np.abs(s.numpy() - want).max() < 1e-6
    with pytest.raises(slope.ArgumentError, match="sinusoids: channels"):
        W.sinusoids(3, 5)


def test_sinusoids_match_transformers():
    pytest.importorskip("torch")
    mw = pytest.importorskip("transformers.models.whisper.modeling_whisper")
    # torch forms the angles in float32 (up to 1499 rad: ~1e-4 off); slope forms them in float64
    assert np.abs(W.sinusoids_numpy(1500, 384) - mw.sinusoids(1500, 384).numpy()).max() < 2e-4


def test_safetensors_round_trip(tmp_path):
    ml = pytest.importorskip("ml_dtypes")
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, -2], np.int64),
              "c": np.array([0.5, 1.5], ml.bfloat16), "d": np.zeros((0, 3), np.float16), "e": np.array(True)}
    W.write_safetensors(tmp_path / "x.safetensors", arrays)
    back = W.read_safetensors(tmp_path / "x.safetensors")
    assert set(back) == set(arrays)
    for k in arrays:
        assert back[k].dtype == arrays[k].dtype and np.array_equal(back[k], arrays[k])
    st = pytest.importorskip("safetensors.numpy")
    ref = st.load_file(str(tmp_path / "x.safetensors"))
    assert all(np.array_equal(ref[k], arrays[k]) for k in ("a", "b", "d"))


@pytest.mark.parametrize("dtype,prefix", [(np.float32, "model."), (np.float16, "")])
def test_load_whisper(tmp_path, dtype, prefix):
    cfg = W.WhisperConfig.from_dict(TINY)
    arrays = _random_checkpoint(tmp_path, cfg, dtype, prefix)
    cfg2, params = W.load_whisper(tmp_path)
    assert cfg2 == cfg and set(params) == set(W.param_shapes(cfg)) and "proj_out.weight" not in params
    for k, v in params.items():
        assert v.dtype == slope.float32 and np.array_equal(v.numpy(), arrays[prefix + k].astype(np.float32))


def test_load_whisper_errors(tmp_path):
    cfg = W.WhisperConfig.from_dict(TINY)
    arrays = _random_checkpoint(tmp_path, cfg)
    del arrays["model.encoder.conv1.bias"]
    arrays["model.encoder.extra.weight"] = np.zeros(2, np.float32)
    W.write_safetensors(tmp_path / "model.safetensors", arrays)
    with pytest.raises(slope.ArgumentError, match=r"missing \['encoder.conv1.bias'\].*unexpected \['model.encoder.extra"):
        W.load_whisper(tmp_path)
    arrays = _random_checkpoint(tmp_path, cfg)
    arrays["model.encoder.conv2.bias"] = np.zeros(3, np.float32)
    W.write_safetensors(tmp_path / "model.safetensors", arrays)
    with pytest.raises(slope.ShapeError, match=r"encoder.conv2.bias has shape \(3,\), the config wants \(16,\)"):
        W.load_whisper(tmp_path)
    with pytest.raises(slope.ArgumentError, match="neither model.safetensors"):
        W.read_checkpoint(tmp_path / "nowhere")


def test_load_transformers_checkpoint(tmp_path):
    """A random-weight WhisperForConditionalGeneration saved by transformers loads with every parameter."""
    torch = pytest.importorskip("torch")
    tr = pytest.importorskip("transformers")
    hf_cfg = tr.WhisperConfig(**{k: v for k, v in TINY.items() if k != "model_type"})
    torch.manual_seed(0)
    model = tr.WhisperForConditionalGeneration(hf_cfg).eval()
    model.save_pretrained(tmp_path)
    cfg, params = W.load_whisper(tmp_path)
    assert cfg.d_model == 16 and cfg.decoder_start_token_id == 3
    state = {k[len("model."):] if k.startswith("model.") else k: v for k, v in model.state_dict().items()}
    assert set(params) == set(state) - {"proj_out.weight"}
    for k, v in params.items():
        assert np.array_equal(v.numpy(), state[k].detach().numpy()), k
