"""Gymnasium wrappers for using navenv envs with common RL libraries."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class EgoChannelsFirst(gym.ObservationWrapper):
    """ClimbRoute obs="ego" for CNN policies (e.g. SB3's MultiInputPolicy / NatureCNN).

    The ego frame stack (T, H, W, 3) becomes one channel-first uint8 image (3T, H, W) under the
    key "ego" (oldest frame's RGB first); "proprio" and "route" pass through; "ego_depth", if
    present, is dropped. SB3 recognises (3T, H, W) uint8 as an image and gives it a CNN.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Dict) or "ego_rgb" not in space.spaces:
            raise ValueError(
                "EgoChannelsFirst needs a Dict observation with 'ego_rgb' (ClimbRoute obs='ego')"
            )
        t, h, w, c = space["ego_rgb"].shape
        self.observation_space = spaces.Dict(
            {
                "ego": spaces.Box(0, 255, shape=(t * c, h, w), dtype=np.uint8),
                "proprio": space["proprio"],
                "route": space["route"],
            }
        )

    def observation(self, obs: dict) -> dict:
        """Move the frame stack's channels first."""
        ego = obs["ego_rgb"]  # (T, H, W, C)
        t, h, w, c = ego.shape
        return {
            "ego": np.ascontiguousarray(ego.transpose(0, 3, 1, 2).reshape(t * c, h, w)),
            "proprio": obs["proprio"],
            "route": obs["route"],
        }


class RelativePoseAction(gym.ActionWrapper):
    """ClimbRoute (control="physics") with PD targets relative to the current pose.

    The first 69 action values become offsets: target = current normalised hinge angles +
    `scale` * action (then clipped to [-1, 1] by the env); grip (and assist) channels pass
    through. Random exploration then jiggles the body around where it is instead of throwing it
    between random postures over each joint's whole range, which makes RL from scratch tractable
    (the same idea as delta joint-position control in manipulation).
    """

    def __init__(self, env: gym.Env, scale: float = 0.1):
        super().__init__(env)
        u = env.unwrapped
        if getattr(u, "control", None) != "physics":
            raise ValueError("RelativePoseAction needs ClimbRoute with control='physics'")
        if not 0.0 < scale <= 2.0:
            raise ValueError(f"scale must be in (0, 2], got {scale}")
        self.scale = scale
        self.action_space = spaces.Box(-1.0, 1.0, shape=env.action_space.shape, dtype=np.float32)

    def action(self, action: np.ndarray) -> np.ndarray:
        """Absolute normalised targets from offsets around the current pose."""
        u = self.env.unwrapped
        lo, hi = u.index.hinge_range[:, 0], u.index.hinge_range[:, 1]
        current = 2.0 * (u.data.qpos[u.index.hinge_qpos] - lo) / (hi - lo) - 1.0
        out = np.asarray(action, dtype=np.float64).copy()
        n = len(lo)
        out[:n] = np.clip(current + self.scale * out[:n], -1.0, 1.0)
        return out.astype(np.float32)
