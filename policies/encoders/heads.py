"""The pretraining objective of navenv-cnn: decoder heads, targets, losses, metrics, baselines.

`Heads` (thrown away after pretraining) decode each token alone to its own 8 x 8 pixel patch of
every label (one MLP per token, as MAE's decoder does), so the tokens themselves must carry their
patch's depth, holds and normals. Losses are named terms (policies.encoders.pretrain weights and
sums them): depth, L1 of log depth; hold and highlight, binary cross-entropy with positives
up-weighted (both masks are sparse); normal, 1 - cosine on pixels with a defined normal.
`baselines` scores trivial predictors the same way, for the model card.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from policies.encoders.cnn import STRIDE, NavCNN
from policies.encoders.frames import MAX_DEPTH_M, FrameSet

CHANNELS = ("log_depth", "hold", "highlight", "normal_x", "normal_y", "normal_z")
MIN_DEPTH_M = 0.05
HOLD_POS_WEIGHT = 4.0  # holds cover ~4 % of the pixels: unweighted, the mask stays all-negative
HIGHLIGHT_POS_WEIGHT = 10.0  # the ringed disc covers ~0.5 % of a context frame's pixels


class Heads(nn.Module):
    """Decoders thrown away after pretraining: tokens (N, P, D) -> label maps (N, 6, H, W)."""

    def __init__(self, dim: int, hidden: int = 128) -> None:
        """One MLP per token -> its STRIDE x STRIDE patch of every channel in CHANNELS."""
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, len(CHANNELS) * STRIDE**2)
        )

    def forward(self, tokens: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
        """tokens (N, P, D) of a rows x cols grid -> (N, 6, rows * 8, cols * 8)."""
        n = tokens.shape[0]
        x = self.mlp(tokens).transpose(1, 2)  # (N, 6 * 64, P)
        return F.pixel_shuffle(x.reshape(n, -1, rows, cols), STRIDE)


def targets(frames: FrameSet) -> dict[str, torch.Tensor]:
    """Training tensors: rgb (N, H, W, 3) uint8, log_depth (N, H, W), masks (N, H, W), normals
    (N, 3, H, W) float16."""
    depth = np.clip(frames.depth, MIN_DEPTH_M, MAX_DEPTH_M)
    return {
        "rgb": torch.from_numpy(frames.rgb),
        "log_depth": torch.from_numpy(np.log(depth).astype(np.float32)),
        "hold": torch.from_numpy(frames.hold),
        "highlight": torch.from_numpy(frames.highlight),
        "has_highlight": torch.from_numpy(frames.has_highlight),
        "normal": torch.from_numpy(frames.normal).permute(0, 3, 1, 2),  # float16: memory
    }


def predict(encoder: NavCNN, heads: Heads, rgb: torch.Tensor) -> torch.Tensor:
    """Label maps (N, 6, H, W) for uint8 frames (N, H, W, 3), differentiable."""
    x = rgb.permute(0, 3, 1, 2).float() / 255.0
    rows, cols = encoder.grid(x.shape[2], x.shape[3])
    return heads(encoder.embed(x), rows, cols)


def loss_terms(pred: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Named losses: depth (L1 of log depth), hold and highlight (BCE), normal (1 - cos)."""
    hl_weight = torch.where(batch["highlight"], HIGHLIGHT_POS_WEIGHT, 1.0)
    normal = batch["normal"].float()
    valid = normal.abs().sum(1) > 0  # (N, H, W)
    cos = F.cosine_similarity(pred[:, 3:6], normal, dim=1)
    return {
        "depth": (pred[:, 0] - batch["log_depth"]).abs().mean(),
        "hold": F.binary_cross_entropy_with_logits(
            pred[:, 1], batch["hold"].float(), pos_weight=torch.tensor(HOLD_POS_WEIGHT)
        ),
        "highlight": F.binary_cross_entropy_with_logits(
            pred[:, 2], batch["highlight"].float(), weight=hl_weight
        ),
        "normal": (1.0 - cos)[valid].mean() if valid.any() else pred.sum() * 0.0,
    }


def _iou(pred: torch.Tensor, true: torch.Tensor) -> float:
    union = (pred | true).sum().item()
    return (pred & true).sum().item() / union if union else 1.0


def evaluate(encoder: NavCNN, heads: Heads, data: dict, weights: dict, batch: int = 256) -> dict:
    """Mean loss terms and their weighted total, hold / highlight IoU (threshold 0.5) and the
    mean normal angle error (degrees) over the frames in `data`."""
    n = len(data["rgb"])
    sums: dict[str, float] = {}
    hold, highlight, normal = [], [], []
    with torch.no_grad():
        for s in range(0, n, batch):
            b = {k: v[s : s + batch] for k, v in data.items()}
            pred = predict(encoder, heads, b["rgb"])
            for k, v in loss_terms(pred, b).items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(b["rgb"])
            hold.append(pred[:, 1] > 0)
            highlight.append(pred[:, 2] > 0)
            normal.append(pred[:, 3:6])
    out = {k: v / n for k, v in sums.items()}
    out["total"] = sum(weights[k] * out[k] for k in weights)
    out.update(_mask_metrics(torch.cat(hold), torch.cat(highlight), data))
    out["normal_deg"] = _angle_deg(torch.cat(normal), data["normal"])
    return out


def _mask_metrics(hold: torch.Tensor, highlight: torch.Tensor, data: dict) -> dict[str, float]:
    has = data["has_highlight"]
    return {
        "hold_iou": _iou(hold, data["hold"]),
        "highlight_iou": _iou(highlight[has], data["highlight"][has])
        if has.any()
        else float("nan"),
    }


def _angle_deg(pred: torch.Tensor, normal: torch.Tensor) -> float:
    normal = normal.float()
    valid = normal.abs().sum(1) > 0
    cos = F.cosine_similarity(pred, normal, dim=1).clamp(-1.0, 1.0)
    return float(torch.rad2deg(torch.acos(cos[valid])).mean()) if valid.any() else float("nan")


def _best_constant(rate: torch.Tensor, pos_weight: float) -> torch.Tensor:
    """The probability minimising BCE with positives weighted `pos_weight` at a positive rate."""
    r = rate.clamp(1e-6, 1 - 1e-6)
    return pos_weight * r / (pos_weight * r + 1.0 - r)


def baselines(train: dict, val: dict) -> dict[str, float]:
    """Val scores of trivial predictors fitted on the training frames: the best constant per label
    (mean log depth, hold / highlight probability, mean normal) and the per-pixel mean depth."""
    p_hold = _best_constant(train["hold"].float().mean(), HOLD_POS_WEIGHT)
    p_hl = _best_constant(train["highlight"].float().mean(), HIGHLIGHT_POS_WEIGHT)
    normal = val["normal"].float()
    n_mean = train["normal"].float().mean((0, 2, 3))
    const_n = (n_mean / n_mean.norm()).view(1, 3, 1, 1).expand_as(normal)
    valid = normal.abs().sum(1) > 0
    hold, hl = val["hold"].float(), val["highlight"].float()
    return {
        "depth": float((val["log_depth"] - train["log_depth"].mean()).abs().mean()),
        "depth_pixel_mean": float((val["log_depth"] - train["log_depth"].mean(0)).abs().mean()),
        "hold": float(
            F.binary_cross_entropy(
                p_hold.expand_as(hold), hold, weight=1.0 + (HOLD_POS_WEIGHT - 1.0) * hold
            )
        ),
        "highlight": float(
            F.binary_cross_entropy(
                p_hl.expand_as(hl), hl, weight=1.0 + (HIGHLIGHT_POS_WEIGHT - 1.0) * hl
            )
        ),
        "normal": float((1.0 - F.cosine_similarity(const_n, normal, dim=1))[valid].mean()),
        "normal_deg": _angle_deg(const_n, normal),
        **_mask_metrics(torch.ones_like(val["hold"]), torch.ones_like(val["highlight"]), val),
    }
