"""Where and how the training step runs: the seam for single-device and (later) multi-GPU engines.

:func:`audiospec.diffusion.training.train` never touches devices, autocast or gradient
scaling itself; it calls a :class:`Runtime`. :class:`SingleDevice` runs on the CPU or one
CUDA device; :class:`AccelerateRuntime` delegates to HF Accelerate's ``Accelerator`` for
data-parallel multi-GPU training (the loop gives each process its :func:`batch_shard` of
every global batch and its own noise and timestep streams). Processes are started by
``accelerate launch``; no launcher lives here. The method names follow ``Accelerator``
(``device``, ``prepare``, ``autocast``, ``backward``, ``clip_grad_norm_``, ``unwrap_model``,
``is_main_process``).

Mixed precision: ``precision`` = ``"bf16"`` or ``"fp16"`` enables ``torch.autocast`` on CUDA
only (fp16 with a gradient scaler); on the CPU the step then runs in float32. ``"auto"`` is bf16
on CUDA and also on a CPU that computes bf16 natively (``avx512_bf16`` or AMX: measured 1.6-1.8x
faster per training step on a 2-core AMD EPYC, :mod:`benchmarks.bench_mfu`), float32 on other
CPUs: decided at run time, so one recipe runs at each machine's best (results then differ in the
last bits between CPU kinds, as they do anyway). A run on one machine is bit-reproducible.
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Iterable, Literal, Protocol, get_args

import torch
from torch import nn

from audiospec.errors import AudiospecError

__all__ = ["Precision", "PRECISIONS", "RuntimeName", "Runtime", "SingleDevice", "AccelerateRuntime", "OnDevice", "batch_shard",
           "default_device", "evaluation_network", "native_cpu_bf16"]

Precision = Literal["fp32", "bf16", "fp16", "auto"]
RuntimeName = Literal["single", "accelerate"]
"""How ``audiospec train`` runs: :class:`SingleDevice`, or :class:`AccelerateRuntime` under ``accelerate launch``."""
PRECISIONS: tuple[str, ...] = get_args(Precision)


class Runtime(Protocol):
    """What the training loop needs from a device / distributed engine.

    Attributes:
        device: where the model and batches live.
        is_main_process: whether this process writes checkpoints, logs and the progress bar.
        process_index: this process's rank, 0 .. num_processes - 1.
        num_processes: the number of data-parallel processes.
    """

    device: torch.device
    is_main_process: bool
    process_index: int  # this process's rank, 0 .. num_processes - 1
    num_processes: int

    def prepare(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[nn.Module, torch.optim.Optimizer]:
        """Move (and, for a distributed engine, wrap) the model and optimiser for training.

        Args:
            model: the network.
            optimizer: its optimiser.

        Returns:
            ``(model, optimizer)`` to train with.
        """

    def autocast(self) -> ContextManager[Any]:
        """The mixed-precision context of the forward pass and loss.

        Returns:
            A context manager (a no-op in float32).
        """

    def backward(self, loss: torch.Tensor) -> None:
        """Backpropagate ``loss`` (scaled when fp16 needs it).

        Args:
            loss: the scalar loss ``[]``.
        """

    def clip_grad_norm_(self, parameters: Iterable[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
        """Clip the global norm of the gradients of ``parameters`` to ``max_norm`` (after unscaling).

        Args:
            parameters: the model's parameters.
            max_norm: the norm bound.

        Returns:
            The total norm before clipping, a scalar tensor.
        """

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """One optimiser step (through the gradient scaler when there is one).

        Args:
            optimizer: the prepared optimiser.
        """

    def unwrap_model(self, model: nn.Module) -> nn.Module:
        """The bare network behind a prepared (e.g. DDP-wrapped) model.

        Args:
            model: the prepared model.

        Returns:
            The underlying :class:`torch.nn.Module`, whose state dict is saved.
        """

    def state_dict(self) -> dict[str, Any]:
        """The engine's own state to checkpoint (e.g. the fp16 gradient scaler).

        Returns:
            A dict, empty when there is nothing to save.
        """

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.

        Args:
            state: a saved :meth:`state_dict`.
        """


def native_cpu_bf16() -> bool:
    """True when this CPU computes bfloat16 natively (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``).

    Returns:
        Whether ``precision: auto`` trains in bf16 on this CPU.
    """
    from audiospec.diffusion.flops import cpu_info

    flags = cpu_info().flags
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``precision`` on ``device`` (module doc), None for float32."""
    if device.type == "cuda":
        return {"bf16": torch.bfloat16, "fp16": torch.float16, "auto": torch.bfloat16}.get(precision)
    return torch.bfloat16 if precision == "auto" and native_cpu_bf16() else None


def default_device() -> torch.device:
    """``cuda`` when available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class SingleDevice:
    """One device (CPU or a single GPU); autocast + fp16 gradient scaling on CUDA only.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... (default: CUDA when available).
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"`` (mixed precision on CUDA only), or ``"auto"``
            (bf16 on CUDA and on a CPU with native bf16, else fp32; module doc).

    Raises:
        AudiospecError: an unknown precision, or a CUDA device without CUDA.
    """

    is_main_process = True
    process_index = 0
    num_processes = 1

    def __init__(self, *, device: torch.device | str | None = None, precision: Precision = "fp32") -> None:
        if precision not in PRECISIONS:
            raise AudiospecError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
        self.device = torch.device(device) if device is not None else default_device()
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise AudiospecError(f"device {self.device} requested but CUDA is not available; use device='cpu'")
        self.precision: Precision = precision
        self._amp_dtype = _autocast_dtype(precision, self.device)
        self._scaler = torch.amp.GradScaler("cuda") if self._amp_dtype is torch.float16 else None
        self._optimizer: torch.optim.Optimizer | None = None

    def prepare(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[nn.Module, torch.optim.Optimizer]:
        """Move (and, for a distributed engine, wrap) the model and optimiser for training.

        Args:
            model: the network.
            optimizer: its optimiser.

        Returns:
            ``(model, optimizer)`` to train with.
        """
        self._optimizer = optimizer  # for unscaling fp16 gradients before clipping
        return model.to(self.device), optimizer

    def autocast(self) -> ContextManager[Any]:
        """The mixed-precision context of the forward pass and loss.

        Returns:
            A context manager (a no-op in float32).
        """
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self._amp_dtype)

    def backward(self, loss: torch.Tensor) -> None:
        """Backpropagate ``loss`` (scaled when fp16 needs it).

        Args:
            loss: the scalar loss ``[]``.
        """
        (self._scaler.scale(loss) if self._scaler is not None else loss).backward()

    def clip_grad_norm_(self, parameters: Iterable[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
        """Clip the global norm of the gradients of ``parameters`` to ``max_norm`` (after unscaling).

        Args:
            parameters: the model's parameters.
            max_norm: the norm bound.

        Returns:
            The total norm before clipping, a scalar tensor.
        """
        if self._scaler is not None:
            self._scaler.unscale_(self._optimizer)  # clip the true gradients, not the scaled ones
        return torch.nn.utils.clip_grad_norm_(list(parameters), max_norm)

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """One optimiser step (through the gradient scaler when there is one).

        Args:
            optimizer: the prepared optimiser.
        """
        if self._scaler is None:
            optimizer.step()
        else:
            self._scaler.step(optimizer)
            self._scaler.update()

    def unwrap_model(self, model: nn.Module) -> nn.Module:
        """The bare network behind a prepared (e.g. DDP-wrapped) model.

        Args:
            model: the prepared model.

        Returns:
            The underlying :class:`torch.nn.Module`, whose state dict is saved.
        """
        return model

    def state_dict(self) -> dict[str, Any]:
        """The engine's own state to checkpoint (e.g. the fp16 gradient scaler).

        Returns:
            A dict, empty when there is nothing to save.
        """
        return {"grad_scaler": self._scaler.state_dict()} if self._scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.

        Args:
            state: a saved :meth:`state_dict`.
        """
        if self._scaler is not None and "grad_scaler" in state:
            self._scaler.load_state_dict(state["grad_scaler"])


class AccelerateRuntime:
    """Data-parallel training through HF Accelerate (``accelerate launch`` starts the processes).

    Each process takes its share of every global batch (:func:`batch_shard`) and draws its
    own noise and timesteps; Accelerate averages the gradients, applies mixed precision and
    wraps the model in DDP when there is more than one process. Checkpoints, logs and the
    progress bar belong to the main process. Needs the ``accelerate`` package
    (``pip install -e .[multigpu]``).
    """

    def __init__(self, *, precision: Precision = "fp32", cpu: bool = False) -> None:
        if precision not in PRECISIONS:
            raise AudiospecError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
        try:
            from accelerate import Accelerator
        except ImportError:
            raise AudiospecError(
                "multi-GPU training needs HF Accelerate: pip install -e '.[multigpu]' (or pip install accelerate)"
            ) from None
        mixed = {"fp32": "no", "bf16": "bf16", "fp16": "fp16", "auto": "bf16"}[precision]
        self._accelerator = Accelerator(mixed_precision=mixed if torch.cuda.is_available() and not cpu else "no",
                                        cpu=cpu)
        self.device = self._accelerator.device
        self.is_main_process = self._accelerator.is_main_process
        self.process_index = self._accelerator.process_index
        self.num_processes = self._accelerator.num_processes

    def prepare(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[nn.Module, torch.optim.Optimizer]:
        return self._accelerator.prepare(model, optimizer)

    def autocast(self) -> ContextManager[Any]:
        return self._accelerator.autocast()

    def backward(self, loss: torch.Tensor) -> None:
        self._accelerator.backward(loss)

    def clip_grad_norm_(self, parameters: Iterable[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
        return self._accelerator.clip_grad_norm_(list(parameters), max_norm)

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        optimizer.step()  # the prepared optimizer applies Accelerate's gradient scaling itself

    def unwrap_model(self, model: nn.Module) -> nn.Module:
        return self._accelerator.unwrap_model(model)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


def batch_shard(index: torch.Tensor, *, process_index: int, num_processes: int) -> torch.Tensor:
    """This process's share of a global batch ``index`` ``[B]``: every ``num_processes``-th element."""
    if not 0 <= process_index < num_processes:
        raise AudiospecError(f"process_index {process_index} outside 0 .. {num_processes - 1}")
    if index.numel() < num_processes:
        raise AudiospecError(
            f"a global batch of {index.numel()} cannot feed {num_processes} processes; raise batch_size"
        )
    return index[process_index::num_processes]


class OnDevice:
    """A network that runs on an accelerator while its callers keep their tensors where they are.

    ``OnDevice(net, device)(x, t)`` moves ``x`` ``[B, C, M, T]`` and ``t`` ``[B]`` to ``device``, runs
    ``net`` there and returns the output on ``x``'s device (autograd flows through the copies). It
    is not an ``nn.Module``, so samplers, metrics and probes that ask a network for its device see
    the CPU and keep every other tensor (noise, trajectories, statistics) there: only the network
    evaluations use the GPU, and no code path has to be device-aware to use it.
    """

    def __init__(self, net: nn.Module, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.net = net.to(self.device)

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t)
        return self.net(x.to(self.device), t.to(self.device)).to(x.device)


def evaluation_network(net: nn.Module) -> nn.Module | OnDevice:
    """``net`` as the evaluation stages use it: wrapped in :class:`OnDevice` on CUDA when a GPU is present, else
    itself (on the CPU)."""
    device = default_device()
    return OnDevice(net, device) if device.type == "cuda" else net
