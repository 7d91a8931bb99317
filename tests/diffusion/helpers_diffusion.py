"""Shared helpers for the audiospec.diffusion tests (plain functions, imported as a top-level module)."""

from __future__ import annotations

from typing import Any

import torch

from audiospec.diffusion import TrainConfig
from audiospec.diffusion.schedule_design import velocity_gain
from audiospec.functional.noise import colored_noise


def structured_patches(n: int = 24, shape: tuple[int, int] = (16, 32), *, beta: float = 2.0, seed: int = 0) -> torch.Tensor:
    """Random-but-structured training patches ``[n, 1, M, T]``: unit-variance 1/f^beta fields."""
    return colored_noise((n, 1, *shape), beta=beta, ndim=2, generator=torch.Generator().manual_seed(seed))


def tiny_train_config(**overrides: Any) -> TrainConfig:
    """The tiny U-Net preset with a short, CPU-friendly schedule; ``overrides`` are TrainConfig keys."""
    data: dict[str, Any] = {
        "steps": 4, "batch_size": 4, "checkpoint_every": 2, "log_every": 1, "precision": "fp32",
        "model": {"preset": "tiny"},
    }
    data.update(overrides)
    return TrainConfig.from_dict(data)


def linear_gaussian_velocity(data_variance: torch.Tensor, noise_variance: torch.Tensor):
    """The exact rectified-flow velocity for Gaussian data with spectrum lambda and prior spectrum S.

    v(x, t) = irfft2( c_k(t) rfft2(x) ), c_k(t) = (t S_k - (1 - t) lambda_k) / V_k(t), spectra on the
    rfft grid ``[F, T // 2 + 1]``; x ``[B, C, F, T]`` float64, t ``[B]`` (all equal).
    """

    def velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        F, T = x.shape[-2:]
        c = velocity_gain(t[0].to(torch.float64), data_variance=data_variance, noise_variance=noise_variance)
        return torch.fft.irfft2(torch.fft.rfft2(x, norm="ortho") * c, s=(F, T), norm="ortho")

    return velocity
