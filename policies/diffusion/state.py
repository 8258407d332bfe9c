"""Training state on disk: weights, EMA, optimiser, LR schedule, step and RNG, resumable.

A training checkpoint is a directory written atomically (all files or none, via
`policies.pretrained.write_directory`): ``state.safetensors`` holds every tensor (model
weights, EMA shadow weights, optimiser moments, torch RNG state) and ``state.json`` everything
else (step, optimiser param groups, LR-scheduler state, EMA counters, the data RNG). No pickles:
a training checkpoint is as safe to open as a released one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from policies.pretrained import CheckpointError, write_directory

STATE_TENSORS = "state.safetensors"
STATE_JSON = "state.json"
STATE_FORMAT = 1


@dataclass
class TrainState:
    """What a training loop needs to continue exactly where it stopped."""

    step: int
    model: dict[str, torch.Tensor]
    ema: dict[str, Any] | None
    optimizer: dict[str, Any]
    lr_scheduler: dict[str, Any] | None
    torch_rng: torch.Tensor
    data_rng: dict[str, Any]
    extra: dict[str, Any]


def save_state(directory: str | os.PathLike, state: TrainState) -> Path:
    """Write `state` as the directory `directory` (replacing it atomically); returns the path."""
    from safetensors.torch import save as save_tensors

    tensors: dict[str, torch.Tensor] = {f"model.{k}": v for k, v in state.model.items()}
    tensors["rng.torch"] = state.torch_rng
    optim_json: dict[str, Any] = {"param_groups": state.optimizer["param_groups"], "state": {}}
    for idx, slots in state.optimizer["state"].items():
        optim_json["state"][str(idx)] = sorted(slots)
        for key, value in slots.items():
            tensors[f"optim.{idx}.{key}"] = torch.as_tensor(value)
    ema_json = None
    if state.ema is not None:
        ema_json = {k: v for k, v in state.ema.items() if k != "shadow_params"}
        ema_json["shadow_count"] = len(state.ema["shadow_params"])
        for i, p in enumerate(state.ema["shadow_params"]):
            tensors[f"ema.{i}"] = p
    meta = {
        "format": STATE_FORMAT,
        "step": int(state.step),
        "optimizer": optim_json,
        "ema": ema_json,
        "lr_scheduler": state.lr_scheduler,
        "data_rng": state.data_rng,
        "extra": state.extra,
    }
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    files = {
        STATE_TENSORS: save_tensors(tensors, metadata={"format": "pt"}),
        STATE_JSON: (json.dumps(meta, indent=1) + "\n").encode(),
    }
    return write_directory(Path(directory), files, overwrite=True)


def load_state(directory: str | os.PathLike) -> TrainState:
    """Read a training checkpoint written by `save_state` (CheckpointError if it is not one)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    jpath, tpath = directory / STATE_JSON, directory / STATE_TENSORS
    for p in (jpath, tpath):
        if not p.is_file():
            raise CheckpointError(
                f"{p}: missing; a training checkpoint holds {STATE_JSON} and {STATE_TENSORS}"
            )
    try:
        meta = json.loads(jpath.read_text(encoding="utf-8"))
        tensors = load_file(tpath)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{jpath}: not valid JSON ({e})") from e
    except (SafetensorError, OSError, RuntimeError) as e:
        raise CheckpointError(f"{tpath}: corrupt safetensors file ({e})") from e
    if not isinstance(meta, dict) or meta.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{jpath}: not a format-{STATE_FORMAT} training state")
    try:
        model = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        optim = {"param_groups": meta["optimizer"]["param_groups"], "state": {}}
        for idx, keys in meta["optimizer"]["state"].items():
            slots = {}
            for key in keys:
                value = tensors[f"optim.{idx}.{key}"]
                slots[key] = value
            optim["state"][int(idx)] = slots
        ema = None
        if meta["ema"] is not None:
            ema = {k: v for k, v in meta["ema"].items() if k != "shadow_count"}
            ema["shadow_params"] = [tensors[f"ema.{i}"] for i in range(meta["ema"]["shadow_count"])]
        return TrainState(
            step=int(meta["step"]),
            model=model,
            ema=ema,
            optimizer=optim,
            lr_scheduler=meta["lr_scheduler"],
            torch_rng=tensors["rng.torch"],
            data_rng=meta["data_rng"],
            extra=meta.get("extra", {}),
        )
    except KeyError as e:
        raise CheckpointError(f"{directory}: training state lacks {e}") from e


def numpy_rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """JSON-ready state of a numpy Generator."""
    return rng.bit_generator.state


def restore_numpy_rng(state: dict[str, Any]) -> np.random.Generator:
    """A numpy Generator in `state` (from `numpy_rng_state`)."""
    bitgen = getattr(np.random, state["bit_generator"])()
    bitgen.state = state
    return np.random.Generator(bitgen)
