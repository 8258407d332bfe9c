"""Nearest-neighbour retrieval as a chunk sampler, so the retrieval baseline runs in the loop
through exactly the machinery the diffusion policy uses (ClimbDiffusionPolicy: condition,
receding horizon, hand-over, grounding, Tracker).

`RetrievalSampler` answers `sample(batch, ...)` like ClimbDiffusionModel: the training window
whose route-prompt geometry is nearest the query's (`baselines.NearestNeighbour`), moved to the
query's anchor, with the known prefix copied in. It needs the training windows at run time:
a dataset directory (`data=DIR`, else $NAVENV_RETRIEVAL_DATA, else data/climb_train) with the
token cache of `navenv data encode`; nothing is shipped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from policies.climb_diffusion.baselines import NearestNeighbour, known_prefix

DATA_ENV = "NAVENV_RETRIEVAL_DATA"
"""Environment variable naming the training dataset retrieval draws from."""
DEFAULT_DATA = "data/climb_train"


class RetrievalSampler:
    """Retrieval with ClimbDiffusionModel's sampling interface (module doc)."""

    method = "climb_diffusion"
    """Stands in for the model in ClimbDiffusionPolicy (same batch interface)."""

    def __init__(self, model: Any, data: str | os.PathLike | None = None) -> None:
        if isinstance(model, str) or hasattr(model, "__fspath__"):
            from policies import load_pretrained

            model = load_pretrained(model)
        self.config = model.config  # frames, fps, prompt settings: the model's, so both match
        self._model = model
        path = Path(data or os.environ.get(DATA_ENV) or DEFAULT_DATA)
        if not (path / "manifest.json").exists():
            raise FileNotFoundError(
                f"retrieval needs the training dataset: {path} has no manifest.json; pass "
                f"data=DIR or set ${DATA_ENV} (made by `navenv data generate`)"
            )
        self.retriever = _retriever(str(path.resolve()), model)

    @property
    def encoder(self):
        """The model's frozen encoder (the condition is built the same way)."""
        return self._model.encoder

    def eval(self) -> RetrievalSampler:  # safe: nn.Module-style train/eval switch, not eval()
        """Nothing to switch: retrieval has no training mode."""
        return self

    def sample(self, batch: dict[str, torch.Tensor], *, num_samples: int = 1, **_: Any):
        """(B, K, T, F) world features: the K nearest training windows, known frames copied in.
        Sampler settings and seeds are accepted and ignored (retrieval is deterministic)."""
        out = self.retriever.sample(batch, num_samples)
        return known_prefix(out, batch)


_CACHE: dict[tuple, NearestNeighbour] = {}


def _retriever(path: str, model: Any) -> NearestNeighbour:
    """The training windows of `path` cut as the model's config cuts them, loaded once per
    process (a bench worker runs many episodes)."""
    from dataclasses import astuple

    from policies.climb_diffusion.data import load_windows

    key = (path, astuple(model.config))
    if key not in _CACHE:
        _CACHE.clear()  # one dataset at a time: the windows take a few hundred MB
        _CACHE[key] = NearestNeighbour(load_windows(path, model.config, progress=False))
    return _CACHE[key]


__all__ = ["DATA_ENV", "RetrievalSampler"]
