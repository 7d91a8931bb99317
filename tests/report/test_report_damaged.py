"""The report on damaged run folders (issue 22): a clean error naming the file and the fix, never a traceback, and
never a file read from outside the run folder."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.errors import AudiospecError
from audiospec.experiments.rows import read_rows as read_json_rows
from audiospec.experiments.listen import read_manifest
from helpers_cli import audio_folder

runner = CliRunner()


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory):
    """A run folder with a corrupt/ stage (its corrupt.json lists the listening files, as listening.json does)."""
    tmp = tmp_path_factory.mktemp("report")
    folder = audio_folder(tmp / "audio")
    config = {"data": {"dataset": f"folder:{folder}", "sample_rate": 8000, "clip_seconds": 0.6},
              "corrupt": {"mel": {"sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 16},
                          "clips_per_class": 1, "snr_db": [10.0], "times": [0.5], "blur_sigmas": [1.0],
                          "priors": ["white"], "listen_seconds": 0.5, "griffin_lim_iters": 2}}
    (tmp / "c.yaml").write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["corrupt", "--config", str(tmp / "c.yaml"), "--out", str(tmp / "run" / "corrupt"),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    return tmp / "run"


def _damaged(run, tmp_path, change):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "corrupt" / "corrupt.json").read_text())
    change(manifest["files"][0], copy)
    (copy / "corrupt" / "corrupt.json").write_text(json.dumps(manifest))
    return copy


def test_the_report_reads_an_intact_folder(corrupted):
    assert runner.invoke(app, ["report", str(corrupted)]).exit_code == 0


@pytest.mark.parametrize("change, message", [
    (lambda entry, run: entry.pop("clip"), "files[0] = "),  # KeyError: 'clip' before
    (lambda entry, run: entry.update(wav="../../outside.wav"), "names the report asset '../../outside.wav', which "
                                                                "is not a file inside that folder"),
    (lambda entry, run: entry.update(png=str(run.parent / "outside.png")), "is not a file inside that folder"),
])
def test_a_damaged_listening_manifest_is_a_clean_error(corrupted, tmp_path, change, message):
    (tmp_path / "outside.wav").write_bytes((corrupted / "corrupt" / "clean" / "clip0.wav").read_bytes())
    (tmp_path / "outside.png").write_bytes((corrupted / "corrupt" / "clean" / "clip0.png").read_bytes())
    run = _damaged(corrupted, tmp_path, change)
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 2 and message in result.output and "re-run the step" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_listening_json_without_its_keys_names_the_entry(tmp_path):
    path = tmp_path / "listening.json"
    path.write_text(json.dumps({"sample_rate": 8000, "files": [{"wav": "a.wav"}]}))
    with pytest.raises(AudiospecError, match=r"listening.json': files\[0\] = .* lacks \['clip', 'label'"):
        read_manifest(path)


def test_runs_json_rows_missing_a_metric_are_named_not_a_key_error(tmp_path):
    path = tmp_path / "runs.json"
    rows = [{"prior": "white", "seed": s, "steps": 4, "kid_classifier": 0.1, "lsd": 1.0} for s in (0, 1)]
    del rows[1]["kid_classifier"]
    path.write_text(json.dumps(rows))
    with pytest.raises(AudiospecError, match=r"row 1 \(white, seed 1, 4 steps\) lacks the metric\(s\) "
                                             r"\['kid_classifier'\] the other rows have; the file is damaged"):
        read_json_rows(path)
