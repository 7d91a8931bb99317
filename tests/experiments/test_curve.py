"""Training-curve measures against known answers: the exact model's held-out loss, KID intervals, the plateau rule."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.diffusion.heldout import validation_loss_by_time
from audiospec.measures.gaussian import LinearGaussianVelocity
from audiospec.diffusion.priors import WhiteNoise
from audiospec.diffusion.processes import RectifiedFlow
from audiospec.errors import AudiospecError
from audiospec.experiments.stages.curve import CurveConfig, heldout_loss, jackknife_kid, on_loss_plateau, on_plateau
from audiospec.experiments.results import Interval


def _exact_white_loss() -> float:
    """E over t ~ U[0, 1] of the exact flow-matching loss per element for unit white data and a white prior.

    Per Fourier coefficient: Var(E - X0 | X_t) = 2 - (2t - 1)^2 / ((1 - t)^2 + t^2) (Gaussian conditioning, with
    Cov(E - X0, X_t) = 2t - 1 and Var X_t = (1 - t)^2 + t^2); integrated with the midpoint rule.
    """
    n = 200_000
    t = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return float((2.0 - (2 * t - 1) ** 2 / ((1 - t) ** 2 + t**2)).mean())


def test_heldout_loss_of_the_exact_model_matches_the_closed_form():
    shape = (16, 16)
    prior = WhiteNoise()
    exact = LinearGaussianVelocity(torch.ones(16, 9, dtype=torch.float64), prior=prior, signal_shape=shape)
    patches = torch.randn(256, 1, *shape, generator=torch.Generator().manual_seed(0))
    loss = heldout_loss(exact, RectifiedFlow(prior=prior), patches, draws=4, seed=0)
    expected = _exact_white_loss()  # = pi / 2 (test_exact_loss_reference_value)
    # Monte Carlo error: 1024 patch draws x 256 elements, per-element variance ~2: well under 1%
    assert loss == pytest.approx(expected, rel=0.02)
    # a worse model scores worse: the zero field's loss is E||eps - x0||^2 = 2
    zero = heldout_loss(lambda x, t: torch.zeros_like(x), RectifiedFlow(prior=prior), patches, draws=4, seed=0)
    assert zero == pytest.approx(2.0, rel=0.02) and zero > loss + 0.3


def _exact_white_loss_between(lo: float, hi: float) -> float:
    """The mean of the exact loss integrand of :func:`_exact_white_loss` over t in [lo, hi) (midpoint rule)."""
    n = 100_000
    t = lo + (hi - lo) * (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return float((2.0 - (2 * t - 1) ** 2 / ((1 - t) ** 2 + t**2)).mean())


def test_heldout_loss_by_time_matches_the_closed_form_in_each_bin_and_sums_to_the_loss():
    shape = (16, 16)
    prior = WhiteNoise()
    exact = LinearGaussianVelocity(torch.ones(16, 9, dtype=torch.float64), prior=prior, signal_shape=shape)
    patches = torch.randn(256, 1, *shape, generator=torch.Generator().manual_seed(0))
    by_time, counts = validation_loss_by_time(exact, patches, process=RectifiedFlow(prior=prior), bins=4, draws=4,
                                              seed=0)
    assert counts == (256, 256, 256, 256)  # stratified t: a quarter of the draws in each quarter of [0, 1)
    for b, loss in enumerate(by_time):  # 256 draws x 256 elements per bin: Monte Carlo error well under 2%
        assert loss == pytest.approx(_exact_white_loss_between(b / 4, (b + 1) / 4), rel=0.02)
    # the closed form: the exact model is worst mid-way (t = 1/2, where data and noise are equally loud)
    assert by_time[1] > by_time[0] and by_time[2] > by_time[3]
    total = heldout_loss(exact, RectifiedFlow(prior=prior), patches, draws=4, seed=0)
    assert sum(loss * n for loss, n in zip(by_time, counts)) / sum(counts) == pytest.approx(total, rel=1e-6)
    with pytest.raises(AudiospecError, match="bins >= 1"):
        validation_loss_by_time(exact, patches, process=RectifiedFlow(prior=prior), bins=0)


def test_heldout_loss_is_the_same_draw_every_call():
    prior = WhiteNoise()
    patches = torch.randn(10, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    model = lambda x, t: 0.5 * x  # noqa: E731
    assert heldout_loss(model, RectifiedFlow(prior=prior), patches, draws=2, seed=3) == heldout_loss(model, RectifiedFlow(prior=prior), patches, draws=2, seed=3)
    assert heldout_loss(model, RectifiedFlow(prior=prior), patches, draws=2, seed=3) != heldout_loss(model, RectifiedFlow(prior=prior), patches, draws=2, seed=4)


def test_jackknife_kid_covers_zero_for_one_distribution_and_excludes_it_for_two():
    g = torch.Generator().manual_seed(0)
    reference = torch.randn(200, 8, generator=g, dtype=torch.float64)
    same = jackknife_kid(torch.randn(100, 8, generator=g, dtype=torch.float64), reference)
    shifted = jackknife_kid(torch.randn(100, 8, generator=g, dtype=torch.float64) + 1.0, reference)
    assert same.low < 0.0 < same.high
    assert shifted.low > 0.0 and shifted.mean > same.high
    with pytest.raises(AudiospecError, match="at least 3"):
        jackknife_kid(reference[:2], reference)


def test_plateau_rule():
    kids = {100: Interval(1.0, 0.9, 1.1, 64), 400: Interval(0.5, 0.45, 0.55, 64), 500: Interval(0.48, 0.43, 0.53, 64),
            800: Interval(0.2, 0.15, 0.25, 64)}
    assert on_plateau(kids, 500) is True  # 400 -> 500 improved by 0.02 < half-width 0.05
    assert on_plateau(kids, 800) is False  # 500 -> 800 (0.8 * 800 = 640 -> 500) improved by 0.28
    assert on_plateau(kids, 100) is None  # nothing before 80 steps
    worse = {100: Interval(0.2, 0.1, 0.3, 64), 200: Interval(0.4, 0.3, 0.5, 64)}
    assert on_plateau(worse, 200) is True  # getting worse is not an improvement


def test_loss_plateau_rule():
    losses = {100: 1.0, 400: 0.60, 500: 0.597, 800: 0.55}
    assert on_loss_plateau(losses, 500) is True  # 0.6 -> 0.597: 0.5% < 1%
    assert on_loss_plateau(losses, 800) is False  # 0.597 -> 0.55: 8.5%
    assert on_loss_plateau(losses, 800, tolerance=0.1) is True
    assert on_loss_plateau(losses, 100) is None


@pytest.mark.parametrize("bad", [dict(checkpoints=(200, 100)), dict(checkpoints=()), dict(seeds=(0, 0)),
                                 dict(n_samples=2), dict(plateau_fraction=1.0),
                                 dict(loss_tolerance=0.0)])
def test_curve_config_rejects_bad_settings(bad):
    with pytest.raises(AudiospecError):
        CurveConfig(**bad)


def test_exact_loss_reference_value():
    # the closed form of the integral: 2 - int_0^1 (2t-1)^2 / (2t^2 - 2t + 1) dt = 2 - (2 - pi/2) = pi/2
    assert _exact_white_loss() == pytest.approx(math.pi / 2, rel=1e-6)
