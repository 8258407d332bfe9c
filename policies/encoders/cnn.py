"""navenv-cnn: a small stride-8 CNN encoder pretrained on navenv's own ray-cast frames.

A 64 x 64 frame gives an 8 x 8 grid = 64 tokens of width D = 64 (any H, W divisible by 8 work:
P = (H / 8) * (W / 8)). Three stages of two 3 x 3 convolutions (the first of each with stride 2),
GroupNorm and GELU; GroupNorm rather than BatchNorm so that a token never depends on the other
frames of its batch. A 1 x 1 projection and a LayerNorm bring every token to unit scale, then a
fixed (not learned) 2D sine-cosine position embedding of the token's grid cell is added
(MAE's ``get_2d_sincos_pos_embed``: half the channels encode the row, half the column), so that
tokens know where in the frame they are for any grid size. The weights (about 100 k parameters,
~0.4 MB) are pretrained by policies.encoders.pretrain to predict depth, hold masks and normals
and ship in policies/checkpoints/navenv_cnn/ in the policies.pretrained checkpoint format, as
method "navenv-cnn" (registered when this module is imported).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from policies.encoders.base import EncoderError, ImageEncoder
from policies.pretrained import load_pretrained, register_method

SHIPPED = "navenv_cnn"
"""Name of the shipped checkpoint (policies/checkpoints/navenv_cnn/)."""
STRIDE = 8  # three stride-2 stages
_MEAN = (0.5, 0.5, 0.5)  # pixels -> about zero mean, unit spread; ray-cast colours are mid-grey
_STD = (0.25, 0.25, 0.25)


@dataclass
class CNNConfig:
    """Architecture of the navenv-cnn encoder (saved in the checkpoint's config.json)."""

    dim: int = 64
    """Token width D (divisible by 4 for the 2D sine-cosine embedding)."""
    widths: tuple[int, int, int] = (24, 48, 64)
    """Channels of the three stages (strides 2, 4, 8); each divisible by `groups`."""
    groups: int = 8
    """GroupNorm groups."""
    pos_temperature: float = 10000.0
    """Longest wavelength (in grid cells) of the position embedding."""

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        if len(self.widths) != 3 or any(w < 1 for w in self.widths):
            raise ValueError(f"CNNConfig.widths={self.widths}: expected 3 channel counts >= 1")
        if self.groups < 1 or any(w % self.groups for w in self.widths):
            raise ValueError(
                f"CNNConfig.groups={self.groups}: must divide every width {self.widths}"
            )
        if self.dim < 4 or self.dim % 4:
            raise ValueError(f"CNNConfig.dim={self.dim}: expected a multiple of 4 (>= 4)")
        if not self.pos_temperature > 1.0:
            raise ValueError(f"CNNConfig.pos_temperature={self.pos_temperature}: expected > 1")


def sincos_2d(rows: int, cols: int, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """(rows * cols, dim) fixed position embedding of a grid, row-major (MAE's 2D sin-cos)."""
    quarter = dim // 4
    omega = 1.0 / temperature ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    y, x = torch.meshgrid(
        torch.arange(rows, dtype=torch.float64),
        torch.arange(cols, dtype=torch.float64),
        indexing="ij",
    )
    ang_y = y.reshape(-1, 1) * omega  # (P, dim / 4)
    ang_x = x.reshape(-1, 1) * omega
    emb = torch.cat([ang_y.sin(), ang_y.cos(), ang_x.sin(), ang_x.cos()], dim=1)
    return emb.float()


def _conv(cin: int, cout: int, stride: int, groups: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.GroupNorm(groups, cout),
        nn.GELU(),
    )


class NavCNN(ImageEncoder):
    """Stride-8 CNN + fixed 2D sin-cos position embedding: (B, T, H, W, 3) -> (B, T, P, D)."""

    name = "navenv-cnn"
    method = "navenv-cnn"  # policies.pretrained method name

    def __init__(self, config: CNNConfig | None = None) -> None:
        """An encoder with fresh weights (see `load_cnn` for the pretrained one), frozen."""
        super().__init__()
        self.config = config or CNNConfig()
        c1, c2, c3 = self.config.widths
        g = self.config.groups
        self.dim = self.config.dim
        self.backbone = nn.Sequential(
            _conv(3, c1, 2, g),
            _conv(c1, c1, 1, g),
            _conv(c1, c2, 2, g),
            _conv(c2, c2, 1, g),
            _conv(c2, c3, 2, g),
            _conv(c3, c3, 1, g),
        )
        self.proj = nn.Conv2d(c3, self.dim, 1)
        self.norm = nn.LayerNorm(self.dim)
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)
        self._pos: dict[tuple[int, int], torch.Tensor] = {}
        self.freeze()

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """(H / 8, W / 8); EncoderError unless both are positive multiples of 8."""
        if height < STRIDE or width < STRIDE or height % STRIDE or width % STRIDE:
            raise EncoderError(
                f"navenv-cnn: frames of {height} x {width} pixels; height and width must be "
                f"positive multiples of {STRIDE} (the encoder's stride), e.g. 64 x 64"
            )
        return height // STRIDE, width // STRIDE

    def position_embedding(self, rows: int, cols: int) -> torch.Tensor:
        """(rows * cols, D) fixed embedding of the token grid (cached per grid size)."""
        key = (rows, cols)
        if key not in self._pos:
            self._pos[key] = sincos_2d(rows, cols, self.dim, self.config.pos_temperature)
        return self._pos[key]

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """Differentiable: pixels (N, 3, H, W) in [0, 1] -> tokens (N, P, D)."""
        rows, cols = self.grid(pixels.shape[2], pixels.shape[3])
        x = (pixels - self.mean) / self.std
        x = self.proj(self.backbone(x))  # (N, D, H / 8, W / 8)
        x = self.norm(x.flatten(2).transpose(1, 2))  # (N, P, D)
        return x + self.position_embedding(rows, cols).to(x.device, x.dtype)

    def config_dict(self) -> dict[str, Any]:
        """Name, stride and architecture (for token caches)."""
        cfg = asdict(self.config)
        cfg["widths"] = list(cfg["widths"])
        return {"name": self.name, "stride": STRIDE, **cfg}

    def num_parameters(self) -> int:
        """Weights in the encoder."""
        return sum(p.numel() for p in self.parameters())


register_method("navenv-cnn", CNNConfig, NavCNN)


def load_cnn(path: str | os.PathLike | None = None, *, device: str = "cpu") -> NavCNN:
    """The pretrained navenv-cnn: the shipped weights, or a checkpoint directory `path`."""
    encoder = load_pretrained(SHIPPED if path is None else path, device=device)
    if not isinstance(encoder, NavCNN):
        raise EncoderError(
            f"{path}: holds a {type(encoder).__name__} checkpoint, not navenv-cnn weights"
        )
    return encoder.freeze()


def bytes_of_weights(encoder: NavCNN) -> int:
    """Bytes of the encoder's float32 weights (what model.safetensors holds, without header)."""
    return sum(p.numel() * p.element_size() for p in encoder.state_dict().values())


def _receptive_field() -> int:
    """Receptive field (pixels) of a token: six 3 x 3 convolutions at strides 1, 2, 2, 4, 4, 8."""
    rf, jump = 1, 1
    for stride in (2, 1, 2, 1, 2, 1):
        rf += 2 * jump
        jump *= stride
    return rf


RECEPTIVE_FIELD = _receptive_field()
"""Pixels each token sees (43 x 43): most of a 64 x 64 frame."""
