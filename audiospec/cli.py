"""The ``audiospec`` command line: a typed shell over the library.

Each command builds a config, calls one library function, and turns
:class:`AudiospecError` into a clean message and exit code 2.
"""

from __future__ import annotations

import dataclasses
import functools
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, TypeVar

import typer

from audiospec.config import config_from_dict, read_yaml
from audiospec.errors import AudiospecError

C = TypeVar("C")

# options shared by the commands that load a dataset
DatasetOption = Annotated[
    Optional[str], typer.Option(help="mini | gtzan-music-speech | gtzan-genres | folder:PATH (overrides --config).")
]
DataDirOption = Annotated[Optional[str], typer.Option(help="Dataset cache folder (default data/).")]
SourceOption = Annotated[Optional[str], typer.Option(help="Where to get GTZAN (URL, archive, folder, hf:owner/name).")]
ProgressOption = Annotated[bool, typer.Option(help="Show progress bars.")]

app = typer.Typer(
    help="Is diffusion on audio spectrograms cepstral autoregression? Analyse, corrupt, train and compare.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class PreparableDataset(str, Enum):
    mini = "mini"
    gtzan_music_speech = "gtzan-music-speech"
    gtzan_genres = "gtzan-genres"


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


# the sections of a recipe file; a command reads the ones it knows and skips the others
RECIPE_SECTIONS = ("data", "analysis", "corrupt", "compare")


def _run_config(cls: type[C], config: Optional[Path], **data: Any) -> C:
    """Build a run config from the YAML file, with command-line ``data`` values winning (None = not given).

    Recipe sections that ``cls`` has no field for are skipped (``audiospec compare`` on a
    recipe file); any other unknown top-level key is an error.
    """
    raw = read_yaml(config) if config is not None else {}
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    raw = {key: value for key, value in raw.items() if key in fields or key not in RECIPE_SECTIONS}
    raw["data"] = {**raw.get("data", {}), **{k: v for k, v in data.items() if v is not None}}
    if "dataset" not in raw["data"]:
        raise AudiospecError("no dataset given: pass --dataset (e.g. --dataset mini) or set data.dataset in --config")
    return config_from_dict(cls, raw, where=str(config) if config else "command line")


@app.command()
@_clean_errors
def prepare(
    dataset: PreparableDataset = typer.Argument(..., help="Which dataset to download / cut."),
    data_dir: Path = typer.Option(Path("data"), help="Cache folder."),
    source: Optional[str] = typer.Option(None, help="Archive URL, local archive or folder, or hf:owner/name."),
    install: bool = typer.Option(True, help="mini: apt-get install the Debian packages when missing."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Download / extract / cut a dataset into DATA_DIR (idempotent).

    Examples:
      audiospec prepare mini
      audiospec prepare gtzan-music-speech --source ~/Downloads/music_speech.tar.gz
    """
    from audiospec.data import prepare_dataset

    path = prepare_dataset(dataset.value, data_dir=data_dir, source=source, install=install, progress=progress)
    typer.echo(f"prepared {dataset.value} in {path}")


@app.command()
@_clean_errors
def analyze(
    out: Path = typer.Option(..., help="Output folder for analysis.json, PNGs and report.html."),
    config: Optional[Path] = typer.Option(None, help="YAML with sections 'data' and 'analysis'."),
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    source: SourceOption = None,
    max_clips_per_class: Optional[int] = typer.Option(None, help="Cap the clips per class."),
    progress: ProgressOption = True,
) -> None:
    """Spectral analysis of a dataset: spectra, mel RAPSD power law, cepstrum, AR order, f_max(t).

    Examples:
      audiospec analyze --dataset mini --out runs/analysis-mini
      audiospec analyze --dataset folder:/path/to/audio --out runs/my-audio
    """
    from audiospec.experiments.analysis import AnalyzeRunConfig, run_analysis

    run_config = _run_config(AnalyzeRunConfig, config, dataset=dataset, data_dir=data_dir, source=source,
                             max_clips_per_class=max_clips_per_class)
    report = run_analysis(run_config, out_dir=out, progress=progress)
    typer.echo(f"analysis written to {out} (report: {report})")


@app.command()
@_clean_errors
def corrupt(
    out: Path = typer.Option(..., help="Output folder for WAVs, spectrogram PNGs and corrupt.json."),
    config: Optional[Path] = typer.Option(None, help="YAML with sections 'data' and 'corrupt'."),
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    source: SourceOption = None,
    progress: ProgressOption = True,
) -> None:
    """Write clean, noised (white / pink / matched, waveform and mel domain) and blurred clips as WAV + PNG.

    Examples:
      audiospec corrupt --dataset mini --out runs/corrupt-mini
    """
    from audiospec.experiments.corrupt import CorruptRunConfig, run_corrupt

    run_config = _run_config(CorruptRunConfig, config, dataset=dataset, data_dir=data_dir, source=source)
    manifest = run_corrupt(run_config, out_dir=out, progress=progress)
    typer.echo(f"wrote {len(manifest['files'])} WAV files with spectrograms to {out}")


class RuntimeName(str, Enum):
    single = "single"
    accelerate = "accelerate"


@app.command("train")
@_clean_errors
def train_command(
    out: Path = typer.Option(..., help="Run folder: checkpoint.safetensors, config.yaml, loss.csv, run.yaml."),
    config: Optional[Path] = typer.Option(None, help="YAML with sections data, mel, patch_frames, prior, train."),
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    source: SourceOption = None,
    resume: bool = typer.Option(True, help="Continue from out/checkpoint.safetensors when it exists."),
    runtime: RuntimeName = typer.Option(RuntimeName.single, help="single device, or HF Accelerate (multi-GPU)."),
    progress: ProgressOption = True,
) -> None:
    """Train one mel-spectrogram flow-matching model with a white, coloured or data-matched prior.

    Examples:
      audiospec train --config recipes/mini/conf/train-cpu.yaml --out runs/train-pink
      audiospec train --dataset mini --out runs/train-white   (all defaults: tiny U-Net, white prior)
      accelerate launch --multi_gpu --num_processes 4 -m audiospec train --runtime accelerate \
          --config recipes/mini/conf/gpu-train.yaml --out runs/train-4gpu
    """
    from audiospec.experiments.train_run import TrainRunConfig, run_train

    run_config = _run_config(TrainRunConfig, config, dataset=dataset, data_dir=data_dir, source=source)
    engine = None
    if runtime is RuntimeName.accelerate:
        from audiospec.diffusion.runtime import AccelerateRuntime

        engine = AccelerateRuntime(precision=run_config.train.precision)
    result = run_train(run_config, out_dir=out, resume=resume, progress=progress, runtime=engine)
    typer.echo(f"trained to step {result.steps} (final loss {result.final_loss:.4f}); checkpoint: {result.checkpoint}")


class Sampler(str, Enum):
    euler = "euler"
    heun = "heun"
    ancestral = "ancestral"


@app.command("sample")
@_clean_errors
def sample_command(
    checkpoint: Path = typer.Option(..., help="checkpoint.safetensors inside a folder written by `audiospec train`."),
    out: Path = typer.Option(..., help="Folder for sample{i}.wav and sample{i}.png."),
    steps: int = typer.Option(32, help="Number of sampling steps (chosen at sampling time)."),
    n: int = typer.Option(4, help="Number of samples."),
    sampler: Sampler = typer.Option(Sampler.euler, help="euler / heun (flow matching), ancestral (vp_eps)."),
    seed: int = typer.Option(0, help="Seed of the initial noise."),
) -> None:
    """Generate audio from a trained model: sample log-mel patches, invert with Griffin-Lim, write WAV + PNG.

    Example:
      audiospec sample --checkpoint runs/train-pink/checkpoint.safetensors --steps 16 --n 4 --out runs/samples
    """
    from audiospec.experiments.train_run import run_sample

    files = run_sample(checkpoint, n=n, steps=steps, out_dir=out, sampler=sampler.value, seed=seed)
    typer.echo(f"wrote {len(files)} samples to {out}")


@app.command()
@_clean_errors
def compare(
    out: Path = typer.Option(..., help="Folder for models/, results.json, plots and generated audio."),
    config: Optional[Path] = typer.Option(None, help="YAML with sections 'data' and 'compare'."),
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    source: SourceOption = None,
    progress: ProgressOption = True,
) -> None:
    """Pink vs white vs data-matched priors: train per prior and seed, sample at several step counts, score.

    Example:
      audiospec compare --config recipes/mini/conf/cpu.yaml --out runs/compare-mini
    """
    from audiospec.experiments.compare import CompareRunConfig, run_compare

    results = run_compare(_run_config(CompareRunConfig, config, dataset=dataset, data_dir=data_dir, source=source),
                          out_dir=out, progress=progress)
    for line in results["answers"]["question_3_pink_vs_white"]:
        typer.echo(line)


@app.command()
@_clean_errors
def report(
    run_dir: Path = typer.Argument(..., help="A run folder holding analysis/, corrupt/ and/or compare/."),
) -> None:
    """Write RUN_DIR/report.html: one self-contained page with plots, tables and audio players.

    Example:
      audiospec report runs/demo
    """
    from audiospec.report.build import build_report

    typer.echo(f"report: {build_report(run_dir)}")


@app.command()
@_clean_errors
def run(
    config: Path = typer.Option(..., help="A recipe config, e.g. recipes/mini/conf/cpu.yaml."),
    out: Path = typer.Option(..., help="Run folder (resumed when it exists)."),
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    source: SourceOption = None,
    progress: ProgressOption = True,
) -> None:
    """A whole recipe: prepare -> analyze -> corrupt -> train per prior -> compare -> report (resumable).

    Example:
      audiospec run --config recipes/gtzan_music_speech/conf/cpu.yaml --out runs/gtzan-ms
    """
    from audiospec.experiments.pipeline import PipelineConfig, run_pipeline

    pipeline = _run_config(PipelineConfig, config, dataset=dataset, data_dir=data_dir, source=source)
    typer.echo(f"report: {run_pipeline(pipeline, out_dir=out, progress=progress)}")


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
    from audiospec.experiments.pipeline import PipelineConfig, run_pipeline

    if not config.is_file():
        raise AudiospecError(f"{str(config)!r} not found: run `audiospec demo` from the repository root or pass --config")
    pipeline = _run_config(PipelineConfig, config)
    typer.echo(f"report: {run_pipeline(pipeline, out_dir=out, progress=progress)}")


def main() -> None:  # pragma: no cover - console entry point
    app()
