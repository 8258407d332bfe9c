"""`Motion`: one person's motion in SMPL form, its feature vector, resampling and .npz files."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from navenv.body.joints import NUM_BETAS, NUM_BODY_JOINTS, NUM_JOINTS
from navenv.body.rotations import (
    is_rotation,
    matrix_to_quat,
    matrix_to_rot6d,
    quat_slerp,
    quat_to_matrix,
    rot6d_to_matrix,
)

FEATURE_DIM = 3 + NUM_JOINTS * 6
"""Per-frame feature size: root translation (3, metres) + 24 rotations as 6D (global orient
first, then the 23 body joints in SMPL order), 147 in all."""

FEATURE_LAYOUT: dict[str, slice] = {
    "transl": slice(0, 3),
    "global_orient_6d": slice(3, 9),
    "body_pose_6d": slice(9, FEATURE_DIM),
}
"""Named slices of the feature vector."""

MOTION_FILE_VERSION = 1


class MotionError(ValueError):
    """A Motion (or a motion file) is malformed; the message says which field and why."""


@dataclass(eq=False)
class Motion:
    """One person's motion.

    fps: frames per second (> 0).
    transl: (T, 3) SMPL root translation, metres, world frame (z up). The pelvis is at
        ``transl + skeleton.offsets[0]`` (SMPL's convention: the root rotates about the pelvis).
    global_orient: (T, 3, 3) pelvis rotation, body frame -> world.
    body_pose: (T, 23, 3, 3) each joint's rotation relative to its parent, SMPL order (joints 1..23).
    betas: (10,) body shape (navenv's basis for builtin skeletons, SMPL's for SMPL files).
    """

    fps: float
    transl: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    betas: np.ndarray

    def __post_init__(self) -> None:
        self.transl = _field(self.transl, "transl", (None, 3))
        t = self.transl.shape[0]
        self.global_orient = _field(self.global_orient, "global_orient", (t, 3, 3))
        self.body_pose = _field(self.body_pose, "body_pose", (t, NUM_BODY_JOINTS, 3, 3))
        betas = np.asarray(self.betas, dtype=np.float64).reshape(-1)
        if betas.shape[0] < NUM_BETAS:
            betas = np.pad(betas, (0, NUM_BETAS - betas.shape[0]))
        self.betas = _field(betas[:NUM_BETAS], "betas", (NUM_BETAS,))
        if not (
            isinstance(self.fps, int | float | np.floating | np.integer)
            and np.isfinite(self.fps)
            and self.fps > 0
        ):
            raise MotionError(f"fps: expected a positive finite number, got {self.fps!r}")
        self.fps = float(self.fps)
        if t == 0:
            raise MotionError("transl: a motion needs at least one frame, got 0")
        for name in ("global_orient", "body_pose"):
            ok = is_rotation(getattr(self, name), tol=1e-3)
            if not ok.all():
                bad = np.argwhere(~ok)[0]
                raise MotionError(
                    f"{name}: not a rotation matrix at index {tuple(int(i) for i in bad)} "
                    "(expected orthonormal with det +1, tolerance 1e-3)"
                )

    # ------------------------------------------------------------------ basic properties
    def __len__(self) -> int:
        return self.transl.shape[0]

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return len(self)

    @property
    def duration(self) -> float:
        """Duration in seconds, (T - 1) / fps."""
        return (len(self) - 1) / self.fps

    @property
    def rotations(self) -> np.ndarray:
        """(T, 24, 3, 3) all joint rotations, global orient first."""
        return np.concatenate([self.global_orient[:, None], self.body_pose], axis=1)

    # ------------------------------------------------------------------ features
    def to_features(self, dtype=np.float32) -> np.ndarray:
        """(T, 147) per-frame features: transl (3) then 24 x 6D rotations (see FEATURE_LAYOUT)."""
        rot6d = matrix_to_rot6d(self.rotations).reshape(len(self), NUM_JOINTS * 6)
        return np.concatenate([self.transl, rot6d], axis=1).astype(dtype)

    @classmethod
    def from_features(cls, features: np.ndarray, fps: float, betas=None) -> Motion:
        """Inverse of `to_features`; 6D rotations are projected onto rotations by Gram-Schmidt."""
        f = np.asarray(features, dtype=np.float64)
        if f.ndim != 2 or f.shape[1] != FEATURE_DIM:
            raise MotionError(f"features: expected (T, {FEATURE_DIM}), got {f.shape}")
        if not np.isfinite(f).all():
            raise MotionError(
                f"features: non-finite values at rows {np.unique(np.argwhere(~np.isfinite(f))[:, 0])[:10].tolist()}"
            )
        rots = rot6d_to_matrix(f[:, 3:].reshape(-1, NUM_JOINTS, 6))
        return cls(
            fps=fps,
            transl=f[:, :3],
            global_orient=rots[:, 0],
            body_pose=rots[:, 1:],
            betas=np.zeros(NUM_BETAS) if betas is None else betas,
        )

    # ------------------------------------------------------------------ editing
    def slice(self, start: int, stop: int | None = None, step: int = 1) -> Motion:
        """Frames [start:stop:step] as a new Motion (fps divided by step)."""
        sl = slice(start, stop, step)
        if len(range(*sl.indices(len(self)))) == 0:
            raise MotionError(
                f"slice({start}, {stop}, {step}) of a {len(self)}-frame motion is empty"
            )
        return Motion(
            fps=self.fps / step,
            transl=self.transl[sl].copy(),
            global_orient=self.global_orient[sl].copy(),
            body_pose=self.body_pose[sl].copy(),
            betas=self.betas.copy(),
        )

    def resample(self, fps: float) -> Motion:
        """The motion at a new frame rate: linear in translation, slerp in rotation."""
        if not (np.isfinite(fps) and fps > 0):
            raise MotionError(f"resample: fps must be positive, got {fps!r}")
        n_new = max(1, int(np.floor(self.duration * fps + 1e-9)) + 1)
        t_new = np.arange(n_new) / fps * self.fps  # in source frame units
        i0 = np.clip(np.floor(t_new).astype(int), 0, len(self) - 1)
        i1 = np.clip(i0 + 1, 0, len(self) - 1)
        w = t_new - i0
        transl = self.transl[i0] * (1 - w)[:, None] + self.transl[i1] * w[:, None]
        q = matrix_to_quat(self.rotations)  # (T, 24, 4)
        qi = quat_slerp(q[i0], q[i1], np.broadcast_to(w[:, None], (n_new, NUM_JOINTS)))
        rots = quat_to_matrix(qi)
        return Motion(fps, transl, rots[:, 0], rots[:, 1:], self.betas.copy())

    @staticmethod
    def concatenate(motions: list[Motion]) -> Motion:
        """Frames of several motions (same fps) one after the other."""
        if not motions:
            raise MotionError("concatenate: no motions given")
        fps = motions[0].fps
        if any(abs(m.fps - fps) > 1e-9 for m in motions):
            raise MotionError(f"concatenate: fps differ: {[m.fps for m in motions]}")
        return Motion(
            fps,
            np.concatenate([m.transl for m in motions]),
            np.concatenate([m.global_orient for m in motions]),
            np.concatenate([m.body_pose for m in motions]),
            motions[0].betas.copy(),
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write an .npz (no pickles) atomically; returns the path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    version=np.int64(MOTION_FILE_VERSION),
                    fps=np.float64(self.fps),
                    transl=self.transl,
                    global_orient=self.global_orient,
                    body_pose=self.body_pose,
                    betas=self.betas,
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Motion:
        """Read a Motion .npz written by `save` (pickles are refused)."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = {"version", "fps", "transl", "global_orient", "body_pose", "betas"} - set(
                    z.files
                )
                if missing:
                    raise MotionError(f"{path}: missing arrays {sorted(missing)}")
                version = int(z["version"])
                if version != MOTION_FILE_VERSION:
                    raise MotionError(
                        f"{path}: version {version}, this navenv reads {MOTION_FILE_VERSION}"
                    )
                fields = {k: z[k] for k in ("transl", "global_orient", "body_pose", "betas")}
                fps = float(z["fps"])
        except MotionError:
            raise
        except (OSError, ValueError, EOFError) as e:  # bad zip, pickled arrays, truncated file
            raise MotionError(f"{path}: not a readable motion .npz ({e})") from e
        try:
            return cls(fps=fps, **fields)
        except MotionError as e:
            raise MotionError(f"{path}: {e}") from e

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Motion):
            return NotImplemented
        return self.fps == other.fps and all(
            np.array_equal(getattr(self, k), getattr(other, k))
            for k in ("transl", "global_orient", "body_pose", "betas")
        )


def _field(value, name: str, shape: tuple) -> np.ndarray:
    """Validate one array field: float64, expected shape (None = any), finite."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise MotionError(f"{name}: not a numeric array ({e})") from e
    if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
        want = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
        raise MotionError(f"{name}: expected shape {want}, got {a.shape}")
    if not np.isfinite(a).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise MotionError(f"{name}: NaN or inf at index {idx}")
    return a
