"""Train stable-baselines3 PPO on ClimbRoute-v0.

    python examples/train_ppo.py --obs state --steps 20000            # MLP on the state vector
    python examples/train_ppo.py --obs ego --steps 20000              # CNN on the ego video

obs="state" trains an MlpPolicy on the flat observation; obs="ego" wraps the env with
navenv.wrappers.EgoChannelsFirst so SB3's MultiInputPolicy gives the ego frame stack a CNN.
Two choices make learning from scratch tractable on a CPU budget: navenv.wrappers.
RelativePoseAction turns the absolute PD targets into small offsets around the current pose, and
the grip channels' output bias starts at +0.5 so the untrained policy mostly holds on (it still
explores letting go). Prints the mean episode return of the first and last fifth of the training
episodes (from Monitor) and saves the model to --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import numpy as np

import navenv  # noqa: F401  (registers ClimbRoute-v0)
from navenv.wrappers import EgoChannelsFirst, RelativePoseAction

SCALE = 0.05
"""RelativePoseAction scale the policy is trained with (policies.ppo applies the same)."""


def make_env(obs: str, max_steps: int, seed: int, split: str | None = "train"):
    """A factory for one monitored env (scenes and routes drawn from `split` at every reset;
    None: the default scene)."""
    from stable_baselines3.common.monitor import Monitor

    def thunk():
        kw = {"scene_split": split} if split else {}
        env = RelativePoseAction(
            gym.make("ClimbRoute-v0", obs=obs, max_episode_steps=max_steps, **kw), scale=SCALE
        )
        if obs == "ego":
            env = EgoChannelsFirst(env)
        env = Monitor(env)
        env.reset(seed=seed)
        return env

    return thunk


def train(
    obs: str = "state",
    steps: int = 20000,
    n_envs: int = 2,
    max_steps: int = 150,
    seed: int = 0,
    out: Path | None = None,
    split: str | None = "train",
    ship: Path | None = None,
) -> dict:
    """Train PPO; returns the mean episode return of the first and last fifth of the episodes.
    ship: also write the policy as a navenv checkpoint (safetensors + config.json + card) that
    `policies.ppo.PpoPolicy` loads (obs="state" only)."""
    import time

    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    torch.set_num_threads(1)
    start = time.perf_counter()
    venv = DummyVecEnv([make_env(obs, max_steps, seed + i, split) for i in range(n_envs)])
    policy = "MlpPolicy" if obs == "state" else "MultiInputPolicy"
    model = PPO(
        policy,
        venv,
        n_steps=256,
        batch_size=128,
        learning_rate=3e-4,
        gamma=0.98,
        seed=seed,
        policy_kwargs={"log_std_init": -0.5},
        verbose=0,
        device="cpu",
    )
    grips = venv.envs[0].unwrapped.action_layout["grips"]
    with torch.no_grad():  # start out mostly holding on: bias the four grip channels positive
        model.policy.action_net.bias[grips] = 0.5
    model.learn(total_timesteps=steps, progress_bar=False)
    returns = np.concatenate([np.asarray(e.get_episode_rewards()) for e in venv.envs])
    lengths = np.concatenate([np.asarray(e.get_episode_lengths()) for e in venv.envs])
    k = max(1, len(returns) // 5)
    result = {
        "episodes": len(returns),
        "first_mean_return": float(np.mean(returns[:k])),
        "last_mean_return": float(np.mean(returns[-k:])),
        "first_mean_length": float(np.mean(lengths[:k])),
        "last_mean_length": float(np.mean(lengths[-k:])),
        "seconds": time.perf_counter() - start,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        model.save(out / f"ppo_climb_{obs}")
        (out / f"ppo_climb_{obs}.json").write_text(json.dumps(result, indent=2))
    if ship is not None:
        if obs != "state":
            raise ValueError("--ship: only obs='state' policies are shipped")
        from policies.ppo import save_ppo

        save_ppo(
            model.policy,
            ship,
            {
                "steps": steps,
                "n_envs": n_envs,
                "max_steps": max_steps,
                "seed": seed,
                "split": split,
                "scale": SCALE,
                **result,
            },
        )
    return result


def main() -> None:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--obs", choices=["state", "ego"], default="state")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--n-envs", type=int, default=2)
    p.add_argument("--max-steps", type=int, default=150, help="episode limit while training (5 s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/ppo"))
    p.add_argument("--split", default="train", help="scene split to train on ('' = default scene)")
    p.add_argument("--ship", type=Path, default=None, help="also write a navenv checkpoint here")
    args = p.parse_args()
    result = train(
        args.obs,
        args.steps,
        args.n_envs,
        args.max_steps,
        args.seed,
        args.out,
        args.split or None,
        args.ship,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
