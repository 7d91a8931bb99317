"""Bad files among good ones (issue 22): each is left out with a warning naming it and recorded in
``Corpus.skipped``, instead of being silently ignored, trained on, or aborting the whole run."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf
from helpers_data import write_tone
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.data import DataConfig, load_corpus

runner = CliRunner()


def _config(folder) -> DataConfig:
    return DataConfig(dataset=f"folder:{folder}", sample_rate=8000, clip_seconds=0.5)


def _good(folder) -> None:
    for label in ("a", "b"):
        for i in range(2):
            write_tone(folder / label / f"good{i}.wav", freq=300.0 + 100 * i, seconds=1.0)


def _reasons(corpus) -> dict[str, str]:
    return {item.path.rsplit("/", 1)[1]: item.reason for item in corpus.skipped}


def test_a_dangling_symlink_is_warned_about_and_recorded(tmp_path):
    _good(tmp_path)
    (tmp_path / "a" / "gone.wav").symlink_to(tmp_path / "nowhere.wav")
    with pytest.warns(UserWarning, match=r"gone\.wav.*dangling symbolic link to .*nowhere\.wav"):
        corpus = load_corpus(_config(tmp_path), progress=False)
    assert len(corpus) == 8
    assert _reasons(corpus)["gone.wav"].startswith("unreadable: audio file") and "restore its target" in \
        _reasons(corpus)["gone.wav"]


@pytest.mark.parametrize("amplitude, reason", [
    (1e-30, r"silent: peak amplitude 1e-30 is below 5.96e-08 \(no sound\)"),
    (1e30, r"implausible: peak amplitude 1e\+30 is above 1e\+06 \(corrupt or mis-scaled float samples\)"),
])
def test_a_file_of_absurd_amplitude_among_good_ones_is_skipped_naming_it(tmp_path, amplitude, reason):
    # 1e-30: trained on before (its log-mel is the floor); 1e30: aborted `analyze` naming no file
    _good(tmp_path)
    square = np.where(np.arange(8000) % 40 < 20, 1.0, -1.0)  # peak exactly `amplitude`, mean 0
    sf.write(str(tmp_path / "a" / "odd.wav"), amplitude * square, 8000, subtype="DOUBLE")
    with pytest.warns(UserWarning, match=r"skipping '.*odd\.wav'"):
        corpus = load_corpus(_config(tmp_path), progress=False)
    assert len(corpus) == 8 and not any("odd.wav" in s for s in corpus.sources)

    assert re.fullmatch(reason, _reasons(corpus)["odd.wav"]), _reasons(corpus)["odd.wav"]


def test_analyze_runs_past_an_implausible_file_and_lists_it(tmp_path):
    from helpers_cli import analysis_config

    _good(tmp_path / "audio")
    sf.write(str(tmp_path / "audio" / "b" / "huge.wav"), np.full(8000, 1e30) * np.sin(np.arange(8000)), 8000,
             subtype="DOUBLE")
    config = analysis_config(tmp_path / "c.yaml", tmp_path / "audio")
    result = runner.invoke(app, ["analyze", "--config", str(config), "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "huge.wav" in (tmp_path / "out" / "analysis.json").read_text()


def test_a_data_dir_that_is_a_file_is_a_clean_error(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    result = runner.invoke(app, ["analyze", "--dataset", "mini", "--data-dir", str(tmp_path / "data"),
                                 "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "error: data_dir" in result.output and "is a file, not a folder" in result.output
