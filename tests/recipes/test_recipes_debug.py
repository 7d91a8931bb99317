"""Every recipe end to end in --debug mode on tiny local data (no network, no Debian packages needed).

Each builds the data the recipe expects (a local GTZAN-layout tarball, fake package
trees for the mini and debian corpora, a labelled folder), runs `audiospec run` with the recipe's
conf/debug.yaml, and checks the artefacts: JSON keys and value ranges, readable WAVs, and
a report whose every asset exists and is inlined.
"""

from __future__ import annotations

import json
import math
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from audiospec.cli import app
from audiospec.data import DEBIAN_PACKAGES, prepare_debian, prepare_mini
from audiospec.data.debian import DEBIAN_SOURCES

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
SR = 22050
runner = CliRunner()


def _music(seconds: float, seed: int) -> np.ndarray:
    """A chord with a slow tremolo (synthetic stand-in, plumbing test only)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    freqs = 110.0 * 2 ** (rng.integers(0, 24, size=3) / 12)
    wave = sum(np.sin(2 * math.pi * f * t) for f in freqs) * (0.6 + 0.4 * np.sin(2 * math.pi * 0.5 * t))
    return (0.2 * wave / np.abs(wave).max()).astype(np.float32)


def _speech(seconds: float, seed: int) -> np.ndarray:
    """Noise bursts shaped like syllables (synthetic stand-in, plumbing test only)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    envelope = np.clip(np.sin(2 * math.pi * 4.0 * np.arange(n) / SR + rng.uniform(0, 6)), 0, None)
    wave = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same") * envelope
    return (0.3 * wave / np.abs(wave).max()).astype(np.float32)


def _write_tree(root: Path, layout: dict[str, tuple], seconds: float, n: int) -> None:
    for folder, (make, ext) in layout.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            sf.write(root / folder / f"{Path(folder).name}.{i:05d}.{ext}", make(seconds, i), SR)


def _tarball(tmp: Path, top: str, layout: dict[str, tuple]) -> Path:
    tree = tmp / "tree"
    _write_tree(tree / top, layout, seconds=9.0, n=3)  # 3 recordings per class: one per split
    archive = tmp / f"{top}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree / top, arcname=top)
    return archive


def _check_run(out: Path) -> None:
    analysis = json.loads((out / "analysis" / "analysis.json").read_text())
    for domain in ("waveform", "mel", "cepstrum"):
        for kind in ("white", "pink", "matched"):
            assert -1.0 <= analysis["autoregression_order"][domain][kind] <= 1.0
    assert 0.0 < analysis["mel"]["alpha"] < 6.0 and 0.0 <= analysis["mel"]["r2"] <= 1.0
    results = json.loads((out / "compare" / "results.json").read_text())
    assert set(results["metrics"]) == set(results["priors"]) | set(results["arms"])
    for arm, reference in results["arms"].items():  # question 4 arms (mini debug recipe): paired with their reference
        assert arm.startswith(reference) and arm in results["arm_differences"]
        assert results["arm_differences"][arm]["2"]["kid_classifier"]["p_holm"] is not None
    for prior, per_steps in results["metrics"].items():
        for stats in per_steps.values():
            assert stats["kid_classifier"]["low"] is not None and "memorisation_ratio" in stats
            assert stats["rapsd_error"]["mean"] >= 0.0
    for prior, order in results["autoregression_order"].items():
        for view in ("cepstrum", "modulation", "rapsd"):
            trained = order["trained_order"][view]
            assert -1.0 <= trained["low"] <= trained["mean"] <= trained["high"] <= 1.0
            assert -1.0 <= order["exact"]["views"][view]["order"]["mean"] <= 1.0
            assert -1.0 <= order["control"]["views"][view]["order"]["mean"] <= 1.0
    splits = json.loads((out / "compare" / "splits.json").read_text())
    recordings = {name: {src.rsplit("@", 1)[0] for src in sources} for name, sources in splits.items()}
    assert not recordings["train"] & recordings["test"] and not recordings["train"] & recordings["validation"]
    assert not recordings["validation"] & recordings["test"] and results["n_test_patches"] > 0
    assert set(results["floors"]) == {"real train vs test", "gaussian, train spectrum"}
    sweep = results["colour_sweep"]
    assert "matched" in sweep and len(sweep) == 6 and results["alpha_hat"] > 0
    assert sweep["matched"]["exact"]["views"]["rapsd"]["order"]["mean"] == 0.0  # exact model: every band at once
    assert sweep["white"]["trained_order"] is not None and sweep["pink"]["quality"]["rapsd_error"]["mean"] >= 0.0
    assert {row["threshold"] for row in results["sensitivity"]} == {0.05, 0.1, 0.2}
    assert "answers" not in results and "plots" not in results  # numbers only: the report words them
    page = (out / "report.html").read_text()
    assert "content order" in page and page.count("samples at 4 steps have mean mel-RAPSD error") == \
        len(results["priors"])
    for prior in results["priors"]:
        assert results["prior_baseline"][prior]["rapsd_error"] >= 0.0
    wavs = sorted(out.rglob("*.wav"))
    assert len(wavs) >= 8
    for wav in wavs:
        data, rate = sf.read(wav)
        assert rate == SR and data.size > 0 and np.isfinite(data).all()
    assert page.count("<audio") == len(wavs)
    assert len(re.findall(r'src="data:image/png;base64,', page)) >= 10
    assert "Question 3" in page and "Spectral analysis" in page
    for prior in results["priors"]:  # paired generated samples and a trajectory row for every prior
        assert f"<h4>generated / {prior}</h4>" in page and f"<h4>trajectory / {prior}</h4>" in page
    assert "checking media" not in page and "data:audio/ogg;base64," in page
    assert ("Question 4" in page) == bool(results["arms"])
    if (out / "probe").is_dir():  # mini debug recipe: the probe stage on the compare stage's models
        probe = json.loads((out / "probe" / "probe.json").read_text())
        assert {row["prior"] for row in probe["swap"]} == set(results["priors"])
        assert all(0.0 <= row["trained"]["mean"] <= 1.0 for row in probe["swap"]) and "band swap (PRIMARY)" in page
        assert "Beyond correlation" in page
    if (out / "baselines").is_dir():  # mini debug recipe: the explicit coarse-to-fine models beside the diffusion ones
        baselines = json.loads((out / "baselines" / "baselines.json").read_text())
        assert baselines["names"] == [*results["priors"], "cepstral AR", "heat dissipation"]
        assert "commit measure (cepstrum content order) on the cepstral AR baseline" in page
        assert "exact Gaussian, cepstral AR" in baselines["metrics"] and "Explicit coarse-to-fine models" in page
    if (out / "fair").is_dir():  # mini debug recipe: fair references and tests with demonstrated power (issue 25)
        fair = json.loads((out / "fair" / "fair.json").read_text())
        ar = next(arm for arm in fair["arms"] if arm["name"] == "fair cepstral AR")
        assert ar["exact_concentration"] == pytest.approx(1.0, abs=1e-3)  # the exact AR writes each band in its stage
        assert {row["role"] for row in fair["swap"]} == {"positive control", "negative control", "prior"}
        assert "Fair references and tests with demonstrated power" in page


def _run(recipe: str, out: Path, *extra: str) -> None:
    result = runner.invoke(app, ["run", "--config", str(RECIPES / recipe / "conf" / "debug.yaml"), "--out", str(out),
                                 "--no-progress", *extra])
    assert result.exit_code == 0, result.output
    assert "report:" in result.output


@pytest.mark.slow
def test_gtzan_music_speech_recipe_from_a_local_archive(tmp_path):
    archive = _tarball(tmp_path, "music_speech", {"music_wav": (_music, "wav"), "speech_wav": (_speech, "wav")})
    _run("gtzan_music_speech", tmp_path / "run", "--data-dir", str(tmp_path / "data"), "--source", str(archive))
    _check_run(tmp_path / "run")


@pytest.mark.slow
def test_gtzan_genres_recipe_from_a_local_archive(tmp_path):
    archive = _tarball(tmp_path, "genres", {"blues": (_music, "wav"), "jazz": (_speech, "wav")})
    _run("gtzan_genres", tmp_path / "run", "--data-dir", str(tmp_path / "data"), "--source", str(archive))
    _check_run(tmp_path / "run")


@pytest.mark.slow
def test_folder_recipe_on_a_labelled_folder(tmp_path):
    _write_tree(tmp_path / "audio", {"music": (_music, "flac"), "speech": (_speech, "ogg")}, seconds=9.0, n=3)
    _run("folder", tmp_path / "run", "--dataset", f"folder:{tmp_path / 'audio'}")
    _check_run(tmp_path / "run")


@pytest.mark.slow
def test_mini_recipe_on_a_fake_package_tree_and_resume(tmp_path):
    music, speech = tmp_path / "pkg" / "music", tmp_path / "pkg" / "speech"
    _write_tree(music, {"tracks": (_music, "ogg")}, seconds=20.0, n=3)
    _write_tree(speech, {"cs": (_speech, "ogg")}, seconds=2.0, n=20)
    prepare_mini(tmp_path / "data" / "mini", music_dir=music, speech_dir=speech, n_per_class=4, progress=False)
    _run("mini", tmp_path / "run", "--data-dir", str(tmp_path / "data"))
    assert (tmp_path / "run" / "probe" / "probe.json").is_file()  # the recipe's probe section ran
    assert (tmp_path / "run" / "baselines" / "baselines.json").is_file()  # and its baselines section
    assert (tmp_path / "run" / "fair" / "fair.json").is_file()  # and its fair section
    _check_run(tmp_path / "run")
    timesteps = json.loads((tmp_path / "run" / "timesteps" / "timesteps.json").read_text())  # its timesteps section
    assert timesteps["arms"] == ["uniform", "logit-normal", "shifted", "spectral", "drowning"]
    assert {(t["arm"], t["difference"]["p_holm"] is not None) for t in timesteps["tests"]
            if t["difference"]["primary"]} == {("spectral", True), ("drowning", True)}
    assert len(timesteps["points"]) == 5 * 2 * 2 and "Timestep samplers at equal compute" in \
        (tmp_path / "run" / "report.html").read_text()
    arms = json.loads((tmp_path / "run" / "compare" / "results.json").read_text())["arms"]
    assert arms == {"pink+whitened": "pink", "matched+whitened": "matched", "white@optimized": "white",
                    "pink@optimized": "pink", "matched@optimized": "matched"}
    stamp = (tmp_path / "run" / "compare" / "results.json").stat().st_mtime_ns
    _run("mini", tmp_path / "run", "--data-dir", str(tmp_path / "data"))  # resumes: nothing recomputed
    assert (tmp_path / "run" / "compare" / "results.json").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_debian_recipe_on_a_fake_package_tree(tmp_path):
    root, seed = tmp_path / "root", 0
    for source in DEBIAN_SOURCES:  # per package: 2 tracks of 20 s, or 2 levels x 2 speakers, 7 lines of 2 s each
        folder = root / source.folder.relative_to("/")
        language = source.package.name.rsplit("-", 1)[-1]
        names = [f"track{i}.ogg" for i in range(2)] if source.label == "music" else [
            f"{level}/{language}/{level[:3]}-{'mv'[i % 2]}-{i}.ogg" for level in ("barrel", "gods") for i in range(7)]
        for name in names:
            seed += 1  # every recording different: no patch in two splits
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            make, seconds = (_music, 20.0) if source.label == "music" else (_speech, 2.0)
            sf.write(folder / name, make(seconds, seed), SR)
    prepare_debian(tmp_path / "data" / "debian", package_root=root, progress=False)
    assert len(DEBIAN_PACKAGES) == 6
    _run("debian", tmp_path / "run", "--data-dir", str(tmp_path / "data"))
    _check_run(tmp_path / "run")
