"""Shared test signals and fits for the audiospec.functional tests (no fixtures, plain functions).

Imported as a top-level module: pytest's default ``prepend`` import mode puts this folder
(which has no ``__init__.py``) on ``sys.path``.
"""

from __future__ import annotations

import numpy as np


def chirp_plus_noise(*, sample_rate: int = 22050, seconds: float = 1.5, seed: int = 0, dtype=np.float64) -> np.ndarray:
    """A 'real-ish' test waveform ``[L]``: a linear chirp 100 Hz -> 4 kHz, a 440 Hz tone and white noise.

    The chirp sweeps through many mel bands, the tone gives a stationary peak, and the
    noise (-26 dB) fills every bin so that no mel value sits on the ``amin`` clamp.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    f0, f1 = 100.0, 4000.0
    phase = 2 * np.pi * (f0 * t + (f1 - f0) / (2 * seconds) * t**2)
    x = 0.5 * np.sin(phase) + 0.2 * np.sin(2 * np.pi * 440.0 * t) + 0.05 * rng.standard_normal(t.size)
    return x.astype(dtype)


def loglog_slope(freqs: np.ndarray, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope of log10 P on log10 f and its standard error, per row of ``power`` ``[..., K]``.

    Same fit as colorednoise's ``test_slope_distribution`` (``numpy.polyfit(..., cov=True)``).
    Returns (slopes ``[...]``, standard errors ``[...]``).
    """
    x = np.log10(freqs)
    y = np.log10(power).reshape(-1, power.shape[-1])
    slopes, ses = [], []
    for row in y:
        coeffs, cov = np.polyfit(x, row, 1, cov=True)
        slopes.append(coeffs[0])
        ses.append(np.sqrt(cov[0, 0]))
    return np.array(slopes).reshape(power.shape[:-1]), np.array(ses).reshape(power.shape[:-1])
