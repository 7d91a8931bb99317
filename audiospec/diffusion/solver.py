"""One solver for every process: integrate from the prior (t = 1) to data (t = 0) on a time grid.

As ``flow_matching``'s ``ODESolver(velocity_model).sample(x_init, time_grid=...)`` never asks which path it
integrates, :func:`integrate` and :func:`solve` never ask which process they run: the process
(:mod:`audiospec.diffusion.processes`) says how one step goes (:meth:`Process.step`), what its state looks like
as a patch (:meth:`Process.view`), where its default grid starts (:meth:`Process.time_grid`) and how its
initial state is drawn (:meth:`Process.initial`). On a decreasing grid 1 = t_0 > t_1 > ... > t_N = 0:

    state_0 = initial;  for i = 0 .. N - 1:  state_{i+1}, x0_hat_i = step(model, state_i, grid, i)
                                             callback(i, t_i, view(state_i), view(x0_hat_i))

and the result is view(state_N). Shapes: a patch batch ``[B, C, M, T]``; the model is called as
``model(x [B, C, M, T], t [B])``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import torch

from audiospec.errors import AudiospecError

if TYPE_CHECKING:
    from audiospec.diffusion.processes.base import Model, Process

__all__ = ["StepCallback", "check_time_grid", "integrate", "model_device", "solve", "uniform_time_grid"]

StepCallback = Callable[[int, float, torch.Tensor, torch.Tensor], None]
"""on_step(i, t_i, x_t ``[B, ...]``, x0_hat ``[B, ...]``)."""


def uniform_time_grid(n_steps: int, *, t_max: float = 1.0, t_min: float = 0.0) -> torch.Tensor:
    """Equally spaced times t_max = t_0 > ... > t_N = t_min: ``[n_steps + 1]`` float64.

    Args:
        n_steps: number of steps N, a positive integer.
        t_max: first time (noise end), <= 1.
        t_min: last time (data end), >= 0 and < ``t_max``.

    Returns:
        The grid ``[n_steps + 1]`` (float64), decreasing.

    Raises:
        AudiospecError: ``n_steps`` not a positive integer, or not 0 <= t_min < t_max <= 1.
    """
    if not isinstance(n_steps, int) or n_steps < 1:
        raise AudiospecError(f"the number of sampling steps must be a positive integer, got {n_steps!r}")
    if not 0.0 <= t_min < t_max <= 1.0:
        raise AudiospecError(f"need 0 <= t_min < t_max <= 1, got t_min={t_min}, t_max={t_max}")
    return torch.linspace(t_max, t_min, n_steps + 1, dtype=torch.float64)


def check_time_grid(times: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """Validate a sampling grid: 1-D, >= 2 points in [0, 1], strictly decreasing. Returns float64 CPU ``[N + 1]``.

    Args:
        times: the grid ``[N + 1]``, a tensor or a sequence of floats.

    Returns:
        The grid as a float64 CPU tensor ``[N + 1]``.

    Raises:
        AudiospecError: not 1-D with >= 2 points, times outside [0, 1] or not finite, or not
            strictly decreasing.
    """
    times = torch.as_tensor(times, dtype=torch.float64).detach().cpu()
    if times.ndim != 1 or times.numel() < 2:
        raise AudiospecError(f"a time grid must be 1-D with at least 2 points, got shape {tuple(times.shape)}")
    if not bool(torch.isfinite(times).all()) or float(times.min()) < 0.0 or float(times.max()) > 1.0:
        raise AudiospecError(f"grid times must lie in [0, 1], got {times.tolist()}")
    if bool((times[1:] >= times[:-1]).any()):
        raise AudiospecError(f"grid times must decrease strictly from noise (t=1) to data (t=0), got {times.tolist()}")
    return times


def model_device(model: object, device: torch.device | str | None) -> torch.device:
    """Where a model's inputs go.

    Args:
        model: a network (``nn.Module``) or any callable field.
        device: an explicit device, or None.

    Returns:
        ``device`` when given, else the device of the first parameter of an ``nn.Module``, else the CPU.
    """
    if device is not None:
        return torch.device(device)
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            return p.device
    return torch.device("cpu")


def _grid(process: Process, times: torch.Tensor | None, steps: int | None) -> torch.Tensor:
    """The checked grid ``[N + 1]``: ``times``, else the process's default grid of ``steps`` steps."""
    if times is None:
        if steps is None:
            raise AudiospecError("give the number of sampling steps (steps=...) or a time grid (times=...)")
        times = process.time_grid(steps)
    times = check_time_grid(times)
    if steps is not None and steps != times.numel() - 1:
        raise AudiospecError(f"steps={steps} disagrees with the time grid, which has {times.numel() - 1} steps")
    return process.check_grid(times)


def integrate(process: Process, model: Model, state: torch.Tensor, *, times: torch.Tensor,
              generator: torch.Generator | None = None, callback: StepCallback | None = None) -> torch.Tensor:
    """Run ``process``'s steps along ``times`` from ``state`` (module doc).

    Args:
        process: the process (:mod:`audiospec.diffusion.processes`).
        model: the network, ``model(x [B, C, M, T], t [B])`` -> ``[B, C, M, T]``.
        state: the process's state at ``times[0]`` ``[B, ...]`` (a patch batch for the diffusion processes).
        times: decreasing grid ``[N + 1]`` in [0, 1].
        generator: randomness of stochastic steps.
        callback: ``callback(i, t_i, x_i, x0_hat_i)`` after each network evaluation (patches, before the update).

    Returns:
        The final sample ``[B, C, M, T]`` after N steps.
    """
    times = check_time_grid(times)
    grid = times.tolist()
    for i in range(len(grid) - 1):
        following, x0_hat = process.step(model, state, times, i, generator=generator)
        if callback is not None:
            callback(i, grid[i], process.view(state), process.view(x0_hat))
        state = following
    return process.view(state)


@torch.no_grad()
def solve(process: Process, model: Model, *, n: int, shape: tuple[int, int], steps: int | None = None,
          times: torch.Tensor | None = None, channels: int = 1, generator: torch.Generator | None = None,
          callback: StepCallback | None = None, batch_size: int | None = None,
          device: torch.device | str | None = None) -> torch.Tensor:
    """Generate ``n`` patches ``[n, channels, M, T]`` (``shape`` = (M, T)) with ``model`` and ``process``.

    The grid is ``times`` if given, else ``steps`` steps of the process's default grid. The initial state of all
    ``n`` samples is drawn at once with ``generator`` (:meth:`Process.initial`); ``batch_size`` splits the
    integration into chunks (the callback then sees one chunk at a time; a stochastic step's fresh noise, drawn
    per chunk, depends on it). Runs on ``device`` (default: the model's).

    Args:
        process: the process the model was trained with.
        model: the network, ``model(x [B, C, M, T], t [B])`` -> ``[B, C, M, T]``.
        n: number of samples, a positive integer.
        shape: patch size ``(M, T)``.
        steps: number of steps (with no ``times``), or a check of ``times``' length.
        times: a decreasing grid ``[N + 1]`` (overrides the default grid).
        channels: channels C of a patch.
        generator: randomness of the initial (and any fresh) noise.
        callback: ``callback(i, t_i, x_i, x0_hat_i)`` at each step.
        batch_size: samples integrated at once (default all n).
        device: where to sample (default the model's device).

    Returns:
        Samples ``[n, channels, M, T]`` (float32), on the device of the process's initial state.

    Raises:
        AudiospecError: a bad ``n``, ``shape`` or ``batch_size``, or an invalid grid / steps.
    """
    if not isinstance(n, int) or n < 1:
        raise AudiospecError(f"n (number of samples) must be a positive integer, got {n!r}")
    if len(tuple(shape)) != 2 or min(shape) < 1:
        raise AudiospecError(f"shape must be (M, T) with positive sizes, got {tuple(shape)}")
    times = _grid(process, times, steps)
    if batch_size is not None and batch_size < 1:
        raise AudiospecError(f"batch_size must be positive or None, got {batch_size}")
    device = model_device(model, device)
    x1 = process.initial((n, channels, *shape), generator=generator, device=device)
    chunk = n if batch_size is None else batch_size
    out = [integrate(process, model, x1[start:start + chunk].to(device), times=times, generator=generator,
                     callback=callback) for start in range(0, n, chunk)]
    return torch.cat(out, dim=0).to(x1.device)
