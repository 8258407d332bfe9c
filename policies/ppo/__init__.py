"""PPO (stable-baselines3) as a navenv policy: the shipped `ppo_small` checkpoint and its loader.

`examples/train_ppo.py --ship DIR` trains SB3's MlpPolicy on the `train` split through
`navenv.wrappers.RelativePoseAction` (PD targets as offsets around the current pose) and writes
the actor-critic's weights as safetensors with a config.json and a card; SB3's own .zip is a
pickle, which navenv does not load. `PpoPolicy` rebuilds the same `ActorCriticPolicy`, loads
the weights and applies the wrapper's transform itself from the observation's joint angles, so
it acts in a plain ClimbRoute-v0 (obs="state", control="physics", assist="none", as trained).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints" / "ppo_small"
"""The shipped checkpoint (examples/train_ppo.py --ship)."""
ENV_KWARGS = {"obs": "state", "control": "physics", "assist": "none"}
"""How the env is made for the shipped PPO (what it was trained in)."""


def save_ppo(policy, target: str | Path, info: dict[str, Any]) -> Path:
    """Write an SB3 ActorCriticPolicy as model.safetensors + config.json + README.md (atomic)."""
    from safetensors.torch import save

    from policies.pretrained import write_directory

    cfg = {
        "method": "ppo",
        "obs_dim": int(policy.observation_space.shape[0]),
        "action_dim": int(policy.action_space.shape[0]),
        "log_std_init": -0.5,
        **info,
    }
    card = (
        "# ppo_small\n\nstable-baselines3 PPO (MlpPolicy, 64x64 actor and critic) on ClimbRoute-v0, "
        f"obs=state, physics, no assist, RelativePoseAction scale {info.get('scale')}, trained on "
        f"the `{info.get('split')}` split.\n\n"
        f"Command: `python examples/train_ppo.py --obs state --steps {info.get('steps')} "
        f"--ship policies/checkpoints/ppo_small` ({info.get('seconds', 0):.0f} s on one thread).\n\n"
        f"Mean episode return of the first / last fifth of training episodes: "
        f"{info.get('first_mean_return', float('nan')):.2f} / "
        f"{info.get('last_mean_return', float('nan')):.2f}; mean length "
        f"{info.get('first_mean_length', float('nan')):.0f} / "
        f"{info.get('last_mean_length', float('nan')):.0f} steps.\n"
    )
    state = {k: v.detach().cpu().contiguous() for k, v in policy.state_dict().items()}
    files = {
        "model.safetensors": save(state),
        "config.json": json.dumps(cfg, indent=2).encode(),
        "README.md": card.encode(),
    }
    return write_directory(Path(target), files, overwrite=True)


class PpoPolicy:
    """A shipped or saved PPO policy (module doc); deterministic (the actor's mean)."""

    env_kwargs = ENV_KWARGS

    def __init__(self, env=None, checkpoint: str | Path = SHIPPED) -> None:
        import gymnasium as gym
        import torch
        from safetensors.torch import load_file
        from stable_baselines3.common.policies import ActorCriticPolicy

        path = Path(checkpoint)
        if not (path / "config.json").exists() or not (path / "model.safetensors").exists():
            raise FileNotFoundError(
                f"{path}: not a PPO checkpoint (expected config.json and model.safetensors; "
                "make one with examples/train_ppo.py --ship DIR)"
            )
        cfg = json.loads((path / "config.json").read_text())
        if cfg.get("method") != "ppo":
            raise ValueError(f"{path}: config.json method is {cfg.get('method')!r}, not 'ppo'")
        obs_space = gym.spaces.Box(-np.inf, np.inf, (cfg["obs_dim"],), np.float32)
        act_space = gym.spaces.Box(-1.0, 1.0, (cfg["action_dim"],), np.float32)
        if env is not None and env.action_space.shape != act_space.shape:
            raise ValueError(
                f"PpoPolicy: the env's action space {env.action_space.shape} is not the "
                f"checkpoint's {act_space.shape}; make the env with {ENV_KWARGS}"
            )
        self.policy = ActorCriticPolicy(
            obs_space, act_space, lambda _: 0.0, log_std_init=cfg["log_std_init"]
        )
        self.policy.load_state_dict(load_file(path / "model.safetensors"))
        self.policy.set_training_mode(False)
        torch.set_num_threads(1)
        self.scale = float(cfg["scale"])
        self.config = cfg
        self._hinge_range: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Read the hinge ranges (how targets normalise) from the env's reset info."""
        if not info or "hinge_range" not in info:
            raise ValueError("PpoPolicy.reset: info must be ClimbRoute's reset info")
        self._hinge_range = np.asarray(info["hinge_range"], dtype=np.float64)

    def act(self, obs) -> np.ndarray:
        """Absolute actions: the actor's offsets added to the current normalised pose."""
        from policies.tracking.estimator import state_layout

        if self._hinge_range is None:
            raise RuntimeError("PpoPolicy.act: call reset(seed=..., info=...) first")
        rel, _ = self.policy.predict(np.asarray(obs, dtype=np.float32), deterministic=True)
        angles = state_layout().get(obs, "joint_angles").astype(np.float64)
        lo, hi = self._hinge_range[:, 0], self._hinge_range[:, 1]
        current = 2.0 * (angles - lo) / (hi - lo) - 1.0
        out = np.asarray(rel, dtype=np.float64).copy()
        n = len(lo)
        out[:n] = np.clip(current + self.scale * out[:n], -1.0, 1.0)
        return out.astype(np.float32)


__all__ = ["ENV_KWARGS", "SHIPPED", "PpoPolicy", "save_ppo"]
