"""Training the metric classifier on real log-mel patches, deterministically.

One ``torch.Generator`` seeded with ``config.seed`` draws, in order, the stratified
validation split, the initial weights and every epoch's batch order; no global RNG is
touched, so equal inputs and configs give bitwise-equal weights on the same machine and
thread count. The network has no dropout or other hidden randomness.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from audiospec.errors import AudiospecError
from audiospec.metrics._patches import as_patch_set
from audiospec.metrics.classifier import ClassifierConfig, MelClassifier, TrainedClassifier, TrainingReport

__all__ = ["stratified_split", "train_classifier"]


def stratified_split(
    labels: Sequence[str],
    *,
    val_fraction: float,
    groups: Sequence[str] | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(train [N_train], val [N_val])`` holding out ``val_fraction`` of each class.

    Per class, round(val_fraction * n) units are held out, at least 1 and at most n - 1
    when ``val_fraction`` > 0 (so every class needs >= 2 units). A unit is one example,
    or one group when ``groups`` (e.g. the clip each patch was cut from) is given, so
    patches of one clip never sit on both sides of the split.

    Args:
        labels: the N class names.
        val_fraction: held-out share of each class, in [0, 1).
        groups: N group keys (e.g. clip ids); a group is never split.
        generator: randomness of the choice.

    Returns:
        ``(train, val)``: sorted long index tensors ``[N_train]`` and ``[N_val]``.

    Raises:
        AudiospecError: a number of groups other than of labels, a group with two classes, or a
            class with fewer than 2 units when ``val_fraction`` > 0.
    """
    labels = list(labels)
    units = [str(i) for i in range(len(labels))] if groups is None else [str(g) for g in groups]
    if len(units) != len(labels):
        raise AudiospecError(f"got {len(units)} groups for {len(labels)} labels; give one group per example")
    unit_label: dict[str, str] = {}
    for unit, label in zip(units, labels):
        if unit_label.setdefault(unit, label) != label:
            raise AudiospecError(
                f"group {unit!r} holds examples of classes {unit_label[unit]!r} and {label!r}; "
                "a group must have one class"
            )
    train: list[int] = []
    val: list[int] = []
    for cls in sorted(set(labels)):
        cls_units = sorted(u for u, lab in unit_label.items() if lab == cls)
        order = torch.randperm(len(cls_units), generator=generator).tolist()
        n_val = 0
        if val_fraction > 0:
            if len(cls_units) < 2:
                raise AudiospecError(
                    f"class {cls!r} has only {len(cls_units)} {'group' if groups is not None else 'example'}; "
                    "a validation split needs at least 2 per class (or set val_fraction=0)"
                )
            n_val = min(max(1, round(val_fraction * len(cls_units))), len(cls_units) - 1)
        held_out = {cls_units[i] for i in order[:n_val]}
        for index, (unit, label) in enumerate(zip(units, labels)):
            if label == cls:
                (val if unit in held_out else train).append(index)
    return torch.tensor(sorted(train), dtype=torch.long), torch.tensor(sorted(val), dtype=torch.long)


@torch.no_grad()
def _accuracy(model: MelClassifier, x: torch.Tensor, y: torch.Tensor, *, batch_size: int) -> float:
    """Share of ``x`` ``[N, 1, M, T]`` whose argmax logit equals ``y`` ``[N]``; NaN if N = 0."""
    if x.shape[0] == 0:
        return math.nan
    model.eval()
    correct = sum(int((model(xb).argmax(-1) == yb).sum()) for xb, yb in zip(x.split(batch_size), y.split(batch_size)))
    return correct / x.shape[0]


def _checked_labels(labels: Sequence[str], *, n: int) -> tuple[list[str], tuple[str, ...]]:
    """``labels`` as ``n`` strings and the sorted distinct classes (at least 2); raises otherwise."""
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise AudiospecError(f"labels must be a list of class names, got {type(labels).__name__}")
    labels = [str(label) for label in labels]
    if len(labels) != n:
        raise AudiospecError(f"got {len(labels)} labels for {n} patches; give exactly one label per patch")
    classes = tuple(sorted(set(labels)))
    if len(classes) < 2:
        raise AudiospecError(
            f"a classifier needs at least 2 classes, got {list(classes)}; add examples of another class"
        )
    return labels, classes


def _train_epoch(model: MelClassifier, optimizer: torch.optim.Optimizer, loss_fn: nn.Module, x: torch.Tensor,
                 y: torch.Tensor, *, batch_size: int, generator: torch.Generator) -> float:
    """One epoch over ``x`` ``[N, 1, M, T]`` / ``y`` ``[N]`` in an order drawn from ``generator``; the mean loss."""
    model.train()
    order = torch.randperm(x.shape[0], generator=generator).to(x.device)
    total, seen = 0.0, 0
    for batch in order.split(batch_size):
        logits = model(x[batch])  # [B, C]
        loss = loss_fn(logits, y[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * batch.numel()
        seen += batch.numel()
    return total / seen


def train_classifier(
    patches: torch.Tensor,
    labels: Sequence[str],
    *,
    config: ClassifierConfig = ClassifierConfig(),
    groups: Sequence[str] | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> TrainedClassifier:
    """Train a :class:`MelClassifier` on real ``patches`` ``[N, 1, M, T]`` (or ``[N, M, T]``) with ``labels`` (N names).

    Classes are the sorted distinct labels (at least 2). A stratified share
    ``config.val_fraction`` of each class is held out (whole ``groups`` at a time when
    given, e.g. clip ids) and its accuracy reported in ``.report.val_accuracy``. AdamW
    with cross-entropy for ``config.epochs`` epochs; a tqdm bar shows loss and
    validation accuracy when ``progress`` is true.

    Args:
        patches: real log-mel patches ``[N, 1, M, T]`` or ``[N, M, T]``, finite.
        labels: the N class names (at least 2 distinct).
        config: architecture and training settings.
        groups: N group keys kept on one side of the validation split.
        device: where to train.
        progress: show a progress bar.

    Returns:
        The :class:`TrainedClassifier` (its ``report`` holds the accuracies).

    Raises:
        AudiospecError: invalid or too small patches, labels that are not one class name per
            patch or name fewer than 2 classes, or a split that cannot be made.
    """
    x = as_patch_set(patches, name="patches", min_size=config.min_patch_size)  # [N, M, T] float64
    labels, classes = _checked_labels(labels, n=x.shape[0])

    start = time.perf_counter()
    generator = torch.Generator().manual_seed(config.seed)
    train_idx, val_idx = stratified_split(labels, val_fraction=config.val_fraction, groups=groups, generator=generator)
    index_of = {name: i for i, name in enumerate(classes)}
    y = torch.tensor([index_of[label] for label in labels], dtype=torch.long, device=device)  # [N]
    x = x.to(device, torch.float32).unsqueeze(1)  # [N, 1, M, T]
    x_train, y_train = x[train_idx.to(device)], y[train_idx.to(device)]
    x_val, y_val = x[val_idx.to(device)], y[val_idx.to(device)]

    model = MelClassifier(n_classes=len(classes), config=config, generator=generator).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    epoch_loss: list[float] = []
    epoch_val: list[float] = []
    bar = tqdm(range(config.epochs), desc="classifier", unit="epoch", disable=not progress, leave=False)
    for _ in bar:
        epoch_loss.append(_train_epoch(model, optimizer, loss_fn, x_train, y_train, batch_size=config.batch_size,
                                       generator=generator))
        epoch_val.append(_accuracy(model, x_val, y_val, batch_size=256))
        bar.set_postfix(loss=f"{epoch_loss[-1]:.3f}", val_acc=f"{epoch_val[-1]:.3f}")
    bar.close()
    model.eval()
    report = TrainingReport(
        val_accuracy=epoch_val[-1],
        train_accuracy=_accuracy(model, x_train, y_train, batch_size=256),
        n_train=int(train_idx.numel()),
        n_val=int(val_idx.numel()),
        epoch_loss=tuple(epoch_loss),
        epoch_val_accuracy=tuple(epoch_val),
        seconds=time.perf_counter() - start,
    )
    return TrainedClassifier(model=model, classes=classes, config=config, report=report)
