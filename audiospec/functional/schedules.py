"""Forward-process coefficients x_t = alpha_t * x0 + sigma_t * eps, in float64.

Two processes, with t in [0, 1] and t = 1 pure noise:

- ``"rectified_flow"`` (Liu et al. 2023; Lipman et al. 2023):  alpha_t = 1 - t,  sigma_t = t.
- ``"vp_cosine"`` (Nichol & Dhariwal 2021, continuous form):   alpha_t = cos(pi t / 2),  sigma_t = sin(pi t / 2).

The log signal-to-noise ratio is lambda(t) = 2 log(alpha_t / sigma_t); both processes
have a strictly decreasing lambda, so :func:`time_from_log_snr` inverts it exactly.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch

from audiospec.errors import AudiospecError

__all__ = ["Schedule", "SCHEDULES", "process_coefficients", "log_snr", "time_from_log_snr"]

Schedule = Literal["rectified_flow", "vp_cosine"]
"""The name of a forward process's noise schedule (alpha_t, sigma_t); the process objects that train and sample
models are :mod:`audiospec.diffusion.processes`."""
SCHEDULES: tuple[str, ...] = get_args(Schedule)


def _check_process(process: str) -> None:
    if process not in SCHEDULES:
        raise AudiospecError(f"unknown process {process!r}; choose one of {SCHEDULES}")


def _rectified_flow(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return 1.0 - t, t


def _vp_cosine(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    half_pi_t = 0.5 * math.pi * t
    return torch.cos(half_pi_t), torch.sin(half_pi_t)


def _rectified_flow_time(lam: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(-0.5 * lam)  # (1 - t) / t = e^{lambda/2}


def _vp_cosine_time(lam: torch.Tensor) -> torch.Tensor:
    return (2.0 / math.pi) * torch.atan(torch.exp(-0.5 * lam))  # cot(pi t / 2) = e^{lambda/2}


# schedule name -> (coefficients of t, time of a log-SNR)
_SCHEDULES = {"rectified_flow": (_rectified_flow, _rectified_flow_time), "vp_cosine": (_vp_cosine, _vp_cosine_time)}


def _as_time(t: torch.Tensor | float) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=torch.float64)
    if bool(((t < 0) | (t > 1) | torch.isnan(t)).any()):
        raise AudiospecError(f"diffusion time t must lie in [0, 1], got values from {float(t.min())} to {float(t.max())}")
    return t


def process_coefficients(t: torch.Tensor | float, *, process: Schedule = "rectified_flow") -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(alpha_t, sigma_t)`` in float64 for times ``t`` (any shape).

    Args:
        t: times in [0, 1], a float or a tensor ``[*t]`` of any shape (t = 1 is pure noise).
        process: ``"rectified_flow"`` (alpha_t = 1 - t, sigma_t = t) or ``"vp_cosine"``
            (alpha_t = cos(pi t / 2), sigma_t = sin(pi t / 2)).

    Returns:
        ``(alpha_t, sigma_t)``, each ``[*t]`` float64.

    Raises:
        AudiospecError: an unknown process, or times outside [0, 1] or NaN.
    """
    _check_process(process)
    return _SCHEDULES[process][0](_as_time(t))


def log_snr(t: torch.Tensor | float, *, process: Schedule = "rectified_flow") -> torch.Tensor:
    """lambda(t) = log(alpha_t^2 / sigma_t^2) (float64; +inf at t=0, -inf at t=1).

    Args:
        t: times in [0, 1], a float or a tensor ``[*t]``.
        process: the forward process (see :func:`process_coefficients`).

    Returns:
        lambda(t) ``[*t]`` float64.

    Raises:
        AudiospecError: an unknown process or times outside [0, 1].
    """
    alpha_t, sigma_t = process_coefficients(t, process=process)
    return 2.0 * (torch.log(alpha_t) - torch.log(sigma_t))


def time_from_log_snr(lam: torch.Tensor | float, *, process: Schedule = "rectified_flow") -> torch.Tensor:
    """Inverse of :func:`log_snr`: the t at which log(alpha_t^2 / sigma_t^2) = lambda.

    Rectified flow: (1 - t) / t = e^{lambda/2}  =>  t = sigmoid(-lambda / 2).
    VP cosine:      cot(pi t / 2) = e^{lambda/2}  =>  t = (2 / pi) atan(e^{-lambda/2}).

    Args:
        lam: log-SNR values, a float or a tensor ``[*lam]`` (+-inf allowed).
        process: the forward process.

    Returns:
        t ``[*lam]`` float64 in [0, 1].

    Raises:
        AudiospecError: an unknown process.
    """
    _check_process(process)
    return _SCHEDULES[process][1](torch.as_tensor(lam, dtype=torch.float64))
