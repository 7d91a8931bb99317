"""Spectral distances between a generated and a real set of log-mel patches.

Inputs are sets of standardised log-mel patches ``[N, 1, M, T]`` or ``[N, M, T]``
(x = (10 log10 mel power - mean) / std with dataset-wide mean and std), compared set
against set, not sample against sample: generated and real clips are not paired. Every
distance is 0 for identical sets and symmetric in its two arguments; all are computed
in float64. Both sets must have the same patch size M x T.

- :func:`log_spectral_distance`: RMS over mel bands of the difference between the two
  sets' mean log-mel profiles (input units; times the dataset std gives dB).
- :func:`rapsd_error`: mean |log10| ratio of the two sets' log-domain mean RAPSDs
  (2-D texture of the patches, DC dropped).
- :func:`cepstrum_error`: the same on the mean cepstral power per quefrency (c0 dropped).
"""

from __future__ import annotations

import torch

from audiospec.functional.cepstrum import cepstral_power
from audiospec.functional.rapsd import RingStep, rapsd
from audiospec.functional.spectra import log_domain_mean
from audiospec.metrics._patches import as_patch_pair

__all__ = ["mel_profile", "log_spectral_distance", "mean_rapsd", "rapsd_error", "mean_cepstral_power", "cepstrum_error"]


def mel_profile(patches: torch.Tensor) -> torch.Tensor:
    """Mean log-mel value per band over clips and frames: ``[N, M, T] -> [M]``.

    The inputs are log powers, so this is the log of the geometric-mean mel power of each band.

    Args:
        patches: log-mel patches ``[N, M, T]``.

    Returns:
        The profile ``[M]``.
    """
    return patches.mean(dim=(0, 2))


def log_spectral_distance(generated: torch.Tensor, real: torch.Tensor) -> float:
    """LSD = sqrt( (1/M) sum_m (mu_gen[m] - mu_real[m])^2 ), mu[m] = mean over clips and frames of x[:, m, :].

    ``generated`` ``[N, 1, M, T]``, ``real`` ``[K, 1, M, T]`` (or without the channel dim).
    mu is the set's mean log-mel profile (:func:`mel_profile`); the LSD is in the units
    of the input (standardised dB: multiply by the dataset's std of 10 log10 mel power
    to read dB). It compares the average spectral envelope only, not texture or variance.

    Args:
        generated: generated patches ``[N, 1, M, T]`` or ``[N, M, T]``.
        real: real patches ``[K, 1, M, T]`` or ``[K, M, T]``, same M and T.

    Returns:
        The LSD >= 0, in input units.
    """
    gen, ref = as_patch_pair(generated, real)
    diff = mel_profile(gen) - mel_profile(ref)  # [M]
    return float(diff.pow(2).mean().sqrt())


def mean_rapsd(patches: torch.Tensor, *, ring_step: RingStep = "fine") -> tuple[torch.Tensor, torch.Tensor]:
    """Log-domain mean RAPSD of a set, DC ring dropped: ``[N, M, T] -> (freqs [R - 1], power [R - 1])``.

    RAPSD in ``mode="normalized"`` (radius in cycles/sample per axis, see
    :func:`audiospec.functional.rapsd`), averaged over clips as exp(mean log P).

    Args:
        patches: log-mel patches ``[N, M, T]``.
        ring_step: ring spacing, ``"fine"`` or ``"coarse"``.

    Returns:
        ``(freqs [R - 1], power [R - 1])``.
    """
    radial = rapsd(patches, mode="normalized", ring_step=ring_step)  # power [N, R]
    return radial.freqs[1:], log_domain_mean(radial.power, dim=0)[1:]


def rapsd_error(generated: torch.Tensor, real: torch.Tensor, *, ring_step: RingStep = "fine") -> float:
    """(1/(R-1)) sum_{r >= 1} | log10 P_gen(f_r) - log10 P_real(f_r) |, in decades.

    P is each set's log-domain mean RAPSD (:func:`mean_rapsd`); ring 0 (DC, the patch
    mean) is dropped. 0.1 means the mean spectra differ by a factor 10^0.1 = 1.26 on average.

    Args:
        generated: generated patches ``[N, 1, M, T]`` or ``[N, M, T]``.
        real: real patches ``[K, 1, M, T]`` or ``[K, M, T]``, same M and T.
        ring_step: ring spacing, ``"fine"`` or ``"coarse"``.

    Returns:
        The mean absolute log10 ratio, in decades.
    """
    gen, ref = as_patch_pair(generated, real)
    _, p_gen = mean_rapsd(gen, ring_step=ring_step)
    _, p_ref = mean_rapsd(ref, ring_step=ring_step)
    return float((p_gen.log10() - p_ref.log10()).abs().mean())


def mean_cepstral_power(patches: torch.Tensor) -> torch.Tensor:
    """Log-domain mean over clips of the cepstral power per quefrency, c0 dropped: ``[N, M, T] -> [M - 1]``.

    Per clip, cepstral power = mean over frames of the squared orthonormal DCT-II
    coefficient along the mel axis (:func:`audiospec.functional.cepstral_power`).

    Args:
        patches: log-mel patches ``[N, M, T]``.

    Returns:
        Cepstral power ``[M - 1]``.
    """
    return log_domain_mean(cepstral_power(patches), dim=0)[1:]


def cepstrum_error(generated: torch.Tensor, real: torch.Tensor) -> float:
    """(1/(M-1)) sum_{q >= 1} | log10 C_gen(q) - log10 C_real(q) |, in decades.

    C is each set's :func:`mean_cepstral_power`; quefrency 0 (c0, the frame's mean
    level, covered by :func:`log_spectral_distance`) is dropped.

    Args:
        generated: generated patches ``[N, 1, M, T]`` or ``[N, M, T]``.
        real: real patches ``[K, 1, M, T]`` or ``[K, M, T]``, same M and T.

    Returns:
        The mean absolute log10 ratio, in decades.
    """
    gen, ref = as_patch_pair(generated, real)
    return float((mean_cepstral_power(gen).log10() - mean_cepstral_power(ref).log10()).abs().mean())
