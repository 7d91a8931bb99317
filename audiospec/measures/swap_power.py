"""The band swap through any process, and what gives it power: a ceiling, a direction, a commit-matched time.

:mod:`audiospec.measures.band_swap` swaps the low quefrencies of two flow-matching trajectories. Issue 25 asks
what a swap *could* show. Here:

- :func:`process_band_swap` runs the swap through any process of :mod:`audiospec.diffusion.processes` (its own
  state and steps): a rectified flow with any prior, the band windows (the fair cepstral autoregression swapped at
  a stage edge is the positive control: there the coarse bands are final and the fine ones pure noise), blurring
  diffusion. Per pair (a, b) and both directions it records, on the bands above the swapped coefficients (the
  content that was *not* swapped), the donor share's distances and the directional share
  ⟨y′ − y_a, y_b − y_a⟩ / ||y_b − y_a||² (:func:`audiospec.functional.band_steps.directional_share`).
- :func:`swap_ceiling`: the data's own ceiling, the held-out R² of a ridge regression of the fine DCT
  coefficients of a patch on its coarse ones (fitted on train, penalty chosen on validation, scored on test). For
  an exact sampler of a linear-Gaussian conditional swapped where the coarse bands are final and the fine ones
  undrawn, the expected directional share is that R²: y′ − y_a = A (c_b − c_a) and y_b − y_a = A (c_b − c_a) +
  (n_b − n_a), so the ratio of expectations is Var(A c) / (Var(A c) + Var(n)).
- :func:`commit_index`: the grid step at which a sampler has committed a given fraction of the swapped
  coarse bands' content, 1 − Σ||P_low(x̂0(t) − y)||² / Σ||P_low y||² (read off the exact Gaussian model of each
  prior: priors are then swapped at an equal commit state, not only at an equal t).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from audiospec.diffusion.processes import BandWindows, Process
from audiospec.diffusion.processes.interpolant import FrequencyInterpolant
from audiospec.errors import AudiospecError
from audiospec.functional.band_steps import directional_share, ridge_r2
from audiospec.functional.cepstrum import dct_matrix
from audiospec.measures.band_swap import _band_distance, swap_low_quefrency

__all__ = ["ProcessSwap", "commit_index", "process_band_swap", "swap_ceiling", "swap_state"]


def swap_state(process: Process, state: torch.Tensor, donor: torch.Tensor, *, k_cut: int) -> torch.Tensor:
    """``state`` with the quefrencies below ``k_cut`` (DCT along mel) taken from ``donor``, in the process's state.

    Args:
        process: the process the states belong to.
        state: its states ``[B, C, M, T]`` (patches, or coefficients with quefrency on axis −2).
        donor: the donors' states, ``state``'s shape.
        k_cut: the first coefficient kept, in [1, M − 1].

    Returns:
        The swapped states ``[B, C, M, T]``.

    Raises:
        AudiospecError: shapes that differ or a ``k_cut`` outside [1, M − 1].
    """
    if not isinstance(process, (FrequencyInterpolant, BandWindows)):
        return swap_low_quefrency(state, donor, k_cut=k_cut)  # the state is the patch
    if state.shape != donor.shape or not 1 <= k_cut < state.shape[-2]:
        raise AudiospecError(f"need states of one shape and 1 <= k_cut < M, got {tuple(state.shape)}, "
                             f"{tuple(donor.shape)}, k_cut={k_cut}")
    swapped = state.clone()
    swapped[..., :k_cut, :] = donor[..., :k_cut, :]  # the rows of a coefficient state are the mel quefrencies
    return swapped


@dataclass(frozen=True)
class ProcessSwap:
    """Swaps at grid indices ``indices`` ``[J]`` (times ``times``): per swap and datum (N = 2 × pairs, partners
    adjacent) the distance per band to its own and the donor's final sample (``d_own``, ``d_donor`` ``[J, N, B]``)
    and the directional share on the kept bands (``directional`` ``[J, N]``).

    Args:
        indices: the grid steps the swaps happened at.
        times: their times.
        bands: (start, stop) DCT coefficients of each band.
        k_cut: the swapped coefficients (k < k_cut).
        d_own: ``[J, N, B]``.
        d_donor: ``[J, N, B]``.
        directional: ``[J, N]``.
    """

    indices: tuple[int, ...]
    times: tuple[float, ...]
    bands: tuple[tuple[int, int], ...]
    k_cut: int
    d_own: torch.Tensor
    d_donor: torch.Tensor
    directional: torch.Tensor

    def kept_bands(self) -> list[int]:
        """Bands wholly above the swapped coefficients."""
        return [j for j, (start, _) in enumerate(self.bands) if start >= self.k_cut]

    def pair_shares(self) -> torch.Tensor:
        """Donor share of the kept bands pooled, per pair (mean of its two directions) ``[J, pairs]``."""
        kept = self.kept_bands()
        own, donor = self.d_own[..., kept].sum(-1), self.d_donor[..., kept].sum(-1)
        share = own / (own + donor).clamp_min(1e-300)
        return share.reshape(share.shape[0], -1, 2).mean(-1)

    def pair_directional(self) -> torch.Tensor:
        """Directional share per pair (mean of its two directions) ``[J, pairs]``."""
        return self.directional.reshape(self.directional.shape[0], -1, 2).mean(-1)


def _run(process: Process, model: Any, state: torch.Tensor, times: torch.Tensor, first: int,
         keep: Sequence[int] = ()) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Steps ``first`` .. N − 1 from ``state``; returns the final patches and the states at the ``keep`` steps."""
    kept = {}
    for i in range(first, times.numel() - 1):
        if i in keep:
            kept[i] = state.clone()
        state, _ = process.step(model, state, times, i)
    return process.view(state), kept


def _high(y: torch.Tensor, k_cut: int) -> torch.Tensor:
    """The DCT-along-mel coefficients from ``k_cut`` up, ``[N, C, M - k_cut, T]`` float64."""
    return (dct_matrix(y.shape[-2], dtype=torch.float64).T @ y.double())[..., k_cut:, :]


@torch.no_grad()
def process_band_swap(process: Process, model: Any, *, times: torch.Tensor, indices: Sequence[int], n_pairs: int,
                      shape: tuple[int, int], k_cut: int, bands: Sequence[tuple[int, int]],
                      generator: torch.Generator | None = None) -> ProcessSwap:
    """Swap the low quefrencies of trajectory pairs at grid steps ``indices`` and finish sampling (module doc).

    Args:
        process: a deterministic process (its steps use no fresh noise).
        model: its network (or an exact field).
        times: the grid ``[N + 1]`` (checked by the process).
        indices: grid steps to swap at, each in [1, N − 1].
        n_pairs: trajectory pairs.
        shape: the patch size (M, T).
        k_cut: the swapped coefficients (a band edge).
        bands: (start, stop) of every band along mel.
        generator: randomness of the initial draws.

    Returns:
        The :class:`ProcessSwap`.

    Raises:
        AudiospecError: a bad pair count, a swap index off the inner grid, or a ``k_cut`` inside a band.
    """
    times = process.check_grid(times)
    N = times.numel() - 1
    if not isinstance(n_pairs, int) or n_pairs < 1 or any(not 0 < i < N for i in indices):
        raise AudiospecError(f"need n_pairs >= 1 and swap steps in [1, {N - 1}], got {n_pairs!r}, {list(indices)}")
    if k_cut not in [start for start, _ in bands[1:]]:
        raise AudiospecError(f"k_cut={k_cut} splits a quefrency band; use one of {[a for a, _ in bands[1:]]}")
    x1 = process.initial((2 * n_pairs, 1, *shape), generator=generator, device=torch.device("cpu"))
    y, states = _run(process, model, x1, times, 0, keep=list(indices))
    partner = torch.arange(2 * n_pairs) ^ 1  # 0<->1, 2<->3, ...
    d_own, d_donor, directional = [], [], []
    for i in indices:
        swapped = swap_state(process, states[i], states[i][partner], k_cut=k_cut)
        y_swapped, _ = _run(process, model, swapped, times, i)
        d_own.append(_band_distance(y_swapped, y, list(bands)))
        d_donor.append(_band_distance(y_swapped, y[partner], list(bands)))
        directional.append(directional_share(_high(y_swapped, k_cut), _high(y, k_cut), _high(y[partner], k_cut)))
    return ProcessSwap(indices=tuple(indices), times=tuple(float(times[i]) for i in indices), bands=tuple(bands),
                       k_cut=k_cut, d_own=torch.stack(d_own), d_donor=torch.stack(d_donor),
                       directional=torch.stack(directional))


def commit_index(trajectory: torch.Tensor, *, k_cut: int, level: float) -> int:
    """The first inner grid step at which the coarse bands (k < ``k_cut``) are committed to ``level`` (module doc).

    Args:
        trajectory: x̂0 at every grid time and the final sample last ``[S + 1, n, M, T]``.
        k_cut: the coarse coefficients.
        level: the committed fraction, in (0, 1).

    Returns:
        The step i in [1, S − 1] (the last inner step when the level is reached only at the end).

    Raises:
        AudiospecError: a level outside (0, 1) or fewer than 3 grid times.
    """
    if not 0.0 < level < 1.0 or trajectory.shape[0] < 3:
        raise AudiospecError(f"need a level in (0, 1) and >= 3 grid times, got {level}, {trajectory.shape[0]}")
    c = dct_matrix(trajectory.shape[-2], dtype=torch.float64).T @ trajectory.double()  # [S + 1, n, M, T]
    low = c[..., :k_cut, :]
    error = (low - low[-1]).square().flatten(1).sum(1) / low[-1].square().sum().clamp_min(1e-300)  # [S + 1]
    reached = [i for i in range(1, trajectory.shape[0] - 1) if 1.0 - float(error[i]) >= level]
    return reached[0] if reached else trajectory.shape[0] - 2


def _coarse_fine(patches: torch.Tensor, k_cut: int) -> tuple[torch.Tensor, torch.Tensor]:
    c = dct_matrix(patches.shape[-2], dtype=torch.float64).T @ patches.double()  # [N, C, M, T]
    return c[..., :k_cut, :].flatten(1), c[..., k_cut:, :].flatten(1)


def swap_ceiling(train: torch.Tensor, validation: torch.Tensor, test: torch.Tensor, *, k_cut: int,
                 alphas: Sequence[float] = (1.0, 10.0, 100.0, 1000.0)) -> tuple[float, float]:
    """The held-out R² of the fine DCT coefficients of a patch predicted linearly from its coarse ones (module doc).

    Args:
        train: training patches ``[N, C, M, T]``.
        validation: validation patches (choose the penalty).
        test: test patches (score).
        k_cut: the coarse coefficients (k < k_cut along mel).
        alphas: ridge penalties tried.

    Returns:
        (R² on test, the penalty chosen on validation).
    """
    x_train, y_train = _coarse_fine(train, k_cut)
    x_val, y_val = _coarse_fine(validation, k_cut)
    scores = [ridge_r2(x_train, y_train, x_val, y_val, alpha=a) for a in alphas]
    best = max(range(len(alphas)), key=lambda j: scores[j])
    x_test, y_test = _coarse_fine(test, k_cut)
    return ridge_r2(x_train, y_train, x_test, y_test, alpha=alphas[best]), float(alphas[best])
