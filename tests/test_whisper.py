"""slope.models.whisper: encoder output and logits against an independent float64 NumPy Whisper
(tests/whisper_reference.py) and, when transformers is installed, against WhisperForConditionalGeneration;
greedy and beam decoding with the cache against full recomputation; language detection; transcription of
short, empty and long audio; the CLI; errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import slope
from slope.errors import ArgumentError, DomainError, ShapeError
from slope.models.whisper import Whisper, compiled_programs
from tests import whisper_reference as ref
from tests.whisper_checkpoint import IDS, SUPPRESS, TINY, VOCAB, write_checkpoint, write_wav

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EOT, SOT = IDS["<|endoftext|>"], IDS["<|startoftranscript|>"]
LANGS = [IDS["<|en|>"], IDS["<|de|>"], IDS["<|fr|>"]]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    d = tmp_path_factory.mktemp("whisper-tiny")
    cfg, params = write_checkpoint(d, eot_boost=5.0, position_std=2.0)
    return str(d), cfg, params, Whisper.from_pretrained(d)


def mels(batch, seed=1, cfg=TINY):
    return np.random.default_rng(seed).standard_normal(
        (batch, cfg["num_mel_bins"], 2 * cfg["max_source_positions"])).astype(np.float32)


def never_ids():
    """What decoding must never emit here: the checkpoint's suppress_tokens and every special token after
    <|endoftext|> (control, language and timestamp tokens)."""
    return sorted(set(SUPPRESS) | set(range(EOT + 1, VOCAB)))


UNTIED = dict(TINY, tie_word_embeddings=False, scale_embedding=True, decoder_layers=3, encoder_layers=1,
              max_source_positions=6)


@pytest.mark.parametrize("cfg", [TINY, UNTIED], ids=["tied", "untied-scaled"])
def test_encoder_and_logits_match_numpy_reference(tmp_path, cfg):
    write_checkpoint(tmp_path, cfg, seed=3)
    model = Whisper.from_pretrained(tmp_path)
    params = {k: np.asarray(v) for k, v in model.params.items()}
    mel = mels(2, seed=4, cfg=cfg)
    tokens = np.random.default_rng(5).integers(0, VOCAB, (2, 7)).astype(np.int32)
    enc = np.asarray(model.encode(mel))
    want_enc = ref.encode(cfg, params, mel)
    assert enc.shape == (2, cfg["max_source_positions"], 16) and enc.dtype == np.float32
    assert np.abs(enc - want_enc).max() <= 1e-4
    logits = np.asarray(model(mel, tokens))
    want = ref.decode(cfg, params, want_enc, tokens)
    assert logits.shape == (2, 7, VOCAB) and logits.dtype == np.float32
    assert np.abs(logits - want).max() <= 1e-4
    assert np.abs(want).max() > 1.0                      # the comparison is not between near-zero numbers


def test_transformers_whisper_logits_match(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    cfg = transformers.WhisperConfig(
        vocab_size=VOCAB, d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=2, encoder_ffn_dim=20, decoder_ffn_dim=28, num_mel_bins=8, max_source_positions=10,
        max_target_positions=24, decoder_start_token_id=SOT, eos_token_id=EOT, pad_token_id=EOT, bos_token_id=EOT)
    torch.manual_seed(0)
    hf = transformers.WhisperForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for name, p in hf.named_parameters():
            p.copy_(torch.randn_like(p) * (0.1 if "layer_norm" in name else 0.3) + (1.0 if "layer_norm.weight" in
                                                                                    name else 0.0))
    hf.save_pretrained(tmp_path)
    model = Whisper.from_pretrained(tmp_path)
    mel = mels(2, seed=6)
    tokens = np.random.default_rng(7).integers(0, VOCAB, (2, 9))
    with torch.no_grad():
        out = hf(input_features=torch.tensor(mel), decoder_input_ids=torch.tensor(tokens))
        enc = hf.model.encoder(torch.tensor(mel)).last_hidden_state.numpy()
    assert np.abs(np.asarray(model.encode(mel)) - enc).max() <= 1e-4
    logits = out.logits.numpy()
    assert np.abs(np.asarray(model(mel, tokens)) - logits).max() <= 1e-4
    assert np.abs(logits).max() > 1.0


def _reference_greedy(cfg, params, mel, prompt, n):
    never = never_ids()
    enc = ref.encode(cfg, params, mel)
    seq = [list(prompt) for _ in range(mel.shape[0])]
    done = [False] * mel.shape[0]
    for t in range(n):
        logits = ref.decode(cfg, params, enc, np.array(seq))[:, -1]
        logits[:, never] = -np.inf
        if t == 0:
            logits[:, cfg["begin_suppress_tokens"]] = -np.inf
        for b in range(len(seq)):
            seq[b].append(EOT if done[b] else int(logits[b].argmax()))
            done[b] = done[b] or seq[b][-1] == EOT
        if all(done):
            break
    return np.array(seq)


def test_greedy_with_cache_equals_full_recompute_and_compiles_once(ckpt):
    d, cfg, params, model = ckpt
    mel = mels(2, seed=10)
    before = compiled_programs()
    out = np.asarray(model.generate(mel, max_new_tokens=12, language="de"))
    assert compiled_programs() - before == 2             # one encoder program, one decode-step program
    prompt = [SOT, IDS["<|de|>"], IDS["<|transcribe|>"], IDS["<|notimestamps|>"]]
    assert out.dtype == np.int32 and (out[:, :4] == prompt).all()
    want = _reference_greedy(cfg, params, mel, prompt, 12)
    assert (out == EOT).any(1).tolist() == [False, True]  # covers a row that stops and one that runs on
    assert out.shape == want.shape and (out == want).all()
    again = np.asarray(model.generate(mel, max_new_tokens=5, language="de"))   # other lengths: same programs
    assert compiled_programs() - before == 2 and (again == out[:, :9]).all()
    assert not set(out[:, 4:].ravel()) & set(never_ids())


def test_language_detection_and_translate_prompt(ckpt):
    d, cfg, _, model = ckpt
    params = {k: np.asarray(v) for k, v in model.params.items()}
    # shift the final layer norm's bias so that the three language logits after <|startoftranscript|> nearly
    # tie (the least-norm bias change giving each its offset): the audio then decides the language
    E = params["decoder.embed_tokens.weight"][LANGS].astype(np.float64)
    mel = 3 * mels(6, seed=9)
    first = ref.decode(cfg, params, ref.encode(cfg, params, mel), np.full((6, 1), SOT))[:, 0, LANGS]
    shift = first.mean(0).max() - first.mean(0)
    params["decoder.layer_norm.bias"] = params["decoder.layer_norm.bias"] + \
        (np.linalg.pinv(E) @ shift).astype(np.float32)
    tuned = Whisper(model.config, {k: slope.tensor(v) for k, v in params.items()}, model.special, model.tokenizer)
    first = ref.decode(cfg, params, ref.encode(cfg, params, mel), np.full((6, 1), SOT))[:, 0]
    want = [LANGS[i] for i in first[:, LANGS].argmax(-1)]
    assert len(set(want)) >= 2                            # the check can tell languages apart
    out = np.asarray(tuned.generate(mel, max_new_tokens=2, task="translate"))
    assert (out[:, 1] == want).all() and (out[:, 2] == IDS["<|translate|>"]).all()
    codes = {IDS["<|en|>"]: "en", IDS["<|de|>"]: "de", IDS["<|fr|>"]: "fr"}
    assert tuned.detect_language(mel) == [codes[i] for i in want]


def _reference_beam(cfg, params, mel, prompt, n, K, length_penalty):
    """openai/whisper's beam search (K+1 candidates per beam, finished sequences set aside until K of them),
    with every step's log-probabilities recomputed from scratch by the reference."""
    never = never_ids()
    enc = ref.encode(cfg, params, mel[None])
    beams = [((), 0.0)] * K
    finished = {}
    for t in range(n):
        seqs = np.array([list(prompt) + list(s) for s, _ in beams])
        logits = ref.decode(cfg, params, np.repeat(enc, K, 0), seqs)[:, -1]
        logits[:, never] = -np.inf
        if t == 0:
            logits[:, cfg["begin_suppress_tokens"]] = -np.inf
        m = logits.max(-1, keepdims=True)
        logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
        cands = {}
        for (s, lp), row in zip(beams, logp):
            for tok in np.argsort(-row, kind="stable")[:K + 1]:
                cands.setdefault(s + (int(tok),), lp + row[tok])
        beams = []
        for s, lp in sorted(cands.items(), key=lambda kv: -kv[1]):
            if s[-1] == EOT:
                if len(finished) < K:
                    finished[s] = lp
            else:
                beams.append((s, lp))
                if len(beams) == K:                      # candidates below the K-th live beam are dropped
                    break
        if len(finished) >= K:
            break
    if len(finished) < K:
        for s, lp in beams:
            finished.setdefault(s, lp)

    def score(s):
        L = max(1, len(s) - (s[-1] == EOT))             # text tokens: the stop token does not count
        return finished[s] / (L if length_penalty is None else ((5 + L) / 6) ** length_penalty)
    return list(prompt) + list(max(finished, key=score))


@pytest.mark.parametrize("length_penalty", [None, 1.0])
def test_beam_search_with_cache_equals_recomputed_beam_search(ckpt, length_penalty):
    d, cfg, params, model = ckpt
    mel = mels(2, seed=10)
    before = compiled_programs()
    out = np.asarray(model.generate(mel, max_new_tokens=8, language="en", beam_size=3,
                                    length_penalty=length_penalty))
    assert compiled_programs() - before <= 2             # (the encoder program may exist already)
    after = compiled_programs()
    model.generate(mel, max_new_tokens=5, language="fr", beam_size=3, length_penalty=length_penalty)
    assert compiled_programs() == after                  # no program per token, length or language
    prompt = [SOT, IDS["<|en|>"], IDS["<|transcribe|>"], IDS["<|notimestamps|>"]]
    for b in range(2):
        want = _reference_beam(cfg, params, mel[b], prompt, 8, 3, length_penalty)
        got = [int(t) for t in out[b]]
        while len(got) > len(want) and got[-1] == EOT:   # padding of the shorter row
            got.pop()
        assert got == want


def test_zero_new_tokens_and_bad_arguments(ckpt):
    d, cfg, params, model = ckpt
    mel = mels(1, seed=11)
    out = np.asarray(model.generate(mel, max_new_tokens=0, language="fr"))
    assert out.tolist() == [[SOT, IDS["<|fr|>"], IDS["<|transcribe|>"], IDS["<|notimestamps|>"]]]
    with pytest.raises(ArgumentError, match="unknown language"):
        model.generate(mel, 2, language="xx")
    with pytest.raises(ArgumentError, match="task"):
        model.generate(mel, 2, task="summarize")
    with pytest.raises(ArgumentError, match="beam_size"):
        model.generate(mel, 2, beam_size=0)
    with pytest.raises(DomainError, match="max_target_positions"):
        model.generate(mel, cfg["max_target_positions"])
    with pytest.raises(ShapeError, match=r"\(batch, 8, 20\)"):
        model.encode(np.zeros((1, 8, 30), np.float32))
    with pytest.raises(DomainError, match="vocab_size"):
        model(mel, [[SOT, VOCAB]])
    with pytest.raises(ShapeError, match="batch"):
        model(mels(2), [[SOT]])


def test_transcribe_empty_short_and_long_audio(ckpt, tmp_path):
    d, cfg, params, model = ckpt
    n = model.window_samples                                # 20 frames of 160 samples in the tiny config
    assert n == 3200
    assert model.transcribe(np.zeros(0, np.float32)) == ""
    rng = np.random.default_rng(12)
    audio = (0.3 * np.sin(np.arange(int(2.5 * n)) * 0.05) + 0.05 * rng.standard_normal(int(2.5 * n)))
    audio = audio.astype(np.float32)
    pieces = [model.transcribe(audio[i:i + n], language="en", max_new_tokens=6) for i in range(0, len(audio), n)]
    whole = model.transcribe(audio, language="en", max_new_tokens=6)
    assert isinstance(whole, str) and whole == " ".join(p for p in pieces if p)
    # the text is the tokenizer's decoding of the generated ids
    from slope.models.whisper import log_mel_spectrogram, pad_or_trim
    ids = np.asarray(model.generate(log_mel_spectrogram(pad_or_trim(audio[:n], n), 8)[None], 6, "en"))[0, 4:]
    assert pieces[0] == model.tokenizer.decode([int(t) for t in ids if t != EOT], skip_special_tokens=True).strip()
    write_wav(tmp_path / "a.wav", audio)
    from slope.models.whisper import load_audio
    assert model.transcribe(str(tmp_path / "a.wav"), language="en", max_new_tokens=6) == \
        model.transcribe(load_audio(str(tmp_path / "a.wav")), language="en", max_new_tokens=6)


def test_cli_prints_the_transcript(ckpt, tmp_path):
    d, cfg, params, model = ckpt
    rng = np.random.default_rng(13)
    write_wav(tmp_path / "speech.wav", 0.2 * rng.standard_normal(5000), rate=8000)   # resampled to 16 kHz
    want = model.transcribe(str(tmp_path / "speech.wav"), language="de", beam_size=2)
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "slope.models.whisper", str(tmp_path / "speech.wav"), "--model", d,
                        "--language", "de", "--beam-size", "2"], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout == want + "\n"


def test_generation_config_read_and_special_tokens(ckpt):
    d, cfg, params, model = ckpt
    sp = model.special
    gen = json.load(open(os.path.join(d, "generation_config.json")))
    assert sp.sot == SOT and sp.eot == EOT and sp.suppress == tuple(gen["suppress_tokens"])
    assert sp.languages == {"en": LANGS[0], "de": LANGS[1], "fr": LANGS[2]}
    assert sp.never(VOCAB) == never_ids()
    assert set(model.params) == set(slope.models.whisper.param_shapes(model.config))


def test_transformers_greedy_generate_matches(tmp_path):
    """HF's WhisperForConditionalGeneration.generate (greedy, forced language and task) gives the same new
    tokens. HF does not suppress control and timestamp tokens by itself, so the checkpoint's suppress_tokens
    lists them (slope suppresses them always)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tests.whisper_checkpoint import write_tokenizer
    cfg = transformers.WhisperConfig(
        vocab_size=VOCAB, d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=20, decoder_ffn_dim=28, num_mel_bins=8, max_source_positions=10,
        max_target_positions=24, decoder_start_token_id=SOT, eos_token_id=EOT, pad_token_id=EOT, bos_token_id=EOT,
        begin_suppress_tokens=[32, EOT], suppress_tokens=None)
    torch.manual_seed(0)
    hf = transformers.WhisperForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for name, p in hf.named_parameters():
            p.copy_(torch.randn_like(p) * 0.3 + (1.0 if "layer_norm.weight" in name else 0.0))
        e = hf.model.decoder.embed_tokens.weight[EOT]
        hf.model.decoder.layer_norm.bias += 4.0 * e / (e @ e)       # some rows stop
    g = hf.generation_config
    g.lang_to_id = {s: IDS[s] for s in ("<|en|>", "<|de|>", "<|fr|>")}
    g.task_to_id = {"transcribe": IDS["<|transcribe|>"], "translate": IDS["<|translate|>"]}
    g.no_timestamps_token_id, g.is_multilingual = IDS["<|notimestamps|>"], True
    g.suppress_tokens = SUPPRESS + list(range(EOT + 1, VOCAB))
    g.begin_suppress_tokens, g.decoder_start_token_id = [32, EOT], SOT
    hf.save_pretrained(tmp_path)
    write_tokenizer(tmp_path)
    model = Whisper.from_pretrained(tmp_path)
    mel = mels(4, seed=14)
    for language, task in (("de", "transcribe"), ("fr", "translate")):
        with torch.no_grad():
            want = hf.generate(torch.tensor(mel), language=language, task=task, max_new_tokens=10, num_beams=1,
                               do_sample=False)
        want = (want.sequences if hasattr(want, "sequences") else want).numpy()
        got = np.asarray(model.generate(mel, 10, language, task))[:, 4:]
        n = min(got.shape[1], want.shape[1])
        assert (got[:, :n] == want[:, :n]).all() and (want[:, n:] == EOT).all() and (got[:, n:] == EOT).all()


def test_english_only_checkpoint_prompt(ckpt):
    """No language tokens: the prompt is <|startoftranscript|> <|notimestamps|>, "en" is accepted, other
    languages and translation are errors."""
    from slope.models.whisper import SpecialTokens
    d, cfg, params, model = ckpt
    special = SpecialTokens(sot=SOT, eot=EOT, no_timestamps=IDS["<|notimestamps|>"], suppress=tuple(SUPPRESS),
                            begin_suppress=tuple(cfg["begin_suppress_tokens"]),
                            control=tuple(range(EOT + 1, IDS["<|notimestamps|>"])))
    en = Whisper(model.config, model.params, special, model.tokenizer)
    mel = mels(2, seed=15)
    out = np.asarray(en.generate(mel, 6))
    prompt = [SOT, IDS["<|notimestamps|>"]]
    assert (out == _reference_greedy(cfg, params, mel, prompt, 6)).all()
    assert (np.asarray(en.generate(mel, 6, language="en")) == out).all()
    with pytest.raises(ArgumentError, match="English-only"):
        en.generate(mel, 2, language="de")
    with pytest.raises(ArgumentError, match="cannot translate"):
        en.generate(mel, 2, task="translate")
