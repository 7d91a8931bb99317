"""Bad input through the CLI: each case is a clean `error: ...` with exit code 2, never a traceback or a
silently wrong result, and nothing already written is lost (the reliability issue, sections 2-4)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import soundfile as sf
import yaml
from typer.testing import CliRunner

from audiospec.atomic import LOCK_NAME
from audiospec.cli import app
from helpers_cli import TINY_MODEL, analysis_config, audio_folder, train_config

runner = CliRunner()
TRAIN = {"steps": 2, "batch_size": 4, "checkpoint_every": 2, "model": TINY_MODEL}


def _fails_cleanly(args: list[str], message: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output, result.output
    return result.output


def _train(tmp_path, folder, name: str, n_mels: int):
    mel = {"sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": n_mels}
    config = train_config(tmp_path / f"{name}.yaml", folder, mel=mel, train=TRAIN)
    return runner.invoke(app, ["train", "--config", str(config), "--out", str(tmp_path / "run"), "--no-progress"])


def test_an_empty_hub_id_is_an_error_not_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fails_cleanly(["analyze", "--dataset", "gtzan-genres", "--source", "hf:", "--data-dir", "D", "--out", "O"],
                   "hf:owner/name")
    assert not (tmp_path / "D").exists() or not any((tmp_path / "D").rglob(".completed"))


def test_a_rejected_resume_leaves_the_run_folder_as_it_was_and_sample_checks_the_checkpoint(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    assert _train(tmp_path, folder, "a", n_mels=32).exit_code == 0
    run = tmp_path / "run"
    saved = (run / "run.yaml").read_text(), (run / "normalisation.json").read_text()
    result = _train(tmp_path, folder, "b", n_mels=16)
    assert result.exit_code == 2 and "cannot resume" in result.output and "--no-resume" in result.output
    assert ((run / "run.yaml").read_text(), (run / "normalisation.json").read_text()) == saved
    # a 16-mel checkpoint dropped into the 32-mel run folder is refused by sample
    other = tmp_path / "other"
    config = train_config(tmp_path / "c.yaml", folder, train=TRAIN,
                           mel={"sample_rate": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 16})
    assert runner.invoke(app, ["train", "--config", str(config), "--out", str(other), "--no-progress"]).exit_code == 0
    shutil.copy(other / "checkpoint.safetensors", run / "checkpoint.safetensors")
    _fails_cleanly(["sample", "--checkpoint", str(run / "checkpoint.safetensors"), "--n", "1", "--steps", "2",
                    "--out", str(tmp_path / "s"), "--no-progress"], "was trained on 16 x 8 patches")


def test_sample_reports_a_damaged_normalisation_file(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    assert _train(tmp_path, folder, "a", n_mels=16).exit_code == 0
    (tmp_path / "run" / "normalisation.json").write_text("{not json")
    _fails_cleanly(["sample", "--checkpoint", str(tmp_path / "run" / "checkpoint.safetensors"), "--n", "1",
                    "--steps", "2", "--out", str(tmp_path / "s"), "--no-progress"], "normalisation.json")


def test_a_busy_output_folder_is_refused_and_a_stale_lock_is_taken_over(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    out = tmp_path / "run"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK_NAME).write_text(str(sleeper.pid))
        _fails_cleanly(["analyze", "--config", str(analysis_config(tmp_path / "c.yaml", folder)), "--out", str(out),
                        "--no-progress"], "is busy")
        assert not (out / "analysis.json").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    result = runner.invoke(app, ["analyze", "--config", str(analysis_config(tmp_path / "c.yaml", folder)), "--out", str(out),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert (out / "analysis.json").is_file() and not (out / LOCK_NAME).exists()


def test_an_unwritable_output_folder_fails_before_the_analysis(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    (tmp_path / "file.txt").write_text("a file, not a folder")
    _fails_cleanly(["analyze", "--config", str(analysis_config(tmp_path / "c.yaml", folder)),
                    "--out", str(tmp_path / "file.txt" / "out"), "--no-progress"], "choose a writable --out")


def test_report_refuses_a_damaged_png_and_a_results_file_without_its_keys(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    run = tmp_path / "run"
    assert runner.invoke(app, ["analyze", "--config", str(analysis_config(tmp_path / "c.yaml", folder)),
                               "--out", str(run / "analysis"), "--no-progress"]).exit_code == 0
    (run / "analysis" / "fmax.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    _fails_cleanly(["report", str(run)], "fmax.png' is not a readable PNG")
    (run / "compare").mkdir()
    (run / "compare" / "results.json").write_text(json.dumps({"priors": ["white"]}))
    (run / "analysis" / "analysis.json").unlink()
    _fails_cleanly(["report", str(run)], "results.json")


def test_skipped_files_are_recorded_in_analysis_json(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    (folder / "hiss" / "broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    with pytest.warns(UserWarning, match="broken.wav"):
        result = runner.invoke(app, ["analyze", "--config", str(analysis_config(tmp_path / "c.yaml", folder)),
                                     "--out", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 0, result.output
    analysis = json.loads((tmp_path / "run" / "analysis.json").read_text())
    assert [s["path"].endswith("broken.wav") for s in analysis["skipped"]] == [True]
    assert analysis["source_rates"] == {"8000": 6}
    assert "broken.wav" in (tmp_path / "run" / "report.html").read_text()


@pytest.mark.parametrize(("section", "key", "value", "message"), [
    ("analysis", "patch_frames", "32", "analysis.patch_frames must be an integer, got '32'"),
    ("analysis", "patch_frames", 25.5, "analysis.patch_frames must be an integer, got 25.5"),
    ("analysis", "n_bootstrap", "50", "analysis.n_bootstrap must be an integer, got '50'"),
    ("corrupt", "snr_db", ["ten"], "corrupt.snr_db[0] must be a number, got 'ten'"),
    ("corrupt", "clips_per_class", 1.5, "corrupt.clips_per_class must be an integer, got 1.5"),
    ("compare", "seeds", "zero", "compare.seeds must be a list of an integer, got 'zero'"),
    ("compare", "priors", ["white", "grey"], "unknown prior 'grey'"),
])
def test_wrong_types_in_any_section_fail_before_any_work(tmp_path, section, key, value, message):
    folder = audio_folder(tmp_path / "audio")
    config = yaml.safe_load(analysis_config(tmp_path / "c.yaml", folder).read_text())
    config.setdefault(section, {})[key] = value
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    _fails_cleanly(["run", "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run")], message)
    assert not (tmp_path / "run").exists()


def test_config_files_that_are_not_yaml_text_are_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00x")
    _fails_cleanly(["train", "--config", str(bad), "--out", str(tmp_path / "o")], "is not UTF-8 text")
    _fails_cleanly(["analyze", "--config", str(tmp_path), "--out", str(tmp_path / "o")], "is a folder")


def test_a_yaml_exponent_without_a_decimal_point_says_how_to_write_it(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    config = train_config(tmp_path / "t.yaml", folder, train=TRAIN)
    (tmp_path / "t.yaml").write_text(config.read_text().replace("train:\n", "train:\n  lr: 1e-3\n"))
    _fails_cleanly(["train", "--config", str(tmp_path / "t.yaml"), "--out", str(tmp_path / "o")],
                   "write it with a decimal point")


def test_sample_has_a_progress_option(tmp_path):
    assert "--no-progress" in runner.invoke(app, ["sample", "--help"]).output


@pytest.mark.skipif(os.name != "posix", reason="pid liveness check is POSIX")
def test_the_lock_of_a_finished_process_does_not_block(tmp_path):
    from audiospec.atomic import output_lock

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / LOCK_NAME).write_text(done.stdout.strip())
    with output_lock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == str(os.getpid())
    assert not (tmp_path / LOCK_NAME).exists()


def test_all_written_audio_stays_below_full_scale(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    config = train_config(tmp_path / "t.yaml", folder, train=TRAIN)
    assert runner.invoke(app, ["train", "--config", str(config), "--out", str(tmp_path / "run"),
                               "--no-progress"]).exit_code == 0
    assert runner.invoke(app, ["sample", "--checkpoint", str(tmp_path / "run" / "checkpoint.safetensors"),
                               "--n", "2", "--steps", "2", "--out", str(tmp_path / "s"), "--no-progress"]).exit_code == 0
    listed = json.loads((tmp_path / "s" / "samples.json").read_text())["files"]
    for entry in listed:
        data, _ = sf.read(tmp_path / "s" / entry["wav"])
        assert abs(data).max() < 1.0 and 0 < entry["gain"] <= 1.0


def test_a_truncated_run_yaml_is_named_as_damaged(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    assert _train(tmp_path, folder, "a", n_mels=16).exit_code == 0
    run_yaml = tmp_path / "run" / "run.yaml"
    text = run_yaml.read_text()
    run_yaml.write_text(text[: text.index("hub_label_column") + len("hub_label_column: g")])
    _fails_cleanly(["sample", "--checkpoint", str(tmp_path / "run" / "checkpoint.safetensors"), "--n", "1",
                    "--steps", "2", "--out", str(tmp_path / "s"), "--no-progress"], "are damaged or edited")


def test_strict_stops_at_a_bad_file_naming_it(tmp_path):
    folder = audio_folder(tmp_path / "audio")
    (folder / "hiss" / "broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    _fails_cleanly(["analyze", "--config", str(analysis_config(tmp_path / "c.yaml", folder)), "--strict",
                    "--out", str(tmp_path / "run"), "--no-progress"], "broken.wav")
