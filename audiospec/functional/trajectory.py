"""When does a sampler decide each frequency band? (DESIGN.md section 5, "Trajectory analysis").

While sampling from t = 1 (noise) to t = 0, the model's data prediction x̂0(t) is
recorded at every step. For each band of a spectral view of x̂0 (cepstral quefrency
bands, or RAPSD rings), the *commit time* is the largest t after which the band's log
power stays within ``delta`` of its final value. The empirical autoregression-order score
is the Spearman correlation of band frequency and minus the commit time (as in
:func:`audiospec.functional.autoregression.autoregression_order`): +1 when coarse bands
are settled before fine ones.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.cepstrum import band_edges, cepstral_power, quefrency_axis
from audiospec.functional.rapsd import MEL_RING_STEP, rapsd
from audiospec.functional.ranks import spearman

__all__ = [
    "SpectralView",
    "SPECTRAL_VIEWS",
    "band_edges",
    "band_power",
    "band_log_power",
    "commit_times",
    "unexplained_fraction",
    "content_commit_times",
    "empirical_autoregression_order",
    "ordering_scores",
]

SpectralView = Literal["cepstrum", "modulation", "rapsd"]
SPECTRAL_VIEWS: tuple[str, ...] = get_args(SpectralView)


def band_power(x: torch.Tensor, *, view: SpectralView = "cepstrum", n_bands: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean power per band of fields ``x`` ``[..., M, T]``: returns (centre freqs ``[B]``, ``[..., B]``) in float64.

    Bands are log-spaced groups of bins (DC excluded) of the view's orthonormal basis (module
    doc); power is averaged arithmetically within a band, so it is linear in |coefficient|².
    """
    if x.ndim < 2:
        raise AudiospecError(f"band power needs fields [..., M, T], got shape {tuple(x.shape)}")
    check_finite(x, name="x0 prediction")
    if view == "cepstrum":
        power = cepstral_power(x.to(torch.float64))  # [..., M]
        freqs = quefrency_axis(x.shape[-2])
    elif view == "modulation":
        power = cepstral_power(x.to(torch.float64).transpose(-1, -2))  # [..., T]: DCT along time
        freqs = quefrency_axis(x.shape[-1])
    elif view == "rapsd":
        spectrum = rapsd(x.to(torch.float64), mode="normalized", ring_step=MEL_RING_STEP)
        power, freqs = spectrum.power, spectrum.freqs
    else:
        raise AudiospecError(f"unknown spectral view {view!r}; choose one of {SPECTRAL_VIEWS}")
    edges = band_edges(power.shape[-1], n_bands=n_bands)
    lo, hi = edges[:-1].tolist(), edges[1:].tolist()
    centre = torch.stack([freqs[a:b].mean() for a, b in zip(lo, hi)])
    return centre, torch.stack([power[..., a:b].mean(-1) for a, b in zip(lo, hi)], dim=-1)


def band_log_power(x: torch.Tensor, *, view: SpectralView = "cepstrum", n_bands: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """log10 of :func:`band_power`: (centre freqs ``[B]``, ``[..., B]``)."""
    centre, power = band_power(x, view=view, n_bands=n_bands)
    return centre, torch.log10(power.clamp_min(1e-30))


def commit_times(log_power: torch.Tensor, times: torch.Tensor, *, delta: float = 0.1) -> torch.Tensor:
    """Commit time per band from a trajectory ``log_power`` ``[S, ..., B]`` at ``times`` ``[S]``.

    ``times`` run from noise to data (decreasing). The commit time of a band is
    ``times[s]`` for the first step s from which |log_power - final| <= ``delta`` holds
    at every later step (delta = 0.1 in log10 power is 1 dB). Returns ``[..., B]``.
    """
    _check_times(log_power.shape[0], times)
    if delta <= 0:
        raise AudiospecError(f"delta must be positive, got {delta}")
    return _first_settled((log_power - log_power[-1]).abs() <= delta, times)


def _check_times(n_steps: int, times: torch.Tensor) -> None:
    if n_steps != times.shape[0] or times.ndim != 1:
        raise AudiospecError(
            f"trajectory has {n_steps} steps but times has shape {tuple(times.shape)}; record one time per step"
        )
    if times.numel() > 1 and bool((times[1:] > times[:-1]).any()):
        raise AudiospecError("times must be non-increasing (sampling runs from noise at t=1 to data at t=0)")


def _first_settled(within: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """``times[s]`` of the first step s from which ``within`` ``[S, ..., B]`` holds at every later step."""
    settled = within.flip(0).to(torch.int64).cumprod(0).flip(0)  # 1 from the commit step on
    first = (within.shape[0] - settled.sum(0)).clamp_max(within.shape[0] - 1)  # [..., B] index of the commit step
    return times.to(torch.float64)[first]


def unexplained_fraction(trajectory: torch.Tensor, *, view: SpectralView = "cepstrum", n_bands: int = 12,
                         mean: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """e_b(t) per step, sample and band of x̂0 trajectories ``[S, n, M, T]`` (the last step is x_final).

    Returns (centre freqs ``[B]``, ``[S, n, B]``): ‖P_b(x̂0(t) − x_final)‖² of each sample over
    E_n ‖P_b(x_final − μ)‖² (``mean`` μ ``[M, T]``, default 0 for centred data). Averaging the
    numerator over samples gives the population fraction of the module doc.
    """
    if trajectory.ndim != 4:
        raise AudiospecError(f"trajectory must have shape [S, n, M, T], got {tuple(trajectory.shape)}")
    final = trajectory[-1]
    centred = final - mean.to(final) if mean is not None else final
    freqs, reference = band_power(centred, view=view, n_bands=n_bands)  # [n, B]
    _, residual = band_power(trajectory - final, view=view, n_bands=n_bands)  # [S, n, B]
    return freqs, residual / reference.mean(0).clamp_min(1e-30)


def content_commit_times(fraction: torch.Tensor, times: torch.Tensor, *, threshold: float = 0.1) -> torch.Tensor:
    """Commit time per band: the first t from which the unexplained fraction ``[S, ..., B]`` stays <= ``threshold``."""
    _check_times(fraction.shape[0], times)
    if not 0.0 < threshold < 1.0:
        raise AudiospecError(f"threshold must lie in (0, 1), got {threshold}")
    return _first_settled(fraction <= threshold, times)


def ordering_scores(freqs: torch.Tensor, commit: torch.Tensor) -> tuple[float, float]:
    """(order, spread) of commit times ``[..., B]`` (mean over leading dims) at band frequencies ``[B]``.

    order = Spearman(f, −t*); spread = −slope of t* against log10 f (module doc).
    """
    mean_commit = commit.reshape(-1, commit.shape[-1]).to(torch.float64).mean(0)
    log_f = torch.log10(freqs.to(torch.float64))
    centred = log_f - log_f.mean()
    slope = float((centred * (mean_commit - mean_commit.mean())).sum() / centred.square().sum())
    return spearman(freqs.to(torch.float64), -mean_commit), -slope


def empirical_autoregression_order(freqs: torch.Tensor, commit: torch.Tensor) -> float:
    """Spearman(f, -mean commit time) over bands: ``freqs`` ``[B]``, ``commit`` ``[..., B]`` (the order of :func:`ordering_scores`)."""
    return ordering_scores(freqs, commit)[0]
