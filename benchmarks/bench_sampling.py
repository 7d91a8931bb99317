"""Sampling throughput: generated patches per second with our sampler, our U-Net vs a diffusers ``UNet2DModel``.

Both networks are driven by the same function, :func:`audiospec.diffusion.samplers.sample`
(Euler, uniform grid, white prior, no callback) on patches of 64 x 64 (the demo's patch
size), float32 on CPU: the tiny preset on 16 patches at 4, 16 and 64 steps, the default
preset on 4 patches at 4 and 16 steps (:func:`_plan`). The diffusers net mirrors
each preset's block layout with widths chosen so that the parameter counts agree within a
few per cent (``bench_unet`` does the same for one training step); its time input is
scaled by 1000 as diffusers' sinusoidal embedding expects. Target: ours at least as fast
(ratio >= 0.91, within 10%). ``--quick`` runs the tiny preset at 4 and 16 steps only.
"""

from __future__ import annotations

import torch

from audiospec.diffusion.priors import WhiteNoise
from audiospec.diffusion.samplers import sample
from audiospec.diffusion.unet import ModelConfig, build_model, count_parameters
from benchmarks.common import Context, Result, time_call

NAME = "sampling"
DESCRIPTION = "patches/s of Euler sampling at 4/16/64 steps: our U-Nets vs diffusers UNet2DModel, same sampler"

SHAPE = (64, 64)
N_PATCHES = 16


class _DiffusersField(torch.nn.Module):
    """A diffusers UNet2DModel as a velocity field v(x, t), t in [0, 1]."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(x, 1000.0 * t).sample


def _diffusers_net(widths: tuple[int, ...], layers: int, attention: bool, groups: int) -> torch.nn.Module:
    from diffusers import UNet2DModel

    return UNet2DModel(
        sample_size=SHAPE, in_channels=1, out_channels=1, block_out_channels=widths, layers_per_block=layers,
        down_block_types=("DownBlock2D",) * len(widths), up_block_types=("UpBlock2D",) * len(widths),
        norm_num_groups=groups, attention_head_dim=None, add_attention=attention,
    )


def _matched_peer(ours: torch.nn.Module, config: ModelConfig) -> torch.nn.Module:
    """The diffusers net of the same depth whose parameter count is closest to ours."""
    n_ours = count_parameters(ours)
    base = tuple(config.base_channels * m for m in config.channel_mults)
    g = config.norm_groups  # widths stay multiples of the group count
    candidates = [tuple(max(g, int(round(w * s / g) * g)) for w in base) for s in (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)]
    nets = (_diffusers_net(w, config.res_blocks, config.attention, g) for w in dict.fromkeys(candidates))
    return min(nets, key=lambda net: abs(count_parameters(net) - n_ours))


def _plan(ctx: Context) -> list[tuple[str, int, tuple[int, ...]]]:
    """(preset, patches, step counts): the default net (16.9 M parameters, ~1 s per network call on 2 cores) on 4
    patches at 4 and 16 steps, so that the whole benchmark stays within minutes; throughput is per network call."""
    if ctx.quick:
        return [("tiny", N_PATCHES, (4, 16))]
    return [("tiny", N_PATCHES, (4, 16, 64)), ("default", 4, (4, 16))]


def run(ctx: Context) -> list[Result]:
    repeats = 3 if ctx.quick else 5
    prior = WhiteNoise()
    results = []
    for preset, n_patches, step_counts in _plan(ctx):
        config = ModelConfig.preset(preset)
        ours = build_model(config, generator=torch.Generator().manual_seed(ctx.seed)).eval()
        theirs = _DiffusersField(_matched_peer(ours, config)).eval()
        n_ours, n_theirs = count_parameters(ours), count_parameters(theirs)
        for steps in step_counts:
            def draw(net: torch.nn.Module) -> torch.Tensor:
                return sample(net, prior=prior, n=n_patches, steps=steps, shape=SHAPE,
                              generator=torch.Generator().manual_seed(ctx.seed))

            ours_t = time_call(lambda: draw(ours), warmup=1, repeats=repeats)
            theirs_t = time_call(lambda: draw(theirs), warmup=1, repeats=repeats)
            case = (f"{preset} preset, {n_patches} patches of {SHAPE[0]}x{SHAPE[1]}, {steps} Euler steps; "
                    f"params ours {n_ours:,} / diffusers {n_theirs:,}")
            extra = {"patches_per_s_ours": n_patches / ours_t.median_s,
                     "patches_per_s_diffusers": n_patches / theirs_t.median_s,
                     "params_ours": n_ours, "params_diffusers": n_theirs, "steps": steps}
            results.append(Result(NAME, case, f"sample(UNet {preset})", "sample(diffusers UNet2DModel)", ours_t,
                                  theirs_t, "speedup", target=1 / 1.1, extra=extra))
    return results
