"""Training step of the coarse-to-fine baselines vs the flow-matching diffusion step they are compared with.

"Equal compute" (issue 14): the baselines use the diffusion model's U-Net, optimiser and
budget; what a step adds is its basis change (DCT matmuls in and out of the network) and the
masked loss. Target: a cepstral-AR or heat step costs at most 1.1x a flow-matching step of the
same U-Net on the same batch (the protocol's model: tiny preset, 16 base channels, batch 16 x
[1, 64, 64]); both go through the same code as training (forward, loss, backward, AdamW).
"""

from __future__ import annotations

import dataclasses

import torch

from audiospec.diffusion.priors import WhiteNoise
from audiospec.diffusion.processes import CoarseToFineConfig, RectifiedFlow, baseline_objectives, build_process
from audiospec.diffusion.unet import ModelConfig, build_model
from benchmarks.common import Context, Result, optimizer_step, time_call

NAME = "coarse_to_fine"
DESCRIPTION = "cepstral-AR and heat training steps vs the flow-matching step of the same U-Net (<= 1.1x)"


def run(ctx: Context) -> list[Result]:
    batch = 4 if ctx.quick else 16
    g = torch.Generator().manual_seed(ctx.seed)
    config = dataclasses.replace(ModelConfig.preset("tiny"), base_channels=16)
    x0 = torch.randn(batch, 1, 64, 64, generator=g)
    eps = torch.randn(batch, 1, 64, 64, generator=g)
    t = torch.rand(batch, generator=g)
    repeats, warmup = (3, 1) if ctx.quick else (9, 3)

    def timed(loss_fn):
        net = build_model(config, generator=torch.Generator().manual_seed(ctx.seed)).train()
        optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
        return time_call(lambda: optimizer_step(optimizer, loss_fn(net)), warmup=warmup, repeats=repeats)

    peer = timed(lambda net: RectifiedFlow(prior=WhiteNoise()).loss(net, x0, t=t, eps=eps))
    results = []
    for kind in baseline_objectives():
        process = build_process(kind, prior=WhiteNoise(), coarse_to_fine=CoarseToFineConfig(), n_mels=64)
        s = process.training_time(t, generator=torch.Generator().manual_seed(ctx.seed))
        ours = timed(lambda net: process.loss_at(net, x0, s=s, eps=eps))
        results.append(Result(NAME, f"batch {batch} x [1, 64, 64] float32, tiny U-Net (16 channels)",
                              f"{kind} train step", "flow_matching train step", ours, peer, "overhead", target=1.1,
                              extra={"steps_per_s_ours": 1 / ours.median_s, "steps_per_s_peer": 1 / peer.median_s}))
    return results
