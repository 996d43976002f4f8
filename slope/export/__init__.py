"""slope.export: deploy a function without Python, as an IREE module plus its weights.

    slope.export(f, *example_args, path=..., target="host", params=None)  # writes the artifact
    slope.export.load(path)(*arrays)                                       # runs it (NumPy in, NumPy out)

The artifact directory holds model.mlir (StableHLO + parameter globals), model.stablehlo.mlir,
model.vmfb (compiled for the target), params.irpa (the weights, an IREE parameter archive) and
manifest.json (inputs, outputs, target, flags and the `iree-run-module` command line). See
docs/export.md. `artifact` (the loader) uses only the IREE runtime and NumPy.
"""
from slope.export.artifact import Exported, load, read_manifest  # noqa: F401
from slope.export.exporter import export  # noqa: F401
from slope.export.targets import TARGETS, Target  # noqa: F401

export.load = load  # slope.export.load(path), next to slope.export(f, ...)
export.TARGETS = TARGETS
