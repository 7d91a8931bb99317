"""FLOPs of a training or sampling step, the machine's peak, and the fraction of it a step achieves (MFU).

- **FLOPs** are counted by ``torch.utils.flop_counter.FlopCounterMode`` on one real call:
  matrix products and convolutions (2 FLOPs per multiply-add), forward and backward; the
  elementwise work (norms, activations, the optimiser) is not counted, as in the usual MFU
  convention (Chowdhery et al. 2022, PaLM, appendix B).
- **Peak, CPU**: cores x FLOPs per cycle per core x clock. FLOPs per cycle come from the
  instruction set in ``/proc/cpuinfo``: 2 (fused multiply-add) x float32 lanes per vector x
  FMA pipes. AVX-512 cores are counted with 16 lanes x 2 pipes (Intel server cores with two
  512-bit FMA units; a single-FMA SKU would halve it) except AMD family 25 (Zen 4), which runs
  AVX-512 on two 256-bit pipes (8 lanes x 2); AVX2 + FMA: 8 lanes x 2 pipes; SSE without FMA: 4 lanes x 2 pipes (one add, one
  multiply). bfloat16 doubles the float32 rate where
  the ISA has a bf16 dot product (``avx512_bf16``: two products per 32-bit lane) and is
  otherwise the float32 rate (emulated). The clock is the nominal one in ``model name``
  ("@ 2.50GHz") or else ``cpu MHz``; turbo is not modelled, so the fraction can exceed what
  a sustained clock allows by the turbo ratio. State these assumptions beside every figure.
- **Peak, CUDA**: dense tensor-core rates of the data sheets for the GPUs we run on
  (:data:`GPU_PEAK_TFLOPS`), chosen by the device name; unknown GPUs give ``None``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

import torch
from torch.utils.flop_counter import FlopCounterMode

from audiospec.errors import AudiospecError

if TYPE_CHECKING:
    from audiospec.diffusion.unet import ModelConfig

__all__ = ["CpuInfo", "GPU_PEAK_TFLOPS", "Peak", "count_flops", "cpu_info", "cpu_peak", "gpu_peak", "machine_peak",
           "training_step_flops"]

Dtype = Literal["fp32", "bf16"]

# dense (no sparsity) tensor-core TFLOP/s from NVIDIA's data sheets (SXM parts); fp32 = the CUDA-core rate
GPU_PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H200": {"bf16": 989.0, "fp32": 67.0},
    "H100": {"bf16": 989.0, "fp32": 67.0},
    "A100": {"bf16": 312.0, "fp32": 19.5},
}


@dataclass(frozen=True)
class CpuInfo:
    """What the peak of a CPU is computed from (module doc)."""

    model: str
    vendor: str
    family: int | None
    flags: frozenset[str]
    ghz: float | None
    cores: int


@dataclass(frozen=True)
class Peak:
    """A machine's peak rate for one dtype and how it was derived (``how``: a sentence for the report)."""

    flops_per_second: float | None
    how: str


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (matrix products and convolutions, forward and backward; module doc)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def _field(text: str, key: str) -> str | None:
    match = re.search(rf"^{re.escape(key)}\s*:\s*(.*)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


def cpu_info(cpuinfo: str | None = None, *, cores: int | None = None) -> CpuInfo:
    """Parse ``/proc/cpuinfo`` (or the text ``cpuinfo``); ``cores`` defaults to the CPUs this process may use."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.is_file() else ""
    model = _field(cpuinfo, "model name") or "unknown"
    family = _field(cpuinfo, "cpu family")
    ghz = re.search(r"@\s*([0-9.]+)\s*GHz", model)
    mhz = _field(cpuinfo, "cpu MHz")
    clock = float(ghz.group(1)) if ghz else (float(mhz) / 1000.0 if mhz else None)
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return CpuInfo(model=model, vendor=_field(cpuinfo, "vendor_id") or "unknown",
                   family=int(family) if family and family.isdigit() else None,
                   flags=frozenset((_field(cpuinfo, "flags") or "").split()), ghz=clock, cores=cores)


def _fp32_flops_per_cycle(info: CpuInfo) -> tuple[int, str]:
    """float32 FLOPs per cycle per core and the sentence saying why (module doc)."""
    if "avx512f" in info.flags:
        if info.vendor == "AuthenticAMD" and info.family == 25:
            return 32, "AVX-512 on Zen 4's two 256-bit FMA pipes: 2 x 8 lanes x 2"
        return 64, "AVX-512, two 512-bit FMA units: 2 x 16 lanes x 2"
    if "avx2" in info.flags and "fma" in info.flags:
        return 32, "AVX2 + FMA, two 256-bit FMA pipes: 2 x 8 lanes x 2"
    return 8, "SSE, no FMA: 4 lanes x 2 pipes"


def cpu_peak(info: CpuInfo, dtype: Dtype = "fp32", *, threads: int | None = None) -> Peak:
    """Peak FLOP/s of ``threads`` cores (default: every core) of the CPU ``info`` in ``dtype`` (module doc)."""
    if dtype not in ("fp32", "bf16"):
        raise AudiospecError(f"dtype must be 'fp32' or 'bf16', got {dtype!r}")
    per_cycle, why = _fp32_flops_per_cycle(info)
    if dtype == "bf16":
        native = "avx512_bf16" in info.flags or "amx_bf16" in info.flags
        per_cycle, why = (2 * per_cycle, why + ", x 2 for the bf16 dot product") if native else (
            per_cycle, why + ", bf16 not native (no avx512_bf16): the fp32 rate")
    cores = threads if threads is not None else info.cores
    if info.ghz is None:
        return Peak(None, f"{why}; clock unknown")
    return Peak(cores * per_cycle * info.ghz * 1e9,
                f"{cores} cores x {per_cycle} FLOP/cycle ({why}) x {info.ghz:.2f} GHz (nominal, no turbo)")


def gpu_peak(name: str, dtype: Dtype = "bf16") -> Peak:
    """Data-sheet peak of a GPU called ``name`` (e.g. ``torch.cuda.get_device_name()``) in ``dtype``."""
    for key, rates in GPU_PEAK_TFLOPS.items():
        if key in name.upper():
            return Peak(rates[dtype] * 1e12, f"{key} data sheet, dense {dtype}: {rates[dtype]:g} TFLOP/s")
    return Peak(None, f"no data-sheet peak known for {name!r}")


def machine_peak(device: torch.device | str, dtype: Dtype, *, threads: int | None = None) -> Peak:
    """:func:`gpu_peak` of a CUDA ``device``, else :func:`cpu_peak` of this CPU with ``threads`` threads."""
    device = torch.device(device)
    if device.type == "cuda":
        return gpu_peak(torch.cuda.get_device_name(device), dtype)
    return cpu_peak(cpu_info(), dtype, threads=threads if threads is not None else torch.get_num_threads())


def training_step_flops(model: "ModelConfig", *, batch: int, shape: tuple[int, int]) -> int:
    """FLOPs of one training step (forward + backward) of a U-Net ``model`` on ``batch`` patches ``[1, M, T]``,
    counted on the meta device (shapes only, no arithmetic, so it is instant for any size)."""
    from audiospec.diffusion.unet import UNet

    with torch.device("meta"):
        net = UNet(model)
        x, t = torch.zeros(batch, model.in_channels, *shape), torch.zeros(batch)
    return count_flops(lambda: net(x, t).square().mean().backward())
