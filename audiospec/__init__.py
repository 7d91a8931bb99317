"""audiospec: is diffusion on audio spectrograms cepstral autoregression?

Sub-packages:

- :mod:`audiospec.functional` — pure, batched torch functions (spectra, log-mel,
  RAPSD, cepstra, power-law fits, coloured noise, SNR / autoregression order).
- :mod:`audiospec.data` — audio I/O and dataset loaders (GTZAN, any folder, the
  embedded offline corpus).
- :mod:`audiospec.diffusion` — noise priors, flow matching / VP paths, timestep samplers,
  spectral schedule design, samplers, the U-Net and its resumable training loop.
- :mod:`audiospec.metrics` — offline sample-quality metrics (classifier Fréchet distance,
  spectral errors, mel-cepstral distortion, optional FAD).
- :mod:`audiospec.experiments` — analysis, corruption, training, comparison, recipes.
- :mod:`audiospec.report` — plots and the self-contained HTML report.
"""

from audiospec.errors import AudiospecError

__version__ = "0.1.0"
__all__ = ["AudiospecError", "__version__"]
