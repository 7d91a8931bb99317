"""Centred log-mel patches of a corpus: the training data of the diffusion models (DESIGN.md section 5, "Centring").

Model space = (log-mel dB − μ_m) / σ: μ_m is the mean of each mel bin m over the training
patches and frames, σ one global scale. Subtracting the per-bin mean removes the corpus's
mean mel profile, which an uncentred model "knows" at t = 1 already (x̂0 ≈ E[x0] holds it)
and which would make low quefrencies look committed at once. One global σ, not one per bin,
keeps the relative power of the bins: the mel-axis spectrum whose shape the priors and the
analytic orders are about. The mean profile is restored only when going back to dB and audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from audiospec.data import Corpus, load_corpus, write_log_mel_cache
from audiospec.errors import AudiospecError
from audiospec.experiments.analysis import cut_patches, mel_patches
from audiospec.transforms import MelConfig

__all__ = ["PatchSet", "corpus_patches", "export_log_mel"]


@dataclass(frozen=True)
class PatchSet:
    """``patches`` ``[N, 1, M, T]`` float32 = (x − mean_db[m]) / std_db; one label and source clip per patch."""

    patches: torch.Tensor
    labels: list[str]
    clip_index: torch.Tensor
    mean_db: tuple[float, ...]
    std_db: float

    def to_db(self, standard: torch.Tensor) -> torch.Tensor:
        """Undo the centring and scaling: model space ``[..., M, T]`` -> log-mel dB."""
        mean = torch.tensor(self.mean_db, dtype=standard.dtype, device=standard.device)[:, None]  # [M, 1]
        return standard * self.std_db + mean


def corpus_patches(corpus: Corpus, *, mel: MelConfig, patch_frames: int, like: PatchSet | None = None) -> PatchSet:
    """Cut every clip into non-overlapping ``patch_frames``-wide log-mel patches, centred per mel bin (module doc).

    ``like``: reuse another set's mean and scale (the training split's, for validation and test
    patches) instead of estimating them from this corpus.
    """
    if corpus.log_mel is not None:  # a corpus loaded from a log-mel cache (audiospec.data.melcache)
        if corpus.mel != mel:
            raise AudiospecError(f"this corpus was loaded from a log-mel cache made with {corpus.mel}, but the config "
                                 f"asks for {mel}; write the cache with the config's mel settings")
        raw, clip_index = cut_patches(corpus.log_mel, patch_frames=patch_frames)  # [N, M, T]
    else:
        raw, clip_index = mel_patches(corpus.waveforms, mel=mel, patch_frames=patch_frames)  # [N, M, T]
    raw = raw.double()
    mean = raw.mean(dim=(0, 2)) if like is None else torch.tensor(like.mean_db, dtype=torch.float64)  # [M]
    centred = raw - mean[:, None]
    std = float(centred.std()) if like is None else like.std_db
    if not std > 0.0:
        raise AudiospecError(f"all {raw.shape[0]} log-mel patches are constant per mel bin: the clips are silent "
                             "or identical; check the dataset (audiospec analyze lists the files it skipped)")
    return PatchSet(
        patches=(centred / std).unsqueeze(1).float(),
        labels=[corpus.labels[int(i)] for i in clip_index],
        clip_index=clip_index,
        mean_db=tuple(mean.tolist()),
        std_db=std,
    )


def export_log_mel(config: Any, *, out_dir: Path, progress: bool = True) -> Path:
    """Write the corpus of ``config.data`` as a log-mel cache with the model stages' mel settings
    (``config.compare.mel``), for a machine without the audio (:mod:`audiospec.data.melcache`); returns
    ``out_dir``, which a recipe then names as ``dataset: "log-mel:<out_dir>"``."""
    corpus = load_corpus(config.data, progress=progress)
    corpus.require_audio("export-log-mel")
    return write_log_mel_cache(corpus, mel=config.compare.mel, out_dir=out_dir)
