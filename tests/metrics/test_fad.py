"""Optional FAD through fadtk: the offline skip paths, and the call sequence with a stand-in fadtk."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from audiospec.errors import AudiospecError
from audiospec.metrics import MetricUnavailable, fad_requirements, frechet_audio_distance


def audio_folder(path: Path, n: int = 3) -> Path:
    path.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        soundfile.write(path / f"clip{i}.wav", 0.1 * rng.standard_normal(1600), 16000)
    return path


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    return audio_folder(tmp_path / "gen"), audio_folder(tmp_path / "real")


@pytest.fixture
def no_fadtk(monkeypatch):
    """Make ``import fadtk`` fail even where it happens to be installed."""
    for name in ("fadtk", "fadtk.fad", "fadtk.model_loader"):
        monkeypatch.setitem(sys.modules, name, None)


def fake_fadtk(monkeypatch, tmp_path: Path, *, load_error: Exception | None = None) -> list[str]:
    """Install a stand-in fadtk package recording what it is asked to do."""
    calls: list[str] = []
    package_dir = tmp_path / "fake_fadtk"
    package_dir.mkdir()

    class VGGishModel:
        name = "vggish"

    class FrechetAudioDistance:
        def __init__(self, ml, audio_load_worker=8, load_model=True):
            if load_error is not None:
                raise load_error
            torch.autograd.set_grad_enabled(False)  # as the real fadtk does
            calls.append(f"load {ml.name}")

        def cache_embedding_file(self, path):
            calls.append(f"embed {Path(path).parent.name}/{Path(path).name}")

        def score(self, baseline, eval):
            calls.append(f"score {Path(baseline).name} {Path(eval).name}")
            return np.float64(1.25)

    fad_module = types.ModuleType("fadtk.fad")
    fad_module.FrechetAudioDistance = FrechetAudioDistance
    loaders = types.ModuleType("fadtk.model_loader")
    loaders.VGGishModel = VGGishModel
    loaders.__file__ = str(package_dir / "model_loader.py")
    monkeypatch.setitem(sys.modules, "fadtk", types.ModuleType("fadtk"))
    monkeypatch.setitem(sys.modules, "fadtk.fad", fad_module)
    monkeypatch.setitem(sys.modules, "fadtk.model_loader", loaders)
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.setenv("SOX_PATH", sys.executable)  # any existing executable stands in for sox
    return calls


def provide_vggish_weights(tmp_path: Path) -> None:
    hub = tmp_path / "hub"
    (hub / "harritaylor_torchvggish_master").mkdir(parents=True)
    (hub / "checkpoints").mkdir()
    for name in ("vggish-10086976.pth", "vggish_pca_params-970ea276.pth"):
        (hub / "checkpoints" / name).write_bytes(b"")


def test_missing_fadtk_raises_metric_unavailable(folders, no_fadtk):
    gen, real = folders
    with pytest.raises(MetricUnavailable, match=r"optional package fadtk, which cannot be imported here"):
        frechet_audio_distance(gen, real)
    assert issubclass(MetricUnavailable, AudiospecError)


def test_missing_weights_raise_metric_unavailable_without_downloading(folders, monkeypatch, tmp_path):
    calls = fake_fadtk(monkeypatch, tmp_path)
    expected = r"missing: weights .*harritaylor_torchvggish_master.*vggish-10086976\.pth"
    with pytest.raises(MetricUnavailable, match=expected):
        frechet_audio_distance(*folders, model="vggish")
    assert calls == []  # the model was never loaded


def test_missing_sox_is_reported(folders, monkeypatch, tmp_path):
    fake_fadtk(monkeypatch, tmp_path)
    provide_vggish_weights(tmp_path)
    monkeypatch.setenv("SOX_PATH", str(tmp_path / "no-such-sox"))
    with pytest.raises(MetricUnavailable, match=r"the sox program"):
        frechet_audio_distance(*folders)


def test_model_load_failure_becomes_metric_unavailable(folders, monkeypatch, tmp_path):
    fake_fadtk(monkeypatch, tmp_path, load_error=OSError("network is unreachable"))
    provide_vggish_weights(tmp_path)
    with pytest.raises(MetricUnavailable, match=r"could not load the 'vggish' model offline \(OSError: network"):
        frechet_audio_distance(*folders)


def test_with_everything_present_embeds_both_folders_scores_and_restores_autograd(folders, monkeypatch, tmp_path):
    calls = fake_fadtk(monkeypatch, tmp_path)
    provide_vggish_weights(tmp_path)
    assert torch.is_grad_enabled()
    assert frechet_audio_distance(*folders) == 1.25
    assert torch.is_grad_enabled()
    assert calls == [
        "load vggish",
        *(f"embed real/clip{i}.wav" for i in range(3)),
        *(f"embed gen/clip{i}.wav" for i in range(3)),
        "score real gen",
    ]


def test_requirements_of_other_models_are_listed(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    missing = fad_requirements("clap-laion-audio", fadtk_dir=tmp_path)
    assert any("630k-audioset-best.pt" in m for m in missing)
    assert any("encodec_24khz-d7cc33bc.th" in m for m in fad_requirements("encodec-emb"))


def test_bad_folders_and_models_are_input_errors(folders, tmp_path, no_fadtk):
    gen, real = folders
    with pytest.raises(AudiospecError, match=r"is not a folder"):
        frechet_audio_distance(tmp_path / "missing", real)
    (gen / "manifest.json").write_text("{}")
    with pytest.raises(AudiospecError, match=r"holds non-audio files \['manifest.json'\]"):
        frechet_audio_distance(gen, real)
    one = audio_folder(tmp_path / "one", n=1)
    with pytest.raises(AudiospecError, match=r"holds 1 audio file\(s\); FAD needs at least 2"):
        frechet_audio_distance(real, one)
    with pytest.raises(AudiospecError, match=r"unknown FAD model 'inception'"):
        frechet_audio_distance(real, real, model="inception")
