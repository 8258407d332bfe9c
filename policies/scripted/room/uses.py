"""Where a scripted room agent sits or reaches at its goal: seat heights, spots and targets.

Furniture is boxes (`scenes.room`). A chair box (0.85-0.95 m) or a sofa box (0.75-0.9 m) is the
piece with its back, so its seat is a fraction of its height (`SEAT_FRACTION`) and, the box being
solid, the agent sits with its back against the front face instead of inside the box; a bed's box
(0.45-0.6 m) is its mattress, so the agent sits on its top, hips just over the edge. Tables and
desks are reached on their top near the edge, shelves and wardrobes at their front face at a
drawn height. Every use happens at the face of the footprint nearest to where the agent arrives
(the face an approach point looks at), and only where the floor in front is clear: the spot the
agent stands on keeps `OTHER_CLEAR_M` from other furniture and lies on (or by) the walkable grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from policies.scripted.gait.affordances import sit_back_m
from policies.scripted.gait.library import MotionLibrary
from scenes.navigation import NavGrid, footprint_distance
from scenes.types import Region

# seat height / the box's height: seats are ~0.45 m on 0.9 m chairs and 0.8 m sofas; a bed's
# box is all mattress
SEAT_FRACTION = {"chair": 0.5, "sofa": 0.55, "bed": 1.0}
SEAT_RANGE_M = (0.44, 0.65)  # lower seats drop the pelvis near RoomNav-v0's fall height
# (0.55 m; seated, the pelvis is 0.145 m above the seat); higher ones are not sat on
SURFACES = ("table", "desk")  # reached on the top
FACES = ("shelf", "wardrobe")  # reached at the front
PASSABLE = ("door", "bowl")  # regions that are no obstacle on the floor (a door is drawn only)
BACK_CLEARANCE_M = 0.12  # hips this far in front of a seat's face: the pelvis and chest
# capsules reach 0.10-0.11 m behind the hip joints (navenv.humanoid.tables radii)
SEAT_INSET_M = 0.03  # hips this far over a bed's edge: the thighs rest on the edge
SEAT_CLEARANCE_M = 0.01  # ... sat on this much above its top: a thigh sloping down to the knee
# (high beds) and the idle pose's 1.3 cm lower left hip would dip into the edge
SEAT_END_MARGIN_M = 0.3  # along a sofa or bed, hips keep this far from its ends (chairs: middle)
REACH_STAND_M = 0.35  # a reach is made standing this far from the face: nearer, the hands
# swing into it on the last steps there (toes ~0.2 m off it)
REACH_END_MARGIN_M = 0.15  # a reach keeps this far from the ends of a face (its corners)
TOP_INSET_M = 0.08  # a hand on a top rests this far in from its edge
HAND_ABOVE_M = 0.075  # ... the hand joint this far above it: the fingers, pointing on along
# the forearm (~45 deg down), touch it with their tips
FACE_STANDOFF_M = 0.1  # a hand at a face has its joint this far out: the fingers touch it
FACE_HEIGHT_M = (1.0, 1.4)  # drawn height of a reach at a face (handles, chest-high shelves)
FACE_TOP_MARGIN_M = 0.1  # ... and at least this far below the top of a low one
OTHER_CLEAR_M = 0.15  # the spot and the body's floor keep this far from other furniture
SPOT_SLACK_CELLS = 0.71  # the step there keeps within this many cells of a walkable cell's centre
# (half a diagonal: on a walkable cell, or on the edge of one)
FLOOR_SAMPLES = 6  # points checked along each stretch of floor
TOES_M = 0.15  # how far the feet and knees reach past the spot, sitting or standing


@dataclass(frozen=True)
class Use:
    """A planned use of the goal: stand at xy facing yaw, then sit or reach."""

    kind: str  # "sit" or "reach"
    xy: np.ndarray  # (2,) standing spot
    yaw: float  # heading there (rest faces -y)
    seat_height: float = 0.0  # sit: metres
    target: np.ndarray | None = None  # reach: (3,) world point for the hand joint
    from_above: bool = False  # reach: the hand comes down onto the target


def seat_height(region: Region) -> float | None:
    """Seat height (m) of a region that can be sat on, or None."""
    if region.label not in SEAT_FRACTION:
        return None
    top, fraction = _top(region), SEAT_FRACTION[region.label]
    seat = fraction * top
    if fraction < 1.0:  # a box with a back: its seat is sat on in front of it, at any height
        seat = min(max(seat, SEAT_RANGE_M[0]), SEAT_RANGE_M[1], top)
    return seat if SEAT_RANGE_M[0] <= seat <= SEAT_RANGE_M[1] else None


def _top(region: Region) -> float:
    return float(region.center[2] + region.half_extents[2])


def nearest_face(region: Region, xy, end_margin: float) -> tuple[np.ndarray, np.ndarray]:
    """The point (2,) on the footprint's face nearest to xy, kept end_margin from the face's
    ends (the middle when it is shorter), and that face's outward normal (2,)."""
    c = np.asarray(region.center[:2], float)
    axes = np.array(
        [
            [math.cos(region.yaw), math.sin(region.yaw)],
            [-math.sin(region.yaw), math.cos(region.yaw)],
        ]
    )
    half = np.asarray(region.half_extents[:2], float)
    local = axes @ (np.asarray(xy, float) - c)
    k = int(np.argmax(np.abs(local) - half))  # the axis it is furthest outside along
    j = 1 - k
    side = 1.0 if local[k] >= 0 else -1.0
    room = max(half[j] - end_margin, 0.0)
    point = np.zeros(2)
    point[k], point[j] = side * half[k], np.clip(local[j], -room, room)
    return c + point @ axes, side * axes[k]


def _floor_clear(
    face: np.ndarray, spot: np.ndarray, normal: np.ndarray, xy, goal: Region, regions, nav: NavGrid
) -> bool:
    """Whether the floor the body uses (from the goal's face to the toes in front of the spot,
    and the step there from xy) keeps clear of other furniture, and the step stays on the
    walkable grid (which keeps a body's room from the walls)."""
    toes = spot + normal * TOES_M
    along = np.linspace(0.0, 1.0, FLOOR_SAMPLES)[:, None]
    step = np.asarray(xy, float) + along * (spot - xy)
    points = np.vstack([face + along * (toes - face), step])
    for r in regions:
        if r == goal or r.label in PASSABLE:
            continue
        if (footprint_distance(points, r) < OTHER_CLEAR_M).any():
            return False
    off = np.linalg.norm(nav.nearest_walkable(step) - step, axis=-1)
    return bool((off <= SPOT_SLACK_CELLS * nav.cell).all())


def _yaw(direction: np.ndarray) -> float:
    return math.atan2(direction[0], -direction[1])


def plan_sit(
    goal: Region,
    xy,
    regions,
    nav: NavGrid,
    library: MotionLibrary | None = None,
    *,
    carried_only: bool = False,
) -> Use | None:
    """Where to stand, back to the seat, to sit on the goal from xy (None: no room or no seat).

    carried_only: only where the box's top is the seat (a bed), not in front of a box with a
    back: simulated physics has nothing there to carry the body, which sags and tips back."""
    seat = seat_height(goal)
    if seat is None:
        return None
    on_top = seat >= _top(goal) - 1e-6
    if carried_only and not on_top:
        return None
    margin = math.inf if goal.label == "chair" else SEAT_END_MARGIN_M  # a chair: its middle
    face, normal = nearest_face(goal, xy, margin)
    hips = face + normal * (-SEAT_INSET_M if on_top else BACK_CLEARANCE_M)
    spot = hips + normal * sit_back_m(seat, library=library)
    if not _floor_clear(face, spot, normal, xy, goal, regions, nav):
        return None
    return Use("sit", spot, _yaw(normal), seat_height=seat + (SEAT_CLEARANCE_M if on_top else 0.0))


def plan_reach(goal: Region, xy, regions, nav: NavGrid, rng: np.random.Generator) -> Use | None:
    """Where to stand and what to reach for at the goal from xy (None: nothing or no room)."""
    if goal.label not in SURFACES + FACES:
        return None
    face, normal = nearest_face(goal, xy, REACH_END_MARGIN_M)
    spot = face + normal * REACH_STAND_M
    if not _floor_clear(face, spot, normal, xy, goal, regions, nav):
        return None
    top = _top(goal)
    if goal.label in SURFACES:
        target = np.r_[face - normal * TOP_INSET_M, top + HAND_ABOVE_M]
        return Use("reach", spot, _yaw(-normal), target=target, from_above=True)
    z = min(float(rng.uniform(*FACE_HEIGHT_M)), top - FACE_TOP_MARGIN_M)
    target = np.r_[face + normal * FACE_STANDOFF_M, z]
    return Use("reach", spot, _yaw(-normal), target=target, from_above=False)
