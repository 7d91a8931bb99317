"""The cepstral autoregression (objective ``"cepstral_ar"``): quefrency bands generated in turn
(:mod:`~audiospec.diffusion.processes.interpolant` for the interpolant and sampler it shares with heat).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from audiospec.diffusion.priors import NoisePrior, WhiteNoise
from audiospec.diffusion.processes.base import ProcessEntry, Settings, register
from audiospec.diffusion.processes.interpolant import FrequencyInterpolant, as_like, settings_of, white_prior
from audiospec.errors import AudiospecError
from audiospec.functional.cepstrum import dct_matrix, quefrency_bands

__all__ = ["CepstralAR"]


@dataclass(frozen=True, eq=False)
class CepstralAR(FrequencyInterpolant):
    """Band-by-band linear flow matching along quefrency (module doc); ``n_bands`` log-spaced bands + DC.

    Attributes:
        n_mels: mel bins M, >= 3.
        n_bands: log-spaced quefrency bands above DC.
        eta: the sampler's stochastic share, in [0, 1] (0: Euler).
        prior: the noise (white).
        stats: unused (its prior is pure noise: no (mean, std) ``[C, M, T]`` needed); kept for the common constructor.

    Raises:
        AudiospecError: fewer than 3 mel bins, or eta outside [0, 1].
    """

    n_mels: int
    n_bands: int = 8
    eta: float = 0.0
    prior: NoisePrior = WhiteNoise()
    stats: tuple[torch.Tensor, torch.Tensor] | None = None
    name: ClassVar[str] = "cepstral_ar"

    def __post_init__(self) -> None:
        if self.n_mels < 3:
            raise AudiospecError(f"the cepstral model needs at least 3 mel bins, got {self.n_mels}")
        super().__post_init__()

    @property
    def bands(self) -> list[tuple[int, int]]:
        """(start, stop) DCT coefficients of each stage's band, DC first: the band swap's and commit measure's."""
        return quefrency_bands(self.n_mels, n_bands=self.n_bands)

    @property
    def n_stages(self) -> int:
        """The number of bands K, generated one after the other."""
        return len(self.bands)

    @property
    def commit_bands(self) -> int:
        """The log-spaced bands it generates in turn (the commit measure's ``order.n_bands`` must equal it)."""
        return self.n_bands

    def band_index(self) -> torch.Tensor:
        """The stage of every DCT coefficient along mel.

        Returns:
            ``[M]`` long.
        """
        index = torch.empty(self.n_mels, dtype=torch.long)
        for k, (a, b) in enumerate(self.bands):
            index[a:b] = k
        return index

    def to_coefficients(self, x: torch.Tensor) -> torch.Tensor:
        """The DCT-II along mel.

        Args:
            x: patches ``[..., M, T]``.

        Returns:
            Coefficients ``[..., M, T]``.
        """
        return dct_matrix(x.shape[-2], device=x.device, dtype=x.dtype).T @ x  # [M, M] @ [..., M, T]

    def from_coefficients(self, c: torch.Tensor) -> torch.Tensor:
        """The inverse DCT-II along mel.

        Args:
            c: coefficients ``[..., M, T]``.

        Returns:
            Patches ``[..., M, T]``.
        """
        return dct_matrix(c.shape[-2], device=c.device, dtype=c.dtype) @ c

    def tau(self, s: torch.Tensor) -> torch.Tensor:
        """Noise fraction per datum and coefficient.

        Args:
            s: times ``[B]``.

        Returns:
            tau ``[B, 1, M, 1]`` float64.
        """
        K = self.n_stages
        k = self.band_index().to(torch.float64)  # [M]
        tau = (K * s.double().cpu()[:, None] - (K - 1 - k)[None, :]).clamp(0.0, 1.0)  # [B, M]
        return tau[:, None, :, None]

    def schedule(self, s: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, sigma) = (1 − tau, tau).

        Args:
            s: times ``[B]``.
            shape: the patch size (M, T).

        Returns:
            Each ``[B, 1, M, 1]`` float64.
        """
        tau = self.tau(s)
        return 1.0 - tau, tau

    def training_time(self, t: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """s = (K − 1 − k + t) / K with the stage k uniform over the K bands.

        Args:
            t: run-sampled times ``[B]``.
            generator: draws the stages (CPU).

        Returns:
            s ``[B]`` in t's dtype and device.
        """
        K = self.n_stages
        k = torch.randint(K, (t.shape[0],), generator=generator).to(t.device, t.dtype)
        return (K - 1 - k + t) / K

    def data_prediction(self, output: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """c0 = c_s − tau v on the active band; exact elsewhere.

        Args:
            output: the network's velocity in coefficients ``[B, C, M, T]``.
            c: the state ``[B, C, M, T]``.
            s: times ``[B]``.

        Returns:
            c0_hat ``[B, C, M, T]``.
        """
        return c - as_like(self.tau(s), c) * output

    def output_for(self, c0_hat: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The network output whose data prediction is ``c0_hat``: v = (c − c0_hat) / tau where tau > 0, 0 on the
        clean bands (their prediction is c itself).

        Args:
            c0_hat: a data prediction ``[B, C, M, T]``.
            c: the state ``[B, C, M, T]``.
            s: times ``[B]``.

        Returns:
            v ``[B, C, M, T]``.
        """
        tau = as_like(self.tau(s), c)
        return torch.where(tau > 0, (c - c0_hat) / tau.clamp_min(1e-12), torch.zeros_like(c))

    def active(self, s: torch.Tensor) -> torch.Tensor:
        """Coefficients being generated at ``s``: 0 < tau < 1.

        Args:
            s: times ``[B]``.

        Returns:
            ``[B, 1, M, 1]`` bool.
        """
        tau = self.tau(s)
        return (tau > 0) & (tau < 1)

    def coefficient_loss(self, output: torch.Tensor, c0: torch.Tensor, c_eps: torch.Tensor,
                         s: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of each datum's mean squared velocity error over its active band.

        Args:
            output: the network output in coefficients ``[B, C, M, T]``.
            c0: the data's coefficients ``[B, C, M, T]``.
            c_eps: the noise's coefficients ``[B, C, M, T]``.
            s: times ``[B]``.

        Returns:
            The scalar loss ``[]``.
        """
        mask = self.active(s).to(device=output.device, dtype=output.dtype).expand_as(output)  # [B, C, M, T]
        error = (output - (c_eps - c0)).square() * mask
        per_datum = error.flatten(1).sum(1) / mask.flatten(1).sum(1).clamp_min(1.0)
        return per_datum.mean()


def _cepstral(settings: Settings) -> CepstralAR:
    if settings.n_mels is None:
        raise AudiospecError("the cepstral_ar process needs the number of mel bins (n_mels) of its patches")
    eta = 0.0 if settings.eta is None else settings.eta
    return CepstralAR(n_mels=settings.n_mels, n_bands=settings_of(settings).n_bands, eta=eta,
                      prior=white_prior(settings, CepstralAR.name))


register(ProcessEntry(name=CepstralAR.name, build=_cepstral, label="cepstral AR", whitening=False, baseline=True,
                      bands_in_turn=True))
