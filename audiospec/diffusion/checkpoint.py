"""Training checkpoints as one ``safetensors`` file, written atomically (temp file + ``os.replace``).

Layout (tensor names / string metadata):

- ``model/<name>``, ``ema/<name>``: state dicts of the network and of its EMA;
- ``optimizer/<i>/<key>``: AdamW state of parameter i (``step``, ``exp_avg``, ``exp_avg_sq``);
  metadata ``optimizer_param_groups`` (JSON);
- ``prior/<key>``: the prior's tensors (the matched spectrum); metadata ``prior`` (JSON);
- ``rng/<name>``: states of the run's ``torch.Generator`` s (data order, noise, timesteps);
- ``data/order``: the current epoch's permutation of the patches; metadata ``data_position``;
- ``history/loss``: the loss of every step so far (float64);
- metadata ``format``, ``step``, ``config`` (the resolved :class:`TrainConfig`, JSON), ``runtime``
  (e.g. the fp16 gradient scaler), ``data_fingerprint`` (shape and sums of the training patches),
  ``data_range`` (their smallest and largest value) and ``sha256`` (of every tensor and the other
  metadata, verified on reading: a damaged file is an error naming it, never a model that samples).

:func:`load_checkpoint` rebuilds (model, ema_model, config, prior) for sampling.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from audiospec.atomic import atomic_path
from audiospec.diffusion.config import TrainConfig
from audiospec.diffusion.priors import NoisePrior, prior_from_state
from audiospec.diffusion.unet import UNet, build_model
from audiospec.errors import AudiospecError

__all__ = ["CHECKPOINT_FORMAT", "TrainingState", "save_training_state", "read_training_state", "load_checkpoint"]

CHECKPOINT_FORMAT = "audiospec.diffusion.checkpoint/1"


@dataclass(kw_only=True)
class TrainingState:
    """Everything a run needs to continue bit-exactly (tensors on the CPU)."""

    step: int
    config: dict[str, Any]
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    prior: dict[str, Any]
    prior_tensors: dict[str, torch.Tensor]
    rng: dict[str, torch.Tensor]
    data_order: torch.Tensor
    data_position: int
    losses: torch.Tensor
    runtime: dict[str, Any]
    data_fingerprint: list[float]
    data_range: tuple[float, float] | None = None  # (min, max) of the training patches; None in older checkpoints


def _cpu(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").contiguous().clone()


def save_training_state(path: str | Path, state: TrainingState) -> None:
    """Write ``state`` to ``path`` atomically: a crash leaves the previous checkpoint intact."""
    tensors: dict[str, torch.Tensor] = {}
    tensors.update({f"model/{k}": _cpu(v) for k, v in state.model.items()})
    tensors.update({f"ema/{k}": _cpu(v) for k, v in state.ema.items()})
    for index, param_state in state.optimizer["state"].items():
        for key, value in param_state.items():
            if not isinstance(value, torch.Tensor):
                raise AudiospecError(f"optimizer state {key!r} of parameter {index} is not a tensor; cannot checkpoint it")
            tensors[f"optimizer/{index}/{key}"] = _cpu(value)
    tensors.update({f"prior/{k}": _cpu(v) for k, v in state.prior_tensors.items()})
    tensors.update({f"rng/{k}": _cpu(v) for k, v in state.rng.items()})
    tensors["data/order"] = _cpu(state.data_order)
    tensors["history/loss"] = _cpu(state.losses.to(torch.float64))
    metadata = {
        "format": CHECKPOINT_FORMAT,
        "step": str(state.step),
        "config": json.dumps(state.config),
        "optimizer_param_groups": json.dumps(state.optimizer["param_groups"]),
        "prior": json.dumps(state.prior),
        "data_position": str(state.data_position),
        "runtime": json.dumps(state.runtime),
        "data_fingerprint": json.dumps(state.data_fingerprint),
    }
    if state.data_range is not None:
        metadata["data_range"] = json.dumps(list(state.data_range))
    metadata["sha256"] = _digest(tensors, metadata)
    try:
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)
    except OSError as err:
        raise AudiospecError(f"could not write checkpoint {str(path)!r}: {err}; the previous one is unchanged") from None


def read_training_state(path: str | Path) -> TrainingState:
    """Read a checkpoint written by :func:`save_training_state` (all tensors on the CPU)."""
    path = Path(path)
    if not path.is_file():
        raise AudiospecError(f"checkpoint {str(path)!r} does not exist")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError) as err:
        raise AudiospecError(f"{str(path)!r} is not a readable safetensors checkpoint: {err}") from None
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise AudiospecError(
            f"{str(path)!r} has checkpoint format {metadata.get('format')!r}, expected {CHECKPOINT_FORMAT!r}"
        )
    if "sha256" in metadata and _digest(tensors, metadata) != metadata["sha256"]:  # older checkpoints carry none
        raise AudiospecError(f"checkpoint {str(path)!r} is damaged: its content does not match the sha256 recorded "
                             "when it was written; restore it from a copy or train again into a new folder")

    def section(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in section("optimizer/").items():
        index, name = key.split("/", 1)
        opt_state.setdefault(int(index), {})[name] = value
    param_groups = json.loads(metadata["optimizer_param_groups"])
    for group in param_groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    return TrainingState(
        step=int(metadata["step"]),
        config=json.loads(metadata["config"]),
        model=section("model/"),
        ema=section("ema/"),
        optimizer={"state": opt_state, "param_groups": param_groups},
        prior=json.loads(metadata["prior"]),
        prior_tensors=section("prior/"),
        rng=section("rng/"),
        data_order=tensors["data/order"],
        data_position=int(metadata["data_position"]),
        losses=tensors["history/loss"],
        runtime=json.loads(metadata.get("runtime", "{}")),
        data_fingerprint=json.loads(metadata.get("data_fingerprint", "[]")),
        data_range=tuple(json.loads(metadata["data_range"])) if "data_range" in metadata else None,
    )


def _digest(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> str:
    """sha256 of every tensor (name, dtype, shape, bytes; in name order) and every metadata entry but ``sha256``."""
    h = hashlib.sha256()
    for key in sorted(tensors):
        t = tensors[key].detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    h.update(json.dumps({k: v for k, v in metadata.items() if k != "sha256"}, sort_keys=True).encode())
    return h.hexdigest()


def load_checkpoint(
    path: str | Path, *, device: torch.device | str = "cpu"
) -> tuple[UNet, UNet, TrainConfig, NoisePrior]:
    """(model, ema_model, config, prior) from a training checkpoint; both networks in eval mode on ``device``.

    Sample with the EMA network: ``sample(ema_model, prior=prior, objective=config.objective, ...)``.

    Args:
        path: a ``checkpoint.safetensors`` written by :func:`~audiospec.diffusion.training.train`.
        device: where to put the networks.

    Returns:
        ``(model, ema_model, config, prior)``: two :class:`UNet`, the :class:`TrainConfig` and the
        :class:`~audiospec.diffusion.priors.NoisePrior` of the run.

    Raises:
        AudiospecError: a missing or unreadable file, another format, or weights that do not
            match the saved config.
    """
    state = read_training_state(path)
    config = TrainConfig.from_dict(state.config, where=f"config in {path}")
    networks = []
    for weights in (state.model, state.ema):
        net = build_model(config.model, generator=torch.Generator().manual_seed(0))  # overwritten below
        _load_weights(net, weights, path=path)
        networks.append(net.to(device).eval())
    prior = prior_from_state(state.prior, state.prior_tensors)
    return networks[0], networks[1], config, prior


def _load_weights(net: nn.Module, weights: dict[str, torch.Tensor], *, path: str | Path) -> None:
    missing = sorted(set(net.state_dict()) - set(weights))
    unexpected = sorted(set(weights) - set(net.state_dict()))
    if missing or unexpected:
        raise AudiospecError(
            f"checkpoint {str(path)!r} does not match its model config: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    bad = [name for name, w in weights.items() if torch.is_floating_point(w) and not bool(torch.isfinite(w).all())]
    if bad:
        raise AudiospecError(f"checkpoint {str(path)!r} holds non-finite weights (NaN or Inf in {bad[:3]}): the file "
                             "is damaged or its training diverged; train again into a new folder (lower lr, "
                             "set grad_clip) rather than sample it")
    net.load_state_dict(weights)
