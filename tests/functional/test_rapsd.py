"""RAPSD: equality with pysteps (reference tier) and spectral properties of both radius modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pysteps.utils.spectral import rapsd as pysteps_rapsd

from audiospec.functional import colored_noise, power_law_spectrum, rapsd, ring_weights

# square / non-square, odd / even, tall / wide, the smallest legal field, and a mel-sized one
SHAPES = [(32, 32), (33, 33), (16, 40), (41, 16), (17, 24), (2, 2), (3, 5), (64, 256)]
PYSTEPS_RTOL = 1e-6  # DESIGN.md section 2; measured agreement is ~2e-15 (float64 FFTs of the same values)


def _pysteps(field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pysteps_rapsd(field, fft_method=np.fft, return_freq=True)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pysteps_mode_equals_pysteps(shape):
    field = np.random.default_rng(sum(shape)).standard_normal(shape)
    expected, expected_freqs = _pysteps(field)
    ours = rapsd(torch.from_numpy(field), mode="pysteps")
    np.testing.assert_allclose(ours.power.numpy(), expected, rtol=PYSTEPS_RTOL, atol=0)
    np.testing.assert_allclose(ours.freqs.numpy(), expected_freqs, rtol=0, atol=1e-15)


def test_float32_field_is_computed_in_float32_close_to_pysteps():
    """float32 input stays float32 (speed); it matches pysteps on the float64 copy to float32 precision."""
    field = np.random.default_rng(7).standard_normal((40, 64)).astype(np.float32)
    expected, _ = _pysteps(field.astype(np.float64))
    ours = rapsd(torch.from_numpy(field), mode="pysteps")
    assert ours.power.dtype == torch.float32
    # rfft2 in float32 over 2,560 values: relative error of a ring mean stays below 1e-5
    np.testing.assert_allclose(ours.power.numpy(), expected, rtol=1e-5, atol=0)


@pytest.mark.parametrize("shape", [(24, 24), (20, 36)], ids=["square", "non_square"])
def test_batch_equals_pysteps_loop(shape):
    """A [2, 3, H, W] batch in one call equals pysteps run on each field."""
    fields = np.random.default_rng(11).standard_normal((2, 3, *shape)) * np.arange(1, 7).reshape(2, 3, 1, 1)
    ours = rapsd(torch.from_numpy(fields), mode="pysteps").power.numpy()
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(ours[i, j], _pysteps(fields[i, j])[0], rtol=PYSTEPS_RTOL, atol=0)


@pytest.mark.parametrize("window", [None, "kaiser"])
@pytest.mark.parametrize("mode", ["pysteps", "normalized"])
def test_batch_equals_per_field_loop(mode, window):
    g = torch.Generator().manual_seed(0)
    fields = torch.randn(4, 2, 16, 40, generator=g, dtype=torch.float64)
    batched = rapsd(fields, mode=mode, window=window).power  # [4, 2, R]
    for i in range(4):
        for j in range(2):
            single = rapsd(fields[i, j], mode=mode, window=window).power
            torch.testing.assert_close(batched[i, j], single, rtol=1e-12, atol=0)


@pytest.mark.parametrize("mode", ["pysteps", "normalized"])
@pytest.mark.parametrize("shape", [(32, 32), (17, 40)], ids=["32x32", "17x40"])
def test_ring_map_is_an_average(mode, shape):
    """Each ring is a weighted average: the map sends a constant power to the same constant."""
    H, W = shape
    A, freqs = ring_weights(H, W, mode=mode)
    assert A.shape == (H * (W // 2 + 1), freqs.numel())
    assert bool((A >= 0).all())
    torch.testing.assert_close(A.sum(dim=0), torch.ones(freqs.numel(), dtype=torch.float64), rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "mode,shape",
    [("pysteps", (64, 64)), ("normalized", (64, 64)), ("normalized", (32, 128)), ("normalized", (128, 32))],
    ids=["pysteps-64x64", "normalized-64x64", "normalized-32x128", "normalized-128x32"],
)
def test_white_noise_rapsd_is_flat_at_one(mode, shape):
    """Unit white noise has expected power 1 at every ring: check each ring and the fitted slope."""
    n = 64
    g = torch.Generator().manual_seed(1)
    fields = torch.randn(n, *shape, generator=g, dtype=torch.float64)
    result = rapsd(fields, mode=mode)
    mean = result.power.mean(0)
    sem = result.power.std(0) / math.sqrt(n)
    z = ((mean - 1.0) / sem)[1:]  # DC ring holds one real bin; it is checked through the slope fit below
    assert float(z.abs().max()) < 5.0, f"ring means deviate by up to {float(z.abs().max()):.1f} standard errors"
    # Slope of the mean spectrum (a per-field log fit would be biased: rings near DC hold a few
    # bins, and E[log mean] < log E). Sigma: bootstrap over fields (200 resamples).
    f = np.log10(result.freqs[1:].numpy())
    power = result.power[:, 1:].numpy()
    slope = np.polyfit(f, np.log10(power.mean(0)), 1)[0]
    idx = np.random.default_rng(0).integers(0, n, size=(200, n))
    boot = np.polyfit(f, np.log10(power[idx].mean(1)).T, 1)[0]
    assert abs(slope) < 3 * boot.std(), f"slope {slope:.4f} not within 3 sigma ({boot.std():.4f}) of 0"


def test_colored_noise_rapsd_expectation_is_ring_average_of_the_spectrum():
    """E[rapsd(eps)] = ring map applied to S, since E|FFT(eps)|^2 / N = S bin by bin."""
    H, W, n = 32, 64, 256
    g = torch.Generator().manual_seed(2)
    fields = colored_noise((n, H, W), beta=1.5, ndim=2, generator=g, dtype=torch.float64)
    A, _ = ring_weights(H, W, mode="normalized")
    expected = power_law_spectrum((H, W), beta=1.5).reshape(-1) @ A  # [R]
    power = rapsd(fields, mode="normalized").power
    z = (power.mean(0) - expected) / (power.std(0) / math.sqrt(n))
    assert float(z.abs().max()) < 5.0, f"max deviation {float(z.abs().max()):.1f} standard errors"


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.0, 3.0])
def test_normalized_mode_keeps_power_law_slope_on_mel_sized_fields(beta):
    """On a 64 x 256 field the ring average of S = |f|^-beta has slope -beta in normalized mode
    (within 2e-3; the linear split of bins between rings averages a convex curve), while pysteps'
    integer-index radius mixes the two axes' scales and bends the slope by > 0.2 for beta >= 1."""
    H, W = 64, 256
    S = power_law_spectrum((H, W), beta=beta).reshape(-1)
    slopes = {}
    for mode in ("normalized", "pysteps"):
        A, freqs = ring_weights(H, W, mode=mode)
        keep = freqs > 0
        slopes[mode] = np.polyfit(np.log10(freqs[keep].numpy()), np.log10((S @ A)[keep].numpy()), 1)[0]
    assert abs(slopes["normalized"] + beta) < 2e-3
    if beta >= 1:
        assert abs(slopes["pysteps"] + beta) > 0.2


def _plane_wave(H: int, W: int, ky: int, kx: int) -> torch.Tensor:
    y = torch.arange(H, dtype=torch.float64)[:, None]
    x = torch.arange(W, dtype=torch.float64)[None, :]
    return torch.cos(2 * math.pi * (ky * y / H + kx * x / W))  # [H, W]


def test_normalized_mode_places_plane_wave_at_its_radius():
    """fy = 3/32, fx = 16/128 on a 32 x 128 field: radius sqrt(fy^2 + fx^2) = 20/128 cycles/sample exactly."""
    H, W = 32, 128
    result = rapsd(_plane_wave(H, W, 3, 16), mode="normalized")
    lit = torch.nonzero(result.power > 1e-9 * result.power.max()).squeeze(-1)
    assert lit.tolist() == [20]
    assert float(result.freqs[20]) == pytest.approx(math.hypot(3 / 32, 16 / 128), abs=1e-15)
    # pysteps' radius is in integer FFT indices: round(hypot(3, 16)) = 16, i.e. 16/128 cycles/sample
    pysteps_lit = torch.nonzero(rapsd(_plane_wave(H, W, 3, 16), mode="pysteps").power > 1e-9).squeeze(-1)
    assert pysteps_lit.tolist() == [16]


def test_normalized_mode_splits_off_grid_wave_between_neighbouring_rings():
    """fy = 5/32, fx = 7/128: radius 21.19 ring spacings; only rings 21 and 22 receive power."""
    H, W = 32, 128
    radius = math.hypot(5 / 32, 7 / 128)
    result = rapsd(_plane_wave(H, W, 5, 7), mode="normalized")
    lit = torch.nonzero(result.power > 1e-9 * result.power.max()).squeeze(-1)
    assert lit.tolist() == [math.floor(radius * W), math.ceil(radius * W)]
    assert float(result.power[21]) > float(result.power[22])  # the nearer ring gets the larger share


def test_kaiser_window_reduces_leakage_of_a_ramp():
    """A linear ramp is discontinuous at the periodic boundary, which leaks ~f^-2 power to high
    frequencies; the Kaiser taper (after removing the windowed mean) must cut it by > 2x."""
    H, W = 64, 96
    y = torch.arange(H, dtype=torch.float64)[:, None]
    x = torch.arange(W, dtype=torch.float64)[None, :]
    ramp = x / W + y / H  # [H, W]
    for mode in ("pysteps", "normalized"):
        plain = rapsd(ramp, mode=mode)
        tapered = rapsd(ramp, mode=mode, window="kaiser")
        high = plain.freqs > 0.25
        ratio = float(tapered.power[high].mean() / plain.power[high].mean())
        assert ratio < 0.5, f"{mode}: Kaiser keeps {ratio:.2f} of the high-frequency leakage"


def test_kaiser_window_preserves_white_noise_level():
    """Dividing by sum(w^2) instead of N keeps white noise at power 1 (away from DC)."""
    g = torch.Generator().manual_seed(3)
    fields = torch.randn(64, 48, 48, generator=g, dtype=torch.float64)
    power = rapsd(fields, mode="normalized", window="kaiser").power.mean(0)[2:]
    assert float((power - 1).abs().max()) < 0.1  # 64 fields x >= 6 bins per ring: SE < 0.05
