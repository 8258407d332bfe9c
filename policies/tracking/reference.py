"""Reference: the frames a Tracker follows (root pose, hinge angles, grips, optional contacts).

Built from humanoid configurations (a ClimbPlan's qpos) or from a Motion; sampled at any time
along it (`frame_at`, `sample`), so the tracker knows nothing about where the frames came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from navenv.body.motion import Motion
from navenv.body.rotations import quat_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.names import NUM_HINGES
from navenv.humanoid.pose import joint_angles, root_qpos


@dataclass
class Reference:
    """Reference frames at `fps`: pelvis position (T, 3) m and rotation (T, 3, 3), hinge angles
    (T, 69) rad, grip channels (T, 4) bool (names.LIMBS order) and optionally the scene hold
    index each limb should be on (T, 4), -1 for none: then a grip closes only on that hold."""

    root_pos: np.ndarray
    root_rot: np.ndarray
    hinges: np.ndarray
    grips: np.ndarray
    fps: float
    contacts: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = len(self.root_pos)
        shapes = {
            "root_pos": (t, 3),
            "root_rot": (t, 3, 3),
            "hinges": (t, NUM_HINGES),
            "grips": (t, 4),
        }
        for name, shape in shapes.items():
            value = np.asarray(getattr(self, name))
            if value.shape != shape:
                raise ValueError(f"Reference.{name}: expected shape {shape}, got {value.shape}")
        if self.contacts is not None:
            self.contacts = np.asarray(self.contacts, dtype=int)
            if self.contacts.shape != (t, 4):
                raise ValueError(
                    f"Reference.contacts: expected shape {(t, 4)}, got {self.contacts.shape}"
                )
        if t < 1 or not (self.fps > 0):
            raise ValueError(f"Reference: needs >= 1 frame and fps > 0, got {t} frames, {self.fps}")
        self.grips = np.asarray(self.grips, dtype=bool)

    def __len__(self) -> int:
        return len(self.root_pos)

    @property
    def duration(self) -> float:
        """s from the first frame to the last."""
        return (len(self) - 1) / self.fps

    def frame_at(self, time: float) -> int:
        """The frame nearest `time` (s), clamped to the last."""
        return int(min(round(time * self.fps), len(self) - 1))

    def sample(self, time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Hinges (rad), hinge velocities (rad/s), root position (m) and velocity (m/s) at `time`
        (linear between frames)."""
        x = min(max(time * self.fps, 0.0), len(self) - 1)
        i = min(int(x), len(self) - 2) if len(self) > 1 else 0
        a = x - i
        j = min(i + 1, len(self) - 1)
        hinges = (1 - a) * self.hinges[i] + a * self.hinges[j]
        pos = (1 - a) * self.root_pos[i] + a * self.root_pos[j]
        qd = (self.hinges[j] - self.hinges[i]) * self.fps
        vel = (self.root_pos[j] - self.root_pos[i]) * self.fps
        return hinges, qd, pos, vel

    @classmethod
    def from_qpos(
        cls,
        qpos: np.ndarray,
        index: HumanoidIndex,
        grips: np.ndarray,
        fps: float,
        contacts: np.ndarray | None = None,
    ) -> Reference:
        """From (T, nq) humanoid configurations (e.g. a ClimbPlan's qpos and contacts)."""
        q = np.atleast_2d(qpos)
        root = q[:, index.root_qpos]
        rot = quat_to_matrix(root[:, 3:])
        return cls(root[:, :3], rot, q[:, index.hinge_qpos], grips, fps, contacts)

    @classmethod
    def from_motion(
        cls, motion: Motion, skeleton: Skeleton, hinge_range: np.ndarray, grips: np.ndarray
    ) -> Reference:
        """From a Motion (its fps); hinge angles by `joint_angles` near the hinge ranges."""
        root = root_qpos(skeleton, motion.transl, motion.global_orient)
        hinges = joint_angles(motion, hinge_range)
        return cls(root[:, :3], motion.global_orient, hinges, grips, motion.fps)


def next_contacts(contacts: np.ndarray) -> np.ndarray:
    """(T, 4): for each frame and limb, the next hold (>= that frame) the limb is on, or -1."""
    out = np.full_like(contacts, -1)
    nxt = np.full(contacts.shape[1], -1)
    for t in range(len(contacts) - 1, -1, -1):
        nxt = np.where(contacts[t] >= 0, contacts[t], nxt)
        out[t] = nxt
    return out


__all__ = ["Reference", "next_contacts"]
