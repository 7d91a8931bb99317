"""Normalized-mode ring spacing on non-square, anisotropic fields (the mel-spectrogram case)."""

import numpy as np
import pytest
import torch

from audiospec.errors import AudiospecError
from audiospec.functional import rapsd, ring_weights


def _elliptic_power_law(H: int, W: int, *, beta: float, squeeze: float) -> torch.Tensor:
    """S = (fy^2 + (squeeze * fx)^2)^(-beta / 2) on the rfft grid, DC set to the smallest neighbour."""
    fy = torch.fft.fftfreq(H, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(W, dtype=torch.float64)[None, :]
    r = torch.sqrt(fy**2 + (squeeze * fx) ** 2)
    r[0, 0] = r[r > 0].min()
    return r ** (-beta)


def test_coarse_rings_are_smooth_where_fine_rings_zig_zag_on_anisotropic_spectra():
    H, W = 64, 256
    S = _elliptic_power_law(H, W, beta=2.0, squeeze=4.0).reshape(-1)
    rises = {}
    for step in ("fine", "coarse"):
        A, freqs = ring_weights(H, W, mode="normalized", ring_step=step)
        curve = (S @ A)[1:]
        rises[step] = int((curve[1:] > curve[:-1]).sum())
    assert rises["coarse"] == 0  # monotone decreasing, as the spectrum is along every direction
    assert rises["fine"] >= 10  # every other ring sees only the longer axis


def test_coarse_rings_cover_zero_to_nyquist_with_the_shorter_axis_step():
    A, freqs = ring_weights(64, 256, mode="normalized", ring_step="coarse")
    np.testing.assert_allclose(freqs.numpy(), np.arange(33) / 64)
    np.testing.assert_allclose(A.sum(0).numpy(), 1.0)  # each ring is a weighted average of its bins


def test_white_noise_is_flat_with_coarse_rings():
    g = torch.Generator().manual_seed(0)
    power = rapsd(torch.randn(64, 48, 200, generator=g), mode="normalized", ring_step="coarse").power.mean(0)
    # each ring averages >= 100 bins x 64 fields: 5% covers > 4 sigma
    np.testing.assert_allclose(power[1:].numpy(), 1.0, rtol=0.05)


def test_unknown_ring_step_is_rejected():
    with pytest.raises(AudiospecError, match="unknown ring_step 'medium'"):
        ring_weights(8, 8, mode="normalized", ring_step="medium")  # type: ignore[arg-type]
