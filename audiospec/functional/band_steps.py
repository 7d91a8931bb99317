"""Measures that let a coarse-to-fine claim be decided: who writes each band when, what a swap moves, what is
predictable at all (issue 25).

- :func:`band_step_shares`: per sampling step, the share of each quefrency band's final content
  written in that step,

      share[b, i] = ||P_b(x̂0(t_{i+1}) − x̂0(t_i))||² / Σ_j ||P_b(x̂0(t_{j+1}) − x̂0(t_j))||²,

  P_b = the projection on band b of the orthonormal DCT along mel (the cepstrum's basis). A
  strictly autoregressive sampler writes band b in its own stage only (share 1 there, 0 elsewhere);
  "diffusion refines every band at every step" means every share is above 0 at every step. The
  band × step table is read as a heat map; :func:`stage_concentration` sums it into one number per band, the
  share written in the band's busiest window of S / K consecutive steps (1 for an autoregression over K
  bands, about 1/K for a sampler that writes every band evenly at every step).
- :func:`ridge_r2`: the fraction of held-out variance of ``y`` predictable linearly from ``x``
  (ridge regression fitted on train, R² on test): the data's own ceiling for a band-swap test, i.e.
  how much of the fine bands could follow swapped coarse bands for an exact sampler of a Gaussian
  (linear) conditional.
- :func:`directional_share`: ⟨y′ − y_a, y_b − y_a⟩ / ||y_b − y_a||², where a band swap moved an outcome
  y_a towards a donor's y_b: 0 = it stayed, 1 = it became the donor's (signed, per pair).
"""

from __future__ import annotations

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.cepstrum import dct

__all__ = ["band_step_shares", "directional_share", "ridge_r2", "stage_concentration"]


def band_step_shares(trajectory: torch.Tensor, bands: list[tuple[int, int]]) -> torch.Tensor:
    """Share of each band's final content written in each sampling step (module doc).

    Args:
        trajectory: x̂0 at every grid time, ``[S + 1, ..., M, T]`` (first axis from t = 1 to t = 0; any
            batch axes between are summed over).
        bands: ``[(start, stop)]`` DCT-bin ranges along mel (e.g.
            :func:`audiospec.functional.cepstrum.quefrency_bands`), within ``[0, M]``.

    Returns:
        Shares ``[n_bands, S]`` in float64, each row summing to 1 (a band that never changes: a row of 0).

    Raises:
        AudiospecError: fewer than two grid times, non-finite values, or a band outside ``[0, M]``.
    """
    if trajectory.ndim < 3 or trajectory.shape[0] < 2:
        raise AudiospecError(f"need x0 predictions [S + 1 >= 2, ..., M, T], got shape {tuple(trajectory.shape)}")
    check_finite(trajectory, name="x0 trajectory")
    M = trajectory.shape[-2]
    if not bands or any(not 0 <= a < b <= M for a, b in bands):
        raise AudiospecError(f"bands must be (start, stop) DCT bins within [0, {M}], got {bands}")
    coeffs = dct(trajectory.to(torch.float64).transpose(-1, -2), dim=-1)  # [S + 1, ..., T, M]: quefrency last
    steps = coeffs.diff(dim=0).square()  # [S, ..., T, M]
    energy = steps.flatten(1, -2).sum(1)  # [S, M]: summed over batch and time
    per_band = torch.stack([energy[:, a:b].sum(-1) for a, b in bands])  # [n_bands, S]
    total = per_band.sum(-1, keepdim=True)
    return torch.where(total > 0, per_band / total.clamp_min(1e-300), torch.zeros_like(per_band))


def ridge_r2(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor, *,
             alpha: float = 1.0) -> float:
    """Held-out R² of a ridge regression of ``y`` on ``x`` (fitted on train with an intercept; module doc).

    Args:
        x_train: predictors ``[N, P]``.
        y_train: targets ``[N, Q]`` (all columns pooled in the R²).
        x_test: predictors ``[N', P]``.
        y_test: targets ``[N', Q]``.
        alpha: ridge penalty on the standardised predictors, >= 0.

    Returns:
        1 − Σ (y_test − ŷ)² / Σ (y_test − mean(y_train))²: the fraction of the test variance predicted
        (can be negative when the fit does worse than the training mean).

    Raises:
        AudiospecError: mismatched shapes, non-finite values or a negative ``alpha``.
    """
    for name, v in (("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)):
        if v.ndim != 2:
            raise AudiospecError(f"{name} must be [N, features], got shape {tuple(v.shape)}")
        check_finite(v, name=name)
    if x_train.shape[0] != y_train.shape[0] or x_test.shape[0] != y_test.shape[0] or \
            x_train.shape[1] != x_test.shape[1] or y_train.shape[1] != y_test.shape[1]:
        raise AudiospecError(f"shapes do not match: x_train {tuple(x_train.shape)}, y_train {tuple(y_train.shape)}, "
                             f"x_test {tuple(x_test.shape)}, y_test {tuple(y_test.shape)}")
    if not alpha >= 0.0:
        raise AudiospecError(f"alpha must be >= 0, got {alpha}")
    x, y = x_train.double(), y_train.double()
    mu_x, mu_y, scale = x.mean(0), y.mean(0), x.std(0).clamp_min(1e-12)
    xs = (x - mu_x) / scale
    gram = xs.T @ xs + alpha * torch.eye(xs.shape[1], dtype=torch.float64)
    weights = torch.linalg.solve(gram, xs.T @ (y - mu_y))  # [P, Q]
    prediction = ((x_test.double() - mu_x) / scale) @ weights + mu_y
    residual = (y_test.double() - prediction).square().sum()
    spread = (y_test.double() - mu_y).square().sum()
    return float(1.0 - residual / spread) if float(spread) > 0 else float("nan")


def directional_share(swapped: torch.Tensor, own: torch.Tensor, donor: torch.Tensor) -> torch.Tensor:
    """⟨y′ − y_a, y_b − y_a⟩ / ||y_b − y_a||² per pair (module doc).

    Args:
        swapped: outcomes after the swap, y′ ``[N, ...]``.
        own: the receiver's outcomes without a swap, y_a ``[N, ...]``.
        donor: the donor's outcomes, y_b ``[N, ...]``.

    Returns:
        ``[N]`` float64: 0 where the swap left the outcome as it was, 1 where it became the donor's.

    Raises:
        AudiospecError: different shapes, non-finite values, or a pair whose own and donor outcomes are equal.
    """
    if not swapped.shape == own.shape == donor.shape or swapped.ndim < 1:
        raise AudiospecError(f"swapped, own and donor must share a shape [N, ...], got {tuple(swapped.shape)}, "
                             f"{tuple(own.shape)}, {tuple(donor.shape)}")
    for name, v in (("swapped", swapped), ("own", own), ("donor", donor)):
        check_finite(v, name=name)
    moved = (swapped.double() - own.double()).flatten(1)
    gap = (donor.double() - own.double()).flatten(1)
    norm = gap.square().sum(1)
    if bool((norm == 0).any()):
        raise AudiospecError("a pair has identical own and donor outcomes: the direction of the swap is undefined")
    return (moved * gap).sum(1) / norm


def stage_concentration(shares: torch.Tensor, *, n_stages: int) -> torch.Tensor:
    """Per band, the share of its content written in its busiest window of S / ``n_stages`` consecutive steps.

    Args:
        shares: :func:`band_step_shares` ``[n_bands, S]`` (rows summing to 1, or 0 for a band that never moves).
        n_stages: the number of stages K of an autoregression over the bands (S >= K).

    Returns:
        ``[n_bands]`` float64 in [0, 1]: 1 when a band is written within one stage's worth of steps.

    Raises:
        AudiospecError: a shares table that is not 2-D, or fewer steps than stages.
    """
    if shares.ndim != 2 or not 1 <= n_stages <= shares.shape[1]:
        raise AudiospecError(f"need shares [n_bands, S] with S >= n_stages >= 1, got {tuple(shares.shape)} and "
                             f"{n_stages}")
    width = max(1, round(shares.shape[1] / n_stages))
    windows = shares.double().unfold(1, width, 1).sum(-1)  # [n_bands, S - width + 1]
    return windows.max(dim=1).values
