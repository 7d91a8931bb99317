"""The whole job a recipe runs: prepare the data, then every registered stage in order (the report is the command
line's last step).

A recipe (``conf/*.yaml``, :class:`PipelineConfig`) holds ``data``, the protocol (``compare``), one section per
stage it configures, and how models train (``workers``, ``train_seconds``). ``audiospec run`` includes each
registered stage (:mod:`audiospec.experiments.stage`) that belongs in a run: the ones every run has (analysis,
corrupt, compare; analysis and corrupt not on a log-mel cache, which has no audio) and the ones the recipe asks
for with a section (probe, baselines). Each stage writes into its own sub-folder of the run folder and is skipped
when its output is already there made with the same config, so an interrupted run resumes where it stopped;
training itself resumes from its last checkpoint. Every stage shares one :class:`~audiospec.experiments.context.
RunContext` (the corpus, its split, the classifier and the models are loaded or made once).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audiospec.atomic import write_json
from audiospec.config import config_from_dict, config_to_dict, save_config
from audiospec.data import FOLDER_PREFIX, LOG_MEL_PREFIX, DataConfig, prepare_dataset
from audiospec.diffusion.parallel import TrainJob, train_jobs
from audiospec.errors import AudiospecError
from audiospec.experiments.budget import apply_budget, fit_budget, throughput
from audiospec.experiments.context import RunContext
from audiospec.experiments.protocol import CompareConfig
from audiospec.experiments.stage import Stage, execute, stages

__all__ = ["PipelineConfig", "pipeline_jobs", "planned_stages", "run_pipeline"]

_RUN_KEYS = ("data", "workers", "train_seconds")  # the recipe's own keys; every other one is a stage's section


@dataclass(frozen=True)
class PipelineConfig:
    """A recipe's ``conf/*.yaml``: ``data``, the protocol ``compare``, a section per configured stage (``sections``:
    stage name -> its section's config), ``workers`` (models trained side by side) and ``train_seconds`` (a
    training budget in seconds instead of steps, :mod:`audiospec.experiments.budget`)."""

    data: DataConfig
    compare: CompareConfig = field(default_factory=CompareConfig)
    sections: dict[str, Any] = field(default_factory=dict)
    workers: int = 1
    train_seconds: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 1:
            raise AudiospecError(f"workers must be a positive integer (models trained side by side), got {self.workers!r}")
        if self.train_seconds is not None and not (isinstance(self.train_seconds, (int, float))
                                                   and not isinstance(self.train_seconds, bool) and self.train_seconds > 0):
            raise AudiospecError(f"train_seconds must be a positive number of seconds, got {self.train_seconds!r}")

    @classmethod
    def from_recipe(cls, raw: dict[str, Any], *, where: str = "recipe") -> "PipelineConfig":
        """Build from a recipe mapping; unknown sections are an error listing the valid ones, and every stage's
        run config is built (so checked) before anything runs."""
        sectioned = {s.name: s for s in stages() if s.section is not None}
        unknown = sorted(set(raw) - set(_RUN_KEYS) - set(sectioned))
        if unknown:
            raise AudiospecError(f"unknown key(s) {unknown} in {where}; valid keys are "
                                 f"{sorted(set(_RUN_KEYS) | set(sectioned))}")
        sections = {name: config_from_dict(sectioned[name].section, raw[name], where=f"{where}.{name}")
                    for name in raw if name in sectioned and name != "compare" and raw[name] is not None}
        config = cls(data=config_from_dict(DataConfig, raw.get("data"), where=f"{where}.data"),
                     compare=config_from_dict(CompareConfig, raw.get("compare"), where=f"{where}.compare"),
                     sections=sections, workers=raw.get("workers", 1), train_seconds=raw.get("train_seconds"))
        for stage in sectioned.values():
            if stage.name in sections or stage.name == "compare":
                config.run_config(stage)
        return config

    def section(self, name: str) -> Any:
        """A stage's section as the recipe gives it (None: the recipe has none)."""
        return self.compare if name == "compare" else self.sections.get(name)

    def run_config(self, stage: Stage) -> Any:
        """The run config of ``stage``: ``data``, the protocol and the sections its config class names."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(stage.config):
            if f.name == "data":
                values["data"] = self.data
            elif self.section(f.name) is not None:
                values[f.name] = self.section(f.name)
        try:
            return stage.config(**values)
        except TypeError as err:
            raise AudiospecError(f"the {stage.name} stage needs a section the recipe lacks: {err}") from None

    def to_config(self) -> dict[str, Any]:
        """The resolved YAML form: data, every section (a stage that runs without one at its defaults), settings."""
        out: dict[str, Any] = {"data": config_to_dict(self.data)}
        for stage in stages():
            if stage.section is None:
                continue
            section = self.section(stage.name)
            if section is None and not stage.optional:
                section = stage.section()
            if section is not None or stage.in_pipeline:
                out[stage.name] = None if section is None else config_to_dict(section)
        return {**out, "workers": self.workers, "train_seconds": self.train_seconds}


def planned_stages(config: PipelineConfig) -> list[tuple[Stage, Any]]:
    """(stage, run config) of every stage ``audiospec run`` runs for ``config``, in order (module doc)."""
    audio = not config.data.dataset.startswith(LOG_MEL_PREFIX)  # a log-mel cache has no audio to analyse or corrupt
    return [(stage, config.run_config(stage)) for stage in stages()
            if stage.in_pipeline and (audio or not stage.needs_audio)
            and (not stage.optional or config.section(stage.name) is not None)]


def pipeline_jobs(planned: list[tuple[Stage, Any]], context: RunContext) -> list[TrainJob]:
    """Every model the stages train, once each stage's checks of its own folder (its fingerprint) have passed, so a
    refused stage is not trained on in place. Writes nothing."""
    jobs: list[TrainJob] = []
    for stage, config in planned:
        if stage.jobs is not None:
            jobs += stage.jobs(config, context.for_stage(context.run_dir / stage.name))
    return jobs


def _fitted(config: PipelineConfig, out_dir: Path, context: RunContext) -> PipelineConfig:
    """``config`` with the budget in steps that fits ``train_seconds`` on this machine (reused on resume)."""
    record = fit_budget(pipeline_jobs(planned_stages(config), context), train_seconds=config.train_seconds,
                        workers=config.workers, out_dir=out_dir)
    return dataclasses.replace(config, compare=dataclasses.replace(
        config.compare, train=apply_budget(config.compare.train, record)))


def run_pipeline(config: PipelineConfig, *, out_dir: Path, progress: bool = True) -> Path:
    """Run (or resume) every stage into ``out_dir``; returns ``out_dir`` (``audiospec run`` then writes the report)."""
    out_dir = Path(out_dir)
    data = config.data
    planned = planned_stages(config)  # every stage's settings checked before any work
    if not data.dataset.startswith((LOG_MEL_PREFIX, FOLDER_PREFIX)):  # a folder or a cache needs no preparation
        prepare_dataset(data.dataset, data_dir=data.data_dir, source=data.source, hub_split=data.hub_split,
                        hub_label_column=data.hub_label_column, progress=progress)
    context = RunContext(data, config.compare, run_dir=out_dir, progress=progress)
    if config.train_seconds is not None:
        config = _fitted(config, out_dir, context)
        planned = planned_stages(config)
        context = context.with_protocol(config.compare)  # the fitted budget; the corpus and split as loaded
    save_config(config, out_dir / "config.yaml")
    pending = [(stage, stage_config) for stage, stage_config in planned if stage.jobs is not None
               and not stage.done(out_dir / stage.name, stage_config)]
    if config.workers > 1 and pending:
        jobs = pipeline_jobs(pending, context)
        started = time.perf_counter()
        results = train_jobs(jobs, workers=config.workers, progress=progress)
        trained = [job for job, result in zip(jobs, results) if result is not None]
        if trained:  # a resume with every model finished keeps the record of the call that trained them
            write_json(out_dir / "throughput.json", throughput(trained, workers=config.workers,
                                                               wall_seconds=time.perf_counter() - started))
    for stage, stage_config in planned:
        if not stage.done(out_dir / stage.name, stage_config):
            execute(stage, stage_config, context=context.for_stage(out_dir / stage.name))
    return out_dir

