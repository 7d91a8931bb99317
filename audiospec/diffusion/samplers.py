"""Named samplers over the one solver (:mod:`audiospec.diffusion.solver`): what a user or a stage picks by name.

- ``"euler"`` / ``"heun"``: the probability-flow ODE of a flow-matching model
  (:class:`~audiospec.diffusion.processes.RectifiedFlow`, Euler or Heun steps);
- ``"ancestral"``: DDPM ancestral sampling of a VP eps-prediction model
  (:class:`~audiospec.diffusion.processes.VPEps`).

:func:`sample` builds the process of a model's objective with the chosen sampler (the registry of
:mod:`audiospec.diffusion.processes` checks that they fit) and runs the solver; :func:`euler_sample`,
:func:`heun_sample` and :func:`ancestral_sample` integrate from any start state along a grid, e.g. from the
middle of a trajectory. Every sampler calls ``callback(i, t_i, x_i, x0_hat_i)`` after evaluating the network at
step i (i = 0 .. N-1), before the update; the returned tensor is the final sample x_N. Shapes: x ``[B, C, F, T]``
(any ``[B, ...]``); the field is called as ``field(x, t)`` with t ``[B]`` in x's dtype.
"""

from __future__ import annotations

from typing import Callable, Literal, get_args

import torch

from audiospec.diffusion.priors import NoisePrior, WhiteNoise
from audiospec.diffusion.processes import RectifiedFlow, VP_T_MAX, VPEps, build_process
from audiospec.diffusion.solver import (
    StepCallback,
    check_time_grid,
    integrate,
    model_device,
    solve,
    uniform_time_grid,
)

__all__ = [
    "SamplerName",
    "SAMPLERS",
    "StepCallback",
    "VP_T_MAX",
    "model_device",
    "uniform_time_grid",
    "check_time_grid",
    "euler_sample",
    "heun_sample",
    "ancestral_sample",
    "sample",
]

SamplerName = Literal["euler", "heun", "ancestral"]
SAMPLERS: tuple[str, ...] = get_args(SamplerName)
Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def euler_sample(
    velocity: Field, x: torch.Tensor, *, times: torch.Tensor, callback: StepCallback | None = None
) -> torch.Tensor:
    """Euler integration of dx/dt = v(x, t) along ``times`` (t_0 -> t_N) starting from ``x`` = x_{t_0}.

    Args:
        velocity: the field, called as ``velocity(x [B, ...], t [B])`` -> v ``[B, ...]``.
        x: the start x_{t_0} ``[B, ...]`` (noise for t_0 = 1).
        times: decreasing grid ``[N + 1]`` in [0, 1].
        callback: ``callback(i, t_i, x_i, x0_hat_i)`` after each evaluation, before the update.

    Returns:
        x_{t_N} ``[B, ...]`` after N evaluations.
    """
    return integrate(RectifiedFlow(prior=WhiteNoise()), velocity, x, times=times, callback=callback)


def heun_sample(
    velocity: Field, x: torch.Tensor, *, times: torch.Tensor, callback: StepCallback | None = None
) -> torch.Tensor:
    """Heun (explicit trapezoidal, 2nd order) integration of dx/dt = v(x, t) along ``times``.

    Args:
        velocity: the field, ``velocity(x [B, ...], t [B])`` -> ``[B, ...]``.
        x: the start x_{t_0} ``[B, ...]``.
        times: decreasing grid ``[N + 1]`` in [0, 1].
        callback: ``callback(i, t_i, x_i, x0_hat_i)`` after the first evaluation of each step.

    Returns:
        x_{t_N} ``[B, ...]`` after 2N evaluations.
    """
    return integrate(RectifiedFlow(prior=WhiteNoise(), method="heun"), velocity, x, times=times, callback=callback)


def ancestral_sample(
    eps_model: Field,
    x: torch.Tensor,
    *,
    times: torch.Tensor,
    prior: NoisePrior,
    generator: torch.Generator | None = None,
    callback: StepCallback | None = None,
    clip_x0: float | None = None,
) -> torch.Tensor:
    """DDPM ancestral sampling on the VP cosine path with an eps-prediction network (:class:`VPEps`).

    ``times`` must start below 1 (alpha_1 = 0 makes x0_hat undefined) and should end at 0,
    where the last step returns x0_hat itself. ``clip_x0`` optionally clamps x0_hat to
    [-clip_x0, clip_x0] (Ho et al. 2020 clip to [-1, 1] for images). The fresh noise z is
    drawn from ``prior`` with ``generator``.

    Args:
        eps_model: the network, ``eps_model(x [B, ...], t [B])`` -> eps_hat ``[B, ...]``.
        x: the start x_{t_0} ``[B, ...]``.
        times: decreasing grid ``[N + 1]``, starting below 1 (e.g. at ``VP_T_MAX``).
        prior: the noise prior the fresh noise z is drawn from.
        generator: randomness of z.
        callback: ``callback(i, t_i, x_i, x0_hat_i)`` at each step.
        clip_x0: clamp x0_hat to [-clip_x0, clip_x0]; positive or None.

    Returns:
        x_{t_N} ``[B, ...]``.
    """
    process = VPEps(prior=prior, clip_x0=clip_x0)
    return integrate(process, eps_model, x, times=process.check_grid(times), generator=generator, callback=callback)


@torch.no_grad()
def sample(
    model: Field,
    *,
    prior: NoisePrior,
    n: int,
    shape: tuple[int, int],
    steps: int | None = None,
    sampler: SamplerName = "euler",
    objective: str = "flow_matching",
    times: torch.Tensor | None = None,
    channels: int = 1,
    generator: torch.Generator | None = None,
    callback: StepCallback | None = None,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    clip_x0: float | None = None,
) -> torch.Tensor:
    """Generate ``n`` patches ``[n, channels, M, T]`` (``shape`` = (M, T)) from a trained ``model``.

    ``sampler``: ``"euler"`` / ``"heun"`` (flow-matching models) or ``"ancestral"`` (vp_eps
    models). The grid is ``times`` if given (e.g. from
    :func:`audiospec.diffusion.schedule_design.optimize_schedule`), else ``steps`` uniform
    steps from 1 (``VP_T_MAX`` for ancestral) to 0. Initial noise x_1 ~ prior is drawn with
    ``generator`` for all n at once; ``batch_size`` splits the integration into chunks (the
    callback then sees one chunk at a time; the ancestral sampler's fresh noise, drawn per chunk,
    depends on it). Runs on ``device`` (default: the model's). :func:`audiospec.diffusion.solver.solve`
    with the process of ``objective``.

    Args:
        model: the network, ``model(x [B, C, M, T], t [B])`` -> ``[B, C, M, T]``.
        prior: the noise prior of x_1 (the one the model was trained with).
        n: number of samples, a positive integer.
        shape: patch size ``(M, T)``.
        steps: number of steps (with no ``times``), or a check of ``times``' length.
        sampler: ``"euler"``, ``"heun"`` or ``"ancestral"``.
        objective: the model's objective, ``"flow_matching"`` or ``"vp_eps"``.
        times: a decreasing grid ``[N + 1]`` (overrides the uniform grid).
        channels: channels C of a patch.
        generator: randomness of the initial (and ancestral) noise.
        callback: ``callback(i, t_i, x_i, x0_hat_i)`` at each step.
        batch_size: samples integrated at once (default all n).
        device: where to sample (default the model's device).
        clip_x0: ancestral only: clamp x0_hat to [-clip_x0, clip_x0].

    Returns:
        Samples ``[n, channels, M, T]`` (float32).
    """
    process = build_process(objective, prior=prior, sampler=sampler, clip_x0=clip_x0)
    return solve(process, model, n=n, shape=shape, steps=steps, times=times, channels=channels, generator=generator,
                 callback=callback, batch_size=batch_size, device=device)
