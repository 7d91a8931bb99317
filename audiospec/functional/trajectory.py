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

from typing import Literal

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.cepstrum import cepstral_power, quefrency_axis
from audiospec.functional.rapsd import MEL_RING_STEP, rapsd
from audiospec.functional.stats import spearman

__all__ = ["SpectralView", "band_edges", "band_log_power", "commit_times", "empirical_autoregression_order"]

SpectralView = Literal["cepstrum", "rapsd"]


def band_edges(n_bins: int, *, n_bands: int) -> torch.Tensor:
    """Log-spaced integer edges over bins 1 .. n_bins - 1 (DC excluded): ``[B + 1]``, B <= n_bands."""
    if n_bins < 3 or n_bands < 2:
        raise AudiospecError(f"need at least 3 bins and 2 bands, got n_bins={n_bins}, n_bands={n_bands}")
    edges = torch.logspace(0.0, torch.log10(torch.tensor(float(n_bins))).item(), n_bands + 1, dtype=torch.float64)
    return torch.unique(edges.round().long().clamp(1, n_bins))


def band_log_power(x: torch.Tensor, *, view: SpectralView = "cepstrum", n_bands: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """log10 power per band of fields ``x`` ``[..., M, T]``: returns (centre freqs ``[B]``, ``[..., B]``).

    ``view="cepstrum"``: mean squared DCT-II coefficient along mel, quefrency k / (2M).
    ``view="rapsd"``: RAPSD rings (normalised radius, cycles/sample, ``MEL_RING_STEP`` spacing as
    in the analytic scores). Bands are
    log-spaced groups of bins (DC excluded), power averaged arithmetically within a band.
    """
    if x.ndim < 2:
        raise AudiospecError(f"band_log_power needs fields [..., M, T], got shape {tuple(x.shape)}")
    check_finite(x, name="x0 prediction")
    if view == "cepstrum":
        M = x.shape[-2]
        power = cepstral_power(x.to(torch.float64))  # [..., M]
        freqs = quefrency_axis(M)
    elif view == "rapsd":
        spectrum = rapsd(x, mode="normalized", ring_step=MEL_RING_STEP)
        power, freqs = spectrum.power, spectrum.freqs
    else:
        raise AudiospecError(f"unknown spectral view {view!r}; choose 'cepstrum' or 'rapsd'")
    edges = band_edges(power.shape[-1], n_bands=n_bands)
    lo, hi = edges[:-1], edges[1:]
    centre = torch.stack([freqs[a:b].mean() for a, b in zip(lo.tolist(), hi.tolist())])
    band_power = torch.stack([power[..., a:b].mean(-1) for a, b in zip(lo.tolist(), hi.tolist())], dim=-1)
    return centre, torch.log10(band_power.clamp_min(1e-30))


def commit_times(log_power: torch.Tensor, times: torch.Tensor, *, delta: float = 0.1) -> torch.Tensor:
    """Commit time per band from a trajectory ``log_power`` ``[S, ..., B]`` at ``times`` ``[S]``.

    ``times`` run from noise to data (decreasing). The commit time of a band is
    ``times[s]`` for the first step s from which |log_power - final| <= ``delta`` holds
    at every later step (delta = 0.1 in log10 power is 1 dB). Returns ``[..., B]``.
    """
    if log_power.shape[0] != times.shape[0] or times.ndim != 1:
        raise AudiospecError(
            f"trajectory has {log_power.shape[0]} steps but times has shape {tuple(times.shape)}; record one time per step"
        )
    if delta <= 0:
        raise AudiospecError(f"delta must be positive, got {delta}")
    if times.numel() > 1 and bool((times[1:] > times[:-1]).any()):
        raise AudiospecError("times must be non-increasing (sampling runs from noise at t=1 to data at t=0)")
    within = (log_power - log_power[-1]).abs() <= delta  # [S, ..., B]
    settled = within.flip(0).to(torch.int64).cumprod(0).flip(0)  # 1 from the commit step on
    first = log_power.shape[0] - settled.sum(0)  # [..., B] index of the commit step
    return times.to(torch.float64)[first]


def empirical_autoregression_order(freqs: torch.Tensor, commit: torch.Tensor) -> float:
    """Spearman(f, -mean commit time) over bands: ``freqs`` ``[B]``, ``commit`` ``[..., B]``."""
    mean_commit = commit.reshape(-1, commit.shape[-1]).to(torch.float64).mean(0)
    return spearman(freqs.to(torch.float64), -mean_commit)
