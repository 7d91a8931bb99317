"""Samplers: integrate from noise (t = 1) to data (t = 0) with a trained network or any field.

ODE samplers for the rectified-flow path x_t = (1 - t) x0 + t eps, whose probability-flow
ODE is dx/dt = v(x, t) with v = E[eps - x0 | x_t] (Liu et al. 2023). On a decreasing time
grid 1 = t_0 > t_1 > ... > t_N = 0 with steps h_i = t_{i+1} - t_i < 0:

- Euler:  x_{i+1} = x_i + h_i v(x_i, t_i)                                   (N evaluations)
- Heun:   x~ = x_i + h_i v(x_i, t_i);
          x_{i+1} = x_i + h_i / 2 (v(x_i, t_i) + v(x~, t_{i+1}))           (2N evaluations;
  Karras et al. 2022, Alg. 1, here also on the last step because the rectified-flow
  velocity stays finite at t = 0.)

The data prediction at step i is x0_hat = x_i - t_i v(x_i, t_i).

Ancestral sampler for VP eps-prediction (Ho et al. 2020, Alg. 2, in the continuous-time
form of Kingma et al. 2021): from t to s < t, with alpha_{t|s} = alpha_t / alpha_s and
sigma_{t|s}^2 = sigma_t^2 - alpha_{t|s}^2 sigma_s^2,

    x0_hat = (x_t - sigma_t eps_hat) / alpha_t
    mu     = alpha_{t|s} sigma_s^2 / sigma_t^2 x_t + alpha_s sigma_{t|s}^2 / sigma_t^2 x0_hat
    x_s    = mu + sqrt(sigma_{t|s}^2 sigma_s^2 / sigma_t^2) z,   z ~ prior (coloured like eps)

alpha_1 = 0 on the cosine path, so the ancestral grid starts at ``VP_T_MAX`` < 1 by default.

Every sampler calls ``callback(i, t_i, x_i, x0_hat_i)`` after evaluating the network at step i
(i = 0 .. N-1), before the update; the returned tensor is the final sample x_N.
Shapes: x ``[B, C, F, T]`` (any ``[B, ...]``); the field is called as ``field(x, t)`` with
t ``[B]`` in x's dtype.
"""

from __future__ import annotations

import math
from typing import Callable, Literal, Sequence, get_args

import torch

from audiospec.diffusion.path import Objective, predict_x0, process_for
from audiospec.diffusion.priors import NoisePrior
from audiospec.errors import AudiospecError
from audiospec.functional.schedules import process_coefficients

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
StepCallback = Callable[[int, float, torch.Tensor, torch.Tensor], None]
"""on_step(i, t_i, x_t ``[B, ...]``, x0_hat ``[B, ...]``)."""
Field = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

VP_T_MAX = 0.999
"""Default first time of the ancestral VP grid (alpha_t = 0.0016 there; alpha_1 = 0)."""


def uniform_time_grid(n_steps: int, *, t_max: float = 1.0, t_min: float = 0.0) -> torch.Tensor:
    """Equally spaced times t_max = t_0 > ... > t_N = t_min: ``[n_steps + 1]`` float64.

    Args:
        n_steps: number of steps N, a positive integer.
        t_max: first time (noise end), <= 1.
        t_min: last time (data end), >= 0 and < ``t_max``.

    Returns:
        The grid ``[n_steps + 1]`` (float64), decreasing.

    Raises:
        AudiospecError: ``n_steps`` not a positive integer, or not 0 <= t_min < t_max <= 1.
    """
    if not isinstance(n_steps, int) or n_steps < 1:
        raise AudiospecError(f"the number of sampling steps must be a positive integer, got {n_steps!r}")
    if not 0.0 <= t_min < t_max <= 1.0:
        raise AudiospecError(f"need 0 <= t_min < t_max <= 1, got t_min={t_min}, t_max={t_max}")
    return torch.linspace(t_max, t_min, n_steps + 1, dtype=torch.float64)


def check_time_grid(times: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """Validate a sampling grid: 1-D, >= 2 points in [0, 1], strictly decreasing. Returns float64 CPU ``[N + 1]``.

    Args:
        times: the grid ``[N + 1]``, a tensor or a sequence of floats.

    Returns:
        The grid as a float64 CPU tensor ``[N + 1]``.

    Raises:
        AudiospecError: not 1-D with >= 2 points, times outside [0, 1] or not finite, or not
            strictly decreasing.
    """
    times = torch.as_tensor(times, dtype=torch.float64).detach().cpu()
    if times.ndim != 1 or times.numel() < 2:
        raise AudiospecError(f"a time grid must be 1-D with at least 2 points, got shape {tuple(times.shape)}")
    if not bool(torch.isfinite(times).all()) or float(times.min()) < 0.0 or float(times.max()) > 1.0:
        raise AudiospecError(f"grid times must lie in [0, 1], got {times.tolist()}")
    if bool((times[1:] >= times[:-1]).any()):
        raise AudiospecError(f"grid times must decrease strictly from noise (t=1) to data (t=0), got {times.tolist()}")
    return times


def _t_batch(t: float, x: torch.Tensor) -> torch.Tensor:
    return torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)  # [B]


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
    times = check_time_grid(times).tolist()
    for i in range(len(times) - 1):
        t, s = times[i], times[i + 1]
        v = velocity(x, _t_batch(t, x))  # [B, ...]
        if callback is not None:
            callback(i, t, x, x - t * v)  # x0_hat = x_t - t v
        x = x + (s - t) * v  # h_i = t_{i+1} - t_i < 0
    return x


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
    times = check_time_grid(times).tolist()
    for i in range(len(times) - 1):
        t, s = times[i], times[i + 1]
        h = s - t
        v = velocity(x, _t_batch(t, x))
        if callback is not None:
            callback(i, t, x, x - t * v)
        x_euler = x + h * v  # predictor
        v_next = velocity(x_euler, _t_batch(s, x))  # slope at the end of the step
        x = x + 0.5 * h * (v + v_next)  # trapezoidal corrector
    return x


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
    """DDPM ancestral sampling on the VP cosine path with an eps-prediction network (module doc).

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

    Raises:
        AudiospecError: a grid starting at t = 1, a non-positive ``clip_x0``, or an invalid grid.
    """
    times = check_time_grid(times)
    if float(times[0]) >= 1.0:
        raise AudiospecError(f"the ancestral VP grid must start below t = 1 (alpha_1 = 0), e.g. at {VP_T_MAX}; got {float(times[0])}")
    if clip_x0 is not None and not clip_x0 > 0:
        raise AudiospecError(f"clip_x0 must be positive or None, got {clip_x0!r}")
    alphas, sigmas = process_coefficients(times, process="vp_cosine")  # [N + 1] float64
    for i in range(times.numel() - 1):
        t = float(times[i])
        alpha_t, sigma_t, alpha_s, sigma_s = (float(alphas[i]), float(sigmas[i]), float(alphas[i + 1]), float(sigmas[i + 1]))
        eps_hat = eps_model(x, _t_batch(t, x))
        x0_hat = predict_x0(eps_hat, x, t, objective="vp_eps")
        if clip_x0 is not None:
            x0_hat = x0_hat.clamp(-clip_x0, clip_x0)
        if callback is not None:
            callback(i, t, x, x0_hat)
        alpha_ts = alpha_t / alpha_s  # alpha_{t|s}
        var_ts = sigma_t**2 - alpha_ts**2 * sigma_s**2  # sigma_{t|s}^2
        mean = (alpha_ts * sigma_s**2 / sigma_t**2) * x + (alpha_s * var_ts / sigma_t**2) * x0_hat
        var = var_ts * sigma_s**2 / sigma_t**2  # posterior variance of q(x_s | x_t, x0)
        if var > 0:
            z = prior.sample(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = mean + math.sqrt(var) * z
        else:
            x = mean
    return x


def model_device(model: object, device: torch.device | str | None) -> torch.device:
    """``device`` when given, else the device of the first parameter of an ``nn.Module`` ``model``, else the CPU."""
    if device is not None:
        return torch.device(device)
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            return p.device
    return torch.device("cpu")


def _sampling_grid(times: torch.Tensor | None, *, steps: int | None, sampler: SamplerName) -> torch.Tensor:
    """The checked grid ``[N + 1]``: ``times``, else ``steps`` uniform steps from 1 (ancestral: ``VP_T_MAX``) to 0."""
    if times is None:
        if steps is None:
            raise AudiospecError("give the number of sampling steps (steps=...) or a time grid (times=...)")
        times = uniform_time_grid(steps, t_max=VP_T_MAX if sampler == "ancestral" else 1.0)
    times = check_time_grid(times)
    if steps is not None and steps != times.numel() - 1:
        raise AudiospecError(f"steps={steps} disagrees with the time grid, which has {times.numel() - 1} steps")
    return times


@torch.no_grad()
def sample(
    model: Field,
    *,
    prior: NoisePrior,
    n: int,
    shape: tuple[int, int],
    steps: int | None = None,
    sampler: SamplerName = "euler",
    objective: Objective = "flow_matching",
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
    depends on it). Runs on ``device`` (default: the model's).

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

    Raises:
        AudiospecError: an unknown sampler or objective, a sampler that does not fit the
            objective, a bad ``n``, ``shape`` or ``batch_size``, or an invalid grid / steps.
    """
    process_for(objective)
    if sampler not in SAMPLERS:
        raise AudiospecError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
    if (sampler == "ancestral") != (objective == "vp_eps"):
        raise AudiospecError(
            f"sampler {sampler!r} does not fit objective {objective!r}: use 'euler' or 'heun' for flow_matching "
            "models and 'ancestral' for vp_eps models"
        )
    if not isinstance(n, int) or n < 1:
        raise AudiospecError(f"n (number of samples) must be a positive integer, got {n!r}")
    if len(tuple(shape)) != 2 or min(shape) < 1:
        raise AudiospecError(f"shape must be (M, T) with positive sizes, got {tuple(shape)}")
    times = _sampling_grid(times, steps=steps, sampler=sampler)
    if batch_size is not None and batch_size < 1:
        raise AudiospecError(f"batch_size must be positive or None, got {batch_size}")
    device = model_device(model, device)
    x1 = prior.sample((n, channels, *shape), generator=generator, device=device, dtype=torch.float32)
    chunk = n if batch_size is None else batch_size
    out = []
    for start in range(0, n, chunk):
        x = x1[start : start + chunk]
        if sampler == "euler":
            out.append(euler_sample(model, x, times=times, callback=callback))
        elif sampler == "heun":
            out.append(heun_sample(model, x, times=times, callback=callback))
        else:
            out.append(ancestral_sample(model, x, times=times, prior=prior, generator=generator,
                                        callback=callback, clip_x0=clip_x0))
    return torch.cat(out, dim=0)
