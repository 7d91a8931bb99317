"""budget.throughput counts the steps each model ran in the call it times: a resumed model its new steps only."""

import json

import pytest
import torch

from audiospec.diffusion.config import TrainConfig
from audiospec.diffusion.parallel import TrainJob
from audiospec.diffusion.priors import WhiteNoise
from audiospec.errors import AudiospecError
from audiospec.experiments.budget import throughput
from audiospec.diffusion.flops import training_step_flops


def _job(folder, *, steps, start_step, rate):
    folder.mkdir(parents=True)
    (folder / "train_result.json").write_text(json.dumps({"steps": steps, "start_step": start_step,
                                                          "steps_per_second": rate}))
    config = TrainConfig.from_dict({"steps": steps, "batch_size": 4, "model": {"preset": "tiny", "base_channels": 8}})
    return TrainJob(config=config, prior=WhiteNoise(), patches=torch.zeros(8, 1, 16, 16), out_dir=folder)


def test_throughput_counts_the_steps_run_in_this_call(tmp_path):
    fresh = _job(tmp_path / "a", steps=100, start_step=0, rate=2.0)
    resumed = _job(tmp_path / "b", steps=100, start_step=60, rate=1.0)  # 40 steps in this call
    record = throughput([fresh, resumed], workers=2, wall_seconds=70.0)
    assert record["model_steps_per_second"] == pytest.approx(140 / 70.0)
    assert record["per_model_steps_per_second"] == [2.0, 1.0]
    flops = training_step_flops(fresh.config.model, batch=4, shape=(16, 16))
    assert record["flops_per_step"] == flops
    assert record["achieved_flops_per_second"] == pytest.approx(140 * flops / 70.0)
    with pytest.raises(AudiospecError, match="at least one trained model"):
        throughput([], workers=1, wall_seconds=1.0)
