"""examples/export_llama_decode.py: a Llama decode step exported with its KV cache as inputs and
outputs, run with the IREE runtime alone, decodes the same tokens as slope's own generate."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_exported_decode_step_matches_generate(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("export_llama_decode",
                                                  os.path.join(ROOT, "examples", "export_llama_decode.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(["--out", str(tmp_path / "decode"), "--max-len", "16"])
    out = capsys.readouterr().out
    assert "same tokens" in out
    assert (tmp_path / "decode" / "model.vmfb").exists() and (tmp_path / "decode" / "params.irpa").exists()
