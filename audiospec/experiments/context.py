"""What the stages of one run share, built once and handed to every stage (:class:`RunContext`).

A run context holds the dataset and the protocol (:class:`~audiospec.experiments.protocol.ProtocolConfig`, the
recipe's ``compare`` section) and gives the stages, each loaded or computed once per run: the corpus, its split
by source recording into centred patch sets (:class:`SplitPatches`), the metrics' classifier of a stage folder,
the quality floors, and a model store per stage folder (:class:`~audiospec.experiments.models.ModelStore`). It
also says where a stage writes (``out_dir``) and where the other stages of the run are (:meth:`folder`).

What a stage reads before it writes (issue 22): :meth:`RunContext.inputs` splits the corpus and fingerprints the
stage, refusing when the stage's own folder holds what was made from other inputs; :meth:`RunContext.upstream`
refuses when a stage it reads was made from other inputs; only then does the stage write
(:meth:`RunContext.record`: fingerprint, config, ``splits.json``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from audiospec.atomic import write_json
from audiospec.config import config_to_dict, save_config
from audiospec.data import (
    Corpus,
    DataConfig,
    PatchSet,
    check_disjoint,
    corpus_patches,
    load_corpus,
    split_corpus,
)
from audiospec.data.split import recording_groups
from audiospec.diffusion.runtime import default_device
from audiospec.errors import AudiospecError
from audiospec.experiments.fingerprint import FINGERPRINT_NAME, Fingerprint, check_inputs, read_fingerprint
from audiospec.experiments.models import ModelStore
from audiospec.experiments.protocol import CompareConfig, CompareRunConfig, ProtocolConfig
from audiospec.measures.gaussian import data_spectrum, gaussian_fields
from audiospec.metrics import TrainedClassifier, evaluate_samples, train_classifier

__all__ = ["RunContext", "SplitPatches", "split_patches"]


@dataclass(frozen=True)
class SplitPatches:
    """A run's split by source recording: the patches of each part, and its record (``splits.json``)."""

    parts: dict[str, PatchSet]
    sources: dict[str, list[str]]
    grouping: dict[str, Any]

    def write(self, out_dir: Path) -> None:
        write_json(Path(out_dir) / "splits.json", {**self.sources, "grouping": self.grouping})


def split_patches(corpus: Corpus, protocol: ProtocolConfig) -> SplitPatches:
    """Train, validation and test patches of a split by source recording; validation and test are centred and
    scaled like train. Writes nothing (:meth:`SplitPatches.write` after the stage's checks)."""
    grouping = recording_groups(corpus)
    splits = split_corpus(corpus, fractions=protocol.split_fractions, seed=protocol.split_seed, groups=grouping.keys,
                          split_file=Path(protocol.split_file) if protocol.split_file else None)
    check_disjoint(splits)  # no recording in two splits: evaluation never reads a training clip
    train_set = corpus_patches(splits["train"], mel=protocol.mel, patch_frames=protocol.patch_frames)
    parts = {"train": train_set, **{name: corpus_patches(splits[name], mel=protocol.mel,
                                                        patch_frames=protocol.patch_frames, like=train_set)
                                    for name in ("validation", "test")}}
    return SplitPatches(parts=parts, sources={name: list(part.sources) for name, part in splits.items()},
                        grouping=grouping.record())


def _key(*parts: Any) -> str:
    return json.dumps([config_to_dict(p) if dataclasses.is_dataclass(p) else p for p in parts], sort_keys=True)


class RunContext:
    """The shared state of one run (module doc); :meth:`for_stage` gives the view one stage runs with.

    Args:
        data: the dataset settings.
        protocol: the recipe's ``compare`` section (default: its defaults).
        run_dir: the run folder, which holds one folder per stage.
        out_dir: the folder of the stage this view is for (default: the run folder).
        progress: show progress bars.
    """

    def __init__(self, data: DataConfig, protocol: ProtocolConfig | None = None, *, run_dir: Path,
                 out_dir: Path | None = None, progress: bool = True, cache: dict[str, Any] | None = None) -> None:
        self.data = data
        self.protocol = protocol if protocol is not None else CompareConfig()
        self.run_dir = Path(run_dir)
        self.out_dir = Path(out_dir) if out_dir is not None else self.run_dir
        self.progress = progress
        self._cache: dict[str, Any] = {} if cache is None else cache

    def for_stage(self, out_dir: Path, *, protocol: ProtocolConfig | None = None) -> "RunContext":
        """The view of a stage writing into ``out_dir`` (the run folder is its parent), sharing this run's state."""
        out_dir = Path(out_dir)
        return RunContext(self.data, protocol if protocol is not None else self.protocol, run_dir=out_dir.parent,
                          out_dir=out_dir, progress=self.progress, cache=self._cache)

    def with_protocol(self, protocol: ProtocolConfig) -> "RunContext":
        """This context with another protocol (e.g. a fitted training budget), sharing what was loaded."""
        return RunContext(self.data, protocol, run_dir=self.run_dir, out_dir=self.out_dir, progress=self.progress,
                          cache=self._cache)

    def folder(self, name: str) -> Path:
        """The folder of another stage of this run (``compare`` beside this stage's folder)."""
        return self.run_dir / name

    @property
    def corpus(self) -> Corpus:
        """The dataset's clips, loaded once per run."""
        key = _key("corpus", self.data)
        if key not in self._cache:
            self._cache[key] = load_corpus(self.data, progress=self.progress)
        return self._cache[key]

    @property
    def split(self) -> SplitPatches:
        """The corpus split by source recording into centred patch sets, once per run."""
        p = self.protocol
        key = _key("split", self.data, p.mel, p.patch_frames, p.split_fractions, p.split_seed, p.split_file)
        if key not in self._cache:
            self._cache[key] = split_patches(self.corpus, p)
        return self._cache[key]

    def inputs(self, stage: str, config: Any, *, keys: Sequence[str], ignore: Sequence[str] = ()
               ) -> tuple[SplitPatches, Fingerprint]:
        """The split and this stage's fingerprint (``config``: its run config); refuses when ``out_dir`` holds what
        was made from other inputs within ``keys`` (what the stage reuses there). Writes nothing."""
        split = self.split
        here = Fingerprint.of(stage, config, corpus=self.corpus, split=split.sources)
        self.check_own(here, keys=keys, ignore=ignore)
        return split, here

    def check_own(self, here: Fingerprint, *, keys: Sequence[str], ignore: Sequence[str] = ()) -> None:
        """Refuse when ``out_dir`` holds a fingerprint that differs from ``here`` within ``keys`` (none: the stage
        reuses nothing of its folder, nothing to check)."""
        if keys:
            check_inputs(here, read_fingerprint(self.out_dir), keys=keys, ignore=ignore, what=f"{str(self.out_dir)!r}",
                         fix=f"pass a new --out folder, or delete {str(self.out_dir)!r} to recompute it")

    def upstream(self, here: Fingerprint, compare_dir: Path, *, keys: Sequence[str]) -> None:
        """Refuse unless ``compare_dir`` holds a compare stage made from the same inputs as ``here`` within
        ``keys``."""
        there = read_fingerprint(compare_dir, legacy=CompareRunConfig)  # a folder from before fingerprints: its config
        if there is None:
            raise AudiospecError(f"{str(compare_dir)!r} holds no compare stage (no {FINGERPRINT_NAME} or config.yaml): "
                                 f"run `audiospec compare` with this config into it first (or set compare_dir)")
        check_inputs(here, there, keys=keys, what=f"the compare stage in {str(compare_dir)!r}",
                     fix=f"use the config it was made with ({str(compare_dir / 'config.yaml')!r}), or run "
                         "`audiospec compare` with this config into a new run folder first")

    def record(self, config: Any, split: SplitPatches | None, fingerprint: Fingerprint) -> None:
        """A stage's first writes, after its checks: fingerprint, resolved config and split."""
        fingerprint.write(self.out_dir)
        save_config(config, self.out_dir / "config.yaml")
        if split is not None:
            split.write(self.out_dir)

    def classifier(self, folder: Path, *, read_only: bool = False) -> TrainedClassifier:
        """The metrics' classifier of a stage folder, trained once on the training split and reused (on resume and
        by later stages); ``read_only``: another stage's, which must be there (a stage never writes into
        another's folder)."""
        classifier_dir = Path(folder) / "classifier"
        key = _key("classifier", str(classifier_dir.resolve()))
        if key in self._cache:
            return self._cache[key]
        if (classifier_dir / "classifier.json").is_file():
            classifier = TrainedClassifier.load(classifier_dir)
        elif read_only:
            raise AudiospecError(f"{str(classifier_dir)!r} holds no classifier: run `audiospec compare` with this "
                                 f"config into {str(folder)!r} first (it trains the classifier of the metrics)")
        else:
            data = self.split.parts["train"]
            classifier = train_classifier(data.patches, data.labels, config=self.protocol.classifier,
                                          device=default_device(), groups=[str(int(i)) for i in data.clip_index],
                                          progress=self.progress)
            classifier.model.to("cpu")  # trained on the GPU when there is one; embeddings are taken beside the samples
            classifier.save(classifier_dir)
        self._cache[key] = classifier
        return classifier

    def floors(self, classifier: TrainedClassifier) -> dict[str, Any]:
        """Reference rows of every quality table, all against the test split: real training patches (the floor a
        perfect model reaches) and Gaussian fields with the training split's centred spectrum (second order)."""
        key = _key("floors", id(classifier))
        if key not in self._cache:
            data, test = self.split.parts["train"], self.split.parts["test"]
            g = torch.Generator().manual_seed(self.protocol.split_seed)
            n = min(self.protocol.n_samples, data.patches.shape[0])
            real = data.patches[torch.randperm(data.patches.shape[0], generator=g)[:n]]
            gaussian = gaussian_fields(data_spectrum(data.patches), (n, *data.patches.shape[1:]), generator=g)
            self._cache[key] = {name: evaluate_samples(x, test.patches, classifier=classifier, real_labels=test.labels,
                                                       train=data.patches)
                                for name, x in (("real train vs test", real), ("gaussian, train spectrum", gaussian))}
        return self._cache[key]

    def models(self, folder: Path | None = None) -> ModelStore:
        """The model store of a stage folder (default: this stage's)."""
        return ModelStore(Path(folder) if folder is not None else self.out_dir, progress=self.progress)
