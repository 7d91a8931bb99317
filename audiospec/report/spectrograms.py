"""The spectrogram beside every audio file of a listening set, drawn from the arrays its stage kept
(``spectrograms.safetensors``, :class:`audiospec.experiments.listen.Spectrograms`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audiospec.experiments.listen import read_spectrograms
from audiospec.report.plots import plt, save_figure, to_array

__all__ = ["draw_spectrograms", "plot_spectrogram"]


def plot_spectrogram(log_mel: Any, path: Path, *, title: str, mel: Any) -> None:
    """One log-mel spectrogram ``[M, T]`` (dB) as a thumbnail image with time in seconds."""
    image = to_array(log_mel)
    seconds = image.shape[-1] * mel.hop_length / mel.sample_rate
    fig, ax = plt.subplots(figsize=(5, 2.4))
    shown = ax.imshow(image, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, image.shape[0]))
    fig.colorbar(shown, ax=ax, label="dB")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ax.set_title(title, fontsize=9)
    save_figure(fig, path, dpi=80)  # a thumbnail beside its audio player


class _Frames:
    """The time axis of a spectrogram: seconds per frame as a hop and a rate of 1."""

    def __init__(self, seconds_per_frame: float) -> None:
        self.hop_length, self.sample_rate = seconds_per_frame, 1.0


def draw_spectrograms(folder: Path) -> int:
    """Draw every spectrogram a folder keeps (``spectrograms.safetensors``) whose image is not there yet; returns how
    many were drawn."""
    images, titles, frame = read_spectrograms(folder)
    drawn = 0
    for name, log_mel in images.items():
        path = Path(folder) / name
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            plot_spectrogram(log_mel, path, title=titles.get(name, name), mel=_Frames(frame))
            drawn += 1
    return drawn
