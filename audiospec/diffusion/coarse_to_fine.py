"""Explicit coarse-to-fine generative models: cepstral autoregression and heat dissipation (issue 14).

"Diffusion on spectrograms is cepstral autoregression" is tested against the models it is
compared with in words. Both baselines are one *frequency-scheduled interpolant* in an
orthonormal DCT basis B (``c = B x``), trained and sampled with the same U-Net, optimiser,
budget and number of network evaluations (NFE) as a diffusion model:

    c_s = alpha(s) * c0 + sigma(s) * c_eps,    c0 = B x0,  c_eps = B eps (eps white),  x_s = B^T c_s

with s from 0 (data) to 1 (the process's prior) and alpha, sigma one number per coefficient.

- ``"cepstral_ar"`` (:class:`CepstralAR`): B = DCT-II along mel, the cepstrum. The quefrency
  axis is cut into the commit measure's bands (the DC coefficient, then the log-spaced bands
  of :func:`audiospec.functional.cepstrum.quefrency_bands`), K bands in all. Band k is generated
  in stage k, s in [1 - (k + 1)/K, 1 - k/K], by linear flow matching from white noise:
  tau_k(s) = clip(K s - (K - 1 - k), 0, 1), alpha = 1 - tau, sigma = tau. In stage k the bands
  below k are clean (already generated) and those above are pure noise (no information), so
  stage k is a conditional flow-matching model of band k given every lower band: an
  autoregressive model over quefrency bands whose K conditionals share one network (the stage
  is read off s). The network predicts the velocity c_eps - c0 of the active band; the loss is
  its mean squared error over that band's coefficients only.
- ``"heat"`` (:class:`HeatDissipation`; Rissanen, Heinonen & Solin 2023, IHDM): B = 2-D DCT,
  the eigenbasis of the heat equation with reflecting boundaries; alpha_k(s) = exp(-lambda_k
  t_h(s)) with lambda_{k,l} = pi^2 (k^2 / M^2 + l^2 / T^2) and t_h(s) = sigma_min^2
  ((sigma_max / sigma_min)^{2 s} - 1) / 2 (the equivalent Gaussian blur's std grows
  geometrically to ``sigma_max`` bins, t_h(0) = 0); sigma(s) = ``noise`` for every coefficient:
  a deterministic blur plus a little Gaussian noise. The network predicts x0 (mean squared
  error over all coefficients, as IHDM's). The prior at s = 1 is the blurred patch
  alpha(1) * (m + d * z) + noise * eps, with m, d the training split's mean and standard
  deviation per 2-D DCT coefficient (:func:`coefficient_stats`) (IHDM draws it from a density estimate of blurred
  training images; a Gaussian here, exact in distribution for nothing but what survives the blur).

Training time: ``t`` from the run's timestep sampler becomes s = (K - 1 - k + t) / K with the
stage k uniform (cepstral AR: every band gets the same share of the steps) or s = t (heat).

Sampling (:func:`sample_process`, one sampler for both, in the DDIM form): on a grid
1 = s_0 > s_1 > ... > s_N = 0, per coefficient

    c0_hat = the network's data prediction at (x_s, s)
    eps_hat = (c - alpha(s) c0_hat) / sigma(s)          (0 where sigma(s) = 0)
    c' = alpha(s') c0_hat + sigma(s') (sqrt(1 - eta^2) eps_hat + eta z),  z ~ N(0, I) fresh

and the last step returns c0_hat. With ``eta = 0`` this is Euler on the velocity for the
linear cepstral interpolant and the improved cold-diffusion sampler (Bansal et al. 2023,
Alg. 2) for heat; ``eta = 1`` is IHDM's sampler (fresh noise of the training level each step,
its delta = sigma). NFE = N; a step may span several cepstral stages (then those bands are
drawn jointly). Shapes: x ``[B, C, M, T]``, s ``[B]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch

from audiospec.diffusion.losses import Model
from audiospec.diffusion.path import COARSE_TO_FINE
from audiospec.diffusion.samplers import StepCallback, model_device, _sampling_grid
from audiospec.errors import AudiospecError
from audiospec.functional.cepstrum import dct_matrix, quefrency_bands

__all__ = [
    "COARSE_TO_FINE",
    "CoarseToFineConfig",
    "CepstralAR",
    "HeatDissipation",
    "Process",
    "make_process",
    "process_loss",
    "sample_process",
    "coefficient_stats",
    "GaussianModel",
]



@dataclass(frozen=True)
class CoarseToFineConfig:
    """Settings of the coarse-to-fine objectives (YAML ``train.coarse_to_fine``; unused by diffusion objectives).

    ``n_bands``: the cepstral model's log-spaced quefrency bands (plus the DC band), as the commit
    measure's ``order.n_bands``. ``sigma_min`` / ``sigma_max``: the heat model's blur std (bins)
    at the first / last time; ``noise``: its training noise std (model space: unit-variance data).
    """

    n_bands: int = 8
    sigma_min: float = 0.5
    sigma_max: float = 48.0
    noise: float = 0.02

    def __post_init__(self) -> None:
        if not isinstance(self.n_bands, int) or self.n_bands < 2:
            raise AudiospecError(f"coarse_to_fine.n_bands must be an integer >= 2, got {self.n_bands!r}")
        if not 0 < self.sigma_min < self.sigma_max:
            raise AudiospecError(f"coarse_to_fine needs 0 < sigma_min < sigma_max, got {self.sigma_min}, "
                                 f"{self.sigma_max}")
        if not 0 < self.noise < 1:
            raise AudiospecError(f"coarse_to_fine.noise must lie in (0, 1) (a std in units of the data's), "
                                 f"got {self.noise}")


def _dct(n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return dct_matrix(n, device=device, dtype=dtype)  # [n, n]: c = D^T x along an axis of n, x = D c


class Process(Protocol):
    """A frequency-scheduled interpolant (module doc): its basis, per-coefficient schedule and parametrisation."""

    kind: str
    eta: float  # the sampler's default stochasticity

    def to_coefficients(self, x: torch.Tensor) -> torch.Tensor: ...
    def from_coefficients(self, c: torch.Tensor) -> torch.Tensor: ...
    def schedule(self, s: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, sigma) per datum and coefficient, broadcastable to ``[B, 1, M, T]`` (float64)."""
        ...
    def training_time(self, t: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor: ...
    def data_prediction(self, output: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """c0_hat from the network output (coefficients) at state ``c`` and time ``s`` ``[B]``."""
        ...
    def output_for(self, c0_hat: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The network output (coefficients) whose data prediction is ``c0_hat``: the inverse of the above."""
        ...
    def loss(self, output: torch.Tensor, c0: torch.Tensor, c_eps: torch.Tensor, s: torch.Tensor) -> torch.Tensor: ...


def _broadcast(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return values.to(device=like.device, dtype=like.dtype)


@dataclass(frozen=True)
class CepstralAR:
    """Band-by-band linear flow matching along quefrency (module doc); ``n_bands`` log-spaced bands + DC."""

    n_mels: int
    n_bands: int = 8
    eta: float = 0.0
    kind: str = "cepstral_ar"

    def __post_init__(self) -> None:
        if self.n_mels < 3:
            raise AudiospecError(f"the cepstral model needs at least 3 mel bins, got {self.n_mels}")

    @property
    def bands(self) -> list[tuple[int, int]]:
        """(start, stop) DCT coefficients of each stage's band, DC first: the band swap's and commit measure's."""
        return quefrency_bands(self.n_mels, n_bands=self.n_bands)

    @property
    def n_stages(self) -> int:
        return len(self.bands)

    def band_index(self) -> torch.Tensor:
        """The stage of every DCT coefficient along mel: ``[M]`` long."""
        index = torch.empty(self.n_mels, dtype=torch.long)
        for k, (a, b) in enumerate(self.bands):
            index[a:b] = k
        return index

    def to_coefficients(self, x: torch.Tensor) -> torch.Tensor:
        return _dct(x.shape[-2], x.device, x.dtype).T @ x  # [M, M] @ [..., M, T]

    def from_coefficients(self, c: torch.Tensor) -> torch.Tensor:
        return _dct(c.shape[-2], c.device, c.dtype) @ c

    def tau(self, s: torch.Tensor) -> torch.Tensor:
        """Noise fraction per datum and coefficient: ``[B] -> [B, 1, M, 1]`` float64."""
        K = self.n_stages
        k = self.band_index().to(torch.float64)  # [M]
        tau = (K * s.double().cpu()[:, None] - (K - 1 - k)[None, :]).clamp(0.0, 1.0)  # [B, M]
        return tau[:, None, :, None]

    def schedule(self, s: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        tau = self.tau(s)
        return 1.0 - tau, tau

    def training_time(self, t: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """s = (K - 1 - k + t) / K with the stage k uniform over the K bands (drawn on the CPU from ``generator``)."""
        K = self.n_stages
        k = torch.randint(K, (t.shape[0],), generator=generator).to(t.device, t.dtype)
        return (K - 1 - k + t) / K

    def data_prediction(self, output: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return c - _broadcast(self.tau(s), c) * output  # c0 = c_s - tau v on the active band; exact elsewhere

    def output_for(self, c0_hat: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """v = (c - c0_hat) / tau where tau > 0; 0 on the clean bands (their prediction is c itself)."""
        tau = _broadcast(self.tau(s), c)
        return torch.where(tau > 0, (c - c0_hat) / tau.clamp_min(1e-12), torch.zeros_like(c))

    def active(self, s: torch.Tensor) -> torch.Tensor:
        """Coefficients being generated at ``s``: 0 < tau < 1, ``[B, 1, M, 1]`` bool."""
        tau = self.tau(s)
        return (tau > 0) & (tau < 1)

    def loss(self, output: torch.Tensor, c0: torch.Tensor, c_eps: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of each datum's mean squared velocity error over its active band."""
        mask = self.active(s).to(device=output.device, dtype=output.dtype).expand_as(output)  # [B, C, M, T]
        error = (output - (c_eps - c0)).square() * mask
        per_datum = error.flatten(1).sum(1) / mask.flatten(1).sum(1).clamp_min(1.0)
        return per_datum.mean()


@dataclass(frozen=True)
class HeatDissipation:
    """Blur by the heat equation plus constant noise, x0-prediction (module doc)."""

    sigma_min: float = 0.5
    sigma_max: float = 48.0
    noise: float = 0.02
    eta: float = 1.0
    kind: str = "heat"

    def heat_time(self, s: torch.Tensor) -> torch.Tensor:
        """t_h(s) = sigma_min^2 ((sigma_max / sigma_min)^{2 s} - 1) / 2, float64 ``[B]``."""
        ratio = math.log(self.sigma_max / self.sigma_min)
        return self.sigma_min**2 * torch.expm1(2.0 * ratio * s.double().cpu()) / 2.0

    @staticmethod
    def eigenvalues(shape: tuple[int, int]) -> torch.Tensor:
        """lambda_{k,l} = pi^2 (k^2 / M^2 + l^2 / T^2): ``[M, T]`` float64."""
        M, T = shape
        k = torch.arange(M, dtype=torch.float64)[:, None] / M
        l = torch.arange(T, dtype=torch.float64)[None, :] / T
        return math.pi**2 * (k.square() + l.square())

    def to_coefficients(self, x: torch.Tensor) -> torch.Tensor:
        return _dct2(x)

    def from_coefficients(self, c: torch.Tensor) -> torch.Tensor:
        return _idct2(c)

    def schedule(self, s: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        alpha = torch.exp(-self.eigenvalues(shape)[None, None] * self.heat_time(s)[:, None, None, None])  # [B,1,M,T]
        return alpha, torch.full((s.shape[0], 1, 1, 1), self.noise, dtype=torch.float64)

    def training_time(self, t: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """s = t: the run's timestep sampler directly."""
        return t

    def data_prediction(self, output: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return output

    def output_for(self, c0_hat: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return c0_hat

    def loss(self, output: torch.Tensor, c0: torch.Tensor, c_eps: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return (output - c0).square().mean()


def make_process(kind: str, config: CoarseToFineConfig, *, n_mels: int) -> Process:
    """The process of objective ``kind`` (``"cepstral_ar"`` or ``"heat"``) for patches of ``n_mels`` mel bins."""
    if kind == "cepstral_ar":
        return CepstralAR(n_mels=n_mels, n_bands=config.n_bands)
    if kind == "heat":
        return HeatDissipation(sigma_min=config.sigma_min, sigma_max=config.sigma_max, noise=config.noise)
    raise AudiospecError(f"unknown coarse-to-fine objective {kind!r}; choose one of {COARSE_TO_FINE}")


def _noisy(process: Process, c0: torch.Tensor, c_eps: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    alpha, sigma = process.schedule(s, tuple(c0.shape[-2:]))
    return _broadcast(alpha, c0) * c0 + _broadcast(sigma, c0) * c_eps


def process_loss(model: Model, process: Process, x0: torch.Tensor, *, s: torch.Tensor, eps: torch.Tensor
                 ) -> torch.Tensor:
    """The training loss of one batch ``x0`` ``[B, C, M, T]`` at times ``s`` ``[B]`` with white ``eps`` (module doc).

    Deterministic given ``s`` and ``eps`` (drawn by the caller; ``s`` through
    :meth:`Process.training_time`). The network sees x_s in pixel space and its output is read
    in the process's basis.
    """
    if x0.shape != eps.shape:
        raise AudiospecError(f"x0 shape {tuple(x0.shape)} and eps shape {tuple(eps.shape)} differ")
    if s.shape != (x0.shape[0],):
        raise AudiospecError(f"s must have shape [B] = [{x0.shape[0]}], got {tuple(s.shape)}")
    c0, c_eps = process.to_coefficients(x0.float()), process.to_coefficients(eps.float())
    x_s = process.from_coefficients(_noisy(process, c0, c_eps, s))
    output = process.to_coefficients(model(x_s.to(x0.dtype), s.to(x0.dtype)).float())
    return process.loss(output, c0, c_eps, s)


def _dct2(x: torch.Tensor) -> torch.Tensor:
    M, T = x.shape[-2:]
    return _dct(M, x.device, x.dtype).T @ x @ _dct(T, x.device, x.dtype)


def _idct2(c: torch.Tensor) -> torch.Tensor:
    M, T = c.shape[-2:]
    return _dct(M, c.device, c.dtype) @ c @ _dct(T, c.device, c.dtype).T


def coefficient_stats(patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std per 2-D DCT coefficient of training ``patches`` ``[N, C, M, T]`` (``[C, M, T]`` each): the heat
    model's prior at s = 1 and the moments of :class:`GaussianModel`."""
    c = _dct2(patches.double())
    return c.mean(0), c.std(0)


class GaussianModel:
    """The exact network of a process for data with independent Gaussian 2-D DCT coefficients.

    c0 ~ N(mean, var) per coefficient of the 2-D DCT (``[C, M, T]`` each, e.g. from
    :func:`coefficient_stats`: the Gaussian closest to the training split that is diagonal in that
    basis). Both schedules are diagonal there too (the cepstral one depends on the quefrency
    alone, so the DCT along time commutes with it), hence E[c0 | c_s] = mean + alpha var /
    (alpha^2 var + sigma^2) (c_s - alpha mean) per coefficient, returned in the process's
    parametrisation (in pixel space, like a network). The known answer of the tests and the
    calibration of the ``baselines`` stage: sampled with ``eta = 0`` on a fine grid it reproduces
    N(mean, var) (the sampler follows the probability flow of the interpolant).
    """

    def __init__(self, process: Process, mean: torch.Tensor, var: torch.Tensor) -> None:
        if mean.shape != var.shape or bool((var < 0).any()):
            raise AudiospecError(f"mean {tuple(mean.shape)} and var {tuple(var.shape)} must have the same shape, "
                                 "var >= 0")
        self.process, self.mean, self.var = process, mean.double(), var.double()

    def __call__(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        c = _dct2(x.double())  # [B, C, M, T]
        s = s.double().cpu()
        alpha, sigma = (_broadcast(v, c) for v in self.process.schedule(s, tuple(x.shape[-2:])))
        mean, var = _broadcast(self.mean, c), _broadcast(self.var, c)
        denominator = alpha.square() * var + sigma.square()
        gain = torch.where(denominator > 0, alpha * var / denominator.clamp_min(1e-300), torch.zeros_like(c))
        c0_hat = mean + gain * (c - alpha * mean)
        return _idct2(self.process.output_for(c0_hat, c, s)).to(x.dtype)  # output_for is diagonal in this basis


@torch.no_grad()
def sample_process(
    model: Model,
    process: Process,
    *,
    n: int,
    shape: tuple[int, int],
    steps: int | None = None,
    times: torch.Tensor | None = None,
    stats: tuple[torch.Tensor, torch.Tensor] | None = None,
    channels: int = 1,
    eta: float | None = None,
    generator: torch.Generator | None = None,
    callback: StepCallback | None = None,
    batch_size: int | None = None,
) -> torch.Tensor:
    """Generate ``n`` patches ``[n, channels, M, T]`` in ``steps`` network evaluations (module doc, Sampling).

    ``stats`` (mean, std per 2-D DCT coefficient, :func:`coefficient_stats` of the training
    patches) is needed where alpha(1) is not 0 (heat); ``eta`` defaults to the process's (0 cepstral, 1 heat).
    The callback sees (i, s_i, x_i, x0_hat_i) as the diffusion samplers' does. All random draws
    (initial noise, then per chunk the fresh noise) come from ``generator`` on the CPU.
    """
    times = _sampling_grid(times, steps=steps, sampler="euler")
    if float(times[0]) != 1.0 or float(times[-1]) != 0.0:
        raise AudiospecError(f"a coarse-to-fine grid must run from s = 1 to s = 0, got {times.tolist()}")
    eta = process.eta if eta is None else float(eta)
    if not 0.0 <= eta <= 1.0:
        raise AudiospecError(f"eta must lie in [0, 1], got {eta}")
    if not isinstance(n, int) or n < 1:
        raise AudiospecError(f"n (number of samples) must be a positive integer, got {n!r}")
    device = model_device(model, None)
    size = (n, channels, *shape)
    alpha1, sigma1 = process.schedule(torch.ones(1, dtype=torch.float64), tuple(shape))
    c1 = sigma1.float() * torch.randn(size, generator=generator)
    if bool((alpha1 > 1e-6).any()):
        if stats is None:
            raise AudiospecError(f"the {process.kind} process keeps part of the data at s = 1; pass stats="
                                 "coefficient_stats(training_patches) for its prior")
        mean, std = (v.float().cpu() for v in stats)
        c1 = c1 + alpha1.float() * (mean + std * torch.randn(size, generator=generator))
    chunk = n if batch_size is None else batch_size
    out = [_integrate(model, process, c1[i:i + chunk].to(device), times, eta, generator, callback)
           for i in range(0, n, chunk)]
    return torch.cat(out).cpu()


def _integrate(model: Model, process: Process, c: torch.Tensor, times: torch.Tensor, eta: float,
               generator: torch.Generator | None, callback: StepCallback | None) -> torch.Tensor:
    grid = times.tolist()
    shape = tuple(c.shape[-2:])
    for i in range(len(grid) - 1):
        s = torch.full((c.shape[0],), grid[i], dtype=torch.float64)
        x = process.from_coefficients(c)
        output = process.to_coefficients(model(x, s.to(device=x.device, dtype=x.dtype)).float())
        c0_hat = process.data_prediction(output, c, s)
        if callback is not None:
            callback(i, grid[i], x, process.from_coefficients(c0_hat))
        if i == len(grid) - 2:
            return process.from_coefficients(c0_hat)
        alpha, sigma = (_broadcast(v, c) for v in process.schedule(s, shape))
        alpha_next, sigma_next = (_broadcast(v, c) for v in process.schedule(torch.full_like(s, grid[i + 1]), shape))
        eps_hat = torch.where(sigma > 0, (c - alpha * c0_hat) / sigma.clamp_min(1e-12), torch.zeros_like(c))
        if eta > 0:
            z = torch.randn(c.shape, generator=generator).to(c.device)
            eps_hat = math.sqrt(1.0 - eta**2) * eps_hat + eta * z
        c = alpha_next * c0_hat + sigma_next * eps_hat
    raise AssertionError("unreachable: a grid has at least one step")  # pragma: no cover
