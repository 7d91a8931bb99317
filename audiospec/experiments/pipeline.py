"""The whole job a recipe runs: prepare -> analyze -> corrupt -> train per prior -> compare -> probe -> baselines ->
report.

Each stage writes into its own sub-folder of the run folder and is skipped when its
result is already there (``analysis/analysis.json``, ``corrupt/corrupt.json``,
``compare/results.json``, ``probe/probe.json``, ``baselines/baselines.json``; the probe and baselines stages run
only when the recipe has a ``probe`` / ``baselines`` section, beside the compare stage's models), so an interrupted
run resumes where it stopped; training itself resumes from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audiospec.config import config_from_dict, config_to_dict, read_yaml, save_config
from audiospec.errors import AudiospecError
from audiospec.data import FOLDER_PREFIX, LOG_MEL_PREFIX, DataConfig, prepare_dataset
from audiospec.atomic import write_json
from audiospec.diffusion.parallel import TrainJob, train_jobs
from audiospec.experiments.budget import apply_budget, fit_budget, throughput
from audiospec.experiments.baselines import BaselinesConfig, BaselinesRunConfig, run_baselines
from audiospec.experiments.baselines import planned_jobs as baseline_jobs
from audiospec.experiments.analysis import AnalysisConfig, AnalyzeRunConfig, run_analysis
from audiospec.experiments.compare import (
    RESUMABLE_KEYS,
    REUSED_KEYS,
    TRAINING_KEYS,
    CompareConfig,
    CompareRunConfig,
    check_own,
    run_compare,
    stage_inputs,
)
from audiospec.experiments.compare import planned_jobs as compare_jobs
from audiospec.experiments.corrupt import CorruptConfig, CorruptRunConfig, run_corrupt
from audiospec.experiments.probe import ProbeConfig, ProbeRunConfig, run_probe
from audiospec.report.build import build_report

__all__ = ["PipelineConfig", "run_pipeline"]


@dataclass(frozen=True)
class PipelineConfig:
    """A recipe's ``conf/*.yaml``: sections ``data``, ``analysis``, ``corrupt``, ``compare``, optionally ``probe`` and
    ``baselines``."""

    data: DataConfig
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    corrupt: CorruptConfig = field(default_factory=CorruptConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    probe: ProbeConfig | None = None
    baselines: BaselinesConfig | None = None
    workers: int = 1
    train_seconds: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 1:
            raise AudiospecError(f"workers must be a positive integer (models trained side by side), got {self.workers!r}")
        if self.train_seconds is not None and not (isinstance(self.train_seconds, (int, float))
                                                   and not isinstance(self.train_seconds, bool) and self.train_seconds > 0):
            raise AudiospecError(f"train_seconds must be a positive number of seconds, got {self.train_seconds!r}")


def run_pipeline(config: PipelineConfig, *, out_dir: Path, progress: bool = True) -> Path:
    """Run (or resume) every stage into ``out_dir``; returns the path of ``report.html``."""
    out_dir = Path(out_dir)
    data = config.data
    audio = not data.dataset.startswith(LOG_MEL_PREFIX)  # a log-mel cache has no audio to analyse or corrupt
    stages = _stages(config, audio=audio)  # every stage's settings checked before any work
    if audio and not data.dataset.startswith(FOLDER_PREFIX):  # a folder needs no preparation
        prepare_dataset(data.dataset, data_dir=data.data_dir, source=data.source, hub_split=data.hub_split,
                        hub_label_column=data.hub_label_column, progress=progress)
    if config.train_seconds is not None:  # the budget in steps that fits the seconds on this machine
        record = fit_budget(_jobs(config, out_dir, progress), train_seconds=config.train_seconds,
                            workers=config.workers, out_dir=out_dir)
        config = dataclasses.replace(config, compare=dataclasses.replace(
            config.compare, train=apply_budget(config.compare.train, record)))
        stages = _stages(config, audio=audio)
    save_config(config, out_dir / "config.yaml")
    compare = next(stage_config for folder, _, stage_config, _ in stages if folder == "compare")
    if config.workers > 1 and not _done(out_dir / "compare", "results.json", compare):
        jobs = _jobs(config, out_dir, progress)
        started = time.perf_counter()
        train_jobs(jobs, workers=config.workers, progress=progress)
        write_json(out_dir / "throughput.json", throughput(jobs, workers=config.workers,
                                                           wall_seconds=time.perf_counter() - started))
    for folder, result, stage_config, run in stages:
        if not _done(out_dir / folder, result, stage_config):
            run(stage_config, out_dir=out_dir / folder, progress=progress)
    return build_report(out_dir)


def _stages(config: PipelineConfig, *, audio: bool) -> list[tuple[str, str, Any, Any]]:
    """(folder, result file, stage config, run function) of every stage the recipe asks for, in order."""
    data = config.data
    stages: list[tuple[str, str, Any, Any]] = [
        ("analysis", "analysis.json", AnalyzeRunConfig(data=data, analysis=config.analysis), run_analysis),
        ("corrupt", "corrupt.json", CorruptRunConfig(data=data, corrupt=config.corrupt), run_corrupt),
    ] if audio else []
    stages.append(("compare", "results.json", CompareRunConfig(data=data, compare=config.compare), run_compare))
    if config.probe is not None:
        stages.append(("probe", "probe.json", ProbeRunConfig(data=data, compare=config.compare, probe=config.probe),
                       run_probe))
    if config.baselines is not None:
        stages.append(("baselines", "baselines.json",
                       BaselinesRunConfig(data=data, compare=config.compare, baselines=config.baselines), run_baselines))
    return stages


def _jobs(config: PipelineConfig, out_dir: Path, progress: bool) -> list[TrainJob]:
    """Every model the compare and baselines stages train (module doc), once the checks those stages make of their
    folders (their fingerprints) have passed, so a refused stage is not trained on in place. Writes nothing."""
    cfg = config.compare
    compare = CompareRunConfig(data=config.data, compare=cfg)
    split, fingerprint = stage_inputs(compare, stage="compare", out_dir=out_dir / "compare", progress=progress,
                                      keys=REUSED_KEYS, ignore=RESUMABLE_KEYS)
    jobs = compare_jobs(cfg, split.parts, out_dir / "compare")
    if config.baselines is not None:
        baselines = BaselinesRunConfig(data=config.data, compare=cfg, baselines=config.baselines)
        check_own(dataclasses.replace(fingerprint, stage="baselines", settings=config_to_dict(baselines)),
                  out_dir / "baselines", keys=TRAINING_KEYS, ignore=RESUMABLE_KEYS)
        jobs += baseline_jobs(config.baselines, cfg, split.parts, out_dir / "baselines")
    return jobs


def _resolved(saved: Any, cls: type) -> Any:
    """A saved stage config with the settings added since it was written at their defaults (as saved when it does
    not load: then it differs)."""
    try:
        return config_to_dict(config_from_dict(cls, saved))
    except AudiospecError:
        return saved


def _done(stage_dir: Path, result: str, stage_config: Any) -> bool:
    """True when ``stage_dir`` already holds ``result`` made with exactly ``stage_config``."""
    if not (stage_dir / result).is_file():
        return False
    saved = stage_dir / "config.yaml"
    if saved.is_file() and _resolved(read_yaml(saved), type(stage_config)) == config_to_dict(stage_config):
        return True
    raise AudiospecError(
        f"{str(stage_dir)!r} holds results made with a different config; pass a new --out folder, "
        f"or delete {str(stage_dir)!r} to recompute it"
    )
