"""Noise priors: unit variance, requested spectrum (fitted slope), whitening, serialisation."""

from __future__ import annotations

import math

import pytest
import torch

from audiospec.config import config_from_dict, config_to_dict
from audiospec.diffusion import ColoredNoise, MatchedNoise, PriorSpec, WhiteNoise, make_prior, prior_from_state
from audiospec.experiments.train_run import TrainRunConfig
from audiospec.errors import AudiospecError
from audiospec.functional import estimate_spectrum, fit_power_law, power_law_spectrum, rapsd


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _rapsd_alpha(fields: torch.Tensor) -> float:
    """-slope of the arithmetic-mean RAPSD of ``fields`` (the log-domain mean of few-bin rings is biased low)."""
    spectrum = rapsd(fields.double(), mode="normalized")
    mean_power = spectrum.power.reshape(-1, spectrum.freqs.numel()).mean(0)
    return fit_power_law(spectrum.freqs, mean_power, n_bootstrap=0).alpha


PRIORS = [WhiteNoise(), ColoredNoise(beta=1.0), ColoredNoise(beta=2.0), ColoredNoise(beta=-1.0)]


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_samples_have_unit_variance_and_the_prior_spectrum(prior):
    n, F, T = 256, 32, 64
    eps = prior.sample((n, 1, F, T), generator=_gen(0))
    assert eps.shape == (n, 1, F, T) and eps.dtype == torch.float32
    # variance per element, averaged over 524k elements; coloured fields are correlated, so allow 5%
    assert abs(eps.double().var().item() - 1.0) < 0.05
    ratio = estimate_spectrum(eps, ndim=2) / prior.spectrum((F, T))  # [F, T//2+1], each bin ~ chi2 / dof
    assert abs(ratio.mean().item() - 1.0) < 0.01  # 8,448 bins, each a mean over 256 fields
    assert (ratio - 1.0).abs().max().item() < 8.0 * math.sqrt(2.0 / n)  # every bin within 8 sigma


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_colored_prior_rapsd_slope_is_minus_beta(beta):
    eps = ColoredNoise(beta=beta).sample((64, 1, 64, 64), generator=_gen(1))
    assert abs(_rapsd_alpha(eps) - beta) < 0.1


@pytest.mark.parametrize("prior", PRIORS + [None], ids=repr)
def test_whitening_makes_prior_samples_white(prior):
    n, F, T = 128, 32, 64
    if prior is None:  # a data-matched prior estimated from brown-noise patches
        prior = MatchedNoise.from_data(ColoredNoise(beta=2.0).sample((256, 1, F, T), generator=_gen(2)))
    white = prior.whiten(prior.sample((n, 1, F, T), generator=_gen(3)))
    power = estimate_spectrum(white, ndim=2)  # expected 1 at every frequency
    assert abs(power.mean().item() - 1.0) < 0.01
    assert (power - 1.0).abs().max().item() < 8.0 * math.sqrt(2.0 / n)
    assert abs(_rapsd_alpha(white)) < 0.05


@pytest.mark.parametrize("prior", PRIORS[1:], ids=repr)
def test_whiten_inverts_the_colouring_exactly(prior):
    # matched_noise colours z ~ N(0, I) drawn first from the generator: whitening gives z back
    shape = (2, 1, 16, 24)
    z = torch.randn(shape, generator=_gen(4), dtype=torch.float64)
    eps = prior.sample(shape, generator=_gen(4), dtype=torch.float64)
    torch.testing.assert_close(prior.whiten(eps), z, rtol=0, atol=1e-10)


def test_matched_prior_estimates_the_data_spectrum():
    F, T = 16, 32
    patches = ColoredNoise(beta=2.0).sample((2000, 1, F, T), generator=_gen(5))
    prior = MatchedNoise.from_data(patches)
    log_ratio = torch.log(prior.spectrum((F, T)) / power_law_spectrum((F, T), beta=2.0))
    assert log_ratio.abs().mean().item() < 0.05  # each bin a mean of 2000 chi-square draws: ~3% error
    assert prior.spectrum((F, T)).shape == (F, T // 2 + 1)


@pytest.mark.parametrize("prior", PRIORS + [MatchedNoise(torch.rand(8, 9) + 0.1, signal_shape=(8, 16))], ids=repr)
def test_priors_round_trip_through_their_saved_state(prior):
    rebuilt = prior_from_state(prior.to_dict(), prior.tensors())
    assert rebuilt == prior
    shape = (2, 1, *((8, 16) if isinstance(prior, MatchedNoise) else (8, 12)))
    assert torch.equal(rebuilt.sample(shape, generator=_gen(6)), prior.sample(shape, generator=_gen(6)))


def test_same_generator_same_noise():
    a = ColoredNoise(beta=1.0).sample((2, 1, 8, 8), generator=_gen(7))
    b = ColoredNoise(beta=1.0).sample((2, 1, 8, 8), generator=_gen(7))
    c = ColoredNoise(beta=1.0).sample((2, 1, 8, 8), generator=_gen(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_make_prior_from_names_and_specs():
    assert make_prior("white") == WhiteNoise()
    assert make_prior(PriorSpec(kind="power_law", beta=2.0)) == ColoredNoise(beta=2.0) == make_prior("brown")
    assert make_prior("beta=1.5", ndim=1) == ColoredNoise(beta=1.5, ndim=1)
    patches = torch.randn(4, 1, 8, 16, generator=_gen(9))
    assert isinstance(make_prior("matched", data=patches), MatchedNoise)
    clips = torch.randn(4, 64, generator=_gen(9))
    matched_1d = make_prior("matched", data=clips, ndim=1)
    assert matched_1d.sample((3, 64), generator=_gen(1)).shape == (3, 64)


@pytest.mark.parametrize("name, kind, beta", [("white", "white", 0.0), ("pink", "power_law", 1.0),
                                              ("brown", "power_law", 2.0), ("blue", "power_law", -1.0),
                                              ("matched", "matched", 0.0), ("beta=2.66", "power_law", 2.66),
                                              (" Pink ", "power_law", 1.0)])
def test_prior_names_parse_and_round_trip(name, kind, beta):
    spec = PriorSpec.parse(name)
    assert (spec.kind, spec.beta) == (kind, beta)
    assert PriorSpec.parse(spec.name) == spec
    assert PriorSpec(kind="power_law", beta=1.0).name == "pink"


def test_prior_in_yaml_is_its_name_and_reads_back():
    raw = {"data": {"dataset": "mini"}, "prior": "beta=2.5"}
    config = config_from_dict(TrainRunConfig, raw)
    assert config.prior == PriorSpec(kind="power_law", beta=2.5)
    assert config_to_dict(config)["prior"] == "beta=2.5"
    assert config_from_dict(TrainRunConfig, {**raw, "prior": {"kind": "power_law", "beta": 2.5}}).prior == config.prior


@pytest.mark.parametrize("bad, match", [("grey", r"unknown prior 'grey'; choose one of white, pink, brown, blue, "
                                                 r"matched, matched_dct, or beta=<number>"),
                                        ("colored", r"unknown prior 'colored'"),
                                        ("beta=x", r"unknown prior 'beta=x'"),
                                        ("beta=inf", r"unknown prior 'beta=inf'"),
                                        (3, r"a prior is given by name|must be a prior name")])
def test_unknown_prior_names_list_the_valid_ones(bad, match):
    with pytest.raises(AudiospecError, match=match):
        PriorSpec.parse(bad)
    with pytest.raises(AudiospecError, match=match.split(";")[0]):
        config_from_dict(TrainRunConfig, {"data": {"dataset": "mini"}, "prior": bad})


def test_prior_errors_name_the_value_and_fix():
    with pytest.raises(AudiospecError, match="beta must be a finite number"):
        ColoredNoise(beta=float("inf"))
    with pytest.raises(AudiospecError, match=r"rfft grid \(8, 9\)"):
        MatchedNoise(torch.ones(8, 8), signal_shape=(8, 16))
    with pytest.raises(AudiospecError, match="estimated on"):
        MatchedNoise(torch.ones(8, 9), signal_shape=(8, 16)).sample((1, 1, 8, 8))
    with pytest.raises(AudiospecError, match=r"\[N, C, F, T\]"):
        MatchedNoise.from_data(torch.randn(8, 16))
    with pytest.raises(AudiospecError, match="unknown prior kind 'grey'"):
        PriorSpec(kind="grey")
    with pytest.raises(AudiospecError, match="beta applies to power-law priors only"):
        PriorSpec(kind="white", beta=1.0)
    with pytest.raises(AudiospecError, match="pass data"):
        make_prior("matched")
    with pytest.raises(AudiospecError, match=r"\[\.\.\., F, T\]"):
        WhiteNoise().sample((16,))
    with pytest.raises(AudiospecError, match="unknown prior kind 'violet'"):
        prior_from_state({"kind": "violet"}, {})
    assert prior_from_state({"kind": "colored", "beta": 1.0}, {}) == ColoredNoise(beta=1.0)  # older checkpoints


def test_samples_of_every_prior_share_one_underlying_white_draw():
    """The paired design: with one generator state, pink / matched noise is S^1/2 of the white prior's sample."""
    patches = ColoredNoise(beta=2.0).sample((64, 1, 16, 32), generator=_gen(3))
    priors = [ColoredNoise(beta=1.0), MatchedNoise.from_data(patches), make_prior("beta=3", ndim=2)]
    white = WhiteNoise().sample((4, 1, 16, 32), generator=_gen(11), dtype=torch.float64)
    for prior in priors:
        eps = prior.sample((4, 1, 16, 32), generator=_gen(11), dtype=torch.float64)
        torch.testing.assert_close(eps, prior.colour(white), rtol=0, atol=1e-12)  # measured: equal to ~1e-16
        # and the colouring is undone by whitening: the same white draw comes back
        torch.testing.assert_close(prior.whiten(eps), white, rtol=0, atol=1e-9)
