"""Small statistics used by the analyses: mean with a t-interval, bootstrap intervals (flat and over seeds), a
paired bootstrap test, the exact sign-flip test and Holm's correction (ranks and Spearman's correlation:
:mod:`audiospec.functional.ranks`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from scipy import stats as _scipy_stats

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite

__all__ = [
    "mean_confidence_interval",
    "bootstrap_interval",
    "hierarchical_bootstrap",
    "smallest_sign_flip_p",
    "crossed_bootstrap",
    "paired_bootstrap_pvalue",
    "holm",
    "holm_adjusted",
]

Bounds = tuple[float | None, float | None]
_CHUNK_ELEMENTS = 1 << 22  # resampled values held at once (32 MiB of float64)


def mean_confidence_interval(values: torch.Tensor | list[float], *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval ``(mean, low, high)`` of independent values (e.g. seeds).

    With a single value the interval is (nan, nan): one seed says nothing about spread.

    Args:
        values: independent values, a list or a tensor ``[n]`` (flattened), n >= 1.
        level: confidence level, in (0, 1).

    Returns:
        ``(mean, low, high)``; low = high = nan when n = 1.

    Raises:
        AudiospecError: no values, or a level outside (0, 1).
    """
    v = torch.as_tensor(values, dtype=torch.float64).flatten()
    if v.numel() == 0:
        raise AudiospecError("mean_confidence_interval needs at least one value")
    if not 0.0 < level < 1.0:
        raise AudiospecError(f"confidence level must lie in (0, 1), got {level}")
    mean = float(v.mean())
    n = v.numel()
    if n < 2:
        return mean, math.nan, math.nan
    sem = float(v.std(unbiased=True)) / math.sqrt(n)
    half = float(_scipy_stats.t.ppf(0.5 + level / 2.0, df=n - 1)) * sem
    return mean, mean - half, mean + half


def _row_mean(x: torch.Tensor) -> torch.Tensor:
    """``[R, n] -> [R]``: the default bootstrap statistic."""
    return x.mean(dim=-1)


def _as_sample(values: torch.Tensor | Sequence[float], *, name: str, minimum: int) -> torch.Tensor:
    """1-D float64 CPU tensor of ``minimum`` or more finite values."""
    v = torch.as_tensor(values, dtype=torch.float64).detach().cpu().flatten()
    if v.numel() < minimum:
        raise AudiospecError(f"{name} needs at least {minimum} value(s), got {v.numel()}")
    if not bool(torch.isfinite(v).all()):
        raise AudiospecError(f"{name} contains {int((~torch.isfinite(v)).sum())} non-finite value(s); drop them first")
    return v


def _check_bootstrap(level: float, bounds: Bounds, n_bootstrap: int) -> None:
    if not 0.0 < level < 1.0:
        raise AudiospecError(f"confidence level must lie in (0, 1), got {level}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 1:
        raise AudiospecError(f"n_bootstrap must be an integer >= 1 (2000 is usual), got {n_bootstrap!r}")
    if len(bounds) != 2:
        raise AudiospecError(f"bounds must be a pair (low or None, high or None), got {bounds!r}")
    lo, hi = bounds
    if lo is not None and hi is not None and not lo < hi:
        raise AudiospecError(f"bounds must satisfy low < high, got {bounds!r}")


def _resampled(
    x: torch.Tensor, count: int, statistic: Callable[[torch.Tensor], torch.Tensor], generator: torch.Generator | None
) -> torch.Tensor:
    """``count`` bootstrap replicates ``[count]`` of ``statistic`` on ``x`` ``[n]`` resampled with replacement."""
    n = x.numel()
    rows = max(1, _CHUNK_ELEMENTS // n)
    out = torch.empty(count, dtype=torch.float64)
    for start in range(0, count, rows):
        R = min(rows, count - start)
        idx = torch.randint(0, n, (R, n), generator=generator)  # [R, n] draws with replacement
        stat = torch.as_tensor(statistic(x[idx]), dtype=torch.float64)
        if stat.shape != (R,):
            raise AudiospecError(
                f"statistic must map resamples [R, n] to one value per row [R], got shape {tuple(stat.shape)} "
                f"for R = {R}; reduce over the last dim, e.g. lambda x: x.median(dim=-1).values"
            )
        out[start : start + R] = stat
    return out


def _percentile_interval(replicates: torch.Tensor, *, level: float, bounds: Bounds) -> tuple[float, float]:
    """(q_{(1-level)/2}, q_{(1+level)/2}) of the replicates (linear interpolation), clipped to ``bounds``."""
    q = torch.tensor([(1.0 - level) / 2.0, (1.0 + level) / 2.0], dtype=torch.float64)
    low, high = (float(v) for v in torch.quantile(replicates, q))
    lo, hi = bounds
    if lo is not None:
        low, high = max(low, lo), max(high, lo)
    if hi is not None:
        low, high = min(low, hi), min(high, hi)
    return low, high


def bootstrap_interval(
    values: torch.Tensor | Sequence[float],
    *,
    level: float = 0.95,
    bounds: Bounds = (None, None),
    n_bootstrap: int = 2000,
    generator: torch.Generator | None = None,
) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap interval ``(mean, low, high)`` of independent ``values`` ``[n]``.

    Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 13: draw B = ``n_bootstrap``
    resamples x*_b of size n with replacement, take their means m*_b, and report the
    (1 - level) / 2 and (1 + level) / 2 quantiles of {m*_b}. ``bounds`` is the metric's
    range, e.g. (-1, 1) for a correlation or (0, None) for a distance; the interval is
    clipped to it, the mean is not (an unbiased estimate such as KID may fall below 0).
    With a single value the interval is (nan, nan), as in :func:`mean_confidence_interval`.

    Args:
        values: independent finite values, a sequence or a tensor ``[n]``, n >= 1.
        level: confidence level, in (0, 1).
        bounds: ``(low or None, high or None)``, the metric's range the interval is clipped to.
        n_bootstrap: number of resamples B, an integer >= 1.
        generator: randomness of the resampling.

    Returns:
        ``(mean, low, high)``; low = high = nan when n = 1.

    Raises:
        AudiospecError: a level outside (0, 1), a bad ``n_bootstrap`` or ``bounds``, no values or
            non-finite values.
    """
    _check_bootstrap(level, bounds, n_bootstrap)
    v = _as_sample(values, name="bootstrap_interval", minimum=1)
    mean = float(v.mean())
    if v.numel() < 2:
        return mean, math.nan, math.nan
    low, high = _percentile_interval(_resampled(v, n_bootstrap, _row_mean, generator), level=level, bounds=bounds)
    return mean, low, high


def hierarchical_bootstrap(
    per_seed: Sequence[torch.Tensor],
    *,
    level: float = 0.95,
    bounds: Bounds = (None, None),
    n_bootstrap: int = 2000,
    generator: torch.Generator | None = None,
    statistic: Callable[[torch.Tensor], torch.Tensor] = _row_mean,
) -> tuple[float, float, float]:
    """``(point, low, high)`` of the mean over seeds of a per-seed statistic, by a two-level bootstrap.

    ``per_seed[s]`` ``[n_s]`` holds the per-sample values of seed s. The point estimate is
    (1/S) sum_s T(x_s). Each replicate draws S seeds with replacement, then resamples the
    n_s values of every drawn seed with replacement (a fresh draw for each time a seed is
    drawn), and averages T over them (Davison & Hinkley 1997, "Bootstrap Methods and their
    Application", ch. 3, "Hierarchical data": resample at both stages). The interval is the percentile interval
    of the replicates, clipped to ``bounds`` (see :func:`bootstrap_interval`). With one seed
    it reflects only the within-seed spread. ``statistic`` maps ``[R, n] -> [R]`` (reduce the
    last dim); the default is the mean.

    Args:
        per_seed: S >= 1 tensors ``[n_s]`` of finite per-sample values, one per seed.
        level: confidence level, in (0, 1).
        bounds: ``(low or None, high or None)``, the range the interval is clipped to.
        n_bootstrap: number of replicates, an integer >= 1.
        generator: randomness of both resampling stages.
        statistic: T, mapping resamples ``[R, n]`` to ``[R]`` (default: the row mean).

    Returns:
        ``(point, low, high)``.

    Raises:
        AudiospecError: no seeds, an empty or non-finite seed, a bad level / bounds /
            ``n_bootstrap``, or a statistic that does not return one value per row.
    """
    _check_bootstrap(level, bounds, n_bootstrap)
    if len(per_seed) < 1:
        raise AudiospecError("hierarchical_bootstrap needs at least one seed, got none")
    seeds = [_as_sample(x, name=f"per_seed[{i}]", minimum=1) for i, x in enumerate(per_seed)]
    S = len(seeds)
    point = sum(float(torch.as_tensor(statistic(x[None]), dtype=torch.float64).reshape(-1)[0]) for x in seeds) / S
    chosen = torch.randint(0, S, (n_bootstrap, S), generator=generator)  # [B, S]: seed drawn for each slot
    values = torch.empty(n_bootstrap, S, dtype=torch.float64)
    for s, x in enumerate(seeds):
        slots = chosen == s  # [B, S]
        count = int(slots.sum())
        if count > 0:
            values[slots] = _resampled(x, count, statistic, generator)
    low, high = _percentile_interval(values.mean(dim=1), level=level, bounds=bounds)  # [B, S] -> [B]
    return point, low, high


def crossed_bootstrap(
    values: torch.Tensor,
    *,
    level: float = 0.95,
    bounds: Bounds = (None, None),
    n_bootstrap: int = 2000,
    generator: torch.Generator | None = None,
) -> tuple[float, float, float]:
    """``(mean, low, high)`` of the grand mean of ``values`` ``[S, N]`` when the same N items (e.g. test patches)
    are measured under each of S seeds: a crossed design.

    Each replicate draws S seeds and N items with replacement, the *same* item draw for every seed (Owen 2007,
    "The pigeonhole bootstrap", Ann. Appl. Stat.: resample both factors of a crossed design independently), and
    averages values[seed, item] over both draws. Resampling items separately within each seed, as
    :func:`hierarchical_bootstrap` does for nested data, would shrink the item variance by S.
    """
    _check_bootstrap(level, bounds, n_bootstrap)
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.ndim != 2 or min(v.shape) < 1:
        raise AudiospecError(f"crossed_bootstrap needs values [seeds, items], got shape {tuple(v.shape)}")
    check_finite(v, name="crossed_bootstrap values")
    S, N = v.shape
    mean = float(v.mean())
    if S * N < 2:
        return mean, math.nan, math.nan
    seeds = torch.randint(0, S, (n_bootstrap, S), generator=generator)  # [R, S]
    items = torch.randint(0, N, (n_bootstrap, N), generator=generator)  # [R, N]
    seed_w = torch.zeros(n_bootstrap, S, dtype=torch.float64).scatter_add_(1, seeds, torch.ones_like(seeds, dtype=torch.float64)) / S
    item_w = torch.zeros(n_bootstrap, N, dtype=torch.float64).scatter_add_(1, items, torch.ones_like(items, dtype=torch.float64)) / N
    replicates = ((seed_w @ v) * item_w).sum(-1)  # [R]: sum_s sum_n w_s w_n v[s, n]
    low, high = _percentile_interval(replicates, level=level, bounds=bounds)
    return mean, low, high


def paired_bootstrap_pvalue(
    differences: torch.Tensor | Sequence[float], *, n_bootstrap: int = 2000, generator: torch.Generator | None = None
) -> float:
    """Two-sided bootstrap p-value for H0: mean of paired ``differences`` ``[n]`` is 0.

    Efron & Tibshirani 1993, ch. 16: shift the sample onto the null, d~_i = d_i - mean(d),
    resample it B times and count replicate means at least as extreme as the observed one,

        p = (1 + #{b : |mean(d~*_b)| >= |mean(d)|}) / (B + 1),

    the +1 counting the observed sample itself (Davison & Hinkley 1997, §4.2), so
    p >= 1 / (B + 1). For paired runs, pass the per-pair differences (e.g. per seed or clip).

    Args:
        differences: finite paired differences, a sequence or a tensor ``[n]``, n >= 2.
        n_bootstrap: number of resamples B, an integer >= 1.
        generator: randomness of the resampling.

    Returns:
        The p-value in [1 / (B + 1), 1].

    Raises:
        AudiospecError: fewer than 2 or non-finite differences, or a bad ``n_bootstrap``.
    """
    _check_bootstrap(0.5, (None, None), n_bootstrap)
    d = _as_sample(differences, name="paired_bootstrap_pvalue", minimum=2)
    observed = float(d.mean())
    replicates = _resampled(d - observed, n_bootstrap, _row_mean, generator)  # [B] under H0
    extreme = int((replicates.abs() >= abs(observed)).sum())
    return (1 + extreme) / (n_bootstrap + 1)


def sign_flip_pvalue(differences: torch.Tensor | Sequence[float]) -> float:
    """Exact two-sided sign-flip (paired permutation) p-value for H0: paired ``differences`` ``[n]`` are symmetric
    about 0 (Fisher 1935; Good 2005, ch. 3), enumerating all 2^n sign patterns (n <= 16):

        p = #{s in {-1, +1}^n : |mean(s * d)| >= |mean(d)|} / 2^n.

    Unlike the bootstrap it stays valid for the handful of seeds a training comparison has: with n
    pairs p >= 2 / 2^n, so 3 seeds can never give p < 0.25, and a Holm correction over m comparisons
    needs 2 / 2^n < alpha / m before anything can be called reliable.

    Args:
        differences: finite paired differences, a sequence or a tensor ``[n]``, 2 <= n <= 16.

    Returns:
        The exact p-value in [2 / 2^n, 1].

    Raises:
        AudiospecError: fewer than 2 or more than 16 differences, or non-finite ones.
    """
    d = _as_sample(differences, name="sign_flip_pvalue", minimum=2)
    n = d.numel()
    if n > 16:
        raise AudiospecError(f"sign_flip_pvalue enumerates 2^n patterns; n = {n} > 16 pairs: use "
                             "paired_bootstrap_pvalue for large samples")
    bits = (torch.arange(2**n)[:, None] >> torch.arange(n)[None, :]) & 1  # [2^n, n]
    means = ((1 - 2 * bits).to(torch.float64) * d).mean(1)  # [2^n]
    observed = abs(float(d.mean()))
    return float((means.abs() >= observed - 1e-12 * max(observed, 1.0)).double().mean())


def smallest_sign_flip_p(n_pairs: int, *, family_size: int = 1) -> float:
    """The smallest p a family of ``family_size`` exact sign-flip tests on ``n_pairs`` pairs can reach after Holm.

    One test cannot go below 2 / 2^n (the observed sign pattern and its mirror image,
    :func:`sign_flip_pvalue`); Holm multiplies the smallest p of a family of m by m, so the family
    can reject anything at level alpha only when m * 2 / 2^n < alpha: 3 seeds give 0.25 for one
    test, 7 seeds 0.0156 (0.047 for a family of 3). A family that cannot reach alpha "cannot decide
    with n seeds", whatever the data.

    Args:
        n_pairs: paired differences per test (seeds), >= 1.
        family_size: tests in the Holm family, >= 1.

    Returns:
        min(1, family_size * 2 / 2^n_pairs).

    Raises:
        AudiospecError: a count below 1.
    """
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, int) or n_pairs < 1 or \
            isinstance(family_size, bool) or not isinstance(family_size, int) or family_size < 1:
        raise AudiospecError(f"need n_pairs >= 1 and family_size >= 1, got {n_pairs!r} and {family_size!r}")
    return min(1.0, family_size * 2.0 / 2.0**n_pairs)


def holm_adjusted(pvalues: Sequence[float]) -> list[float]:
    """Holm (1979) step-down adjusted p-values, in the input order.

    Holm, "A Simple Sequentially Rejective Multiple Test Procedure", Scand. J. Statist.
    With p_(1) <= ... <= p_(m) sorted, p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)):
    monotone in the sorted order and capped at 1 (statsmodels ``multipletests(method="holm")``).

    Args:
        pvalues: m >= 1 p-values in [0, 1].

    Returns:
        The m adjusted p-values, in the input order.

    Raises:
        AudiospecError: no p-values, or values outside [0, 1].
    """
    p = torch.as_tensor(list(pvalues), dtype=torch.float64)
    if p.ndim != 1 or p.numel() == 0:
        raise AudiospecError(f"holm needs a non-empty list of p-values, got {list(pvalues)!r}")
    if not bool(((p >= 0) & (p <= 1)).all()):
        raise AudiospecError(f"p-values must lie in [0, 1], got {p.tolist()}")
    m = p.numel()
    order = torch.argsort(p, stable=True)
    factors = torch.arange(m, 0, -1, dtype=torch.float64)  # m - j + 1 for j = 1..m
    stepped = torch.cummax((factors * p[order]).clamp(max=1.0), dim=0).values
    adjusted = torch.empty_like(p)
    adjusted[order] = stepped
    return adjusted.tolist()


def holm(pvalues: Sequence[float], *, alpha: float = 0.05) -> list[bool]:
    """Which hypotheses Holm's step-down procedure rejects at family-wise error rate ``alpha``.

    Reject H_(1), ..., H_(k-1) where k is the first sorted index with p_(k) > alpha / (m - k + 1);
    equivalently, reject where the :func:`holm_adjusted` p-value is <= alpha. Input order kept.

    Args:
        pvalues: m >= 1 p-values in [0, 1].
        alpha: family-wise error rate, in (0, 1).

    Returns:
        One bool per p-value, True where the hypothesis is rejected.

    Raises:
        AudiospecError: an ``alpha`` outside (0, 1), or p-values rejected by :func:`holm_adjusted`.
    """
    if not 0.0 < alpha < 1.0:
        raise AudiospecError(f"alpha must lie in (0, 1), got {alpha}")
    return [q <= alpha for q in holm_adjusted(pvalues)]
