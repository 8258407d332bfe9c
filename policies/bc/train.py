"""Behaviour-cloning training: collect the scripted expert's (obs, action) pairs, fit the MLP.

`collect(config)` runs `policies.scripted.ScriptedClimber` in ClimbRoute-v0 (obs="state",
control="physics", assist="residual") on the config's scenes, routes and seeds and keeps every
(observation, expert action) pair. `train(config)` fits a `BCPolicy` to them with AdamW (seeded
initialisation and batch order; tqdm shows progress) and returns a `TrainResult`; `save(result,
out)` writes it with `policies.save_pretrained` and a model card. As a script::

    python -m policies.bc.train --out checkpoints/bc --epochs 30
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from policies.bc.config import BCConfig
from policies.bc.policy import BCPolicy

ENV_KWARGS = {"obs": "state", "control": "physics", "assist": "residual"}
"""How ClimbRoute-v0 is made for collection (and for running a BC policy)."""


@dataclass
class TrainResult:
    """A trained policy and how it got there."""

    policy: BCPolicy
    losses: list[float] = field(default_factory=list)  # mean training loss per epoch
    initial_loss: float = float("nan")  # loss on all pairs before the first step
    pairs: int = 0  # (obs, action) pairs trained on
    episodes: int = 0  # expert episodes collected
    steps: int = 0  # optimiser steps
    seconds: float = 0.0  # wall time, collection included


def collect(config: BCConfig, *, progress: bool = True) -> dict[str, np.ndarray]:
    """Expert pairs ``{"obs": (N, obs_dim), "action": (N, action_dim), "episode": (N,)}``."""
    import gymnasium as gym

    import navenv  # noqa: F401  (registers ClimbRoute-v0)
    import scenes
    from policies.scripted import ScriptedClimber

    jobs = []
    for scene_id in config.scenes:
        scene = scenes.load(scene_id)
        for r in range(min(config.routes, len(scene.routes))):
            jobs += [(scene, r, config.seed * 1000 + k) for k in range(config.episodes_per_route)]
    obs_rows, act_rows, episode = [], [], []
    for i, (scene, route, seed) in enumerate(
        tqdm(jobs, desc="bc: expert episodes", unit="ep", disable=not progress)
    ):
        env = gym.make(
            "ClimbRoute-v0",
            scene=scene,
            route=route,
            max_episode_steps=config.max_steps,
            **ENV_KWARGS,
        )
        if env.observation_space.shape != (config.obs_dim,) or env.action_space.shape != (
            config.action_dim,
        ):
            raise ValueError(
                f"BCConfig obs_dim={config.obs_dim}, action_dim={config.action_dim} do not match "
                f"ClimbRoute-v0 ({env.observation_space.shape}, {env.action_space.shape})"
            )
        expert = ScriptedClimber(control="physics", action_space=env.action_space)
        obs, info = env.reset(seed=seed)
        expert.reset(seed=seed, info=info)
        done = False
        while not done:
            action = expert.act(obs)
            obs_rows.append(np.asarray(obs, np.float32))
            act_rows.append(np.asarray(action, np.float32))
            episode.append(i)
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        env.close()
    return {
        "obs": np.stack(obs_rows),
        "action": np.stack(act_rows),
        "episode": np.asarray(episode, dtype=np.int64),
    }


def train(
    config: BCConfig, data: dict[str, np.ndarray] | None = None, *, progress: bool = True
) -> TrainResult:
    """Fit a BCPolicy to `data` (collected with `collect(config)` when None)."""
    start = time.perf_counter()
    data = collect(config, progress=progress) if data is None else data
    obs = torch.as_tensor(data["obs"], dtype=torch.float32)  # (N, obs_dim)
    action = torch.as_tensor(data["action"], dtype=torch.float32)  # (N, action_dim)
    with torch.random.fork_rng(devices=[]):  # seeded init without touching global torch state
        torch.manual_seed(config.seed)
        policy = BCPolicy(config)
    policy.fit_normaliser(obs, action)
    optimiser = torch.optim.AdamW(
        policy.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    rng = np.random.default_rng(config.seed)
    with torch.no_grad():
        initial = float(policy.compute_loss({"obs": obs, "action": action}))
    losses, steps = [], 0
    bar = tqdm(range(config.epochs), desc="bc: epochs", unit="epoch", disable=not progress)
    policy.train()
    for _ in bar:
        order = torch.from_numpy(rng.permutation(len(obs)))
        total = 0.0
        for b in range(0, len(obs), config.batch_size):
            idx = order[b : b + config.batch_size]
            loss = policy.compute_loss({"obs": obs[idx], "action": action[idx]})
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
            steps += 1
        losses.append(total / len(obs))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    policy.eval()
    episodes = int(data["episode"].max()) + 1 if "episode" in data and len(obs) else 0
    return TrainResult(
        policy, losses, initial, len(obs), episodes, steps, time.perf_counter() - start
    )


def model_card(result: TrainResult, command: str = "") -> str:
    """The README.md model card of a training run: data, steps, losses, how to reproduce."""
    cfg = result.policy.config
    lines = [
        "# Behaviour cloning of the scripted climber (navenv method `bc`)",
        "",
        'An MLP from ClimbRoute-v0\'s obs="state" vector to its control="physics", '
        'assist="residual" action, trained by mean squared error on normalised actions.',
        "",
        "## Data",
        f"- {result.episodes} episodes of `policies.scripted.ScriptedClimber`, {result.pairs} "
        f"(obs, action) pairs",
        f"- scenes {', '.join(cfg.scenes)}; first {cfg.routes} route(s) each; "
        f"{cfg.episodes_per_route} episode(s) per route; up to {cfg.max_steps} steps each",
        "",
        "## Training",
        f"- {cfg.epochs} epochs, {result.steps} AdamW steps (lr {cfg.lr}, weight decay "
        f"{cfg.weight_decay}, batch {cfg.batch_size}), hidden sizes {list(cfg.hidden_sizes)}, "
        f"{cfg.activation}, seed {cfg.seed}",
        f"- loss {result.initial_loss:.4f} before training -> {result.losses[-1]:.4f} "
        f"after the last epoch"
        if result.losses
        else "- no training steps",
        f"- {result.seconds:.0f} s wall (collection included)",
        "",
    ]
    if command:
        lines += ["## Reproduce", "", "```", command, "```", ""]
    return "\n".join(lines)


def save(
    result: TrainResult, out: str | os.PathLike, *, command: str = "", overwrite: bool = False
) -> Path:
    """Write the trained policy as a checkpoint directory (policies.save_pretrained)."""
    from policies.pretrained import save_pretrained

    return save_pretrained(
        result.policy, out, card=model_card(result, command), overwrite=overwrite
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m policies.bc.train``: collect, train, save."""
    p = argparse.ArgumentParser(
        prog="python -m policies.bc.train", description=__doc__.split("\n")[0]
    )
    d = BCConfig()
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--scenes", nargs="+", default=list(d.scenes))
    p.add_argument("--routes", type=int, default=d.routes)
    p.add_argument("--episodes-per-route", type=int, default=d.episodes_per_route)
    p.add_argument("--max-steps", type=int, default=d.max_steps)
    p.add_argument("--hidden", type=int, nargs="+", default=list(d.hidden_sizes))
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args(argv)
    config = BCConfig(
        hidden_sizes=tuple(args.hidden),
        lr=args.lr,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
        scenes=tuple(args.scenes),
        routes=args.routes,
        episodes_per_route=args.episodes_per_route,
        max_steps=args.max_steps,
    )
    result = train(config)
    command = "python -m policies.bc.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    path = save(result, args.out, command=command, overwrite=args.overwrite)
    print(f"loss {result.initial_loss:.4f} -> {result.losses[-1]:.4f}; checkpoint: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
