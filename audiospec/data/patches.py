"""Log-mel patches of a corpus: what every model stage and every training run reads (DESIGN.md section 5, "Centring").

:func:`cut_patches` cuts spectrograms into non-overlapping patches, :func:`mel_patches` does it from waveforms,
and :func:`corpus_patches` gives the model space of the diffusion models: (log-mel dB − μ_m) / σ, μ_m the mean
of each mel bin m over the training patches and frames, σ one global scale. Subtracting the per-bin mean
removes the corpus's mean mel profile, which an uncentred model "knows" at t = 1 already (x̂0 ≈ E[x0] holds it)
and which would make low quefrencies look committed at once. One global σ, not one per bin, keeps the relative
power of the bins: the mel-axis spectrum whose shape the priors and the analytic orders are about. The mean
profile is restored only when going back to dB and audio (:meth:`PatchSet.to_db`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from audiospec.data.config import DataConfig
from audiospec.data.corpus import Corpus
from audiospec.errors import AudiospecError
from audiospec.transforms import LogMelSpectrogram, MelConfig

__all__ = ["PatchSet", "check_sample_rate", "corpus_patches", "cut_patches", "mel_patches"]


def check_sample_rate(mel: MelConfig, data: DataConfig, *, section: str) -> None:
    """A stage's mel settings must run at the rate the corpus is loaded at (YAML ``<section>.mel`` vs ``data``).

    Args:
        mel: the stage's log-mel settings.
        data: the dataset settings (its ``sample_rate`` is the corpus's).
        section: the YAML section of ``mel``, named in the message.

    Raises:
        AudiospecError: the two rates differ.
    """
    if mel.sample_rate != data.sample_rate:
        raise AudiospecError(f"{section}.mel.sample_rate={mel.sample_rate} differs from "
                             f"data.sample_rate={data.sample_rate}; set them equal")


def cut_patches(log_mel: torch.Tensor, *, patch_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping patches of spectrograms (the last ``T mod patch_frames`` frames dropped).

    Args:
        log_mel: spectrograms ``[N, M, T]``.
        patch_frames: frames per patch.

    Returns:
        ``(patches [N * P, M, patch_frames], clip index of each patch [N * P])`` with P = T // patch_frames.

    Raises:
        AudiospecError: clips shorter than one patch.
    """
    N, M, T = log_mel.shape
    n_patches = T // patch_frames
    if n_patches < 1:
        raise AudiospecError(f"clips of {T} mel frames are shorter than patch_frames={patch_frames}; "
                             "use a smaller patch_frames")
    patches = log_mel[..., : n_patches * patch_frames].unflatten(-1, (n_patches, patch_frames))  # [N, M, P, Tp]
    patches = patches.permute(0, 2, 1, 3).reshape(-1, M, patch_frames)  # [N * P, M, Tp]
    return patches, torch.arange(N).repeat_interleave(n_patches)


def mel_patches(waveforms: torch.Tensor, *, mel: MelConfig, patch_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-mel patches of clips: each clip's log-mel spectrogram cut by :func:`cut_patches`.

    Args:
        waveforms: clips ``[N, L]`` at ``mel.sample_rate``.
        mel: the log-mel settings.
        patch_frames: frames per patch.

    Returns:
        ``(patches [N * P, M, patch_frames], clip index of each patch [N * P])``.

    Raises:
        AudiospecError: clips that give fewer than ``patch_frames`` frames.
    """
    n_frames = mel.frames(waveforms.shape[-1])
    if n_frames < patch_frames:
        need = (patch_frames - 1) * mel.hop_length / mel.sample_rate
        raise AudiospecError(
            f"clips of {waveforms.shape[-1]} samples give {n_frames} mel frames, fewer than patch_frames="
            f"{patch_frames}; use clips of at least {need:.2f} s or a smaller patch_frames"
        )
    return cut_patches(LogMelSpectrogram(mel)(waveforms), patch_frames=patch_frames)


@dataclass(frozen=True)
class PatchSet:
    """Centred log-mel patches (module doc) with one label and source clip each.

    Attributes:
        patches: ``[N, 1, M, T]`` float32 = (x − mean_db[m]) / std_db.
        labels: the class of each patch.
        clip_index: the corpus clip of each patch ``[N]``.
        mean_db: the mean of each mel bin (dB), M values.
        std_db: the global scale (dB).
    """

    patches: torch.Tensor
    labels: list[str]
    clip_index: torch.Tensor
    mean_db: tuple[float, ...]
    std_db: float

    def to_db(self, standard: torch.Tensor) -> torch.Tensor:
        """Undo the centring and scaling.

        Args:
            standard: model-space patches ``[..., M, T]``.

        Returns:
            log-mel dB ``[..., M, T]``.
        """
        mean = torch.tensor(self.mean_db, dtype=standard.dtype, device=standard.device)[:, None]  # [M, 1]
        return standard * self.std_db + mean


def corpus_patches(corpus: Corpus, *, mel: MelConfig, patch_frames: int, like: PatchSet | None = None) -> PatchSet:
    """Cut every clip into non-overlapping ``patch_frames``-wide log-mel patches, centred per mel bin (module doc).

    Args:
        corpus: an audio corpus, or one loaded from a log-mel cache (its spectrograms are used).
        mel: the log-mel settings (a cache must have been written with them).
        patch_frames: frames per patch.
        like: reuse another set's mean and scale (the training split's, for validation and test patches)
            instead of estimating them from this corpus.

    Returns:
        The :class:`PatchSet`.

    Raises:
        AudiospecError: a cache made with other mel settings, clips shorter than a patch, or patches that are
            constant per mel bin (silent or identical clips).
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
