"""The probability path x_t = alpha_t x0 + sigma_t eps and what a network predicts on it.

t runs from 0 (data) to 1 (pure noise), eps ~ N(0, Sigma) is drawn from a noise prior
(:mod:`audiospec.diffusion.priors`). The coefficients come from
:func:`audiospec.functional.schedules.process_coefficients` (float64):

- ``"rectified_flow"``: alpha_t = 1 - t, sigma_t = t (Liu et al. 2023; Lipman et al. 2023).
- ``"vp_cosine"``:      alpha_t = cos(pi t / 2), sigma_t = sin(pi t / 2) (Nichol & Dhariwal 2021).

Two diffusion objectives, each tied to one process (the closed choice :data:`Objective` also names
the coarse-to-fine baselines of :data:`COARSE_TO_FINE`, which live in
:mod:`audiospec.diffusion.coarse_to_fine`):

- ``"flow_matching"`` on ``"rectified_flow"``: the network predicts the velocity
  v = d x_t / dt = eps - x0 (conditional flow matching, Lipman et al. 2023, the OT path with
  sigma_min = 0). Data prediction: x0_hat = x_t - t v_hat.
- ``"vp_eps"`` on ``"vp_cosine"``: the network predicts eps (Ho et al. 2020, eq. 14).
  Data prediction: x0_hat = (x_t - sigma_t eps_hat) / alpha_t.

Shapes: x0, eps, x_t, predictions ``[B, C, F, T]`` (any ``[B, ...]`` works); t ``[B]``.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import append_dims
from audiospec.functional.noise import add_noise_at_time
from audiospec.functional.schedules import Schedule as Process, process_coefficients

__all__ = [
    "Objective",
    "OBJECTIVES",
    "COARSE_TO_FINE",
    "process_for",
    "noisy_sample",
    "training_target",
    "predict_x0",
    "predict_eps",
]

Objective = Literal["flow_matching", "vp_eps", "cepstral_ar", "heat"]
OBJECTIVES: tuple[str, ...] = get_args(Objective)
COARSE_TO_FINE: tuple[str, ...] = ("cepstral_ar", "heat")
"""The explicit coarse-to-fine baselines, trained and sampled by :mod:`audiospec.diffusion.coarse_to_fine`."""


def process_for(objective: Objective) -> Process:
    """The forward process an objective is defined on: flow matching -> rectified flow, vp_eps -> VP cosine.

    Args:
        objective: ``"flow_matching"`` or ``"vp_eps"``.

    Returns:
        ``"rectified_flow"`` or ``"vp_cosine"``.

    Raises:
        AudiospecError: a coarse-to-fine baseline (``"cepstral_ar"``, ``"heat"``: no diffusion
            process; sample it with :mod:`audiospec.diffusion.coarse_to_fine`) or an unknown objective.
    """
    if objective == "flow_matching":
        return "rectified_flow"
    if objective == "vp_eps":
        return "vp_cosine"
    if objective in COARSE_TO_FINE:
        raise AudiospecError(
            f"objective {objective!r} is a coarse-to-fine baseline, not a diffusion process: sample it with "
            "audiospec.diffusion.coarse_to_fine.sample_process (or the `audiospec baselines` stage)"
        )
    raise AudiospecError(f"unknown objective {objective!r}; choose one of {OBJECTIVES}")


def _time_like(t: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    """``t`` as a ``[B]`` float64 tensor for a batch ``x`` ``[B, ...]`` (a scalar is broadcast)."""
    t = torch.as_tensor(t, dtype=torch.float64, device=x.device)
    if t.ndim == 0:
        t = t.expand(x.shape[0])
    if t.shape != (x.shape[0],):
        raise AudiospecError(f"t must be a scalar or have shape [B] = [{x.shape[0]}], got {tuple(t.shape)}")
    return t


def noisy_sample(x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor | float, *, objective: Objective) -> torch.Tensor:
    """x_t = alpha_t x0 + sigma_t eps on the objective's process (``[B, ...]``, t ``[B]`` or scalar).

    Args:
        x0: clean examples ``[B, C, F, T]`` (any ``[B, ...]``).
        eps: prior noise ``[B, ...]``, ``x0``'s shape.
        t: times in [0, 1], a float or ``[B]``.
        objective: ``"flow_matching"`` or ``"vp_eps"`` (fixes the process).

    Returns:
        x_t ``[B, ...]`` in ``x0``'s dtype.

    Raises:
        AudiospecError: ``x0`` and ``eps`` of different shapes, ``t`` neither scalar nor ``[B]``,
            times outside [0, 1], or an objective without a diffusion process.
    """
    return add_noise_at_time(x0, eps, t=_time_like(t, x0).cpu(), process=process_for(objective))


def training_target(x0: torch.Tensor, eps: torch.Tensor, *, objective: Objective) -> torch.Tensor:
    """What the network regresses: v = eps - x0 (flow matching) or eps (vp_eps). ``[B, ...]``.

    Args:
        x0: clean examples ``[B, ...]``.
        eps: prior noise ``[B, ...]``, ``x0``'s shape.
        objective: ``"flow_matching"`` or ``"vp_eps"``.

    Returns:
        The regression target ``[B, ...]``.

    Raises:
        AudiospecError: ``x0`` and ``eps`` of different shapes, or an objective without a diffusion process.
    """
    if x0.shape != eps.shape:
        raise AudiospecError(f"x0 shape {tuple(x0.shape)} and eps shape {tuple(eps.shape)} differ")
    if process_for(objective) == "rectified_flow":
        return eps - x0
    return eps


def _coefficients(t: torch.Tensor | float, x: torch.Tensor, process: Process) -> tuple[torch.Tensor, torch.Tensor]:
    """(alpha_t, sigma_t) as ``[B, 1, ..., 1]`` in x's dtype and device."""
    alpha_t, sigma_t = process_coefficients(_time_like(t, x).cpu(), process=process)  # [B] float64
    alpha_t = append_dims(alpha_t, x.ndim).to(device=x.device, dtype=x.dtype)  # [B] -> [B, 1, ...]
    sigma_t = append_dims(sigma_t, x.ndim).to(device=x.device, dtype=x.dtype)
    return alpha_t, sigma_t


def predict_x0(output: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | float, *, objective: Objective) -> torch.Tensor:
    """The data prediction x0_hat from a network ``output`` at ``x_t`` ``[B, ...]`` and time t ``[B]``.

    Flow matching: x0_hat = x_t - t v_hat (since x_t = x0 + t (eps - x0)).
    vp_eps:        x0_hat = (x_t - sigma_t eps_hat) / alpha_t, undefined at t = 1 (alpha_1 = 0).

    Args:
        output: the network's prediction ``[B, ...]`` (v_hat or eps_hat).
        x_t: the noisy input ``[B, ...]``.
        t: times in [0, 1], a float or ``[B]``.
        objective: ``"flow_matching"`` or ``"vp_eps"``.

    Returns:
        x0_hat ``[B, ...]`` in ``x_t``'s dtype.

    Raises:
        AudiospecError: ``output`` and ``x_t`` of different shapes, a bad ``t``, or an objective
            without a diffusion process.
    """
    if output.shape != x_t.shape:
        raise AudiospecError(f"model output shape {tuple(output.shape)} differs from x_t shape {tuple(x_t.shape)}")
    process = process_for(objective)
    alpha_t, sigma_t = _coefficients(t, x_t, process)
    if process == "rectified_flow":
        return x_t - sigma_t * output  # sigma_t = t
    return (x_t - sigma_t * output) / alpha_t


def predict_eps(output: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | float, *, objective: Objective) -> torch.Tensor:
    """The noise prediction eps_hat: x_t + (1 - t) v_hat (flow matching) or the output itself (vp_eps).

    Args:
        output: the network's prediction ``[B, ...]``.
        x_t: the noisy input ``[B, ...]``.
        t: times in [0, 1], a float or ``[B]``.
        objective: ``"flow_matching"`` or ``"vp_eps"``.

    Returns:
        eps_hat ``[B, ...]``.

    Raises:
        AudiospecError: ``output`` and ``x_t`` of different shapes, a bad ``t``, or an objective
            without a diffusion process.
    """
    if output.shape != x_t.shape:
        raise AudiospecError(f"model output shape {tuple(output.shape)} differs from x_t shape {tuple(x_t.shape)}")
    process = process_for(objective)
    if process == "rectified_flow":
        alpha_t, _ = _coefficients(t, x_t, process)
        return x_t + alpha_t * output  # alpha_t = 1 - t
    return output
