"""A random-weight tiny Whisper checkpoint in Hugging Face's format, written for the tests: config.json,
generation_config.json, model.safetensors (`model.` names of WhisperForConditionalGeneration) and a byte-level
tokenizer.json made with the `tokenizers` package (256 byte tokens, then Whisper's special tokens)."""
import json
import os

import numpy as np

SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|de|>", "<|fr|>", "<|translate|>",
            "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>",
            "<|0.00|>", "<|0.02|>"]
IDS = {s: 256 + i for i, s in enumerate(SPECIALS)}
VOCAB = 256 + len(SPECIALS)

TINY = dict(d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
            encoder_ffn_dim=24, decoder_ffn_dim=24, num_mel_bins=8, max_source_positions=10,
            max_target_positions=24, vocab_size=VOCAB, decoder_start_token_id=IDS["<|startoftranscript|>"],
            bos_token_id=IDS["<|endoftext|>"], eos_token_id=IDS["<|endoftext|>"], pad_token_id=IDS["<|endoftext|>"],
            begin_suppress_tokens=[32, IDS["<|endoftext|>"]])
SUPPRESS = [1, 2, 3, 33, 34]   # a few byte tokens, as the real lists hold punctuation and symbols


def numpy_params(cfg_dict, seed=0, std=0.3, eot_boost=0.0, position_std=None):
    """Normal(0, std) weights, layer-norm scales near 1. Decoding tests want outputs that vary with the
    position and that sometimes stop: position_std widens the decoder's position table, and eot_boost adds
    that much to <|endoftext|>'s logit (through the final layer norm's bias, along its embedding row)."""
    from slope.models.whisper import WhisperConfig, param_shapes
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in param_shapes(WhisperConfig.from_dict(cfg_dict)).items():
        if "layer_norm.weight" in name:
            out[name] = (1 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            out[name] = (std * rng.standard_normal(shape)).astype(np.float32)
    if position_std is not None:
        out["decoder.embed_positions.weight"] *= np.float32(position_std / std)
    e = out["decoder.embed_tokens.weight"][cfg_dict["eos_token_id"]]
    out["decoder.layer_norm.bias"] += (eot_boost * e / (e @ e)).astype(np.float32)
    return out


def write_tokenizer(directory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)
    tok.save(os.path.join(directory, "tokenizer.json"))


def write_checkpoint(directory, cfg_dict=None, seed=0, std=0.3, tokenizer=True, **shaping):
    """Write the checkpoint; returns (config dict, numpy params keyed without `model.`)."""
    from slope.models.whisper import write_safetensors
    cfg = dict(TINY if cfg_dict is None else cfg_dict)
    os.makedirs(directory, exist_ok=True)
    params = numpy_params(cfg, seed, std, **shaping)
    names = {("" if k == "proj_out.weight" else "model.") + k: v for k, v in params.items()}
    write_safetensors(os.path.join(directory, "model.safetensors"), names, {"format": "pt"})
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump({"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"], **cfg}, f)
    gen = {"decoder_start_token_id": cfg["decoder_start_token_id"], "eos_token_id": cfg["eos_token_id"],
           "lang_to_id": {s: IDS[s] for s in ("<|en|>", "<|de|>", "<|fr|>")},
           "task_to_id": {"transcribe": IDS["<|transcribe|>"], "translate": IDS["<|translate|>"]},
           "no_timestamps_token_id": IDS["<|notimestamps|>"], "suppress_tokens": SUPPRESS,
           "begin_suppress_tokens": cfg["begin_suppress_tokens"], "is_multilingual": True}
    with open(os.path.join(directory, "generation_config.json"), "w") as f:
        json.dump(gen, f)
    if tokenizer:
        write_tokenizer(directory)
    return cfg, params


def write_wav(path, samples, rate=16000):
    import wave
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
