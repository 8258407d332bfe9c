"""A room compiled for RoomNav: the MuJoCo world (humanoid + observer), its navigation grid and
occupancy map, computed once per scene and cached by the env."""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

from navenv.body.rotations import matrix_to_quat
from navenv.body.skeleton import Skeleton
from navenv.envs.room.config import RoomConfig
from navenv.envs.room.occupancy import OccupancyMap
from navenv.humanoid import names
from navenv.humanoid.builder import HUMANOID_BIT, SCENE_BIT
from navenv.humanoid.index import HumanoidIndex
from navenv.world import compose_world
from scenes.navigation import GOAL_LABELS, DistanceField, NavGrid, approach_points, geodesic_field
from scenes.types import Region, Scene

DEFAULT_SCENE = "room_01"
OBSERVER_BODY = "observer"
OBSERVER_CAMERA = "observer_cam"
OBSERVER_EYE_M = 1.55  # camera height of the observer
OBSERVER_PITCH_DEG = 18.0  # camera tilt down: a 0.9 m pelvis 2 m away is in the middle
ROOM_TOP_M = 2.2  # kinematic root boxes reach this high


def resolve_scene(scene) -> Scene:
    """A room Scene from a Scene, a SceneSpec, a builtin id, a split name or a path (None: room_01)."""
    import scenes

    s = scenes.resolve(DEFAULT_SCENE if scene is None else scene)
    if s.kind != "room":
        raise ValueError(f"scene {s.name!r} is a {s.kind!r}; RoomNav needs a room")
    if s.walkable is None:
        raise ValueError(f"scene {s.name!r} has no walkable grid; RoomNav needs one")
    return s


@dataclass(eq=False)
class Goal:
    """A goal the agent can be sent to: a labelled region and where to stand to use it."""

    index: int  # index into scene.regions
    region: Region
    label_id: int  # index into GOAL_LABELS
    approach: np.ndarray  # (N, 2) walkable points within reach of the region
    field: DistanceField | None = None  # geodesic distance to `approach`, computed on first use


@dataclass(eq=False)
class RoomWorld:
    """Scene + humanoid + observer compiled, with the lookup tables the env needs every step."""

    scene: Scene
    model: mujoco.MjModel
    data: mujoco.MjData
    index: HumanoidIndex
    nav: NavGrid
    occupancy: OccupancyMap
    goals: list[Goal]
    is_floor: np.ndarray  # (ngeom,) bool
    is_humanoid: np.ndarray  # (ngeom,) bool: the agent's own geoms
    is_non_foot: np.ndarray  # (ngeom,) bool: humanoid geoms that must not touch the floor
    is_obstacle: np.ndarray  # (ngeom,) bool: colliding scene geoms but floors, and the observer
    observer_mocap: int  # mocap index of the observer body
    observer_body: int
    body_weight: float  # N
    room_box: tuple[np.ndarray, np.ndarray]  # centre (3,), half extents (3,), metres
    _fields: dict = field(default_factory=dict)

    def goal_field(self, goal: Goal) -> DistanceField:
        """Geodesic distance to the goal's approach points (computed once per goal)."""
        if goal.field is None:
            goal.field = geodesic_field(self.nav, goal.approach)
        return goal.field


def _add_observer(spec: mujoco.MjSpec, fovy_deg: float) -> None:
    """A mocap person with a camera: torso capsule, head, camera held at eye height."""
    body = spec.worldbody.add_body(name=OBSERVER_BODY, mocap=True)
    skin = [0.35, 0.45, 0.75, 1.0]
    for name, gtype, size, pos in (
        ("observer_torso", mujoco.mjtGeom.mjGEOM_CAPSULE, [0.17, 0.55, 0], [0, 0, 0.85]),
        ("observer_head", mujoco.mjtGeom.mjGEOM_SPHERE, [0.11, 0, 0], [0, 0, 1.62]),
        ("observer_device", mujoco.mjtGeom.mjGEOM_BOX, [0.07, 0.02, 0.05], [0, -0.25, 1.45]),
    ):
        g = body.add_geom(name=name, type=gtype, size=size, pos=pos, rgba=skin)
        g.contype, g.conaffinity = SCENE_BIT, HUMANOID_BIT  # the agent bumps into the observer
    # Camera frame (x, y, z) in the body frame: looks along body -y (the rest facing), y up,
    # tilted down by the pitch about its x axis.
    p = np.deg2rad(OBSERVER_PITCH_DEG)
    look = np.array([0.0, -np.cos(p), -np.sin(p)])
    up = np.array([0.0, -np.sin(p), np.cos(p)])
    cam_rot = np.column_stack([np.cross(up, -look), up, -look])
    body.add_camera(
        name=OBSERVER_CAMERA,
        pos=[0.0, -0.27, OBSERVER_EYE_M],
        quat=matrix_to_quat(cam_rot).tolist(),
        fovy=fovy_deg,
    )


def compile_room(scene: Scene, skeleton: Skeleton, config: RoomConfig) -> RoomWorld:
    """Compile scene + humanoid + observer and derive the navigation and occupancy tables."""
    spec = compose_world(scene, skeleton, grips=False, timestep=1.0 / config.physics_hz)
    _add_observer(spec, config.ego_fovy_deg)
    model = spec.compile()
    data = mujoco.MjData(model)
    index = HumanoidIndex.from_model(model)
    geom = mujoco.mjtObj.mjOBJ_GEOM
    is_floor = (model.geom_type == mujoco.mjtGeom.mjGEOM_PLANE) & (model.geom_bodyid == 0)
    for i in range(model.ngeom):
        if (mujoco.mj_id2name(model, geom, i) or "").startswith("floor"):
            is_floor[i] = True
    feet = {index.bodies[names.BODY_NAMES.index(b)] for b in names.FEET_BODIES}
    is_humanoid = np.isin(np.arange(model.ngeom), index.geoms)
    is_non_foot = is_humanoid & ~np.isin(model.geom_bodyid, list(feet))
    observer_body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, OBSERVER_BODY)
    collides = (model.geom_contype != 0) | (model.geom_conaffinity != 0)
    is_obstacle = collides & ~is_humanoid & ~is_floor
    nav = NavGrid.from_scene(scene)
    goals = []
    for i, region in enumerate(scene.regions):
        if region.label not in GOAL_LABELS:
            continue
        pts = approach_points(region, nav, reach=config.approach_reach)
        if len(pts):
            goals.append(Goal(i, region, GOAL_LABELS.index(region.label), pts))
    if not goals:
        raise ValueError(f"scene {scene.name!r}: no region has a walkable approach; no goals")
    lo = nav.origin - config.root_margin
    hi = nav.origin + np.array(nav.mask.shape[::-1]) * nav.cell + config.root_margin
    lo3, hi3 = np.array([*lo, 0.0]), np.array([*hi, ROOM_TOP_M])
    return RoomWorld(
        scene=scene,
        model=model,
        data=data,
        index=index,
        nav=nav,
        occupancy=OccupancyMap.from_scene(scene, margin=config.crop_cells * config.crop_cell_m),
        goals=goals,
        is_floor=is_floor,
        is_humanoid=is_humanoid,
        is_non_foot=is_non_foot,
        is_obstacle=is_obstacle,
        observer_mocap=int(model.body_mocapid[observer_body]),
        observer_body=observer_body,
        body_weight=float(model.body_subtreemass[index.bodies[0]] * -model.opt.gravity[2]),
        room_box=((lo3 + hi3) / 2, (hi3 - lo3) / 2),
    )
