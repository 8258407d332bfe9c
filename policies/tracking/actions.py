"""ClimbRoute actions from poses, through the env's action layout (navenv.envs.climb.layout).

Hinge targets are normalised over each hinge's range (-1 = min, +1 = max), grip channels are +1
(close) or -1 (open); the physics action adds the normalised residual root wrench with
assist="residual", the kinematic action the root position over the climb box and its rotation
as 6D.
"""

from __future__ import annotations

import numpy as np

from navenv.body.rotations import matrix_to_rot6d, quat_to_matrix
from navenv.envs.climb.layout import CONTROL_MODES, action_layout, action_modes
from navenv.envs.layout import VectorLayout
from navenv.humanoid.index import HumanoidIndex

KINEMATIC = action_layout("kinematic", "none")
"""The layout kinematic_action fills."""


def normalised_hinges(angles: np.ndarray, hinge_range: np.ndarray) -> np.ndarray:
    """Hinge angles (..., 69) rad as hinge targets in [-1, 1] over `hinge_range` (69, 2)."""
    lo, hi = hinge_range[:, 0], hinge_range[:, 1]
    return 2.0 * (angles - lo) / (hi - lo) - 1.0


def grip_channels(grips: np.ndarray) -> np.ndarray:
    """Grip channels (..., 4): +1 where `grips` is true (close), -1 elsewhere (open)."""
    return np.where(grips, 1.0, -1.0)


def physics_action(
    layout: VectorLayout,
    targets: np.ndarray,
    hinge_range: np.ndarray,
    grips: np.ndarray,
    wrench: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The control="physics" action (float32, clipped to [-1, 1]) of `layout`: hinge `targets`
    (69,) rad, `grips` (4,) bool and, when the layout has assist channels, the residual `wrench`
    (force, torque) already normalised by the env's assist limits."""
    parts = {
        "hinge_targets": normalised_hinges(targets, hinge_range),
        "grips": grip_channels(grips),
    }
    if "assist_force" in layout:
        if wrench is None:
            raise ValueError("physics_action: this action layout needs the residual wrench")
        parts["assist_force"], parts["assist_torque"] = wrench
    return np.clip(layout.join(np.float64, **parts), -1.0, 1.0).astype(np.float32)


def kinematic_action(
    qpos: np.ndarray,
    grips: np.ndarray,
    index: HumanoidIndex,
    climb_box: tuple[np.ndarray, np.ndarray],
    hinge_range: np.ndarray | None = None,
) -> np.ndarray:
    """The control="kinematic" action that puts the humanoid at `qpos` with grip channels
    `grips` (4,) bool: hinges normalised over `hinge_range` (default the index's), grips, root
    position over the climb box (centre, half extents), root orientation as 6D."""
    root = qpos[index.root_qpos]
    return pose_actions(
        qpos[index.hinge_qpos],
        grips,
        root[:3],
        root[3:],
        hinge_range=index.hinge_range if hinge_range is None else hinge_range,
        climb_box=climb_box,
    )


def pose_actions(
    hinges: np.ndarray,
    grips: np.ndarray,
    root_pos: np.ndarray,
    root_quat: np.ndarray,
    *,
    hinge_range: np.ndarray,
    climb_box: tuple[np.ndarray, np.ndarray],
    inside_box: bool = True,
) -> np.ndarray:
    """control="kinematic" actions (..., size) float32 of poses: hinge angles (..., 69) rad,
    grips (..., 4) bool, root position (..., 3) m and quaternion (..., 4, w x y z). A root
    outside the climb box is an error when `inside_box`, else clipped to its face."""
    centre, half = climb_box
    position = (root_pos - centre) / half
    if inside_box and np.abs(position).max() > 1.0:
        raise ValueError(
            f"kinematic_action: root position {root_pos} is outside the climb box "
            f"(centre {centre}, half extents {half})"
        )
    out = KINEMATIC.join(
        np.float64,
        hinge_targets=normalised_hinges(hinges, hinge_range),
        grips=grip_channels(grips),
        root_position=position,
        root_rot6d=matrix_to_rot6d(quat_to_matrix(root_quat)),
    )
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def resolve_modes(control: str | None, assist: str | None, action_space) -> tuple[str, str]:
    """(control, assist) of a policy: the arguments, else what the action space's size names
    (navenv.envs.climb.layout.action_modes), else kinematic; assist defaults to residual for
    physics. A pair that contradicts the action space is an error."""
    inferred = None
    if action_space is not None:
        try:
            inferred = action_modes(int(np.prod(action_space.shape)))
        except ValueError as e:
            raise ValueError(f"action_space: {e}") from None
    if control is None:
        control = inferred[0] if inferred else "kinematic"
    if control not in CONTROL_MODES:
        raise ValueError(f"control={control!r}: expected one of {CONTROL_MODES}")
    if assist is None:
        if inferred and inferred[0] == control:
            assist = inferred[1]
        else:
            assist = "residual" if control == "physics" else "none"
    if inferred is not None and inferred != (control, assist):
        raise ValueError(
            f"control={control!r}, assist={assist!r} do not match the action space "
            f"({inferred[0]!r}, {inferred[1]!r})"
        )
    return control, assist


__all__ = [
    "KINEMATIC",
    "grip_channels",
    "kinematic_action",
    "normalised_hinges",
    "physics_action",
    "pose_actions",
    "resolve_modes",
]
