"""The Policy protocol: one fixed interface between environments and methods.

A policy is reset with the env's reset info (which carries the `scenes.Scene` and the
`scenes.Route` being climbed, so planners can plan) and then maps observations to actions.
Generative policies sample a Motion chunk and turn it into actions with a Tracker, replanning
every few steps; scripted and RL policies map observations directly.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    """Anything with `reset(*, seed, info)` and `act(obs) -> action`."""

    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Start an episode; `info` is the env's reset info."""

    def act(self, obs: Any) -> np.ndarray:
        """The action for this observation."""


class RandomPolicy:
    """Uniform random actions from an action space (a baseline), seeded."""

    def __init__(self, action_space) -> None:
        self.action_space = action_space
        self._rng = np.random.default_rng(0)

    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Re-seed the action stream."""
        self._rng = np.random.default_rng(seed)

    def act(self, obs: Any) -> np.ndarray:
        """A uniform sample of the action space."""
        low, high = self.action_space.low, self.action_space.high
        return self._rng.uniform(low, high).astype(self.action_space.dtype)
