"""FLOPs, achieved GFLOP/s and fraction of peak (MFU) of the U-Net's training and sampling steps.

For each network of :data:`NETS` (the demo's U-Net, channels-last as trained before issue 24 and
contiguous as the compute-optimal CPU configuration trains it, and the patchified variant that
issue 24 measured and did not adopt) on batch 16 x [1, 64, 64]: the FLOPs of one step are
counted with ``FlopCounterMode`` (:mod:`audiospec.diffusion.flops`), the step is timed, and the
achieved rate is set against two ceilings:

- the peer: a float32 matrix product of about the same FLOPs (``torch.mm`` of square
  matrices), timed in the same process: what this machine's BLAS reaches, so the ratio is the
  fraction of *attainable* throughput (no peak arithmetic involved);
- the theoretical peak of the cores in use from ISA and clock (``extra.peak_how`` says how),
  as ``extra.mfu``.

A training step is forward + flow-matching MSE + backward + AdamW, float32; where the CPU has
native bf16 (``avx512_bf16``) the bf16-autocast step is measured as well, against the bf16 peak.
A sampling step is one network call without gradients.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from audiospec.diffusion.flops import count_flops, cpu_info, cpu_peak
from audiospec.diffusion.unet import ModelConfig, build_model, count_parameters
from benchmarks.common import Context, Result, optimizer_step, time_call

NAME = "mfu"
DESCRIPTION = "U-Net train / sample step: FLOPs, GFLOP/s, fraction of a same-FLOP sgemm and of the ISA peak"

BATCH, SHAPE = 16, (64, 64)
_TINY16 = ModelConfig(base_channels=16, channel_mults=(1, 2, 2, 2), res_blocks=1, attention_heads=4, norm_groups=8)
NETS: dict[str, tuple[ModelConfig, torch.memory_format]] = {
    "demo U-Net (tiny, base 16), channels-last": (_TINY16, torch.channels_last),
    "demo U-Net (tiny, base 16), contiguous": (_TINY16, torch.contiguous_format),
    "patchified U-Net (patch 2, base 24), contiguous": (ModelConfig(
        base_channels=24, channel_mults=(1, 2, 2, 2), res_blocks=1, attention_heads=4, norm_groups=8, patch_size=2),
        torch.contiguous_format),
}


def _matmul_peer(flops: int) -> Callable[[], object]:
    """A square float32 matrix product of about ``flops`` FLOPs (2 n^3)."""
    n = max(64, int(round((flops / 2) ** (1 / 3))))
    a, b = torch.randn(n, n), torch.randn(n, n)
    return lambda: torch.mm(a, b)


def _step_fns(config: ModelConfig, layout: torch.memory_format, seed: int,
              bf16: bool) -> tuple[Callable[[], object], Callable[[], object]]:
    """(training step, sampling step) of a fresh network in ``layout`` on fixed inputs."""
    g = torch.Generator().manual_seed(seed)
    net = build_model(config, generator=g).to(memory_format=layout)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    x, target = torch.randn(BATCH, 1, *SHAPE, generator=g), torch.randn(BATCH, 1, *SHAPE, generator=g)
    t = torch.rand(BATCH, generator=g)

    def train_step() -> None:
        net.train()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.mse_loss(net(x, t).float(), target)
        optimizer_step(opt, loss)

    @torch.no_grad()
    def sample_step() -> torch.Tensor:
        net.eval()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return net(x, t)

    return train_step, sample_step


def run(ctx: Context) -> list[Result]:
    info = cpu_info()
    threads = torch.get_num_threads()
    native_bf16 = "avx512_bf16" in info.flags or "amx_bf16" in info.flags
    repeats, warmup = (3, 1) if ctx.quick else (7, 2)
    results = []
    for label, (config, layout) in NETS.items():
        for bf16 in (False, True) if native_bf16 else (False,):
            dtype = "bf16" if bf16 else "fp32"
            peak = cpu_peak(info, dtype, threads=threads)
            for kind, fn in zip(("train", "sample"), _step_fns(config, layout, ctx.seed, bf16)):
                flops = count_flops(fn)
                peer = _matmul_peer(flops)
                ours_t = time_call(fn, warmup=warmup, repeats=repeats)
                peer_t = time_call(peer, warmup=warmup, repeats=repeats)
                achieved = flops / ours_t.median_s
                n = round((flops / 2) ** (1 / 3))
                extra = {"gflop_per_step": flops / 1e9, "gflops": achieved / 1e9, "params": count_parameters(
                    build_model(config)), "peak_gflops": peak.flops_per_second / 1e9 if peak.flops_per_second else None,
                    "mfu": achieved / peak.flops_per_second if peak.flops_per_second else None,
                    "peak_how": peak.how, "dtype": dtype, "threads": threads,
                    "sgemm_gflops": 2 * n**3 / peer_t.median_s / 1e9}
                mfu = f"{100 * extra['mfu']:.0f}% of peak" if extra["mfu"] is not None else "peak unknown"
                case = (f"{label}, {kind} step, batch {BATCH} x [1, {SHAPE[0]}, {SHAPE[1]}] {dtype}: "
                        f"{flops / 1e9:.2f} GFLOP, {achieved / 1e9:.1f} GFLOP/s, {mfu}")
                # ratio = sgemm time / our time at (about) equal FLOPs = our fraction of the attainable rate
                results.append(Result(NAME, case, f"{kind} step", f"sgemm of {2 * n**3 / 1e9:.2f} GFLOP", ours_t,
                                      peer_t, "info", extra=extra))
                if not math.isfinite(achieved):
                    raise RuntimeError(f"non-finite throughput for {case}")
    return results
