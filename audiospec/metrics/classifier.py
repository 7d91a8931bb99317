"""The project's small log-mel classifier, used as the embedding network of the Fréchet distance.

A stack of conv blocks (3x3 conv -> GroupNorm -> GELU -> 2x2 max-pool), global average
pooling over mel x time, a linear layer + GELU giving the embedding ``[B, D]``, and a
linear layer giving the class logits ``[B, C]``. Global pooling makes the network accept
any patch size of at least ``2 ** len(channels)`` in both axes; GroupNorm makes an
example's embedding independent of the rest of its batch.

:class:`TrainedClassifier` bundles the network with its class names, config and training
report, and saves/loads as a folder holding ``classifier.safetensors`` (weights) and
``classifier.json`` (metadata, including the weights' SHA-256), both written atomically.
Train one with :func:`audiospec.metrics.train_classifier`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import safetensors.torch
import torch
from torch import nn

from audiospec.atomic import atomic_write_bytes, write_json
from audiospec.config import config_from_dict, config_to_dict
from audiospec.errors import AudiospecError
from audiospec.weight_init import init_weights
from audiospec.metrics._patches import as_patch_set

__all__ = ["ClassifierConfig", "MelClassifier", "TrainingReport", "TrainedClassifier"]

FORMAT = "audiospec.metrics.classifier/1"
WEIGHTS_NAME = "classifier.safetensors"
METADATA_NAME = "classifier.json"


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture and training settings of :class:`MelClassifier`.

    ``channels``: output channels of each conv block (each halves M and T);
    ``embedding_dim``: size D of the embedding used by the Fréchet distance;
    ``epochs``, ``batch_size``, ``lr``, ``weight_decay``: AdamW training;
    ``val_fraction``: share of each class held out for validation (0 = none);
    ``seed``: seeds the torch.Generator behind initialisation, split and batch order.

    Args:
        channels: output channels of each conv block, positive ints.
        embedding_dim: D, a positive int.
        epochs: training epochs, a positive int.
        batch_size: patches per step, a positive int.
        lr: AdamW learning rate, > 0.
        weight_decay: AdamW weight decay, >= 0.
        val_fraction: held-out share of each class, in [0, 1).
        seed: seed of the run's generator.

    Raises:
        AudiospecError: a value outside the ranges above.
    """

    channels: tuple[int, ...] = (16, 32, 64, 128)
    embedding_dim: int = 128
    epochs: int = 20
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-2
    val_fraction: float = 0.25
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.channels, tuple) or not self.channels or any(
            not isinstance(c, int) or c < 1 for c in self.channels
        ):
            raise AudiospecError(
                f"channels must be a non-empty tuple of positive ints, got {self.channels!r}; e.g. (16, 32, 64, 128)"
            )
        for name in ("embedding_dim", "epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise AudiospecError(f"{name} must be a positive int, got {value!r}")
        if not self.lr > 0 or not self.weight_decay >= 0:
            raise AudiospecError(
                f"need lr > 0 and weight_decay >= 0, got lr={self.lr}, weight_decay={self.weight_decay}"
            )
        if not 0.0 <= self.val_fraction < 1.0:
            raise AudiospecError(f"val_fraction must lie in [0, 1), got {self.val_fraction}")
        if not isinstance(self.seed, int):
            raise AudiospecError(f"seed must be an int, got {self.seed!r}")

    @property
    def min_patch_size(self) -> int:
        """Smallest M and T the network accepts (each block halves both)."""
        return 2 ** len(self.channels)


def _group_count(channels: int) -> int:
    """Largest of 8, 4, 2, 1 dividing ``channels`` (GroupNorm groups)."""
    return next(g for g in (8, 4, 2, 1) if channels % g == 0)


class MelClassifier(nn.Module):
    """Log-mel patches ``[B, 1, M, T]`` -> logits ``[B, C]`` (``embed`` gives ``[B, D]``).

    ``generator`` draws the initial weights (PyTorch's default Kaiming-uniform scheme),
    so two networks built from equal generators are identical.

    Args:
        n_classes: C, the number of classes, >= 2.
        config: the architecture (:class:`ClassifierConfig`).
        generator: randomness of the initial weights.

    Raises:
        AudiospecError: ``n_classes`` not an int >= 2.
    """

    def __init__(
        self, *, n_classes: int, config: ClassifierConfig = ClassifierConfig(), generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        if not isinstance(n_classes, int) or n_classes < 2:
            raise AudiospecError(f"a classifier needs n_classes >= 2, got {n_classes!r}")
        self.config = config
        blocks: list[nn.Module] = []
        c_in = 1
        for c_out in config.channels:
            blocks += [
                nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
                nn.GroupNorm(_group_count(c_out), c_out),
                nn.GELU(),
                nn.MaxPool2d(2),
            ]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.embedding = nn.Sequential(nn.Linear(c_in, config.embedding_dim), nn.GELU())
        self.head = nn.Linear(config.embedding_dim, n_classes)
        init_weights(self, generator=generator)  # the nn defaults, drawn from the seeded generator

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 1, M, T]`` -> embedding ``[B, D]``.

        Args:
            x: patches ``[B, 1, M, T]``, M and T >= ``config.min_patch_size``.

        Returns:
            Embeddings ``[B, D]``.
        """
        h = self.features(x)  # [B, C_last, M / 2^k, T / 2^k]
        return self.embedding(h.mean(dim=(-2, -1)))  # global average pool -> [B, C_last] -> [B, D]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 1, M, T]`` -> logits ``[B, C]``.

        Args:
            x: patches ``[B, 1, M, T]``.

        Returns:
            Class logits ``[B, C]``.
        """
        return self.head(self.embed(x))


@dataclass(frozen=True)
class TrainingReport:
    """How training went: accuracies on the training and held-out validation patches
    (``val_accuracy`` is NaN when nothing was held out), the split sizes, per-epoch mean
    training loss and validation accuracy, and the wall time in seconds.

    Attributes:
        val_accuracy: accuracy on the held-out patches after the last epoch (NaN without any).
        train_accuracy: accuracy on the training patches after the last epoch.
        n_train: number of training patches.
        n_val: number of held-out patches.
        epoch_loss: mean training loss of each epoch.
        epoch_val_accuracy: held-out accuracy after each epoch.
        seconds: wall time of the training.
    """

    val_accuracy: float
    train_accuracy: float
    n_train: int
    n_val: int
    epoch_loss: tuple[float, ...]
    epoch_val_accuracy: tuple[float, ...]
    seconds: float


@dataclass(frozen=True, eq=False)
class TrainedClassifier:
    """A trained :class:`MelClassifier` with its class names (``classes[i]`` is logit i).

    Args:
        model: the network.
        classes: the C class names, in logit order.
        config: the settings it was trained with.
        report: how training went.

    Raises:
        AudiospecError: a number of class names other than the network's outputs.
    """

    model: MelClassifier
    classes: tuple[str, ...]
    config: ClassifierConfig
    report: TrainingReport

    def __post_init__(self) -> None:
        if len(self.classes) != self.model.head.out_features:
            raise AudiospecError(
                f"{len(self.classes)} class names for a network with {self.model.head.out_features} outputs"
            )

    @property
    def device(self) -> torch.device:
        """The device of the network's parameters."""
        return next(self.model.parameters()).device

    def _batches(self, x: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise AudiospecError(f"batch_size must be a positive int, got {batch_size!r}")
        patches = as_patch_set(x, name="patches", min_size=self.config.min_patch_size)  # [N, M, T] float64
        patches = patches.to(self.device, torch.float32).unsqueeze(1)  # [N, 1, M, T]
        return list(patches.split(batch_size))

    @torch.no_grad()
    def embed(self, x: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
        """Embeddings ``[N, D]`` (float32, on the model's device) of patches ``[N, 1, M, T]`` or ``[N, M, T]``.

        Args:
            x: patches ``[N, 1, M, T]`` or ``[N, M, T]``, finite, M and T >= ``config.min_patch_size``.
            batch_size: patches per forward pass, a positive int.

        Returns:
            Embeddings ``[N, D]``.
        """
        self.model.eval()
        return torch.cat([self.model.embed(b) for b in self._batches(x, batch_size)])

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
        """Class probabilities ``[N, C]`` (softmax of the logits; columns follow ``classes``).

        Args:
            x: patches ``[N, 1, M, T]`` or ``[N, M, T]``.
            batch_size: patches per forward pass, a positive int.

        Returns:
            Probabilities ``[N, C]``, rows summing to 1.
        """
        self.model.eval()
        return torch.cat([self.model(b).softmax(dim=-1) for b in self._batches(x, batch_size)])

    def save(self, path: str | Path) -> Path:
        """Write ``path/classifier.safetensors`` and ``path/classifier.json`` atomically; returns ``path``.

        The weights are written first and the metadata (which records their SHA-256) last,
        so a folder whose JSON exists and matches its weights is complete.

        Args:
            path: the folder (created if needed).

        Returns:
            ``path`` as a :class:`~pathlib.Path`.
        """
        path = Path(path)
        state = {k: v.detach().to("cpu").contiguous() for k, v in self.model.state_dict().items()}
        blob = safetensors.torch.save(state, metadata={"format": FORMAT})
        atomic_write_bytes(path / WEIGHTS_NAME, blob)
        write_json(path / METADATA_NAME, {
            "format": FORMAT,
            "classes": list(self.classes),
            "config": config_to_dict(self.config),
            "report": dataclasses.asdict(self.report),
            "weights_sha256": hashlib.sha256(blob).hexdigest(),
        })
        return path

    @classmethod
    def load(cls, path: str | Path, *, device: torch.device | str = "cpu") -> TrainedClassifier:
        """Read a classifier written by :meth:`save` (weights checked against the recorded SHA-256).

        Args:
            path: the folder written by :meth:`save`.
            device: where to put the network.

        Returns:
            The classifier, in eval mode.

        Raises:
            AudiospecError: a folder without both files, unreadable or foreign metadata, weights
                that do not match the recorded SHA-256 or config, or an invalid training report.
        """
        path = Path(path)
        meta_path, weights_path = path / METADATA_NAME, path / WEIGHTS_NAME
        if not meta_path.is_file() or not weights_path.is_file():
            raise AudiospecError(
                f"{str(path)!r} is not a saved classifier (needs {METADATA_NAME} and {WEIGHTS_NAME}); "
                "train one with train_classifier(...) and call .save(path)"
            )
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise AudiospecError(f"cannot read {str(meta_path)!r}: {err}; re-save the classifier") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
            raise AudiospecError(
                f"{str(meta_path)!r} has format {found!r}, expected {FORMAT!r}; re-save the classifier"
            )
        blob = weights_path.read_bytes()
        if hashlib.sha256(blob).hexdigest() != meta.get("weights_sha256"):
            raise AudiospecError(
                f"{str(weights_path)!r} does not match the SHA-256 recorded in {METADATA_NAME} "
                "(overwritten or truncated); re-save the classifier"
            )
        config = config_from_dict(ClassifierConfig, meta.get("config"), where=f"{meta_path}:config")
        classes = tuple(str(c) for c in meta.get("classes", []))
        report_data = dict(meta.get("report", {}))
        for key in ("epoch_loss", "epoch_val_accuracy"):
            report_data[key] = tuple(math.nan if v is None else float(v) for v in report_data.get(key, ()))
        for key in ("val_accuracy", "train_accuracy"):  # NaN is stored as null
            report_data[key] = math.nan if report_data.get(key) is None else float(report_data[key])
        try:
            report = TrainingReport(**report_data)
        except TypeError as err:
            raise AudiospecError(
                f"invalid training report in {str(meta_path)!r}: {err}; re-save the classifier"
            ) from None
        model = MelClassifier(n_classes=len(classes), config=config)
        try:
            model.load_state_dict(safetensors.torch.load(blob), strict=True)
        except RuntimeError as err:
            raise AudiospecError(f"weights in {str(weights_path)!r} do not fit the recorded config: {err}") from None
        model.to(device).eval()
        return cls(model=model, classes=classes, config=config, report=report)
