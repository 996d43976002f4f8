"""slope.models.llama: logits against an independent float64 NumPy Llama (tests/llama_reference.py) and,
when transformers is installed, against transformers' LlamaForCausalLM; KV-cache generation against the
full forward; Hugging Face checkpoints; errors."""
import json
import os

import numpy as np
import pytest

import slope
from slope.models.llama import Llama, LlamaConfig, compiled_programs
from slope.models.llama import generate as gen_mod
from tests.llama_reference import llama_logits

LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 16}
CONFIGS = {
    # GQA 4/2, untied, llama3 rope scaling, biases
    "gqa-llama3-bias": dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, rope_scaling=LLAMA3, attention_bias=True,
                            mlp_bias=True, max_position_embeddings=64, rope_theta=500000.0),
    # MQA 4/1, tied embeddings, head_dim not hidden / heads
    "mqa-tied-headdim": dict(vocab_size=80, hidden_size=24, intermediate_size=40, num_hidden_layers=3,
                             num_attention_heads=4, num_key_value_heads=1, head_dim=8, tie_word_embeddings=True,
                             max_position_embeddings=32),
    # 4 layers, MHA, linear rope scaling
    "mha-4layer-linear": dict(vocab_size=50, hidden_size=16, intermediate_size=24, num_hidden_layers=4,
                              num_attention_heads=2, rope_scaling={"type": "linear", "factor": 2.0},
                              max_position_embeddings=32, rms_norm_eps=1e-5),
}


def numpy_params(cfg, seed=0, std=0.2):
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in slope.models.llama.param_shapes(cfg).items():
        if "norm" in name:
            out[name] = (1 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            out[name] = (std * rng.standard_normal(shape)).astype(np.float32)
    return out


def make(name, seed=0):
    cfg = LlamaConfig(**CONFIGS[name])
    p = numpy_params(cfg, seed)
    return Llama(cfg, {k: slope.tensor(v) for k, v in p.items()}), p


FORWARD = slope.jit(lambda model, tokens, mask=None: model(tokens, mask))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_logits_match_numpy_reference(name):
    model, p = make(name)
    tokens = np.random.default_rng(1).integers(0, model.config.vocab_size, (2, 11)).astype(np.int32)
    logits = np.asarray(FORWARD(model, tokens))
    ref = llama_logits(model.config.to_dict(), p, tokens)
    assert logits.dtype == np.float32 and logits.shape == (2, 11, model.config.vocab_size)
    assert np.abs(logits - ref).max() <= 1e-4


def test_padded_batch_attention_mask():
    model, p = make("gqa-llama3-bias")
    tokens = np.random.default_rng(2).integers(0, 64, (2, 7)).astype(np.int32)
    mask = np.ones((2, 7), np.int32)
    mask[1, :3] = 0                                       # row 1 left-padded by 3
    logits = np.asarray(FORWARD(model, tokens, slope.tensor(mask)))
    ref = llama_logits(model.config.to_dict(), p, tokens, attention_mask=mask)
    assert np.abs(logits[0] - ref[0]).max() <= 1e-4
    assert np.abs(logits[1, 3:] - ref[1, 3:]).max() <= 1e-4   # padded query rows are not compared
    # a padded row's real tokens give the logits of the unpadded sequence with shifted positions
    alone = llama_logits(model.config.to_dict(), p, tokens[1:, 3:])
    shifted = llama_logits(model.config.to_dict(), p, tokens[1:], attention_mask=mask[1:],
                           positions=np.maximum(np.arange(7) - 3, 0)[None])
    assert np.abs(alone[0] - shifted[0, 3:]).max() < 1e-9


@pytest.mark.no_prefetch  # counts the programs generate stages (a dry run would stage them first)
def test_greedy_generation_with_cache_equals_full_forward_and_compiles_twice():
    model, _ = make("gqa-llama3-bias")
    prompt = np.random.default_rng(3).integers(0, 64, (2, 5)).astype(np.int32)
    before = compiled_programs()
    out = np.asarray(model.generate(prompt, 7))
    assert compiled_programs() - before == 2              # one prefill program, one decode program: not per token
    assert out.shape == (2, 12) and (out[:, :5] == prompt).all()
    seq = prompt
    for _ in range(7):                                    # the full forward recomputed at each step
        nxt = np.asarray(FORWARD(model, seq))[:, -1].argmax(-1).astype(np.int32)
        seq = np.concatenate([seq, nxt[:, None]], 1)
    assert (out == seq).all()
    again = np.asarray(model.generate(prompt, 7))         # same shapes: nothing compiled
    assert compiled_programs() - before == 2 and (again == out).all()


def test_sampling_top_k_1_is_greedy_and_keys_decide():
    model, _ = make("mqa-tied-headdim")
    prompt = np.array([[3, 1, 4, 1, 5]], np.int32)
    greedy = np.asarray(model.generate(prompt, 4))
    k1 = np.asarray(model.generate(prompt, 4, temperature=0.7, top_k=1, key=slope.random.key(5)))
    assert (greedy == k1).all()
    a = np.asarray(model.generate(prompt, 4, temperature=0.7, top_k=1, key=slope.random.key(6)))
    assert (a == k1).all()


def test_sample_top_p_and_top_k_masks():
    logits = slope.tensor([[0.0, 5.0, 4.9, -3.0, 1.0]])
    draws = {int(np.asarray(gen_mod.sample(logits, slope.random.key(s), 1.0, top_k=2))[0]) for s in range(12)}
    assert draws <= {1, 2} and len(draws) == 2
    draws = {int(np.asarray(gen_mod.sample(logits, slope.random.key(s), 1.0, top_p=0.3))[0]) for s in range(6)}
    assert draws == {1}


def test_save_and_load_pretrained(tmp_path):
    model, p = make("mqa-tied-headdim")
    model.save_pretrained(tmp_path / "f32")
    meta = json.load(open(tmp_path / "f32" / "config.json"))
    assert meta["model_type"] == "llama" and meta["tie_word_embeddings"] is True and meta["head_dim"] == 8
    from safetensors import safe_open
    with safe_open(str(tmp_path / "f32" / "model.safetensors"), "np") as f:
        assert f.metadata() == {"format": "pt"} and "lm_head.weight" not in f.keys()
    again = Llama.from_pretrained(str(tmp_path / "f32"))
    assert again.config == model.config
    assert all((np.asarray(again.params[k]) == v).all() for k, v in p.items())
    model.save_pretrained(tmp_path / "sharded", max_shard_bytes=4000)
    assert os.path.exists(tmp_path / "sharded" / "model.safetensors.index.json")
    sharded = Llama.from_pretrained(str(tmp_path / "sharded"))
    assert all((np.asarray(sharded.params[k]) == v).all() for k, v in p.items())
    model.save_pretrained(tmp_path / "bf16", dtype="bfloat16")
    half = Llama.from_pretrained(str(tmp_path / "bf16"))
    assert half.params["model.norm.weight"].dtype == slope.float32
    w = p["model.layers.0.mlp.up_proj.weight"]
    assert np.abs(np.asarray(half.params["model.layers.0.mlp.up_proj.weight"]) - w).max() <= np.abs(w).max() / 128


def test_config_from_hf_json(tmp_path):
    d = {"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192,
         "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
         "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "max_position_embeddings": 131072,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                          "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "tie_word_embeddings": True, "torch_dtype": "bfloat16", "eos_token_id": [128001, 128008]}
    (tmp_path / "config.json").write_text(json.dumps(d))
    cfg = LlamaConfig.from_json(str(tmp_path))
    assert cfg.num_key_value_groups == 4 and cfg.rope_type == "llama3" and cfg.torch_dtype == "bfloat16"
    from tests.llama_reference import inv_freq
    assert np.allclose(cfg.inv_freq(), inv_freq(d), rtol=1e-6)
    assert LlamaConfig.from_dict(cfg.to_dict()) == cfg


def test_errors_name_the_cause(tmp_path):
    model, p = make("mha-4layer-linear")
    with pytest.raises(slope.DTypeError, match="integer"):
        model(np.zeros((1, 3), np.float32))
    with pytest.raises(slope.ShapeError, match=r"\(batch, seq\)"):
        model(slope.tensor([1, 2, 3]))
    with pytest.raises(slope.DomainError, match="max_position_embeddings"):
        model(np.zeros((1, 33), np.int32))
    with pytest.raises(slope.DomainError, match="max_position_embeddings"):
        model.generate(np.zeros((1, 30), np.int32), 5)
    with pytest.raises(slope.DomainError, match="rope_scaling type 'yarn'"):
        LlamaConfig(**{**CONFIGS["mha-4layer-linear"], "rope_scaling": {"rope_type": "yarn", "factor": 2.0}})
    with pytest.raises(slope.DomainError, match="multiple of num_key_value_heads"):
        LlamaConfig(hidden_size=24, num_attention_heads=3, num_key_value_heads=2)
    model.save_pretrained(tmp_path / "m")
    from safetensors.numpy import load_file, save_file
    t = load_file(str(tmp_path / "m" / "model.safetensors"))
    del t["model.layers.2.mlp.up_proj.weight"]
    save_file(t, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(slope.ArgumentError, match="missing: model.layers.2.mlp.up_proj.weight"):
        Llama.from_pretrained(str(tmp_path / "m"))
    t["model.layers.2.mlp.up_proj.weight"] = np.zeros((3, 3), np.float32)
    save_file(t, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(slope.ShapeError, match=r"up_proj.weight has shape \(3, 3\), the config needs \(24, 16\)"):
        Llama.from_pretrained(str(tmp_path / "m"))
    os.makedirs(tmp_path / "empty")
    os.replace(tmp_path / "m" / "config.json", tmp_path / "empty" / "config.json")
    with pytest.raises(slope.ArgumentError, match="no model.safetensors"):
        Llama.from_pretrained(str(tmp_path / "empty"))
    with pytest.raises(slope.ArgumentError, match="no config.json"):
        Llama.from_pretrained(str(tmp_path / "m"))


def test_transformers_reads_our_checkpoint_and_we_read_theirs(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    model, p = make("gqa-llama3-bias")
    model.save_pretrained(tmp_path / "ours")
    hf = transformers.LlamaForCausalLM.from_pretrained(str(tmp_path / "ours"), torch_dtype=torch.float32).eval()
    tokens = np.random.default_rng(4).integers(0, 64, (2, 9))
    with torch.no_grad():
        theirs = hf(torch.tensor(tokens)).logits.numpy()
    ours = np.asarray(FORWARD(model, tokens.astype(np.int32)))
    assert np.abs(ours - theirs).max() <= 1e-4
    hf.save_pretrained(str(tmp_path / "theirs"))
    back = Llama.from_pretrained(str(tmp_path / "theirs"))
    assert all((np.asarray(back.params[k]) == v).all() for k, v in p.items())
    mcfg = CONFIGS["mqa-tied-headdim"]
    tied = transformers.LlamaForCausalLM(transformers.LlamaConfig(**mcfg)).eval()
    tied.save_pretrained(str(tmp_path / "tied"))
    ours = Llama.from_pretrained(str(tmp_path / "tied"))
    with torch.no_grad():
        theirs = tied(torch.tensor(tokens[:, :8] % 80)).logits.numpy()
    assert np.abs(np.asarray(FORWARD(ours, (tokens[:, :8] % 80).astype(np.int32))) - theirs).max() <= 1e-4


def test_llama_is_a_module():
    model, p = make("gqa-llama3-bias")
    assert isinstance(model, slope.nn.Module)
    names = list(slope.models.llama.param_shapes(model.config))
    assert [n for n, _ in model.named_parameters()] == names and list(model.state_dict()) == names
    assert len(model.parameters()) == len(names) and model.params is model._parameters
    assert model.eval() is model and not model.training and model.train().training
    other = Llama.random(model.config, slope.random.key(3))
    other.load_state_dict({k: v * 1 for k, v in p.items()})      # NumPy arrays under HF names
    assert all((np.asarray(other.params[k]) == v).all() for k, v in p.items())
    tokens = np.array([[1, 2, 3]], np.int32)
    grads = slope.jit(slope.grad(lambda m: m(tokens).sum()))(model)  # staged: one module, not ~200 eager ones
    assert isinstance(grads, Llama) and set(grads.params) == set(names)
    assert grads.params["model.norm.weight"].shape == (32,)


def _eos_padded(free, T, eos, pad):
    """The no-EOS output `free` as transformers' generate returns it with eos/pad: tokens after a row's first
    eos become pad, and the columns after the last row's first eos go."""
    new = free[:, T:].copy()
    hit = np.isin(new, eos)
    ends = [int(np.argmax(h)) + 1 if h.any() else new.shape[1] for h in hit]
    for r, e in enumerate(ends):
        new[r, e:] = pad
    return np.concatenate([free[:, :T], new[:, :max(ends)]], 1)


def test_generation_stops_at_eos_and_pads_finished_rows():
    model, _ = make("gqa-llama3-bias")
    prompt = np.random.default_rng(3).integers(0, 64, (2, 5)).astype(np.int32)
    free = np.asarray(model.generate(prompt, 7, eos_token_id=None))
    assert free.shape == (2, 12)
    one = int(free[0, 7])                                 # row 0's third new token: row 0 stops there
    out = np.asarray(model.generate(prompt, 7, eos_token_id=one, pad_token_id=63))
    assert (out == _eos_padded(free, 5, [one], 63)).all() and (out[0, 8:] == 63).all()
    both = [one, int(free[1, 8])]                         # every row finishes: the result is shorter
    out = np.asarray(model.generate(prompt, 7, eos_token_id=both))
    assert out.shape[1] < 12 and (out == _eos_padded(free, 5, both, both[0])).all()
    with pytest.raises(slope.DomainError, match="eos_token_id must be token ids"):
        model.generate(prompt, 3, eos_token_id=64)


def test_eos_from_generation_config_matches_transformers(tmp_path):
    model, _ = make("gqa-llama3-bias")
    prompt = np.random.default_rng(3).integers(0, 64, (2, 5)).astype(np.int32)
    free = np.asarray(model.generate(prompt, 7, eos_token_id=None))
    eos, pad = [int(free[0, 6]), int(free[1, 9])], 60
    model.generation_config.update(eos_token_id=tuple(eos), pad_token_id=pad)
    model.save_pretrained(tmp_path / "m")
    gen = json.load(open(tmp_path / "m" / "generation_config.json"))
    assert gen["eos_token_id"] == eos and gen["pad_token_id"] == pad
    assert json.load(open(tmp_path / "m" / "config.json"))["eos_token_id"] == 2   # config.json's stays
    loaded = Llama.from_pretrained(str(tmp_path / "m"))
    ours = np.asarray(loaded.generate(prompt, 7))         # generation_config.json's eos and pad
    assert (ours == _eos_padded(free, 5, eos, pad)).all()
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    hf = transformers.LlamaForCausalLM.from_pretrained(str(tmp_path / "m"), torch_dtype=torch.float32).eval()
    with torch.no_grad():
        theirs = hf.generate(torch.tensor(prompt, dtype=torch.long), max_new_tokens=7, do_sample=False,
                             attention_mask=torch.ones(prompt.shape, dtype=torch.long)).numpy()
    assert theirs.shape == ours.shape and (theirs == ours).all()


def _word_tokenizer(words):
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {w: i for i, w in enumerate(["[UNK]", "<s>", "</s>"] + words)}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    return tok


def test_cli_uses_the_checkpoints_tokenizer(tmp_path):
    import subprocess
    import sys
    words = "the cat sat on a mat and dog ran to red blue big small house tree".split()
    tok = _word_tokenizer(words)
    cfg = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                      num_attention_heads=2, max_position_embeddings=32, bos_token_id=1, eos_token_id=2)
    model = Llama.random(cfg, slope.random.key(7), std=0.5)
    model.save_pretrained(tmp_path / "m")
    tok.save(str(tmp_path / "m" / "tokenizer.json"))
    prompt = "the cat sat on"
    ids = tok.encode(prompt).ids
    assert ids == [3, 4, 5, 6]                            # the tokenizer from tokenizer.json, not bytes
    expected = tok.decode(np.asarray(model.generate(np.array([ids], np.int32), 6))[0].tolist())
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    run = subprocess.run([sys.executable, "-m", "slope.models.llama", "generate", "--model", str(tmp_path / "m"),
                          "--prompt", prompt, "--max-new-tokens", "6"], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == expected and expected.startswith(prompt)


def test_cli_falls_back_to_bytes_and_ids(tmp_path, capsys):
    from slope.models.llama.__main__ import main
    cfg = LlamaConfig(vocab_size=256, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                      num_attention_heads=2, max_position_embeddings=32, bos_token_id=None, eos_token_id=None)
    model = Llama.random(cfg, slope.random.key(8), std=0.5)
    model.save_pretrained(tmp_path / "bytes")
    expected = np.asarray(model.generate(np.array([list(b"hi ")], np.int32), 4))[0]
    main(["generate", "--model", str(tmp_path / "bytes"), "--prompt", "hi ", "--max-new-tokens", "4"])
    assert capsys.readouterr().out.rstrip("\n") == bytes(expected.tolist()).decode("utf-8", errors="replace")
    main(["generate", "--model", str(tmp_path / "bytes"), "--ids", "--prompt", "104, 105 32", "--max-new-tokens", "4"])
    assert capsys.readouterr().out.split() == [str(t) for t in expected]
    small = Llama.random(LlamaConfig(**CONFIGS["mha-4layer-linear"]), slope.random.key(9))
    small.save_pretrained(tmp_path / "small")
    with pytest.raises(SystemExit, match="too small for bytes"):
        main(["generate", "--model", str(tmp_path / "small"), "--prompt", "hi"])
