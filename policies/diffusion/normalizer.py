"""Per-dimension normaliser whose statistics live in the state dict (Diffusion Policy, LeRobot).

Diffusion models are trained on data of unit scale; the statistics are fitted once on the
training set and saved with the weights, so a checkpoint maps model space back to metres and
6D rotations by itself.
"""

from __future__ import annotations

import torch
from torch import nn

MIN_STD = 1e-4
"""Dimensions whose std is below this (constant in the data) are only centred, not scaled."""


class Normalizer(nn.Module):
    """x -> (x - mean) / (scale * std) per dimension; `scale` 1 by default (ATS uses 2)."""

    def __init__(self, dim: int, scale: float = 1.0) -> None:
        super().__init__()
        if dim < 1:
            raise ValueError(f"Normalizer: dim={dim!r}, expected >= 1")
        if not scale > 0:
            raise ValueError(f"Normalizer: scale={scale!r}, expected > 0")
        self.scale = float(scale)
        self.register_buffer("mean", torch.zeros(dim))  # (D,)
        self.register_buffer("std", torch.ones(dim))  # (D,)
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> None:
        """Set the statistics from samples x (..., D) (every leading axis is a sample axis)."""
        flat = torch.as_tensor(x, dtype=torch.float32).reshape(-1, self.mean.shape[0])
        if flat.shape[0] < 2:
            raise ValueError(f"Normalizer.fit: needs at least 2 samples, got {flat.shape[0]}")
        if not torch.isfinite(flat).all():
            raise ValueError("Normalizer.fit: samples contain NaN or inf")
        std = flat.std(dim=0, unbiased=False)
        self.mean.copy_(flat.mean(dim=0))
        self.std.copy_(torch.where(std < MIN_STD, torch.ones_like(std), std))
        self.fitted.fill_(True)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) data units -> (..., D) model units."""
        return (x - self.mean) / (self.scale * self.std)

    def unnormalize(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) model units -> (..., D) data units."""
        return x * (self.scale * self.std) + self.mean
