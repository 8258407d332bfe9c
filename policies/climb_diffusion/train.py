"""Train ClimbDiffusion: `navenv train climb-diffusion --data DIR --config small --out runs/NAME`.

The loop: windows and tokens in memory (`data.load_windows`), AdamW with warm-up + cosine, EMA
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
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from policies.climb_diffusion.config import ClimbDiffusionConfig
from policies.climb_diffusion.data import Windows, load_windows
from policies.climb_diffusion.diffusion import ClimbDiffusionModel
from policies.climb_diffusion.kinematics import feature_joints, global_mpjpe_mm
from policies.diffusion.distributed import barrier, init_distributed, shutdown
from policies.diffusion.state import (
    TrainState,
    load_state,
    numpy_rng_state,
    restore_numpy_rng,
    save_state,
)

STATE_DIR = "checkpoint"
MODEL_DIR = "model"
LOG_FILE = "metrics.jsonl"


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


def lr_lambda(config: ClimbDiffusionConfig):
    """Linear warm-up, then cosine decay to 10% of the peak."""

    def f(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        frac = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, frac)))

    return f


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
) -> TrainResult:
    """Train (or resume) a run in `out_dir`; returns the summary (rank 0's view).

    stop_after: leave after this many steps of this call (checkpointed), as a killed run would.
    """
    dist = init_distributed(device)
    out = Path(out_dir)
    state_path = out / STATE_DIR
    if out.exists() and (state_path.exists() or (out / MODEL_DIR).exists()) and not resume:
        raise FileExistsError(
            f"{out}: holds a run already; pass --resume to continue it or choose another --out"
        )
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
    policy.fit_normaliser(train_w.motion, train_w.anchor)
    policy.to(dist.device)
    opt = torch.optim.AdamW(
        policy.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(config))
    from diffusers.training_utils import EMAModel

    ema = EMAModel(
        policy.model.parameters(), decay=config.ema_decay, use_ema_warmup=True, power=2 / 3
    )
    rng = np.random.default_rng([config.seed, dist.rank])
    gen = torch.Generator().manual_seed(config.seed * 1000 + dist.rank)
    step, best = 0, {"step": -1, "val_mpjpe_mm": float("inf")}
    history: list[dict] = []
    if resume and state_path.exists():
        st = load_state(state_path)
        policy.load_state_dict(st.model)
        opt.load_state_dict(st.optimizer)
        sched.load_state_dict(st.lr_scheduler)
        ema.load_state_dict(st.ema)
        ranks = st.extra.get("world_size", 1)
        if ranks != dist.world_size:
            raise ValueError(
                f"{state_path}: saved by {ranks} rank(s), resumed on {dist.world_size}: each rank "
                "continues its own random streams, so resume with the same --nproc_per_node"
            )
        r = str(dist.rank)
        gen.set_state(
            st.torch_rng if r == "0" else torch.tensor(st.extra["torch_rng"][r], dtype=torch.uint8)
        )
        rng = restore_numpy_rng(st.data_rng[r])
        step, best, history = st.step, st.extra["best"], st.extra["history"]
    model = policy
    if dist.world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(policy)
    mine = np.arange(dist.rank, len(train_w), dist.world_size)  # this rank's shard of windows
    per_rank = max(1, config.batch_size // dist.world_size)
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
        print(
            f"climb-diffusion: {policy.num_parameters():,} parameters, {len(train_w)} train "
            f"windows, {0 if val_w is None else len(val_w)} val windows, world size "
            f"{dist.world_size}, device {dist.device}",
            flush=True,
        )
    bar = tqdm(
        total=config.steps, initial=step, desc="train", disable=not (progress and dist.is_main)
    )
    t0, clips = time.perf_counter(), 0
    stop_at = config.steps if stop_after is None else min(config.steps, step + stop_after)
    while step < stop_at:
        idx = rng.choice(mine, size=per_rank, replace=len(mine) < per_rank)
        batch = train_w.batch(idx, known_frames(rng, per_rank, config))
        batch = {k: v.to(dist.device) for k, v in batch.items()}
        policy.train()
        loss = model(batch, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.model.parameters(), config.grad_clip)
        opt.step()
        sched.step()
        ema.step(policy.model.parameters())
        step += 1
        clips += per_rank * dist.world_size
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        last = step == stop_at
        if dist.is_main and val_w is not None and (step % eval_every == 0 or last):
            row = {"step": step, "loss": loss.item(), **_ema_validate(policy, ema, val_w)}
            history.append(row)
            _log(out, row)
            if row["val_mpjpe_mm"] < best["val_mpjpe_mm"]:
                best = {"step": step, "val_mpjpe_mm": row["val_mpjpe_mm"]}
                _export(policy, ema, out / MODEL_DIR, _card(config, row, command))
        if step % checkpoint_every == 0 or last:  # collective: every rank's RNG is saved
            _save(state_path, policy, ema, opt, sched, gen, rng, step, best, history, dist)
        barrier()
    bar.close()
    seconds = time.perf_counter() - t0
    digest = weights_digest(policy)
    if dist.is_main and val_w is None and step == config.steps:
        _export(policy, ema, out / MODEL_DIR, _card(config, {"step": step}, command))
        best = {"step": step, "val_mpjpe_mm": float("nan")}
    shutdown()
    return TrainResult(
        steps=step,
        seconds=seconds,
        clips_per_second=clips / seconds if seconds > 0 else 0.0,
        train_windows=len(train_w),
        val_windows=0 if val_w is None else len(val_w),
        parameters=policy.num_parameters(),
        best_step=int(best["step"]),
        best_val_mpjpe_mm=float(best["val_mpjpe_mm"]),
        weights_sha256=digest,
        history=history,
    )


def weights_digest(policy: torch.nn.Module) -> str:
    """sha256 over every state-dict tensor's name and bytes, in name order."""
    import hashlib

    h = hashlib.sha256()
    for name, value in sorted(policy.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _ema_validate(policy, ema, val_w) -> dict[str, float]:
    """Validation with the EMA weights swapped in (the training weights restored after)."""
    ema.store(policy.model.parameters())
    ema.copy_to(policy.model.parameters())
    policy.eval()
    try:
        return validate(policy, val_w)
    finally:
        ema.restore(policy.model.parameters())


def _export(policy, ema, directory: Path, card: str) -> None:
    """Write the EMA weights as a released checkpoint (policies.save_pretrained)."""
    from policies.pretrained import save_pretrained

    ema.store(policy.model.parameters())
    ema.copy_to(policy.model.parameters())
    try:
        save_pretrained(policy, directory, card=card, overwrite=True)
    finally:
        ema.restore(policy.model.parameters())


def _save(path, policy, ema, opt, sched, gen, rng, step, best, history, dist) -> None:
    """Rank 0 writes the training state with every rank's random streams (gathered)."""
    mine = (numpy_rng_state(rng), gen.get_state().tolist())
    states = [mine]
    if dist.world_size > 1:
        states = [None] * dist.world_size
        torch.distributed.all_gather_object(states, mine)
    if not dist.is_main:
        return
    save_state(
        path,
        TrainState(
            step=step,
            model=policy.state_dict(),
            ema=ema.state_dict(),
            optimizer=opt.state_dict(),
            lr_scheduler=sched.state_dict(),
            torch_rng=gen.get_state(),
            data_rng={str(r): st[0] for r, st in enumerate(states)},
            extra={
                "best": best,
                "history": history,
                "world_size": dist.world_size,
                "torch_rng": {str(r): st[1] for r, st in enumerate(states) if r > 0},
            },
        ),
    )


def _log(out: Path, row: dict) -> None:
    with open(out / LOG_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


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
    overrides = {}
    for item in args.set:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected FIELD=VALUE")
        key, value = item.split("=", 1)
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return ClimbDiffusionConfig.preset(args.config, **overrides)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    from policies.climb_diffusion.cli_args import add_train_arguments

    parser = argparse.ArgumentParser(prog="navenv train climb-diffusion")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    config = config_from_args(args)
    result = train(
        config,
        args.data,
        args.out,
        val_dir=args.val,
        resume=args.resume,
        max_episodes=args.max_episodes,
        eval_every=args.eval_every,
        checkpoint_every=args.checkpoint_every,
        device=args.device,
        command=" ".join(["navenv train climb-diffusion", *(argv or sys.argv[1:])]),
    )
    print(
        f"trained {result.steps} steps in {result.seconds:.0f} s ({result.clips_per_second:.1f} "
        f"clips/s); best val MPJPE {result.best_val_mpjpe_mm:.0f} mm at step {result.best_step}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
