"""The matched prior diagonal in the 2-D DCT (issue 25): its noise has the data's power per DCT coefficient, its
whitening and density are exact, its spectrum is its noise's expected Fourier power, it survives a checkpoint."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.diffusion import WhiteNoise, load_checkpoint, train
from audiospec.diffusion.priors import ColoredNoise, DCTMatchedNoise, PriorSpec, make_prior, prior_from_state
from audiospec.errors import AudiospecError
from audiospec.functional.cepstrum import dct2
from audiospec.measures.likelihood import gaussian_log_likelihood, prior_log_density
from helpers_diffusion import tiny_train_config

M, T = 16, 8


def _patches(n: int = 64) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 1, M, T, generator=g).cumsum(-2) / 3  # power falling along mel: not white


def test_its_noise_has_the_datas_power_per_dct_coefficient():
    data = _patches()
    prior = make_prior("matched_dct", data=data)
    assert isinstance(prior, DCTMatchedNoise) and prior.name == "matched_dct" and PriorSpec.parse("matched_dct").kind == "matched_dct"
    power = dct2(data.double()).square().mean((0, 1))
    assert torch.allclose(prior.variance, power / power.mean(), rtol=1e-9)
    eps = prior.sample((4000, 1, M, T), generator=torch.Generator().manual_seed(1))
    ratio = dct2(eps.double())[:, 0].var(0) / prior.variance
    assert float((ratio - 1).abs().max()) < 0.12  # 4000 draws: sd of a variance ratio 0.022, max of 128
    empirical = torch.fft.rfft2(eps.double()[:, 0], norm="ortho").abs().square().mean(0)
    assert float((empirical / prior.spectrum((M, T)) - 1).abs().mean()) < 0.03  # its expected Fourier power


def test_its_whitening_and_density_are_exact():
    prior = make_prior("matched_dct", data=_patches())
    x = torch.randn(5, 1, M, T, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.allclose(prior.whiten(prior.colour(x)), x, atol=1e-10)
    c = dct2(x)[:, 0]  # [B, M, T]: independent N(0, v) coefficients
    direct = -0.5 * (c.square() / prior.variance + prior.variance.log() + math.log(2 * math.pi)).flatten(1).sum(1)
    assert torch.allclose(prior_log_density(prior, x), direct, rtol=1e-10)
    pink = ColoredNoise(beta=1.0)  # the generic density is the Fourier one for a Fourier-diagonal prior
    assert torch.allclose(prior_log_density(pink, x), gaussian_log_likelihood(x, spectrum=pink.spectrum((M, T))))


def test_it_trains_and_comes_back_from_a_checkpoint(tmp_path):
    data = _patches(16)
    prior = make_prior("matched_dct", data=data)
    assert prior_from_state(prior.to_dict(), prior.tensors()) == prior
    result = train(tiny_train_config(steps=2, checkpoint_every=2), data, prior=prior, out_dir=tmp_path, progress=False)
    assert load_checkpoint(result.checkpoint)[3] == prior
    with pytest.raises(AudiospecError, match="estimated on"):
        prior.sample((1, 1, M, 2 * T))
    with pytest.raises(AudiospecError, match="ndim=2"):
        make_prior("matched_dct", data=data[:, 0, 0], ndim=1)
    assert not prior == WhiteNoise()
