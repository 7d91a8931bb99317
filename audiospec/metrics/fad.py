"""Optional Fréchet Audio Distance (Kilgour et al. 2019) through ``fadtk`` (microsoft/fadtk).

fadtk is not a dependency of audiospec: it is imported only when
:func:`frechet_audio_distance` is called. Everything it needs must already be on this
machine, because nothing is downloaded here: the ``fadtk`` package, the ``sox`` program
(or ``$SOX_PATH``), the embedding model's Python package and its weights:

=====================  ==================  =====================================================
model                  package             weights
=====================  ==================  =====================================================
``vggish``             (torch.hub)         ``<torch hub>/harritaylor_torchvggish_master`` and
                                           ``<torch hub>/checkpoints/vggish-10086976.pth``,
                                           ``vggish_pca_params-970ea276.pth``
``clap-laion-audio``   ``laion_clap``      ``<fadtk>/.model-checkpoints/630k-audioset-best.pt``
``clap-laion-music``   ``laion_clap``      ``<fadtk>/.model-checkpoints/music_audioset_epoch_15_esc_90.14.pt``
``encodec-emb``        ``encodec``         ``<torch hub>/checkpoints/encodec_24khz-d7cc33bc.th``
=====================  ==================  =====================================================

(``<torch hub>`` is ``torch.hub.get_dir()``.) When any of these is missing, or the model
fails to load, :class:`MetricUnavailable` says which and how to provide it;
:func:`audiospec.metrics.evaluate_samples` then records ``"fad": None`` with the reason.

fadtk writes its caches into each audio folder (``convert/``, ``embeddings/``,
``stats/``) and reuses them on later calls: delete them when a folder's audio changes.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import Literal, get_args

import torch

from audiospec.errors import AudiospecError

__all__ = ["FadModel", "MetricUnavailable", "frechet_audio_distance", "fad_requirements"]

FadModel = Literal["vggish", "clap-laion-audio", "clap-laion-music", "encodec-emb"]
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".opus")


class MetricUnavailable(AudiospecError):
    """An optional metric cannot run here: a package, program or model weight file is missing locally."""


def _audio_folder(path: str | Path, *, name: str) -> Path:
    """A folder of >= 2 audio files and nothing else at its top level (fadtk reads every ``*.*`` file)."""
    folder = Path(path)
    if not folder.is_dir():
        raise AudiospecError(f"{name} {str(folder)!r} is not a folder; write the clips as WAV files into one")
    files = [p for p in folder.iterdir() if p.is_file() and "." in p.name]
    audio = [p for p in files if p.suffix.lower() in AUDIO_SUFFIXES]
    others = sorted(p.name for p in files if p.suffix.lower() not in AUDIO_SUFFIXES)
    if others:
        raise AudiospecError(
            f"{name} {str(folder)!r} holds non-audio files {others[:5]}; fadtk embeds every file in the folder, "
            "so keep only audio there"
        )
    if len(audio) < 2:
        raise AudiospecError(f"{name} {str(folder)!r} holds {len(audio)} audio file(s); FAD needs at least 2 clips")
    return folder


def fad_requirements(model: FadModel, *, fadtk_dir: Path | None = None) -> list[str]:
    """What ``model`` needs besides fadtk and sox that is missing locally (empty list = nothing).

    ``fadtk_dir`` is the folder of the installed fadtk package (for the CLAP checkpoints).

    Args:
        model: ``"vggish"``, ``"clap-laion-audio"``, ``"clap-laion-music"`` or ``"encodec-emb"``.
        fadtk_dir: the installed fadtk package's folder (None: CLAP checkpoints not checked).

    Returns:
        One line per missing Python package or weight file.

    Raises:
        AudiospecError: an unknown model.
    """
    hub = Path(torch.hub.get_dir())
    missing: list[str] = []

    def need_file(path: Path) -> None:
        if not path.exists():
            missing.append(f"weights {str(path)!r}")

    def need_module(module: str) -> None:
        if importlib.util.find_spec(module) is None:
            missing.append(f"Python package {module!r}")

    if model == "vggish":
        need_file(hub / "harritaylor_torchvggish_master")
        need_file(hub / "checkpoints" / "vggish-10086976.pth")
        need_file(hub / "checkpoints" / "vggish_pca_params-970ea276.pth")
    elif model in ("clap-laion-audio", "clap-laion-music"):
        need_module("laion_clap")
        name = "630k-audioset-best.pt" if model == "clap-laion-audio" else "music_audioset_epoch_15_esc_90.14.pt"
        if fadtk_dir is not None:
            need_file(fadtk_dir / ".model-checkpoints" / name)
    elif model == "encodec-emb":
        need_module("encodec")
        need_file(hub / "checkpoints" / "encodec_24khz-d7cc33bc.th")
    else:
        raise AudiospecError(f"unknown FAD model {model!r}; choose one of {list(get_args(FadModel))}")
    return missing


def _import_fadtk() -> tuple[ModuleType, ModuleType]:
    """``(fadtk.fad, fadtk.model_loader)``, or :class:`MetricUnavailable`."""
    try:
        return importlib.import_module("fadtk.fad"), importlib.import_module("fadtk.model_loader")
    except Exception as err:  # ImportError, or a broken install failing on import
        raise MetricUnavailable(
            f"FAD needs the optional package fadtk, which cannot be imported here ({type(err).__name__}: {err}); "
            "install it with `pip install fadtk` on a machine with its model weights, or leave FAD out"
        ) from None


def _model_loader(loaders: ModuleType, model: FadModel):
    if model == "vggish":
        return loaders.VGGishModel()
    if model == "clap-laion-audio":
        return loaders.CLAPLaionModel("audio")
    if model == "clap-laion-music":
        return loaders.CLAPLaionModel("music")
    return loaders.EncodecEmbModel("24k")


def frechet_audio_distance(generated_dir: str | Path, real_dir: str | Path, *, model: FadModel = "vggish") -> float:
    """FAD between the audio files of ``generated_dir`` and ``real_dir`` with fadtk's ``model`` embeddings.

    Each folder must hold only audio files (>= 2). Raises :class:`MetricUnavailable`
    when fadtk, sox or the model's package or weights are missing locally or the model
    does not load (see the module docstring); no download is attempted.

    Args:
        generated_dir: a folder of >= 2 generated clips (audio files only).
        real_dir: a folder of >= 2 real clips.
        model: the embedding model (see :data:`FadModel`).

    Returns:
        The FAD (squared embedding units).

    Raises:
        AudiospecError: an unknown model, or a folder that is missing, holds non-audio files
            or fewer than 2 clips.
        MetricUnavailable: fadtk, sox, the model's package or weights missing, or the model
            failing to load offline.
    """
    if model not in get_args(FadModel):
        raise AudiospecError(f"unknown FAD model {model!r}; choose one of {list(get_args(FadModel))}")
    gen = _audio_folder(generated_dir, name="generated_dir")
    real = _audio_folder(real_dir, name="real_dir")
    fad_module, loaders = _import_fadtk()
    missing = fad_requirements(model, fadtk_dir=Path(loaders.__file__).parent)
    sox = os.environ.get("SOX_PATH", "sox")
    if shutil.which(sox) is None:
        missing.append(f"the sox program ({sox!r}; install it or set SOX_PATH)")
    if missing:
        raise MetricUnavailable(
            f"FAD with model {model!r} cannot run offline here; missing: {'; '.join(missing)}. "
            "Provide them (e.g. run fadtk once on a machine with network and copy the torch hub cache) or leave FAD out"
        )
    grad_enabled = torch.is_grad_enabled()  # fadtk switches autograd off globally: restore it
    try:
        try:
            ml = _model_loader(loaders, model)
            fad = fad_module.FrechetAudioDistance(ml, audio_load_worker=1, load_model=True)
        except Exception as err:  # e.g. a download attempted without network
            raise MetricUnavailable(
                f"fadtk could not load the {model!r} model offline ({type(err).__name__}: {err}); "
                "check its weights are in the locations listed in audiospec.metrics.fad"
            ) from None
        for folder in (real, gen):
            for path in sorted(folder.iterdir()):
                if path.is_file() and path.suffix.lower() in AUDIO_SUFFIXES:
                    fad.cache_embedding_file(path)
        return float(fad.score(str(real), str(gen)))
    finally:
        torch.set_grad_enabled(grad_enabled)
