"""Condition encoders of the behaviour models: the agent's past and the people around it.

Both are MLPs over 8 frames (ATS's past and observer encoders). The neighbour encoder embeds each
neighbour's track and max-pools over neighbours, ignoring missing ones (NaN rows), so any number
of people can be given.
"""

from __future__ import annotations

import torch
from torch import nn


class PastEncoder(nn.Module):
    """(B, P, 2) past positions and (B, P, 2) velocities (agent frame) -> (B, dim)."""

    def __init__(self, past: int, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4 * past, 2 * dim), nn.Mish(), nn.Linear(2 * dim, dim))

    def forward(self, pos: torch.Tensor, vel: torch.Tensor) -> torch.Tensor:
        """See the class doc."""
        return self.net(torch.cat([pos, vel], dim=-1).flatten(1))


class NeighbourEncoder(nn.Module):
    """(B, M, P, 2) neighbour positions (agent frame, NaN where absent) -> (B, dim)."""

    def __init__(self, past: int, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3 * past, 2 * dim), nn.Mish(), nn.Linear(2 * dim, dim))

    def forward(self, nbr: torch.Tensor) -> torch.Tensor:
        """See the class doc."""
        present = torch.isfinite(nbr).all(dim=-1)  # (B, M, P)
        x = torch.nan_to_num(nbr, nan=0.0)
        dist = x.norm(dim=-1, keepdim=True)  # distance to the agent's last position, per frame
        feats = torch.cat([x, dist], dim=-1) * present[..., None]
        h = self.net(feats.flatten(2))  # (B, M, dim)
        any_frame = present.any(dim=-1)  # (B, M)
        h = h.masked_fill(~any_frame[..., None], float("-inf"))
        pooled = h.max(dim=1).values
        return torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))
