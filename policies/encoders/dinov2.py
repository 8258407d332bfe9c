"""DINOv2 from a local directory (Hugging Face transformers' `Dinov2Model`), frozen.

SABR-CLIMB conditions on DINOv2 ViT-L/14 patch tokens. No weights ship with navenv and nothing is
downloaded: `Dinov2Encoder(path)` loads ``Dinov2Model.from_pretrained(path, local_files_only=True,
use_safetensors=True)`` from a directory holding ``config.json`` (model_type "dinov2") and
``model.safetensors`` (or a sharded ``model.safetensors.index.json`` and its shards), e.g. one
saved with ``Dinov2Model.from_pretrained("facebook/dinov2-large").save_pretrained(DIR)`` on a
machine with internet access. Pickled ``pytorch_model.bin`` weights are refused (they can run
code when loaded).

Frames are resized so that both sides are multiples of the patch size p: by default each side is
rounded to the nearest multiple (halves up, at least one patch), e.g. 64 x 64 -> 70 x 70 at p = 14 (5 x 5 = 25
tokens), while a 280 x 490 frame (SABR-CLIMB's) passes unchanged (20 x 35 = 700 tokens); `size=(H,
W)` fixes the resized size instead. Resizing is bilinear with antialiasing (torch
``interpolate(..., antialias=True)``) and skipped when the frame already has the target size. Pixels
are then normalised with the ImageNet mean and std DINOv2 was trained with, and the tokens returned
are ``last_hidden_state`` (after DINOv2's final LayerNorm) without the CLS token: (B, T, P, D).
The model's position embeddings are interpolated to the grid by transformers itself.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from policies.encoders.base import EncoderError, ImageEncoder

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_EXPECTED = (
    "a local directory with config.json (model_type 'dinov2') and model.safetensors (or "
    "model.safetensors.index.json and its shards), as written by "
    "transformers' Dinov2Model.save_pretrained; nothing is downloaded"
)


def check_dinov2_dir(path: str | os.PathLike | None) -> Path:
    """The directory `path`, checked to hold DINOv2 safetensors weights (EncoderError if not)."""
    if path is None or str(path) == "":
        raise EncoderError(f"encoder 'dinov2' needs path=: {_EXPECTED}")
    root = Path(path)
    if not root.is_dir():
        raise EncoderError(f"dinov2 path {root}: no such directory; expected {_EXPECTED}")
    config = root / "config.json"
    if not config.is_file():
        raise EncoderError(f"dinov2 path {root}: config.json is missing; expected {_EXPECTED}")
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as e:
        raise EncoderError(
            f"{config}: not a readable JSON object ({e}); expected {_EXPECTED}"
        ) from e
    if model_type != "dinov2":
        raise EncoderError(
            f"{config}: model_type {model_type!r}, expected 'dinov2' (this directory holds "
            f"another model); expected {_EXPECTED}"
        )
    weights = [root / "model.safetensors", root / "model.safetensors.index.json"]
    if not any(w.is_file() for w in weights):
        pickles = sorted(p.name for p in root.glob("*.bin"))
        hint = (
            f"; {pickles[0]} is a pickle-based format, which navenv does not load "
            "(convert it with Dinov2Model.from_pretrained(DIR).save_pretrained(DIR), which "
            "writes safetensors)"
            if pickles
            else ""
        )
        raise EncoderError(
            f"dinov2 path {root}: model.safetensors is missing{hint}; expected {_EXPECTED}"
        )
    return root


class Dinov2Encoder(ImageEncoder):
    """Frozen DINOv2 patch tokens: (B, T, H, W, 3) uint8 -> (B, T, P, D), CLS token dropped."""

    name = "dinov2"

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        size: tuple[int, int] | None = None,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        """path: local DINOv2 directory; size: (H, W) to resize to (multiples of the patch
        size), None: each side rounded to the nearest multiple; dtype: weights' dtype."""
        super().__init__()
        root = check_dinov2_dir(path)
        from transformers import Dinov2Model

        try:
            model = Dinov2Model.from_pretrained(root, local_files_only=True, use_safetensors=True)
        except (OSError, ValueError, KeyError) as e:
            raise EncoderError(
                f"dinov2 path {root}: could not load ({e}); expected {_EXPECTED}"
            ) from e
        self.model = model.to(device=device, dtype=dtype)
        self.source = str(root)
        self.patch = int(model.config.patch_size)
        self.dim = int(model.config.hidden_size)
        if size is not None:
            size = (int(size[0]), int(size[1]))
            if min(size) < self.patch or size[0] % self.patch or size[1] % self.patch:
                raise EncoderError(
                    f"dinov2: size={size}: both sides must be positive multiples of the patch "
                    f"size {self.patch}"
                )
        self.size = size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.to(device)
        self.freeze()

    def resized(self, height: int, width: int) -> tuple[int, int]:
        """(H, W) frames of `height` x `width` are resized to before patching."""
        if height < 1 or width < 1:
            raise EncoderError(f"dinov2: frames of {height} x {width} pixels")
        if self.size is not None:
            return self.size
        p = self.patch  # halves round up (Python's round() would send 68 / 8 = 8.5 to 8)
        return max(p, math.floor(height / p + 0.5) * p), max(p, math.floor(width / p + 0.5) * p)

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """Token grid (rows, columns) after resizing."""
        h, w = self.resized(height, width)
        return h // self.patch, w // self.patch

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """Differentiable: pixels (N, 3, H, W) in [0, 1] -> patch tokens (N, P, D)."""
        h, w = self.resized(pixels.shape[2], pixels.shape[3])
        if (h, w) != tuple(pixels.shape[2:]):
            pixels = F.interpolate(
                pixels, size=(h, w), mode="bilinear", align_corners=False, antialias=True
            )
        x = ((pixels - self.mean) / self.std).to(self.model.dtype)
        out = self.model(pixel_values=x).last_hidden_state  # (N, 1 + P, D): CLS first
        return out[:, 1:]

    def config_dict(self) -> dict[str, Any]:
        """Name, size rule and the model's architecture (for token caches)."""
        c = self.model.config
        return {
            "name": self.name,
            "patch": self.patch,
            "dim": self.dim,
            "layers": int(c.num_hidden_layers),
            "heads": int(c.num_attention_heads),
            "size": None if self.size is None else list(self.size),
            "dtype": str(self.model.dtype).removeprefix("torch."),
        }
