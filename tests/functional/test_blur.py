"""Gaussian blur vs scipy.ndimage.gaussian_filter (periodic) and its low-pass property."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from audiospec.errors import AudiospecError
from audiospec.functional import rapsd
from audiospec.functional.blur import gaussian_blur


@pytest.mark.parametrize("sigma", [1.5, 3.0])
def test_matches_scipy_gaussian_filter_with_wrap_boundaries(sigma):
    x = np.random.default_rng(0).standard_normal((64, 96))
    ours = gaussian_blur(torch.from_numpy(x), sigma=sigma, ndim=2).numpy()
    # scipy samples the kernel in space (truncated at 8 sigma); ours is the exact Gaussian in frequency:
    # below sigma ~ 1.5 the sampled kernel aliases; from 1.5 on they agree to 1e-3
    ref = ndimage.gaussian_filter(x, sigma=sigma, mode="wrap", truncate=8.0)
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_one_dimensional_blur_acts_on_the_last_axis_only():
    x = torch.randn(3, 5, 200, dtype=torch.float64)
    ours = gaussian_blur(x, sigma=1.5, ndim=1)
    ref = ndimage.gaussian_filter1d(x.numpy(), sigma=1.5, axis=-1, mode="wrap", truncate=8.0)
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-3)


def test_blur_removes_high_frequencies_first():
    x = torch.randn(8, 64, 64, dtype=torch.float64)
    clean = rapsd(x).power.mean(0)
    blurred = rapsd(gaussian_blur(x, sigma=2.0)).power.mean(0)
    ratio = blurred / clean
    assert ratio[1] > 0.9 and ratio[-1] < 1e-6
    assert bool((ratio[1:-1] >= ratio[2:] - 1e-12).all())  # monotone attenuation


def test_sigma_zero_is_identity_and_negative_is_rejected():
    x = torch.randn(4, 16)
    torch.testing.assert_close(gaussian_blur(x, sigma=0.0, ndim=1), x)
    with pytest.raises(AudiospecError, match="sigma must be a finite number >= 0"):
        gaussian_blur(x, sigma=-1.0, ndim=1)
