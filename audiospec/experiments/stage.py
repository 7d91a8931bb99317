"""The stage contract and its registry: what the pipeline, the command line and the report iterate.

A :class:`Stage` declares its name (its folder in a run, its YAML section, its anchor in the report), its run
config class (``data`` plus the sections it reads), its result class and output file, and ``run(config,
context)``, which returns the typed result (numbers only; the report turns them into words and figures). Like a
lhotse recipe, a stage is one module that registers itself: every module of :mod:`audiospec.experiments.stages`
is imported by :func:`stages`, so adding a stage touches only its module. :func:`register` also serves stages
defined elsewhere (a test's toy stage); whoever needs to hear of new stages (the command line adds a command)
subscribes with :func:`on_register`.
"""

from __future__ import annotations

import importlib
import pkgutil
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from audiospec.atomic import write_json
from audiospec.config import config_from_dict, config_to_dict, read_yaml
from audiospec.diffusion.parallel import TrainJob
from audiospec.errors import AudiospecError
from audiospec.experiments.context import RunContext
from audiospec.experiments.results import read_result, to_json

__all__ = ["Stage", "execute", "on_register", "register", "stage", "stages"]

C = TypeVar("C")
R = TypeVar("R")


@dataclass(frozen=True)
class Stage(Generic[C, R]):
    """One stage of a run (module doc).

    Attributes:
        name: its folder in a run folder, its YAML section and its anchor in the report.
        config: its run config class: a dataclass with ``data`` and the sections it reads (its own: ``name``).
        result: the class of what ``run`` returns, written to ``output``.
        output: its result file in its folder (the run is done when it is there, made with the same config).
        run: ``run(config, context) -> result``; ``context.out_dir`` is its folder.
        order: its place in a run (lower first).
        summary: one line for ``audiospec --help``.
        examples: command lines for its ``--help``.
        command: its command-line verb (default: ``name``).
        needs_audio: it reads waveforms (left out of a run on a log-mel cache).
        optional: a run includes it only when the recipe has its section.
        in_pipeline: ``audiospec run`` includes it (False: only its own command runs it).
        jobs: ``jobs(config, context)``, the models it trains, for ``audiospec run`` to train them up front after
            the stage's own checks (None: it trains none).
    """

    name: str
    config: type[C]
    result: type[R]
    output: str
    run: Callable[[C, RunContext], R]
    order: int
    summary: str
    examples: str = ""
    command: str = ""
    needs_audio: bool = False
    optional: bool = True
    in_pipeline: bool = True
    jobs: Callable[[C, RunContext], list[TrainJob]] | None = None

    @property
    def verb(self) -> str:
        """The command-line verb."""
        return self.command or self.name

    @property
    def section(self) -> type | None:
        """The config class of its YAML section (the type of its run config's field ``name``), or None."""
        hints = typing.get_type_hints(self.config)
        hint = hints.get(self.name)
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if args else hint

    def read(self, folder: Path) -> R:
        """Its result as written in ``folder``."""
        return read_result(self.result, Path(folder) / self.output)

    def done(self, folder: Path, config: C) -> bool:
        """True when ``folder`` already holds its output made with exactly ``config``; an output made with another
        config is an error naming the fix."""
        folder = Path(folder)
        if not (folder / self.output).is_file():
            return False
        saved = folder / "config.yaml"
        if saved.is_file() and _resolved(read_yaml(saved), self.config) == config_to_dict(config):
            return True
        raise AudiospecError(f"{str(folder)!r} holds results made with a different config; pass a new --out folder, "
                             f"or delete {str(folder)!r} to recompute it")


def _resolved(saved: Any, cls: type) -> Any:
    """A saved stage config with the settings added since it was written at their defaults (as saved when it does
    not load: then it differs)."""
    try:
        return config_to_dict(config_from_dict(cls, saved))
    except AudiospecError:
        return saved


_STAGES: dict[str, Stage] = {}
_LISTENERS: list[Callable[[Stage], None]] = []
_DISCOVERED = False


def register(new: Stage) -> Stage:
    """Add a stage to the registry and tell the listeners (:func:`on_register`); returns it."""
    if new.name in _STAGES and _STAGES[new.name] is not new:
        raise AudiospecError(f"two stages are named {new.name!r}; give the new one its own name")
    if _STAGES.get(new.name) is not new:
        _STAGES[new.name] = new
        for listener in list(_LISTENERS):
            listener(new)
    return new


def on_register(listener: Callable[[Stage], None]) -> None:
    """Call ``listener(stage)`` for every stage registered from now on."""
    _LISTENERS.append(listener)


def stages() -> list[Stage]:
    """Every registered stage in run order (the modules of :mod:`audiospec.experiments.stages` are imported first)."""
    global _DISCOVERED
    if not _DISCOVERED:
        _DISCOVERED = True
        from audiospec.experiments import stages as package

        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    return sorted(_STAGES.values(), key=lambda s: (s.order, s.name))


def stage(name: str) -> Stage:
    """The registered stage named ``name`` (its folder name, or its command-line verb)."""
    for found in stages():
        if name in (found.name, found.verb):
            return found
    raise AudiospecError(f"no stage is named {name!r}; the stages are {[s.name for s in stages()]}")


def execute(stage: Stage[C, R], config: C, *, out_dir: Path | None = None, context: RunContext | None = None,
            progress: bool = True) -> R:
    """Run ``stage`` with ``config`` into ``out_dir`` (or ``context.out_dir``) and write its output file.

    Without a ``context`` (one command, one stage) one is made from ``config``'s ``data`` and ``compare`` sections,
    with the run folder the parent of ``out_dir``.
    """
    if context is None:
        if out_dir is None:
            raise AudiospecError("execute needs out_dir or a context")
        context = RunContext(config.data, getattr(config, "compare", None), run_dir=Path(out_dir).parent,
                             out_dir=Path(out_dir), progress=progress)
    elif out_dir is not None:
        context = context.for_stage(out_dir)
    result = stage.run(config, context)
    write_json(context.out_dir / stage.output, to_json(result))
    return result

