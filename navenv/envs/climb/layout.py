"""ClimbRoute-v0's action and observation layouts (see navenv.envs.layout for the classes).

Actions, Box(-1, 1), by (control, assist):
    hinge_targets 69 | grips 4                                     physics, assist="none"
    hinge_targets 69 | grips 4 | assist_force 3 | assist_torque 3  physics, assist="residual"
    hinge_targets 69 | grips 4 | root_position 3 | root_rot6d 6    kinematic
Observations: obs="ego" is a dict (ego_rgb, [ego_depth], proprio, route); obs="state" is the flat
vector proprio | route. proprio and route fields are named below; route rows have named columns.

    from navenv.envs.climb.layout import action_layout
    a = action_layout("physics", "none").join(hinge_targets=q, grips=[1, 1, 1, 1])
"""

from __future__ import annotations

import numpy as np

from navenv.envs.layout import (
    ASSIST_MODES,
    CONTROL_MODES,
    Field,
    ObsLayout,
    VectorLayout,
    humanoid_action_layout,
)
from navenv.envs.proprio import BODY_FIELDS
from navenv.humanoid.names import LIMBS

OBS_MODES: tuple[str, ...] = ("ego", "state")

_LIMB_COLUMNS = {limb: slice(i, i + 1) for i, limb in enumerate(LIMBS)}

PROPRIO = VectorLayout(
    [
        *BODY_FIELDS,
        (
            "grips",
            4,
            0.0,
            1.0,
            "",
            "1 = gripping (left hand, right hand, left foot, right foot)",
            _LIMB_COLUMNS,
        ),
    ]
)
"""The proprioception vector (152 values)."""

HOLD_COLUMNS = {
    "position": slice(0, 3),
    "normal": slice(3, 6),
    "size": slice(6, 7),
    "is_top": slice(7, 8),
}
"""Columns of a route hold row: position (m, pelvis frame), outward normal, size (m), is_top."""
LIMB_COLUMNS = {
    "site": slice(0, 3),
    "gripping": slice(3, 4),
    "hold": slice(4, 5),
    "to_target": slice(5, 8),
}
"""Columns of a limb row: grip site (m, pelvis frame), gripping, route position of its hold
(i / (R - 1), -1 on none), vector to its next target hold (m, pelvis frame)."""


def route_layout(lookahead: int) -> VectorLayout:
    """The route observation for `lookahead` holds ahead: holds (K, 8) then limbs (4, 8)."""
    if lookahead < 1:
        raise ValueError(f"lookahead={lookahead}: expected >= 1")
    return VectorLayout(
        [
            (
                "holds",
                (lookahead, len_cols(HOLD_COLUMNS)),
                -np.inf,
                np.inf,
                "m",
                "the next K hand holds after the furthest reached (the top repeats)",
                HOLD_COLUMNS,
            ),
            (
                "limbs",
                (len(LIMBS), len_cols(LIMB_COLUMNS)),
                -np.inf,
                np.inf,
                "m",
                "per limb (names.LIMBS order)",
                LIMB_COLUMNS,
            ),
        ]
    )


def len_cols(columns: dict[str, slice]) -> int:
    """Width of a row with these columns."""
    return max(s.stop for s in columns.values())


def action_layout(control: str = "physics", assist: str = "none") -> VectorLayout:
    """The action layout of ClimbRoute-v0 made with `control` and `assist`."""
    grips = (
        (
            "grips",
            4,
            -1.0,
            1.0,
            "",
            "> 0 close, <= 0 open (left hand, right hand, left foot, right foot)",
            _LIMB_COLUMNS,
        ),
    )
    return humanoid_action_layout(control, assist, "climb_box", grips)


def action_modes(size: int) -> tuple[str, str]:
    """(control, assist) of the ClimbRoute action layout with `size` values."""
    for control in CONTROL_MODES:
        for assist in ASSIST_MODES:
            if control == "kinematic" and assist != "none":
                continue
            if action_layout(control, assist).size == size:
                return control, assist
    sizes = sorted(
        {
            action_layout(*m).size
            for m in (("physics", "none"), ("physics", "residual"), ("kinematic", "none"))
        }
    )
    raise ValueError(f"{size} values is no ClimbRoute-v0 action layout; accepted sizes {sizes}")


def obs_layout(
    obs: str = "ego",
    lookahead: int = 4,
    ego_frames: int = 4,
    height: int = 64,
    width: int = 64,
    ego_depth: bool = False,
) -> ObsLayout:
    """The observation layout of ClimbRoute-v0 made with these settings."""
    if obs not in OBS_MODES:
        raise ValueError(f"obs={obs!r}: expected one of {OBS_MODES}")
    groups = {"proprio": PROPRIO, "route": route_layout(lookahead)}
    if obs == "state":
        return ObsLayout(groups, flat=True)
    images = {"ego_rgb": (ego_frames, height, width, 3)}
    if ego_depth:
        images["ego_depth"] = (ego_frames, height, width)
    return ObsLayout(groups, images)


__all__ = [
    "ASSIST_MODES",
    "CONTROL_MODES",
    "HOLD_COLUMNS",
    "LIMB_COLUMNS",
    "OBS_MODES",
    "PROPRIO",
    "Field",
    "action_layout",
    "action_modes",
    "obs_layout",
    "route_layout",
]
