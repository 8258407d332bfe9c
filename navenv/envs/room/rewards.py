"""Named reward terms of RoomNav; the reward is their sum and `info` carries each one."""

from __future__ import annotations

from dataclasses import dataclass

from navenv.envs.room.config import RoomRewardWeights

REWARD_TERMS: tuple[str, ...] = ("progress", "success", "collision", "energy", "fall", "assist")


@dataclass
class RewardState:
    """What shaping terms remember between steps."""

    distance: float = 0.0  # geodesic distance (m) to the goal's approach area at the last step


def reward_terms(
    w: RoomRewardWeights,
    state: RewardState,
    *,
    distance: float,
    success: bool,
    collision: float,
    fall: bool,
    effort: float,
    assist: float,
) -> dict[str, float]:
    """The reward terms of one step.

    distance: geodesic distance (m) to the goal's approach area now (potential-based: reward =
    w * decrease); collision: seconds touching an obstacle this step; effort: sum of squared
    actuator torques x dt (N^2 m^2 s); assist: residual root force in body weights x dt (s).
    """
    progress = w.progress * (state.distance - distance)
    state.distance = distance
    return {
        "progress": progress,
        "success": w.success * float(success),
        "collision": -w.collision * collision,
        "energy": -w.energy * effort,
        "fall": -w.fall * float(fall),
        "assist": -w.assist * assist,
    }
