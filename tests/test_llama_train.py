"""examples/llama_train.py runs: a few jitted AdamW steps on Python source bytes lower the loss."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_llama_train_example_few_steps(tmp_path):
    spec = importlib.util.spec_from_file_location("llama_train", os.path.join(ROOT, "examples", "llama_train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--steps", "12", "--batch", "4", "--seq", "16", "--layers", "1", "--hidden", "32",
                    "--lr", "1e-2", "--generate", "4", "--quiet", "--out", str(tmp_path / "ckpt")])
    losses = out["losses"]
    assert losses[0] > 5.0 and min(losses[-3:]) < losses[0] - 0.5, losses
    assert out["eval_after"] < out["eval_before"]
    assert os.path.exists(tmp_path / "ckpt" / "model.safetensors")
