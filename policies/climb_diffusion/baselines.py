"""Baselines that a video-to-motion model must beat, fitted on the same training windows.

- `NearestNeighbour`: retrieval of the training window whose route prompt has the closest
  geometry (its holds' positions relative to the start holds' centre, in prompt order), moved
  so its start holds' centre lands on the query's. K neighbours give K samples. It sees the
  holds' 3D positions exactly, where the diffusion model sees them as frames (and, with
  `use_hold_positions`, as positions too): a strong baseline, not a straw man.
- `MeanMotion`: the training set's mean window (anchor-relative), placed at the query's anchor.

Both take and return the batch interface of `policy.py` (features in the world frame).
"""

from __future__ import annotations

import numpy as np
import torch

from navenv.body.motion import FEATURE_LAYOUT
from policies.climb_diffusion.data import Windows

TRANSL = FEATURE_LAYOUT["transl"]


def prompt_descriptor(context_pos: torch.Tensor, context_mask: torch.Tensor, anchor: torch.Tensor):
    """(B, 3 C) route-prompt geometry: slot positions minus the anchor, padded slots repeating
    the last real one (prompts of different lengths still compare by their common prefix)."""
    rel = context_pos - anchor[:, None]  # (B, C, 3)
    count = context_mask.sum(dim=1).clamp_min(1)  # (B,)
    c = rel.shape[1]
    src = torch.minimum(torch.arange(c)[None], (count - 1)[:, None])  # (B, C)
    filled = torch.gather(rel, 1, src[..., None].expand(-1, -1, 3))
    return filled.reshape(rel.shape[0], -1)


class NearestNeighbour:
    """Retrieval baseline: the K training windows with the closest route-prompt geometry."""

    name = "nearest_neighbour"

    def __init__(self, train: Windows) -> None:
        self.motion = train.motion  # (N, T, F)
        self.anchor = train.anchor  # (N, 3)
        mask = train.context_sets >= 0
        self.keys = prompt_descriptor(train.context_pos, mask, train.anchor)  # (N, 3 C)

    def sample(self, batch: dict[str, torch.Tensor], num_samples: int = 1) -> torch.Tensor:
        """(B, K, T, F) world features: the K nearest windows, translated to the query's anchor."""
        q = prompt_descriptor(batch["context_pos"], batch["context_mask"], batch["anchor"])
        dist = torch.cdist(q, self.keys)  # (B, N)
        idx = torch.topk(dist, num_samples, dim=1, largest=False).indices  # (B, K)
        out = self.motion[idx].clone()  # (B, K, T, F)
        shift = batch["anchor"][:, None] - self.anchor[idx]  # (B, K, 3)
        out[..., TRANSL] = out[..., TRANSL] + shift[:, :, None]
        return out


class MeanMotion:
    """The mean training window relative to its anchor, placed at the query's anchor."""

    name = "mean_motion"

    def __init__(self, train: Windows) -> None:
        rel = train.motion.clone()
        rel[..., TRANSL] = rel[..., TRANSL] - train.anchor[:, None]
        self.mean = rel.mean(dim=0)  # (T, F); 6D rotations are re-orthonormalised by FK

    def sample(self, batch: dict[str, torch.Tensor], num_samples: int = 1) -> torch.Tensor:
        """(B, K, T, F): the same deterministic motion K times."""
        b = batch["anchor"].shape[0]
        out = self.mean.expand(b, num_samples, *self.mean.shape).clone()
        out[..., TRANSL] = out[..., TRANSL] + batch["anchor"][:, None, None]
        return out


def known_prefix(features: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Samples (B, K, T, F) with the batch's known frames copied in (continuation for all)."""
    mask = batch["known_mask"][:, None, :, None]
    return torch.where(mask, batch["motion"][:, None], features)


def as_numpy(x: torch.Tensor) -> np.ndarray:
    """float64 numpy copy (for scoring)."""
    return x.detach().cpu().numpy().astype(np.float64)
