"""Named reward terms of ClimbRoute; the reward is their sum and `info` carries each one."""

from __future__ import annotations

from dataclasses import dataclass

from navenv.envs.climb.config import RewardWeights

REWARD_TERMS: tuple[str, ...] = ("progress", "reach", "hold", "success", "energy", "fall", "assist")


@dataclass
class RewardState:
    """What shaping terms remember between steps."""

    reach_potential: float = 0.0  # distance (m) of the free hand to its next hold at the last step


def reward_terms(
    w: RewardWeights,
    state: RewardState,
    *,
    progress_delta: float,
    reach_distance: float,
    grip_fraction: float,
    success: bool,
    fall: bool,
    effort: float,
    assist: float,
) -> dict[str, float]:
    """The reward terms of one step.

    progress_delta: newly reached route fraction (route positions / (R - 1)); reach_distance: the
    free hand's distance (m) to its next hold now (potential-based: reward = w * decrease);
    grip_fraction: share of the four limbs gripping a hold;
    effort: sum of squared actuator torques x dt (N^2 m^2 s); assist: residual root force in body
    weights x dt (s).
    """
    reach = w.reach * (state.reach_potential - reach_distance)
    state.reach_potential = reach_distance
    return {
        "progress": w.progress * progress_delta,
        "reach": reach,
        "hold": w.hold * grip_fraction,
        "success": w.success * float(success),
        "energy": -w.energy * effort,
        "fall": -w.fall * float(fall),
        "assist": -w.assist * assist,
    }
