"""Pretrain navenv-cnn on labelled ray-cast frames of the train walls; select on the val walls.

No pretrained image encoder ships inside a pip package here (docs: ANCHORS.md), so navenv trains
its own on labels the renderer gives for free (policies.encoders.frames): per-pixel log depth, a
hold mask, the highlighted-hold mask of context-style frames, and surface normals. Small decoder
heads (`Heads`: one MLP per token, decoding it to its own 8 x 8 pixel patch of every label, as
MAE's decoder does) make the tokens themselves carry each patch's content; they are thrown away
after training. The epoch with the lowest total validation loss on frames of the `val` split's
walls is kept (test splits are never used). As a script::

    python -m policies.encoders.pretrain --out policies/checkpoints/navenv_cnn \
        --frames 16000 --epochs 6 --seed 0

prints the validation losses beside trivial baselines and writes the checkpoint with
`policies.save_pretrained` (model.safetensors + config.json + README.md, atomically). The same
arguments give the same weights on the same CPU and thread count (seeded rendering, initialisation
and batch order; deterministic algorithms).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from policies.encoders.cnn import STRIDE, CNNConfig, NavCNN
from policies.encoders.frames import VIEWS, FrameSet, render_frames
from policies.encoders.heads import (
    HIGHLIGHT_POS_WEIGHT,
    HOLD_POS_WEIGHT,
    Heads,
    baselines,
    evaluate,
    loss_terms,
    predict,
    targets,
)
from policies.pretrained import save_pretrained


@dataclass
class PretrainConfig:
    """How navenv-cnn is pretrained (written into the model card)."""

    frames: int = 16000
    """Training frames, rendered from the `train_split` walls."""
    val_frames: int = 800
    """Validation frames (model selection), rendered from the `val_split` walls."""
    epochs: int = 6
    """Passes over the training frames."""
    seed: int = 0
    """Seed of rendering, initialisation and batch order."""
    batch: int = 64
    """Frames per optimiser step."""
    lr: float = 2e-3
    """Peak AdamW learning rate (linear warm-up over 5 % of the steps, then cosine to 0)."""
    weight_decay: float = 1e-4
    """AdamW weight decay."""
    width: int = 64
    """Frame width (pixels), a multiple of 8."""
    height: int = 64
    """Frame height (pixels), a multiple of 8."""
    threads: int = 1
    """torch CPU threads (results are reproducible for a fixed thread count; on a small shared
    machine one thread trains faster than two)."""
    train_split: str = "train"
    """Scene split the training frames come from."""
    val_split: str = "val"
    """Scene split the validation frames come from (never a test split)."""
    max_scenes: int | None = None
    """Use only the first scenes of each split (None: all; small values for tests)."""
    loss_weights: dict[str, float] = field(
        default_factory=lambda: {"depth": 1.0, "hold": 1.0, "highlight": 1.0, "normal": 0.5}
    )
    """Weight of each named loss term in the total."""
    encoder: CNNConfig = field(default_factory=CNNConfig)
    """Architecture of the encoder being trained."""

    def __post_init__(self) -> None:
        if isinstance(self.encoder, dict):
            self.encoder = CNNConfig(**self.encoder)
        for name in ("frames", "val_frames", "epochs", "batch", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"PretrainConfig.{name}={getattr(self, name)}: expected >= 1")
        if self.width % STRIDE or self.height % STRIDE:
            raise ValueError(f"PretrainConfig: {self.width} x {self.height}: multiples of {STRIDE}")
        if self.val_split.startswith("test") or self.train_split.startswith("test"):
            raise ValueError("PretrainConfig: test splits are for evaluation, never for training")
        if self.val_split == self.train_split:
            raise ValueError("PretrainConfig: select on other scenes than the training ones")
        if set(self.loss_weights) != {"depth", "hold", "highlight", "normal"}:
            raise ValueError(
                f"PretrainConfig.loss_weights={self.loss_weights}: need depth, hold, highlight, normal"
            )


@dataclass
class PretrainResult:
    """The selected encoder, its heads and how training went."""

    encoder: NavCNN
    heads: Heads
    config: PretrainConfig
    history: list[dict[str, float]]  # per epoch: mean training loss and validation scores
    best_epoch: int  # 1-based
    val: dict[str, float]  # validation scores of the selected epoch
    baseline: dict[str, float]  # the same scores of trivial predictors
    frames: dict[str, dict[str, int]]  # per split: frames per view and highlighted frames
    seconds: float  # wall time, rendering included
    frames_per_s: float = float("nan")  # encoder speed, 64 x 64, one thread


def _counts(frames: FrameSet) -> dict[str, int]:
    counts = {v: int((frames.view == i).sum()) for i, v in enumerate(VIEWS)}
    return {**counts, "highlighted": int(frames.has_highlight.sum()), "total": len(frames)}


def _lr_lambda(total: int):
    warm = max(1, total // 20)

    def f(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1.0 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    return f


def pretrain(config: PretrainConfig, *, progress: bool = True) -> PretrainResult:
    """Render the frames, train encoder + heads, keep the epoch best on the val walls."""
    start = time.perf_counter()
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    try:
        kw = dict(width=config.width, height=config.height, max_scenes=config.max_scenes)
        train_f = render_frames(
            config.train_split, config.frames, seed=config.seed, progress=progress, **kw
        )
        val_f = render_frames(
            config.val_split, config.val_frames, seed=config.seed + 1, progress=progress, **kw
        )
        train, val = targets(train_f), targets(val_f)
        torch.manual_seed(config.seed)
        encoder = NavCNN(config.encoder)
        encoder.requires_grad_(True)
        heads = Heads(encoder.dim)
        params = [*encoder.parameters(), *heads.parameters()]
        opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        steps_per_epoch = math.ceil(config.frames / config.batch)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(steps_per_epoch * config.epochs))
        gen = torch.Generator().manual_seed(config.seed)
        history: list[dict[str, float]] = []
        best: tuple[float, int, dict, dict] | None = None
        for epoch in range(1, config.epochs + 1):
            order = torch.randperm(config.frames, generator=gen)
            total = 0.0
            bar = tqdm(
                range(steps_per_epoch), desc=f"epoch {epoch}/{config.epochs}", disable=not progress
            )
            for step in bar:
                idx = order[step * config.batch : (step + 1) * config.batch]
                batch = {k: v[idx] for k, v in train.items()}
                terms = loss_terms(predict(encoder, heads, batch["rgb"]), batch)
                loss = sum(config.loss_weights[k] * v for k, v in terms.items())
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
                bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
            scores = evaluate(encoder, heads, val, config.loss_weights)
            history.append({"epoch": epoch, "train_loss": total / config.frames, **scores})
            if progress:
                tqdm.write(f"epoch {epoch}: train {total / config.frames:.4f} | " + _line(scores))
            if best is None or scores["total"] < best[0]:
                best = (
                    scores["total"],
                    epoch,
                    copy.deepcopy(encoder.state_dict()),
                    copy.deepcopy(heads.state_dict()),
                )
        assert best is not None
        encoder.load_state_dict(best[2])
        heads.load_state_dict(best[3])
        encoder.freeze()
        heads.requires_grad_(False)
        val_scores = history[best[1] - 1]
        result = PretrainResult(
            encoder=encoder,
            heads=heads,
            config=config,
            history=history,
            best_epoch=best[1],
            val={k: v for k, v in val_scores.items() if k not in ("epoch", "train_loss")},
            baseline=baselines(train, val),
            frames={config.train_split: _counts(train_f), config.val_split: _counts(val_f)},
            seconds=time.perf_counter() - start,
        )
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    result.frames_per_s = encoder_speed(encoder)
    return result


def encoder_speed(encoder: NavCNN, frames: int = 512, size: int = 64) -> float:
    """Frames per second of the frozen forward at `size` x `size` on one CPU thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        x = torch.zeros((1, frames, size, size, 3), dtype=torch.uint8)
        encoder(x[:, :32])  # warm-up
        t = time.perf_counter()
        encoder(x)
        return frames / (time.perf_counter() - t)
    finally:
        torch.set_num_threads(threads)


def _line(s: dict[str, float]) -> str:
    return (
        f"val total {s['total']:.4f}: depth {s['depth']:.4f}, hold {s['hold']:.4f} "
        f"(IoU {s['hold_iou']:.3f}), highlight {s['highlight']:.4f} (IoU {s['highlight_iou']:.3f}), "
        f"normal {s['normal']:.4f} ({s['normal_deg']:.1f} deg)"
    )


_ROWS = (
    ("depth", "L1 of log depth", "depth"),
    ("hold", f"hold mask BCE (positives x{HOLD_POS_WEIGHT:g})", "hold"),
    ("hold_iou", "hold mask IoU (higher is better)", "hold_iou"),
    ("highlight", f"highlight BCE (positives x{HIGHLIGHT_POS_WEIGHT:g})", "highlight"),
    ("highlight_iou", "highlight IoU, highlighted frames (higher is better)", "highlight_iou"),
    ("normal", "normal 1 - cos", "normal"),
    ("normal_deg", "normal angle error (deg)", "normal_deg"),
)


def score_table(result: PretrainResult) -> str:
    """Markdown table: validation scores of the selected epoch beside the trivial baselines."""
    lines = ["| label | navenv-cnn | trivial baseline |", "|---|---|---|"]
    for key, label, base in _ROWS:
        b = f"{result.baseline[base]:.4f}"
        if key == "depth":
            b += f" (per-pixel mean: {result.baseline['depth_pixel_mean']:.4f})"
        lines.append(f"| {label} | {result.val[key]:.4f} | {b} |")
    return "\n".join(lines)


def model_card(result: PretrainResult, command: str) -> str:
    """The README.md of the checkpoint: data, training, validation scores, speed, command."""
    c, enc = result.config, result.encoder
    kb = sum(v.numel() * v.element_size() for v in enc.state_dict().values()) / 1024
    rows, cols = enc.grid(c.height, c.width)
    tr, va = result.frames[c.train_split], result.frames[c.val_split]
    n_train = len(splits_of(c.train_split, c.max_scenes))
    n_val = len(splits_of(c.val_split, c.max_scenes))
    epochs = ", ".join(f"{h['total']:.4f}" for h in result.history)
    cfg = asdict(c)
    return f"""# navenv-cnn: a frozen image encoder pretrained on navenv's ray-cast frames

Method `navenv-cnn` (policies.encoders.cnn.NavCNN): a stride-8 CNN (3 stages of two 3 x 3
convolutions, GroupNorm, GELU; widths {list(c.encoder.widths)}), a 1 x 1 projection and LayerNorm,
plus a fixed 2D sine-cosine position embedding. A {c.height} x {c.width} frame gives
{rows} x {cols} = {rows * cols} tokens of D = {enc.dim}; {enc.num_parameters():,} parameters,
{kb:.0f} KiB of float32 weights. Load it with `policies.encoders.make_encoder("navenv-cnn")`:
uint8 frames (B, T, H, W, 3) -> tokens (B, T, P, D).

## Data
Labels come free from the ray caster (policies.encoders.frames): log depth, hold mask,
highlighted-hold mask (context-style frames: one hold recoloured yellow and ringed), normals.
- training: {tr["total"]} frames of the {n_train} `{c.train_split}` split walls: {tr["tripod"]} tripod
  (jittered; {tr["highlighted"]} with a highlighted hold), {tr["ego"]} ego (perturbed start stances),
  {tr["near"]} free cameras near the wall
- validation (epoch selection): {va["total"]} frames of the {n_val} `{c.val_split}` split walls
  ({va["tripod"]} / {va["ego"]} / {va["near"]}); no test split was used

## Training
- {c.epochs} epochs of {math.ceil(c.frames / c.batch)} AdamW steps (batch {c.batch}, lr {c.lr:g} with
  warm-up and cosine decay, weight decay {c.weight_decay:g}), seed {c.seed}, {c.threads} CPU thread(s);
  per-token MLP heads decode each token's 8 x 8 pixel patch (discarded after training)
- loss = {" + ".join(f"{w:g} x {k}" for k, w in c.loss_weights.items())}
- validation total per epoch: {epochs}; epoch {result.best_epoch} kept

## Validation (epoch {result.best_epoch}, `{c.val_split}` walls)

{score_table(result)}

Baselines are fitted on the training frames: the mean log depth (and the per-pixel mean depth
map), the constant hold / highlight probability with the least (weighted) BCE, the mean normal;
the IoU baselines mark every pixel.

## Speed
{result.frames_per_s:.0f} frames/s at 64 x 64 on one CPU thread (frozen forward, batch of 512).

## Reproduce

```
{command}
```

{result.seconds:.0f} s wall on one CPU-only machine ({c.threads} thread(s), torch
{torch.__version__}), rendering included. Same arguments, same CPU and thread count: same
model.safetensors bytes.

Resolved config:

```json
{json.dumps(cfg, indent=1, default=list)}
```
"""


def splits_of(split: str, max_scenes: int | None) -> list:
    """The scene specs of `split` that pretraining renders."""
    from scenes import splits

    return splits.get(split)[:max_scenes]


def save(result: PretrainResult, out: str | Path, command: str, overwrite: bool = False) -> Path:
    """Write the selected encoder as a checkpoint directory (atomic); returns it."""
    return save_pretrained(
        result.encoder,
        out,
        card=model_card(result, command),
        method="navenv-cnn",
        overwrite=overwrite,
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: pretrain, print the validation scores, save the checkpoint."""
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(
        prog="python -m policies.encoders.pretrain", description=__doc__.split("\n")[0]
    )
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--frames", type=int, default=PretrainConfig.frames, help="training frames")
    p.add_argument("--val-frames", type=int, default=PretrainConfig.val_frames)
    p.add_argument("--epochs", type=int, default=PretrainConfig.epochs)
    p.add_argument("--seed", type=int, default=PretrainConfig.seed)
    p.add_argument("--batch", type=int, default=PretrainConfig.batch)
    p.add_argument("--lr", type=float, default=PretrainConfig.lr)
    p.add_argument("--threads", type=int, default=PretrainConfig.threads)
    p.add_argument("--max-scenes", type=int, default=None, help="first scenes of each split only")
    p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")
    args = p.parse_args(argv)
    config = PretrainConfig(
        frames=args.frames,
        val_frames=args.val_frames,
        epochs=args.epochs,
        seed=args.seed,
        batch=args.batch,
        lr=args.lr,
        threads=args.threads,
        max_scenes=args.max_scenes,
    )
    if Path(args.out).exists() and not args.overwrite:
        p.error(f"{args.out} exists; pass --overwrite to replace it")
    result = pretrain(config)
    print(f"selected epoch {result.best_epoch}; validation vs trivial baselines:")
    print(score_table(result))
    print(
        f"encoder: {result.frames_per_s:.0f} frames/s at 64 x 64 on one thread; {result.seconds:.0f} s wall"
    )
    command = "python -m policies.encoders.pretrain " + shlex.join(argv)
    out = save(result, args.out, command, overwrite=args.overwrite)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
