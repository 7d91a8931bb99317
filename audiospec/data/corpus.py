"""`Corpus`: fixed-length labelled clips (:func:`audiospec.data.loading.load_corpus` loads any dataset into one)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from audiospec.data.short_files import SOURCE_SEPARATOR
from audiospec.errors import AudiospecError
from audiospec.transforms import MelConfig

__all__ = ["SOURCE_SEPARATOR", "Corpus", "SkippedFile"]

@dataclass(frozen=True)
class SkippedFile:
    """A dataset file :func:`load_corpus` left out (wholly or some of its clips), and why.

    Attributes:
        path: the file, as listed in the dataset.
        reason: why, in words (e.g. ``"silent: every sample is 0 (digital silence)"``).
    """

    path: str
    reason: str


@dataclass
class Corpus:
    """Fixed-length mono clips with labels and provenance.

    Attributes:
        waveforms: ``[N, L]`` float32 clips at ``sample_rate``.
        labels: ``N`` class labels.
        sources: ``N`` provenance strings ``"<file>@<offset>s"`` (offset of the clip's
            first sample in the source file, in seconds).
        sample_rate: Hz.
        skipped: files of the dataset that were left out, or that had clips left out
            (unreadable, corrupt, NaN, silent, shorter than one clip), with the reason;
            record it beside any result made from the corpus.
        source_rates: ``{rate in Hz: number of files}`` over the files that gave clips,
            before resampling to ``sample_rate``.
        log_mel: ``[N, M, F]`` log-mel dB of each clip when the corpus was loaded from a log-mel
            cache (:mod:`audiospec.data.melcache`; then ``waveforms`` is ``[N, 0]``), else None.
        mel: the :class:`~audiospec.transforms.MelConfig` of ``log_mel``.

    ``skipped`` and ``source_rates`` describe the load that built the corpus; :meth:`subset`
    keeps them unchanged.
    """

    waveforms: torch.Tensor
    labels: list[str]
    sources: list[str]
    sample_rate: int
    skipped: list[SkippedFile] = field(default_factory=list)
    source_rates: dict[int, int] = field(default_factory=dict)
    log_mel: torch.Tensor | None = None
    mel: MelConfig | None = None

    def __post_init__(self) -> None:
        if self.log_mel is not None and (self.log_mel.ndim != 3 or self.log_mel.shape[0] != len(self.labels)
                                         or not isinstance(self.mel, MelConfig) or self.log_mel.shape[1] != self.mel.n_mels):
            raise AudiospecError(f"Corpus.log_mel must be [N, n_mels, F] with N = {len(self.labels)} clips and its "
                                 f"MelConfig in Corpus.mel; got {tuple(self.log_mel.shape)} and {self.mel!r}")
        if not isinstance(self.waveforms, torch.Tensor) or self.waveforms.ndim != 2:
            shape = tuple(self.waveforms.shape) if isinstance(self.waveforms, torch.Tensor) else type(self.waveforms)
            raise AudiospecError(f"Corpus.waveforms must be a [N, L] tensor, got {shape}")
        if self.waveforms.dtype != torch.float32:
            raise AudiospecError(f"Corpus.waveforms must be float32, got {self.waveforms.dtype}")
        N = self.waveforms.shape[0]
        if len(self.labels) != N or len(self.sources) != N:
            raise AudiospecError(
                f"Corpus has {N} waveforms but {len(self.labels)} labels and {len(self.sources)} sources; "
                "they must match one to one"
            )
        if isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int) or self.sample_rate <= 0:
            raise AudiospecError(f"Corpus.sample_rate must be a positive integer, got {self.sample_rate!r}")
        bad = [item for item in self.skipped if not isinstance(item, SkippedFile)]
        if bad:
            raise AudiospecError(f"Corpus.skipped must hold SkippedFile(path, reason) items, got {bad[0]!r}")
        for rate, count in self.source_rates.items():
            if any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in (rate, count)):
                raise AudiospecError(
                    f"Corpus.source_rates must map positive integer rates (Hz) to positive file counts, "
                    f"got {rate!r}: {count!r}"
                )

    @property
    def classes(self) -> list[str]:
        """Sorted unique labels."""
        return sorted(set(self.labels))

    @property
    def clip_seconds(self) -> float:
        """Clip length in seconds."""
        return self.waveforms.shape[-1] / self.sample_rate

    def __len__(self) -> int:
        return self.waveforms.shape[0]

    def require_audio(self, what: str) -> None:
        """Raise :class:`AudiospecError` naming ``what`` when the corpus has no audio (a log-mel cache).

        Args:
            what: the step that needs waveforms, for the message (e.g. ``"the analysis"``).

        Raises:
            AudiospecError: ``waveforms`` is ``[N, 0]`` (the corpus was loaded with ``dataset: "log-mel:PATH"``).
        """
        if self.waveforms.shape[-1] == 0:
            raise AudiospecError(f"{what} needs the audio, but this corpus was loaded from a log-mel cache "
                                 "(dataset 'log-mel:...'); use the audio dataset it was made from")

    def take(self, keep: list[int]) -> Corpus:
        """The clips ``keep`` in that order; ``skipped`` and ``source_rates`` kept.

        Args:
            keep: clip indices into the corpus.

        Returns:
            A :class:`Corpus` of ``len(keep)`` clips (waveforms ``[len(keep), L]``, and ``log_mel`` when set).
        """
        return dataclasses.replace(
            self,
            waveforms=self.waveforms[keep],
            log_mel=self.log_mel[keep] if self.log_mel is not None else None,
            labels=[self.labels[i] for i in keep],
            sources=[self.sources[i] for i in keep],
            skipped=list(self.skipped),
            source_rates=dict(self.source_rates),
        )

    def subset(self, label: str) -> Corpus:
        """The clips of one class, in corpus order (``skipped`` and ``source_rates`` kept).

        Args:
            label: one of :attr:`classes`.

        Returns:
            A :class:`Corpus` with that class's clips ``[N_label, L]``.

        Raises:
            AudiospecError: a label not in the corpus (the message lists its classes).
        """
        if label not in self.labels:
            raise AudiospecError(f"label {label!r} is not in the corpus; its classes are {self.classes}")
        return self.take([i for i, lab in enumerate(self.labels) if lab == label])
