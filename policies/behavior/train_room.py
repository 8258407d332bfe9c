"""Train a room behaviour stage: `navenv train behavior --stage goal|path|body|onestage --data DIR
--val DIR --out OUT`.

Windows come from a `navenv data generate --env room` dataset (`room_data.load_room_tensors`);
validation windows from a dataset of other rooms (`rooms_val`). The loop is the shared one
(`policies.diffusion.trainer.fit`: AdamW, warm-up + cosine, EMA, resumable state, DDP); the
model kept is the EMA weights with the lowest validation loss (fixed noise and diffusion steps,
so the figure is comparable across steps and across ablations), never a test-split figure.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from policies.behavior.room_data import RoomTensors, load_room_tensors
from policies.behavior.stages import StageConfig, StageDiffusion
from policies.diffusion.trainer import LoopConfig, Run, fit, refuse_existing

VAL_LOSS_DRAWS = 4  # noise draws per val window in the val loss (fixed seeds)


@dataclass(frozen=True)
class RoomTrainConfig(LoopConfig):
    """The shared loop's settings (LoopConfig) and the data's (the model's are StageConfig)."""

    weight_decay: float = 1e-4
    warmup: int = 100
    eval_every: int = 250
    checkpoint_every: int = 250
    val_windows: int = 256
    stride: int = 10
    """Frames between consecutive training windows of an episode."""
    max_episodes: int | None = None


@torch.no_grad()
def val_loss(model: StageDiffusion, val: RoomTensors, index: np.ndarray) -> float:
    """Mean denoising loss over `index` with fixed noise, steps and condition dropout."""
    batch = val.batch(index)
    losses = [
        float(model(batch, torch.Generator().manual_seed(1000 + i))) for i in range(VAL_LOSS_DRAWS)
    ]
    return float(np.mean(losses))


def train_stage(
    model_cfg: StageConfig,
    data: str | Path,
    val: str | Path,
    out: str | Path,
    cfg: RoomTrainConfig | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
    stop_after: int | None = None,
) -> dict:
    """Train one stage, select on val, export the EMA weights to OUT/model; returns the summary."""
    cfg = cfg or RoomTrainConfig()
    out = Path(out)
    refuse_existing(out, resume)
    train_w = load_room_tensors(data, cfg.stride, cfg.max_episodes)
    val_w = load_room_tensors(val, cfg.stride)
    vsel = val_w.spread(cfg.val_windows)
    torch.manual_seed(cfg.seed)
    model = StageDiffusion(model_cfg)
    model.fit_normaliser(train_w.batch(np.arange(len(train_w))))
    n = len(train_w)

    def draw(rng: np.random.Generator, mine: np.ndarray, size: int) -> dict:
        return train_w.batch(rng.choice(mine, size=size))

    def card(row: dict) -> str:
        off = [k for k, v in model_cfg.slots.items() if not v]
        return (
            f"# behavior_stage: {model_cfg.stage}\n\n"
            f"ATS-style {model_cfg.stage} diffusion (size {model_cfg.size}, DDPM "
            f"{model_cfg.train_steps} steps, x0 prediction, control branch "
            f"{'on' if model_cfg.controlled else 'off'}; conditions off: {off or 'none'}). "
            f"Trained on {n} windows of `{data}` (8 past + 56 future frames at 10 fps); EMA "
            f"weights of step {row.get('step')} of {cfg.steps}, selected on val (`{val}`): "
            f"{json.dumps(row)}.\n\nCommand: `{command}`\n"
        )

    run = Run(
        module=model,
        draw=draw,
        examples=n,
        validate=lambda: {"val_loss": val_loss(model, val_w, vsel)},
        metric="val_loss",
        card=card,
        name=f"train {model_cfg.stage}",
    )
    res = fit(run, cfg, out, resume=resume, progress=progress, stop_after=stop_after)
    summary = {
        "train_windows": n,
        "val_windows": len(vsel),
        "best": res.best,
        "steps": res.steps,
        "seconds": res.seconds,
        "config": asdict(model_cfg),
        "train": asdict(cfg),
        "command": command,
    }
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, rank 0 writes
        tmp = out / "summary.json.tmp"
        tmp.write_text(json.dumps(summary, indent=1) + "\n")
        tmp.replace(out / "summary.json")
    return summary
