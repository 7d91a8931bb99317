"""An intervention on spectral autoregression: swap the low-quefrency bands of two sampling trajectories.

"Diffusion is spectral autoregression" predicts more than an ordering: the fine (high-quefrency)
content generated late should *depend on* the coarse content generated before it. Test it by
intervention (issue 14):

1. Sample pairs of trajectories (a, b) from independent prior draws with the same model and
   time grid; y_a, y_b are their final samples.
2. At time t, build x'_t = L x_t^b + H x_t^a: the low-quefrency part (DCT-II coefficients
   k < ``k_cut`` along the mel axis, every frame) from b, the rest from a; finish sampling
   from x'_t on the same grid to get y'.
3. Per quefrency band j (the log-spaced bands of
   :func:`audiospec.functional.cepstrum.quefrency_bands`, plus the DC coefficient as band 0),
   the *donor share*

       share_j(t) = Σ_pairs ‖P_j (y' − y_a)‖² / Σ_pairs (‖P_j (y' − y_a)‖² + ‖P_j (y' − y_b)‖²)

   is 0 when band j of y' is a's own, 1 when it is the donor's, 1/2 when it is equally far
   from both (or a fresh draw). Both directions of every pair are used (a ← b and b ← a).

Known answers (tests): a linear field that acts only along time (data and prior white along
mel) commutes with every mel-axis projection, so shares are exactly 1 below ``k_cut`` and 0
above; the exact linear-Gaussian field's shares equal, up to the Euler error, those of its
closed-form flow map x_0 = irfft2(√λ_k / σ_k(t) · rfft2(x_t)), σ_k(t)² = (1 − t)² λ_k + t² S_k. High bands of a
Gaussian model move with the swapped low bands only through the leakage of that map between
DCT bands; a model that generates fine content *from* coarse content shows shares above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.samplers import Field, euler_sample, uniform_time_grid
from audiospec.errors import AudiospecError
from audiospec.functional.cepstrum import dct_matrix, quefrency_axis, quefrency_bands

__all__ = ["BandSwap", "swap_low_quefrency", "band_swap", "donor_share"]



def swap_low_quefrency(x: torch.Tensor, donor: torch.Tensor, *, k_cut: int) -> torch.Tensor:
    """``x`` with its DCT-II coefficients k < ``k_cut`` along the mel axis taken from ``donor``.

    Args:
        x: fields ``[..., M, T]``.
        donor: fields ``[..., M, T]``, ``x``'s shape.
        k_cut: the first coefficient kept from ``x``, in [1, M - 1].

    Returns:
        The swapped fields ``[..., M, T]``.

    Raises:
        AudiospecError: shapes that differ or a ``k_cut`` outside [1, M - 1].
    """
    if x.shape != donor.shape:
        raise AudiospecError(f"x {tuple(x.shape)} and donor {tuple(donor.shape)} must have the same shape")
    M = x.shape[-2]
    if not 1 <= k_cut < M:
        raise AudiospecError(f"k_cut must lie in [1, {M - 1}] for {M} mel bins, got {k_cut}")
    D = dct_matrix(M, device=x.device, dtype=x.dtype)  # [M, M], orthonormal: x = D @ c
    low = D[:, :k_cut] @ D[:, :k_cut].T  # [M, M] projection onto the low quefrencies
    return x + low @ (donor - x)  # [M, M] @ [..., M, T]


def _band_distance(y: torch.Tensor, ref: torch.Tensor, bands: list[tuple[int, int]]) -> torch.Tensor:
    """‖P_j (y − ref)‖² per datum and band: ``[N, ..., M, T]`` -> ``[N, B]`` (float64)."""
    c = dct_matrix(y.shape[-2], device=y.device, dtype=torch.float64).T @ (y - ref).double()  # [N, ..., M, T]
    power = c.square().transpose(-2, -1).flatten(1, -2).sum(1)  # [N, M]: summed over channels and frames
    return torch.stack([power[:, a:b].sum(-1) for a, b in bands], dim=-1)


@dataclass(frozen=True)
class BandSwap:
    """Per swap time and band the distances of each swapped sample y' to its own (``d_own``) and donor
    (``d_donor``) final sample: ``[J, N, B]`` (N = 2 × pairs). ``times`` ``[J]``, ``bands`` the DCT bins of each
    band, ``centres`` their mean quefrency (cycles per mel bin), ``k_cut`` the swapped coefficients.

    Args:
        times: the swap times J.
        bands: (start, stop) DCT coefficients of each band.
        centres: each band's mean quefrency.
        k_cut: the swapped coefficients (k < k_cut).
        d_own: distance of each swapped sample to its own final sample ``[J, N, B]``.
        d_donor: distance to the donor's final sample ``[J, N, B]``.
    """

    times: tuple[float, ...]
    bands: tuple[tuple[int, int], ...]
    centres: tuple[float, ...]
    k_cut: int
    d_own: torch.Tensor
    d_donor: torch.Tensor

    def share(self) -> torch.Tensor:
        """The donor share per swap time and band (module doc).

        Returns:
            ``[J, B]``.
        """
        return donor_share(self.d_own, self.d_donor)

    def pair_shares(self, bands: Sequence[int]) -> torch.Tensor:
        """Donor share of the listed bands pooled, per pair (mean of its two directions).

        Args:
            bands: indices of the bands pooled.

        Returns:
            ``[J, pairs]``.
        """
        own = self.d_own[..., list(bands)].sum(-1)  # [J, N]
        donor = self.d_donor[..., list(bands)].sum(-1)
        share = own / (own + donor).clamp_min(1e-300)
        return share.reshape(share.shape[0], -1, 2).mean(-1)

    def kept_bands(self) -> list[int]:
        """The bands wholly above the swapped coefficients (start >= ``k_cut``): the content that was not swapped.

        Returns:
            Their indices.
        """
        return [j for j, (start, _) in enumerate(self.bands) if start >= self.k_cut]

    def intervals(self, *, level: float = 0.95, n_bootstrap: int = 1000, seed: int = 0) -> torch.Tensor:
        """Percentile-bootstrap interval of :meth:`share` over pairs (both directions of a pair move together).

        Args:
            level: the interval's level.
            n_bootstrap: replicates.
            seed: the seed of the resampling.

        Returns:
            ``[2, J, B]`` (low, high).
        """
        n_pairs = self.d_own.shape[1] // 2
        g = torch.Generator().manual_seed(seed)
        pairs = torch.randint(0, n_pairs, (n_bootstrap, n_pairs), generator=g)  # [R, P]
        idx = torch.cat([2 * pairs, 2 * pairs + 1], dim=1)  # [R, 2P]
        own = self.d_own[:, idx].sum(2)  # [J, R, B]
        donor = self.d_donor[:, idx].sum(2)
        reps = own / (own + donor).clamp_min(1e-300)
        q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)
        return torch.quantile(reps, q, dim=1)  # [2, J, B]


def donor_share(d_own: torch.Tensor, d_donor: torch.Tensor) -> torch.Tensor:
    """Σ d_own / Σ (d_own + d_donor) over the data axis (dim -2).

    Args:
        d_own: distances to the own final samples ``[..., N, B]``.
        d_donor: distances to the donors' ``[..., N, B]``.

    Returns:
        The share ``[..., B]``.
    """
    own, donor = d_own.sum(-2), d_donor.sum(-2)
    return own / (own + donor).clamp_min(1e-300)


def band_swap(field: Field, *, prior: NoisePrior, shape: tuple[int, int], n_pairs: int, steps: int,
              swap_times: Sequence[float], k_cut: int, n_bands: int = 8,
              generator: torch.Generator | None = None) -> BandSwap:
    """Run the swap experiment (module doc) with Euler sampling on ``steps`` uniform steps.

    ``swap_times`` must lie on the grid (multiples of 1 / ``steps`` in (0, 1)); ``field(x, t)`` is the model's
    velocity. Costs (1 + len(swap_times)) sampling runs of 2 × ``n_pairs`` fields.

    Args:
        field: the velocity field.
        prior: the noise prior of the initial draws.
        shape: the patch size (M, T).
        n_pairs: trajectory pairs.
        steps: Euler steps.
        swap_times: the swap times, on the grid.
        k_cut: the swapped coefficients (a band edge).
        n_bands: log-spaced quefrency bands above DC.
        generator: randomness of the initial draws.

    Returns:
        The distances of every swap (:class:`BandSwap`).

    Raises:
        AudiospecError: a bad ``n_pairs``, a swap time off the grid or a ``k_cut`` inside a band.
    """
    if not isinstance(n_pairs, int) or n_pairs < 1:
        raise AudiospecError(f"n_pairs must be a positive integer, got {n_pairs!r}")
    times = uniform_time_grid(steps)
    index = {}
    for t in swap_times:
        i = round((1.0 - float(t)) * steps)
        if not 0 < i < steps or abs(float(times[i]) - float(t)) > 1e-9:
            raise AudiospecError(f"swap time {t} is not an inner point of the {steps}-step grid; use multiples "
                                 f"of 1/{steps} strictly between 0 and 1")
        index[float(t)] = i
    M = shape[0]
    bands = quefrency_bands(M, n_bands=n_bands)
    if k_cut not in [start for start, _ in bands[1:]]:
        raise AudiospecError(f"k_cut={k_cut} splits a quefrency band; use a band edge: one of "
                             f"{[start for start, _ in bands[1:]]} for {M} mel bins and n_bands={n_bands}")
    x1 = prior.sample((2 * n_pairs, 1, *shape), generator=generator)
    states: dict[int, torch.Tensor] = {}

    def keep(i: int, t: float, x: torch.Tensor, x0_hat: torch.Tensor) -> None:
        if i in index.values():
            states[i] = x.detach().clone()

    with torch.no_grad():
        y = euler_sample(field, x1, times=times, callback=keep)
        partner = torch.arange(2 * n_pairs) ^ 1  # 0<->1, 2<->3, ...
        d_own, d_donor = [], []
        for t, i in index.items():
            swapped = swap_low_quefrency(states[i], states[i][partner], k_cut=k_cut)
            y_swapped = euler_sample(field, swapped, times=times[i:])
            d_own.append(_band_distance(y_swapped, y, bands))
            d_donor.append(_band_distance(y_swapped, y[partner], bands))
    q = quefrency_axis(M)
    return BandSwap(times=tuple(index), bands=tuple(bands), centres=tuple(float(q[a:b].mean()) for a, b in bands),
                    k_cut=k_cut, d_own=torch.stack(d_own), d_donor=torch.stack(d_donor))
