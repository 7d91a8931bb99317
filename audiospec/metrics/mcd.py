"""Mel-cepstral distortion (MCD) between a generated and a real set of log-mel patches.

For two cepstral vectors c, c' (coefficients 1..K, c0 = overall level excluded)

    MCD(c, c') = (10 / ln 10) * sqrt( 2 * sum_{i=1}^{K} (c_i - c'_i)^2 )

(Kubichek 1993). The constant turns natural-log amplitude cepstra into dB; here c is
the orthonormal DCT-II along the mel axis of the *input* log-mel (as
:func:`audiospec.functional.cepstrum`), so with standardised log-mel inputs the value is
in the same relative units as long as the dataset normalisation is fixed: compare MCDs
computed on the same normalisation only, not with dB values from the TTS literature.

A patch is summarised by its cepstral vector averaged over frames (generated and real
clips are not time-aligned, so frame-by-frame MCD would be meaningless).
"""

from __future__ import annotations

import math

import torch

from audiospec.errors import AudiospecError
from audiospec.functional.cepstrum import cepstrum
from audiospec.metrics._patches import as_patch_pair

__all__ = ["MCD_CONSTANT", "mean_cepstra", "mel_cepstral_distortion", "mel_cepstral_distortion_stats"]

MCD_CONSTANT = 10.0 / math.log(10.0) * math.sqrt(2.0)  # MCD = MCD_CONSTANT * ||c - c'||_2


def mean_cepstra(patches: torch.Tensor, *, n_coeffs: int) -> torch.Tensor:
    """Frame-averaged cepstral coefficients c_1..c_K (K = ``n_coeffs``): ``[N, M, T] -> [N, K]``.

    Args:
        patches: log-mel patches ``[N, M, T]``.
        n_coeffs: K, the coefficients kept after c0, <= M - 1.

    Returns:
        Mean cepstral vectors ``[N, K]``.
    """
    return cepstrum(patches, n_coeffs=n_coeffs + 1)[..., 1:, :].mean(dim=-1)  # [N, K + 1, T] -> [N, K]


def mel_cepstral_distortion(c1: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
    """MCD between cepstral vectors ``[..., K]`` (broadcasting, c0 already removed) -> ``[...]``.

    Args:
        c1: cepstral vectors ``[..., K]``.
        c2: cepstral vectors ``[..., K]``, broadcasting against ``c1``.

    Returns:
        MCD ``[...]`` (see the module docstring for its units).
    """
    return MCD_CONSTANT * (c1 - c2).pow(2).sum(dim=-1).sqrt()


def mel_cepstral_distortion_stats(
    generated: torch.Tensor, real: torch.Tensor, *, n_coeffs: int = 13
) -> dict[str, float]:
    """MCD statistics between ``generated`` ``[N, 1, M, T]`` and ``real`` ``[K, 1, M, T]`` (or ``[., M, T]``).

    Uses coefficients c_1..c_{n_coeffs} (needs n_coeffs <= M - 1). Returns

    - ``mcd_mean``: MCD between the two sets' mean cepstral vectors (symmetric; 0 for equal sets);
    - ``mcd_nn_mean``, ``mcd_nn_std``: mean and sample std (NaN for N = 1) over generated
      patches of the MCD to the nearest real patch (not symmetric; 0 when every
      generated patch has an exact copy among the real ones);
    - ``mcd_nn_real_mean``: the same for each real patch to its nearest *other* real patch
      (NaN for K = 1), the reference scale: mcd_nn_mean well above it means generated
      patches lie off the real set, well below it suggests copies of training clips.

    Args:
        generated: generated log-mel patches ``[N, 1, M, T]`` or ``[N, M, T]``.
        real: real log-mel patches ``[K, 1, M, T]`` or ``[K, M, T]``, same M and T.
        n_coeffs: cepstral coefficients used after c0, in [1, M - 1].

    Returns:
        ``{"mcd_mean", "mcd_nn_mean", "mcd_nn_std", "mcd_nn_real_mean"}`` as floats.

    Raises:
        AudiospecError: patch sets of other shapes or with NaN / Inf, or ``n_coeffs`` outside [1, M - 1].
    """
    gen, ref = as_patch_pair(generated, real)
    M = gen.shape[1]
    if not isinstance(n_coeffs, int) or not 1 <= n_coeffs <= M - 1:
        raise AudiospecError(
            f"n_coeffs must be an int in [1, {M - 1}] for {M} mel bands (c0 is excluded), got {n_coeffs!r}"
        )
    c_gen = mean_cepstra(gen, n_coeffs=n_coeffs)  # [N, K]
    c_ref = mean_cepstra(ref, n_coeffs=n_coeffs)  # [R, K]
    mcd_mean = float(mel_cepstral_distortion(c_gen.mean(0), c_ref.mean(0)))
    exact = "donot_use_mm_for_euclid_dist"  # identical vectors give exactly 0
    nn_gen = MCD_CONSTANT * torch.cdist(c_gen, c_ref, compute_mode=exact).min(dim=1).values  # [N, R] -> [N]
    if c_ref.shape[0] > 1:
        ref_dist = torch.cdist(c_ref, c_ref, compute_mode=exact)  # [R, R]
        ref_dist.fill_diagonal_(math.inf)
        nn_real = float(MCD_CONSTANT * ref_dist.min(dim=1).values.mean())
    else:
        nn_real = math.nan
    return {
        "mcd_mean": mcd_mean,
        "mcd_nn_mean": float(nn_gen.mean()),
        "mcd_nn_std": float(nn_gen.std()) if nn_gen.numel() > 1 else math.nan,
        "mcd_nn_real_mean": nn_real,
    }
