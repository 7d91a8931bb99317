"""Synthetic data for the metric tests (synthetic signals are for unit tests only)."""

from __future__ import annotations

import math

import torch

from audiospec.functional import colored_noise
from audiospec.metrics import ClassifierConfig

# small enough for the whole folder to run in seconds on 2 CPU cores
SMALL_CONFIG = ClassifierConfig(channels=(8, 16, 32), embedding_dim=32, epochs=6, batch_size=16, lr=3e-3, seed=0)


def two_class_patches(n_per_class: int, *, M: int = 32, T: int = 64, seed: int = 0) -> tuple[torch.Tensor, list[str]]:
    """Rough (1/f^0.5) vs smooth (1/f^2.5) unit-variance fields ``[2n, 1, M, T]`` and their labels."""
    g = torch.Generator().manual_seed(seed)
    rough = colored_noise((n_per_class, 1, M, T), beta=0.5, ndim=2, generator=g)
    smooth = colored_noise((n_per_class, 1, M, T), beta=2.5, ndim=2, generator=g)
    return torch.cat([rough, smooth]), ["rough"] * n_per_class + ["smooth"] * n_per_class


def mel_like_set(n: int, *, M: int = 32, T: int = 64, seed: int = 0) -> torch.Tensor:
    """Log-mel-like patches ``[n, 1, M, T]`` (float64): steep 2-D power-law texture plus a band tilt."""
    g = torch.Generator().manual_seed(seed)
    texture = colored_noise((n, 1, M, T), beta=2.5, ndim=2, generator=g, dtype=torch.float64)
    tilt = torch.linspace(1.0, -1.0, M, dtype=torch.float64)[:, None]  # [M, 1]: low bands louder
    return texture + tilt


def corrupted(real: torch.Tensor, weight: float, *, seed: int = 10) -> torch.Tensor:
    """Variance-preserving mix with white noise: sqrt(1 - w) x + sqrt(w) eps (the same eps for every w)."""
    eps = torch.randn(real.shape, generator=torch.Generator().manual_seed(seed), dtype=real.dtype)
    return math.sqrt(1.0 - weight) * real + math.sqrt(weight) * eps
