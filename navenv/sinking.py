"""How deep the humanoid sinks into the scene or itself, including limbs that went right through.

MuJoCo's contacts measure most penetration, but its capsule-box and capsule-mesh tests report a
thigh that passed through a 10 cm wall panel, the knee out the back, as a graze of a few mm: the
capsule's axis crosses the box and no face is deeply inside. `DepthGauge` adds a ray test on a
model of the scene alone (`SceneRays`): for each bone (a body's joint to its child's joint), a ray
from each end toward the other; when both hit and the hits are not the same point, the bone runs
through solid between them, and that stretch counts as depth. Contact depths come from
`navenv.penetration`, the one place depth is defined.
"""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.penetration import deepest_penetration
from navenv.world import scene_spec
from scenes.types import Scene

SURFACE_GROUPS = np.array([1, 0, 0, 0, 0, 0], np.uint8)  # geom group 0: wall, volumes, floor
THROUGH_COS = -0.5  # entry and exit faces this opposed: the bone went through, not past a corner
RAY_START_M = 2.0  # rays for depth behind a point start this far out, outside every volume


class SceneRays:
    """Rays against the scene's wall, volumes and floor (a model of the scene alone, so they
    never hit the climber; holds are left out)."""

    def __init__(self, scene: Scene | mujoco.MjModel) -> None:
        """`scene` is compiled alone here; a model passed instead is used as it is (it must
        hold nothing but the scene's surfaces in geom group 0)."""
        self.model = scene if isinstance(scene, mujoco.MjModel) else scene_spec(scene).compile()
        self.data = mujoco.MjData(self.model)
        mujoco.mj_kinematics(self.model, self.data)
        self._geom = np.zeros(1, np.int32)

    def ray(self, start: np.ndarray, way: np.ndarray, normal: np.ndarray | None = None) -> float:
        """Distance (m) from `start` along the unit vector `way` to the first surface, or -1;
        writes the surface normal there into `normal` when given."""
        return mujoco.mj_ray(
            self.model, self.data, start, way, SURFACE_GROUPS, 1, -1, self._geom, normal
        )

    def depth(self, point: np.ndarray, normal: np.ndarray) -> float:
        """Distance (m) from `point` to the surface behind it along -normal (inf if none)."""
        t = self.ray(point + normal * RAY_START_M, -normal)
        return np.inf if t < 0 else t - RAY_START_M


class DepthGauge:
    """How deep a configuration sinks (m): its deepest contact involving a geom flagged in
    `own` (the humanoid's, (ngeom,) bool) and, with `rays`, the longest stretch of a bone inside
    a wall, floor or volume it passes right through (see the module docstring)."""

    def __init__(
        self, model: mujoco.MjModel, own: np.ndarray, rays: SceneRays | None = None
    ) -> None:
        self.model, self.own, self.rays = model, own, rays
        bodies = np.zeros(model.nbody, bool)
        bodies[model.geom_bodyid[own]] = True
        children = np.flatnonzero(bodies & bodies[model.body_parentid])
        self.bones = np.stack([model.body_parentid[children], children], axis=1)  # (B, 2)

    def __call__(self, data: mujoco.MjData) -> float:
        """Depth (m) of data's configuration (after mj_kinematics)."""
        depth = deepest_penetration(self.model, data, self.own)
        return depth if self.rays is None else max(depth, self.pierce(data))

    def pierce(self, data: mujoco.MjData) -> float:
        """Longest stretch (m) of a bone through a panel: between where it enters a scene
        surface and where it leaves by a face turned the other way (a bone with one end inside
        a volume hits the same face from both ends, one cutting a box's corner leaves by a side
        face: the contacts measure those)."""
        deepest = 0.0
        n_in, n_out = np.zeros(3), np.zeros(3)
        for parent, child in self.bones:
            a, b = data.xpos[parent], data.xpos[child]
            length = float(np.linalg.norm(b - a))
            if length < 1e-6:
                continue
            way = (b - a) / length
            t_in = self.rays.ray(a, way, n_in)
            if not 0.0 <= t_in < length:
                continue
            t_out = self.rays.ray(b, -way, n_out)
            if t_out >= 0.0 and float(n_in @ n_out) < THROUGH_COS:
                deepest = max(deepest, length - t_in - t_out)
        return deepest
