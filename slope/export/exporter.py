"""slope.export: trace a function once, write its StableHLO, an IREE module compiled for a target,
its weights as an IREE parameter archive, and a manifest saying how to run it without Python.

The module that is compiled (model.mlir) is the function's StableHLO as a private function
@slope_body whose leading arguments are the weights, and a public @main that reads each weight
from a `util.global` initialized from `#flow.parameter.named<"model"::"<key>">` and calls it:
IREE resolves the parameters when the module is loaded, from whatever provides the `model` scope
(`iree-run-module --parameters=model=params.irpa`, or an io_parameters module in the Python/C
runtime). Small closed-over constants stay in the module as `stablehlo.constant`s.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

from slope.backends.iree import lowering
from slope.backends.iree.cache import compiler_version
from slope.backends.iree.emitter import mlir_type
from slope.core.aval import Aval
from slope.core.dtypes import dtype as as_dtype
from slope.core.pytree import tree_flatten, tree_unflatten
from slope.core.tensor import Tensor, as_tensor
from slope.core.trace import Tracer
from slope.errors import ExportError, SlopeError, TracerError
from slope.export import targets as _targets
from slope.export.artifact import FORMAT, MANIFEST, VERSION, command_line
from slope.transforms.staging import make_program

SCOPE = "model"  # the parameter scope the module reads its weights from
CONST_LIMIT = 1024  # closed-over constants of more bytes than this go to the parameter archive
FILES = ("model.mlir", "model.stablehlo.mlir", "model.vmfb", "params.irpa", MANIFEST)


# ---- names -----------------------------------------------------------------------------------------

def _paths(tree, prefix):
    """The dotted path of every leaf of a TreeDef (dict keys, sequence indices)."""
    if tree.node is None:
        return [prefix]
    out = []
    keys = tree.aux if tree.node is dict else range(len(tree.children))
    for k, child in zip(keys, tree.children):
        out += _paths(child, f"{prefix}.{k}" if prefix else str(k))
    return out


def _json_tree(tree, counter):
    """A TreeDef as JSON for the loader (namedtuples and custom nodes become tuples)."""
    if tree.node is None:
        counter[0] += 1
        return {"leaf": counter[0] - 1}
    if tree.node is type(None):
        return {"none": 0}
    kids = [_json_tree(c, counter) for c in tree.children]
    if tree.node is dict:
        return {"dict": [[str(k), c] for k, c in zip(tree.aux, kids)]}
    return {"list" if tree.node is list else "tuple": kids}


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name) or "_"


def _unique(names):
    seen, out = set(), []
    for n in names:
        base, k = n, 1
        while n in seen:
            n, k = f"{base}_{k}", k + 1
        seen.add(n)
        out.append(n)
    return out


def _arg_names(f, n_args, with_params):
    """Names of f's positional parameters for its example arguments: `x`, `xs0` for `*xs`, else `arg<i>`."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
    skip = 1 if with_params else 0  # f(params, *args): the first positional argument is the weights
    names = positional + [f"{var}{k}" if var else f"arg{k}" for k in range(n_args + skip)]
    return names[skip:skip + n_args]


# ---- values ----------------------------------------------------------------------------------------

def _aval_of(x, what):
    if isinstance(x, Aval):
        return x
    if isinstance(x, Tracer):
        raise ExportError(f"export: {what} is a traced value; call slope.export outside jit/grad/vmap")
    if isinstance(x, (str, bytes)) or x is None:
        raise ExportError(f"export: {what} is {type(x).__name__} {x!r:.40}, not an array")
    try:
        return as_tensor(x).aval
    except SlopeError as e:
        raise ExportError(f"export: {what} is not an array: {e}") from None


def _host_array(x, what) -> np.ndarray:
    if isinstance(x, Aval):
        raise ExportError(f"export: {what} is an Aval (shape and dtype only); parameters need their values")
    _aval_of(x, what)
    t = as_tensor(x)
    return np.asarray(t.numpy())


def _dense(a: np.ndarray, aval: Aval) -> str:
    """An exact `dense<...>` literal of a host array (raw little-endian bytes as hex; bools as words)."""
    if aval.dtype.is_bool:
        def words(x):
            if x.ndim == 0:
                return "true" if x else "false"
            return "[" + ", ".join(words(c) for c in x) + "]"
        return f"dense<{words(a)}>"
    if a.size == 0:
        return "dense<>" if a.ndim else "dense<0>"
    return f'dense<"0x{np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes().hex().upper()}">'


# ---- the module ------------------------------------------------------------------------------------

def _module_text(body: str, inputs, weights, outs) -> str:
    """model.mlir: parameter globals, the program as @slope_body, and @main(inputs) calling it.
    `weights`: [(aval, ("param", key) | ("inline", array))] for the body's leading arguments."""
    lines = []
    for i, (aval, (kind, value)) in enumerate(weights):
        if kind == "param":
            lines.append(f'util.global private @weight_{i} = #flow.parameter.named<"{SCOPE}"::"{value}"> : '
                         f"{mlir_type(aval)}")
    lines.append(body.replace("func.func @main(", "func.func private @slope_body(", 1).rstrip("\n"))
    sig = ", ".join(f"%in{i}: {mlir_type(a)}" for i, a in enumerate(inputs))
    res = ", ".join(mlir_type(a) for a in outs)
    lines.append(f"func.func @main({sig}) -> ({res}) {{")
    args = []
    for i, (aval, (kind, value)) in enumerate(weights):
        if kind == "param":
            lines.append(f"  %w{i} = util.global.load @weight_{i} : {mlir_type(aval)}")
        else:
            lines.append(f"  %w{i} = stablehlo.constant {_dense(value, aval)} : {mlir_type(aval)}")
        args.append(f"%w{i}")
    args += [f"%in{i}" for i in range(len(inputs))]
    types = ", ".join(mlir_type(a) for a in [w[0] for w in weights] + list(inputs))
    result = "%r" if len(outs) == 1 else f"%r:{len(outs)}"
    lines.append(f"  {result} = func.call @slope_body({', '.join(args)}) : ({types}) -> ({res})")
    rets = ["%r"] if len(outs) == 1 else [f"%r#{i}" for i in range(len(outs))]
    lines.append(f"  return {', '.join(rets)} : {res}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _write_archive(file, entries):
    """An IREE parameter archive (.irpa) of {key: array}, written with iree.runtime's ParameterIndex
    (each entry carries IREE's tensor metadata where the runtime knows the dtype)."""
    import iree.runtime as rt

    index = rt.ParameterIndex()
    for key, a in entries.items():
        a = a if a.flags.c_contiguous else a.copy(order="C")
        try:
            rt.parameter_index_add_numpy_ndarray(index, key, a)
        except Exception:  # a dtype IREE's metadata does not name (bfloat16): the raw bytes
            index.add_buffer(key, a.reshape(-1).view(np.uint8).copy())
    index.create_archive_file(file)


def _check_dtypes(target, named_avals, needs):
    for dt, why in target.unsupported.items():
        users = [name for name, a in named_avals if a.dtype.name == dt]
        if users or (dt == "float64" and needs.f64):
            where = ", ".join(users) if users else "an intermediate value"
            raise ExportError(f"export: target {target.name} does not support {dt} ({where}): {why}. "
                              f"Cast to float32 (x.float()) or export for another target")


def _compile(text, target, argv, name, needs) -> bytes:
    """Run the manifest's iree-compile command line on model.mlir (in a scratch directory, so that the
    module records the same file name as a rerun of that command in the artifact does)."""
    from iree.compiler.tools.binaries import find_tool

    with tempfile.TemporaryDirectory(prefix="slope-export-") as tmp:
        with open(os.path.join(tmp, "model.mlir"), "w") as fh:
            fh.write(text)
        done = subprocess.run([find_tool("iree-compile"), *argv[1:]], cwd=tmp, capture_output=True, text=True)
        if done.returncode == 0:
            with open(os.path.join(tmp, "model.vmfb"), "rb") as fh:
                return fh.read()
    msg = done.stderr.strip() or done.stdout.strip()
    if needs.f64 and "undefined symbol" in msg:
        raise ExportError(f"export({name}): float64 math needs libm, which IREE's embedded linker lacks for "
                          f"target {target.name} (only targets of this machine's architecture link with the "
                          f"system linker): cast to float32 or export for host. IREE said: "
                          f"{next(line for line in msg.splitlines() if 'undefined symbol' in line).strip()}")
    raise ExportError(f"export({name}): IREE failed to compile for target {target.name} "
                      f"(exit status {done.returncode}):\n{msg[-4000:]}")


# ---- export ----------------------------------------------------------------------------------------

def export(f, *example_args, path, target="host", params=None, flags=(), const_limit=CONST_LIMIT,
           name=None, save_inputs=True):
    """Export `f` as a standalone IREE module in directory `path`; returns the manifest (a dict).

    f is traced once on `example_args` (Tensors, NumPy arrays, scalars, or slope.Aval(shape, dtype)
    for shape and dtype only; pytrees of them), as f(params, *example_args) if `params` (a pytree of
    arrays: the weights) is given. Written: model.mlir (what is compiled), model.stablehlo.mlir (the
    plain StableHLO function, weights as leading arguments), model.vmfb (compiled for `target`, one of
    slope.export.TARGETS, plus extra iree-compile `flags`), params.irpa (the weights, and closed-over
    constants of more than `const_limit` bytes, as an IREE parameter archive the module reads at load
    time), inputs/<name>.npy (the example inputs, if `save_inputs`) and manifest.json (inputs,
    outputs, target, flags, and the iree-run-module command line). slope.export.load(path) runs it."""
    tgt = _targets.get(target)
    name = name or getattr(f, "__name__", "f")
    if not callable(f):
        raise ExportError(f"export: expected a function, got {type(f).__name__} {f!r:.60}")
    if name == "<lambda>":
        name = "f"
    path = os.fspath(path)
    _check_dir(path)

    # the inputs: parameters (with values) and example arguments (shapes and dtypes)
    param_leaves, param_tree = tree_flatten(params) if params is not None else ([], None)
    param_names = _unique([f"params.{p}" if p else "params" for p in _paths(param_tree, "")]) if param_tree else []
    param_arrays = [_host_array(x, f"parameter {n}") for x, n in zip(param_leaves, param_names)]
    arg_leaves, arg_tree = tree_flatten(tuple(example_args))
    top = _arg_names(f, len(example_args), params is not None)
    arg_names = []
    for child, top_name in zip(arg_tree.children, top):
        arg_names += _paths(child, top_name)
    arg_names = _unique([_safe(n) for n in arg_names])
    arg_avals = [_aval_of(x, f"input {n}") for x, n in zip(arg_leaves, arg_names)]
    param_avals = [Aval(a.shape, as_dtype(a.dtype)) for a in param_arrays]

    # trace
    n_params = len(param_leaves)
    out_tree_box = []

    def flat_fun(*leaves):
        xs = tree_unflatten(arg_tree, leaves[n_params:])
        out = f(tree_unflatten(param_tree, leaves[:n_params]), *xs) if params is not None else f(*xs)
        out_leaves, out_tree = tree_flatten(out)
        for p, leaf in zip(_paths(out_tree, "out"), out_leaves):
            if not isinstance(leaf, (Tensor, Tracer)):
                raise ExportError(f"export({name}): output {p} is {type(leaf).__name__} {leaf!r:.40}, not an array; "
                                  "exported functions return tensors (wrap a constant in slope.tensor, or return "
                                  "it from Python instead)")
        if not out_leaves:
            raise ExportError(f"export({name}): the function returns no arrays ({out!r:.60})")
        out_tree_box.append(out_tree)
        return out_leaves

    try:
        program, consts = make_program(flat_fun, param_avals + arg_avals, name)
    except TracerError as e:
        raise ExportError(f"export({name}): the function depends on the value of a traced input in Python "
                          f"(data-dependent control flow such as `if x.sum() > 0`, or .item()/.numpy() on a "
                          f"traced value); an exported module has one fixed program: use slope.where, or pass the "
                          f"value as a Python constant (functools.partial). Traced error: {e}") from e
    out_tree = out_tree_box[0]
    out_names = _unique([_safe(p) for p in _paths(out_tree, "out")])
    out_avals = list(program.out_avals)

    # weights: the body's leading arguments, closed-over constants first (make_program's order)
    weights, archive, entries = [], {}, []
    for i, c in enumerate(consts):
        a = np.asarray(c.numpy())
        if a.nbytes > const_limit and not c.aval.dtype.is_bool:
            key = f"const.{i}"
            weights.append((c.aval, ("param", key)))
            archive[key] = a
            entries.append({"key": key, "source": "constant", "shape": list(a.shape), "dtype": c.aval.dtype.name})
        else:
            weights.append((c.aval, ("inline", a)))
    for pname, key, a, aval in zip(param_names, _unique([_safe(n) for n in param_names]), param_arrays, param_avals):
        if aval.dtype.is_bool:  # IREE stores i1 as bytes: masks stay in the module
            weights.append((aval, ("inline", a)))
            continue
        weights.append((aval, ("param", key)))
        archive[key] = a
        entries.append({"key": key, "source": "params", "shape": list(a.shape), "dtype": aval.dtype.name})

    body, needs = lowering.lower_module(program)
    _check_dtypes(tgt, list(zip(arg_names, arg_avals)) + list(zip(out_names, out_avals))
                  + list(zip(param_names, param_avals)), needs)
    text = _module_text(body, arg_avals, weights, out_avals)
    compile_flags = tgt.compile_flags(needs, flags)
    compile_argv = ["iree-compile", "--iree-input-type=stablehlo", f"--iree-hal-target-backends={tgt.backend}",
                    *compile_flags, "model.mlir", "-o", "model.vmfb"]
    vmfb = _compile(text, tgt, compile_argv, name, needs)

    # write
    _clear_dir(path)
    with open(os.path.join(path, "model.mlir"), "w") as fh:
        fh.write(text)
    with open(os.path.join(path, "model.stablehlo.mlir"), "w") as fh:
        fh.write(body)
    with open(os.path.join(path, "model.vmfb"), "wb") as fh:
        fh.write(vmfb)
    if archive:
        _write_archive(os.path.join(path, "params.irpa"), archive)
    inputs = [{"name": n, "shape": list(a.shape), "dtype": a.dtype.name, "file": f"inputs/{n}.npy"}
              for n, a in zip(arg_names, arg_avals)]
    outputs = [{"name": n, "shape": list(a.shape), "dtype": a.dtype.name, "file": f"{n}.npy"}
               for n, a in zip(out_names, out_avals)]
    if save_inputs and all(not isinstance(x, Aval) for x in arg_leaves):
        os.makedirs(os.path.join(path, "inputs"), exist_ok=True)
        for spec, x in zip(inputs, arg_leaves):
            np.save(os.path.join(path, spec["file"]), np.asarray(as_tensor(x).numpy()))
    argv = ["iree-run-module", f"--device={tgt.driver}", "--module=model.vmfb"]
    if archive:
        argv.append(f"--parameters={SCOPE}=params.irpa")
    argv.append("--function=main")
    argv += [f"--input=@{spec['file']}" for spec in inputs]
    argv += [f"--output=@{spec['file']}" for spec in outputs]
    manifest = {
        "format": FORMAT, "version": VERSION, "name": name, "function": "main",
        "module": "model.vmfb", "mlir": "model.mlir", "stablehlo": "model.stablehlo.mlir",
        "target": {"name": tgt.name, "backend": tgt.backend, "driver": tgt.driver, "arch": tgt.arch,
                   "note": tgt.note},
        "compiler": {"version": compiler_version(), "flags": compile_flags, "argv": compile_argv,
                     "command": command_line(compile_argv)},
        "parameters": {"file": "params.irpa", "format": "irpa", "scope": SCOPE, "entries": entries}
        if archive else None,
        "inputs": inputs, "outputs": outputs,
        "input_tree": _json_tree(arg_tree, [0]), "output_tree": _json_tree(out_tree, [0]),
        "run": {"cwd": ".", "argv": argv, "command": command_line(argv),
                "inputs_saved": bool(save_inputs and all(not isinstance(x, Aval) for x in arg_leaves))},
    }
    with open(os.path.join(path, MANIFEST), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    return manifest


def _check_dir(path):
    """Refuse a path that is a file, or a non-empty directory that holds no earlier export."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ExportError(f"export: {path} exists and is not a directory")
    if os.path.isdir(path) and os.listdir(path) and not os.path.exists(os.path.join(path, MANIFEST)):
        raise ExportError(f"export: {path} exists and is not an exported artifact (no {MANIFEST}); "
                          "choose an empty or new directory")


def _clear_dir(path):
    """Make `path`, or remove a previous export there (its files, and the outputs its command wrote)."""
    _check_dir(path)
    manifest = os.path.join(path, MANIFEST)
    if os.path.exists(manifest):
        try:
            with open(manifest) as fh:
                old = [o.get("file") for o in json.load(fh).get("outputs", [])]
        except (OSError, ValueError, AttributeError):
            old = []
        for fname in [*FILES, *old]:
            if isinstance(fname, str) and fname and os.sep not in fname and os.path.isfile(os.path.join(path, fname)):
                os.remove(os.path.join(path, fname))
        shutil.rmtree(os.path.join(path, "inputs"), ignore_errors=True)
    os.makedirs(path, exist_ok=True)
