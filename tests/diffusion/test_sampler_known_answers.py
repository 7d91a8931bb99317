"""Every sampler with every objective on its known answer (issue 22): with the exact network of Gaussian data
(the linear-Gaussian velocity for rectified flow, the exact eps for VP, the exact network of each coarse-to-fine
process) the samples' moments converge to the data's at the sampler's order. And the ancestral VP sampler's
failure of the issue (std ~ 200 in model space) reproduced with a network whose output scale does not follow its
input, as a U-Net's normalisation layers make it, and fixed by clipping x0_hat to the training data's range."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from audiospec.diffusion import ColoredNoise, WhiteNoise, sample
from audiospec.diffusion.processes import CoarseToFineConfig, HeatDissipation, build_process
from audiospec.diffusion.solver import solve
from audiospec.measures.gaussian import GaussianModel, LinearGaussianVelocity, gaussian_fields
from audiospec.functional import power_law_spectrum, process_coefficients

SHAPE = (8, 16)
LAM = power_law_spectrum(SHAPE, beta=2.0)
LAM = LAM / LAM.mean()  # [F, T // 2 + 1]: unit-variance stationary Gaussian data
N = 2000  # samples: the mean power ratio over 72 bins has a sampling sd of about 0.4%


def exact_eps(prior):
    """E[eps | x_t] on the VP cosine path for data ~ N(0, LAM) and eps ~ prior: sigma S / (alpha^2 LAM + sigma^2 S)."""
    S = prior.spectrum(SHAPE).to(torch.float64)

    def model(x, t):
        alpha, sigma = process_coefficients(t[:1].double().cpu(), process="vp_cosine")
        gain = sigma * S / (alpha**2 * LAM + sigma**2 * S)
        return torch.fft.irfft2(torch.fft.rfft2(x.double(), norm="ortho") * gain, s=SHAPE, norm="ortho").to(x.dtype)

    return model


def deficit(out: torch.Tensor) -> float:
    """1 - mean over frequencies of (sample power / data power)."""
    power = torch.fft.rfft2(out.double(), norm="ortho").abs().square().mean(dim=(0, 1))  # [F, T // 2 + 1]
    return 1.0 - float((power / LAM).mean())


CASES = [  # (sampler, objective, order, coarse steps): every pair sample() accepts
    ("euler", "flow_matching", 1, 32),
    ("heun", "flow_matching", 2, 8),
    ("ancestral", "vp_eps", 1, 50),
]


@pytest.mark.parametrize("prior", [WhiteNoise(), ColoredNoise(beta=1.0)], ids=["white", "pink"])
@pytest.mark.parametrize("sampler, objective, order, steps", CASES, ids=[c[0] for c in CASES])
def test_exact_gaussian_network_reproduces_the_data_moments_at_the_sampler_order(sampler, objective, order, steps,
                                                                                  prior):
    model = (LinearGaussianVelocity(LAM, prior=prior, signal_shape=SHAPE) if objective == "flow_matching"
             else exact_eps(prior))
    runs = [sample(model, prior=prior, n=N, shape=SHAPE, steps=k, sampler=sampler, objective=objective,
                   generator=torch.Generator().manual_seed(0)) for k in (steps, 4 * steps)]
    coarse, fine = (deficit(out) for out in runs)
    assert abs(float(runs[1].mean())) < 0.02  # zero-mean data (sd of this mean: 0.005)
    if order == 1:  # measured: euler 0.091 -> 0.025, ancestral 0.116 -> 0.031 (white)
        assert 0 < fine < 0.05 and 2.5 < coarse / fine < 5.5
    else:  # heun: exact up to sampling noise already at 8 steps (measured |deficit| < 0.002)
        assert abs(coarse) < 0.015 and abs(fine) < 0.015


@pytest.mark.parametrize("kind", ["cepstral_ar", "heat"])
def test_coarse_to_fine_samplers_reproduce_the_data_moments_with_their_exact_network(kind):
    # eta = 0 (the deterministic samplers); their closed-form moments at any grid and eta = 1 are tested in
    # test_diffusion_coarse_to_fine.py::test_exact_gaussian_sampler_matches_its_closed_form_moments
    M, T = 16, 8
    k, l = torch.arange(M, dtype=torch.float64)[:, None], torch.arange(T, dtype=torch.float64)[None, :]
    var = 1.0 / (1 + k**2 + l**2)
    var = (var / var.mean())[None]  # [1, M, T] per 2-D DCT coefficient
    mean = 0.3 * torch.randn(1, M, T, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    process = build_process(kind, prior=WhiteNoise(), coarse_to_fine=CoarseToFineConfig(n_bands=4, sigma_max=20.0,
                                                                                        noise=0.05), n_mels=M, eta=0.0)
    process = dataclasses.replace(process, stats=(mean, var.sqrt()))
    deficits = []
    for steps in (40, 160):
        y = solve(process, GaussianModel(process, mean, var), n=N, shape=(M, T), steps=steps,
                  generator=torch.Generator().manual_seed(0))
        c = HeatDissipation().to_coefficients(y.double())[:, 0]  # [n, M, T]
        deficits.append(1.0 - float((c.var(0) / var[0]).mean()))
        assert float(((c.mean(0) - mean[0]).abs() / (var[0] / N).sqrt()).max()) < 5  # 5 sd, max of 128
    assert 0 < deficits[1] < 0.1 and 2.5 < deficits[0] / deficits[1] < 5.5  # first order (measured 3.6 and 3.3)


def test_ancestral_sampling_of_an_undertrained_eps_network_is_bounded_by_the_data_range():
    # The vp_eps model: eps_hat has the right direction but a fixed scale (its std 0.87 at every t, as
    # GroupNorm makes a U-Net's output). x0_hat = (x - sigma eps_hat) / alpha multiplies its error by sigma / alpha
    # (636 at t = 0.999): without a bound the samples reach |x| ~ 600 (std 70; the issue: 200), with x0_hat
    # clipped to the training data's range (which the exact x0_hat, a mean of training data, never leaves) they
    # keep the data's scale.
    prior = WhiteNoise()
    exact = exact_eps(prior)

    def undertrained(x, t):
        e = exact(x, t)
        return 0.87 * e / e.flatten(1).std(dim=1).clamp_min(1e-12)[:, None, None, None]

    bound = float(gaussian_fields(LAM, (N, 1, *SHAPE), generator=torch.Generator().manual_seed(1)).abs().max())
    kwargs = dict(prior=prior, n=500, shape=SHAPE, steps=32, sampler="ancestral", objective="vp_eps")
    wild = sample(undertrained, generator=torch.Generator().manual_seed(0), **kwargs)
    tame = sample(undertrained, generator=torch.Generator().manual_seed(0), clip_x0=bound, **kwargs)
    assert float(wild.abs().max()) > 100  # measured 609
    assert float(tame.abs().max()) <= bound + 1e-4 and 0.8 < float(tame.std()) < 1.5  # measured 1.21
