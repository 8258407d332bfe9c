"""Labelled ray-cast frames of climbing walls: the free supervision navenv-cnn is pretrained on.

The ray caster knows what every pixel shows, so each RGB frame comes with labels at no cost:
planar depth (m), a hold mask (the pixel shows a hold geom), a highlight mask (the pixel shows the
one hold recoloured yellow, or lies inside the ring drawn around it) and a surface normal (camera frame, from the depth map). Worlds are
compiled as the dataset generator compiles them (`compile_world` with the builtin skeleton and
`ClimbConfig()`), and frames are drawn from the views the diffusion model's inputs come from:

- "tripod": the scene's tripod camera, pose jittered (about 0.25 m, 3 degrees), the climber
  hidden (parked far below, as policies.data.episode renders the tripod video) or posed on the
  wall. Half the hidden frames show one hold recoloured `HIGHLIGHT_RGBA` and ringed, exactly as
  the dataset's context frames do (SceneRenderer.context_frame);
- "ego": the head camera (head excluded, as ClimbRoute's ego observation) of the climber in a
  route's start stance (navenv's own IK, `start_stance`) with its root and hinges perturbed;
- "near": a free camera 0.4-1.5 m in front of a random hold, looking at the wall around it,
  climber hidden or posed: head-like views the start stances do not reach.

Frame i's view, scene and pose come from one seeded generator, so a seed gives the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import mujoco
import numpy as np
from tqdm import tqdm

from navenv.body import Skeleton
from navenv.body.rotations import axis_angle_to_matrix
from navenv.envs.climb.compiled import CompiledWorld, compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.spawn import start_stance
from navenv.humanoid import names
from navenv.render.raycast import RayCastCamera
from policies.data.episode import HIGHLIGHT_RGBA
from scenes import splits

VIEWS = ("tripod", "ego", "near")
VIEW_P = (0.5, 0.3, 0.2)  # tripod frames are most of what the model sees (video and context)
MAX_DEPTH_M = 30.0  # RayCastCamera's cutoff: misses read this
_PARK_Z = -1.0e4  # metres: the hidden climber, beyond every camera's cutoff
_ROUTES_PER_SCENE = 2  # start stances solved per scene (IK costs ~0.4 s each)


@dataclass
class FrameSet:
    """Frames and their labels; every array has the frame axis first."""

    rgb: np.ndarray  # (N, H, W, 3) uint8
    depth: np.ndarray  # (N, H, W) float32, planar metres, MAX_DEPTH_M where nothing is hit
    hold: np.ndarray  # (N, H, W) bool: pixel shows a hold
    highlight: np.ndarray  # (N, H, W) bool: pixel shows the highlighted hold or its ringed disc
    has_highlight: np.ndarray  # (N,) bool: the frame has a highlighted hold
    normal: np.ndarray  # (N, H, W, 3) float16, camera frame, 0 where undefined (sky, edges)
    view: np.ndarray  # (N,) int8 index into VIEWS
    scene: np.ndarray  # (N,) int16 index into the split's scenes

    def __len__(self) -> int:
        return len(self.rgb)

    def subset(self, idx: np.ndarray) -> FrameSet:
        """The frames at `idx`."""
        return FrameSet(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


@dataclass(eq=False)
class _Wall:
    """One compiled scene with its cameras and poses."""

    world: CompiledWorld
    tripod: RayCastCamera
    ego: RayCastCamera
    free: RayCastCamera
    hidden: mujoco.MjData  # climber parked out of sight
    posed: mujoco.MjData  # scratch data for posed climbers
    stances: list[np.ndarray]  # (nq,) start-stance configurations
    is_hold: np.ndarray  # (ngeom,) bool


def _wall(spec: splits.SceneSpec, width: int, height: int, skeleton: Skeleton) -> _Wall:
    scene = spec.build()
    config = ClimbConfig()
    world = compile_world(scene, skeleton, config)
    model = world.model
    cams = [c.name for c in scene.cameras]  # as policies.data.episode picks the tripod
    tripod_name = names.TRIPOD_CAMERA if names.TRIPOD_CAMERA in cams else (cams or [None])[0]
    tripod = RayCastCamera(model, width, height, camera=tripod_name, cutoff=MAX_DEPTH_M)
    ego = RayCastCamera(
        model,
        width,
        height,
        config.ego_fovy_deg,
        camera=names.EGO_CAMERA,
        bodyexclude=world.index.head_body,
        cutoff=MAX_DEPTH_M,
    )
    free = RayCastCamera(model, width, height, config.ego_fovy_deg, cutoff=MAX_DEPTH_M)
    hidden = mujoco.MjData(model)
    hidden.qpos[:] = model.qpos0
    hidden.qpos[world.index.root_qpos.start + 2] = _PARK_Z
    _forward(model, hidden)
    stances = []
    for route in scene.routes[:_ROUTES_PER_SCENE]:
        start_stance(model, world.data, world.index, scene, route)
        stances.append(world.data.qpos.copy())
    is_hold = np.zeros(model.ngeom, bool)
    is_hold[world.hold_geoms] = True
    return _Wall(world, tripod, ego, free, hidden, mujoco.MjData(model), stances, is_hold)


def _forward(model: mujoco.MjModel, data: mujoco.MjData) -> None:
    mujoco.mj_kinematics(model, data)
    mujoco.mj_camlight(model, data)


def _pose_climber(wall: _Wall, rng: np.random.Generator) -> mujoco.MjData:
    """A start stance with the root moved up to 0.3 m and every hinge up to ~0.25 rad off."""
    idx = wall.world.index
    d = wall.posed
    d.qpos[:] = wall.stances[int(rng.integers(len(wall.stances)))]
    d.qpos[idx.root_qpos.start : idx.root_qpos.start + 3] += rng.uniform(-0.3, 0.3, 3)
    d.qpos[idx.hinge_qpos] += rng.normal(0.0, 0.25, len(idx.hinge_qpos))
    _forward(wall.world.model, d)
    return d


def _small_rotation(rng: np.random.Generator, sigma_deg: float) -> np.ndarray:
    return axis_angle_to_matrix(rng.normal(0.0, np.radians(sigma_deg), 3))


def look_at(pos: np.ndarray, target: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """(3, 3) camera-to-world rotation of a camera at `pos` looking at `target`, z up."""
    fwd = target - pos
    fwd = fwd / np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:  # looking straight up or down
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    r = np.stack([right, up, -fwd], axis=1)  # camera looks along its -z
    return r @ axis_angle_to_matrix(np.array([0.0, 0.0, roll]))


def draw_ring(
    img: np.ndarray, cam: RayCastCamera, p: np.ndarray, r: np.ndarray, pos, radius_m: float
) -> np.ndarray:
    """Draw the dataset's context-frame ring around world point `pos` (as
    policies.data.episode.SceneRenderer does, but for any camera pose p (3,), r (3, 3));
    returns the (H, W) bool disc the ring encloses (all False if `pos` is behind the camera)."""
    q = r.T @ (np.asarray(pos, float) - p)
    depth = -q[2]
    if depth <= 1e-6:
        return np.zeros(img.shape[:2], bool)
    col = cam.focal_px * q[0] / depth + 0.5 * cam.width - 0.5
    row = 0.5 * cam.height - 0.5 - cam.focal_px * q[1] / depth
    rad = max(2.0, 2.0 * float(radius_m) * cam.focal_px / depth)
    yy, xx = np.mgrid[0 : cam.height, 0 : cam.width]
    d = np.hypot(yy - row, xx - col)
    img[np.abs(d - rad) <= 0.75] = np.round(np.asarray(HIGHLIGHT_RGBA[:3]) * 255)
    return d <= rad + 0.75


def normals_from_depth(depth: np.ndarray, focal_px: float, max_step: float = 0.1) -> np.ndarray:
    """(H, W, 3) camera-frame unit normals of a planar depth map (H, W); 0 where undefined.

    Back-projects pixels to points, takes central differences, and drops sky pixels and pixels
    whose neighbours differ in depth by more than `max_step` (relative): silhouette edges.
    """
    h, w = depth.shape
    xs = (np.arange(w) + 0.5 - 0.5 * w) / focal_px
    ys = (0.5 * h - 0.5 - np.arange(h)) / focal_px
    d = depth.astype(np.float64)
    pts = np.stack([d * xs[None, :], d * ys[:, None], -d], axis=-1)  # (H, W, 3)
    out = np.zeros((h, w, 3))
    du = pts[1:-1, 2:] - pts[1:-1, :-2]
    dv = pts[:-2, 1:-1] - pts[2:, 1:-1]
    n = np.cross(du, dv)
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    c = d[1:-1, 1:-1]
    nb = np.stack([d[1:-1, 2:], d[1:-1, :-2], d[2:, 1:-1], d[:-2, 1:-1]], axis=-1)
    ok = (nb < MAX_DEPTH_M - 1e-3).all(-1) & (c < MAX_DEPTH_M - 1e-3)
    ok &= (np.abs(nb - c[..., None]) <= max_step * c[..., None]).all(-1) & (norm[..., 0] > 1e-12)
    n = np.where(ok[..., None], n / np.maximum(norm, 1e-12), 0.0)
    flip = (n * pts[1:-1, 1:-1]).sum(-1) > 0  # face the camera
    n[flip] *= -1.0
    out[1:-1, 1:-1] = n
    return out


def _render(wall: _Wall, view: int, rng: np.random.Generator, out: dict, i: int) -> None:
    """Render frame i of `view` into the arrays of `out`."""
    model = wall.world.model
    highlight = -1
    if VIEWS[view] == "tripod":
        cam = wall.tripod
        data = wall.hidden if rng.random() < 0.6 else _pose_climber(wall, rng)
        p0, r0 = cam.pose(wall.hidden)
        p = p0 + rng.normal(0.0, [0.25, 0.25, 0.15])
        r = r0 @ _small_rotation(rng, 3.0)
        if data is wall.hidden and rng.random() < 0.5:
            highlight = int(rng.integers(len(wall.world.hold_geoms)))
    elif VIEWS[view] == "ego":
        cam, data = wall.ego, _pose_climber(wall, rng)
        p, r = cam.pose(data)
    else:
        cam = wall.free
        data = wall.hidden if rng.random() < 0.5 else _pose_climber(wall, rng)
        h = wall.world.scene.holds[int(rng.integers(len(wall.world.scene.holds)))]
        n = np.asarray(h.normal, float)
        t1 = np.cross(n, [0.0, 0.0, 1.0])
        t1 = t1 / max(np.linalg.norm(t1), 1e-9)
        t2 = np.cross(t1, n)
        base = np.asarray(h.position, float)
        p = (
            base
            + n * rng.uniform(0.4, 1.5)
            + t1 * rng.uniform(-0.5, 0.5)
            + t2 * rng.uniform(-0.5, 0.5)
        )
        target = base + t1 * rng.uniform(-0.4, 0.4) + t2 * rng.uniform(-0.4, 0.4)
        r = look_at(p, target, roll=float(rng.normal(0.0, np.radians(8.0))))
    geom = -1 if highlight < 0 else int(wall.world.hold_geoms[highlight])
    saved = None if geom < 0 else model.geom_rgba[geom].copy()
    try:
        if geom >= 0:
            model.geom_rgba[geom] = HIGHLIGHT_RGBA
        cam.render(data, depth=True, pos=p, xmat=r, out=out["rgb"][i], depth_out=out["depth"][i])
    finally:
        if saved is not None:
            model.geom_rgba[geom] = saved
    gid = cam.geom_ids
    out["hold"][i] = wall.is_hold[np.maximum(gid, 0)] & (gid >= 0)
    if geom >= 0:
        hold = wall.world.scene.holds[highlight]
        disc = draw_ring(out["rgb"][i], cam, p, r, hold.position, hold.size)
        # the hold itself is a pixel or two at 64 x 64: the ringed disc is what marks it
        out["highlight"][i] = (gid == geom) | disc
        out["has_highlight"][i] = True
    out["normal"][i] = normals_from_depth(out["depth"][i], cam.focal_px)


def render_frames(
    split: str,
    n: int,
    *,
    width: int = 64,
    height: int = 64,
    seed: int = 0,
    max_scenes: int | None = None,
    progress: bool = True,
) -> FrameSet:
    """`n` labelled frames of the `split`'s walls (the first `max_scenes` of them), seeded."""
    specs = splits.get(split)[:max_scenes]
    if not specs or specs[0].generator != "wall":
        raise ValueError(f"split {split!r}: expected a climbing-wall split with scenes")
    skeleton = Skeleton.builtin()
    walls = [
        _wall(s, width, height, skeleton)
        for s in tqdm(specs, desc=f"compile {split}", disable=not progress)
    ]
    out = {
        "rgb": np.zeros((n, height, width, 3), np.uint8),
        "depth": np.zeros((n, height, width), np.float32),
        "hold": np.zeros((n, height, width), bool),
        "highlight": np.zeros((n, height, width), bool),
        "has_highlight": np.zeros(n, bool),
        "normal": np.zeros((n, height, width, 3), np.float16),
        "view": np.zeros(n, np.int8),
        "scene": np.zeros(n, np.int16),
    }
    rng = np.random.default_rng([seed, 0x6E61])
    for i in tqdm(range(n), desc=f"render {split}", unit="frame", disable=not progress):
        s = int(rng.integers(len(walls)))
        view = int(rng.choice(len(VIEWS), p=VIEW_P))
        out["scene"][i], out["view"][i] = s, view
        _render(walls[s], view, rng, out, i)
    return FrameSet(**out)
