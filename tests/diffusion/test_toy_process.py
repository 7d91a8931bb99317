"""A new process is one class: a toy blurring process defined and registered in this file alone trains with
``audiospec.diffusion.train`` and samples with the one solver, neither of which knows it (issue 23)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch

from audiospec.diffusion import WhiteNoise, load_checkpoint, sample, train
from audiospec.diffusion.priors import NoisePrior
from audiospec.diffusion.processes import ProcessEntry, build_process, check_sampler, objectives
from audiospec.diffusion.processes import base
from audiospec.diffusion.solver import check_time_grid, solve, uniform_time_grid
from audiospec.errors import AudiospecError
from helpers_diffusion import structured_patches, tiny_train_config

PATCHES = structured_patches(16, (16, 32), beta=2.0, seed=0)


def _blur(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 − t) x + t · (x's mean over mel): a blur that is total at t = 1."""
    t = t.reshape(-1, 1, 1, 1).to(x)
    return (1 - t) * x + t * x.mean(dim=2, keepdim=True)


@dataclass(frozen=True)
class ToyBlur:
    """x_t = (1 − t) blur_t(x0) + t eps; the network predicts x0; a deterministic DDIM-like step."""

    prior: NoisePrior
    calls: list = None  # counts loss calls (the training loop must reach the process)
    name: ClassVar[str] = "toy_blur"
    nfe_per_step: ClassVar[int] = 1
    commit_bands: ClassVar[None] = None

    def corrupt(self, x0, eps, t):
        return (1 - t.reshape(-1, 1, 1, 1).to(x0)) * _blur(x0, t) + t.reshape(-1, 1, 1, 1).to(x0) * eps

    def target(self, x0, eps, t):
        return x0

    def loss(self, model, x0, *, t, eps, generator=None):
        if self.calls is not None:
            self.calls.append(x0.shape[0])
        t = t.to(x0.device)
        return torch.mean((model(self.corrupt(x0, eps, t), t) - self.target(x0, eps, t)) ** 2)

    def time_grid(self, steps):
        return uniform_time_grid(steps)

    def check_grid(self, times):
        return check_time_grid(times)

    def initial(self, size, *, generator, device):
        return self.prior.sample(size, generator=generator, device=device)

    def step(self, model, state, times, i, *, generator=None):
        t, s = (torch.full((state.shape[0],), float(v), device=state.device) for v in (times[i], times[i + 1]))
        x0_hat = model(state, t)
        eps_hat = (state - (1 - t.reshape(-1, 1, 1, 1)) * _blur(x0_hat, t)) / t.reshape(-1, 1, 1, 1)
        return self.corrupt(x0_hat, eps_hat, s), x0_hat

    def view(self, state):
        return state


CALLS: list[int] = []


@pytest.fixture
def toy_blur(monkeypatch):
    entry = ProcessEntry(name="toy_blur", label="toy blur", samplers=("euler",),
                         build=lambda s: ToyBlur(prior=s.prior, calls=CALLS))
    monkeypatch.setitem(base._REGISTRY, entry.name, entry)  # as the module would with register(entry)
    CALLS.clear()
    return entry


def test_a_registered_process_trains_and_samples_without_touching_the_loop_or_solver(toy_blur, tmp_path):
    assert "toy_blur" in objectives()
    config = tiny_train_config(objective="toy_blur", steps=3, checkpoint_every=3, lr=1e-3)
    result = train(config, PATCHES, prior=WhiteNoise(), out_dir=tmp_path, progress=False)
    assert result.steps == 3 and CALLS == [4, 4, 4]  # the loop called the process's loss once per step
    assert all(torch.isfinite(torch.tensor(result.losses)))

    _, ema, loaded, prior = load_checkpoint(result.checkpoint)
    assert loaded.objective == "toy_blur"
    process = build_process(loaded.objective, prior=prior)
    seen = []
    x = solve(process, ema, n=2, steps=3, shape=(16, 32), generator=torch.Generator().manual_seed(0),
              callback=lambda i, t, x_t, x0_hat: seen.append(t))
    assert x.shape == (2, 1, 16, 32) and bool(torch.isfinite(x).all()) and seen == [1.0, pytest.approx(2 / 3),
                                                                                   pytest.approx(1 / 3)]
    again = sample(ema, prior=prior, n=2, steps=3, shape=(16, 32), objective="toy_blur",
                   generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, again)  # the named sampler wrapper is the same solver


def test_the_registry_checks_a_new_process_like_the_built_in_ones(toy_blur):
    check_sampler("toy_blur", "euler")
    with pytest.raises(AudiospecError, match="does not fit objective 'toy_blur'"):
        check_sampler("toy_blur", "ancestral")
    with pytest.raises(AudiospecError, match="unknown objective 'toy_blurr'"):
        build_process("toy_blurr", prior=WhiteNoise())
