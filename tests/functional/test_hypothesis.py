"""Property tests over random small shapes (hypothesis, derandomized so runs are reproducible)."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pysteps.utils.spectral import rapsd as pysteps_rapsd

from audiospec.functional import colored_noise, dct, dct_matrix, hermitian_weights, rapsd

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@SETTINGS
@given(H=st.integers(2, 24), W=st.integers(2, 24), seed=st.integers(0, 2**32 - 1))
def test_rapsd_pysteps_mode_equals_pysteps_for_any_shape(H, W, seed):
    field = np.random.default_rng(seed).standard_normal((H, W))
    expected, expected_freqs = pysteps_rapsd(field, fft_method=np.fft, return_freq=True)
    ours = rapsd(torch.from_numpy(field), mode="pysteps")
    np.testing.assert_allclose(ours.power.numpy(), expected, rtol=1e-6, atol=0)  # DESIGN.md: 1e-6 relative
    np.testing.assert_allclose(ours.freqs.numpy(), expected_freqs, rtol=0, atol=1e-15)


@SETTINGS
@given(H=st.integers(2, 24), W=st.integers(2, 24), seed=st.integers(0, 2**32 - 1))
def test_rapsd_normalized_mode_is_flat_for_flat_power(H, W, seed):
    """The ring map is an average: a field whose |FFT|^2 / N is 1 everywhere (a unit impulse
    scaled by sqrt(N)) has RAPSD 1 at every ring, whatever the shape."""
    field = torch.zeros(H, W, dtype=torch.float64)
    field[0, 0] = math.sqrt(H * W)
    power = rapsd(field, mode="normalized").power
    torch.testing.assert_close(power, torch.ones_like(power), rtol=1e-12, atol=0)


@SETTINGS
@given(n=st.integers(1, 40), lead=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_dct_round_trip(n, lead, seed):
    x = torch.from_numpy(np.random.default_rng(seed).standard_normal((lead, n)))
    D = dct_matrix(n, dtype=torch.float64)
    torch.testing.assert_close(dct(x) @ D.T, x, rtol=0, atol=1e-12)  # orthonormal: inverse = transpose
    torch.testing.assert_close(dct(x).pow(2).sum(-1), x.pow(2).sum(-1), rtol=1e-12, atol=1e-12)  # energy


@SETTINGS
@given(
    ndim=st.sampled_from([1, 2]),
    sizes=st.lists(st.integers(1, 12), min_size=2, max_size=2),
    beta=st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_colored_noise_shape_and_unit_variance(ndim, sizes, beta, seed):
    """Any signal shape: output has the requested shape, finite values and E[x^2] = 1 within 5 SE
    (SE estimated from 300 independent realisations)."""
    signal_shape = tuple(sizes[:ndim])
    n = 300
    x = colored_noise((n, *signal_shape), beta=beta, ndim=ndim, generator=torch.Generator().manual_seed(seed),
                      dtype=torch.float64)
    assert tuple(x.shape) == (n, *signal_shape)
    assert bool(torch.isfinite(x).all())
    mean_square = x.pow(2).reshape(n, -1).mean(-1)  # [n], i.i.d.
    se = float(mean_square.std()) / math.sqrt(n)
    assert abs(float(mean_square.mean()) - 1.0) < 5 * se + 1e-12


@SETTINGS
@given(shape=st.lists(st.integers(1, 20), min_size=1, max_size=2))
def test_hermitian_weights_count_the_full_plane(shape):
    assert float(hermitian_weights(tuple(shape)).sum()) == math.prod(shape)
