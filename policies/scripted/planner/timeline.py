"""The plan's contact timeline (which hold each limb is on, frame by frame) and whether the env's
grip logic would close each planned grip on its hold (`GripCheck`: `navenv.envs.grips.Grips`)."""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.envs.climb.compiled import CompiledWorld
from navenv.envs.grips import Grips
from navenv.humanoid import names
from policies.scripted.planner.types import Keyframe

LIMBS = names.LIMBS


class GripCheck:
    """The env's grip logic on the planning model: which hold a limb's grip would close on."""

    def __init__(self, world: CompiledWorld, capture_radius: float) -> None:
        self.world, self.m = world, world.model
        self.grips = Grips(
            self.m, world.index, world.hold_geoms, capture_radius, np.full(4, np.inf)
        )

    def closes(self, data: mujoco.MjData, limb: str, slot: int) -> bool:
        """Would `limb`'s grip close on hold `slot` in data's configuration (after
        mj_kinematics)? (`Grips.nearest_hold`: the nearest hold within the capture radius.)"""
        return self.grips.nearest_hold(data, LIMBS.index(limb)) == slot

    def mark(self, keyframes: list[Keyframe], qpos: np.ndarray) -> None:
        """Set each grip keyframe's `grip_ok`: would the env close the grip on the intended
        hold on the frame before it (the env closes a grip before it moves to the next pose)?"""
        d = mujoco.MjData(self.m)
        for kf in keyframes:
            if kf.label != "grip":
                continue
            d.qpos[:] = qpos[max(kf.frame - 1, 0)]
            mujoco.mj_kinematics(self.m, d)
            kf.grip_ok = self.closes(d, kf.limb, self.world.hold_slot[kf.holds[kf.limb]])


def contact_timeline(
    keyframes: list[Keyframe], hold_slot: dict[str, int], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Contacts (n, 4): the hold slot from the frame a limb grips to the frame it lets go (-1
    off), and the grip channel (n, 4) bool, from keyframes whose `frame` is set."""
    contacts = np.full((n, 4), -1, dtype=int)
    prev = keyframes[0]
    for kf in keyframes[1:]:
        for j, limb in enumerate(LIMBS):
            if limb in prev.holds and limb in kf.holds and prev.holds[limb] == kf.holds[limb]:
                contacts[prev.frame : kf.frame + 1, j] = hold_slot[kf.holds[limb]]
            elif limb in prev.holds:  # lets go at the previous keyframe
                contacts[prev.frame, j] = hold_slot[prev.holds[limb]]
            elif limb in kf.holds:  # grips at this keyframe
                contacts[kf.frame, j] = hold_slot[kf.holds[limb]]
        prev = kf
    if len(keyframes) == 1:
        for j, limb in enumerate(LIMBS):
            if limb in prev.holds:
                contacts[:, j] = hold_slot[prev.holds[limb]]
    return contacts, contacts >= 0
