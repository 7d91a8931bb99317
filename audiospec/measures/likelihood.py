"""Log-likelihoods of data under a flow-matching model, through the probability-flow ODE.

A flow-matching model defines the deterministic map dx/dt = v(x, t) from data (t = 0) to the
prior (t = 1). By the instantaneous change of variables (Chen et al. 2018, "Neural ODEs";
Song et al. 2021, "Score-based generative modeling through SDEs", appendix D.2):

    log p_0(x_0) = log p_1(x_1) + ∫_0^1 div v(x_t, t) dt,

with x_t the ODE solution started at the datum x_0. The prior is N(0, Σ) with Σ diagonal
(power S_k) in the orthonormal 2-D Fourier basis, so

    log p_1(x) = −½ Σ_k m_k |X_k|² / S_k − ½ Σ_k m_k log S_k − D/2 log 2π,

where X = rfft2(x, norm="ortho"), m_k the Hermitian multiplicity of each rfft bin
(:func:`audiospec.functional.noise.hermitian_weights`) and D = F·T; for a prior diagonal in another basis (the 2-D
DCT of ``matched_dct``) the same density is −½ ||Σ^{-1/2} x||² − ½ log det Σ − D/2 log 2π
(:func:`prior_log_density`, from the prior's own whitening). The divergence is exact
(D vector-Jacobian products, for small fields and checks) or the Hutchinson estimate
E_z[zᵀ (∂v/∂x) z] with Rademacher probes z fixed along each trajectory (Grathwohl et al.
2019, "FFJORD"). The ODE is integrated with classical fourth-order Runge-Kutta on a uniform
grid. Results are negative log-likelihoods in nats and bits per dimension,
NLL / (D ln 2): continuous data, so bits/dim can be negative; compare models on the same data.

Known answer: for stationary Gaussian data with spectrum λ and the exact linear-Gaussian
field (:class:`audiospec.measures.gaussian.LinearGaussianVelocity`) the ODE maps N(0, λ)
onto the prior exactly, so the result equals :func:`gaussian_log_likelihood` under λ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import torch

from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.samplers import Field
from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite
from audiospec.functional.noise import hermitian_weights

__all__ = [
    "DivergenceEstimator",
    "DIVERGENCE_ESTIMATORS",
    "Likelihood",
    "gaussian_log_likelihood",
    "prior_log_density",
    "divergence",
    "ode_log_likelihood",
]

DivergenceEstimator = Literal["hutchinson", "exact"]
DIVERGENCE_ESTIMATORS: tuple[str, ...] = get_args(DivergenceEstimator)


@dataclass(frozen=True)
class Likelihood:
    """Per datum: ``nll`` in nats ``[B]`` and the same in bits per dimension ``bits_per_dim`` ``[B]``;
    ``prior_nll`` the part −log p_1(x_1) and ``divergence`` the integral ∫ div v dt (nats, ``[B]``).

    Args:
        nll: negative log-likelihood in nats ``[B]``.
        bits_per_dim: the same per dimension in bits ``[B]``.
        prior_nll: −log p_1(x_1) ``[B]``.
        divergence: ∫ div v dt ``[B]``.
    """

    nll: torch.Tensor
    bits_per_dim: torch.Tensor
    prior_nll: torch.Tensor
    divergence: torch.Tensor


def _per_dim_bits(nll: torch.Tensor, dims: int) -> torch.Tensor:
    return nll / (dims * math.log(2.0))


def gaussian_log_likelihood(x: torch.Tensor, *, spectrum: torch.Tensor) -> torch.Tensor:
    """log N(x; 0, Σ) of fields ``x`` ``[B, ..., F, T]`` (all axes after B form one datum), Σ stationary with power
    ``spectrum`` ``[F, T // 2 + 1]`` on the rfft grid in the orthonormal Fourier basis. Returns ``[B]`` float64 nats.

    The spectrum must be the rfft half of a real field's spectrum, S(−f) = S(f) (every estimate and prior here
    is), so that the Hermitian multiplicities turn the half-plane sums into full-plane ones.

    Args:
        x: fields ``[B, ..., F, T]``.
        spectrum: the power spectrum ``[F, T // 2 + 1]``, positive everywhere.

    Returns:
        log-densities ``[B]`` float64, nats.

    Raises:
        AudiospecError: fields of fewer than 3 dims, a spectrum off the grid or not positive.
    """
    check_finite(x, name="fields")
    if x.ndim < 3:
        raise AudiospecError(f"fields must be [B, ..., F, T], got shape {tuple(x.shape)}")
    F, T = (int(s) for s in x.shape[-2:])
    S = spectrum.to(device=x.device, dtype=torch.float64)
    if tuple(S.shape) != (F, T // 2 + 1):
        raise AudiospecError(f"spectrum must lie on the rfft grid {(F, T // 2 + 1)} of {(F, T)} fields, "
                             f"got {tuple(S.shape)}")
    if not bool((S > 0).all()):
        raise AudiospecError("spectrum must be strictly positive at every bin for a Gaussian density "
                             "(add a floor, e.g. spectrum.clamp_min(1e-8 * spectrum.mean()))")
    m = hermitian_weights((F, T), device=x.device)  # [F, Tr]
    power = torch.fft.rfft2(x.to(torch.float64), norm="ortho").abs().square()  # [B, ..., F, Tr]
    quadratic = (m * power / S).flatten(1).sum(-1)  # [B]
    channels = math.prod(x.shape[1:-2])
    logdet = channels * float((m * S.log()).sum())
    dims = math.prod(x.shape[1:])
    return -0.5 * (quadratic + logdet + dims * math.log(2.0 * math.pi))


def prior_log_density(prior: NoisePrior, x: torch.Tensor) -> torch.Tensor:
    """log N(x; 0, Sigma) of fields ``x`` ``[B, ..., F, T]`` under a prior, from its whitening and log det Sigma
    (exact for a prior diagonal in any orthonormal basis; for a Fourier-diagonal one it equals
    :func:`gaussian_log_likelihood` with the prior's spectrum).

    Args:
        prior: the noise prior.
        x: fields ``[B, ..., F, T]``.

    Returns:
        log-densities ``[B]`` float64, nats.
    """
    white = prior.whiten(x.to(torch.float64))
    channels, dims = math.prod(x.shape[1:-2]), math.prod(x.shape[1:])
    logdet = channels * prior.log_det(tuple(x.shape[-2:]))
    return -0.5 * (white.square().flatten(1).sum(-1) + logdet + dims * math.log(2.0 * math.pi))


def _vjps(v: torch.Tensor, x: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """uᵀ (∂v/∂x) for each u in ``grads`` ``[K, *x.shape]`` -> ``[K, *x.shape]``; vectorised (vmap) where the field's
    operators allow it, one backward pass per u otherwise (some layers cannot run under vmap)."""
    try:
        return torch.autograd.grad(v, x, grad_outputs=grads, is_grads_batched=True, retain_graph=True)[0]
    except RuntimeError:
        return torch.stack([torch.autograd.grad(v, x, grad_outputs=u, retain_graph=True)[0] for u in grads])


def divergence(field: Field, x: torch.Tensor, t: torch.Tensor, *, estimator: DivergenceEstimator = "hutchinson",
               probes: torch.Tensor | None = None, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """(v(x, t), div_x v(x, t) ``[B]``) for ``x`` ``[B, ...]``.

    ``"hutchinson"``: mean over ``probes`` ``[P, B, ...]`` of zᵀ (∂v/∂x) z (unbiased for Rademacher or Gaussian z).
    ``"exact"``: the trace of the Jacobian from one vector-Jacobian product per dimension, ``chunk`` at a time.

    Args:
        field: the velocity field.
        x: states ``[B, ...]``.
        t: times ``[B]``.
        estimator: ``"hutchinson"`` or ``"exact"``.
        probes: Hutchinson probes ``[P, B, ...]``.
        chunk: dimensions per batch of the exact trace.

    Returns:
        (v ``[B, ...]``, div v ``[B]`` float64).

    Raises:
        AudiospecError: an unknown estimator, or Hutchinson without probes of the right shape.
    """
    if estimator not in DIVERGENCE_ESTIMATORS:
        raise AudiospecError(f"unknown divergence estimator {estimator!r}; choose one of {DIVERGENCE_ESTIMATORS}")
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        v = field(x, t)
        if estimator == "hutchinson":
            if probes is None or tuple(probes.shape[1:]) != tuple(x.shape):
                raise AudiospecError(f"the Hutchinson estimate needs probes [P, *{tuple(x.shape)}], got "
                                     f"{None if probes is None else tuple(probes.shape)}")
            vjp = _vjps(v, x, probes.to(v.dtype))  # [P, B, ...]
            div = (vjp * probes.to(vjp.dtype)).flatten(2).sum(-1).mean(0)
        else:
            dims = x[0].numel()
            div = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
            for start in range(0, dims, chunk):
                idx = torch.arange(start, min(start + chunk, dims), device=x.device)
                basis = torch.zeros(idx.numel(), *x.shape, dtype=v.dtype, device=x.device)  # [c, B, ...]
                rows = torch.arange(idx.numel(), device=x.device)
                basis.view(idx.numel(), x.shape[0], dims)[rows, :, idx] = 1.0
                vjp = _vjps(v, x, basis).view(idx.numel(), x.shape[0], dims)
                div += vjp[rows, :, idx].sum(0).double()  # sum_i (e_iᵀ J)_i
    return v.detach(), div.detach().double()


def _rademacher(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=generator, device=generator.device if generator else device,
                         dtype=torch.int8).to(device=device, dtype=torch.float32).mul_(2).sub_(1)


def ode_log_likelihood(field: Field, x0: torch.Tensor, *, prior: NoisePrior, steps: int = 32,
                       estimator: DivergenceEstimator = "hutchinson", n_probes: int = 1,
                       generator: torch.Generator | None = None, t_min: float = 0.0,
                       time_power: float = 2.0) -> Likelihood:
    """Negative log-likelihood of data ``x0`` ``[B, C, F, T]`` under the model ``field`` with ``prior``, through the
    probability-flow ODE from ``t_min`` to 1 (RK4, ``steps`` steps, 4 field evaluations each; module doc).

    The grid is t_i = t_min + (1 − t_min) (i / steps) ** ``time_power``: dense near the data, where a mode of
    data power λ far below the prior's changes on the time scale √λ (uniform steps, ``time_power=1``, need
    ~10x more of them when the spectrum spans six decades).

    ``field(x, t)`` is the model's velocity (flow matching), e.g. a trained network or
    :class:`~audiospec.measures.gaussian.LinearGaussianVelocity`. ``n_probes`` Rademacher probes per datum,
    drawn once with ``generator``, estimate the divergence (``estimator="hutchinson"``). With ``t_min`` > 0 the
    result is −log p_{t_min}(x0), the density of the slightly noised data, not of the data itself.

    Args:
        field: the velocity field.
        x0: data ``[B, C, F, T]``.
        prior: the noise prior at t = 1.
        steps: RK4 steps.
        estimator: ``"hutchinson"`` or ``"exact"``.
        n_probes: Rademacher probes per datum.
        generator: randomness of the probes.
        t_min: the first time (0: the data itself).
        time_power: the grid's exponent, in [1, 4].

    Returns:
        The :class:`Likelihood` per datum.

    Raises:
        AudiospecError: data not ``[B, C, F, T]`` or not finite, or a bad count, ``t_min`` or ``time_power``.
    """
    check_finite(x0, name="data")
    if x0.ndim != 4:
        raise AudiospecError(f"data must be [B, C, F, T], got shape {tuple(x0.shape)}")
    if not isinstance(steps, int) or steps < 1:
        raise AudiospecError(f"steps must be a positive integer, got {steps!r}")
    if not isinstance(n_probes, int) or n_probes < 1:
        raise AudiospecError(f"n_probes must be a positive integer, got {n_probes!r}")
    if not 0.0 <= t_min < 1.0:
        raise AudiospecError(f"t_min must lie in [0, 1), got {t_min}")
    if not 1.0 <= time_power <= 4.0:
        raise AudiospecError(f"time_power must lie in [1, 4], got {time_power}")
    probes = (_rademacher((n_probes, *x0.shape), generator, x0.device) if estimator == "hutchinson" else None)

    def rhs(x: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
        return divergence(field, x, torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device),
                          estimator=estimator, probes=probes)

    x = x0.detach().float()
    integral = torch.zeros(x0.shape[0], dtype=torch.float64, device=x0.device)
    u = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    times = (t_min + (1.0 - t_min) * u**time_power).tolist()
    for t, s in zip(times[:-1], times[1:]):
        h = s - t
        k1, d1 = rhs(x, t)
        k2, d2 = rhs(x + 0.5 * h * k1, t + 0.5 * h)
        k3, d3 = rhs(x + 0.5 * h * k2, t + 0.5 * h)
        k4, d4 = rhs(x + h * k3, s)
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        integral += h / 6.0 * (d1 + 2.0 * d2 + 2.0 * d3 + d4)
    check_finite(x, name="ODE end point x_1 (the field diverged; try more steps)")
    prior_nll = -prior_log_density(prior, x)
    nll = prior_nll - integral
    dims = x0[0].numel()
    return Likelihood(nll=nll, bits_per_dim=_per_dim_bits(nll, dims), prior_nll=prior_nll, divergence=integral)
