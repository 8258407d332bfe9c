"""Why no route could be set on an imported wall, in numbers, and what to try.

`import_mesh` must not hand back a climbing wall no env can climb without saying so: when
`set_routes` sets none, `diagnose` measures the holds against the climber (how many, how many
a climber standing on the floor can touch, how far apart against the reach, how tall the wall
is at the scale it was read at) and `no_routes` raises `NoRoutesError` with those numbers, or
with `allow_no_routes=True` warns (`NoRoutesWarning`) and records the message in the scene.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import scipy.spatial

from scenes.errors import NoRoutesError, NoRoutesWarning
from scenes.orientation import BOULDER_M, WALL_UNITS
from scenes.reach import DEFAULT_CLIMBER, ClimberDims
from scenes.types import Hold

START_FEET_M = (0.1, 0.75)
"""Heights above the floor where the route setter looks for start footholds."""


def diagnose(
    holds: Sequence[Hold],
    wall_height_m: float,
    scale: float,
    *,
    floor_z: float = 0.0,
    climber: ClimberDims = DEFAULT_CLIMBER,
) -> dict:
    """The numbers behind a failed route setting (metres; JSON-compatible)."""
    z = np.array([h.position[2] for h in holds]) - floor_z if holds else np.zeros(0)
    hand = np.array([h.kind != "foothold" for h in holds], bool)
    hs = climber.shoulder_height
    touch = hs + climber.hand_reach
    spacing = None
    pos = np.array([h.position for h in holds])[hand] if hand.any() else np.zeros((0, 3))
    if len(pos) >= 2:
        d, _ = scipy.spatial.cKDTree(pos).query(pos, k=2)
        spacing = round(float(np.median(d[:, 1])), 3)
    unit = next((name for u, name in WALL_UNITS if abs(u - scale) < 1e-12), None)
    return {
        "holds_placed": len(holds),
        "hand_holds": int(hand.sum()),
        "holds_reachable": int((z <= touch).sum()),
        "standing_reach_m": round(touch, 3),
        "start_hand_holds": int((hand & (z >= hs - 0.3) & (z <= hs + 0.35)).sum()),
        "start_footholds": int(((z >= START_FEET_M[0]) & (z <= START_FEET_M[1])).sum()),
        "hand_spacing_m": spacing,
        "arm_length_m": round(climber.arm_length, 3),
        "wall_height_m": round(float(wall_height_m), 3),
        "scale": float(scale),
        "unit": unit,
    }


def _hints(d: dict) -> list[str]:
    """What to try, from the numbers of `diagnose`."""
    out = []
    h, s = d["wall_height_m"], d["scale"]
    if d["holds_placed"] == 0:
        out.append("no holds were found or placed; try holds='generate'")
    if h > BOULDER_M[1]:
        alt = [
            f"in {name} (scale={u:g}) it would be {h / s * u:.2f} m"
            for u, name in WALL_UNITS
            if BOULDER_M[0] <= h / s * u <= BOULDER_M[1] and u != s
        ]
        out.append(
            f"a route must climb to the top, and {h:.2f} m is taller than a bouldering wall "
            f"(at most ~5 m)" + (f"; if the file is not in metres: {', '.join(alt)}" if alt else "")
        )
    if d["hand_spacing_m"] is not None and d["hand_spacing_m"] > d["arm_length_m"]:
        out.append(
            f"hand holds {d['hand_spacing_m']:.2f} m apart are further than the climber's "
            f"{d['arm_length_m']:.2f} m arm: the scale may be too large (try scale='auto')"
        )
    if 0 < h < BOULDER_M[0]:
        out.append(f"{h:.2f} m is too short for a route; the scale may be too small")
    if d["holds_placed"] and (d["start_hand_holds"] == 0 or d["start_footholds"] == 0):
        out.append("no holds at the start heights")
    return out or ["the route setter found no sequence of reachable moves to the top"]


def message(d: dict, what: str = "the wall") -> str:
    """One paragraph with every number of `diagnose` and the hints."""
    spacing = "n/a" if d["hand_spacing_m"] is None else f"{d['hand_spacing_m']:.2f} m"
    unit = f" ({d['unit']})" if d["unit"] else ""
    return (
        f"no route could be set on {what}: {d['holds_placed']} holds placed "
        f"({d['hand_holds']} hand holds), {d['holds_reachable']} within reach of a climber "
        f"standing on the floor (up to {d['standing_reach_m']:.2f} m; {d['start_hand_holds']} "
        f"hand holds at start height, {d['start_footholds']} at 0.10-0.75 m for the feet); "
        f"median hand-hold spacing {spacing} vs the climber's reach (arm "
        f"{d['arm_length_m']:.2f} m); wall {d['wall_height_m']:.2f} m tall at scale "
        f"{d['scale']:g}{unit}. Likely: " + "; ".join(_hints(d)) + ". Pass "
        "allow_no_routes=True to import it anyway."
    )


def no_routes(file: str, d: dict, allow: bool, fixes: list[str], what: str = "the wall") -> None:
    """Raise `NoRoutesError` for `file` (or, with `allow`, warn and note it in `fixes`)."""
    text = message(d, what)
    if not allow:
        raise NoRoutesError(text, file=file, diagnosis=d)
    fixes.append(f"warning: {text}")
    warnings.warn(f"{file}: {text}", NoRoutesWarning, stacklevel=4)
