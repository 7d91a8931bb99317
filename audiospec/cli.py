"""The ``audiospec`` command line: a typed shell over the library.

Each command builds a config, calls one library function, and turns
:class:`AudiospecError` into a clean message and exit code 2.
"""

from __future__ import annotations

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


def _run_config(cls: type[C], config: Optional[Path], **data: Any) -> C:
    """Build a run config from the YAML file, with command-line ``data`` values winning (None = not given)."""
    raw = read_yaml(config) if config is not None else {}
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
def demo(
    out: Path = typer.Option(Path("runs/demo"), help="Output folder."),
    data_dir: str = typer.Option("data", help="Dataset cache folder."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """The main job on the embedded offline corpus: prepare mini, analyse it, corrupt clips, write the report.

    Example:
      audiospec demo --out runs/demo
    """
    from audiospec.data import DataConfig
    from audiospec.experiments.analysis import AnalyzeRunConfig, run_analysis
    from audiospec.report.build import build_report

    data = DataConfig(dataset="mini", data_dir=data_dir)
    run_analysis(AnalyzeRunConfig(data=data), out_dir=out / "analysis", progress=progress)
    typer.echo(f"report: {build_report(out)}")


def main() -> None:  # pragma: no cover - console entry point
    app()
