"""RAPSD of a batch of fields: ours vs pysteps' per-field ``rapsd`` and vs ``torch.fft.rfft2`` alone.

DESIGN.md section 7 and issue 15: >= 20x faster than pysteps looped per field, and within 2x
of the FFT itself (everything after the FFT may cost at most as much as the FFT). Inputs
are float32 and float64 batches of 128 mel-sized (64 x 256) and 128 square (128 x 128)
fields (32 each with ``--quick``). pysteps gets the same values as NumPy arrays.
``extra["stages_s"]`` times each step of ``rapsd`` separately on the same batch.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from pysteps.utils.spectral import rapsd as pysteps_rapsd

from audiospec.functional import rapsd, ring_map
from audiospec.functional._complex import squared_magnitude_
from audiospec.functional._shape import check_finite
from audiospec.transforms import RAPSD
from benchmarks.common import Context, Result, time_call

NAME = "rapsd"
DESCRIPTION = "RAPSD of 128 fields (float32/64) vs pysteps per field (>= 20x) and vs rfft2 alone (<= 2x)"

SHAPES = [(64, 256), (128, 128)]
DTYPES = [torch.float32, torch.float64]


def _stages(x: torch.Tensor, ctx: Context) -> dict[str, float]:
    """Median seconds of each step of rapsd(mode="normalized") on the whole batch, timed in isolation: where the
    time goes (issue 15 asks for the profile before the fix)."""
    H, W = x.shape[-2:]
    rings = ring_map(H, W, mode="normalized")
    spectrum = torch.fft.rfft2(x)
    power = squared_magnitude_(spectrum.clone()).reshape(x.shape[0], -1)
    w_lower = rings.w_lower.to(x.dtype)
    out = torch.zeros(x.shape[0], rings.freqs.numel() + 1, dtype=x.dtype)
    steps = {
        "ring_map (uncached)": lambda: ring_map(H, W, mode="normalized"),
        "rfft2": lambda: torch.fft.rfft2(x),
        "copy of the spectrum (reference for the next row)": lambda: spectrum.clone(),
        "squared_magnitude_ incl. copy": lambda: squared_magnitude_(spectrum.clone()),
        "weight multiply": lambda: power * w_lower,
        "index_add_ into rings (one of two)": lambda: out.index_add_(1, rings.lower, power),
        "check_finite": lambda: check_finite(x, name="field"),
    }
    return {k: time_call(f, warmup=ctx.warmup, repeats=ctx.repeats).median_s for k, f in steps.items()}


def run(ctx: Context) -> list[Result]:
    n_fields = 32 if ctx.quick else 128
    results: list[Result] = []
    for (H, W), dtype in itertools.product(SHAPES, DTYPES):
        g = torch.Generator().manual_seed(ctx.seed)
        x = torch.randn(n_fields, H, W, generator=g, dtype=dtype)  # [N, H, W]
        x_np = x.numpy()
        name = str(dtype).removeprefix("torch.")
        case = f"{n_fields} x {H}x{W} {name}"

        ours = time_call(lambda: rapsd(x, mode="pysteps"), warmup=ctx.warmup, repeats=ctx.repeats)
        ours_normalized = time_call(lambda: rapsd(x, mode="normalized"), warmup=ctx.warmup, repeats=ctx.repeats)
        module = RAPSD(H, W, mode="pysteps")
        ours_module = time_call(lambda: module(x), warmup=ctx.warmup, repeats=ctx.repeats)
        peer_loop = time_call(
            lambda: [pysteps_rapsd(f, fft_method=np.fft) for f in x_np], warmup=1, repeats=ctx.slow_repeats
        )
        fft_only = time_call(lambda: torch.fft.rfft2(x), warmup=ctx.warmup, repeats=ctx.repeats)
        stages = _stages(x, ctx)
        fft = f"torch.fft.rfft2 ({name}) alone"

        results.append(Result(NAME, case, "rapsd(mode='pysteps')", "pysteps rapsd, loop over fields",
                              ours, peer_loop, "speedup", 20.0, extra={"stages_s": stages}))
        results.append(Result(NAME, case, "rapsd(mode='pysteps')", fft, ours, fft_only, "overhead", 2.0))
        results.append(Result(NAME, case, "rapsd(mode='normalized')", fft, ours_normalized, fft_only, "overhead",
                              2.0))
        results.append(Result(NAME, case, "RAPSD module (ring map cached)", fft, ours_module, fft_only, "overhead",
                              2.0))
    return results
