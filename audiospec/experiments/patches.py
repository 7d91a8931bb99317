"""Standardised log-mel patches of a corpus: the training data of the diffusion models."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from audiospec.data import Corpus
from audiospec.errors import AudiospecError
from audiospec.experiments.analysis import mel_patches
from audiospec.transforms import MelConfig

__all__ = ["PatchSet", "corpus_patches"]


@dataclass(frozen=True)
class PatchSet:
    """``patches`` ``[N, 1, M, T]`` float32, (x - mean_db) / std_db; one label and source clip per patch."""

    patches: torch.Tensor
    labels: list[str]
    clip_index: torch.Tensor
    mean_db: float
    std_db: float

    def to_db(self, standard: torch.Tensor) -> torch.Tensor:
        """Undo the standardisation: model space -> log-mel dB."""
        return standard * self.std_db + self.mean_db


def corpus_patches(corpus: Corpus, *, mel: MelConfig, patch_frames: int) -> PatchSet:
    """Cut every clip into non-overlapping ``patch_frames``-wide log-mel patches and standardise them."""
    raw, clip_index = mel_patches(corpus.waveforms, mel=mel, patch_frames=patch_frames)  # [N, M, T]
    mean, std = float(raw.double().mean()), float(raw.double().std())
    if not std > 0.0:
        raise AudiospecError(f"all {raw.shape[0]} log-mel patches are constant ({mean:.1f} dB): the clips are silent "
                             "or identical; check the dataset (audiospec analyze lists the files it skipped)")
    return PatchSet(
        patches=((raw - mean) / std).unsqueeze(1).float(),
        labels=[corpus.labels[int(i)] for i in clip_index],
        clip_index=clip_index,
        mean_db=mean,
        std_db=std,
    )
