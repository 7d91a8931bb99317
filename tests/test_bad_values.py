"""Values checked where they are read (issue 22): each bad setting is an error naming its key, file and fix."""

from __future__ import annotations

import pytest
import yaml

from audiospec.cli import _run_config
from audiospec.errors import AudiospecError
from audiospec.experiments.stages.analysis import AnalyzeRunConfig
from audiospec.experiments.protocol import CompareRunConfig
from audiospec.experiments.stages.corrupt import CorruptRunConfig
from audiospec.experiments.train_run import TrainRunConfig
from audiospec.transforms import MelConfig


def _recipe(tmp_path, sections):
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({"data": {"dataset": "mini"}, **sections}))
    return path


def test_too_many_mels_for_the_fft_size_is_an_error_naming_both_keys(tmp_path):
    # n_mels 4000 on 1025 FFT bins: most filters cover no bin (all-zero rows; alpha 0.67, R^2 0.27 in the issue)
    with pytest.raises(AudiospecError, match=r"recipe.yaml.analysis.mel: n_mels=4000 is too many for n_fft=2048 .*"
                                             r"2179 of the 4000 mel filters cover no FFT bin.*lower n_mels or raise"):
        _run_config(AnalyzeRunConfig, _recipe(tmp_path, {"analysis": {"mel": {"n_mels": 4000}}}))
    with pytest.raises(AudiospecError, match=r"n_mels=4000 is too many for n_fft=2048"):  # the same in train
        _run_config(TrainRunConfig, _recipe(tmp_path, {"mel": {"n_mels": 4000}}))
    assert MelConfig(n_mels=128).n_mels == 128  # librosa's default is fine


@pytest.mark.parametrize("section, match", [
    ({"analysis": {"n_bootstrap": -5}}, r"analysis.n_bootstrap must be an integer >= 1, got -5"),
    ({"analysis": {"n_bootstrap": 0}}, r"analysis.n_bootstrap must be an integer >= 1, got 0"),
    ({"compare": {"sensitivity_bands": [0]}}, r"compare.sensitivity_bands must be a non-empty list of integers >= 2, "
                                              r"got \[0\]"),
    ({"compare": {"order": {"n_bootstrap": -1}}}, r"recipe.yaml.compare.order: order.n_bootstrap must be an integer"),
    ({"compare": {"sensitivity_thresholds": [1.5]}}, r"compare.sensitivity_thresholds must be .* in \(0, 1\)"),
    ({"corrupt": {"snr_db": [".nan"]}}, r"corrupt.snr_db\[0\] must be a finite number, got nan"),
])
def test_counts_and_lists_are_checked_when_read(tmp_path, section, match):
    text = yaml.safe_dump({"data": {"dataset": "mini"}, **section}).replace("'.nan'", ".nan")
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    cls = {"analysis": AnalyzeRunConfig, "compare": CompareRunConfig, "corrupt": CorruptRunConfig}[next(iter(section))]
    with pytest.raises(AudiospecError, match=match):
        _run_config(cls, path)
