r"""Spectral analysis of the deterministic sampler and schedule design (Benita, Elad & Keshet 2025, arXiv 2502.00180).

Setting (the paper's Gaussian, shift-invariant model, applied to our sampler). The data
x0 is a zero-mean stationary Gaussian field, so its orthonormal Fourier coefficients X0_k
are independent with variances lambda_k (its power spectrum); the prior noise eps has
spectrum S_k (:meth:`audiospec.diffusion.priors.NoisePrior.spectrum`). On the rectified-flow
path x_t = (1 - t) x0 + t eps every frequency evolves on its own:

    X_t = (1 - t) X0 + t E,     V_k(t) := Var X_t = (1 - t)^2 lambda_k + t^2 S_k.

The optimal (MMSE) denoiser is linear for Gaussians — the Wiener filter
E[X0 | X_t] = (1 - t) lambda_k / V_k(t) X_t, E[E | X_t] = t S_k / V_k(t) X_t — so the exact
velocity field v = E[eps - x0 | x_t] is a convolution, diagonal in Fourier space:

    v_k(X, t) = c_k(t) X,     c_k(t) = (t S_k - (1 - t) lambda_k) / V_k(t) = V_k'(t) / (2 V_k(t)).

The exact ODE dX/dt = c_k(t) X gives X_t = X_1 sqrt(V_k(t) / V_k(1)), so X_0 = sqrt(lambda_k / S_k) X_1
has variance lambda_k: only the time discretisation makes the sampler wrong.

Per-step gains. On the grid 1 = t_0 > t_1 > ... > t_N = 0, h_i = t_{i+1} - t_i < 0, writing
c_i = c_k(t_i):

- Euler,  X_{i+1} = X_i + h_i c_i X_i:                           g_i(k) = 1 + h_i c_i
- Heun,   X~ = (1 + h_i c_i) X_i,  X_{i+1} = X_i + h_i/2 (c_i X_i + c_{i+1} X~):
                                   g_i(k) = 1 + h_i/2 (c_i + c_{i+1}) + h_i^2/2 c_i c_{i+1}

Transfer function and output spectrum (the paper's "spectral transfer function" for this sampler):

    H_k = prod_{i=0}^{N-1} g_i(k),     X_N = H_k X_{t_0},     Var X_N = H_k^2 S_k     (X_{t_0} = E ~ N(0, S_k)).

Schedule design: choose the grid so that N(0, diag H^2 S) is close to N(0, diag lambda):

- ``"w2"``: W_2^2 = sum_k w_k (|H_k| sqrt(S_k) - sqrt(lambda_k))^2  (commuting covariances);
- ``"kl"``: KL(N(0, H^2 S) || N(0, lambda)) = 1/2 sum_k w_k (r_k - 1 - log r_k), r_k = H_k^2 S_k / lambda_k.

w_k counts how many full-plane bins an rfft bin stands for
(:func:`audiospec.functional.noise.hermitian_weights`); default 1. Grids are parameterised
as t_i = 1 - sum_{j < i} softmax(theta)_j (positive increments summing to one, so every
theta gives a valid strictly decreasing grid with t_0 = 1, t_N = 0) and theta is optimised
with L-BFGS in float64 from the uniform grid (theta = 0).

All inputs are per-frequency tensors of any (common, broadcastable) shape, e.g. the rfft
grid ``[F, T // 2 + 1]``; computations are in float64.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch

from audiospec.diffusion.samplers import check_time_grid, uniform_time_grid
from audiospec.errors import AudiospecError

__all__ = [
    "ODESolver",
    "Divergence",
    "velocity_gain",
    "step_gains",
    "transfer_function",
    "output_spectrum",
    "gaussian_divergence",
    "grid_from_logits",
    "optimize_schedule",
]

ODESolver = Literal["euler", "heun"]
Divergence = Literal["w2", "kl"]
_SOLVERS: tuple[str, ...] = get_args(ODESolver)
_DIVERGENCES: tuple[str, ...] = get_args(Divergence)


def _variances(data_variance: torch.Tensor, noise_variance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    lam = torch.as_tensor(data_variance, dtype=torch.float64)
    S = torch.as_tensor(noise_variance, dtype=torch.float64)
    for name, v in (("data variance lambda_k", lam), ("noise spectrum S_k", S)):
        if not bool(torch.isfinite(v).all()) or bool((v <= 0).any()):
            raise AudiospecError(f"{name} must be finite and strictly positive at every frequency (floor it), "
                                 f"got min {float(v.min())}")
    try:
        lam, S = torch.broadcast_tensors(lam, S)
    except RuntimeError:
        raise AudiospecError(
            f"data variance shape {tuple(lam.shape)} and noise spectrum shape {tuple(S.shape)} do not broadcast"
        ) from None
    return lam, S


def velocity_gain(t: torch.Tensor, *, data_variance: torch.Tensor, noise_variance: torch.Tensor) -> torch.Tensor:
    """c_k(t) = (t S_k - (1 - t) lambda_k) / ((1 - t)^2 lambda_k + t^2 S_k): ``[*t.shape, *K]`` float64.

    Args:
        t: times ``[*t]`` in [0, 1] (a float works too).
        data_variance: lambda_k ``[*K]``, finite and positive.
        noise_variance: S_k ``[*K]`` (or broadcastable), finite and positive.

    Returns:
        c_k(t) ``[*t, *K]`` float64.

    Raises:
        AudiospecError: variances that are not finite and positive, or shapes that do not broadcast.
    """
    lam, S = _variances(data_variance, noise_variance)
    t = torch.as_tensor(t, dtype=torch.float64)
    t = t.reshape(*t.shape, *([1] * lam.ndim))  # [..., 1, ..., 1] against [*K]
    return (t * S - (1.0 - t) * lam) / ((1.0 - t) ** 2 * lam + t**2 * S)


def step_gains(
    times: torch.Tensor, *, data_variance: torch.Tensor, noise_variance: torch.Tensor, solver: ODESolver = "euler"
) -> torch.Tensor:
    """g_i(k) of each step of the grid ``times`` ``[N + 1]``: ``[N, *K]`` (module doc). Differentiable in ``times``.

    Args:
        times: the grid ``[N + 1]``, decreasing from 1 to 0.
        data_variance: lambda_k ``[*K]``, positive.
        noise_variance: S_k ``[*K]``, positive.
        solver: ``"euler"`` or ``"heun"``.

    Returns:
        The per-step gains ``[N, *K]`` float64.

    Raises:
        AudiospecError: an unknown solver, or variances rejected by :func:`velocity_gain`.
    """
    if solver not in _SOLVERS:
        raise AudiospecError(f"unknown ODE solver {solver!r}; choose one of {_SOLVERS}")
    times = torch.as_tensor(times, dtype=torch.float64)
    c = velocity_gain(times, data_variance=data_variance, noise_variance=noise_variance)  # [N + 1, *K]
    h = (times[1:] - times[:-1]).reshape(-1, *([1] * (c.ndim - 1)))  # [N, 1, ...]
    c_now, c_next = c[:-1], c[1:]
    if solver == "euler":
        return 1.0 + h * c_now
    return 1.0 + 0.5 * h * (c_now + c_next) + 0.5 * h**2 * c_now * c_next


def transfer_function(
    times: torch.Tensor, *, data_variance: torch.Tensor, noise_variance: torch.Tensor, solver: ODESolver = "euler"
) -> torch.Tensor:
    """H_k = prod_i g_i(k) for the grid ``times`` ``[N + 1]``: ``[*K]`` float64.

    Args:
        times: the grid ``[N + 1]``.
        data_variance: lambda_k ``[*K]``, positive.
        noise_variance: S_k ``[*K]``, positive.
        solver: ``"euler"`` or ``"heun"``.

    Returns:
        H_k ``[*K]`` float64 (the exact ODE gives sqrt(lambda_k / S_k)).

    Raises:
        AudiospecError: as :func:`step_gains`.
    """
    return step_gains(times, data_variance=data_variance, noise_variance=noise_variance, solver=solver).prod(dim=0)


def output_spectrum(
    times: torch.Tensor, *, data_variance: torch.Tensor, noise_variance: torch.Tensor, solver: ODESolver = "euler"
) -> torch.Tensor:
    """H_k^2 S_k: the power spectrum of the sampler's output under the Gaussian model, ``[*K]``.

    Args:
        times: the grid ``[N + 1]``.
        data_variance: lambda_k ``[*K]``, positive.
        noise_variance: S_k ``[*K]``, positive.
        solver: ``"euler"`` or ``"heun"``.

    Returns:
        Var X_N per frequency ``[*K]`` float64.

    Raises:
        AudiospecError: as :func:`step_gains`.
    """
    _, S = _variances(data_variance, noise_variance)
    H = transfer_function(times, data_variance=data_variance, noise_variance=noise_variance, solver=solver)
    return H**2 * S


def gaussian_divergence(
    output_variance: torch.Tensor,
    data_variance: torch.Tensor,
    *,
    divergence: Divergence = "w2",
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """W_2^2 or KL(output || data) between zero-mean Gaussians diagonal in one basis (module doc): a scalar.

    Args:
        output_variance: the sampler's output variance per frequency ``[*K]``.
        data_variance: lambda_k ``[*K]``, positive.
        divergence: ``"w2"`` or ``"kl"``.
        weights: multiplicities w_k ``[*K]`` (default 1).

    Returns:
        The weighted sum over frequencies, a float64 scalar tensor ``[]``.

    Raises:
        AudiospecError: an unknown divergence.
    """
    if divergence not in _DIVERGENCES:
        raise AudiospecError(f"unknown divergence {divergence!r}; choose one of {_DIVERGENCES}")
    out = torch.as_tensor(output_variance, dtype=torch.float64)
    lam = torch.as_tensor(data_variance, dtype=torch.float64)
    w = torch.ones_like(lam) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    if divergence == "w2":
        per_freq = (out.clamp_min(0.0).sqrt() - lam.sqrt()) ** 2
    else:
        ratio = out / lam
        per_freq = 0.5 * (ratio - 1.0 - torch.log(ratio.clamp_min(1e-300)))
    return (w * per_freq).sum()


def grid_from_logits(theta: torch.Tensor) -> torch.Tensor:
    """t_i = 1 - sum_{j < i} softmax(theta)_j: ``[N] -> [N + 1]``, t_0 = 1 > ... > t_N = 0 (float64).

    Args:
        theta: unconstrained logits ``[N]`` (0 everywhere gives the uniform grid).

    Returns:
        The grid ``[N + 1]`` float64, strictly decreasing from exactly 1 to exactly 0.
    """
    increments = torch.softmax(theta.to(torch.float64), dim=0)  # [N], positive, sum 1
    t = 1.0 - torch.cat([increments.new_zeros(1), torch.cumsum(increments, 0)])  # [N + 1]
    return torch.cat([t[:-1], t.new_zeros(1)])  # exact 0 at the end


def optimize_schedule(
    data_variance: torch.Tensor,
    noise_variance: torch.Tensor,
    n_steps: int,
    *,
    divergence: Divergence = "w2",
    solver: ODESolver = "euler",
    weights: torch.Tensor | None = None,
    max_iter: int = 500,
) -> torch.Tensor:
    """The grid 1 = t_0 > ... > t_N = 0 minimising the divergence between N(0, H^2 S) and N(0, lambda).

    ``data_variance`` lambda_k and ``noise_variance`` S_k: per-frequency tensors (e.g. the rfft
    grid ``[F, T // 2 + 1]`` from :func:`audiospec.functional.estimate_spectrum` and the
    prior's ``spectrum``), ``weights`` their multiplicities. L-BFGS (strong Wolfe line search)
    starts from the uniform grid, so the result is never worse than it. Returns
    ``[n_steps + 1]`` float64.

    Args:
        data_variance: lambda_k ``[*K]``, e.g. ``[F, T // 2 + 1]``, positive.
        noise_variance: S_k ``[*K]``, positive.
        n_steps: number of steps N, a positive integer.
        divergence: ``"w2"`` or ``"kl"``.
        solver: ``"euler"`` or ``"heun"``, the sampler the grid is for.
        weights: multiplicities w_k ``[*K]`` (e.g. :func:`audiospec.functional.hermitian_weights`).
        max_iter: L-BFGS iterations, >= 1.

    Returns:
        The grid ``[n_steps + 1]`` float64.

    Raises:
        AudiospecError: a bad ``n_steps``, divergence or ``max_iter``, or invalid variances.
    """
    if not isinstance(n_steps, int) or n_steps < 1:
        raise AudiospecError(f"n_steps must be a positive integer, got {n_steps!r}")
    if divergence not in _DIVERGENCES:
        raise AudiospecError(f"unknown divergence {divergence!r}; choose one of {_DIVERGENCES}")
    if max_iter < 1:
        raise AudiospecError(f"max_iter must be >= 1, got {max_iter}")
    lam, S = _variances(data_variance, noise_variance)
    w = torch.ones_like(lam) if weights is None else torch.as_tensor(weights, dtype=torch.float64).expand_as(lam)
    scale = w.sum()  # optimise the per-element mean: better conditioned line searches

    def objective(times: torch.Tensor) -> torch.Tensor:
        out = output_spectrum(times, data_variance=lam, noise_variance=S, solver=solver)
        return gaussian_divergence(out, lam, divergence=divergence, weights=w) / scale

    uniform = uniform_time_grid(n_steps)
    if n_steps == 1:
        return uniform
    theta = torch.zeros(n_steps, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [theta], lr=1.0, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe",
        tolerance_grad=1e-14, tolerance_change=1e-16,
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = objective(grid_from_logits(theta))
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    best = grid_from_logits(theta.detach())
    with torch.no_grad():  # guard against a failed line search leaving a worse or invalid point
        if not bool(torch.isfinite(best).all()) or float(objective(best)) > float(objective(uniform)):
            return uniform
    return check_time_grid(best)
