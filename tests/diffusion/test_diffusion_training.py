"""Training: config validation, a CPU smoke run + sampling, bit-exact resume, checkpoints."""

from __future__ import annotations

import pytest
import torch

from audiospec.config import read_yaml
from audiospec.diffusion import (
    ColoredNoise,
    MatchedNoise,
    ModelConfig,
    SingleDevice,
    TrainConfig,
    WhiteNoise,
    load_checkpoint,
    sample,
    train,
)
from audiospec.diffusion.checkpoint import read_training_state
from audiospec.errors import AudiospecError
from helpers_diffusion import structured_patches, tiny_train_config

PATCHES = structured_patches(24, (16, 32), beta=2.0, seed=0)


def _assert_same_state(path_a, path_b):
    a, b = read_training_state(path_a), read_training_state(path_b)
    assert a.step == b.step
    for section in ("model", "ema", "rng", "prior_tensors"):
        sa, sb = getattr(a, section), getattr(b, section)
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), section
    for index, state in a.optimizer["state"].items():
        assert all(torch.equal(v, b.optimizer["state"][index][k]) for k, v in state.items())
    assert torch.equal(a.data_order, b.data_order) and a.data_position == b.data_position
    assert torch.equal(a.losses, b.losses)


def test_from_dict_rejects_unknown_keys_at_every_level():
    with pytest.raises(AudiospecError, match=r"unknown key\(s\) \['stpes'\] in train config; valid keys are \[.*'steps'"):
        TrainConfig.from_dict({"stpes": 10})
    with pytest.raises(AudiospecError, match=r"unknown key\(s\) \['width'\] in train config.model; valid keys are \[.*'base_channels'.*'preset'"):
        TrainConfig.from_dict({"model": {"preset": "tiny", "width": 3}})
    with pytest.raises(AudiospecError, match=r"unknown key\(s\) \['kind_'\] in train config.timesteps; valid keys"):
        TrainConfig.from_dict({"timesteps": {"kind_": "uniform"}})


def test_from_dict_presets_overrides_and_yaml_round_trip(tmp_path):
    config = TrainConfig.from_dict({"model": {"preset": "tiny", "attention": False}, "timesteps": {"kind": "logit_normal"},
                                    "betas": [0.9, 0.99], "objective": "vp_eps"})
    assert config.model == ModelConfig(**{**ModelConfig.preset("tiny").__dict__, "attention": False})
    assert config.timesteps.kind == "logit_normal" and config.betas == (0.9, 0.99)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict({}).model == ModelConfig.preset("tiny")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"lr": -1.0}, "lr must be a number > 0"),
        ({"ema_decay": 1.0}, "ema_decay must be < 1"),
        ({"objective": "ddim"}, r"unknown objective .ddim.; choose one of \(.*.flow_matching., .vp_eps., .cepstral_ar., .heat.\)"),
        ({"precision": "fp8"}, r"precision must be one of .fp32., .bf16., .fp16., .auto., got .fp8."),
        ({"betas": [0.9]}, r"betas must be a list of 2 values \(a number, a number\), got \[0.9\]"),
    ],
)
def test_invalid_settings_fail_at_construction(overrides, message):
    with pytest.raises(AudiospecError, match=message):
        TrainConfig.from_dict(overrides)


@pytest.mark.parametrize(
    "patches, overrides, message",
    [
        (PATCHES, {"batch_size": 25}, r"batch_size=25 is larger than the number of training patches N=24"),
        (structured_patches(8, (12, 32)), {}, r"\(M, T\) = \(12, 32\) must be divisible by 2\^3 = 8"),
        (PATCHES[:, 0], {}, r"must be a tensor \[N, C, M, T\]"),
        (torch.cat([PATCHES, PATCHES], 1), {}, "2 channel"),
        (PATCHES.clone().index_fill_(0, torch.tensor([3]), float("nan")), {}, "NaN or Inf"),
    ],
)
def test_bad_training_inputs_fail_before_training_starts(tmp_path, patches, overrides, message):
    with pytest.raises(AudiospecError, match=message):
        train(tiny_train_config(**overrides), patches, prior=WhiteNoise(), out_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_matched_prior_of_another_size_fails_before_training(tmp_path):
    prior = MatchedNoise.from_data(structured_patches(8, (8, 16)))
    with pytest.raises(AudiospecError, match="estimated on"):
        train(tiny_train_config(), PATCHES, prior=prior, out_dir=tmp_path / "run", progress=False)


def test_smoke_train_tiny_then_sample(tmp_path):
    config = tiny_train_config(steps=6, batch_size=8, checkpoint_every=3, lr=1e-3)
    result = train(config, PATCHES, prior=ColoredNoise(beta=1.0), out_dir=tmp_path, progress=False)
    assert result.steps == 6 and len(result.losses) == 6 and all(torch.isfinite(torch.tensor(result.losses)))
    for name in ("config.yaml", "prior.yaml", "checkpoint.safetensors", "loss.csv", "train_result.json"):
        assert (tmp_path / name).is_file(), name
    assert TrainConfig.from_dict(read_yaml(tmp_path / "config.yaml")) == config
    assert read_yaml(tmp_path / "prior.yaml") == {"kind": "power_law", "beta": 1.0, "ndim": 2}
    assert (tmp_path / "loss.csv").read_text().splitlines()[0] == "step,loss"
    assert len((tmp_path / "loss.csv").read_text().splitlines()) == 7

    model, ema, loaded_config, prior = load_checkpoint(result.checkpoint)
    assert loaded_config == config and prior == ColoredNoise(beta=1.0)
    assert not any(torch.equal(p, q) for p, q in zip(model.parameters(), ema.parameters()))
    seen = []
    x = sample(ema, prior=prior, n=2, steps=3, shape=(16, 32), generator=torch.Generator().manual_seed(0),
               callback=lambda i, t, x_t, x0_hat: seen.append(x0_hat.shape))
    assert x.shape == (2, 1, 16, 32) and bool(torch.isfinite(x).all()) and len(seen) == 3


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    prior = ColoredNoise(beta=1.0)
    full = train(tiny_train_config(steps=4), PATCHES, prior=prior, out_dir=tmp_path / "full", progress=False)
    half = train(tiny_train_config(steps=2), PATCHES, prior=prior, out_dir=tmp_path / "split", progress=False)
    resumed = train(tiny_train_config(steps=4), PATCHES, prior=prior, out_dir=tmp_path / "split", progress=False)
    assert half.steps == 2 and resumed.start_step == 2 and resumed.steps == 4
    assert resumed.losses == full.losses
    _assert_same_state(full.checkpoint, resumed.checkpoint)
    # a finished run resumes to a no-op
    again = train(tiny_train_config(steps=4), PATCHES, prior=prior, out_dir=tmp_path / "split", progress=False)
    assert again.start_step == 4 and again.losses == full.losses


class _CrashAfter(SingleDevice):
    """A runtime that dies in the middle of the optimiser step number ``crash_at`` (1-based)."""

    def __init__(self, crash_at: int) -> None:
        super().__init__(device="cpu")
        self.calls, self.crash_at = 0, crash_at

    def optimizer_step(self, optimizer):
        self.calls += 1
        if self.calls == self.crash_at:
            raise KeyboardInterrupt
        super().optimizer_step(optimizer)


def test_interrupted_run_resumes_from_its_last_checkpoint(tmp_path):
    # epochs of 24 // 8 = 3 batches: the crash and the resume straddle an epoch boundary
    config = tiny_train_config(steps=6, batch_size=8, checkpoint_every=2, whiten_loss=True,
                               timesteps={"kind": "logit_normal", "shift": 2.0})
    prior = MatchedNoise.from_data(PATCHES)
    full = train(config, PATCHES, prior=prior, out_dir=tmp_path / "full", progress=False)
    with pytest.raises(KeyboardInterrupt):
        train(config, PATCHES, prior=prior, out_dir=tmp_path / "crash", progress=False, runtime=_CrashAfter(5))
    assert read_training_state(tmp_path / "crash" / "checkpoint.safetensors").step == 4
    resumed = train(config, PATCHES, prior=prior, out_dir=tmp_path / "crash", progress=False)
    assert resumed.start_step == 4
    _assert_same_state(full.checkpoint, resumed.checkpoint)
    *_, loaded_prior = load_checkpoint(resumed.checkpoint)
    assert loaded_prior == prior  # the matched spectrum is stored as a tensor


def test_same_seed_same_weights_other_seed_other_weights(tmp_path):
    runs = [train(tiny_train_config(steps=2, seed=s), PATCHES, prior=WhiteNoise(), out_dir=tmp_path / f"{i}", progress=False)
            for i, s in enumerate((7, 7, 8))]
    _assert_same_state(runs[0].checkpoint, runs[1].checkpoint)
    a, c = read_training_state(runs[0].checkpoint), read_training_state(runs[2].checkpoint)
    assert not torch.equal(a.model["conv_in.weight"], c.model["conv_in.weight"])


def test_resume_refuses_changed_settings_or_prior(tmp_path):
    train(tiny_train_config(steps=2), PATCHES, prior=WhiteNoise(), out_dir=tmp_path, progress=False)
    with pytest.raises(AudiospecError, match=r"settings \['lr'\] differ from the checkpoint's"):
        train(tiny_train_config(steps=4, lr=1e-3), PATCHES, prior=WhiteNoise(), out_dir=tmp_path, progress=False)
    with pytest.raises(AudiospecError, match="noise prior"):
        train(tiny_train_config(steps=4), PATCHES, prior=ColoredNoise(beta=1.0), out_dir=tmp_path, progress=False)
    with pytest.raises(AudiospecError, match="training patches differ"):
        train(tiny_train_config(steps=4), PATCHES * 2, prior=WhiteNoise(), out_dir=tmp_path, progress=False)
    fresh = train(tiny_train_config(steps=2, lr=1e-3), PATCHES, prior=WhiteNoise(), out_dir=tmp_path, resume=False,
                  progress=False)
    assert fresh.start_step == 0


def test_vp_eps_with_spectral_timesteps_trains_and_samples_ancestrally(tmp_path):
    config = tiny_train_config(steps=2, objective="vp_eps", warmup_steps=2,
                               timesteps={"kind": "logit_normal", "spectral_weighting": True})
    result = train(config, PATCHES, prior=WhiteNoise(), out_dir=tmp_path, progress=False)
    _, ema, loaded, prior = load_checkpoint(result.checkpoint)
    x = sample(ema, prior=prior, n=2, steps=3, sampler="ancestral", objective=loaded.objective, shape=(16, 32),
               generator=torch.Generator().manual_seed(1))
    assert x.shape == (2, 1, 16, 32) and bool(torch.isfinite(x).all())


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(AudiospecError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(AudiospecError, match="not a readable safetensors checkpoint"):
        load_checkpoint(tmp_path / "bad.safetensors")


def test_disk_full_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    """A full disk on the second checkpoint: clean AudiospecError, the first checkpoint stays whole and resumable."""
    config = tiny_train_config(steps=4, checkpoint_every=2)
    out = tmp_path / "run"
    train(tiny_train_config(steps=2, checkpoint_every=2), PATCHES, prior=WhiteNoise(), out_dir=out, progress=False)
    before = (out / "checkpoint.safetensors").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("audiospec.diffusion.checkpoint.save_file", full_disk)
    with pytest.raises(AudiospecError, match=r"could not write checkpoint .*No space left on device.*previous one is unchanged"):
        train(config, PATCHES, prior=WhiteNoise(), out_dir=out, progress=False)
    monkeypatch.undo()
    assert (out / "checkpoint.safetensors").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # no half-written file left behind
    assert read_training_state(out / "checkpoint.safetensors").step == 2
    result = train(config, PATCHES, prior=WhiteNoise(), out_dir=out, progress=False)  # resumes from step 2
    assert result.start_step == 2 and result.steps == 4


def test_accelerate_runtime_trains_exactly_like_a_single_device_in_one_process(tmp_path):
    """The HF Accelerate adapter, on one CPU process, reproduces the single-device run bit for bit."""
    pytest.importorskip("accelerate")
    from audiospec.diffusion.runtime import AccelerateRuntime

    config = tiny_train_config(steps=3, checkpoint_every=3)
    train(config, PATCHES, prior=WhiteNoise(), out_dir=tmp_path / "single", progress=False)
    runtime = AccelerateRuntime(cpu=True)
    assert runtime.num_processes == 1 and runtime.is_main_process
    train(config, PATCHES, prior=WhiteNoise(), out_dir=tmp_path / "accelerate", progress=False, runtime=runtime)
    _assert_same_state(tmp_path / "single" / "checkpoint.safetensors", tmp_path / "accelerate" / "checkpoint.safetensors")


def test_data_parallel_processes_split_every_global_batch_without_overlap():
    from audiospec.diffusion.runtime import batch_shard

    index = torch.arange(10, 26)
    shards = [batch_shard(index, process_index=p, num_processes=4) for p in range(4)]
    assert sorted(torch.cat(shards).tolist()) == index.tolist()
    assert all(s.numel() == 4 for s in shards)
    with pytest.raises(AudiospecError, match="cannot feed 4 processes; raise batch_size"):
        batch_shard(torch.arange(3), process_index=0, num_processes=4)


def test_each_process_gets_its_own_noise_but_the_same_data_order():
    from audiospec.diffusion.training import _generators

    first, second = _generators(7, torch.device("cpu")), _generators(7, torch.device("cpu"), process_index=1)
    assert torch.equal(torch.randperm(20, generator=first["data"]), torch.randperm(20, generator=second["data"]))
    assert not torch.equal(torch.randn(5, generator=first["noise"]), torch.randn(5, generator=second["noise"]))
    assert torch.equal(torch.randn(5, generator=_generators(7, torch.device("cpu"))["noise"]),
                       torch.randn(5, generator=_generators(7, torch.device("cpu"))["noise"]))


def test_held_out_loss_is_recorded_every_eval_every_steps_and_survives_a_resume(tmp_path):
    from audiospec.diffusion.checkpoint import load_checkpoint
    from audiospec.diffusion.heldout import read_heldout, validation_loss
    from audiospec.diffusion.processes import make_process

    g = torch.Generator().manual_seed(0)
    patches, validation = torch.randn(16, 1, 16, 16, generator=g), torch.randn(6, 1, 16, 16, generator=g)
    config = TrainConfig.from_dict({"steps": 6, "batch_size": 4, "checkpoint_every": 2, "eval_every": 2,
                                    "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                              "attention": False}})
    prior = WhiteNoise()
    short = TrainConfig.from_dict({**config.to_dict(), "steps": 4})
    train(short, patches, prior=prior, out_dir=tmp_path, progress=False, validation=validation)
    assert sorted(read_heldout(tmp_path)) == [2, 4]
    result = train(config, patches, prior=prior, out_dir=tmp_path, progress=False, validation=validation)
    heldout = read_heldout(tmp_path)
    assert sorted(heldout) == [2, 4, 6]
    # the recorded value is the EMA network's loss on the fixed draws (seed = the run's seed)
    ema = load_checkpoint(result.checkpoint)[1]
    expected = validation_loss(ema, validation, process=make_process(config, prior, n_mels=16), seed=0)
    assert heldout[6] == pytest.approx(expected, rel=1e-6)
    # the fixed draws make it a paired measure: a second call gives the same number, another seed another one
    assert validation_loss(ema, validation, process=make_process(config, prior, n_mels=16),
                           seed=1) != pytest.approx(expected, rel=1e-6)



def test_without_eval_every_the_held_out_loss_is_measured_where_the_plateau_rule_reads_it_only(tmp_path):
    """eval_every None: two evaluations, at 80% of the budget and at its end (the plateau rule's two losses), not one
    per step (each evaluation costs more than a training step on the validation split)."""
    from audiospec.diffusion.heldout import on_loss_plateau, plateau_step, read_heldout

    g = torch.Generator().manual_seed(0)
    patches, validation = torch.randn(16, 1, 16, 16, generator=g), torch.randn(6, 1, 16, 16, generator=g)
    config = TrainConfig.from_dict({"steps": 10, "batch_size": 4, "checkpoint_every": 5,
                                    "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                              "attention": False}})
    train(config, patches, prior=WhiteNoise(), out_dir=tmp_path, progress=False, validation=validation)
    heldout = read_heldout(tmp_path)
    assert sorted(heldout) == [plateau_step(10), 10] == [8, 10]
    assert on_loss_plateau(heldout, 10) is not None  # the rule can be read
    assert [plateau_step(b) for b in (1, 5, 300, 1600)] == [0, 4, 240, 1280]

def test_memory_format_changes_the_layout_not_the_model(tmp_path):
    from audiospec.diffusion.checkpoint import load_checkpoint

    patches = torch.randn(8, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    weights = []
    for layout in ("channels_last", "contiguous"):
        config = TrainConfig.from_dict({"steps": 3, "batch_size": 4, "memory_format": layout,
                                        "model": {"preset": "tiny", "base_channels": 8, "channel_mults": [1, 2],
                                                  "attention": False}})
        result = train(config, patches, prior=WhiteNoise(), out_dir=tmp_path / layout, progress=False)
        weights.append(load_checkpoint(result.checkpoint)[1].state_dict())
    # the same arithmetic up to the convolution algorithm's rounding (Adam's first steps amplify it to ~1e-4)
    for name, a in weights[0].items():
        torch.testing.assert_close(a, weights[1][name], atol=5e-3, rtol=0, msg=name)
    with pytest.raises(AudiospecError, match="memory_format must be one of 'channels_last', 'contiguous', got 'nhwc'"):
        TrainConfig.from_dict({"memory_format": "nhwc"})


def test_same_patches_ignores_the_summation_order_of_other_thread_counts_and_sees_a_changed_clip():
    """The resume check compares the patches' statistics within a tolerance: the same patches with last-bit
    float32 differences (far more than another thread count's summation order changes) pass; one patch
    replaced (also after normalisation, which pins the sum and the sum of squares), the patches reordered, rescaled
    or reshaped fail. The CI failure of 2026-12-04 was a bit-equality check."""
    from audiospec.diffusion.patch_fingerprint import patches_fingerprint as _fingerprint, same_patches

    gen = torch.Generator().manual_seed(0)
    patches = torch.randn(32, 1, 16, 24, generator=gen) * 3 + 1

    def normalised(x):
        return (x - x.mean()) / x.std(correction=0)

    base = _fingerprint(normalised(patches))
    last_bits = normalised(patches) * (1 + 2 ** -23 * torch.randint(-1, 2, patches.shape, generator=gen))
    assert same_patches(base, _fingerprint(normalised(patches).clone())) and same_patches(base, _fingerprint(last_bits))
    other_clip = patches.clone()
    other_clip[3] = torch.randn(1, 16, 24, generator=gen) * 3 + 1
    other = _fingerprint(normalised(other_clip))
    assert abs(other[5] - base[5]) < 1e-6 * base[5]  # the sum of squares cannot see it ...
    assert not same_patches(base, other)  # ... the third moment and the patch-weighted sum do
    assert not same_patches(base, _fingerprint(normalised(patches)[torch.randperm(32, generator=gen)]))
    assert not same_patches(base, _fingerprint(normalised(patches) * 1.01))
    assert not same_patches(base, _fingerprint(normalised(patches).reshape(32, 1, 24, 16)))
    # a checkpoint from before the statistics: compared on its shape, sum and sum of squares
    old = base[:6]
    assert same_patches(old, _fingerprint(last_bits)) and not same_patches(old, _fingerprint(normalised(patches) * 1.01))
