"""A scene compiled for ClimbRoute, with everything derived from it computed once.

Compiling a world costs tens of milliseconds and solving a start stance more, so environments that
draw scenes from a split at every reset keep one `CompiledWorld` per scene and one spawn per route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mujoco
import numpy as np

from navenv.body.skeleton import Skeleton
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.observations import RouteView
from navenv.humanoid import names
from navenv.humanoid.index import HumanoidIndex
from navenv.world import HOLD_PREFIX, compose_world
from scenes.types import Route, Scene

DEFAULT_SCENE = "wall_vertical_01"


def resolve_scene(scene) -> Scene:
    """A Scene from a Scene, a split's SceneSpec, a builtin id, a split scene name
    ("train/000"), a path, or None (the default training wall); see `scenes.resolve`."""
    import scenes

    return scenes.resolve(DEFAULT_SCENE if scene is None else scene)


@dataclass(eq=False)
class CompiledWorld:
    """Scene + humanoid compiled, with lookup tables the env needs every step."""

    scene: Scene
    model: mujoco.MjModel
    data: mujoco.MjData
    index: HumanoidIndex
    hold_geoms: np.ndarray  # (H,) geom id of each scene hold, scene.holds order
    hold_slot: dict[str, int]  # hold id -> index in scene.holds
    is_floor: np.ndarray  # (ngeom,) bool
    is_non_foot: np.ndarray  # (ngeom,) bool: humanoid geoms that must not touch the floor
    body_weight: float  # N
    floor_z: float  # height of the highest floor plane, metres
    climb_box: tuple[np.ndarray, np.ndarray]  # centre (3,), half extents (3,), metres
    spawns: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    spawn_error: dict[str, float] = field(default_factory=dict)

    def route_view(self, route: Route, lookahead: int) -> RouteView:
        """Arrays of `route`'s holds and its hand/foot sequences for observations and rewards."""
        holds = self.scene.holds
        slot = self.hold_slot
        hands, feet = limb_sequences(route, {h.id: h.kind for h in holds})
        return RouteView(
            np.array([h.position for h in holds]),
            np.array([h.normal for h in holds]),
            np.array([h.size for h in holds]),
            np.array([slot[h] for h in route.holds]),
            np.array([slot[h] for h in hands]),
            np.array([slot[h] for h in feet]),
            lookahead,
        )

    def climb_box_for(self, route: Route, margin: float) -> tuple[np.ndarray, np.ndarray]:
        """The kinematic root's box for `route`: around its sector's holds on a whole-gym scene
        (a box around a whole room would leave little resolution on one wall), else the
        scene's `climb_box`."""
        if route.sector is None or not self.scene.sectors:
            return self.climb_box
        ids = set(self.scene.sector(route.sector).holds) or set(route.holds)
        pos = np.array([h.position for h in self.scene.holds if h.id in ids])
        lo, hi = pos.min(axis=0) - margin, pos.max(axis=0) + margin
        return (lo + hi) / 2, (hi - lo) / 2

    def start_holds(self, route: Route) -> np.ndarray:
        """(4,) scene hold index each limb starts on (names.LIMBS order), -1 when unspecified."""
        return np.array(
            [self.hold_slot[route.start[l]] if l in route.start else -1 for l in names.LIMBS]
        )

    def spawn_for(self, route: Route, solve: Callable[[], tuple[np.ndarray, np.ndarray, float]]):
        """(qpos, qvel) of the route's start stance, solved once by `solve` and cached."""
        if route.id not in self.spawns:
            qpos, qvel, err = solve()
            self.spawns[route.id] = (qpos.copy(), qvel.copy())
            self.spawn_error[route.id] = err
        qpos, qvel = self.spawns[route.id]
        return qpos.copy(), qvel.copy()


def limb_sequences(route: Route, kinds: dict[str, str]) -> tuple[list[str], list[str]]:
    """Hold ids in the order hands (and feet) take them: start holds, then the route's moves.
    Routes without moves (hand-made, imported): hands take non-footholds, feet footholds, in
    route order."""

    def dedup(ids):
        return list(dict.fromkeys(ids))

    starts_h = [route.start[l] for l in ("left_hand", "right_hand") if l in route.start]
    starts_f = [route.start[l] for l in ("left_foot", "right_foot") if l in route.start]
    if route.moves:
        hands = starts_h + [h for limb, h in route.moves if limb.endswith("hand")]
        feet = starts_f + [h for limb, h in route.moves if limb.endswith("foot")]
    else:
        hands = starts_h + [h for h in route.holds if kinds[h] != "foothold"]
        feet = starts_f + [h for h in route.holds if kinds[h] == "foothold"]
    hands = dedup(hands)
    if route.top in hands:  # the top hold ends the hand sequence
        hands.remove(route.top)
    return [*hands, route.top], dedup(feet)


def compile_world(scene: Scene, skeleton: Skeleton, config: ClimbConfig) -> CompiledWorld:
    """Compile scene + humanoid + grip equalities and derive the lookup tables."""
    if scene.kind != "climbing_wall":
        raise ValueError(
            f"scene {scene.name!r} is a {scene.kind!r}; ClimbRoute needs a climbing_wall"
        )
    if not scene.routes:
        raise ValueError(f"scene {scene.name!r} has no routes to climb")
    model = compose_world(scene, skeleton, timestep=1.0 / config.physics_hz).compile()
    data = mujoco.MjData(model)
    index = HumanoidIndex.from_model(model)
    geom = mujoco.mjtObj.mjOBJ_GEOM
    hold_geoms = np.array(
        [mujoco.mj_name2id(model, geom, HOLD_PREFIX + h.id) for h in scene.holds], dtype=int
    )
    is_floor = (model.geom_type == mujoco.mjtGeom.mjGEOM_PLANE) & (model.geom_bodyid == 0)
    for i in range(model.ngeom):
        name = mujoco.mj_id2name(model, geom, i) or ""
        if name == "floor" or name.startswith("floor"):
            is_floor[i] = True
    feet = {index.bodies[names.BODY_NAMES.index(b)] for b in names.FEET_BODIES}
    is_non_foot = np.isin(np.arange(model.ngeom), index.geoms) & ~np.isin(
        model.geom_bodyid, list(feet)
    )
    pos = np.array([h.position for h in scene.holds])
    lo, hi = (
        pos.min(axis=0) - config.kinematic_root_margin,
        pos.max(axis=0) + config.kinematic_root_margin,
    )
    return CompiledWorld(
        scene=scene,
        model=model,
        data=data,
        index=index,
        hold_geoms=hold_geoms,
        hold_slot={h.id: i for i, h in enumerate(scene.holds)},
        is_floor=is_floor,
        is_non_foot=is_non_foot,
        body_weight=float(model.body_subtreemass[index.bodies[0]] * -model.opt.gravity[2]),
        floor_z=float(model.geom_pos[is_floor, 2].max()) if is_floor.any() else 0.0,
        climb_box=((lo + hi) / 2, (hi - lo) / 2),
    )
