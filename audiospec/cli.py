"""The ``audiospec`` command line: a typed shell over the library.

Each command builds a config, calls one library function, and turns
:class:`AudiospecError` into a clean message and exit code 2.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, TypeVar

import typer

from audiospec.atomic import output_lock
from audiospec.config import choices, config_from_dict, read_yaml
from audiospec.data.config import DatasetName
from audiospec.diffusion.runtime import RuntimeName
from audiospec.diffusion.samplers import SamplerName
from audiospec.errors import AudiospecError

C = TypeVar("C")


def _choice_enum(name: str, hint: Any) -> type[Enum]:
    """A str Enum of a ``Literal``'s values (typer shows and checks them as choices)."""
    return Enum(name, {value: value for value in choices(hint)}, type=str)  # type: ignore[return-value]


PreparableDataset = _choice_enum("PreparableDataset", DatasetName)
Runtime = _choice_enum("Runtime", RuntimeName)
Sampler = _choice_enum("Sampler", SamplerName)

# options shared by the commands that load a dataset
OutOption = Annotated[Path, typer.Option(help="Output folder (resumed / reused when it exists).")]
ConfigOption = Annotated[Optional[Path], typer.Option(help="A recipe YAML, e.g. recipes/mini/conf/cpu.yaml.")]
DatasetOption = Annotated[
    Optional[str],
    typer.Option(help="mini | debian | gtzan-music-speech | gtzan-genres | folder:PATH (overrides --config)."),
]
DataDirOption = Annotated[Optional[str], typer.Option(help="Dataset cache folder (default data/).")]
SourceOption = Annotated[Optional[str], typer.Option(help="Where to get GTZAN (URL, archive, folder, hf:owner/name).")]
MaxClipsOption = Annotated[Optional[int], typer.Option(help="Cap the clips per class.")]
StrictOption = Annotated[bool, typer.Option(
    help="Stop at the first corrupt, empty, NaN or silent file instead of skipping it (skips are recorded).")]
ProgressOption = Annotated[bool, typer.Option(help="Show progress bars.")]

app = typer.Typer(
    help="Is diffusion on audio spectrograms cepstral autoregression? Analyse, corrupt, train and compare.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _clean_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn AudiospecError into 'error: ...' on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AudiospecError as err:
            typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=2) from None

    return wrapper


_RUN_KEYS = ("workers", "train_seconds")  # a recipe's own settings, beside the stages' sections


def _recipe_sections() -> set[str]:
    """The top-level keys of a recipe a single command may skip: every stage's section and the run settings."""
    from audiospec.experiments.stage import stages

    return {stage.name for stage in stages()} | set(_RUN_KEYS)


def _run_config(cls: type[C], config: Optional[Path], **data: Any) -> C:
    """Build a run config from the YAML file, with command-line ``data`` values winning (None = not given).

    Recipe sections that ``cls`` has no field for are skipped (``audiospec compare`` on a
    recipe file); any other unknown top-level key is an error.
    """
    raw = read_yaml(config) if config is not None else {}
    return _config_from_raw(cls, raw, str(config) if config else "command line", **data)


def _config_from_raw(cls: type[C], raw: dict[str, Any], where: str, **data: Any) -> C:
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    recipe = getattr(cls, "from_recipe", None)
    if recipe is None:
        sections = _recipe_sections()
        raw = {key: value for key, value in raw.items() if key in fields or key not in sections}
    section = raw.get("data", {})
    if not isinstance(section, dict):
        raise AudiospecError(f"{where}: data must be a mapping of settings, got {section!r}")
    raw = {**raw, "data": {**section, **{k: v for k, v in data.items() if v is not None}}}
    if "dataset" not in raw["data"]:
        raise AudiospecError("no dataset given: pass --dataset (e.g. --dataset mini) or set data.dataset in --config")
    return recipe(raw, where=where) if recipe is not None else config_from_dict(cls, raw, where=where)


@app.command()
@_clean_errors
def prepare(
    dataset: PreparableDataset = typer.Argument(..., help="Which dataset to download / cut."),
    data_dir: Path = typer.Option(Path("data"), help="Cache folder."),
    source: Optional[str] = typer.Option(None, help="Archive URL, local archive or folder, or hf:owner/name."),
    install_packages: bool = typer.Option(
        False, help="mini / debian: apt-get install their Debian packages of recordings when missing (root or sudo)."),
    progress: ProgressOption = True,
) -> None:
    """Download / extract / cut a dataset into DATA_DIR (idempotent).

    Examples:
      audiospec prepare mini --install-packages
      audiospec prepare debian --install-packages   (the larger corpus: six packages, ~420 MB download)
      audiospec prepare gtzan-music-speech --source ~/Downloads/music_speech.tar.gz
    """
    from audiospec.data import prepare_dataset

    path = prepare_dataset(dataset.value, data_dir=data_dir, source=source, install=install_packages,
                           progress=progress)
    typer.echo(f"prepared {dataset.value} in {path}")


def _lazy(module: str, name: str) -> Callable[[], Any]:
    return lambda: getattr(__import__(module, fromlist=[name]), name)


def _data_command(name: str, *, run: Callable[..., Any], config_class: Callable[[], type], summary: str,
                  examples: str, done: Callable[[Any, Path], str]) -> None:
    """Register ``audiospec NAME``: read a recipe (+ data options), run one library function, print ``done``.

    The stages' commands and ``export-log-mel`` share this shape (and so their options); ``run`` and
    ``config_class`` are looked up when the command runs.
    """

    @app.command(name, help=f"{summary}\n\nExamples:\n\n{examples}")
    @_clean_errors
    def command(out: OutOption, config: ConfigOption = None, dataset: DatasetOption = None,
                data_dir: DataDirOption = None, source: SourceOption = None,
                max_clips_per_class: MaxClipsOption = None, strict: StrictOption = False,
                progress: ProgressOption = True) -> None:
        run_config = _run_config(config_class(), config, dataset=dataset, data_dir=data_dir, source=source,
                                 max_clips_per_class=max_clips_per_class, strict=strict or None)
        with output_lock(out):
            result = run()(run_config, out_dir=out, progress=progress)
        typer.echo(done(result, out))


def _stage_command(stage: Any) -> None:
    """``audiospec <verb>`` of a registered stage: run it into --out, then draw its figures and page
    (:func:`audiospec.report.build.render_stage`) and print its summary."""

    def run() -> Callable[..., Any]:
        def execute_and_render(run_config: Any, *, out_dir: Path, progress: bool) -> Any:
            from audiospec.experiments.stage import execute
            from audiospec.report.build import render_stage

            result = execute(stage, run_config, out_dir=out_dir, progress=progress)
            render_stage(stage, out_dir)
            return result

        return execute_and_render

    def done(result: Any, out: Path) -> str:
        from audiospec.report.build import summary_text

        return summary_text(stage, result, out)

    _data_command(stage.verb, run=run, config_class=lambda: stage.config, summary=stage.summary,
                  examples=stage.examples or f"  audiospec {stage.verb} --config RECIPE.yaml --out RUN/{stage.name}",
                  done=done)


def _export_log_mel(config: Any, *, out_dir: Path, progress: bool) -> Path:
    from audiospec.data import export_log_mel

    return export_log_mel(config.data, mel=config.compare.mel, out_dir=out_dir, progress=progress)


def _pipeline(config: Any, *, out_dir: Path, progress: bool) -> Path:
    from audiospec.experiments.pipeline import run_pipeline
    from audiospec.report.build import build_report

    return build_report(run_pipeline(config, out_dir=out_dir, progress=progress))


def _add_stage_commands() -> None:
    """A command per registered stage, now and for every stage registered later."""
    from audiospec.experiments.stage import on_register, stages

    for stage in stages():
        _stage_command(stage)
    on_register(_stage_command)


_add_stage_commands()
_data_command(
    "export-log-mel", run=lambda: _export_log_mel,
    config_class=_lazy("audiospec.experiments.protocol", "CompareRunConfig"),
    summary="Write a dataset as log-mel spectrograms with the recipe's compare.mel settings (8-bit, exact to 0.16 dB, "
            "with its manifest), for a machine without the audio: run the recipe there with --dataset log-mel:OUT.",
    examples="  audiospec export-log-mel --config recipes/debian/conf/gpu-protocol.yaml --out data/debian-log-mel",
    done=lambda folder, out: f"log-mel cache in {folder}: use --dataset log-mel:{folder}")
_data_command(
    "run", run=lambda: _pipeline, config_class=_lazy("audiospec.experiments.pipeline", "PipelineConfig"),
    summary="A whole recipe, resumable: every stage of audiospec/experiments/stages it asks for, then the report.",
    examples="  audiospec run --config recipes/gtzan_music_speech/conf/cpu.yaml --out runs/gtzan-ms",
    done=lambda report, out: f"report: {report}")


@app.command("train")
@_clean_errors
def train_command(
    out: Annotated[Path, typer.Option(help="Run folder: checkpoint.safetensors, config.yaml, loss.csv, run.yaml.")],
    config: Annotated[Optional[Path], typer.Option(
        help="A train YAML (sections data, mel, patch_frames, prior, train) or a recipe YAML (its compare section).")
    ] = None,
    prior: Annotated[Optional[str], typer.Option(
        help="Noise prior: white, pink, brown, blue, matched, matched_dct or beta=<number> (overrides the config).")] = None,
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    source: SourceOption = None,
    resume: bool = typer.Option(True, help="Continue from out/checkpoint.safetensors when it exists."),
    runtime: Runtime = typer.Option("single", help="single device, or HF Accelerate (multi-GPU)."),
    progress: ProgressOption = True,
) -> None:
    """Train one mel-spectrogram flow-matching model with a white, coloured or data-matched prior.

    Examples:
      audiospec train --config recipes/mini/conf/cpu.yaml --prior pink --out runs/train-pink
      audiospec train --dataset mini --out runs/train-white   (all defaults: tiny U-Net, white prior)
      accelerate launch --multi_gpu --num_processes 4 -m audiospec train --runtime accelerate \\
          --config recipes/mini/conf/gpu.yaml --prior pink --out runs/train-4gpu
    """
    from audiospec.experiments.train_run import TrainRunConfig, run_train, train_section

    raw = train_section(read_yaml(config)) if config is not None else {}
    if prior is not None:
        raw["prior"] = prior
    run_config = _config_from_raw(TrainRunConfig, raw, str(config) if config else "command line",
                                  dataset=dataset, data_dir=data_dir, source=source)
    if runtime.value == "accelerate":  # every process writes into out; the main one alone writes files
        from audiospec.diffusion.runtime import AccelerateRuntime

        engine = AccelerateRuntime(precision=run_config.train.precision)
        result = run_train(run_config, out_dir=out, resume=resume, progress=progress, runtime=engine)
    else:
        with output_lock(out):
            result = run_train(run_config, out_dir=out, resume=resume, progress=progress)
    typer.echo(f"trained to step {result.steps} (final loss {result.final_loss:.4f}); checkpoint: {result.checkpoint}")


@app.command("sample")
@_clean_errors
def sample_command(
    checkpoint: Path = typer.Option(..., help="checkpoint.safetensors inside a folder written by `audiospec train`."),
    out: Path = typer.Option(..., help="Folder for sample{i}.wav, sample{i}.png and samples.json."),
    steps: int = typer.Option(32, help="Number of sampling steps (chosen at sampling time)."),
    n: int = typer.Option(4, help="Number of samples."),
    sampler: Sampler = typer.Option("euler", help="euler / heun (flow matching), ancestral (vp_eps)."),
    seed: int = typer.Option(0, help="Seed of the initial noise."),
    progress: ProgressOption = True,
) -> None:
    """Generate audio from a trained model: sample log-mel patches, invert with Griffin-Lim, write WAV + PNG.

    Example:
      audiospec sample --checkpoint runs/train-pink/checkpoint.safetensors --steps 16 --n 4 --out runs/samples
    """
    from audiospec.experiments.train_run import run_sample
    from audiospec.report.spectrograms import draw_spectrograms

    with output_lock(out):
        files = run_sample(checkpoint, n=n, steps=steps, out_dir=out, sampler=sampler.value, seed=seed,
                           progress=progress)
        draw_spectrograms(out)
    typer.echo(f"wrote {len(files)} samples to {out}")


@app.command()
@_clean_errors
def report(
    runs: Optional[list[Path]] = typer.Argument(
        None, help="A run folder holding analysis/, corrupt/ and/or compare/; two or more: their answers side by side."),
    out: Optional[Path] = typer.Option(
        None, help="With two or more run folders: the page to write (default: A-vs-B.html beside the first run)."),
    markdown: Annotated[Optional[list[Path]], typer.Option(
        "--markdown", help="Regenerate the result blocks of these READMEs from the result files they name.")] = None,
    check: bool = typer.Option(False, help="With --markdown: change nothing, fail when a block is out of date."),
) -> None:
    """Write RUN_DIR/report.html: one self-contained page with plots, tables and audio players; with two or more run
    folders, one page with their answers side by side; or, with --markdown, regenerate the result tables and lists
    of READMEs (between their `generated` markers).

    Examples:
      audiospec report runs/demo
      audiospec report runs/preview runs/converged --out preview-vs-converged.html
      audiospec report --markdown README.md --markdown recipes/README.md --markdown recipes/mini/README.md
    """
    if markdown:
        from audiospec.report.markdown import update_readme

        stale = [block for readme in markdown for block in update_readme(readme, check=check)]
        if check and stale:
            raise AudiospecError("out of date: " + "; ".join(stale) + "; run `audiospec report --markdown` on them")
        typer.echo(f"{len(stale)} block(s) {'out of date' if check else 'rewritten'} in {len(markdown)} README(s)")
        return
    from audiospec.report.build import build_report, build_side_by_side

    if not runs:
        raise AudiospecError("pass a run folder (audiospec report runs/demo), two to compare, or READMEs with "
                             "--markdown")
    for run_dir in runs:
        if not run_dir.is_dir():
            raise AudiospecError(f"run folder {str(run_dir)!r} does not exist; run `audiospec demo` or `analyze` "
                                 "first")
    if len(runs) == 1 and out is not None:
        raise AudiospecError(f"--out {str(out)!r} is for two or more run folders; one run's page is "
                             f"{str(runs[0] / 'report.html')!r}")
    with contextlib.ExitStack() as locks:
        for run_dir in dict.fromkeys(runs):  # its figures may be drawn into it
            locks.enter_context(output_lock(run_dir))
        if len(runs) == 1:
            page = build_report(runs[0])
        else:
            default = runs[0].resolve().parent / ("-vs-".join(r.resolve().name for r in runs) + ".html")
            page = build_side_by_side(runs, out or default)
    typer.echo(f"report: {page}")


@app.command()
@_clean_errors
def demo(
    out: Path = typer.Option(Path("runs/demo"), help="Run folder (resumed when it exists)."),
    config: Path = typer.Option(Path("recipes/mini/conf/cpu.yaml"), help="The mini recipe's CPU config."),
    progress: ProgressOption = True,
) -> None:
    """The main job on the embedded offline corpus: the mini recipe in its CPU configuration.

    Example:
      audiospec demo --out runs/demo
    """
    from audiospec.experiments.pipeline import PipelineConfig

    if not config.is_file():
        raise AudiospecError(f"{str(config)!r} not found: run `audiospec demo` from the repository root or pass --config")
    pipeline = _run_config(PipelineConfig, config)
    with output_lock(out):
        report = _pipeline(pipeline, out_dir=out, progress=progress)
    typer.echo(f"report: {report}")


def main() -> None:  # pragma: no cover - console entry point
    app()
