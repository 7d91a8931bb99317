"""Likelihoods through the probability-flow ODE, checked against closed forms.

References: scipy's multivariate normal with the explicit covariance (the stationary Gaussian
density), autograd's full Jacobian (the divergence), and the Gaussian data model, whose exact
flow maps N(0, λ) onto the prior so the ODE likelihood must equal the closed-form density.
Tolerances: 1e-9 relative for closed forms, 2e-3 bits/dim per datum for the exact-divergence
ODE (RK4 error), 0.01 bits/dim on the mean for the Hutchinson estimate (the issue's bound).
"""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import multivariate_normal

from audiospec.measures.gaussian import LinearGaussianVelocity, gaussian_fields
from audiospec.measures.likelihood import divergence, gaussian_log_likelihood, ode_log_likelihood
from audiospec.diffusion.priors import ColoredNoise, WhiteNoise
from audiospec.errors import AudiospecError
from audiospec.functional.noise import colour_white, radial_frequency


def _power_law(shape: tuple[int, int], beta: float) -> torch.Tensor:
    f = radial_frequency(shape)
    return (f.clamp_min(1.0 / max(shape)) ** -beta).double()


@pytest.mark.parametrize("shape", [(6, 8), (5, 7)])
def test_gaussian_log_likelihood_matches_scipy(shape):
    spectrum = _power_law(shape, 1.5)
    D = shape[0] * shape[1]
    eye = torch.eye(D, dtype=torch.float64).reshape(D, *shape)
    A = colour_white(eye, spectrum=spectrum, ndim=2).reshape(D, D)  # rows: Σ^{1/2} e_i (Σ^{1/2} symmetric)
    cov = (A @ A.T).numpy()
    x = gaussian_fields(spectrum, (4, 1, *shape), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = multivariate_normal(mean=torch.zeros(D).numpy(), cov=cov).logpdf(x.reshape(4, D).numpy())
    got = gaussian_log_likelihood(x, spectrum=spectrum)
    assert torch.allclose(got, torch.as_tensor(expected), rtol=1e-9, atol=1e-9)


def test_gaussian_log_likelihood_rejects_bad_spectra():
    x = torch.zeros(2, 1, 4, 6)
    with pytest.raises(AudiospecError, match="rfft grid"):
        gaussian_log_likelihood(x, spectrum=torch.ones(4, 3))
    with pytest.raises(AudiospecError, match="strictly positive"):
        gaussian_log_likelihood(x, spectrum=torch.zeros(4, 4))


def test_divergence_matches_the_autograd_jacobian_and_hutchinson_is_unbiased():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Tanh(), torch.nn.Conv2d(4, 1, 3, padding=1))
    field = lambda x, t: net(x) * (1 + t[:, None, None, None])  # noqa: E731
    x = torch.randn(2, 1, 4, 5)
    t = torch.tensor([0.3, 0.7])
    _, exact = divergence(field, x, t, estimator="exact", chunk=7)
    for b in range(2):
        J = torch.autograd.functional.jacobian(lambda y: field(y[None], t[b:b + 1])[0], x[b]).reshape(20, 20)
        assert float(exact[b]) == pytest.approx(float(J.trace()), rel=1e-5, abs=1e-6)
    probes = torch.randint(0, 2, (4000, *x.shape), generator=torch.Generator().manual_seed(1)).float() * 2 - 1
    _, estimate = divergence(field, x, t, probes=probes)
    assert torch.allclose(estimate, exact, atol=0.05 * float(exact.abs().max()) + 0.02)
    with pytest.raises(AudiospecError, match="probes"):
        divergence(field, x, t)


@pytest.mark.parametrize("prior", [WhiteNoise(), ColoredNoise(beta=1.0)], ids=["white", "pink"])
def test_ode_likelihood_of_the_exact_gaussian_model_is_the_closed_form(prior):
    shape = (8, 12)
    lam = _power_law(shape, 2.0) * 0.5
    x0 = gaussian_fields(lam, (6, 1, *shape), generator=torch.Generator().manual_seed(2))
    field = LinearGaussianVelocity(lam, prior=prior, signal_shape=shape)
    expected = -gaussian_log_likelihood(x0, spectrum=lam) / (math.prod(shape) * math.log(2.0))
    exact = ode_log_likelihood(field, x0, prior=prior, steps=24, estimator="exact")
    assert torch.allclose(exact.bits_per_dim, expected, atol=2e-3)
    assert float(exact.divergence.abs().min()) > 1.0  # lambda != S: the divergence term carries the answer


def test_hutchinson_ode_likelihood_is_within_a_hundredth_of_a_bit_on_average():
    shape = (16, 32)
    prior = ColoredNoise(beta=1.0)
    lam = _power_law(shape, 1.5)
    x0 = gaussian_fields(lam, (32, 1, *shape), generator=torch.Generator().manual_seed(3))
    field = LinearGaussianVelocity(lam, prior=prior, signal_shape=shape)
    expected = -gaussian_log_likelihood(x0, spectrum=lam) / (math.prod(shape) * math.log(2.0))
    got = ode_log_likelihood(field, x0, prior=prior, steps=16, n_probes=2, generator=torch.Generator().manual_seed(4))
    assert abs(float(got.bits_per_dim.mean() - expected.mean())) < 0.01
    wrong = ode_log_likelihood(field, x0, prior=WhiteNoise(), steps=16, n_probes=2,
                               generator=torch.Generator().manual_seed(4))  # the right flow, the wrong prior
    assert float(wrong.bits_per_dim.mean() - expected.mean()) > 0.05


def test_ode_likelihood_rejects_bad_arguments():
    field = LinearGaussianVelocity(torch.ones(4, 3, dtype=torch.float64), prior=WhiteNoise(), signal_shape=(4, 4))
    for kwargs, match in (({"steps": 0}, "steps"), ({"n_probes": 0}, "n_probes"), ({"t_min": 1.0}, "t_min")):
        with pytest.raises(AudiospecError, match=match):
            ode_log_likelihood(field, torch.zeros(1, 1, 4, 4), prior=WhiteNoise(), **kwargs)
    with pytest.raises(AudiospecError, match="B, C, F, T"):
        ode_log_likelihood(field, torch.zeros(4, 4), prior=WhiteNoise())
