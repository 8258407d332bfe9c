"""Train ClimbDiffusion: `navenv train climb-diffusion --data DIR --config small --out runs/NAME`.

The loop is the shared one (`policies.diffusion.trainer`): windows and tokens in memory
(`data.load_windows`), AdamW with warm-up + cosine, EMA
of the weights (`diffusers.training_utils.EMAModel`), validation loss and a quick adherence
figure (global MPJPE of one EMA sample per val window) every `eval_every` steps, a resumable
training state (`policies.diffusion.state`) every `checkpoint_every` steps, and the EMA weights
of the best validation step exported with `policies.save_pretrained` (selection on val only).
Data parallel with `torchrun --nproc_per_node=N` (each rank draws from its own shard of the
windows; DDP averages gradients). A CPU run with a seed repeats exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from policies.climb_diffusion.config import ARCHITECTURE_FIELDS, ClimbDiffusionConfig
from policies.climb_diffusion.data import Windows, load_windows, match_windows
from policies.climb_diffusion.diffusion import ClimbDiffusionModel
from policies.climb_diffusion.kinematics import feature_joints, global_mpjpe_mm
from policies.diffusion.distributed import init_distributed, shutdown
from policies.diffusion.trainer import (
    MODEL_DIR,
    STATE_DIR,
    LoopConfig,
    Run,
    fit,
    refuse_existing,
    weights_digest,
)

__all__ = ["MODEL_DIR", "STATE_DIR", "TrainResult", "train", "validate", "weights_digest"]


@dataclass
class TrainResult:
    """What a run did."""

    steps: int
    seconds: float
    clips_per_second: float
    train_windows: int
    val_windows: int
    parameters: int
    best_step: int
    best_val_mpjpe_mm: float
    weights_sha256: str = ""
    """Digest of this rank's final training weights (equal on every rank; repeats per seed)."""
    history: list[dict] = field(default_factory=list)


def loop_config(config: ClimbDiffusionConfig, eval_every: int, checkpoint_every: int) -> LoopConfig:
    """The shared loop's settings from the model config: cosine decay to 10% of the peak."""
    return LoopConfig(
        steps=config.steps,
        batch_size=config.batch_size,
        lr=config.lr,
        weight_decay=config.weight_decay,
        warmup=config.warmup_steps,
        min_lr=0.1,
        ema_decay=config.ema_decay,
        grad_clip=config.grad_clip,
        eval_every=eval_every,
        checkpoint_every=checkpoint_every,
        seed=config.seed,
    )


def known_frames(rng: np.random.Generator, n: int, config: ClimbDiffusionConfig) -> np.ndarray:
    """How many leading frames each of n training windows gives as known (0: none)."""
    k = rng.integers(1, config.max_known + 1, size=n)
    return np.where(rng.random(n) < config.known_prob, k, 0)


@torch.no_grad()
def validate(
    policy: ClimbDiffusionModel, val: Windows, *, max_windows: int = 64, seed: int = 0
) -> dict[str, float]:
    """Val loss (fixed noise) and global MPJPE (mm) of one sample per window, no known frames."""
    # spread over the whole set: consecutive windows come from the same few climbs
    idx = np.unique(np.linspace(0, len(val) - 1, min(len(val), max_windows)).astype(np.int64))
    batch = val.batch(idx)
    loss = float(policy.compute_loss(batch, torch.Generator().manual_seed(seed)))
    feats = policy.sample(batch, num_samples=1, seed=seed)[:, 0].numpy()  # (B, T, F)
    errs = [
        global_mpjpe_mm(
            feature_joints(feats[j], val.betas[i].numpy()),
            feature_joints(val.motion[i].numpy(), val.betas[i].numpy()),
        )
        for j, i in enumerate(idx)
    ]
    return {"val_loss": loss, "val_mpjpe_mm": float(np.mean(errs))}


def draw_windows(
    rng: np.random.Generator, mine: np.ndarray, n: int, weight: np.ndarray
) -> np.ndarray:
    """n indices from this rank's windows `mine`: uniform when every weight is 1 (the draws of
    runs before `match_weight`, exactly), else with replacement in proportion to weight (N,)."""
    w = weight[mine]
    if np.all(w == 1.0):
        return rng.choice(mine, size=n, replace=len(mine) < n)
    return rng.choice(mine, size=n, replace=True, p=w / w.sum())


def train(
    config: ClimbDiffusionConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    val_dir: str | Path | None = None,
    resume: bool = False,
    max_episodes: int | None = None,
    eval_every: int = 500,
    checkpoint_every: int = 500,
    encoder=None,
    device: str | None = None,
    progress: bool = True,
    command: str = "",
    stop_after: int | None = None,
    init: str | Path | None = None,
) -> TrainResult:
    """Train (or resume) a run in `out_dir`; returns the summary (rank 0's view).

    stop_after: leave after this many steps of this call (checkpointed), as a killed run would.
    init: a checkpoint (shipped name or model directory) whose weights and normaliser the run
    starts from, under this config's fresh schedule (a warm restart; the architecture fields
    must match); None fits the normaliser on the training set and starts from scratch.
    """
    dist = init_distributed(device)
    out = Path(out_dir)
    refuse_existing(out, resume)  # before minutes of loading data
    torch.manual_seed(config.seed)
    policy = ClimbDiffusionModel(config)
    train_w = load_windows(
        data_dir,
        config,
        encoder=encoder,
        max_episodes=max_episodes,
        progress=progress and dist.is_main,
    )
    val_w = (
        load_windows(val_dir, config, encoder=encoder, progress=progress and dist.is_main)
        if val_dir is not None
        else None
    )
    if init is not None:
        policy.load_state_dict(_init_state(init, config))
    else:
        policy.fit_normaliser(train_w.motion, train_w.anchor)
    policy.to(dist.device)
    matches = match_windows(train_w.contacts)
    weight = np.where(matches, config.match_weight, 1.0)
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
        print(
            f"climb-diffusion: {policy.num_parameters():,} parameters, {len(train_w)} train "
            f"windows, {0 if val_w is None else len(val_w)} val windows, world size "
            f"{dist.world_size}, device {dist.device}; {int(matches.sum())} train windows with "
            f"a finishing match, drawn x{config.match_weight:g}",
            flush=True,
        )

    def draw(rng: np.random.Generator, mine: np.ndarray, n: int) -> dict:
        idx = draw_windows(rng, mine, n, weight)
        return train_w.batch(idx, known_frames(rng, n, config))

    run = Run(
        module=policy,
        draw=draw,
        examples=len(train_w),
        params=list(policy.model.parameters()),
        validate=None if val_w is None else (lambda: validate(policy, val_w)),
        metric="val_mpjpe_mm",
        card=lambda row: _card(config, row, command),
    )
    loop = loop_config(config, eval_every, checkpoint_every)
    res = fit(run, loop, out, resume=resume, progress=progress, stop_after=stop_after, dist=dist)
    shutdown()
    return TrainResult(
        steps=res.steps,
        seconds=res.seconds,
        clips_per_second=res.examples_per_second,
        train_windows=len(train_w),
        val_windows=0 if val_w is None else len(val_w),
        parameters=policy.num_parameters(),
        best_step=int(res.best["step"]),
        best_val_mpjpe_mm=float(res.best["val_mpjpe_mm"]),
        weights_sha256=res.weights_sha256,
        history=res.history,
    )


def _init_state(init: str | Path, config: ClimbDiffusionConfig) -> dict:
    """The state dict of checkpoint `init` (float32), refused unless its architecture is
    `config`'s."""
    from policies.pretrained import load_pretrained

    start = load_pretrained(init)
    if getattr(start, "method", None) != "climb_diffusion":
        raise ValueError(f"--init {init}: not a climb_diffusion checkpoint")
    arch = ARCHITECTURE_FIELDS
    diff = {k: (getattr(start.config, k), getattr(config, k)) for k in arch}
    diff = {k: v for k, v in diff.items() if v[0] != v[1]}
    if diff:
        raise ValueError(
            f"--init {init}: architecture differs from the run's config (checkpoint, run): {diff}"
        )
    return {k: v.float() if v.is_floating_point() else v for k, v in start.state_dict().items()}


def _card(config: ClimbDiffusionConfig, row: dict, command: str) -> str:
    return (
        "# climb_diffusion\n\nSABR-CLIMB-style video-to-motion diffusion transformer "
        f"(width {config.width}, depth {config.depth}, heads {config.heads}, context "
        f"{config.context!r}, prediction {config.prediction}), EMA weights of step "
        f"{row.get('step')} (selected on val: {json.dumps(row)}).\n\n"
        f"Command: `{command}`\n"
    )


def config_from_args(args: argparse.Namespace) -> ClimbDiffusionConfig:
    """The preset of --config with every --set override applied (JSON values)."""
    from policies.climb_diffusion.cli_args import parse_assignments

    return ClimbDiffusionConfig.preset(args.config, **parse_assignments(args.set))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    from policies.climb_diffusion.cli_args import add_train_arguments

    parser = argparse.ArgumentParser(prog="navenv train climb-diffusion")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args, " ".join(["navenv train climb-diffusion", *(argv or sys.argv[1:])]))


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Train the run the parsed `navenv train climb-diffusion` arguments describe; prints the
    summary and returns the exit status (the CLI and `python -m` share it)."""
    result = train(
        config_from_args(args),
        args.data,
        args.out,
        val_dir=args.val,
        resume=args.resume,
        max_episodes=args.max_episodes,
        eval_every=args.eval_every,
        checkpoint_every=args.checkpoint_every,
        device=args.device,
        command=command,
        init=args.init,
    )
    print(
        f"trained {result.steps} steps in {result.seconds:.0f} s ({result.clips_per_second:.1f} "
        f"clips/s); best val MPJPE {result.best_val_mpjpe_mm:.0f} mm at step {result.best_step}; "
        f"model in {args.out}/model"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
