"""Compile a `scenes.Scene` into a MuJoCo MjSpec (static world only), and compose scene + humanoid.

Everything static collides with the humanoid but not with itself (contype/conaffinity bits from
`navenv.humanoid.builder`). Holds are separate named geoms (``hold/<id>``) coloured like their
route, so renderers, grips and rewards find them by name. Scene cameras become MuJoCo cameras with
the same names and intrinsics; a directional light and MuJoCo's headlight light the scene.
"""

from __future__ import annotations

import math
from pathlib import Path

import mujoco
import numpy as np

from navenv.body.rotations import matrix_to_quat
from navenv.body.skeleton import Skeleton
from navenv.humanoid import names
from navenv.humanoid.builder import (
    HUMANOID_BIT,
    SCENE_BIT,
    HumanoidConfig,
    add_humanoid,
    configure_options,
)
from scenes.types import Camera, Hold, MeshGeom, Primitive, Scene

HOLD_PREFIX = "hold/"
HOLD_GEOM_GROUP = 2  # MuJoCo visual group of holds (toggle them in viewers)
COLLISION_ONLY_GROUP = 3  # convex pieces / hfields that only collide (hidden by default)

# Hold shapes by kind: geom type and extents as multiples of Hold.size, (along the wall
# horizontally, along the wall vertically, out of the wall along the normal). A jug is a deep
# rounded handle, a crimp a thin edge, a sloper a wide flat dome, a pinch a tall narrow fin.
HOLD_SHAPES: dict[str, tuple[mujoco.mjtGeom, tuple[float, float, float]]] = {
    "jug": (mujoco.mjtGeom.mjGEOM_ELLIPSOID, (1.0, 0.7, 0.6)),
    "crimp": (mujoco.mjtGeom.mjGEOM_BOX, (1.0, 0.3, 0.35)),
    "sloper": (mujoco.mjtGeom.mjGEOM_ELLIPSOID, (1.1, 1.0, 0.4)),
    "pinch": (mujoco.mjtGeom.mjGEOM_BOX, (0.35, 1.0, 0.55)),
    "foothold": (mujoco.mjtGeom.mjGEOM_ELLIPSOID, (0.9, 0.6, 0.5)),
}

_PRIMITIVES = {
    "box": mujoco.mjtGeom.mjGEOM_BOX,
    "plane": mujoco.mjtGeom.mjGEOM_PLANE,
    "sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
    "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
    "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
    "ellipsoid": mujoco.mjtGeom.mjGEOM_ELLIPSOID,
}


def scene_spec(scene: Scene, timestep: float = 1.0 / 480.0) -> mujoco.MjSpec:
    """An MjSpec with the scene's static geometry, holds, cameras and lights (no humanoid)."""
    spec = mujoco.MjSpec()
    spec.modelname = f"navenv_{scene.name}"
    configure_options(spec, timestep)
    spec.visual.global_.offwidth = 1280
    spec.visual.global_.offheight = 960
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    spec.visual.headlight.diffuse = [0.45, 0.45, 0.45]
    root = Path(scene.root) if scene.root else None
    for item in scene.geometry:
        if isinstance(item, Primitive):
            _add_primitive(spec, item)
        elif isinstance(item, MeshGeom):
            _add_mesh(spec, item, root, scene.name)
        else:  # pragma: no cover - the loader only produces these two
            raise TypeError(f"scene {scene.name!r}: unknown geometry item {type(item).__name__}")
    for hold in scene.holds:
        _add_hold(spec, hold, root)
    for cam in scene.cameras:
        _add_camera(spec, cam)
    _add_lights(spec, scene)
    return spec


def compose_world(
    scene: Scene,
    skeleton: Skeleton | None = None,
    humanoid: HumanoidConfig | None = None,
    *,
    grips: bool = True,
    timestep: float = 1.0 / 480.0,
) -> mujoco.MjSpec:
    """Scene + humanoid (+ one inactive grip equality per limb, see `navenv.envs.grips`)."""
    spec = scene_spec(scene, timestep)
    add_humanoid(spec, skeleton or Skeleton.builtin(), humanoid)
    if grips:
        prefix = humanoid.prefix if humanoid else ""
        for limb in names.LIMBS:
            eq = spec.add_equality(
                name=prefix + names.GRIP_EQUALITIES[limb],
                type=mujoco.mjtEq.mjEQ_CONNECT,
                objtype=mujoco.mjtObj.mjOBJ_BODY,
                name1=prefix + names.GRIP_BODIES[limb],
                name2="world",
                active=False,
            )
            eq.solref = [0.01, 1.0]  # stiff but stable at 480 Hz (timeconst ~5 substeps)
    return spec


# ---------------------------------------------------------------------------- pieces
def _static(geom: mujoco.MjsGeom, collides: bool, friction: float = 1.0) -> None:
    geom.contype = SCENE_BIT if collides else 0
    geom.conaffinity = HUMANOID_BIT if collides else 0
    geom.friction = [friction, 0.005, 0.0001]


def _add_primitive(spec: mujoco.MjSpec, p: Primitive) -> None:
    g = spec.worldbody.add_geom(
        name=p.name,
        type=_PRIMITIVES[p.type],
        size=list(p.size),
        pos=list(p.pos),
        quat=list(p.quat),
        rgba=list(p.rgba),
    )
    _static(g, p.collision != "none", p.friction)


def _resolve(root: Path | None, rel: str, scene_name: str) -> str:
    if root is None:
        raise ValueError(
            f"scene {scene_name!r} references mesh file {rel!r} but has no root directory"
        )
    return str((root / rel).resolve())


def _add_mesh(spec: mujoco.MjSpec, m: MeshGeom, root: Path | None, scene_name: str) -> None:
    mesh_name = f"mesh/{m.name}"
    mesh = spec.add_mesh(
        name=mesh_name, file=_resolve(root, m.file, scene_name), scale=list(m.scale)
    )
    if m.collision != "convex_hull":
        # This visual mesh never collides, so its inertia is never used: a shell inertia accepts
        # the open, flat sheets a whole-gym sector is made of, which a solid's volume rejects.
        mesh.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL
    visual = spec.worldbody.add_geom(
        name=m.name,
        type=mujoco.mjtGeom.mjGEOM_MESH,
        meshname=mesh_name,
        pos=list(m.pos),
        quat=list(m.quat),
        rgba=list(m.rgba),
    )
    # "convex_hull": MuJoCo collides a mesh geom through its convex hull, so the visual geom collides
    _static(visual, m.collision == "convex_hull", m.friction)
    if m.collision == "convex_decomposition":
        for i, rel in enumerate(m.collision_files):
            piece = f"{mesh_name}/piece{i}"
            spec.add_mesh(name=piece, file=_resolve(root, rel, scene_name), scale=list(m.scale))
            g = spec.worldbody.add_geom(
                name=f"{m.name}/piece{i}",
                type=mujoco.mjtGeom.mjGEOM_MESH,
                meshname=piece,
                pos=list(m.pos),
                quat=list(m.quat),
                group=COLLISION_ONLY_GROUP,
                rgba=[0.5, 0.5, 0.5, 0.0],
            )
            _static(g, True, m.friction)
    elif m.collision == "heightfield":
        if m.heightfield is None:
            raise ValueError(
                f"scene {scene_name!r}: mesh {m.name!r} uses a heightfield but has none"
            )
        h = m.heightfield
        heights = np.asarray(h.heights, dtype=np.float64).reshape(h.nrow, h.ncol)
        lo, hi = float(heights.min()), float(heights.max())
        span = max(hi - lo, 1e-6)
        hf = spec.add_hfield(
            name=f"hfield/{m.name}",
            nrow=h.nrow,
            ncol=h.ncol,
            size=[h.size_x / 2, h.size_y / 2, span, max(h.base, 1e-3)],
            userdata=((heights - lo) / span).reshape(-1).tolist(),
        )
        g = spec.worldbody.add_geom(
            name=f"{m.name}/hfield",
            type=mujoco.mjtGeom.mjGEOM_HFIELD,
            hfieldname=hf.name,
            pos=(np.asarray(h.pos) + _rotate(h.quat, [0, 0, lo])).tolist(),
            quat=list(h.quat),
            group=COLLISION_ONLY_GROUP,
            rgba=[0.5, 0.5, 0.5, 0.0],
        )
        _static(g, True, m.friction)


def _rotate(quat, v) -> np.ndarray:
    res = np.zeros(3)
    mujoco.mju_rotVecQuat(res, np.asarray(v, dtype=np.float64), np.asarray(quat, dtype=np.float64))
    return res


def hold_frame(normal) -> np.ndarray:
    """(3, 3) rotation whose z axis is the hold's outward normal and x axis is horizontal."""
    z = np.asarray(normal, dtype=np.float64)
    z = z / np.linalg.norm(z)
    up = np.array([0.0, 0.0, 1.0])
    x = np.cross(up, z)
    if np.linalg.norm(x) < 1e-6:  # hold on a horizontal surface: any horizontal x will do
        x = np.array([1.0, 0.0, 0.0])
    x = x / np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], axis=1)


def _add_hold(spec: mujoco.MjSpec, hold: Hold, root: Path | None) -> None:
    gtype, (sx, sy, sz) = HOLD_SHAPES[hold.kind]
    quat = matrix_to_quat(hold_frame(hold.normal)).tolist()
    name = HOLD_PREFIX + hold.id
    if hold.shape is not None and root is not None:
        spec.add_mesh(
            name=f"mesh/{name}", file=_resolve(root, hold.shape, name), scale=[hold.size] * 3
        )
        g = spec.worldbody.add_geom(
            name=name,
            type=mujoco.mjtGeom.mjGEOM_MESH,
            meshname=f"mesh/{name}",
            pos=list(hold.position),
            quat=quat,
        )
    else:
        size = [hold.size * sx, hold.size * sy, hold.size * sz]
        g = spec.worldbody.add_geom(
            name=name, type=gtype, size=size, pos=list(hold.position), quat=quat
        )
    g.rgba = list(hold.rgba)
    g.group = HOLD_GEOM_GROUP
    _static(g, True, friction=1.2)  # chalked hands on textured resin


def _add_camera(spec: mujoco.MjSpec, cam: Camera) -> None:
    forward = np.asarray(cam.lookat, dtype=np.float64) - np.asarray(cam.pos, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:  # looking straight up or down
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    rot = np.stack([right, up, -forward], axis=1)  # MuJoCo camera: x right, y up, looks along -z
    fovy = math.degrees(2.0 * math.atan(0.5 * cam.height / cam.fy))
    spec.worldbody.add_camera(
        name=cam.name, pos=list(cam.pos), quat=matrix_to_quat(rot).tolist(), fovy=fovy
    )


def _add_lights(spec: mujoco.MjSpec, scene: Scene) -> None:
    """A directional key light from above and in front of the scene; shadows off (~10x cheaper)."""
    light = spec.worldbody.add_light(name="key", pos=[0.0, 4.0, 8.0], dir=[0.0, -0.45, -0.9])
    light.type = mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
    light.castshadow = False
    light.diffuse = [0.6, 0.6, 0.6]
    light.ambient = [0.1, 0.1, 0.1]
