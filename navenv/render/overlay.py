"""Drawing 3D points onto rendered frames: a policy's planned body as a ghost skeleton, and
the paths its hands are planned to take.

Works on any renderer's output (OpenGL or ray-cast): points are projected through the model
camera's pinhole (position, orientation and vertical field of view from MuJoCo), so what is
drawn lines up with what the camera rendered.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from navenv.body.joints import SMPL_PARENTS
from navenv.render.raycast import _resolve_camera, camera_fovy_deg

GHOST_RGB = (120, 220, 255)
"""The ghost's colour: light cyan, apart from the holds' colours and the skin tone."""


def project(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    camera: str | int | None,
    width: int,
    height: int,
    points: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (N, 2) (x right, y down) of world points (N, 3) in a model camera's
    image of width x height, and (N,) whether each lies in front of the camera."""
    pts = np.asarray(points, float).reshape(-1, 3)
    cid = _resolve_camera(model, camera)
    if cid < 0:
        raise ValueError("project: needs a model camera (name or id), not the free camera")
    # MuJoCo cameras look down their -z axis, x right, y up (cam_xmat rows are world axes)
    rot = data.cam_xmat[cid].reshape(3, 3)
    local = (pts - data.cam_xpos[cid]) @ rot  # (N, 3) in the camera frame
    depth = -local[:, 2]
    focal = 0.5 * height / math.tan(math.radians(camera_fovy_deg(model, cid)) / 2)
    safe = np.where(depth > 1e-6, depth, 1.0)
    px = np.column_stack(
        [width / 2 + focal * local[:, 0] / safe, height / 2 - focal * local[:, 1] / safe]
    )
    return px, depth > 1e-6


def draw_segments(
    image: np.ndarray,
    segments: np.ndarray,
    rgb: tuple[int, int, int] = GHOST_RGB,
    alpha: float = 0.6,
    radius: float = 1.5,
) -> np.ndarray:
    """`image` (H, W, 3) uint8 with line segments (S, 2, 2) (pixel end points) blended in, each
    `radius` px thick on either side; segments off the image are clipped away."""
    h, w = image.shape[:2]
    mask = np.zeros((h, w), bool)
    r = math.ceil(radius)
    for a, b in np.asarray(segments, float).reshape(-1, 2, 2):
        if not np.isfinite([a, b]).all():
            continue
        n = int(np.clip(np.linalg.norm(b - a) * 2, 1, 4 * (h + w)))  # half-pixel steps
        pts = a + (b - a) * np.linspace(0.0, 1.0, n + 1)[:, None]
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if dx * dx + dy * dy > radius * radius + 0.5:
                    continue
                x = np.round(pts[:, 0] + dx).astype(int)
                y = np.round(pts[:, 1] + dy).astype(int)
                ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
                mask[y[ok], x[ok]] = True
    out = image.copy()
    colour = np.asarray(rgb, float)
    out[mask] = np.round((1 - alpha) * out[mask] + alpha * colour).astype(np.uint8)
    return out


def draw_ghost(
    image: np.ndarray,
    model: mujoco.MjModel,
    data: mujoco.MjData,
    camera: str | int | None,
    joints: np.ndarray,
    hand_paths: np.ndarray | None = None,
    rgb: tuple[int, int, int] = GHOST_RGB,
) -> np.ndarray:
    """`image` (H, W, 3) from `camera` with the SMPL skeleton of world joints (24, 3) drawn over
    it as a ghost, and optional hand paths (T, 2, 3) (left, right) as thin lines."""
    h, w = image.shape[:2]
    joints = np.asarray(joints, float)
    if joints.shape != (len(SMPL_PARENTS), 3):
        raise ValueError(f"draw_ghost: joints {joints.shape}, expected ({len(SMPL_PARENTS)}, 3)")
    px, front = project(model, data, camera, w, h, joints)
    bones = [(j, p) for j, p in enumerate(SMPL_PARENTS) if p >= 0 and front[j] and front[p]]
    out = draw_segments(image, np.array([[px[p], px[j]] for j, p in bones]), rgb, 0.55, 2.0)
    if hand_paths is not None:
        paths = np.asarray(hand_paths, float)
        for side in range(paths.shape[1]):
            ppx, pfront = project(model, data, camera, w, h, paths[:, side])
            if pfront.all() and len(ppx) > 1:  # the path as consecutive segments
                out = draw_segments(out, np.stack([ppx[:-1], ppx[1:]], axis=1), rgb, 0.8, 1.0)
    return out
