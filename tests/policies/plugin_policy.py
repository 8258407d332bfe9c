"""A third-party-style policy for the registry tests: navenv's code never imports it by name.

It is reached as "tests.policies.plugin_policy:HoldStill" and through a `navenv.policies`
entry point that tests/policies/test_registry.py installs in a temporary dist-info directory.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class HoldStill:
    """Holds the current pose: hinge targets at the measured joint angles, every grip closed."""

    env_kwargs = {"obs": "state", "control": "physics"}  # noqa: RUF012 (read by the registry)

    def __init__(self, env=None, **kwargs: Any) -> None:
        if env is None:
            raise ValueError("HoldStill needs the env (its obs and action layouts)")
        self.obs_layout = env.unwrapped.obs_layout
        self.action_layout = env.unwrapped.action_layout
        self.kwargs = kwargs
        self.hinge_range: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Read the hinge ranges from the env's reset info."""
        self.hinge_range = np.asarray(info["hinge_range"])  # (69, 2) radians

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Targets at the current angles, normalised over each hinge's range; grips closed."""
        q = self.obs_layout.get(obs, "joint_angles")
        lo, hi = self.hinge_range[:, 0], self.hinge_range[:, 1]
        parts = {"hinge_targets": np.clip(2 * (q - lo) / (hi - lo) - 1, -1, 1), "grips": np.ones(4)}
        for name in self.action_layout.names:
            parts.setdefault(name, np.zeros(self.action_layout.field(name).shape))
        return self.action_layout.join(**parts)


def broken_factory(env=None):
    """Not a policy: used to check the registry's protocol check."""
    return object()
