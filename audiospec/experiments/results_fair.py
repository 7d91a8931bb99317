"""The typed result of the stage ``fair`` (``fair/fair.json``; issue 25): numbers only, each beside its calibration.

Read by the report (:mod:`audiospec.report.sections.fair`) and written by :mod:`audiospec.experiments.stages.fair`;
:mod:`audiospec.experiments.results` holds the other stages' results and the JSON conversion used here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audiospec.measures.statistics import Difference, Interval

__all__ = ["ArmQuality", "Calibration", "FairResult", "FamilyNote", "LikelihoodArm", "SwapArm"]


@dataclass(frozen=True)
class Calibration:
    """An arm's sampler with the exact Gaussian network at the arm's NFE, over ``draws`` draws, beside the same
    Gaussian sampled exactly (independent 2-D DCT coefficients with the training split's variances).

    Attributes:
        kid: KID of the sampler's draws (mean; low / high = the smallest / largest draw).
        sd: the draws' standard deviation.
        exact: KID of the exactly sampled Gaussian (mean, smallest, largest).
        exact_sd: its draws' standard deviation.
        within_noise: |kid − exact| <= 2 sqrt((sd² + exact_sd²) / draws): the sampler reproduces the Gaussian
            within the Gaussian's own sampling noise.
    """

    kid: Interval
    sd: float
    exact: Interval
    exact_sd: float
    within_noise: bool


@dataclass(frozen=True)
class ArmQuality:
    """One arm (a prior's flow model, a band-window softness, blurring diffusion) at the stage's NFE.

    Attributes:
        key: its folder under ``models/``.
        name: its label.
        kind: ``"diffusion"`` (a prior), ``"sweep"`` (band windows) or ``"reference"`` (blurring).
        softness: the band windows' softness (None for the others).
        steps: sampling steps (NFE / network evaluations per step).
        nfe: network evaluations per sample.
        kid: KID against the test split, mean and interval over seeds.
        kid_minus_gaussian: KID minus the Gaussian-with-the-training-spectrum row's, per seed.
        calibration: its sampler with the exact Gaussian network (None where no exact network exists).
        concentration: the band-step shares' stage concentration averaged over bands, over seeds.
        order: the commit measure's cepstrum content order, over seeds (None when not measured).
        shares: band × step shares ``[bands][steps]``, mean over seeds.
        exact_shares: the same for its exact Gaussian network (None where there is none).
        exact_concentration: the exact network's stage concentration (None where there is none).
        concentration_seeds: the stage concentration of each seed, in the order of the result's seeds.
    """

    key: str
    name: str
    kind: str
    softness: float | None
    steps: int
    nfe: int
    kid: Interval
    kid_minus_gaussian: Interval
    calibration: Calibration | None
    concentration: Interval
    order: Interval | None
    shares: tuple[tuple[float, ...], ...]
    exact_shares: tuple[tuple[float, ...], ...] | None = None
    exact_concentration: float | None = None
    concentration_seeds: tuple[float, ...] = ()


@dataclass(frozen=True)
class SwapArm:
    """A band swap of one model family at one time.

    Attributes:
        name: the arm (prior, control network, fair cepstral AR).
        role: ``"positive control"``, ``"negative control"`` or ``"prior"``.
        when: ``"stage edge"``, ``"equal t"`` or ``"equal commit"``.
        time: the swap time.
        directional: the directional share of the un-swapped bands (pairs; two-level bootstrap over seeds and
            pairs, or over pairs for one model).
        donor_share: the donor share of the un-swapped bands, same intervals.
        exact: the directional share of the arm's exact Gaussian model from the same noise (None: none).
        excess: directional minus exact, paired per pair (None without an exact model).
        seed_means: the per-seed mean excess (or directional share without an exact model).
        p_pairs: one-sided bootstrap p that the pairs' mean directional share is <= 0 (a statement about the
            models measured, not about their training).
    """

    name: str
    role: str
    when: str
    time: float
    directional: Interval
    donor_share: Interval
    exact: float | None
    excess: Interval | None
    seed_means: tuple[float, ...]
    p_pairs: float | None = None


@dataclass(frozen=True)
class LikelihoodArm:
    """Bits per dimension of the test patches under one prior's flow models.

    Attributes:
        name: the prior.
        bits_per_dim: mean over seeds and patches; interval by a bootstrap clustered by recording.
        versus_white: the paired difference to white (same patches), clustered by recording (None for white).
        p_value: exact sign-flip p over seeds of the difference.
        p_holm: Holm-adjusted within the likelihood family.
        reliable: :func:`~audiospec.measures.statistics.decide`.
        dequantised: bits/dim with the floor atom dequantised and t_min > 0 (mean over seeds).
        dequantised_versus_white: its difference to white, clustered by recording.
        calibration: the ODE on the exact Gaussian field minus its closed form (first seed; None: no exact field).
        integration: per seed, half the RK4 steps minus full.
    """

    name: str
    bits_per_dim: Interval
    versus_white: Interval | None
    p_value: float | None
    p_holm: float | None
    reliable: bool
    dequantised: Interval
    dequantised_versus_white: Interval | None
    calibration: float | None
    integration: tuple[float, ...]


@dataclass(frozen=True)
class FamilyNote:
    """A family of tests and what it could decide.

    Attributes:
        name: the family.
        size: tests in it (Holm).
        n: paired values per test (seeds).
        smallest_p: the smallest Holm-adjusted p it can reach (:func:`~audiospec.functional.stats.smallest_sign_flip_p`).
        can_decide: smallest_p < alpha; otherwise it "cannot decide with n seeds".
    """

    name: str
    size: int
    n: int
    smallest_p: float
    can_decide: bool


@dataclass(frozen=True)
class FairResult:
    """``fair/fair.json``: fair references, the band-step measure, the powered band swap, likelihoods, families.

    Attributes:
        label: what the run is (e.g. "preview: 3 seeds x 150 steps").
        seeds: the seeds of every trained arm.
        nfe: network evaluations per sample of every arm.
        steps_per_band: the fair cepstral AR's steps per band (Heun).
        n_stages: quefrency bands K (DC + the commit measure's bands).
        band_centres: each band's mean quefrency.
        arms: every arm's quality, calibration and band-step shares.
        primary: KID of the fair cepstral AR minus the white flow model's, paired by seed (the stage's primary
            test; None with one seed).
        floors: the quality floors (real train vs test, the Gaussian with the training spectrum).
        gaussian_kid: the Gaussian-with-the-training-spectrum row's KID.
        k_cut: the swapped coefficients.
        ceiling: held-out R² of the fine coefficients on the coarse ones (ridge).
        ceiling_alpha: its penalty, chosen on validation.
        commit_level: the coarse-band commit fraction of the equal-commit swaps.
        swap: every swap row.
        prior_tests: the pre-specified test between priors: excess directional share at equal commit, each
            non-white prior minus white, paired by seed, Holm within the family.
        positive_detected: the positive control's interval lies above every negative control's.
        likelihood: per prior.
        floor_pixels: test pixels at the log-mel floor (max − top_db) of their clip.
        test_pixels: test pixels in all.
        n_recordings: recordings of the test patches (the bootstrap's clusters).
        families: every test family with its smallest attainable p.
        train_steps: each model's training steps.
        concentration_test: the fair cepstral AR's stage concentration minus the white flow model's, paired by seed
            (the band-step family: one test, specified before the protocol-scale run; None with one seed or a
            result written before it).
    """

    label: str
    seeds: tuple[int, ...]
    nfe: int
    steps_per_band: int
    n_stages: int
    band_centres: tuple[float, ...]
    arms: tuple[ArmQuality, ...]
    primary: Difference | None
    floors: dict[str, dict[str, Any]]
    gaussian_kid: float
    k_cut: int
    ceiling: float
    ceiling_alpha: float
    commit_level: float
    swap: tuple[SwapArm, ...]
    prior_tests: dict[str, Difference]
    positive_detected: bool
    likelihood: tuple[LikelihoodArm, ...]
    floor_pixels: int
    test_pixels: int
    n_recordings: int
    families: tuple[FamilyNote, ...]
    train_steps: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    concentration_test: Difference | None = None
