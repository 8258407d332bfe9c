"""The 1D temporal U-Net of ATS's path and body stages, with a ControlNet-style control branch.

Blocks are Conv1d - GroupNorm(8) - Mish; every residual block takes the condition (diffusion
step embedding + condition embedding) as a per-channel scale and shift (FiLM). The control
branch is a trainable copy of the encoder half fed the coarser stage's output through a small
MLP; its activations are added to the main encoder's at every level through zero-initialised
1x1 convolutions, so a fresh branch changes nothing (ControlNet, Zhang et al. 2023).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

GROUPS = 8


def step_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) diffusion steps -> (B, dim) sinusoidal embedding."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=-1)


class ConvBlock(nn.Sequential):
    """Conv1d - GroupNorm(8) - Mish over (B, C, T)."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 5) -> None:
        super().__init__(
            nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2),
            nn.GroupNorm(min(GROUPS, c_out), c_out),
            nn.Mish(),
        )


class ResBlock(nn.Module):
    """Two conv blocks with FiLM from the condition between them, and a residual path."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int) -> None:
        super().__init__()
        self.a, self.b = ConvBlock(c_in, c_out), ConvBlock(c_out, c_out)
        self.film = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * c_out))
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x (B, C_in, T), cond (B, cond_dim) -> (B, C_out, T)."""
        h = self.a(x)
        scale, shift = self.film(cond)[..., None].chunk(2, dim=1)
        h = self.b(h * (1 + scale) + shift)
        return h + self.skip(x)


class Encoder(nn.Module):
    """The down half: a ResBlock per level, stride-2 downsampling between levels."""

    def __init__(self, c_in: int, channels: tuple[int, ...], cond_dim: int) -> None:
        super().__init__()
        dims = [c_in, *channels]
        self.blocks = nn.ModuleList(ResBlock(a, b, cond_dim) for a, b in itertools.pairwise(dims))
        self.down = nn.ModuleList(nn.Conv1d(c, c, 3, stride=2, padding=1) for c in channels[:-1])

    def forward(
        self, x: torch.Tensor, cond: torch.Tensor, add: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x (B, C, T) -> bottom (B, C_last, T / 2^(L-1)) and the skip activations per level."""
        skips = []
        for i, block in enumerate(self.blocks):
            x = block(x, cond)
            if add is not None:
                x = x + add[i]
            skips.append(x)
            if i < len(self.down):
                x = self.down[i](x)
        return x, skips


class TemporalUNet(nn.Module):
    """Denoiser over (B, T, D) sequences with a condition vector and an optional control input.

    forward(x (B, T, D), t (B,), cond (B, cond_in), control (B, T, D_ctrl) or None) -> (B, T, D).
    """

    def __init__(
        self,
        dim: int,
        cond_in: int,
        channels: tuple[int, ...] = (64, 128),
        step_dim: int = 64,
        control_dim: int = 0,
    ) -> None:
        super().__init__()
        cond_dim = step_dim + cond_in
        self.step_dim = step_dim
        self.step_mlp = nn.Sequential(
            nn.Linear(step_dim, 2 * step_dim), nn.Mish(), nn.Linear(2 * step_dim, step_dim)
        )
        self.enc = Encoder(dim, channels, cond_dim)
        rev = channels[::-1]
        self.up = nn.ModuleList(nn.ConvTranspose1d(c, c, 4, stride=2, padding=1) for c in rev[:-1])
        self.dec = nn.ModuleList(ResBlock(a + b, b, cond_dim) for a, b in itertools.pairwise(rev))
        self.out = nn.Sequential(
            ConvBlock(channels[0], channels[0]), nn.Conv1d(channels[0], dim, 1)
        )
        self.control = None
        if control_dim:
            self.control = ControlBranch(control_dim, channels, cond_dim)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        cond: torch.Tensor,
        control: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """See the class doc."""
        c = torch.cat([self.step_mlp(step_embedding(t, self.step_dim)), cond], dim=-1)
        h = x.transpose(1, 2)  # (B, D, T)
        add = None
        if control is not None:
            if self.control is None:
                raise ValueError("TemporalUNet: built without a control branch (control_dim=0)")
            add = self.control(control.transpose(1, 2), c)
        h, skips = self.enc(h, c, add)
        for up, block, skip in zip(self.up, self.dec, skips[-2::-1], strict=True):
            h = up(h)[..., : skip.shape[-1]]
            h = block(torch.cat([h, skip], dim=1), c)
        return self.out(h).transpose(1, 2)


class ControlBranch(nn.Module):
    """A copy of the encoder fed MLP(control) alone (as ATS: the coarser output, not the noisy
    sample, which the main encoder already sees); zero-initialised 1x1 outputs per level."""

    def __init__(self, control_dim: int, channels: tuple[int, ...], cond_dim: int) -> None:
        super().__init__()
        self.embed = nn.Sequential(
            nn.Conv1d(control_dim, channels[0], 1),
            nn.Mish(),
            nn.Conv1d(channels[0], channels[0], 1),
        )
        self.enc = Encoder(channels[0], channels, cond_dim)
        self.zero = nn.ModuleList(nn.Conv1d(c, c, 1) for c in channels)
        for z in self.zero:
            nn.init.zeros_(z.weight)
            nn.init.zeros_(z.bias)

    def forward(self, control: torch.Tensor, cond: torch.Tensor) -> list:
        """control (B, D_ctrl, T), cond (B, cond_dim) -> per-level additions."""
        _, skips = self.enc(self.embed(control), cond)
        return [z(s) for z, s in zip(self.zero, skips, strict=True)]
