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


class TrackEncoder(nn.Module):
    """(B, 8, 4) agent-frame track (x, y, cos, sin of the relative yaw) and its per-frame
    differences -> (B, dim): ATS's past and observer encoders (MLPs over the 8 frames)."""

    def __init__(self, frames: int, dim: int, features: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * features * frames, 2 * dim), nn.Mish(), nn.Linear(2 * dim, dim)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """See the class doc."""
        vel = torch.diff(x, dim=1, prepend=x[:, :1])
        return self.net(torch.cat([x, vel], dim=-1).flatten(1))


class SceneEncoder(nn.Module):
    """(B, L, H, W) ego-centric occupancy voxels (L height layers) -> (B, dim), a CNN trained
    from scratch.

    ATS runs a 3D CNN over its 64 x 8 x 64 crop and max-pools globally. Here the 8 height
    layers are the input channels of 2D convolutions (the bird's-eye-view pillar encoding): the
    same receptive field over the floor, every layer seen at once, and ~10x cheaper on a CPU than
    Conv3d. The last 4 x 4 map is flattened into a linear layer: a global max-pool keeps what is
    in the crop but drops where it is, and where the furniture stands is what steers a path
    (`pool="max"` gives ATS's pooling).
    """

    def __init__(
        self, dim: int, layers: int = 8, width: int = 16, cells: int = 64, pool: str = "flatten"
    ) -> None:
        super().__init__()
        if pool not in ("flatten", "max"):
            raise ValueError(f"SceneEncoder pool={pool!r}: expected 'flatten' or 'max'")
        w = width
        self.pool = pool
        self.net = nn.Sequential(  # (L, 64, 64) ->
            nn.Conv2d(layers, w, 3, stride=2, padding=1),  # (w, 32, 32)
            nn.Mish(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),  # (2w, 16, 16)
            nn.Mish(),
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1),  # (4w, 8, 8)
            nn.Mish(),
            nn.Conv2d(4 * w, 4 * w, 3, stride=2, padding=1),  # (4w, 4, 4)
            nn.Mish(),
        )
        side = max(cells // 16, 1)
        self.head = nn.Linear(4 * w * (side * side if pool == "flatten" else 1), dim)

    def forward(self, vox: torch.Tensor) -> torch.Tensor:
        """See the class doc."""
        h = self.net(vox)
        h = h.amax(dim=(2, 3)) if self.pool == "max" else h.flatten(1)
        return self.head(h)
