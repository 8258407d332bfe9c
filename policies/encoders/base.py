"""The frozen image encoder interface and the `make_encoder` factory.

An `ImageEncoder` turns video frames into patch tokens for a video-to-motion model (SABR-CLIMB:
each frame's motion token cross-attends to that frame's patch tokens)::

    frames  uint8 (B, T, H, W, 3)  ->  tokens float32 (B, T, P, D)

P = `num_tokens(H, W)` tokens per frame in row-major order of the token grid (top row first),
D = `dim`. Encoders are frozen: parameters never require gradients, the module stays in eval mode
even when a parent module calls ``.train()``, and `forward` runs under ``torch.no_grad``. (Not
``torch.inference_mode``: its tensors cannot be saved for backward, so a trainer could not feed
them to the model it trains.) Subclasses implement `embed`, the differentiable map from float
pixels to tokens that the frozen `forward` wraps and that pretraining (policies.encoders.pretrain)
calls with gradients.
"""

from __future__ import annotations

import hashlib
import importlib
from typing import Any

import numpy as np
import torch
from torch import nn

ENCODERS: dict[str, str] = {
    "navenv-cnn": "policies.encoders.cnn:load_cnn",
    "dinov2": "policies.encoders.dinov2:Dinov2Encoder",
}
"""Encoder name -> "module:callable" building it (imported on first use)."""
DEFAULT_ENCODER = "navenv-cnn"


class EncoderError(ValueError):
    """Bad encoder input, name or weights: the message says what was wrong and what is accepted."""


class ImageEncoder(nn.Module):
    """Frozen frame encoder: uint8 frames (B, T, H, W, 3) -> float patch tokens (B, T, P, D)."""

    name: str = ""
    """Registry name ("navenv-cnn", "dinov2"); token caches are stored under it."""
    dim: int = 0
    """Token width D."""

    def num_tokens(self, height: int, width: int) -> int:
        """Tokens P per frame of `height` x `width` pixels."""
        h, w = self.grid(height, width)
        return h * w

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """(rows, columns) of the token grid for a frame of `height` x `width` pixels."""
        raise NotImplementedError

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """Differentiable: float pixels (N, 3, H, W) in [0, 1] -> tokens (N, P, D)."""
        raise NotImplementedError

    def config_dict(self) -> dict[str, Any]:
        """JSON-compatible description of the encoder (saved with token caches)."""
        return {"name": self.name, "dim": self.dim}

    # ------------------------------------------------------------------ frozen forward
    def forward(self, frames: torch.Tensor | np.ndarray) -> torch.Tensor:
        """uint8 frames (B, T, H, W, 3) -> float32 tokens (B, T, P, D), without gradients."""
        frames = check_frames(frames)
        b, t, h, w, _ = frames.shape
        self.grid(h, w)  # raises EncoderError for a size the encoder cannot take
        device = self.device
        with torch.no_grad():
            x = frames.reshape(b * t, h, w, 3).to(device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0)  # (N, 3, H, W) in [0, 1]
            tokens = self.embed(x)  # (N, P, D)
        return tokens.float().reshape(b, t, tokens.shape[1], tokens.shape[2])

    def freeze(self) -> ImageEncoder:
        """Stop gradients to every parameter and switch to eval mode; returns self."""
        self.requires_grad_(False)
        return super().train(False)

    def train(self, mode: bool = True) -> ImageEncoder:
        """Stays in eval mode: a frozen encoder gives the same tokens in a trainer as at test time."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        """Device of the encoder's weights (CPU for a parameterless encoder)."""
        p = next(iter(self.parameters()), None)
        return p.device if p is not None else torch.device("cpu")

    def weights_sha256(self) -> str:
        """SHA-256 of the state dict (names, dtypes, shapes, bytes): identifies the weights."""
        h = hashlib.sha256()
        for k, v in sorted(self.state_dict().items()):
            t = v.detach().cpu().contiguous()
            h.update(f"{k}|{t.dtype}|{tuple(t.shape)}|".encode())
            # via uint8: numpy has no bfloat16, and the raw bytes are what identifies weights
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        return h.hexdigest()


def check_frames(frames: torch.Tensor | np.ndarray) -> torch.Tensor:
    """`frames` as a uint8 torch tensor (B, T, H, W, 3), or EncoderError saying what is wrong."""
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if not isinstance(frames, torch.Tensor):
        raise EncoderError(
            f"frames: expected a uint8 torch tensor (B, T, H, W, 3), got {type(frames).__name__}"
        )
    if frames.dtype != torch.uint8:
        raise EncoderError(
            f"frames: expected dtype uint8 (RGB 0..255, as the dataset stores video), "
            f"got {frames.dtype}"
        )
    if frames.ndim != 5 or frames.shape[-1] != 3:
        raise EncoderError(
            f"frames: expected shape (B, T, H, W, 3), got {tuple(frames.shape)}; "
            "add the batch or time axis with frames[None]"
        )
    return frames


def make_encoder(name: str = DEFAULT_ENCODER, **kw: Any) -> ImageEncoder:
    """A frozen encoder by name: "navenv-cnn" (shipped weights; `path=` another checkpoint
    directory) or "dinov2" (`path=` a local Hugging Face DINOv2 directory)."""
    if name not in ENCODERS:
        raise EncoderError(f"encoder {name!r}: unknown; known encoders: {', '.join(ENCODERS)}")
    module, attr = ENCODERS[name].split(":")
    build = getattr(importlib.import_module(module), attr)
    encoder = build(**kw)
    return encoder.freeze()
