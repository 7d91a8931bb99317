"""The HTML report in headless Chromium: every audio player decodes, every image renders, nothing is blank; the
answers come first and fill the first screen, and no table longer than 20 rows is shown unfolded (issue 26)."""

from __future__ import annotations

import json
import math

import matplotlib.image
import numpy as np
import pytest
import soundfile as sf
import torch

from audiospec.atomic import write_json
from audiospec.errors import AudiospecError
from audiospec.experiments.results import to_json
from audiospec.experiments.stages.analysis import AnalysisConfig, analyze_corpus
from audiospec.functional import colored_noise
from audiospec.report.build import build_report
from audiospec.report.page import FOLD_ROWS
from audiospec.report.spectrograms import plot_spectrogram
from audiospec.transforms import LogMelSpectrogram, MelConfig
from browser import media_status, needs_chromium, screenshot, visible_height

SR = 8000
MEL = MelConfig(sample_rate=SR, n_fft=256, hop_length=64, n_mels=32)
CONFIG = AnalysisConfig(mel=MEL, patch_frames=64, welch_n_fft=256, n_bootstrap=50, hinge_clips=4)


@pytest.fixture()
def run_dir(tmp_path):
    """A run folder with an analysis of synthetic clips and a small listening manifest."""
    g = torch.Generator().manual_seed(0)
    waves = 0.1 * colored_noise((8, 64 * 64), beta=1.5, generator=g)
    labels = ["a", "b"] * 4
    results, figures = analyze_corpus(waves, labels, sample_rate=SR, config=CONFIG, progress=False)
    analysis = tmp_path / "analysis"
    write_json(analysis / "figures.json", figures)  # the curves the report draws
    write_json(analysis / "analysis.json", to_json(results))
    build_report(tmp_path)  # draws the figures
    corrupt = tmp_path / "corrupt"
    files = []
    to_mel = LogMelSpectrogram(MEL)
    for i, (level, gain) in enumerate([("clean", 0.0), ("t=0.5", 0.5)]):
        wave = torch.sin(2 * math.pi * 440 * torch.arange(SR) / SR) + gain * torch.randn(SR, generator=g)
        wave = 0.5 * wave / wave.abs().max()
        (corrupt / "clips").mkdir(parents=True, exist_ok=True)
        sf.write(corrupt / f"clips/{i}.wav", wave.numpy(), SR)
        plot_spectrogram(to_mel(wave), corrupt / f"clips/{i}.png", title=level, mel=MEL)
        files.append({"clip": 0, "label": "a", "domain": "mel", "prior": "white", "level": level,
                      "wav": f"clips/{i}.wav", "png": f"clips/{i}.png"})
    (corrupt / "corrupt.json").write_text(json.dumps({"sample_rate": SR, "files": files}))
    return tmp_path


def test_plots_are_not_blank(run_dir):
    pngs = sorted(run_dir.rglob("*.png"))
    assert len(pngs) >= 8
    for png in pngs:
        pixels = matplotlib.image.imread(png)
        assert float(np.std(pixels[..., :3])) > 0.01, f"{png.name} is blank"


@needs_chromium
def test_report_players_load_and_images_render_in_chromium(run_dir, tmp_path_factory):
    page = build_report(run_dir)
    profile = tmp_path_factory.mktemp("chromium-profile")
    status = media_status(page, profile)
    assert status.get("checked") == "yes", status
    assert int(status["audio-total"]) == 2
    assert status["audio-ok"] == status["audio-total"], status
    assert int(status["img-total"]) >= 8
    assert status["img-ok"] == status["img-total"] == status["img-non-blank"], status
    assert status["console-errors"] == "0", status
    assert status["first-section"] == "answers" and int(status["longest-open-table"]) <= FOLD_ROWS, status
    assert "checking media" not in page.read_text() and "audio players ready" not in page.read_text()
    assert "data:audio/ogg;base64," in page.read_text()
    shot = screenshot(page, profile, run_dir / "report.png")
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] > 1000 and float(np.std(pixels[..., :3])) > 0.01


@needs_chromium
@pytest.mark.parametrize("run", ["protocol_run", "debug_run"])
def test_the_answers_come_first_and_long_tables_are_folded_in_chromium(run, request, tmp_path_factory):
    """On real runs' results (conftest.py): at 1,400 px the first screen shows answers with their figures, the
    first section is #answers, no unfolded table has more than 20 rows, and the page says its own height."""
    page = request.getfixturevalue(run) / "report.html"
    profile = tmp_path_factory.mktemp("chromium-profile")
    status = media_status(page, profile, width=1400, height=900)
    assert status.get("checked") == "yes" and status["console-errors"] == "0", status
    assert status["img-ok"] == status["img-total"] == status["img-non-blank"], status
    assert status["first-section"] == "answers", status
    assert int(status["longest-open-table"]) <= FOLD_ROWS, status
    assert int(status["answers-total"]) >= 6 and int(status["answers-bottom"]) <= 900, status  # on the first screen
    assert abs(int(status["page-height"]) - visible_height(page, profile, width=1400)) <= 2, status
    shot = screenshot(page, profile, page.with_name("first-screen.png"), width=1400, height=900)
    assert matplotlib.image.imread(shot).shape[:2] == (900, 1400)


@needs_chromium
def test_a_corrupt_audio_file_is_caught_by_the_browser_check(run_dir, tmp_path_factory):
    (run_dir / "corrupt" / "clips" / "1.wav").write_bytes(b"RIFF....not really a wav")
    page = build_report(run_dir)
    status = media_status(page, tmp_path_factory.mktemp("chromium-profile"))
    assert int(status["audio-ok"]) == 1 and int(status["audio-total"]) == 2, status


def test_a_missing_audio_file_fails_the_report(run_dir):
    (run_dir / "corrupt" / "clips" / "0.wav").unlink()
    with pytest.raises(AudiospecError, match="0.wav' is missing; re-run the step that writes it"):
        build_report(run_dir)


def test_a_stage_folder_given_as_the_run_gets_its_stage_page(run_dir):
    """`audiospec report X` on the folder a stage command wrote into (its --out, no run layout) redraws that stage's
    page there instead of refusing."""
    stage_dir = run_dir / "analysis"
    page = build_report(stage_dir)
    assert page == stage_dir / "report.html" and "analysis" in page.read_text().lower()


def test_an_empty_run_folder_says_what_is_missing(tmp_path):
    with pytest.raises(AudiospecError, match="nothing to report"):
        build_report(tmp_path)
