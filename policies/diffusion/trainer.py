"""The one training loop every diffusion method uses (ClimbDiffusion, the behaviour stages).

`fit(run, loop, out)` trains `run.module` on batches `run.draw` makes: AdamW with linear
warm-up and cosine decay, gradient clipping, an EMA of the weights
(`diffusers.training_utils.EMAModel`), a validation row every `eval_every` steps scored with the
EMA weights, the best row's EMA weights exported with `policies.save_pretrained` (selection on
the validation figure `run.metric` only; without validation, the last step's), a resumable
training state (`policies.diffusion.state`) every `checkpoint_every` steps, tqdm progress, and
data parallelism under `torchrun` (each rank draws from its own shard of the examples, DDP
averages the gradients, rank 0 writes). The module's forward is its loss:
``module(batch, generator) -> scalar``. A CPU run with a seed repeats exactly, resumed or not.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from policies.diffusion.distributed import DistInfo, barrier, init_distributed, shutdown
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


@dataclass(frozen=True)
class LoopConfig:
    """Optimisation settings of one run (a method's training config extends it)."""

    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup: int = 0
    min_lr: float = 0.0
    """The cosine ends at this fraction of the peak learning rate."""
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    eval_every: int = 500
    checkpoint_every: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "eval_every", "checkpoint_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"LoopConfig.{name}={v!r}: expected an int >= 1")
        if not self.lr > 0 or not 0.0 <= self.min_lr <= 1.0 or self.warmup < 0:
            raise ValueError(
                f"LoopConfig: lr={self.lr}, min_lr={self.min_lr}, warmup={self.warmup}: expected "
                "lr > 0, min_lr in [0, 1], warmup >= 0"
            )

    def lr_factor(self, step: int) -> float:
        """Linear warm-up, then cosine decay to `min_lr` of the peak."""
        if step < self.warmup:
            return (step + 1) / self.warmup
        frac = (step - self.warmup) / max(1, self.steps - self.warmup)
        return self.min_lr + (1.0 - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, frac)))


@dataclass
class Run:
    """What `fit` trains and how it scores it."""

    module: nn.Module
    """Saved whole (training state, released checkpoint); forward(batch, generator) is the loss."""
    draw: Callable[[np.random.Generator, np.ndarray, int], Any]
    """(rng, this rank's example ids, n) -> a batch of n (tensors, nested in dicts or tuples)."""
    examples: int
    """How many examples there are (ranks share them out)."""
    params: list[nn.Parameter] | None = None
    """Optimised, clipped and averaged by the EMA (default: all of the module's)."""
    validate: Callable[[], dict[str, float]] | None = None
    """A row of validation figures, called with the EMA weights in place."""
    metric: str = "val_loss"
    """The key of `validate`'s row that selects the exported model (lower is better)."""
    card: Callable[[dict], str] = lambda row: f"Trained to step {row.get('step')}.\n"
    """The model card of the export, from the row that selected it."""
    name: str = "train"
    """tqdm's label."""


@dataclass
class FitResult:
    """What a run did (rank 0's view)."""

    steps: int
    seconds: float
    examples_per_second: float
    best: dict
    history: list[dict] = field(default_factory=list)
    weights_sha256: str = ""
    """Digest of this rank's final training weights (equal on every rank; repeats per seed)."""
    world_size: int = 1


def refuse_existing(out: str | Path, resume: bool) -> None:
    """FileExistsError when `out` holds a run and `resume` is off (nothing is overwritten)."""
    out = Path(out)
    if not resume and ((out / STATE_DIR).exists() or (out / MODEL_DIR).exists()):
        raise FileExistsError(
            f"{out}: holds a run already; pass --resume to continue it or choose another --out"
        )


def fit(
    run: Run,
    loop: LoopConfig,
    out: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    dist: DistInfo | None = None,
) -> FitResult:
    """Train (or resume) `run` in `out` (see the module doc).

    stop_after: leave after this many steps of this call (checkpointed), as a killed run would.
    dist: the caller's `init_distributed()` (then the caller shuts it down); None: joined here.
    """
    owns_dist = dist is None
    dist = dist or init_distributed()
    out = Path(out)
    refuse_existing(out, resume)
    module = run.module.to(dist.device)
    params = list(run.params) if run.params is not None else list(module.parameters())
    opt = torch.optim.AdamW(params, lr=loop.lr, weight_decay=loop.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, loop.lr_factor)
    from diffusers.training_utils import EMAModel

    ema = EMAModel(params, decay=loop.ema_decay, use_ema_warmup=True, power=2 / 3)
    rng = np.random.default_rng([loop.seed, dist.rank])
    gen = torch.Generator().manual_seed(loop.seed * 1000 + dist.rank)
    step, best, history = 0, {"step": -1, run.metric: float("inf")}, []
    state_path = out / STATE_DIR
    if resume and state_path.exists():
        st = load_state(state_path)
        module.load_state_dict(st.model)
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
    wrapped = module
    if dist.world_size > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(module)
    mine = np.arange(dist.rank, run.examples, dist.world_size)  # this rank's shard of examples
    per_rank = max(1, loop.batch_size // dist.world_size)
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(
        total=loop.steps, initial=step, desc=run.name, disable=not (progress and dist.is_main)
    )
    t0, seen = time.perf_counter(), 0
    stop_at = loop.steps if stop_after is None else min(loop.steps, step + stop_after)
    while step < stop_at:
        batch = to_device(run.draw(rng, mine, per_rank), dist.device)
        module.train()
        loss = wrapped(batch, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, loop.grad_clip)
        opt.step()
        sched.step()
        ema.step(params)
        step += 1
        seen += per_rank * dist.world_size
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        last = step == stop_at
        if dist.is_main and run.validate is not None and (step % loop.eval_every == 0 or last):
            row = {"step": step, "loss": loss.item(), **_with_ema(module, params, ema, run)}
            history.append(row)
            with open(out / LOG_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            if row[run.metric] < best[run.metric]:
                best = dict(row)
                _export(module, params, ema, out / MODEL_DIR, run.card(row))
        if step % loop.checkpoint_every == 0 or last:  # collective: every rank's RNG is saved
            _save(state_path, module, ema, opt, sched, gen, rng, step, best, history, dist)
        barrier()
    bar.close()
    seconds = time.perf_counter() - t0
    if dist.is_main and run.validate is None and step == loop.steps:
        best = {"step": step, run.metric: float("nan")}
        _export(module, params, ema, out / MODEL_DIR, run.card(best))
    digest = weights_digest(module)
    if owns_dist:
        shutdown()
    return FitResult(
        steps=step,
        seconds=seconds,
        examples_per_second=seen / seconds if seconds > 0 else 0.0,
        best=best,
        history=history,
        weights_sha256=digest,
        world_size=dist.world_size,
    )


def to_device(batch: Any, device: torch.device) -> Any:
    """`batch` with every tensor in it (in dicts, lists, tuples) on `device`."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def weights_digest(module: nn.Module) -> str:
    """sha256 over every state-dict tensor's name and bytes, in name order."""
    import hashlib

    h = hashlib.sha256()
    for name, value in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _with_ema(module: nn.Module, params, ema, run: Run) -> dict[str, float]:
    """run.validate() with the EMA weights swapped in (the training weights restored after)."""
    ema.store(params)
    ema.copy_to(params)
    module.eval()
    try:
        return run.validate()
    finally:
        ema.restore(params)


def _export(module: nn.Module, params, ema, directory: Path, card: str) -> None:
    """Write the EMA weights as a released checkpoint (policies.save_pretrained)."""
    from policies.pretrained import save_pretrained

    ema.store(params)
    ema.copy_to(params)
    try:
        save_pretrained(module, directory, card=card, overwrite=True)
    finally:
        ema.restore(params)


def _save(path, module, ema, opt, sched, gen, rng, step, best, history, dist) -> None:
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
            model=module.state_dict(),
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
