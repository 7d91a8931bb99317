"""rankdata, spearman and mean_confidence_interval against scipy.stats (reference tier)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from audiospec.functional import mean_confidence_interval, rankdata, spearman


@pytest.mark.parametrize("case", ["distinct", "ties", "all_equal", "single"])
def test_rankdata_matches_scipy_average_method(case):
    rng = np.random.default_rng(0)
    x = {
        "distinct": rng.standard_normal(50),
        "ties": rng.integers(0, 6, size=60).astype(np.float64),
        "all_equal": np.full(7, 3.0),
        "single": np.array([2.5]),
    }[case]
    expected = scipy.stats.rankdata(x, method="average")
    np.testing.assert_array_equal(rankdata(torch.from_numpy(x)).numpy(), expected)


@pytest.mark.parametrize("case", ["independent", "monotone", "ties", "anti"])
def test_spearman_matches_scipy(case):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(40)
    y = {
        "independent": rng.standard_normal(40),
        "monotone": np.exp(x),
        "ties": np.round(x + 0.5 * rng.standard_normal(40)),
        "anti": -(x**3),
    }[case]
    expected = scipy.stats.spearmanr(x, y).statistic
    assert spearman(torch.from_numpy(x), torch.from_numpy(y)) == pytest.approx(expected, abs=1e-12)


def test_spearman_of_a_constant_is_zero():
    """scipy returns nan here; audiospec defines 'no order' as 0 (autoregression score)."""
    assert spearman(torch.arange(5.0), torch.ones(5)) == 0.0


@pytest.mark.parametrize("n", [2, 3, 10, 50])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_mean_confidence_interval_matches_scipy_t_interval(n, level):
    values = np.random.default_rng(n).standard_normal(n) * 2 + 5
    mean, low, high = mean_confidence_interval(torch.from_numpy(values), level=level)
    ref_low, ref_high = scipy.stats.t.interval(level, df=n - 1, loc=values.mean(), scale=scipy.stats.sem(values))
    assert mean == pytest.approx(values.mean(), abs=1e-12)
    assert low == pytest.approx(ref_low, abs=1e-10)
    assert high == pytest.approx(ref_high, abs=1e-10)


def test_mean_confidence_interval_accepts_a_list_and_gives_nan_for_one_value():
    mean, low, high = mean_confidence_interval([4.0])
    assert mean == 4.0 and math.isnan(low) and math.isnan(high)
    mean, low, high = mean_confidence_interval([1.0, 2.0, 3.0])
    expected = scipy.stats.t.interval(0.95, df=2, loc=2.0, scale=1 / math.sqrt(3))
    assert (mean, low, high) == pytest.approx((2.0, *expected))
