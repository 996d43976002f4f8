"""The targets slope.export compiles for: IREE's backend, its flags, the runtime driver, and what
the target cannot hold.

Every target below was compiled here with iree-base-compiler 3.13 (a dot_general, a sine, i64 and
bool values); `host` and `x86_64` also run here. aarch64 and riscv64 are cross-compiled with
IREE's embedded linker, which has no libm: a float64 transcendental (sin, tanh, ...) fails to link
for them ("undefined symbol: sin"); slope reports that as an ExportError naming float64. The
default Vulkan target (vp_android_baseline_2022: fp32/int32 compute, 32-bit storage) cannot hold
float64 at all ("failed to convert SPIR-V type: memref<?xf64>"): rejected before compiling.
"""
from __future__ import annotations

import platform
from dataclasses import dataclass, field

from slope.backends.iree.compile import BASE_FLAGS, DATA_TILING_FLAGS, DATA_TILING_MIN_MNK, F64_FLAGS
from slope.backends.iree.emitter import Needs
from slope.errors import ExportError

# Flags every export shares with slope's own compiles (see compile.BASE_FLAGS): float64 stays
# float64, and no compile-time constant evaluation (weights are parameters, unknown at compile time).
# Not the host CPU, nor memoization's switch (measured for the local CPU only; on a GPU recorded
# command buffers are what memoization saves).
COMMON_FLAGS = [f for f in BASE_FLAGS if not f.startswith(("--iree-llvmcpu-target-cpu", "--iree-hal-memoization"))]


@dataclass(frozen=True)
class Target:
    name: str
    backend: str  # iree-compile --iree-hal-target-backends
    flags: tuple  # target flags (triple, cpu, GPU architecture)
    driver: str  # iree-run-module --device / the Python runtime's driver
    arch: str | None = None  # the machine's architecture for CPU targets (None: any CPU of that backend)
    system_linker: bool = False  # float64 modules may link libm with /usr/bin/ld (host objects only)
    unsupported: dict = field(default_factory=dict)  # dtype name -> why the target cannot hold it
    note: str = ""

    def compile_flags(self, needs: Needs, extra=()) -> list[str]:
        """The iree-compile flags (after --iree-input-type and --iree-hal-target-backends)."""
        flags = list(self.flags) + COMMON_FLAGS
        if self.backend == "llvm-cpu":
            if needs.f64 and self.system_linker:
                flags += F64_FLAGS
            if needs.dot_mnk >= DATA_TILING_MIN_MNK:
                flags += DATA_TILING_FLAGS
        return flags + list(extra)

    def runs_here(self) -> bool:
        """Whether this machine can run the module (CPU targets of this architecture)."""
        return self.backend == "llvm-cpu" and (self.arch is None or self.arch == platform.machine())


_VULKAN_F64 = ("the default Vulkan target (vp_android_baseline_2022) computes in fp32/int32 with 32-bit storage: "
               "IREE cannot store a float64 buffer there")

TARGETS = {t.name: t for t in [
    Target("host", "llvm-cpu", ("--iree-llvmcpu-target-cpu=host",), "local-task", arch=platform.machine(),
           system_linker=True, note="this machine's CPU, with every feature it has (what slope.jit compiles for)"),
    Target("x86_64", "llvm-cpu", ("--iree-llvmcpu-target-triple=x86_64-unknown-linux-gnu",
                                  "--iree-llvmcpu-target-cpu=generic"), "local-task", arch="x86_64",
           system_linker=platform.machine() == "x86_64", note="any x86-64 Linux machine (baseline ISA)"),
    Target("aarch64", "llvm-cpu", ("--iree-llvmcpu-target-triple=aarch64-unknown-linux-gnu",
                                   "--iree-llvmcpu-target-cpu=generic"), "local-task", arch="aarch64",
           note="64-bit Arm Linux (cross-compiled; float64 transcendentals do not link)"),
    Target("riscv64", "llvm-cpu", ("--iree-llvmcpu-target-triple=riscv64-unknown-linux-gnu",
                                   "--iree-llvmcpu-target-cpu=generic-rv64", "--iree-llvmcpu-target-abi=lp64d",
                                   "--iree-llvmcpu-target-cpu-features=+m,+a,+f,+d,+c"), "local-task",
           arch="riscv64", note="RV64GC Linux (cross-compiled; float64 transcendentals do not link)"),
    Target("cuda", "cuda", ("--iree-cuda-target=sm_80",), "cuda",
           note="NVIDIA GPUs from Ampere (sm_80) on; pass flags=['--iree-cuda-target=sm_90'] for another"),
    Target("vulkan-spirv", "vulkan-spirv", (), "vulkan", unsupported={"float64": _VULKAN_F64},
           note="Vulkan GPUs (IREE's portable baseline profile)"),
]}


def get(name) -> Target:
    if isinstance(name, Target):
        return name
    target = TARGETS.get(name)
    if target is None:
        raise ExportError(f"export: unknown target {name!r}; the targets are {', '.join(TARGETS)}")
    return target
