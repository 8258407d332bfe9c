"""`MotionPlayer`: play SMPL `Motion`s in RoomNav-v0, one frame per env step.

Built from the env's reset info, it turns the frame being played into the env's action:
kinematic control gets the pose itself (hinge targets, root position over the room box, root
rot6d); physics control gets the joint angles as PD targets plus, with assist="residual", a PD
wrench on the pelvis toward the motion's root (`navenv.humanoid.assist.RootGains`). Joint angles
come from `navenv.humanoid.pose.joint_angles`, converted lazily a second at a time and, when one
motion replaces another mid-play, continuing from the frame being played (no jump). The scripted
`RoomAgent` plays its plans with it; a learned policy can play its sampled motions the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from navenv.body.motion import Motion
from navenv.body.rotations import matrix_to_rot6d, quat_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.humanoid.assist import RootGains
from navenv.humanoid.pose import joint_angles, root_qpos

GAINS = RootGains(kp_force=3000.0, kd_force=150.0, kp_torque=300.0, kd_torque=30.0)
INFO_KEYS = ("obs_layout", "action_layout", "hinge_range", "room_box", "assist_limits", "dt")
PHYSICS_OBS = ("position", "orientation", "root_angvel")  # what the root wrench is computed from
FPS_TOL = 1e-6  # a motion's fps must match the env's rate this closely


class MotionPlayer:
    """Plays `Motion`s as RoomNav-v0 actions (see the module doc)."""

    def __init__(self, info: dict[str, Any]) -> None:
        if not isinstance(info, dict):
            raise ValueError(f"MotionPlayer needs the RoomNav-v0 reset info dict, got {type(info)}")
        missing = [k for k in INFO_KEYS if k not in info]
        if missing:
            raise ValueError(f"MotionPlayer: reset info lacks {missing} (needs {list(INFO_KEYS)})")
        self.obs_layout, self.action_layout = info["obs_layout"], info["action_layout"]
        self.hinge_range, self.room_box = info["hinge_range"], info["room_box"]
        self.assist_limits = info["assist_limits"]
        dt = float(info["dt"])
        if not (np.isfinite(dt) and dt > 0):
            raise ValueError(f"MotionPlayer: reset info dt must be positive seconds, got {dt!r}")
        self.fps = 1.0 / dt
        if "hinge_targets" not in self.action_layout:
            raise ValueError("MotionPlayer: action_layout has no hinge_targets (not RoomNav-v0?)")
        self.control = "kinematic" if "root_position" in self.action_layout else "physics"
        self.residual = "assist_force" in self.action_layout
        if self.control == "physics":
            lacking = [n for n in PHYSICS_OBS if n not in self.obs_layout.vector]
            if lacking:
                raise ValueError(f"MotionPlayer: physics control needs obs fields {lacking}")
        self.motion: Motion | None = None
        self.root: np.ndarray | None = None  # (T, 7) pelvis position and quaternion
        self.t = 0
        self._last_pos: np.ndarray | None = None  # pelvis last step, for its velocity

    @property
    def done(self) -> bool:
        """Whether the motion has been played to its last frame (True before any motion)."""
        return self.root is None or self.t >= len(self.root) - 1

    def play(self, motion: Motion) -> None:
        """Start playing `motion` (at the env's rate) from frame 0; act() then plays frame 1 on."""
        if not isinstance(motion, Motion):
            raise ValueError(f"MotionPlayer.play needs a navenv Motion, got {type(motion)}")
        if abs(motion.fps - self.fps) > FPS_TOL * self.fps:
            raise ValueError(
                f"MotionPlayer.play: motion at {motion.fps:g} fps, env at {self.fps:g}; "
                "resample it first (Motion.resample)"
            )
        root = root_qpos(Skeleton.builtin(motion.betas), motion.transl, motion.global_orient)
        # Joint angles continue from the frame being played (no jump when a motion replaces
        # another) and are converted a second at a time: re-plans drop most of a plan unplayed.
        seed = None
        if self.motion is not None and self._converted > self.t:
            seed = self._hinges[self.t]
        self.root = root
        self.motion = motion
        # Kinematic action parts of every frame at once: the same per-frame arithmetic, batched.
        centre, half = self.room_box
        self._root_position = (root[:, :3] - centre) / half
        self._root_rot6d = matrix_to_rot6d(quat_to_matrix(root[:, 3:]))
        self._hinges = np.zeros((len(motion), len(self.hinge_range)))  # (T, 69), filled lazily
        self._converted = 0
        self._seed = seed
        self.t = 0

    def hinge(self, t: int) -> np.ndarray:
        """Joint angles (69,) of frame t, converting the motion up to it if needed."""
        if self.motion is None:
            raise RuntimeError("MotionPlayer: call play(motion) first")
        while self._converted <= t:
            a = self._converted
            b = min(a + max(int(self.fps), 1), len(self._hinges))
            start = self._hinges[a - 1] if a > 0 else self._seed
            self._hinges[a:b] = joint_angles(self.motion.body_pose[a:b], self.hinge_range, start)
            self._converted = b
        return self._hinges[t]

    def act(self, obs) -> np.ndarray:
        """Advance one frame (holding the last) and return the env action (float32) for it."""
        if self.motion is None:
            raise RuntimeError("MotionPlayer: call play(motion) before act()")
        t = min(self.t + 1, len(self.root) - 1)
        self.t = t
        if self.control == "kinematic":
            return self._kinematic(t)
        pos, quat, angvel = (self.obs_layout.get(obs, n) for n in PHYSICS_OBS)
        return self._physics(t, np.asarray(pos, float), np.asarray(quat, float), angvel)

    def _normalised_hinges(self, t: int) -> np.ndarray:
        lo, hi = self.hinge_range[:, 0], self.hinge_range[:, 1]
        return 2.0 * (self.hinge(t) - lo) / (hi - lo) - 1.0

    def _kinematic(self, t: int) -> np.ndarray:
        a = self.action_layout.join(
            np.float64,
            hinge_targets=self._normalised_hinges(t),
            root_position=self._root_position[t],
            root_rot6d=self._root_rot6d[t],
        )
        return np.clip(a, -1.0, 1.0).astype(np.float32)

    def _physics(self, t: int, pos: np.ndarray, quat: np.ndarray, angvel_body) -> np.ndarray:
        parts = {"hinge_targets": self._normalised_hinges(t)}
        if self.residual:
            rot = quat_to_matrix(quat)
            vel = np.zeros(3) if self._last_pos is None else (pos - self._last_pos) * self.fps
            ref_vel = (self.root[t, :3] - self.root[max(t - 1, 0), :3]) * self.fps
            force, torque = GAINS.wrench(
                pos=pos,
                vel=vel,
                rot=rot,
                angvel=rot @ np.asarray(angvel_body, float),
                pos_ref=self.root[t, :3],
                vel_ref=ref_vel,
                rot_ref=quat_to_matrix(self.root[t, 3:]),
                angvel_ref=np.zeros(3),
            )
            max_f, max_t = self.assist_limits
            parts["assist_force"], parts["assist_torque"] = force / max_f, torque / max_t
        self._last_pos = pos.copy()
        a = self.action_layout.join(np.float64, **parts)
        return np.clip(a, -1.0, 1.0).astype(np.float32)
