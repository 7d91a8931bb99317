"""audiospec: is diffusion on audio spectrograms cepstral autoregression?

Sub-packages:

- :mod:`audiospec.functional` — pure, batched torch functions (spectra, log-mel,
  RAPSD, cepstra, power-law fits, coloured noise, SNR / autoregression order).
- :mod:`audiospec.data` — audio I/O and dataset loaders (GTZAN, any folder, the
  embedded offline corpus).
- :mod:`audiospec.experiments` — the analyses behind the CLI.
"""

from audiospec.errors import AudiospecError

__version__ = "0.1.0"
__all__ = ["AudiospecError", "__version__"]
