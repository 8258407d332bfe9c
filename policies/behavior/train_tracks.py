"""Train the path stage on pedestrian tracks (`navenv train behavior --stage path --tracks DIR`).

Windows come from `navenv.tracks` (8 -> 12 at 2.5 Hz, the other pedestrians as neighbours),
canonicalised into each walker's agent frame (`path.agent_frames`). The last VAL_FRACTION of
every training file's frames is held out as validation: the model kept (EMA weights) is the one
with the lowest val minADE@20, never a test-scene figure. AdamW with warm-up and cosine decay,
EMA of the weights, a resumable training state every `checkpoint_every` steps.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from policies.behavior.config import PathConfig
from policies.behavior.path import PathDiffusion, agent_frames, to_agent

VAL_FRACTION = 0.1
MODEL_DIR = "model"
STATE_DIR = "state"


@dataclass
class PathTrainConfig:
    """Optimisation settings (the model's are in PathConfig)."""

    steps: int = 4000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 200
    ema_decay: float = 0.999
    eval_every: int = 1000
    checkpoint_every: int = 500
    val_windows: int = 512
    seed: int = 0


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
    from diffusers.training_utils import EMAModel

    from policies.diffusion.state import (
        TrainState,
        load_state,
        numpy_rng_state,
        restore_numpy_rng,
        save_state,
    )
    from policies.pretrained import save_pretrained

    cfg = cfg or PathTrainConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tr_files, val_files = split_val(train_files)
    data = window_arrays(tr_files, model_cfg)
    val = window_arrays(val_files, model_cfg)
    vsel = np.random.default_rng(0).permutation(len(val["past"]))[: cfg.val_windows]
    model = PathDiffusion(model_cfg)
    model.norm.fit(torch.as_tensor(data["fut"].reshape(len(data["fut"]), -1)))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return (step + 1) / cfg.warmup
        p = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
        return 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    ema = EMAModel(model.parameters(), decay=cfg.ema_decay, use_ema_warmup=True, power=2 / 3)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    step, best, history = 0, {"step": -1, "val_ade": float("inf")}, []
    if resume and (out / STATE_DIR).exists():
        st = load_state(out / STATE_DIR)
        model.load_state_dict(st.model)
        opt.load_state_dict(st.optimizer)
        sched.load_state_dict(st.lr_scheduler)
        ema.load_state_dict(st.ema)
        gen.set_state(st.torch_rng)
        rng = restore_numpy_rng(st.data_rng)
        step, best, history = st.step, st.extra["best"], st.extra["history"]
    n = len(data["past"])
    bar = tqdm(total=cfg.steps, initial=step, desc="train path", disable=not progress)
    t0 = time.perf_counter()
    while step < cfg.steps:
        idx = rng.integers(n, size=cfg.batch_size)
        past, fut, nbr = (torch.as_tensor(data[k][idx]) for k in ("past", "fut", "nbr"))
        if model_cfg.mirror_aug:  # left-right mirror of half the batch
            flip = torch.as_tensor(rng.random(cfg.batch_size) < 0.5)
            sign = torch.where(flip, -1.0, 1.0)
            past, fut = past.clone(), fut.clone()
            past[..., 1] *= sign[:, None]
            fut[..., 1] *= sign[:, None]
            nbr = nbr.clone()
            nbr[..., 1] *= sign[:, None, None]
        model.train()
        loss = model.loss(past, fut, nbr, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        ema.step(model.parameters())
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if step % cfg.eval_every == 0 or step == cfg.steps:
            row = {"step": step, "loss": loss.item(), **_validate(model, ema, val, vsel)}
            history.append(row)
            with open(out / "history.jsonl", "a") as fh:
                fh.write(json.dumps(row) + "\n")
            if row["val_ade"] < best["val_ade"]:
                best = {"step": step, "val_ade": row["val_ade"], "val_fde": row["val_fde"]}
                _export(
                    model,
                    ema,
                    out / MODEL_DIR,
                    save_pretrained,
                    _card(model_cfg, cfg, row, n, card_extra),
                )
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_state(
                out / STATE_DIR,
                TrainState(
                    step=step,
                    model=model.state_dict(),
                    ema=ema.state_dict(),
                    optimizer=opt.state_dict(),
                    lr_scheduler=sched.state_dict(),
                    torch_rng=gen.get_state(),
                    data_rng=numpy_rng_state(rng),
                    extra={"best": best, "history": history},
                ),
            )
    bar.close()
    summary = {
        "train_windows": n,
        "val_windows": len(vsel),
        "best": best,
        "seconds": time.perf_counter() - t0,
        "config": asdict(model_cfg),
        "train": asdict(cfg),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def _validate(model: PathDiffusion, ema, val: dict, sel: np.ndarray) -> dict:
    """minADE / minFDE @20 (m) of the EMA weights on the val windows."""
    backup = [p.detach().clone() for p in model.parameters()]
    ema.copy_to(model.parameters())
    pred = model.forecast(val["world_obs"][sel], val["world_nbr"][sel], k=20, seed=1)
    for p, b in zip(model.parameters(), backup, strict=True):
        p.data.copy_(b)
    ade, fde = ade_fde(pred, val["world_fut"][sel])
    return {"val_ade": ade, "val_fde": fde}


def _export(model, ema, directory: Path, save_pretrained, card: str) -> None:
    backup = [p.detach().clone() for p in model.parameters()]
    ema.copy_to(model.parameters())
    save_pretrained(model, directory, card=card, overwrite=True)
    for p, b in zip(model.parameters(), backup, strict=True):
        p.data.copy_(b)


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
