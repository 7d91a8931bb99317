"""RAPSD of a batch of fields: ours vs pysteps' per-field ``rapsd`` and vs ``torch.fft.rfft2`` alone.

DESIGN.md section 7: >= 20x faster than pysteps looped per field, and within 3x of the
FFT itself. Inputs are float32 batches of 128 mel-sized (64 x 256) and 128 square
(128 x 128) fields (32 each with ``--quick``). pysteps gets the same float32 values as
NumPy arrays. ``extra["stages"]`` times each step of ``rapsd`` separately on the same batch.
"""

from __future__ import annotations

import numpy as np
import torch
from pysteps.utils.spectral import rapsd as pysteps_rapsd

from audiospec.functional import rapsd, ring_weights
from audiospec.functional._shape import check_finite
from audiospec.transforms import RAPSD
from benchmarks.common import Context, Result, time_call

NAME = "rapsd"
DESCRIPTION = "RAPSD of 128 fields vs pysteps per field (>= 20x) and vs rfft2 alone (<= 3x)"

SHAPES = [(64, 256), (128, 128)]


def _stages(x: torch.Tensor, ctx: Context) -> dict[str, float]:
    """Median seconds of each step rapsd(mode="pysteps") performs, timed in isolation."""
    H, W = x.shape[-2:]
    x64 = x.to(torch.float64)
    spectrum = torch.fft.rfft2(x64)
    power = spectrum.abs().pow(2) / (H * W)
    A, _ = ring_weights(H, W, mode="pysteps")
    flat = power.reshape(x.shape[0], -1)
    steps = {
        "check_finite": lambda: check_finite(x, name="field"),
        "to_float64": lambda: x.to(torch.float64),
        "ring_weights": lambda: ring_weights(H, W, mode="pysteps"),
        "rfft2_float64": lambda: torch.fft.rfft2(x64),
        "abs_pow2_div": lambda: spectrum.abs().pow(2) / (H * W),
        "ring_matmul_float64": lambda: flat @ A,
    }
    return {k: time_call(f, warmup=ctx.warmup, repeats=ctx.repeats).median_s for k, f in steps.items()}


def run(ctx: Context) -> list[Result]:
    n_fields = 32 if ctx.quick else 128
    results: list[Result] = []
    for H, W in SHAPES:
        g = torch.Generator().manual_seed(ctx.seed)
        x = torch.randn(n_fields, H, W, generator=g, dtype=torch.float32)  # [N, H, W]
        x_np = x.numpy()
        case = f"{n_fields} x {H}x{W} float32"

        ours = time_call(lambda: rapsd(x, mode="pysteps"), warmup=ctx.warmup, repeats=ctx.repeats)
        ours_normalized = time_call(lambda: rapsd(x, mode="normalized"), warmup=ctx.warmup, repeats=ctx.repeats)
        module = RAPSD(H, W, mode="pysteps")
        ours_module = time_call(lambda: module(x), warmup=ctx.warmup, repeats=ctx.repeats)
        peer_loop = time_call(
            lambda: [pysteps_rapsd(f, fft_method=np.fft) for f in x_np], warmup=1, repeats=max(3, ctx.repeats // 2)
        )
        fft_only = time_call(lambda: torch.fft.rfft2(x), warmup=ctx.warmup, repeats=ctx.repeats)
        fft_only_64 = time_call(lambda: torch.fft.rfft2(x.to(torch.float64)), warmup=ctx.warmup, repeats=ctx.repeats)
        stages = _stages(x, ctx)

        results.append(Result(NAME, case, "rapsd(mode='pysteps')", "pysteps rapsd, loop over fields",
                              ours, peer_loop, "speedup", 20.0, extra={"stages_s": stages}))
        results.append(Result(NAME, case, "rapsd(mode='pysteps')", "torch.fft.rfft2 (float32) alone",
                              ours, fft_only, "overhead", 3.0,
                              extra={"rfft2_float64_incl_cast_s": fft_only_64.median_s}))
        results.append(Result(NAME, case, "rapsd(mode='normalized')", "torch.fft.rfft2 (float32) alone",
                              ours_normalized, fft_only, "overhead", 3.0))
        results.append(Result(NAME, case, "RAPSD module (weights cached)", "torch.fft.rfft2 (float32) alone",
                              ours_module, fft_only, "overhead", 3.0))
    return results
