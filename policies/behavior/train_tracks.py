"""Train the path stage on pedestrian tracks (`navenv train behavior --stage path --tracks DIR`).

Windows come from `navenv.tracks` (8 -> 12 at 2.5 Hz, the other pedestrians as neighbours),
canonicalised into each walker's agent frame (`path.agent_frames`). The last VAL_FRACTION of
every training file's frames is held out as validation: the model kept (EMA weights) is the one
with the lowest val minADE@20, never a test-scene figure. AdamW with warm-up and cosine decay,
EMA of the weights, a resumable training state every `checkpoint_every` steps: the shared loop,
`policies.diffusion.trainer.fit`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from policies.behavior.config import PathConfig
from policies.behavior.path import PathDiffusion, agent_frames, to_agent
from policies.diffusion.trainer import LoopConfig, Run, fit, refuse_existing

VAL_FRACTION = 0.1


@dataclass(frozen=True)
class PathTrainConfig(LoopConfig):
    """The shared loop's settings (LoopConfig) for tracks (the model's are in PathConfig)."""

    steps: int = 4000
    batch_size: int = 256
    weight_decay: float = 1e-4
    warmup: int = 200
    eval_every: int = 1000
    val_windows: int = 512


def window_arrays(files, cfg: PathConfig) -> dict[str, np.ndarray]:
    """Agent-frame past (N, P, 2), future (N, H, 2) and neighbours (N, M, P, 2) of track files."""
    from navenv.tracks import windows

    obs, fut, nbr = [], [], []
    for f in files:
        w = windows(f, obs_len=cfg.past, pred_len=cfg.horizon, max_neighbours=cfg.max_neighbours)
        m = w.neighbours
        if m.shape[1] < cfg.max_neighbours:  # pad to the model's neighbour count
            pad = np.full((len(m), cfg.max_neighbours - m.shape[1], *m.shape[2:]), np.nan)
            m = np.concatenate([m, pad], axis=1)
        obs.append(w.obs)
        fut.append(w.fut)
        nbr.append(m)
    obs, fut, nbr = np.concatenate(obs), np.concatenate(fut), np.concatenate(nbr)
    origin, rot = agent_frames(obs)
    return {
        "world_obs": obs,
        "world_fut": fut,
        "world_nbr": nbr,
        "past": to_agent(obs, origin, rot).astype(np.float32),
        "fut": to_agent(fut, origin, rot).astype(np.float32),
        "nbr": to_agent(nbr, origin, rot).astype(np.float32),
    }


def split_val(files) -> tuple[list, list]:
    """Each file's tracks cut at the frame VAL_FRACTION from its end: (train, val) files."""
    from dataclasses import replace

    train, val = [], []
    for f in files:
        frames = np.concatenate([t.frames for t in f.tracks])
        cut = np.quantile(frames, 1.0 - VAL_FRACTION)
        keep = [
            replace(t, frames=t.frames[t.frames < cut], xy=t.xy[t.frames < cut]) for t in f.tracks
        ]
        held = [
            replace(t, frames=t.frames[t.frames >= cut], xy=t.xy[t.frames >= cut]) for t in f.tracks
        ]
        train.append(replace(f, tracks=[t for t in keep if len(t.frames)]))
        val.append(replace(f, tracks=[t for t in held if len(t.frames)]))
    return train, val


def ade_fde(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    """Best-of-K ADE and FDE (m) of pred (N, K, H, 2) against gt (N, H, 2)."""
    err = np.linalg.norm(pred - gt[:, None], axis=-1)  # (N, K, H)
    return float(err.mean(-1).min(-1).mean()), float(err[..., -1].min(-1).mean())


def train_path(
    model_cfg: PathConfig,
    train_files,
    out: str | Path,
    cfg: PathTrainConfig | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    card_extra: str = "",
) -> dict:
    """Train, select on val, export the best EMA weights to OUT/model; returns the summary."""
    cfg = cfg or PathTrainConfig()
    out = Path(out)
    refuse_existing(out, resume)
    tr_files, val_files = split_val(train_files)
    data = window_arrays(tr_files, model_cfg)
    val = window_arrays(val_files, model_cfg)
    vsel = np.random.default_rng(0).permutation(len(val["past"]))[: cfg.val_windows]
    torch.manual_seed(cfg.seed)
    model = PathDiffusion(model_cfg)
    model.norm.fit(torch.as_tensor(data["fut"].reshape(len(data["fut"]), -1)))
    n = len(data["past"])

    def draw(rng: np.random.Generator, mine: np.ndarray, size: int) -> dict:
        idx = rng.choice(mine, size=size)
        past, fut, nbr = (torch.as_tensor(data[k][idx]) for k in ("past", "fut", "nbr"))
        if model_cfg.mirror_aug:  # left-right mirror of half the batch
            sign = torch.where(torch.as_tensor(rng.random(size) < 0.5), -1.0, 1.0)
            past, fut, nbr = past.clone(), fut.clone(), nbr.clone()
            past[..., 1] *= sign[:, None]
            fut[..., 1] *= sign[:, None]
            nbr[..., 1] *= sign[:, None, None]
        return {"past": past, "fut": fut, "nbr": nbr}

    run = Run(
        module=model,
        draw=draw,
        examples=n,
        validate=lambda: _validate(model, val, vsel),
        metric="val_ade",
        card=lambda row: _card(model_cfg, cfg, row, n, card_extra),
        name="train path",
    )
    res = fit(run, cfg, out, resume=resume, progress=progress)
    summary = {
        "train_windows": n,
        "val_windows": len(vsel),
        "best": res.best,
        "seconds": res.seconds,
        "config": asdict(model_cfg),
        "train": asdict(cfg),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def _validate(model: PathDiffusion, val: dict, sel: np.ndarray) -> dict:
    """minADE / minFDE @20 (m) on the val windows (the trainer has swapped the EMA weights in)."""
    pred = model.forecast(val["world_obs"][sel], val["world_nbr"][sel], k=20, seed=1)
    ade, fde = ade_fde(pred, val["world_fut"][sel])
    return {"val_ade": ade, "val_fde": fde}


def _card(model_cfg: PathConfig, cfg: PathTrainConfig, row: dict, n: int, extra: str) -> str:
    return (
        "# behavior_path: the path stage as a pedestrian forecaster\n\n"
        f"Diffusion over 12 future positions (2.5 Hz) from 8 observed ones and up to "
        f"{model_cfg.max_neighbours} neighbours; size {model_cfg.size}, DDPM {model_cfg.train_steps} "
        f"steps. Trained {row['step']} of {cfg.steps} steps, batch {cfg.batch_size}, lr {cfg.lr}, "
        f"on {n} windows. Selected on val (last {int(VAL_FRACTION * 100)}% of every training "
        f"file's frames): minADE@20 {row['val_ade']:.3f} m, minFDE@20 {row['val_fde']:.3f} m.\n\n"
        + extra
    )
