"""Training step of our U-Net vs a diffusers ``UNet2DModel`` of (nearly) equal parameter count.

Target (DESIGN.md section 7): our step within 10% of diffusers' or faster (ratio >= 0.91).
Both nets take [B, 1, 64, 128] log-mel-sized batches (batch 16) with a time input; a step
is forward + MSE loss + backward + AdamW update, float32 on CPU. The diffusers net mirrors
the tiny preset: 4 levels of one ResNet block, widths chosen to match our parameter count,
self-attention in the middle block. Needs the ``bench`` extra (``pip install -e .[bench]``).
"""

from __future__ import annotations

import torch

from audiospec.diffusion.unet import ModelConfig, build_model, count_parameters
from benchmarks.common import Context, Result, optimizer_step, time_call

NAME = "unet"
DESCRIPTION = "U-Net training step vs diffusers UNet2DModel of equal parameters (>= 0.91x, i.e. within 10%)"


def _diffusers_net(widths: tuple[int, ...]) -> torch.nn.Module:
    from diffusers import UNet2DModel

    return UNet2DModel(
        sample_size=(64, 128), in_channels=1, out_channels=1, block_out_channels=widths, layers_per_block=1,
        down_block_types=("DownBlock2D",) * len(widths), up_block_types=("UpBlock2D",) * len(widths),
        norm_num_groups=8, attention_head_dim=None, add_attention=True,
    )


def _step(net: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, t: torch.Tensor,
          target: torch.Tensor, diffusers_api: bool) -> None:
    out = net(x, t).sample if diffusers_api else net(x, t)
    optimizer_step(optimizer, torch.nn.functional.mse_loss(out, target))


def run(ctx: Context) -> list[Result]:
    batch = 4 if ctx.quick else 16
    g = torch.Generator().manual_seed(ctx.seed)
    ours = build_model(ModelConfig.preset("tiny"), generator=g).train()
    n_ours = count_parameters(ours)
    # widths scaled so that the parameter counts agree within a few per cent
    candidates = [tuple(int(round(w * s / 8) * 8) for w in (32, 64, 64, 64)) for s in (0.8, 0.9, 1.0, 1.1, 1.2)]
    theirs = min((_diffusers_net(w) for w in candidates), key=lambda net: abs(count_parameters(net) - n_ours))
    n_theirs = count_parameters(theirs)
    x = torch.randn(batch, 1, 64, 128, generator=g)
    t = torch.rand(batch, generator=g)
    target = torch.randn(batch, 1, 64, 128, generator=g)
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-4)
    opt_theirs = torch.optim.AdamW(theirs.parameters(), lr=1e-4)
    repeats, warmup = (3, 1) if ctx.quick else (7, 2)
    ours_t = time_call(lambda: _step(ours, opt_ours, x, t, target, False), warmup=warmup, repeats=repeats)
    theirs_t = time_call(lambda: _step(theirs, opt_theirs, x, 1000 * t, target, True), warmup=warmup, repeats=repeats)
    case = f"batch {batch} x [1, 64, 128] float32, params ours {n_ours:,} / diffusers {n_theirs:,}"
    extra = {"params_ours": n_ours, "params_diffusers": n_theirs, "samples_per_s_ours": batch / ours_t.median_s,
             "samples_per_s_diffusers": batch / theirs_t.median_s}
    return [Result(NAME, case, "UNet (tiny preset) train step", "diffusers UNet2DModel train step", ours_t,
                   theirs_t, "speedup", target=1 / 1.1, extra=extra)]
