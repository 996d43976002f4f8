"""The benchmark script runs (CI checks only that; benchmark numbers are never asserted)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_benchmarks_quick_run():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "run.py"), "--quick"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    table = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    names = " ".join(line.split("|")[1] for line in table)
    for row in ("eager `x*2`, 3 elements", "eager `x*2`, 1M elements", "jit MLP train step", "compile MLP step, cold",
                "compile MLP step, warm", "1024^3 f32 matmul", "`slope.random.bits`, 10^7", "Llama 2x64", "Llama 2x64 KV-cache decode",
                "Whisper-tiny-sized encoder forward", "Whisper-tiny-sized KV-cache decode step",
                "ResNet basic block"):
        assert row in names, out.stdout


def test_memory_benchmark_runs():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "memory_bench.py"), "--steps", "2100"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["jitted MLP step (nn + AdamW)", "eager elementwise step"], out.stdout
    assert all("2100 steps, RSS" in ln and "MB per 1000 steps" in ln for ln in lines)
