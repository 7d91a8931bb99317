"""Measuring tools, apart from the model core: each comes with its known answer.

- :mod:`~audiospec.measures.statistics`: intervals, paired differences, test families and :func:`decide`, the
  library's one definition of a *reliable* difference;
- :mod:`~audiospec.measures.gaussian`: the exact linear-Gaussian models, the calibration of every measure;
- :mod:`~audiospec.measures.ordering`: how coarse-to-fine a sampler is (commit times of spectral bands);
- :mod:`~audiospec.measures.band_swap`: the band-swap intervention (its power is measured by the stage ``fair``);
- :mod:`~audiospec.measures.likelihood`: probability-flow likelihoods.

They sit above :mod:`audiospec.diffusion` (they sample its models) and below :mod:`audiospec.experiments`.
"""

from audiospec.measures.band_swap import BandSwap, band_swap, donor_share, swap_low_quefrency
from audiospec.measures.gaussian import GaussianModel, LinearGaussianVelocity, data_spectrum, gaussian_fields
from audiospec.measures.likelihood import Likelihood, divergence, gaussian_log_likelihood, ode_log_likelihood
from audiospec.measures.ordering import (
    Measurement,
    OrderSettings,
    ViewOrder,
    bootstrap_mean,
    content_order,
    measure_field,
    measure_trajectory,
    record_trajectory,
    recorded,
)
from audiospec.measures.statistics import Difference, Family, Interval, decide, excludes_zero, holm_family

__all__ = ["BandSwap", "Difference", "Family", "GaussianModel", "Interval", "Likelihood", "LinearGaussianVelocity",
           "Measurement", "OrderSettings", "ViewOrder", "band_swap", "bootstrap_mean", "content_order", "data_spectrum",
           "decide", "divergence", "donor_share", "excludes_zero", "gaussian_fields", "gaussian_log_likelihood",
           "holm_family", "measure_field", "measure_trajectory", "ode_log_likelihood", "record_trajectory", "recorded",
           "swap_low_quefrency"]
