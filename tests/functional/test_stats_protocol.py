"""bootstrap_interval, hierarchical_bootstrap, paired_bootstrap_pvalue, holm / holm_adjusted:
references (numpy percentiles on the same draws, a hand-worked Holm example, statsmodels if present),
coverage and null calibration over repeated draws, clipping to a metric's range, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.functional.stats import (
    crossed_bootstrap,
    bootstrap_interval,
    hierarchical_bootstrap,
    holm,
    holm_adjusted,
    paired_bootstrap_pvalue,
)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- Holm -------------------------------------------------------------------------------------------


def test_holm_hand_worked_example():
    """p = (0.01, 0.04, 0.03, 0.005), m = 4. Sorted: 0.005, 0.01, 0.03, 0.04 times (4, 3, 2, 1) =
    0.02, 0.03, 0.06, 0.04; running max 0.02, 0.03, 0.06, 0.06. Step-down at alpha 0.05:
    0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2 -> stop: reject the 0.005 and 0.01 hypotheses."""
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm_adjusted(p) == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)
    assert holm(p) == [True, False, False, True]
    assert holm(p, alpha=0.07) == [True, True, True, True]  # 0.06 <= 0.07


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        ([0.5, 0.6], [1.0, 1.0]),  # 2 x 0.5 = 1.0, then max(1.0, 0.6): capped at 1
        ([0.3, 0.9, 0.8], [0.9, 1.0, 1.0]),  # 3 x 0.3, min(1, 2 x 0.8), max(.., 0.9)
        ([0.01, 0.01, 0.04], [0.03, 0.03, 0.04]),  # ties share one adjusted value
        ([0.2], [0.2]),  # one test: no correction
    ],
)
def test_holm_adjusted_cap_monotone_and_ties(p, expected):
    assert holm_adjusted(p) == pytest.approx(expected, abs=1e-15)


def test_holm_matches_statsmodels():
    """statsmodels ``multipletests(method="holm")`` on 50 random families of 1-12 p-values (1e-12)."""
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.uniform(0, 1, rng.integers(1, 13)) ** 3  # skewed towards small p
        reject, adjusted, _, _ = multitest.multipletests(p, alpha=0.05, method="holm")
        assert holm_adjusted(p.tolist()) == pytest.approx(adjusted.tolist(), abs=1e-12)
        assert holm(p.tolist()) == reject.tolist()


def test_holm_rejects_at_least_what_bonferroni_rejects():
    """Holm is uniformly more powerful than Bonferroni (p <= alpha / m), and never rejects p > alpha."""
    rng = np.random.default_rng(1)
    for _ in range(100):
        p = (rng.uniform(0, 1, 8) ** 4).tolist()
        rejected = holm(p)
        assert all(r for r, q in zip(rejected, p, strict=True) if q <= 0.05 / 8)
        assert not any(r for r, q in zip(rejected, p, strict=True) if q > 0.05)


# --- bootstrap_interval -----------------------------------------------------------------------------


def test_bootstrap_interval_matches_numpy_percentiles_of_the_same_draws():
    """Same generator seed -> the same [B, n] resample indices; numpy ``percentile`` (linear) of their
    means gives the interval. Tolerance 1e-12 (measured 0.0: identical arithmetic)."""
    x = torch.from_numpy(np.random.default_rng(0).standard_normal(25) + 3.0)
    mean, low, high = bootstrap_interval(x, level=0.9, n_bootstrap=2000, generator=gen(5))
    idx = torch.randint(0, 25, (2000, 25), generator=gen(5)).numpy()
    means = x.numpy()[idx].mean(axis=1)
    assert mean == pytest.approx(float(x.mean()), abs=1e-12)
    assert (low, high) == pytest.approx(tuple(np.percentile(means, [5.0, 95.0])), abs=1e-12)


def test_bootstrap_interval_covers_the_true_mean_about_95_percent():
    """200 draws of 30 values from N(0, 1): the 95% interval contains 0 in 88%-99% of them.

    Measured 0.905 (181/200); over 1000 other draws 0.946. The percentile interval of the mean
    behaves like a z-interval with the n-denominator std, so it undercovers slightly at n = 30.
    """
    g = gen(0)
    covered = 0
    for _ in range(200):
        _, low, high = bootstrap_interval(torch.randn(30, generator=g, dtype=torch.float64), generator=g)
        covered += low <= 0.0 <= high
    assert 0.88 <= covered / 200 <= 0.99


def test_bootstrap_interval_is_clipped_to_bounds_and_the_mean_is_not():
    """KID-like values around -0.01 with bounds (0, None): the interval is the unclipped one clipped at 0,
    the mean stays negative (unbiased); measured raw (-0.0137, -0.0213, -0.0063) -> (-0.0137, 0.0, 0.0).
    Bias-corrected correlations near 1 with bounds (-1, 1): high 1.0019 clipped to 1, low 0.9967 kept."""
    neg = torch.from_numpy(np.random.default_rng(0).normal(-0.01, 0.02, 20))
    raw = bootstrap_interval(neg, generator=gen(1))
    clipped = bootstrap_interval(neg, bounds=(0.0, None), generator=gen(1))
    assert raw[1] < 0.0 and clipped[0] == raw[0] < 0.0
    assert clipped[1:] == (max(raw[1], 0.0), max(raw[2], 0.0))
    near_one = torch.from_numpy(np.random.default_rng(1).normal(0.999, 0.01, 20))
    raw = bootstrap_interval(near_one, generator=gen(2))
    clipped = bootstrap_interval(near_one, bounds=(-1.0, 1.0), generator=gen(2))
    assert raw[2] > 1.0 and clipped[2] == 1.0 and clipped[1] == raw[1]


def test_bootstrap_interval_of_one_value_is_nan():
    mean, low, high = bootstrap_interval([2.5])
    assert mean == 2.5 and math.isnan(low) and math.isnan(high)


# --- hierarchical_bootstrap ------------------------------------------------------------------------


def test_hierarchical_point_is_the_mean_of_per_seed_statistics():
    """point = (1/S) sum_s T(x_s) exactly, for the default mean and for a median statistic."""
    per_seed = [torch.tensor([1.0, 2.0, 9.0]), torch.tensor([4.0, 4.0]), torch.tensor([0.0, 1.0, 2.0, 3.0])]
    point, low, high = hierarchical_bootstrap(per_seed, generator=gen(0))
    assert point == pytest.approx((4.0 + 4.0 + 1.5) / 3, abs=1e-12)
    assert low <= point <= high
    point, _, _ = hierarchical_bootstrap(per_seed, generator=gen(0), statistic=lambda x: x.median(dim=-1).values)
    assert point == pytest.approx((2.0 + 4.0 + 1.0) / 3, abs=1e-12)  # torch median: lower middle value


def test_hierarchical_with_constant_seeds_is_the_bootstrap_of_seed_means():
    """With no within-seed spread only the seed draw varies, so the interval equals the flat percentile
    bootstrap of the S seed values up to Monte Carlo error: 0.05 at B = 20000 (measured 0.0, both
    percentiles fall on the same points of the 1/6 grid that means of 6 such values live on)."""
    values = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0]
    per_seed = [torch.full((7,), v) for v in values]
    _, low, high = hierarchical_bootstrap(per_seed, n_bootstrap=20000, generator=gen(0))
    _, ref_low, ref_high = bootstrap_interval(values, n_bootstrap=20000, generator=gen(1))
    assert (low, high) == pytest.approx((ref_low, ref_high), abs=0.05)


def test_hierarchical_covers_with_seed_effects_where_a_flat_bootstrap_does_not():
    """8 seeds x 20 samples, a seed offset of std 0.5 plus sample noise of std 1, true mean 0, 200 draws:
    the two-level interval covers 0 at >= 85% (measured 0.925; 0.925-0.93 for generator seeds 2-4),
    pooling all samples into one flat bootstrap ignores the seed effect and covers <= 80% (measured
    0.55; 0.59-0.625 for seeds 2-4)."""
    g = gen(1)
    hier = flat = 0
    for _ in range(200):
        offsets = 0.5 * torch.randn(8, generator=g, dtype=torch.float64)  # one seed effect per seed
        per_seed = [torch.randn(20, generator=g, dtype=torch.float64) + offset for offset in offsets]
        _, low, high = hierarchical_bootstrap(per_seed, n_bootstrap=500, generator=g)
        hier += low <= 0.0 <= high
        _, low, high = bootstrap_interval(torch.cat(per_seed), n_bootstrap=500, generator=g)
        flat += low <= 0.0 <= high
    assert hier / 200 >= 0.85
    assert flat / 200 <= 0.80


# --- paired_bootstrap_pvalue -----------------------------------------------------------------------


def test_paired_pvalue_matches_its_definition_on_the_same_draws():
    """p = (1 + #{|mean(d~*_b)| >= |mean(d)|}) / (B + 1), recomputed from the same indices (exact)."""
    d = torch.from_numpy(np.random.default_rng(0).normal(0.2, 1.0, 40))
    p = paired_bootstrap_pvalue(d, n_bootstrap=999, generator=gen(3))
    idx = torch.randint(0, 40, (999, 40), generator=gen(3)).numpy()
    centred = d.numpy() - d.numpy().mean()
    extreme = np.sum(np.abs(centred[idx].mean(axis=1)) >= abs(d.numpy().mean()))
    assert p == (1 + extreme) / 1000


def test_paired_pvalue_is_small_for_a_clear_shift():
    """30 differences from N(1, 1) (this draw: t = 3.8): p < 0.01 (measured 0.0015 = 3 / 2001)."""
    d = torch.randn(30, generator=gen(0), dtype=torch.float64) + 1.0
    assert paired_bootstrap_pvalue(d, n_bootstrap=2000, generator=gen(1)) < 0.01


def test_paired_pvalue_is_roughly_uniform_under_the_null():
    """200 draws of 30 differences from N(0, 1): p > 0.05 in >= 85% (measured 0.935) and p < 0.5 in
    40%-65% (measured 0.51; seeds 3 and 4: 0.95 / 0.435 and 0.95 / 0.54). Slightly anti-conservative at n = 30, like the percentile interval."""
    g = gen(2)
    draws = [torch.randn(30, generator=g, dtype=torch.float64) for _ in range(200)]
    p = np.array([paired_bootstrap_pvalue(d, generator=g) for d in draws])
    assert np.mean(p > 0.05) >= 0.85
    assert 0.40 <= np.mean(p < 0.5) <= 0.65


def test_paired_pvalue_of_all_zero_differences_is_one():
    assert paired_bootstrap_pvalue(torch.zeros(10), n_bootstrap=100, generator=gen(0)) == 1.0


# --- bad input -------------------------------------------------------------------------------------


def test_bad_input():
    with pytest.raises(AudiospecError, match=r"confidence level must lie in \(0, 1\), got 95"):
        bootstrap_interval([1.0, 2.0], level=95)
    with pytest.raises(AudiospecError, match=r"bounds must satisfy low < high, got \(1.0, 0.0\)"):
        bootstrap_interval([1.0, 2.0], bounds=(1.0, 0.0))
    with pytest.raises(AudiospecError, match="n_bootstrap must be an integer >= 1 .* got 0"):
        hierarchical_bootstrap([torch.ones(3)], n_bootstrap=0)
    with pytest.raises(AudiospecError, match="needs at least one seed, got none"):
        hierarchical_bootstrap([])
    with pytest.raises(AudiospecError, match=r"per_seed\[1\] needs at least 1 value\(s\), got 0"):
        hierarchical_bootstrap([torch.ones(3), torch.ones(0)])
    with pytest.raises(AudiospecError, match=r"statistic must map resamples \[R, n\] to one value per row \[R\]"):
        hierarchical_bootstrap([torch.ones(3)], n_bootstrap=10, statistic=lambda x: x.mean())
    with pytest.raises(AudiospecError, match="paired_bootstrap_pvalue needs at least 2 value"):
        paired_bootstrap_pvalue([0.3])
    with pytest.raises(AudiospecError, match="contains 1 non-finite value"):
        bootstrap_interval([1.0, float("nan")])
    with pytest.raises(AudiospecError, match=r"p-values must lie in \[0, 1\], got \[0.2, 1.5\]"):
        holm_adjusted([0.2, 1.5])
    with pytest.raises(AudiospecError, match="holm needs a non-empty list of p-values"):
        holm_adjusted([])
    with pytest.raises(AudiospecError, match=r"alpha must lie in \(0, 1\), got 5"):
        holm([0.01], alpha=5)


def test_sign_flip_pvalue_is_exact_and_honest_with_few_seeds():
    from audiospec.functional.stats import sign_flip_pvalue

    # hand-worked: d = (1, 2, 3): of the 8 sign patterns only (+,+,+) and (-,-,-) reach |mean| = 2
    assert sign_flip_pvalue([1.0, 2.0, 3.0]) == 0.25
    # d = (1, -1, 2, 2): |mean| = 1; patterns reaching it: 6 of 16
    assert sign_flip_pvalue([1.0, -1.0, 2.0, 2.0]) == pytest.approx(6 / 16)
    # 3 seeds can never be significant, however clear the shift; 8 clear seeds can
    assert sign_flip_pvalue([-5.0, -6.0, -7.0]) == 0.25
    assert sign_flip_pvalue([-5.0, -6.0, -7.0, -5.5, -6.5, -5.2, -6.1, -7.3]) == pytest.approx(2 / 256)
    with pytest.raises(AudiospecError, match="n = 17 > 16"):
        sign_flip_pvalue([1.0] * 17)


# --- crossed_bootstrap ---------------------------------------------------------------------------------


def test_crossed_bootstrap_keeps_the_item_variance_that_nested_resampling_divides_by_the_seeds():
    g = torch.Generator().manual_seed(0)
    items = torch.randn(64, generator=g, dtype=torch.float64) * 2.0  # shared items dominate the variance
    values = items[None, :] + 0.01 * torch.randn(7, 64, generator=g, dtype=torch.float64)  # [S, N]
    mean, low, high = crossed_bootstrap(values, n_bootstrap=4000, generator=torch.Generator().manual_seed(1))
    assert mean == pytest.approx(float(values.mean()))
    expected = 2 * 1.96 * float(items.std()) / 64**0.5  # the items' own standard error: the seeds add nothing
    assert (high - low) == pytest.approx(expected, rel=0.15)
    _, nested_low, nested_high = hierarchical_bootstrap(list(values), n_bootstrap=4000,
                                                        generator=torch.Generator().manual_seed(1))
    assert (nested_high - nested_low) < 0.6 * (high - low)  # ~1/sqrt(7) of it: why the crossed design needs this
    with pytest.raises(AudiospecError, match="seeds, items"):
        crossed_bootstrap(torch.zeros(5))
