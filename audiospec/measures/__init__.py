"""Measuring tools, apart from the model core: each comes with its known answer.

- :mod:`~audiospec.measures.statistics`: intervals, paired differences, test families and :func:`decide`, the
  library's one definition of a *reliable* difference;
- :mod:`~audiospec.measures.gaussian`: the exact linear-Gaussian models, the calibration of every measure;
- :mod:`~audiospec.measures.ordering`: how coarse-to-fine a sampler is (commit times of spectral bands);
- :mod:`~audiospec.measures.band_swap`: the causal band-swap test;
- :mod:`~audiospec.measures.likelihood`: probability-flow likelihoods.

They sit above :mod:`audiospec.diffusion` (they sample its models) and below :mod:`audiospec.experiments`.
"""
