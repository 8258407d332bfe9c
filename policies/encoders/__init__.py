"""Frozen image encoders for video-to-motion models, and a token cache for datasets.

- `ImageEncoder` (base.py): uint8 frames (B, T, H, W, 3) -> patch tokens (B, T, P, D), frozen;
  `make_encoder(name, **kw)` builds "navenv-cnn" (cnn.py: a small CNN pretrained on navenv's own
  ray-cast frames, weights shipped in policies/checkpoints/navenv_cnn/) or "dinov2" (dinov2.py:
  Hugging Face transformers' Dinov2Model from a local directory, nothing downloaded).
- `encode_dataset` / `TokenCache` (cache.py): encode a sharded dataset once into memory-mappable
  float16 tokens of its distinct frames (`navenv data encode DIR`), and read them per episode.
- pretrain.py, heads.py, frames.py: how the navenv-cnn weights were made (training and card,
  the objective, the labelled frames).
"""

from __future__ import annotations

from typing import Any

from policies.encoders.base import (
    DEFAULT_ENCODER,
    ENCODERS,
    EncoderError,
    ImageEncoder,
    make_encoder,
)

__all__ = [
    "DEFAULT_ENCODER",
    "ENCODERS",
    "CacheError",
    "EncoderError",
    "ImageEncoder",
    "TokenCache",
    "encode_dataset",
    "make_encoder",
]

_CACHE = ("CacheError", "TokenCache", "encode_dataset")


def __getattr__(name: str) -> Any:
    # the cache reads datasets (policies.data, mujoco): imported only when asked for
    if name in _CACHE:
        from policies.encoders import cache

        return getattr(cache, name)
    raise AttributeError(f"module 'policies.encoders' has no attribute {name!r}")
