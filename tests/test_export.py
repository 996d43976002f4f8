"""slope.export: a jitted function written as a standalone IREE module (+ StableHLO, + its weights as an
IREE parameter archive, + a manifest), run from Python with the IREE runtime alone and from the command
line with iree-run-module, bit for bit the same; cross-compiled targets; clear errors for what cannot be
exported."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import slope
from slope.export import artifact

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_MODULE = shutil.which("iree-run-module")
needs_cli = pytest.mark.skipif(RUN_MODULE is None, reason="iree-run-module (iree-base-runtime's tool) is not on PATH")


def mlp_params(seed=0, sizes=(8, 16, 3)):
    keys = slope.random.split(slope.random.key(seed), len(sizes) - 1)
    params = {}
    for i, (m, n) in enumerate(zip(sizes, sizes[1:])):
        params[f"w{i}"] = slope.random.normal(keys[i], (m, n)) / float(np.sqrt(m))
        params[f"b{i}"] = slope.full((n,), 0.01 * (i + 1))
    return params


def predict(params, x):
    h = slope.tanh(x @ params["w0"] + params["b0"])
    logits = h @ params["w1"] + params["b1"]
    return {"logits": logits, "label": logits.argmax(-1)}


def run_cli(path, inputs=None):
    """Run the manifest's iree-run-module command in the artifact (after writing `inputs` over the
    example inputs); the outputs it wrote, read back with NumPy."""
    manifest = artifact.read_manifest(path)
    for spec, x in zip(manifest["inputs"], inputs or []):
        np.save(os.path.join(path, spec["file"]), x)
    argv = [RUN_MODULE, *manifest["run"]["argv"][1:]]
    done = subprocess.run(argv, cwd=path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [np.load(os.path.join(path, spec["file"])) for spec in manifest["outputs"]]


def assert_bitwise_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, a.shape, b.dtype, b.shape)
    assert a.tobytes() == b.tobytes(), (a, b)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("mlp") / "artifact")
    params = mlp_params()
    x = slope.random.normal(slope.random.key(1), (4, 8))
    manifest = slope.export(predict, x, path=path, params=params)
    return path, manifest, params, x


def test_the_artifact_has_its_files_and_a_manifest_that_describes_it(mlp):
    path, manifest, params, x = mlp
    assert sorted(os.listdir(path)) == ["inputs", "manifest.json", "model.mlir", "model.stablehlo.mlir",
                                        "model.vmfb", "params.irpa"]
    assert manifest == json.load(open(os.path.join(path, "manifest.json")))
    assert manifest["inputs"] == [{"name": "x", "shape": [4, 8], "dtype": "float32", "file": "inputs/x.npy"}]
    assert [(o["name"], o["shape"], o["dtype"]) for o in manifest["outputs"]] == \
        [("out.label", [4], "int64"), ("out.logits", [4, 3], "float32")]
    assert manifest["target"]["name"] == "host" and manifest["target"]["backend"] == "llvm-cpu"
    assert "--iree-llvmcpu-target-cpu=host" in manifest["compiler"]["flags"]
    assert manifest["run"]["argv"] == ["iree-run-module", "--device=local-task", "--module=model.vmfb",
                                       "--parameters=model=params.irpa", "--function=main", "--input=@inputs/x.npy",
                                       "--output=@out.label.npy", "--output=@out.logits.npy"]
    assert manifest["run"]["command"] == " ".join(manifest["run"]["argv"])
    np.testing.assert_array_equal(np.load(os.path.join(path, "inputs", "x.npy")), x.numpy())


def test_weights_live_in_the_parameter_archive_not_in_the_module(mlp):
    import iree.runtime as rt

    path, manifest, params, _ = mlp
    index = rt.ParameterIndex()
    index.load(os.path.join(path, "params.irpa"))
    stored = {key: rt.parameter_index_entry_as_numpy_ndarray(entry) for key, entry in index.items()}
    assert sorted(stored) == [f"params.{k}" for k in sorted(params)]
    for k, v in params.items():
        assert_bitwise_equal(stored[f"params.{k}"], v.numpy())
    assert [e["key"] for e in manifest["parameters"]["entries"]] == sorted(stored)
    text = open(os.path.join(path, "model.mlir")).read()
    assert '#flow.parameter.named<"model"::"params.w0"> : tensor<8x16xf32>' in text
    assert "stablehlo.constant dense<\"0x" not in text  # no weight was inlined
    assert os.path.getsize(os.path.join(path, "model.vmfb")) < 64 * 1024


def test_python_runtime_matches_jit_and_the_command_line_bit_for_bit(mlp):
    path, manifest, params, x = mlp
    exported = slope.export.load(path)
    got = exported(x.numpy())
    want = slope.jit(predict)(params, x)
    np.testing.assert_allclose(got["logits"], want["logits"].numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(got["label"], want["label"].numpy())
    if RUN_MODULE is None:
        pytest.skip("iree-run-module is not on PATH")
    label, logits = run_cli(path)
    assert_bitwise_equal(logits, got["logits"])
    assert_bitwise_equal(label, got["label"])
    other = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    got = exported(other)
    label, logits = run_cli(path, [other])
    assert_bitwise_equal(logits, got["logits"])
    assert_bitwise_equal(label, got["label"])


def test_the_recorded_compile_command_rebuilds_the_same_module(mlp, tmp_path):
    path, manifest, _, _ = mlp
    argv = manifest["compiler"]["argv"]
    assert argv[-3:] == ["model.mlir", "-o", "model.vmfb"]
    from iree.compiler.tools.binaries import find_tool

    shutil.copy(os.path.join(path, "model.mlir"), tmp_path / "model.mlir")
    subprocess.run([find_tool("iree-compile"), *argv[1:]], cwd=tmp_path, check=True, timeout=300)
    assert (tmp_path / "model.vmfb").read_bytes() == open(os.path.join(path, "model.vmfb"), "rb").read()


def test_loaded_artifacts_run_without_tracing_or_compiling(mlp, monkeypatch):
    from slope.backends.iree import compile as iree_compile
    from slope.transforms import staging

    def forbidden(*a, **k):
        raise AssertionError("the loader traced or compiled")

    monkeypatch.setattr(staging, "make_program", forbidden)
    monkeypatch.setattr(iree_compile, "_compile_vmfb", forbidden)
    path, _, _, x = mlp
    out = slope.export.load(path)(x.numpy())
    assert out["logits"].shape == (4, 3) and isinstance(out["logits"], np.ndarray)
    assert slope.load_exported is slope.export.load


def test_the_loader_checks_its_inputs(mlp):
    path, _, _, x = mlp
    exported = slope.export.load(path)
    with pytest.raises(slope.ShapeError, match=r"input x must have shape \[4, 8\], got \[3, 8\]"):
        exported(np.zeros((3, 8), np.float32))
    with pytest.raises(slope.DTypeError, match="input x must have dtype float32, got float64"):
        exported(np.zeros((4, 8)))
    with pytest.raises(slope.ArgumentError, match=r"expected 1 input array \(x: float32\[4, 8\]\), got 2"):
        exported(x.numpy(), x.numpy())
    with pytest.raises(slope.ExportError, match="not an exported artifact"):
        slope.export.load(os.path.dirname(path))


def test_dtypes_scalars_and_bools_round_trip_through_both_runtimes(tmp_path):
    def f(x, n, mask):
        y = x * n.float()
        return y, y > 0, (y.argmax(-1)).int(), mask.logical_not(), x.double().sin()

    x = np.array([[1.5, -2.0, 0.25], [3.0, -0.5, 7.0]], np.float32)
    n = np.array(3, np.int32)
    mask = np.array([True, False, True])
    manifest = slope.export(f, x, n, mask, path=tmp_path)
    assert [i["dtype"] for i in manifest["inputs"]] == ["float32", "int32", "bool"]
    assert [o["dtype"] for o in manifest["outputs"]] == ["float32", "bool", "int32", "bool", "float64"]
    assert "--iree-llvmcpu-link-embedded=false" in manifest["compiler"]["flags"]  # float64 sin links libm
    got = slope.export.load(tmp_path)(x, 3, mask)
    want = slope.jit(f)(x, n, mask)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-15)
    np.testing.assert_allclose(got[4], np.sin(x.astype(np.float64)), rtol=1e-15)
    if RUN_MODULE is None:
        pytest.skip("iree-run-module is not on PATH")
    for g, c in zip(got, run_cli(str(tmp_path))):
        assert_bitwise_equal(c, g)


def test_closed_over_constants_go_to_the_archive_above_the_size_limit(tmp_path):
    big = slope.tensor(np.arange(64 * 8, dtype=np.float32).reshape(64, 8) / 100)
    small = slope.tensor(np.array([1.0, -1.0, 0.5], np.float32))

    def f(x):
        return (x @ big.T)[:, :3] * small

    x = np.ones((2, 8), np.float32)
    manifest = slope.export(f, x, path=tmp_path)
    assert manifest["parameters"]["entries"] == [{"key": "const.0", "source": "constant", "shape": [64, 8],
                                                  "dtype": "float32"}]
    text = (tmp_path / "model.mlir").read_text()
    assert "stablehlo.constant dense<\"0x0000803F000080BF0000003F\"> : tensor<3xf32>" in text
    np.testing.assert_allclose(slope.export.load(tmp_path)(x), slope.jit(f)(x).numpy(), rtol=1e-6)
    manifest = slope.export(f, x, path=tmp_path, const_limit=1 << 20)  # over an earlier export: replaced
    assert manifest["parameters"] is None and not (tmp_path / "params.irpa").exists()
    np.testing.assert_allclose(slope.export.load(tmp_path)(x), slope.jit(f)(x).numpy(), rtol=1e-6)


@needs_cli
def test_generic_x86_64_target_runs_here_bit_for_bit(tmp_path):
    if os.uname().machine != "x86_64":
        pytest.skip("not an x86-64 machine")
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    manifest = slope.export(lambda x: slope.tanh(x @ x.T).sum(0), x, path=tmp_path, target="x86_64")
    assert "--iree-llvmcpu-target-cpu=generic" in manifest["compiler"]["flags"]
    got = slope.export.load(tmp_path)(x)
    np.testing.assert_allclose(got, np.tanh(x @ x.T).sum(0), rtol=1e-5)
    assert_bitwise_equal(run_cli(str(tmp_path))[0], got)


@pytest.mark.parametrize("target", ["aarch64", "riscv64", "cuda", "vulkan-spirv"])
def test_cross_targets_compile_and_say_how_to_run_them(tmp_path, target):
    params = mlp_params()
    manifest = slope.export(predict, slope.Aval((4, 8), slope.float32), path=tmp_path, target=target, params=params)
    vmfb = (tmp_path / "model.vmfb").read_bytes()
    assert len(vmfb) > 1000 and (tmp_path / "params.irpa").exists()
    assert manifest["target"]["name"] == target and manifest["target"]["backend"] == slope.export.TARGETS[target].backend
    assert f"--device={slope.export.TARGETS[target].driver}" in manifest["run"]["argv"]
    assert not (tmp_path / "inputs").exists() and manifest["run"]["inputs_saved"] is False  # Avals: no values
    if target in ("aarch64", "riscv64") and os.uname().machine != target:
        with pytest.raises(slope.DeviceError, match=f"compiled for {target}.*Run it there: iree-run-module"):
            slope.export.load(tmp_path)


# ---- what cannot be exported --------------------------------------------------------------------------------


def test_python_control_flow_on_a_traced_value_is_an_export_error(tmp_path):
    def f(x):
        return x * 2 if x.sum() > 0 else -x

    with pytest.raises(slope.ExportError, match=r"export\(f\): the function depends on the value of a traced input"
                       ) as info:
        slope.export(f, np.ones(3, np.float32), path=tmp_path / "a")
    assert isinstance(info.value.__cause__, slope.TracerError)
    assert not (tmp_path / "a").exists() or not os.listdir(tmp_path / "a")


@pytest.mark.parametrize("fn,match", [
    (lambda x: 3, r"output out is int 3, not an array"),
    (lambda x: (x, "label"), r"output out.1 is str 'label', not an array"),
    (lambda x: {"y": x, "n": 2.5}, r"output out.n is float 2.5, not an array"),
    (lambda x: None, r"returns no arrays"),
])
def test_non_array_outputs_are_export_errors(tmp_path, fn, match):
    with pytest.raises(slope.ExportError, match=match):
        slope.export(fn, np.ones(3, np.float32), path=tmp_path)


def test_bad_targets_inputs_and_paths_are_export_errors(tmp_path):
    x = np.ones(3, np.float32)
    with pytest.raises(slope.ExportError, match="unknown target 'tpu'; the targets are host, x86_64"):
        slope.export(lambda x: x, x, path=tmp_path / "a", target="tpu")
    with pytest.raises(slope.ExportError, match="input x is str 'abc', not an array"):
        slope.export(lambda x: x, "abc", path=tmp_path / "a")
    with pytest.raises(slope.ExportError, match="parameter params.w is an Aval"):
        slope.export(lambda p, x: x, x, path=tmp_path / "a", params={"w": slope.Aval((2,), slope.float32)})
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")
    with pytest.raises(slope.ExportError, match="exists and is not an exported artifact"):
        slope.export(lambda x: x, x, path=tmp_path / "b")
    assert os.listdir(tmp_path / "b") == ["notes.txt"]


def test_float64_on_a_target_that_cannot_hold_it_is_an_export_error(tmp_path):
    x64 = np.ones(3)
    with pytest.raises(slope.ExportError, match=r"target vulkan-spirv does not support float64 \(x, out\)"):
        slope.export(lambda x: x.sin(), x64, path=tmp_path, target="vulkan-spirv")
    with pytest.raises(slope.ExportError, match=r"does not support float64 \(an intermediate value\)"):
        slope.export(lambda x: x.double().sin().float(), x64.astype(np.float32), path=tmp_path, target="vulkan-spirv")
    with pytest.raises(slope.ExportError, match="float64 math needs libm.*aarch64.*undefined symbol: sin"):
        slope.export(lambda x: x.sin(), x64, path=tmp_path, target="aarch64")


# ---- the example and the C API --------------------------------------------------------------------------------


def test_export_mlp_example_runs(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "export_mlp.py"), str(tmp_path / "mlp")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "iree-run-module --device=local-task --module=model.vmfb --parameters=model=params.irpa" in done.stdout
    assert "same bits" in done.stdout
    assert (tmp_path / "mlp" / "manifest.json").exists()


def _example(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(ROOT, "examples", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_cli
def test_export_digits_example_from_a_checkpoint(tmp_path, capsys):
    """The digits CNN (examples/digits.py's model, random weights saved as digits.py saves them): exported,
    run with slope.export.load and iree-run-module, compared with slope's forward."""
    example = _example("export_digits")
    model = example.digits.DigitsCNN(slope.random.key(3))
    slope.save(model, str(tmp_path / "digits.safetensors"))
    acc = example.main([str(tmp_path / "art"), "--checkpoint", str(tmp_path / "digits.safetensors"), "--batch", "8"])
    out = capsys.readouterr().out
    assert "labels identical" in out and "same bits" in out
    manifest = artifact.read_manifest(tmp_path / "art")
    keys = [e["key"] for e in manifest["parameters"]["entries"]]
    assert sorted(keys) == sorted("params." + k for k in model.state_dict())   # the weights, by their names
    assert manifest["inputs"][0]["shape"] == [8, 1, 8, 8] and manifest["outputs"][0]["name"] == "out.label"
    x, y = example.load_images()
    n = len(x) // 8 * 8                                                 # slope's own model, same images
    want = np.concatenate([model.eval()(slope.tensor(x[i:i + 8])).argmax(-1).numpy() for i in range(0, n, 8)])
    assert acc == float(np.mean(want == y[:n]))


def _iree_c_headers():
    import iree.runtime

    root = os.path.dirname(os.path.dirname(iree.runtime.__file__))
    for dirpath, _, files in os.walk(root):
        if "api.h" in files and dirpath.replace(os.sep, "/").endswith("iree/runtime"):
            return os.path.dirname(os.path.dirname(dirpath))
    return None


def test_c_snippet_compiles_where_the_iree_c_sdk_is_installed():
    """docs/export.md shows how to run an artifact from C. The pip wheels (iree-base-runtime) ship no C
    headers or static libraries, so this compiles the snippet only where they are found."""
    include = _iree_c_headers()
    if include is None:
        pytest.skip("iree-base-runtime ships no C headers (iree/runtime/api.h): the C snippet is not compiled here")
    doc = open(os.path.join(ROOT, "docs", "export.md")).read()
    code = doc.split("```c\n", 1)[1].split("```", 1)[0]
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    done = subprocess.run([cc, "-fsyntax-only", f"-I{include}", "-x", "c", "-"], input=code, text=True,
                          capture_output=True)
    assert done.returncode == 0, done.stderr


def _doc_block(lang):
    doc = open(os.path.join(ROOT, "docs", "export.md")).read()
    return doc.split(f"```{lang}\n", 1)[1].split("```", 1)[0]


def test_c_snippet_builds_and_runs_against_the_iree_runtime():
    """docs/export.md's C program and CMakeLists.txt, built against an IREE source tree (IREE_SOURCE_DIR;
    IREE_SNIPPET_BUILD_DIR keeps the ~6-minute runtime build between runs, IREE_CMAKE names a CMake >= 3.26)
    and run on an exported MLP: it must print the first logit the Python runtime gives. Regression: the
    snippet called iree_io_parse_file_index without its host allocator argument."""
    src = os.environ.get("IREE_SOURCE_DIR")
    if not src or not os.path.exists(os.path.join(src, "runtime", "src", "iree", "runtime", "api.h")):
        pytest.skip("IREE_SOURCE_DIR (an IREE source tree with third_party/flatcc) is not set: the pip wheels "
                    "ship no C headers or runtime library to build the C snippet against")
    cmake, ninja = os.environ.get("IREE_CMAKE") or shutil.which("cmake"), shutil.which("ninja")
    if cmake is None or ninja is None:
        pytest.skip("cmake and ninja are needed to build the IREE runtime")
    app = os.environ.get("IREE_SNIPPET_BUILD_DIR") or tempfile.mkdtemp(prefix="slope-c-snippet-")
    os.makedirs(app, exist_ok=True)
    with open(os.path.join(app, "run_mlp.c"), "w") as fh:
        fh.write(_doc_block("c"))
    with open(os.path.join(app, "CMakeLists.txt"), "w") as fh:
        fh.write(_doc_block("cmake"))
    params = {"w": slope.randn(64, 10, seed=0), "b": slope.tensor(np.arange(10, dtype=np.float32) * 0.5 + 0.25)}
    x = np.zeros((16, 64), np.float32)                                 # the snippet feeds zeros
    slope.export(lambda p, x: {"logits": x @ p["w"] + p["b"], "label": (x @ p["w"] + p["b"]).argmax(-1)}, x,
                 path=os.path.join(app, "mlp"), params=params)
    want = float(slope.export.load(os.path.join(app, "mlp"))(x)["logits"][0, 0])
    build = os.path.join(app, "build")
    for argv in ([cmake, "-G", "Ninja", "-S", app, "-B", build, f"-DIREE_SOURCE_DIR={src}",
                  "-DCMAKE_BUILD_TYPE=Release"], [ninja, "-C", build, "run_mlp"]):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3000)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    run = subprocess.run([os.path.join(build, "run_mlp")], cwd=app, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"logits[0, 0] = {want:f}" and want == 0.25


def test_bfloat16_weights_and_inputs_through_the_python_runtime(tmp_path):
    import ml_dtypes

    w = slope.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)).to(slope.bfloat16)
    x = np.linspace(0, 2, 8, dtype=np.float32).reshape(2, 4).astype(ml_dtypes.bfloat16)

    def f(p, x):
        return x @ p["w"]

    manifest = slope.export(f, x, path=tmp_path, params={"w": w}, save_inputs=False)
    assert manifest["parameters"]["entries"][0]["dtype"] == "bfloat16"
    got = slope.export.load(tmp_path)(x)
    assert got.dtype == np.dtype(ml_dtypes.bfloat16)
    assert_bitwise_equal(got, slope.jit(f)({"w": w}, x).numpy())


def test_jitted_functions_and_inline_constants_of_every_kind_export(tmp_path):
    mask = slope.tensor(np.array([[True, False, True], [False, False, True]]))
    empty = slope.tensor(np.zeros((0, 3), np.float32))
    half = slope.tensor(np.array([0.5, 1.5, -2], np.float16))

    @slope.jit
    def f(x):
        return slope.where(mask, x, -x), slope.cat([empty, x], 0), x * half.float()

    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    manifest = slope.export(f, x, path=tmp_path)
    assert manifest["name"] == "f" and manifest["inputs"][0]["name"] == "x" and manifest["parameters"] is None
    text = (tmp_path / "model.mlir").read_text()
    assert "dense<[[true, false, true], [false, false, true]]> : tensor<2x3xi1>" in text
    assert 'dense<"0x0038003E00C0"> : tensor<3xf16>' in text and "dense<> : tensor<0x3xf32>" in text
    for got, want in zip(slope.export.load(tmp_path)(x), f(x)):
        assert_bitwise_equal(got, want.numpy())
