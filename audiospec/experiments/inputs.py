"""What a stage reads before it writes: the corpus, its split by recording and the stage's fingerprint (issue 22).

:func:`stage_inputs` loads and splits the corpus of a run config (sections ``data`` and ``compare``), fingerprints
the stage (:mod:`audiospec.experiments.fingerprint`) and refuses when the stage's own folder holds what was made
from other inputs; only then does the stage write (:func:`record_inputs`: fingerprint, config, ``splits.json``).
The key sets name which settings a check compares (with the clips and the split).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from audiospec.atomic import write_json
from audiospec.config import save_config
from audiospec.data import Corpus, PatchSet, check_disjoint, corpus_patches, load_corpus, split_corpus
from audiospec.data.split import recording_groups
from audiospec.experiments.fingerprint import Fingerprint, check_inputs, read_fingerprint

if TYPE_CHECKING:  # the compare stage's settings; compare imports this module
    from audiospec.experiments.compare import CompareConfig

__all__ = ["MODEL_KEYS", "RESUMABLE_KEYS", "REUSED_KEYS", "SCORE_KEYS", "TRAINING_KEYS", "SplitPatches", "check_own",
           "record_inputs", "split_patches", "stage_inputs"]


@dataclass(frozen=True)
class SplitPatches:
    """A stage's split by source recording: the patches of each part, and its record (``splits.json``)."""

    parts: dict[str, PatchSet]
    sources: dict[str, list[str]]
    grouping: dict[str, Any]

    def write(self, out_dir: Path) -> None:
        write_json(Path(out_dir) / "splits.json", {**self.sources, "grouping": self.grouping})


def split_patches(corpus: Corpus, cfg: CompareConfig) -> SplitPatches:
    """Train, validation and test patches of a split by source recording; validation and test are centred and
    scaled like train. Writes nothing (:meth:`SplitPatches.write` after the stage's checks)."""
    grouping = recording_groups(corpus)
    splits = split_corpus(corpus, fractions=cfg.split_fractions, seed=cfg.split_seed, groups=grouping.keys,
                          split_file=Path(cfg.split_file) if cfg.split_file else None)
    check_disjoint(splits)  # no recording in two splits: evaluation never reads a training clip
    train_set = corpus_patches(splits["train"], mel=cfg.mel, patch_frames=cfg.patch_frames)
    parts = {"train": train_set, **{name: corpus_patches(splits[name], mel=cfg.mel, patch_frames=cfg.patch_frames,
                                                        like=train_set) for name in ("validation", "test")}}
    return SplitPatches(parts=parts, sources={name: list(part.sources) for name, part in splits.items()},
                        grouping=grouping.record())


# Settings checked by the stages' fingerprints (with the clips and the split): what one trained model depends on;
# the settings a resumed run may change (its models train on to more steps); the compare stage's models (every
# prior and seed); and, beyond them, what its metric rows and classifier depend on
TRAINING_KEYS = ("data", "compare.mel", "compare.patch_frames", "compare.train", "compare.split_fractions",
                 "compare.split_seed", "compare.split_file")
RESUMABLE_KEYS = ("compare.train.steps", "compare.train.checkpoint_every", "compare.train.log_every",
                  "compare.train.eval_every")
MODEL_KEYS = TRAINING_KEYS + ("compare.priors", "compare.seeds")
SCORE_KEYS = MODEL_KEYS + ("compare.steps", "compare.sampler", "compare.n_samples", "compare.classifier")
REUSED_KEYS = TRAINING_KEYS + ("compare.classifier",)  # what a resumed compare stage reuses of its folder


def stage_inputs(config: Any, *, stage: str, out_dir: Path, progress: bool, keys: Sequence[str],
                 ignore: Sequence[str] = ()) -> tuple[SplitPatches, Fingerprint]:
    """Load and split the corpus of ``config`` (sections ``data`` and ``compare``) and fingerprint this stage;
    refuses when ``out_dir`` holds what was made from other inputs (the clips, the split and the settings of
    ``keys``, which name what the stage reuses there: :mod:`~audiospec.experiments.fingerprint`). Writes nothing:
    the stage writes the fingerprint, its config and its split once every check has passed."""
    corpus = load_corpus(config.data, progress=progress)
    split = split_patches(corpus, config.compare)
    here = Fingerprint.of(stage, config, corpus=corpus, split=split.sources)
    check_own(here, out_dir, keys=keys, ignore=ignore)
    return split, here


def check_own(here: Fingerprint, out_dir: Path, *, keys: Sequence[str], ignore: Sequence[str] = ()) -> None:
    """Refuse when ``out_dir`` holds a fingerprint that differs from ``here`` within ``keys`` (none: the stage
    reuses nothing of its folder, nothing to check)."""
    if keys:
        check_inputs(here, read_fingerprint(out_dir), keys=keys, ignore=ignore, what=f"{str(out_dir)!r}",
                     fix=f"pass a new --out folder, or delete {str(out_dir)!r} to recompute it")


def record_inputs(config: Any, split: SplitPatches, fingerprint: Fingerprint, out_dir: Path) -> None:
    """A stage's first writes, after its checks: fingerprint, resolved config and split."""
    fingerprint.write(out_dir)
    save_config(config, Path(out_dir) / "config.yaml")
    split.write(out_dir)
