"""One stored episode from a planned climb: clip sampling, replay, videos and context frames.

A plan (`policies.scripted.ClimbPlan`: Motion, qpos of the compiled world, contacts, grips) is
cut into clips. A clip's frames are sampled at the dataset's fps from the plan's timeline
(linear interpolation of positions and hinge angles, slerp of rotations; contacts and grips from
the nearest plan frame); frames past the plan's end repeat its last frame and are marked invalid.
The clip is then replayed kinematically in the compiled world to render:

- `ego_rgb`: the head camera, as ClimbRoute's ego observation sees it;
- `tripod_rgb`: the scene's tripod camera with the climber hidden (the wall as the person-removed
  video of SABR-CLIMB shows it). The humanoid is parked far beyond the camera's cutoff rather than
  excluded by geom mask because RayCastCamera can exclude only one body; the scene and the tripod
  are static, so the frame is rendered once per world and repeated;
- `context`: one tripod frame per hold the climber touches in the clip, in the order first touched
  (holds already held at the clip's first frame first, in limb order), that hold recoloured and
  ringed (SABR-CLIMB's visual prompt of the route).
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from navenv.body.motion import FEATURE_DIM, Motion
from navenv.body.rotations import matrix_to_quat, quat_slerp, quat_to_matrix
from navenv.envs.climb.compiled import CompiledWorld
from navenv.envs.layout import VectorLayout
from navenv.humanoid import names
from navenv.render.raycast import RayCastCamera
from navenv.sinking import SceneRays
from policies.data.store import FieldSpec
from policies.scripted.keyframes import frame_penetration
from scenes.types import Route

QPOS_LAYOUT = VectorLayout(
    [
        ("root_position", 3, -np.inf, np.inf, "m", "pelvis position, world frame"),
        ("root_quat", 4, -1.0, 1.0, "", "pelvis orientation, quaternion w x y z"),
        ("hinges", names.NUM_HINGES, -np.pi, np.pi, "rad", "hinge angles, names.HINGE_NAMES order"),
    ]
)
"""A stored frame's "qpos": the humanoid's free root, then its hinges."""
HUMANOID_QPOS = QPOS_LAYOUT.size
NUM_LIMBS = len(names.LIMBS)
ID_CHARS = 32  # fixed width of hold/route id strings
NAME_CHARS = 64  # fixed width of scene names
HIGHLIGHT_RGBA = (1.0, 0.95, 0.1, 1.0)  # context hold colour: saturated yellow, unlike any palette
_PARK_Z = -1.0e4  # metres: where the humanoid waits while the tripod films the empty wall


def episode_fields(
    frames: int,
    width: int,
    height: int,
    max_context: int,
    max_route_holds: int,
    max_scene_holds: int,
) -> dict[str, FieldSpec]:
    """Shapes and dtypes of every stored per-episode array (fixed, so shards stack)."""
    t, c, r, h = frames, max_context, max_route_holds, max_scene_holds
    img = (height, width, 3)
    return {
        # per frame
        "features": FieldSpec((t, FEATURE_DIM), "float32", True),  # Motion.to_features()
        "qpos": FieldSpec((t, HUMANOID_QPOS), "float32", True),  # root pos (m), quat, hinges (rad)
        "contacts": FieldSpec((t, NUM_LIMBS), "int16", True),  # scene hold index per limb, -1
        "grip": FieldSpec((t, NUM_LIMBS), "bool", True),
        "valid": FieldSpec((t,), "bool", True),  # False: past the plan's end (last frame repeated)
        # m, deepest contact of the body with the scene or itself (mask frames above a tolerance)
        "penetration": FieldSpec((t,), "float32", True),
        "tripod_rgb": FieldSpec((t, *img), "uint8", True),  # climber hidden
        "ego_rgb": FieldSpec((t, *img), "uint8", True),
        # context frames
        "context": FieldSpec((c, *img), "uint8"),
        "context_hold": FieldSpec((c,), "int16"),  # scene hold index, -1 padding
        "context_frame": FieldSpec((c,), "int32"),  # clip frame where first touched, -1 padding
        "context_count": FieldSpec((), "int32"),
        # route and holds
        "route_pos": FieldSpec((r, 3), "float32"),  # metres, world frame; 0 padding
        "route_normal": FieldSpec((r, 3), "float32"),
        "route_hold_ids": FieldSpec((r,), f"<U{ID_CHARS}"),
        "route_hold_index": FieldSpec((r,), "int16"),  # scene hold index, -1 padding
        "route_count": FieldSpec((), "int32"),
        "route_top": FieldSpec((), "int16"),  # scene hold index of the top hold
        "hold_pos": FieldSpec((h, 3), "float32"),  # every scene hold (contacts index these)
        "hold_normal": FieldSpec((h, 3), "float32"),
        "hold_count": FieldSpec((), "int32"),
        # identity
        "betas": FieldSpec((10,), "float32"),
        "episode": FieldSpec((), "int64"),
        "scene_name": FieldSpec((), f"<U{NAME_CHARS}"),  # split entry, e.g. "train/003"
        "scene_id": FieldSpec((), f"<U{NAME_CHARS}"),  # Scene.name
        "route_id": FieldSpec((), f"<U{ID_CHARS}"),
        "plan_seed": FieldSpec((), "int64"),
        "clip_index": FieldSpec((), "int32"),
        "clip_start": FieldSpec((), "int32"),  # first plan frame of the clip
        "success": FieldSpec((), "bool"),  # the plan reached the top
        # routes of the scene planned before this one (GenerateConfig.max_penetration_m)
        "plan_try": FieldSpec((), "int16"),
        "plan_penetration": FieldSpec((), "float32"),  # m, the whole plan's deepest frame
    }


# ------------------------------------------------------------------ clip sampling
def clip_start(plan_frames: int, span_frames: float, clip_index: int, clips_per_plan: int) -> int:
    """First plan frame of clip `clip_index`: clips are spread evenly over the plan."""
    room = max(0.0, plan_frames - 1 - span_frames)
    if clips_per_plan <= 1:
        return 0
    return round(clip_index * room / (clips_per_plan - 1))


def sample_frames(
    start: int, frames: int, plan_fps: float, fps: float, plan_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, w, valid): clip frame k lies at plan frame i0 + w (i1 = i0 + 1, clamped)."""
    src = start + np.arange(frames) * (plan_fps / fps)
    valid = src <= plan_frames - 1 + 1e-6
    src = np.minimum(src, plan_frames - 1)
    i0 = np.floor(src + 1e-9).astype(np.int64)
    w = np.clip(src - i0, 0.0, 1.0)
    w[w < 1e-9] = 0.0  # integer ratios sample plan frames exactly
    i1 = np.minimum(i0 + 1, plan_frames - 1)
    return i0, i1, w, valid


def _slerp_rotations(rot: np.ndarray, i0, i1, w) -> np.ndarray:
    """(K, ..., 3, 3) rotations interpolated between frames i0 and i1 of (T, ..., 3, 3)."""
    q0, q1 = matrix_to_quat(rot[i0]), matrix_to_quat(rot[i1])
    ww = np.broadcast_to(w.reshape((-1,) + (1,) * (q0.ndim - 2)), q0.shape[:-1])
    return quat_to_matrix(quat_slerp(q0, q1, ww))


def sample_motion(motion: Motion, i0, i1, w) -> Motion:
    """The motion at fractional frames i0 + w (frames with w = 0 are copied exactly)."""
    wt = w[:, None]
    transl = motion.transl[i0] * (1.0 - wt) + motion.transl[i1] * wt
    if not w.any():
        return Motion(
            motion.fps, transl, motion.global_orient[i0], motion.body_pose[i0], motion.betas.copy()
        )
    return Motion(
        motion.fps,
        transl,
        _slerp_rotations(motion.global_orient, i0, i1, w),
        _slerp_rotations(motion.body_pose, i0, i1, w),
        motion.betas.copy(),
    )


def sample_qpos(qpos: np.ndarray, root: slice, i0, i1, w) -> np.ndarray:
    """(K, nq) configurations at fractional frames: linear, except the root quaternion (slerp)."""
    wt = w[:, None]
    out = qpos[i0] * (1.0 - wt) + qpos[i1] * wt
    quat = slice(root.start + 3, root.stop)
    if w.any():
        out[:, quat] = quat_slerp(qpos[i0, quat], qpos[i1, quat], w)
    return out


def first_touches(contacts: np.ndarray, max_count: int) -> tuple[list[int], list[int]]:
    """Scene hold indices in the order first touched (frame-major, limb order), and the frames."""
    holds: list[int] = []
    frames: list[int] = []
    for t, row in enumerate(contacts):
        for h in row:
            if h >= 0 and int(h) not in holds:
                holds.append(int(h))
                frames.append(t)
                if len(holds) == max_count:
                    return holds, frames
    return holds, frames


# ------------------------------------------------------------------ rendering
class SceneRenderer:
    """Cameras on one compiled world at one resolution; tripod and context frames are cached."""

    def __init__(self, world: CompiledWorld, width: int, height: int, ego_fovy_deg: float) -> None:
        """Make the ego camera (head excluded) and the tripod camera of `world`."""
        self.world = world
        model = world.model
        self.ego = RayCastCamera(
            model,
            width,
            height,
            ego_fovy_deg,
            camera=names.EGO_CAMERA,
            bodyexclude=world.index.head_body,
        )
        self.tripod = RayCastCamera(model, width, height, camera=_tripod_camera(world))
        self._replay = mujoco.MjData(model)
        self.humanoid = world.index.geom_mask(model.ngeom)  # the body's geoms (depth checks)
        self.rays = SceneRays(world.scene)  # so limbs through a panel count as penetration
        self._hidden = mujoco.MjData(model)
        self._hidden.qpos[:] = model.qpos0
        self._hidden.qpos[world.index.root_qpos.start + 2] = _PARK_Z
        mujoco.mj_kinematics(model, self._hidden)
        mujoco.mj_camlight(model, self._hidden)
        self._background: np.ndarray | None = None
        self._context: dict[int, np.ndarray] = {}

    def background(self) -> np.ndarray:
        """(H, W, 3) tripod view of the scene without the climber."""
        if self._background is None:
            self._background = self.tripod.render(self._hidden)
        return self._background

    def context_frame(self, hold: int) -> np.ndarray:
        """(H, W, 3) tripod view without the climber, scene hold `hold` recoloured and ringed."""
        if hold not in self._context:
            model, geom = self.world.model, int(self.world.hold_geoms[hold])
            saved = model.geom_rgba[geom].copy()
            try:
                model.geom_rgba[geom] = HIGHLIGHT_RGBA
                img = self.tripod.render(self._hidden)
            finally:
                model.geom_rgba[geom] = saved
            h = self.world.scene.holds[hold]
            self._ring(img, np.asarray(h.position, float), float(h.size))
            self._context[hold] = img
        return self._context[hold]

    def _ring(self, img: np.ndarray, pos: np.ndarray, radius_m: float) -> None:
        """Draw a highlight ring around world point `pos` (skipped if behind the camera)."""
        cam = self.tripod
        p, r = cam.pose(self._hidden)
        q = r.T @ (pos - p)
        depth = -q[2]
        if depth <= 1e-6:
            return
        col = cam.focal_px * q[0] / depth + 0.5 * cam.width - 0.5
        row = 0.5 * cam.height - 0.5 - cam.focal_px * q[1] / depth
        rad = max(2.0, 2.0 * radius_m * cam.focal_px / depth)
        yy, xx = np.mgrid[0 : cam.height, 0 : cam.width]
        d = np.hypot(yy - row, xx - col)
        img[np.abs(d - rad) <= 0.75] = np.round(np.asarray(HIGHLIGHT_RGBA[:3]) * 255)

    def ego_video(self, qpos: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Render the head camera for each configuration (K, nq) into out (K, H, W, 3)."""
        model, d = self.world.model, self._replay
        for k, q in enumerate(qpos):
            d.qpos[:] = q
            mujoco.mj_kinematics(model, d)
            mujoco.mj_camlight(model, d)
            self.ego.render(d, out=out[k])
        return out


def _tripod_camera(world: CompiledWorld) -> str | None:
    """The scene's tripod camera, else its first camera, else MuJoCo's free camera (None)."""
    cams = [c.name for c in world.scene.cameras]
    if names.TRIPOD_CAMERA in cams:
        return names.TRIPOD_CAMERA
    return cams[0] if cams else None


# ------------------------------------------------------------------ the episode
def build_episode(
    plan: Any,
    renderer: SceneRenderer,
    route: Route,
    fields: dict[str, FieldSpec],
    *,
    fps: float,
    clip_index: int,
    clips_per_plan: int,
    meta: dict[str, Any],
) -> dict[str, np.ndarray]:
    """All stored arrays of one clip of `plan` (see `episode_fields`); meta: episode, scene_name,
    plan_seed, plan_try, plan_penetration (copied into the episode)."""
    world = renderer.world
    scene, index = world.scene, world.index
    frames = fields["features"].shape[0]
    n_ctx, n_route, n_holds = (fields[k].shape[0] for k in ("context", "route_pos", "hold_pos"))
    qpos_plan = np.asarray(plan.qpos, dtype=np.float64)
    plan_frames = qpos_plan.shape[0]
    if qpos_plan.ndim != 2 or qpos_plan.shape[1] != world.model.nq:
        raise ValueError(
            f"plan.qpos: expected (T, {world.model.nq}) for scene {scene.name!r}, got {qpos_plan.shape}"
        )
    if len(plan.motion) != plan_frames or plan.contacts.shape != (plan_frames, NUM_LIMBS):
        raise ValueError(
            f"plan: motion ({len(plan.motion)}), qpos ({plan_frames}) and contacts "
            f"{plan.contacts.shape} must cover the same frames with {NUM_LIMBS} limbs"
        )
    if len(scene.holds) > n_holds or len(route.holds) > n_route:
        raise ValueError(
            f"scene {scene.name!r}: {len(scene.holds)} holds / route {route.id!r}: "
            f"{len(route.holds)} holds exceed max_scene_holds={n_holds} / max_route_holds={n_route}"
        )
    plan_fps = plan.motion.fps
    start = clip_start(plan_frames, (frames - 1) * plan_fps / fps, clip_index, clips_per_plan)
    i0, i1, w, valid = sample_frames(start, frames, plan_fps, fps, plan_frames)
    nearest = np.where(w < 0.5, i0, i1)
    qpos = sample_qpos(qpos_plan, index.root_qpos, i0, i1, w)
    contacts = np.asarray(plan.contacts)[nearest].astype(np.int16)

    ego = np.empty(fields["ego_rgb"].shape, np.uint8)
    renderer.ego_video(qpos, ego)
    tripod = np.broadcast_to(renderer.background(), fields["tripod_rgb"].shape)

    ctx_holds, ctx_frames = first_touches(contacts, n_ctx)
    context = np.zeros(fields["context"].shape, np.uint8)
    for k, h in enumerate(ctx_holds):
        context[k] = renderer.context_frame(h)

    slot = world.hold_slot
    route_idx = [slot[h] for h in route.holds]
    out = {
        "features": sample_motion(plan.motion, i0, i1, w).to_features(np.float32),
        "qpos": np.concatenate([qpos[:, index.root_qpos], qpos[:, index.hinge_qpos]], axis=1),
        "contacts": contacts,
        "grip": np.asarray(plan.grip, dtype=bool)[nearest],
        "valid": valid,
        "penetration": frame_penetration(world.model, qpos, renderer.humanoid, renderer.rays),
        "tripod_rgb": tripod,
        "ego_rgb": ego,
        "context": context,
        "context_hold": _pad(ctx_holds, n_ctx, -1),
        "context_frame": _pad(ctx_frames, n_ctx, -1),
        "context_count": len(ctx_holds),
        "route_pos": _pad([scene.holds[i].position for i in route_idx], n_route, 0.0, 3),
        "route_normal": _pad([scene.holds[i].normal for i in route_idx], n_route, 0.0, 3),
        "route_hold_ids": _pad(list(route.holds), n_route, ""),
        "route_hold_index": _pad(route_idx, n_route, -1),
        "route_count": len(route_idx),
        "route_top": slot[route.top],
        "hold_pos": _pad([h.position for h in scene.holds], n_holds, 0.0, 3),
        "hold_normal": _pad([h.normal for h in scene.holds], n_holds, 0.0, 3),
        "hold_count": len(scene.holds),
        "betas": plan.motion.betas,
        "episode": meta["episode"],
        "scene_name": meta["scene_name"],
        "scene_id": scene.name,
        "route_id": route.id,
        "plan_seed": meta["plan_seed"],
        "clip_index": clip_index,
        "clip_start": start,
        "success": bool(plan.success),
        "plan_try": meta["plan_try"],
        "plan_penetration": meta["plan_penetration"],
    }
    return {k: _as_field(v, fields[k], k) for k, v in out.items()}


def _pad(values: list, n: int, fill, width: int | None = None) -> np.ndarray:
    """values as an array of n rows (of `width` columns), padded with `fill`."""
    shape = (n,) if width is None else (n, width)
    arr = np.full(shape, fill, dtype=object if isinstance(fill, str) else np.float64)
    if values:
        arr[: len(values)] = np.asarray(values, dtype=arr.dtype)
    return arr


def _as_field(value: Any, spec: FieldSpec, name: str) -> np.ndarray:
    """`value` cast to the field's dtype, with a clear error when a string is too long."""
    dt = np.dtype(spec.dtype)
    if dt.kind == "U":
        arr = np.asarray(value, dtype=object)
        too_long = [s for s in np.ravel(arr) if len(str(s)) > dt.itemsize // 4]
        if too_long:
            raise ValueError(
                f"field {name!r}: {too_long[0]!r} is longer than {dt.itemsize // 4} characters"
            )
        return np.asarray(arr.astype(str), dtype=dt)
    arr = np.asarray(value).astype(dt, copy=False)
    return arr if arr.flags.c_contiguous else arr.copy()  # (ascontiguousarray makes 0-d 1-d)
