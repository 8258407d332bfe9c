"""The start stance: hands on the route's start holds, feet on its start footholds.

Solved with whole-body IK (navenv.ik) from a climbing posture prior, with the pelvis placed in front
of the start holds and facing the wall.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from navenv.humanoid import names
from navenv.humanoid.index import HumanoidIndex
from navenv.ik import IKConfig, IKResult, SiteTarget, solve_ik
from navenv.sinking import DepthGauge, SceneRays
from navenv.world import HOLD_SHAPES, hold_frame
from scenes.types import Hold, Route, Scene

PELVIS_OFF_WALL = 0.32  # m between the pelvis and the plane of the start holds
LEG_HINGES = ("left_knee_x", "right_knee_x")  # straightened when a bent knee went through a panel
GRIP_CLEARANCE = 0.008  # m between a hold's surface and the limb's grip site

# A climber's resting posture (radians) for the hinges that matter; the rest stay at zero.
CLIMB_POSTURE: dict[str, float] = {
    "left_shoulder_y": -1.1,  # arms raised above the shoulders
    "right_shoulder_y": 1.1,
    "left_shoulder_z": -0.35,  # a little forward, toward the wall
    "right_shoulder_z": 0.35,
    "left_elbow_z": -0.5,
    "right_elbow_z": 0.5,
    "left_hip_x": -0.6,  # hips flexed, knees bent, legs turned out like a frog
    "right_hip_x": -0.6,
    "left_hip_y": -0.35,
    "right_hip_y": 0.35,
    "left_knee_x": 1.0,
    "right_knee_x": 1.0,
    "left_ankle_x": -0.2,
    "right_ankle_x": -0.2,
}


def grip_point(hold: Hold) -> np.ndarray:
    """Where a limb's grip site goes to hold `hold`: just outside its surface along the normal."""
    _, (_, _, sz) = HOLD_SHAPES[hold.kind]
    return np.asarray(hold.position) + np.asarray(hold.normal) * (sz * hold.size + GRIP_CLEARANCE)


def limb_axes(limb: str, normal: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """How a limb holds a hold: the palm toward the wall with the fingers up, or the sole down
    with the toes toward the wall. Pairs of (axis in the limb's frame, world direction)."""
    n = normal / np.linalg.norm(normal)
    if limb.endswith("hand"):
        fingers = np.array(
            [1.0 if limb.startswith("left") else -1.0, 0.0, 0.0]
        )  # T-pose: along +-x
        return [(np.array([0.0, 0.0, -1.0]), -n), (fingers, np.array([0.0, 0.0, 1.0]))]
    toes = np.array([0.0, -1.0, 0.0])  # the foot points along -y (forward)
    wall = -n.copy()
    wall[2] = 0.0  # toes point into the wall horizontally
    wall = (
        wall / np.linalg.norm(wall) if np.linalg.norm(wall) > 1e-6 else np.array([0.0, -1.0, 0.0])
    )
    return [(np.array([0.0, 0.0, -1.0]), np.array([0.0, 0.0, -1.0])), (toes, wall)]


def facing_quat(normal: np.ndarray) -> np.ndarray:
    """Root quaternion (w, x, y, z) that faces a wall with outward normal `normal` (yaw only)."""
    n = np.asarray(normal, dtype=np.float64)
    yaw = math.atan2(-n[0], n[1]) if np.hypot(n[0], n[1]) > 1e-6 else 0.0
    return np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])


def posture_qpos(model: mujoco.MjModel, index: HumanoidIndex) -> np.ndarray:
    """model.qpos0 with CLIMB_POSTURE written into the hinges (clipped to their ranges)."""
    q = model.qpos0.copy()
    for i, hinge in enumerate(names.HINGE_NAMES):
        if hinge in CLIMB_POSTURE:
            lo, hi = index.hinge_range[i]
            q[index.hinge_qpos[i]] = np.clip(CLIMB_POSTURE[hinge], lo, hi)
    return q


def start_stance(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    index: HumanoidIndex,
    scene: Scene,
    route: Route,
    config: IKConfig | None = None,
    rays: SceneRays | None = None,
) -> IKResult:
    """Put the humanoid in `route`'s start stance (data.qpos); returns the IK result.

    `rays`: the scene alone (`navenv.sinking.SceneRays`; built here when not given), to catch a
    limb the reach put right through a panel, which contacts miss (see `_with_straight_legs`)."""
    holds = {limb: scene.hold(route.start[limb]) for limb in names.LIMBS if limb in route.start}
    targets_pos = {limb: grip_point(h) for limb, h in holds.items()}
    for a, b in (("left_hand", "right_hand"), ("left_foot", "right_foot")):
        if a in holds and b in holds and holds[a].id == holds[b].id:  # matched on one hold
            # the hold frame's x axis (up x normal) points to the climber's right
            across = hold_frame(holds[a].normal)[:, 0] * max(0.5 * holds[a].size, 0.05)
            targets_pos[a] = targets_pos[a] - across
            targets_pos[b] = targets_pos[b] + across
    normal = np.mean([h.normal for h in holds.values()], axis=0)
    normal /= np.linalg.norm(normal)
    centre = np.mean(list(targets_pos.values()), axis=0)
    q0 = posture_qpos(model, index)
    root = q0[index.root_qpos]
    root[3:] = facing_quat(normal)
    hands = [targets_pos[l] for l in ("left_hand", "right_hand") if l in targets_pos]
    feet = [targets_pos[l] for l in ("left_foot", "right_foot") if l in targets_pos]
    pelvis_z = centre[2]
    if hands and feet:  # pelvis a bit below the middle between hands and feet, as climbers hang
        pelvis_z = 0.45 * np.mean(hands, axis=0)[2] + 0.55 * np.mean(feet, axis=0)[2]
    root[:3] = [centre[0], centre[1], pelvis_z] + normal * PELVIS_OFF_WALL
    q0[index.root_qpos] = root
    data.qpos[:] = q0
    data.qvel[:] = 0.0
    targets = [
        SiteTarget(
            site=int(index.grip_sites[names.LIMBS.index(limb)]),
            pos=p,
            axes=limb_axes(limb, np.asarray(holds[limb].normal)),
        )
        for limb, p in targets_pos.items()
    ]
    cfg = config or IKConfig(iterations=200)
    result = _reach_then_clear(model, data, index, targets, q0, cfg)
    own = index.geom_mask(model.ngeom)
    gauge = DepthGauge(model, own, rays if rays is not None else SceneRays(scene))
    if gauge(data) > 2.0 * cfg.penetration_tol:
        result = _with_straight_legs(model, data, index, targets, q0, cfg, gauge, result)
    mujoco.mj_forward(model, data)
    return result


def _reach_then_clear(model, data, index, targets, prior, cfg: IKConfig) -> IKResult:
    """IK from `prior` (data.qpos is set to it): reach the holds first, then resolve contacts
    from there (contact rows alone can trap a limb behind the floor or a volume far from its
    target, a local minimum of the joint problem)."""
    data.qpos[:] = prior
    free = IKConfig(**{**vars(cfg), "avoid_contacts": False})
    solve_ik(model, data, targets, posture=prior, config=free, humanoid_geoms=index.geoms)
    return solve_ik(model, data, targets, posture=prior, config=cfg, humanoid_geoms=index.geoms)


def _with_straight_legs(model, data, index, targets, q0, cfg, gauge, first) -> IKResult:
    """The start stance solved again from the prior with its knees straight (LEG_HINGES at 0)
    and drawn toward straight: a bent knee can end up through a thin panel while hip and foot
    stay in front, and a straight leg between two points in front of a plane cannot. Keeps the
    better (depth plus the worst target error) of that and `first`, which data holds on entry."""
    best_q, best = data.qpos.copy(), first
    best_score = gauge(data) + float(first.errors.max(initial=0.0))
    straight = q0.copy()
    for i, hinge in enumerate(names.HINGE_NAMES):
        if hinge in LEG_HINGES:
            straight[index.hinge_qpos[i]] = 0.0
    res = _reach_then_clear(model, data, index, targets, straight, cfg)
    if gauge(data) + float(res.errors.max(initial=0.0)) < best_score:
        return res
    data.qpos[:] = best_q
    mujoco.mj_kinematics(model, data)
    return best
