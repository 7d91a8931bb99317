"""The band-swap test of spectral autoregression on fields whose answer is known.

- A linear field acting along time only commutes with the mel-axis DCT projections: donor
  shares exactly 1 below k_cut and 0 above (tolerance 1e-6, float32 sampling).
- The exact linear-Gaussian field sampled with Euler reproduces the shares of its closed-form
  flow map (tolerance 0.02, the Euler error at 64 steps).
- A field whose fine content is made from its coarse content (a positive control) shows high-band
  shares far above the linear model's.
"""

from __future__ import annotations

import pytest
import torch

from audiospec.measures.band_swap import band_swap, donor_share, swap_low_quefrency
from audiospec.functional.cepstrum import quefrency_bands
from audiospec.measures.gaussian import LinearGaussianVelocity
from audiospec.diffusion.priors import ColoredNoise, WhiteNoise
from audiospec.errors import AudiospecError
from audiospec.functional.cepstrum import dct_matrix
from audiospec.diffusion.schedule_design import velocity_gain
from audiospec.functional.noise import radial_frequency

SHAPE = (16, 24)


def test_swap_replaces_exactly_the_low_dct_coefficients():
    g = torch.Generator().manual_seed(0)
    x, donor = torch.randn(3, 1, *SHAPE, generator=g), torch.randn(3, 1, *SHAPE, generator=g)
    D = dct_matrix(SHAPE[0])
    c, c_donor, c_swapped = (D.T @ v for v in (x, donor, swap_low_quefrency(x, donor, k_cut=5)))
    assert torch.allclose(c_swapped[..., :5, :], c_donor[..., :5, :], atol=1e-5)
    assert torch.allclose(c_swapped[..., 5:, :], c[..., 5:, :], atol=1e-5)
    with pytest.raises(AudiospecError, match="k_cut"):
        swap_low_quefrency(x, donor, k_cut=SHAPE[0])


def test_bands_cover_every_coefficient_once():
    bands = quefrency_bands(16, n_bands=4)
    assert bands == [(0, 1), (1, 2), (2, 4), (4, 8), (8, 16)]


def _time_only_field(t_spectrum: torch.Tensor):
    lam = t_spectrum.expand(SHAPE[0], -1).clone()  # [M, Tr]: white along mel
    return LinearGaussianVelocity(lam, prior=WhiteNoise(), signal_shape=SHAPE)


def test_a_field_acting_along_time_only_keeps_bands_apart():
    fx = torch.fft.rfftfreq(SHAPE[1]).double()
    field = _time_only_field((fx.clamp_min(0.05) ** -1.0))
    result = band_swap(field, prior=WhiteNoise(), shape=SHAPE, n_pairs=3, steps=8, swap_times=[0.75, 0.25], k_cut=4,
                       n_bands=4, generator=torch.Generator().manual_seed(1))
    share = result.share()  # [J, B]; bands (0,1),(1,2),(2,4) swapped, (4,8),(8,16) kept
    assert share.shape == (2, 5)
    assert torch.allclose(share[:, :3], torch.ones(2, 3, dtype=share.dtype), atol=1e-6)
    assert torch.allclose(share[:, 3:], torch.zeros(2, 2, dtype=share.dtype), atol=1e-6)
    low, high = result.intervals(n_bootstrap=200)
    assert bool((low <= share + 1e-12).all() and (share <= high + 1e-12).all())


def _shares_from_map(to_time, x1, t_swap, k_cut, bands):
    """Donor shares when the flow from time a to time b is the linear map ``to_time(x, a, b)``."""
    y = to_time(x1, 1.0, 0.0)
    xt = to_time(x1, 1.0, t_swap)
    partner = torch.arange(x1.shape[0]) ^ 1
    y_swapped = to_time(swap_low_quefrency(xt, xt[partner], k_cut=k_cut), t_swap, 0.0)
    D = dct_matrix(SHAPE[0], dtype=torch.float64)

    def dist(a, b):
        p = (D.T @ (a - b)).square().sum(-1)[:, 0]  # [N, M]
        return torch.stack([p[:, i:j].sum(-1) for i, j in bands], -1)

    return donor_share(dist(y_swapped, y), dist(y_swapped, y[partner]))


def _in_fourier(x, gain):
    return torch.fft.irfft2(torch.fft.rfft2(x.double(), norm="ortho") * gain, s=SHAPE, norm="ortho")


def _exact_flow(lam, S):
    """The ODE's exact solution: each Fourier mode scales by sigma_k(b) / sigma_k(a) (module doc)."""
    sig = lambda t: ((1 - t) ** 2 * lam + t ** 2 * S).sqrt()  # noqa: E731
    return lambda x, a, b: _in_fourier(x, sig(b) / sig(a))


def _euler_flow(lam, S, steps):
    """Euler's own map on the uniform grid: each mode scales by prod_i (1 + h c_k(t_i))."""
    grid = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)

    def to_time(x, a, b):
        gain = torch.ones_like(lam)
        for t, s in zip(grid[:-1], grid[1:]):
            if a >= float(t) > b - 1e-12 and float(s) >= b - 1e-12:
                gain = gain * (1 + (s - t) * velocity_gain(t[None], data_variance=lam, noise_variance=S)[0])
        return _in_fourier(x, gain)

    return to_time


@pytest.mark.parametrize("prior", [WhiteNoise(), ColoredNoise(beta=1.0)], ids=["white", "pink"])
def test_the_exact_gaussian_model_matches_its_flow_map(prior):
    lam = radial_frequency(SHAPE).clamp_min(1 / 24).double() ** -2.0 * 0.05
    field = LinearGaussianVelocity(lam, prior=prior, signal_shape=SHAPE)
    result = band_swap(field, prior=prior, shape=SHAPE, n_pairs=8, steps=16, swap_times=[0.75, 0.25], k_cut=4,
                       n_bands=4, generator=torch.Generator().manual_seed(2))
    x1 = prior.sample((16, 1, *SHAPE), generator=torch.Generator().manual_seed(2))  # the same draw
    S = prior.spectrum(SHAPE)
    for j, t in enumerate(result.times):
        euler = _shares_from_map(_euler_flow(lam, S, 16), x1, t, 4, list(result.bands))
        exact = _shares_from_map(_exact_flow(lam, S), x1, t, 4, list(result.bands))
        assert torch.allclose(result.share()[j], euler, atol=1e-4)  # the sampler is Euler's map, exactly
        assert torch.allclose(euler, exact, atol=0.03)  # ... which approximates the ODE's solution
        assert float(exact[3:].max()) < 0.1 and float(exact[:3].min()) > 0.9  # little leakage between bands


def test_a_coarse_to_fine_field_shows_high_band_shares():
    lam = radial_frequency(SHAPE).clamp_min(1 / 24).double() ** -2.0 * 0.05
    linear = LinearGaussianVelocity(lam, prior=WhiteNoise(), signal_shape=SHAPE)
    D = dct_matrix(SHAPE[0])
    mix = torch.randn(SHAPE[0] - 4, 4, generator=torch.Generator().manual_seed(0))  # coarse -> fine coefficients
    low_to_high = D[:, 4:] @ mix @ D[:, :4].T  # [M, M]

    def coupled(x, t):  # fine content written from the coarse content while sampling
        return linear(x, t) - 2.0 * (low_to_high @ x)

    kwargs = dict(prior=WhiteNoise(), shape=SHAPE, n_pairs=6, steps=16, swap_times=[0.75], k_cut=4, n_bands=4,
                  generator=torch.Generator().manual_seed(3))
    base = band_swap(linear, **kwargs).share()[0, 3:]
    driven = band_swap(coupled, **kwargs).share()[0, 3:]
    assert float(driven.min()) > float(base.max()) + 0.2


def test_band_swap_rejects_off_grid_times():
    field = _time_only_field(torch.ones(SHAPE[1] // 2 + 1, dtype=torch.float64))
    with pytest.raises(AudiospecError, match="inner point"):
        band_swap(field, prior=WhiteNoise(), shape=SHAPE, n_pairs=1, steps=8, swap_times=[0.3], k_cut=4)
    with pytest.raises(AudiospecError, match="splits a quefrency band"):
        band_swap(field, prior=WhiteNoise(), shape=SHAPE, n_pairs=1, steps=8, swap_times=[0.5], k_cut=3, n_bands=4)
    with pytest.raises(AudiospecError, match="n_pairs"):
        band_swap(field, prior=WhiteNoise(), shape=SHAPE, n_pairs=0, steps=8, swap_times=[0.5], k_cut=4)
