"""RoomNav-v0's action and observation layouts (see navenv.envs.layout for the classes).

Frames: the *heading frame* has its origin on the floor under the pelvis, x along the agent's
facing direction (its yaw, level), y to its left, z up. Yaw is the rotation about z from the rest
orientation, which faces -y (scenes.Spawn's convention), so a yaw psi faces (sin psi, -cos psi).

Actions, Box(-1, 1), by (control, assist):
    hinge_targets 69                                      physics, assist="none"
    hinge_targets 69 | assist_force 3 | assist_torque 3   physics, assist="residual"
    hinge_targets 69 | root_position 3 | root_rot6d 6     kinematic
Observations: obs="ego" is a dict of the vector groups (proprio, goal, gps, observer, past, scene) plus
ego_rgb [ego_depth]; obs="state" is the groups flattened, in that order.
"""

from __future__ import annotations

import numpy as np

from navenv.envs.layout import (
    ObsLayout,
    VectorLayout,
    humanoid_action_layout,
)
from navenv.envs.proprio import BODY_FIELDS
from scenes.navigation import GOAL_LABELS

OBS_MODES: tuple[str, ...] = ("ego", "state")

PROPRIO = VectorLayout(BODY_FIELDS)
"""The proprioception vector (145 values): the body part every env shares."""

POSE_COLUMNS = {"xy": slice(0, 2), "heading": slice(2, 4)}
"""Columns of a trajectory row: position (m, heading frame now) and (cos, sin) of its yaw
relative to the agent's yaw now."""

GOAL = VectorLayout(
    [
        ("goal_position", 3, -np.inf, np.inf, "m", "centre of the goal region, heading frame"),
        ("goal_distance", 1, 0.0, np.inf, "m", "geodesic distance to its approach area"),
        (
            "goal_label",
            len(GOAL_LABELS),
            0.0,
            1.0,
            "",
            "one-hot label, scenes.navigation.GOAL_LABELS order",
        ),
    ]
)


GPS = VectorLayout(
    [
        ("position", 3, -np.inf, np.inf, "m", "pelvis position, scene frame (a GPS)"),
        ("heading", 2, -1.0, 1.0, "", "(cos, sin) of the yaw, scene frame (a compass)"),
        ("orientation", 4, -1.0, 1.0, "", "pelvis quaternion (w, x, y, z), scene frame"),
    ]
)
"""Where the agent is in the scene (Habitat's GPS + compass sensors, absolute in the room)."""


def trajectory_layout(name: str, frames: int, doc: str) -> VectorLayout:
    """A group of one (frames, 4) trajectory field, oldest first, the last frame the newest."""
    return VectorLayout([(name, (frames, 4), -np.inf, np.inf, "m", doc, POSE_COLUMNS)])


def scene_layout(crop: str, cells: int, layers: int) -> VectorLayout:
    """The occupancy crop: (cells, cells) heights or (layers, cells, cells) voxels."""
    if crop == "height":
        shape, unit, doc = (cells, cells), "m", "max obstacle height per cell"
    else:
        shape, unit, doc = (layers, cells, cells), "", "1 where a layer of a cell is occupied"
    return VectorLayout(
        [
            (
                "occupancy",
                shape,
                0.0,
                np.inf,
                unit,
                f"{doc}; ego-centric: rows along heading x (back to front), columns along "
                "heading y (right to left), centred on the pelvis",
            )
        ]
    )


def action_layout(control: str = "kinematic", assist: str = "none") -> VectorLayout:
    """The action layout of RoomNav-v0 made with `control` and `assist`."""
    return humanoid_action_layout(control, assist, "room_box")


def obs_layout(
    obs: str = "ego",
    history_frames: int = 8,
    crop: str = "height",
    crop_cells: int = 64,
    voxel_layers: int = 8,
    ego_frames: int = 4,
    height: int = 64,
    width: int = 64,
    ego_depth: bool = False,
) -> ObsLayout:
    """The observation layout of RoomNav-v0 made with these settings."""
    if obs not in OBS_MODES:
        raise ValueError(f"obs={obs!r}: expected one of {OBS_MODES}")
    groups = {
        "proprio": PROPRIO,
        "goal": GOAL,
        "gps": GPS,
        "observer": trajectory_layout(
            "observer_path", history_frames, "the observer's recent positions and headings"
        ),
        "past": trajectory_layout("past_path", history_frames, "the agent's own recent root path"),
        "scene": scene_layout(crop, crop_cells, voxel_layers),
    }
    if obs == "state":
        return ObsLayout(groups, flat=True)
    images = {"ego_rgb": (ego_frames, height, width, 3)}
    if ego_depth:
        images["ego_depth"] = (ego_frames, height, width)
    return ObsLayout(groups, images)
