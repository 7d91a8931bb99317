"""A small U-Net for log-mel patches ``[B, C, M, T]`` conditioned on the diffusion time t ``[B]``.

Architecture (the DDPM / ADM family, Ho et al. 2020; Dhariwal & Nichol 2021, written from
the description, not copied):

- time embedding: sinusoidal features of 1000 t (Vaswani et al. 2017) -> Linear -> SiLU -> Linear;
- stem: ``conv_in`` 3x3 to ``base_channels`` at full resolution, or with ``patch_size`` p > 1 a
  p x p convolution of stride p (a patchified stem, as in ViT / DiT and U-ViT): every level then runs
  on an (M / p) x (T / p) grid, p^2 times fewer positions, and the output conv predicts p^2
  channels per input channel that a pixel shuffle puts back at full resolution;
- encoder: for each level l, ``res_blocks`` residual blocks at ``base_channels * channel_mults[l]``,
  then a stride-2 3x3 conv (not after the last level): ``len(channel_mults) - 1`` halvings of M and T;
- middle: residual block, optional multi-head self-attention over all M' x T' positions, residual block;
- decoder: mirror image, ``res_blocks + 1`` residual blocks per level, each fed the matching
  encoder activation by concatenation, then nearest-neighbour x2 upsampling + 3x3 conv;
- output: GroupNorm -> SiLU -> 3x3 conv to ``in_channels``.

Residual block: GroupNorm -> SiLU -> conv3x3 -> + Linear(SiLU(emb)) per channel -> GroupNorm ->
SiLU -> conv3x3, plus a 1x1 conv on the skip path when the width changes. No dropout (every
source of randomness is an explicit generator). Weights are initialised from a
``torch.Generator`` (:func:`init_weights`) with PyTorch's default distributions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import nn
from torch.nn import functional as F

from audiospec.errors import AudiospecError
from audiospec.weight_init import init_weights

__all__ = ["ModelPreset", "ModelConfig", "UNet", "build_model", "init_weights", "count_parameters", "timestep_embedding"]

ModelPreset = Literal["tiny", "default"]
MODEL_PRESETS: tuple[str, ...] = get_args(ModelPreset)


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """U-Net settings (YAML ``model:``). Use :meth:`preset` for ``"tiny"`` or ``"default"``.

    ``channel_mults`` sets the number of levels L; patches need M and T divisible by
    patch_size * 2^(L - 1) (:meth:`check_patch_shape`). ``norm_groups`` must divide every width.

    Args:
        in_channels: channels C of a patch ``[B, C, M, T]``.
        base_channels: width of the first level.
        channel_mults: width multiplier of each level (L = its length).
        res_blocks: residual blocks per encoder level (decoder: one more).
        attention: self-attention at the bottleneck.
        attention_heads: heads of that attention; must divide the bottleneck width.
        norm_groups: GroupNorm groups; must divide every width.
        time_embed_mult: width of the time embedding over ``base_channels``.
        patch_size: side p of the patchified stem (1: a 3x3 convolution at full resolution); every level
            then runs on an (M / p) x (T / p) grid.

    Raises:
        AudiospecError: a size that is not a positive integer, or groups / heads that do not
            divide the widths (each message names the YAML key).
    """

    in_channels: int = 1
    base_channels: int = 64
    channel_mults: tuple[int, ...] = (1, 2, 2, 4)
    res_blocks: int = 2
    attention: bool = True
    attention_heads: int = 4
    norm_groups: int = 32
    time_embed_mult: int = 4
    patch_size: int = 1

    def __post_init__(self) -> None:
        mults = tuple(self.channel_mults)
        object.__setattr__(self, "channel_mults", mults)
        ints = {
            "in_channels": self.in_channels, "base_channels": self.base_channels, "res_blocks": self.res_blocks,
            "attention_heads": self.attention_heads, "norm_groups": self.norm_groups,
            "time_embed_mult": self.time_embed_mult, "patch_size": self.patch_size,
        }
        for name, value in ints.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise AudiospecError(f"model.{name} must be a positive integer, got {value!r}")
        if not mults or any(not isinstance(m, int) or isinstance(m, bool) or m < 1 for m in mults):
            raise AudiospecError(f"model.channel_mults must be a non-empty list of positive integers, got {list(mults)}")
        if not isinstance(self.attention, bool):
            raise AudiospecError(f"model.attention must be true or false, got {self.attention!r}")
        for width in self.widths:
            if width % self.norm_groups:
                raise AudiospecError(
                    f"model.norm_groups={self.norm_groups} does not divide the width {width} "
                    f"(base_channels={self.base_channels} x channel_mults {list(mults)}); pick a divisor"
                )
        if self.attention and self.widths[-1] % self.attention_heads:
            raise AudiospecError(
                f"model.attention_heads={self.attention_heads} does not divide the bottleneck width {self.widths[-1]}"
            )

    @property
    def widths(self) -> tuple[int, ...]:
        """Channel width of each level: base_channels * channel_mults[l]."""
        return tuple(self.base_channels * m for m in self.channel_mults)

    @property
    def downsampling_factor(self) -> int:
        """patch_size * 2^(L - 1): how much M and T shrink at the bottleneck."""
        return self.patch_size * 2 ** (len(self.channel_mults) - 1)

    def check_patch_shape(self, shape: tuple[int, int]) -> None:
        """Raise :class:`AudiospecError` unless M and T (``shape``) are divisible by patch_size * 2^(L - 1).

        Args:
            shape: the patch size ``(M, T)``.

        Raises:
            AudiospecError: M or T not divisible by :attr:`downsampling_factor`; the message
                suggests a crop.
        """
        M, T = (int(s) for s in shape)
        d = self.downsampling_factor
        if M < d or T < d or M % d or T % d:
            stem = f"patch_size {self.patch_size} x " if self.patch_size > 1 else ""
            raise AudiospecError(
                f"patch shape (M, T) = ({M}, {T}) must be divisible by {stem}2^{len(self.channel_mults) - 1} = {d} "
                f"for a U-Net with {len(self.channel_mults)} levels; crop/pad the patches (e.g. to "
                f"({max(d, M // d * d)}, {max(d, T // d * d)})) or use fewer channel_mults or a smaller patch_size"
            )

    @classmethod
    def preset(cls, name: ModelPreset) -> "ModelConfig":
        """``"tiny"`` (~1.5 M parameters, trains on a CPU) or ``"default"`` (~15 M parameters, a GPU).

        Args:
            name: ``"tiny"`` or ``"default"``.

        Returns:
            The preset's :class:`ModelConfig`.

        Raises:
            AudiospecError: an unknown preset.
        """
        if name == "tiny":
            return cls(base_channels=32, channel_mults=(1, 2, 2, 2), res_blocks=1, attention=True,
                       attention_heads=4, norm_groups=8)
        if name == "default":
            return cls()
        raise AudiospecError(f"unknown model preset {name!r}; choose one of {MODEL_PRESETS}")


def timestep_embedding(t: torch.Tensor, dim: int, *, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of 1000 t: ``[B] -> [B, dim]`` (cos of the first half, sin of the second)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)  # [half]
    angles = 1000.0 * t.float()[:, None] * freqs[None, :]  # [B, 1] * [1, half] -> [B, half]
    emb = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class ResBlock(nn.Module):
    """Time-conditioned residual block (module doc)."""

    def __init__(self, in_ch: int, out_ch: int, *, emb_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_dim, out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # [B, out, M, T]
        h = h + self.emb(F.silu(emb))[:, :, None, None]  # [B, out] -> [B, out, 1, 1]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over the M x T positions, with a residual connection."""

    def __init__(self, channels: int, *, heads: int, groups: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, M, T = x.shape
        qkv = self.qkv(self.norm(x)).reshape(B, 3, self.heads, C // self.heads, M * T)  # [B, 3, h, d, N]
        q, k, v = qkv.permute(1, 0, 2, 4, 3).unbind(0)  # each [B, h, N, d]
        out = F.scaled_dot_product_attention(q, k, v)  # [B, h, N, d]
        out = out.permute(0, 1, 3, 2).reshape(B, C, M, T)
        return x + self.proj(out)


class Downsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet(nn.Module):
    """``forward(x [B, C, M, T], t [B]) -> [B, C, M, T]`` (module doc). Build with :func:`build_model`.

    Args:
        config: the architecture.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        emb_dim = c.base_channels * c.time_embed_mult
        self.time_mlp = nn.Sequential(nn.Linear(c.base_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        p = c.patch_size
        self.conv_in = (nn.Conv2d(c.in_channels, c.base_channels, 3, padding=1) if p == 1
                        else nn.Conv2d(c.in_channels, c.base_channels, p, stride=p))
        block = dict(emb_dim=emb_dim, groups=c.norm_groups)

        self.down = nn.ModuleList()
        skip_widths = [c.base_channels]
        ch = c.base_channels
        for level, width in enumerate(c.widths):
            stage = nn.ModuleList()
            for _ in range(c.res_blocks):
                stage.append(ResBlock(ch, width, **block))
                ch = width
                skip_widths.append(ch)
            if level < len(c.widths) - 1:
                stage.append(Downsample(ch))
                skip_widths.append(ch)
            self.down.append(stage)

        self.mid1 = ResBlock(ch, ch, **block)
        self.mid_attn = SelfAttention(ch, heads=c.attention_heads, groups=c.norm_groups) if c.attention else None
        self.mid2 = ResBlock(ch, ch, **block)

        self.up = nn.ModuleList()
        for level in reversed(range(len(c.widths))):
            width = c.widths[level]
            stage = nn.ModuleList()
            for _ in range(c.res_blocks + 1):
                stage.append(ResBlock(ch + skip_widths.pop(), width, **block))
                ch = width
            if level > 0:
                stage.append(Upsample(ch))
            self.up.append(stage)

        self.norm_out = nn.GroupNorm(c.norm_groups, ch)
        self.conv_out = nn.Conv2d(ch, c.in_channels * p * p, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The network's prediction (velocity or noise, as trained) at ``x`` and time ``t``.

        Args:
            x: noisy patches ``[B, C, M, T]``, M and T divisible by ``config.downsampling_factor``.
            t: times in [0, 1], ``[B]`` or a scalar.

        Returns:
            The prediction ``[B, C, M, T]``.

        Raises:
            AudiospecError: ``x`` not ``[B, in_channels, M, T]``, a patch size the levels cannot
                halve, or ``t`` neither scalar nor ``[B]``.
        """
        if x.ndim != 4 or x.shape[1] != self.config.in_channels:
            raise AudiospecError(
                f"the U-Net takes [B, {self.config.in_channels}, M, T] batches, got shape {tuple(x.shape)}"
            )
        self.config.check_patch_shape(tuple(x.shape[-2:]))
        t = torch.as_tensor(t, device=x.device)
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        if t.shape != (x.shape[0],):
            raise AudiospecError(f"t must be a scalar or have shape [B] = [{x.shape[0]}], got {tuple(t.shape)}")
        emb = self.time_mlp(timestep_embedding(t, self.config.base_channels).to(x.dtype))  # [B, emb_dim]

        h = self.conv_in(x)  # [B, base, M / p, T / p]
        skips = [h]
        for stage in self.down:
            for layer in stage:
                h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
                skips.append(h)
        h = self.mid1(h, emb)
        if self.mid_attn is not None:
            h = self.mid_attn(h)
        h = self.mid2(h, emb)
        for stage in self.up:
            for layer in stage:
                if isinstance(layer, ResBlock):
                    h = layer(torch.cat([h, skips.pop()], dim=1), emb)  # [B, ch + skip, M', T']
                else:
                    h = layer(h)
        out = self.conv_out(F.silu(self.norm_out(h)))  # [B, C p^2, M / p, T / p]
        return F.pixel_shuffle(out, self.config.patch_size) if self.config.patch_size > 1 else out  # [B, C, M, T]


def build_model(config: ModelConfig, *, generator: torch.Generator | None = None) -> UNet:
    """A :class:`UNet` with weights drawn from ``generator`` (deterministic given its seed), in channels-last memory
    format: oneDNN's convolutions run about 1.35x faster that way on CPU for the tiny U-Net (measured on a 2-core
    Intel Xeon, training and sampling alike; see benchmarks/bench_unet.py), and cuDNN's under autocast.

    Args:
        config: the architecture.
        generator: randomness of the initial weights.

    Returns:
        The model, on the CPU, in float32 and channels-last format.

    Raises:
        AudiospecError: ``config`` not a :class:`ModelConfig`.
    """
    if not isinstance(config, ModelConfig):
        raise AudiospecError(f"build_model needs a ModelConfig, got {type(config).__name__}")
    return init_weights(UNet(config), generator=generator).to(memory_format=torch.channels_last)


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``.

    Args:
        model: any module.
        trainable_only: count only parameters with ``requires_grad``.

    Returns:
        The number of scalar parameters.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
