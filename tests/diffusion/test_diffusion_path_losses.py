"""The diffusion processes' paths, targets, x0 predictions and (whitened) losses."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.diffusion import ColoredNoise, MatchedNoise, RectifiedFlow, VPEps, WhiteNoise, prediction_loss
from audiospec.diffusion.processes import build_process
from audiospec.errors import AudiospecError

PROCESSES = {"flow_matching": RectifiedFlow, "vp_eps": VPEps}


def _process(objective, prior=None, whiten=False):
    return PROCESSES[objective](prior=prior or WhiteNoise(), whiten=whiten)


def _batch(seed: int = 0, shape=(3, 1, 8, 16)):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(shape, generator=g, dtype=torch.float64)
    eps = torch.randn(shape, generator=g, dtype=torch.float64)
    t = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    return x0, eps, t


def test_rectified_flow_path_and_velocity():
    x0, eps, t = _batch()
    flow = _process("flow_matching")
    x_t = flow.corrupt(x0, eps, t)
    expected = (1 - t)[:, None, None, None] * x0 + t[:, None, None, None] * eps
    torch.testing.assert_close(x_t, expected, rtol=0, atol=1e-15)
    torch.testing.assert_close(flow.target(x0, eps, t), eps - x0)


def test_vp_cosine_path():
    x0, eps, t = _batch()
    vp = _process("vp_eps")
    x_t = vp.corrupt(x0, eps, t)
    a = torch.cos(math.pi * t / 2)[:, None, None, None]
    s = torch.sin(math.pi * t / 2)[:, None, None, None]
    torch.testing.assert_close(x_t, a * x0 + s * eps, rtol=0, atol=1e-15)
    assert vp.target(x0, eps, t) is eps


@pytest.mark.parametrize("objective", ["flow_matching", "vp_eps"])
def test_predictions_recover_x0_and_eps_from_the_true_target(objective):
    x0, eps, t = _batch(1)
    process = _process(objective)
    x_t = process.corrupt(x0, eps, t)
    target = process.target(x0, eps, t)
    torch.testing.assert_close(process.x0_from(target, x_t, t), x0, rtol=0, atol=1e-12)
    torch.testing.assert_close(process.eps_from(target, x_t, t), eps, rtol=0, atol=1e-12)


@pytest.mark.parametrize("objective", ["flow_matching", "vp_eps"])
@pytest.mark.parametrize("whiten", [False, True])
def test_loss_is_exactly_zero_for_the_true_target(objective, whiten):
    x0, eps, t = _batch(2)
    x0, eps, t = x0.float(), eps.float(), t.float()
    process = _process(objective, ColoredNoise(beta=1.0), whiten)
    target = process.target(x0, eps, t)

    def oracle(x_t: torch.Tensor, t_in: torch.Tensor) -> torch.Tensor:  # a stub "network" outputting the target
        assert x_t.shape == x0.shape and t_in.shape == (x0.shape[0],)
        return target

    loss = process.loss(oracle, x0, t=t, eps=eps)
    assert loss.item() == 0.0


def test_loss_is_the_mean_squared_error():
    x0, eps, t = _batch(3)
    wrong = torch.zeros_like(x0)
    loss = _process("flow_matching").loss(lambda x, s: wrong, x0, t=t, eps=eps)
    torch.testing.assert_close(loss, (eps - x0).float().square().mean())


def test_whitened_loss_equals_plain_loss_for_white_prior():
    pred, target, _ = _batch(4)
    torch.testing.assert_close(
        prediction_loss(pred, target, prior=WhiteNoise(), whiten=True), prediction_loss(pred, target)
    )


def test_whitened_loss_of_a_prior_sample_is_one_per_element():
    # residual = eps ~ N(0, Sigma): E || Sigma^-1/2 eps ||^2 / n = 1 for every prior
    for prior in (ColoredNoise(beta=1.0), ColoredNoise(beta=2.0)):
        eps = prior.sample((64, 1, 32, 32), generator=torch.Generator().manual_seed(5))
        loss = prediction_loss(eps, torch.zeros_like(eps), prior=prior, whiten=True).item()
        assert abs(loss - 1.0) < 0.02  # 65,536 chi-square(1) terms: sd 0.0055


def test_errors_name_the_problem():
    x0, eps, t = _batch()
    with pytest.raises(AudiospecError, match="unknown objective 'ddim'"):
        build_process("ddim", prior=WhiteNoise())
    with pytest.raises(AudiospecError, match="differ"):
        _process("flow_matching").target(x0, eps[:, :, :4])
    with pytest.raises(AudiospecError, match="whiten=True needs the noise prior"):
        prediction_loss(x0, eps, whiten=True)
    with pytest.raises(AudiospecError, match=r"t must have shape \[B\] = \[3\]"):
        _process("flow_matching").loss(lambda x, s: x, x0, t=t[:2], eps=eps)
    with pytest.raises(AudiospecError, match=r"must lie in \[0, 1\]"):
        _process("flow_matching").corrupt(x0, eps, torch.tensor([0.1, 0.5, 1.5]))
    with pytest.raises(AudiospecError, match="estimated on"):
        MatchedNoise(torch.ones(8, 9), signal_shape=(8, 16)).whiten(torch.zeros(1, 1, 8, 8))
