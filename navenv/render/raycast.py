"""CPU ray-cast camera: one ray per pixel, no OpenGL, deterministic, >= 2,000 frames/s at 64x64.

Two tracers produce the same per-pixel result (nearest geom id, planar depth, normal):
- an analytic tracer for planes, boxes, spheres, ellipsoids, capsules and cylinders. Each
  geom's local bounding box is projected to a pixel rectangle, and only the (pixel, geom) pairs
  inside those rectangles are intersected; a z-buffer keeps the nearest. It comes compiled
  (numba, `primitives_jit`, `backend="numba"`, the default where numba is installed) and in
  numpy (`primitives`, vectorised per geom kind, `backend="numpy"`: the fallback and reference).
  This is what makes the frame rate: `mujoco.mj_multiRay` tests every ray against every geom's
  angular bounds and reaches ~400 frames/s on the climbing benchmark world
  (`benchmarks/perf_raycast.py`), the numpy tracer ~1,000 and the compiled one several times that
  (with `backend="numba"` the shading is compiled too, `shading_jit`, giving the same bytes).
- `mujoco.mj_multiRay` (all geoms, normals returned) for the rays whose pixel lies in the
  rectangle of a mesh, height field or SDF geom, so such scenes stay exact; `backend="mujoco"`
  sends every ray there (the reference the analytic tracer is tested against).
Geom selection follows `mj_ray`: geoms of `bodyexclude`, geoms outside `geomgroup` and fully
transparent geoms (alpha 0, of the geom or its material) are invisible; hits farther than
`cutoff` metres (ray distance) are misses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import mujoco
import numpy as np

from navenv.render.backends import BACKENDS, load_jit, numba_installed
from navenv.render.primitives import (
    KIND,
    MJ_NO_CUTOFF,
    AnalyticTracer,
    Projector,
    box_corners,
    geom_visible,
)
from navenv.render.shading import RenderError, Shader, ShadingConfig


def _resolve_camera(model: mujoco.MjModel, camera: str | int | None) -> int:
    """Camera id for a name or id; -1 for None (MuJoCo's default free camera)."""
    if camera is None:
        return -1
    if isinstance(camera, str):
        cid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if cid < 0:
            names = [model.camera(i).name for i in range(model.ncam)]
            raise RenderError(f"camera={camera!r}: no such camera; the model has {names}")
    elif isinstance(camera, bool) or not isinstance(camera, int | np.integer):
        raise RenderError(f"camera={camera!r}: expected a camera name, an id or None")
    elif not -1 <= camera < model.ncam:
        raise RenderError(f"camera={camera}: id out of range [-1, {model.ncam})")
    else:
        cid = int(camera)
    return cid


def _resolve_body(model: mujoco.MjModel, body: str | int) -> int:
    """Body id for `bodyexclude` (-1: exclude nothing)."""
    if isinstance(body, str):
        bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, body)
        if bid < 0:
            raise RenderError(f"bodyexclude={body!r}: no body of that name in the model")
        return bid
    if (
        isinstance(body, bool)
        or not isinstance(body, int | np.integer)
        or not (-1 <= body < model.nbody)
    ):
        raise RenderError(
            f"bodyexclude={body!r}: expected a body name or an id in [-1, {model.nbody})"
        )
    return int(body)


def camera_fovy_deg(model: mujoco.MjModel, camera_id: int) -> float:
    """Vertical field of view (degrees) of a model camera (from its intrinsics if it has any)."""
    if camera_id < 0:
        return float(model.vis.global_.fovy)
    sensor_h = model.cam_sensorsize[camera_id, 1]
    if sensor_h > 0:  # physical-camera spec: fovy follows from sensor size and focal length
        return math.degrees(2.0 * math.atan(0.5 * sensor_h / model.cam_intrinsic[camera_id, 1]))
    return float(model.cam_fovy[camera_id])


class RayCastCamera:
    """A pinhole camera rendering uint8 RGB and float32 planar depth on the CPU by ray casting.

    Image convention: row 0 is the top; the camera looks along its local -z with +y up and +x to
    the right of the image (MuJoCo's camera frame). Depth is planar (metres along the optical
    axis, like an OpenGL depth map), misses and hits beyond `cutoff` (ray distance, metres) read
    `cutoff`. `data` must be up to date (mj_forward or mj_step ran) so geom and camera poses hold.
    Geom types, sizes and groups are read when the camera is made (make a new one after changing
    them); poses, colours and transparency every frame. Square pixels, principal point at the
    image centre. A camera reuses its buffers: use one per thread.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        width: int = 64,
        height: int = 64,
        fovy_deg: float | None = None,
        *,
        camera: str | int | None = None,
        bodyexclude: str | int = -1,
        geomgroup: Sequence[int] | None = None,
        cutoff: float = 30.0,
        sky_rgb: tuple[float, float, float] | None = None,
        light_dir: tuple[float, float, float] | None = None,
        shading: ShadingConfig | None = None,
        backend: str = "auto",
    ) -> None:
        """fovy_deg: vertical field of view; None: the camera's, or 90 without a camera.

        geomgroup: 6 flags, geoms of groups flagged 0 are invisible (None: all groups);
        sky_rgb / light_dir override those fields of `shading`; backend: one of BACKENDS.
        """
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise RenderError(f"{name}={value!r}: expected an int >= 1")
        if backend not in BACKENDS:
            raise RenderError(f"backend={backend!r}: expected one of {BACKENDS}")
        if backend == "numba" and not numba_installed():
            raise RenderError("backend='numba': numba is not installed; use 'auto' or 'numpy'")
        if not (isinstance(cutoff, int | float) and math.isfinite(cutoff) and cutoff > 0):
            raise RenderError(f"cutoff={cutoff!r}: expected a finite distance > 0 (metres)")
        self.model = model
        self.width, self.height = int(width), int(height)
        self.cutoff = float(cutoff)
        self.backend = backend
        self._active: str | None = None  # resolved on first render: compiling numba takes time
        self.camera_id = _resolve_camera(model, camera)
        if self.camera_id >= 0 and model.cam_projection[self.camera_id] != 0:
            raise RenderError(f"camera={camera!r}: orthographic cameras are not supported")
        self.bodyexclude = _resolve_body(model, bodyexclude)
        if fovy_deg is None:
            fovy_deg = camera_fovy_deg(model, self.camera_id) if camera is not None else 90.0
        if not (isinstance(fovy_deg, int | float) and 0.0 < fovy_deg < 180.0):
            raise RenderError(f"fovy_deg={fovy_deg!r}: expected degrees in (0, 180)")
        self.fovy_deg = float(fovy_deg)
        self.geomgroup = None
        if geomgroup is not None:
            if len(geomgroup) != mujoco.mjNGROUP:
                raise RenderError(f"geomgroup={geomgroup!r}: expected {mujoco.mjNGROUP} flags")
            self.geomgroup = np.asarray(geomgroup, dtype=np.uint8) != 0

        # Ray directions (x, y, -1) in the camera frame, once: planar depth is the ray parameter.
        self.focal_px = 0.5 * self.height / math.tan(math.radians(self.fovy_deg) / 2.0)
        xs = (np.arange(self.width) + 0.5 - 0.5 * self.width) / self.focal_px
        ys = (0.5 * self.height - 0.5 - np.arange(self.height)) / self.focal_px
        self._x = np.tile(xs, self.height)
        self._y = np.repeat(ys, self.width)
        self._dirs = np.stack([self._x, self._y, -np.ones_like(self._x)], axis=1)
        self._inv_norm = 1.0 / np.linalg.norm(self._dirs, axis=1)
        self._planar_cutoff = self.cutoff * self._inv_norm
        npix = self.width * self.height

        static = model.geom_bodyid != self.bodyexclude
        if self.geomgroup is not None:
            static &= self.geomgroup[np.clip(model.geom_group, 0, mujoco.mjNGROUP - 1)]
        primitive = np.isin(model.geom_type, list(KIND))
        projector = Projector(self.width, self.height, self.focal_px)
        self._complex = np.flatnonzero(static & ~primitive)  # mesh, hfield, sdf: mj_multiRay
        self._projector = projector
        self._tracer = AnalyticTracer(
            model, np.flatnonzero(static & primitive), projector, self._x, self._y
        )
        self._gid = np.full(npix, -1, np.int32)
        self._t = np.zeros(npix)
        self._n = np.zeros((3, npix), np.float32)  # camera-frame normals, one column per pixel
        self._ray_mask = np.zeros((self.height, self.width), bool)
        self._mj_vec = np.empty(3 * npix)
        self._mj_gid = np.empty(npix, np.int32)
        self._mj_dist = np.empty(npix)
        self._mj_n = np.empty(3 * npix)
        self._mj_group = None if self.geomgroup is None else self.geomgroup.astype(np.uint8)
        self._free_cam = mujoco.MjvCamera()
        mujoco.mjv_defaultFreeCamera(model, self._free_cam)
        self._frame = np.zeros((4, 3))  # headpos, forward, up, right of mjv_cameraFrame

        config = shading or ShadingConfig()
        overrides = {"sky_rgb": sky_rgb, "light_dir": light_dir}
        config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
        self.shading = config
        self._shader = Shader(config, model, self._x, self._y, self._inv_norm)

    @property
    def geom_ids(self) -> np.ndarray:
        """(H, W) int32 geom id at each pixel in the last render, -1 for sky (read-only view)."""
        view = self._gid.reshape(self.height, self.width)
        view.flags.writeable = False
        return view

    @property
    def active_backend(self) -> str:
        """The tracer renders use: "numba", "numpy" or "mujoco" (may compile numba, once)."""
        if self._active is None:
            self._active = self._resolve_backend()
        return self._active

    def _resolve_backend(self) -> str:
        if self.backend in ("numpy", "mujoco"):
            return self.backend
        compiled, why = load_jit()
        if compiled is None:
            if self.backend == "numba":
                raise RenderError(f"backend='numba': the compiled backend is unavailable ({why})")
            return "numpy"
        self._tracer = compiled[0](self._tracer)  # same results, same calls, compiled
        self._shader = compiled[1](self._shader)
        return "numba"

    def render(
        self,
        data: mujoco.MjData,
        *,
        depth: bool = False,
        pos: np.ndarray | None = None,
        xmat: np.ndarray | None = None,
        out: np.ndarray | None = None,
        depth_out: np.ndarray | None = None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Render uint8 (H, W, 3) RGB, or (rgb, float32 (H, W) planar depth in m) if `depth`.

        pos (3,) / xmat (3, 3) camera-to-world: override the camera's pose (world frame); out /
        depth_out: C-contiguous arrays to write into instead of allocating new ones.
        """
        p, r = self.pose(data, pos, xmat)
        self._trace(data, p, r)
        rgb = self._out(out, (self.height, self.width, 3), np.uint8, "out")
        self._shader.shade(data, p, r, self._gid, self._t, self._n, self.cutoff, rgb.reshape(-1, 3))
        if not depth:
            return rgb
        dep = self._out(depth_out, (self.height, self.width), np.float32, "depth_out")
        flat = dep.reshape(-1)
        np.copyto(flat, self._t, casting="same_kind")
        flat[self._gid < 0] = self.cutoff
        return rgb, dep

    def pose(
        self, data: mujoco.MjData, pos: np.ndarray | None = None, xmat: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Camera position (3,) and camera-to-world rotation (3, 3) used for a render."""
        if self.camera_id >= 0:
            p = data.cam_xpos[self.camera_id]
            r = data.cam_xmat[self.camera_id].reshape(3, 3)
        else:
            head, fwd, up, right = self._frame
            mujoco.mjv_cameraFrame(head, fwd, up, right, data, self._free_cam)
            p, r = head, np.stack([right, up, -fwd], axis=1)
        if pos is not None:
            p = np.ascontiguousarray(pos, dtype=np.float64)
            if p.shape != (3,) or not np.all(np.isfinite(p)):
                raise RenderError(f"pos: expected 3 finite floats (metres), got shape {p.shape}")
        if xmat is not None:
            r = np.asarray(xmat, dtype=np.float64).reshape(-1)
            if r.shape != (9,):
                raise RenderError(f"xmat: expected a (3, 3) or (9,) rotation, got {r.size} values")
            r = r.reshape(3, 3)
            if np.abs(r.T @ r - np.eye(3)).max() > 1e-6 or np.linalg.det(r) < 0:
                raise RenderError("xmat: expected a proper rotation matrix (orthonormal, det +1)")
        return p, r

    def _out(self, arr: np.ndarray | None, shape: tuple[int, ...], dtype: type, name: str):
        if arr is None:
            return np.empty(shape, dtype)
        if arr.shape != shape or arr.dtype != dtype or not arr.flags.c_contiguous:
            raise RenderError(
                f"{name}: expected a C-contiguous {np.dtype(dtype).name} array of shape {shape}, "
                f"got {arr.dtype} {arr.shape}"
            )
        return arr

    def _trace(self, data: mujoco.MjData, pos: np.ndarray, mat: np.ndarray) -> None:
        """Fill the per-pixel geom id, planar depth and camera-frame normal buffers."""
        visible = geom_visible(self.model)
        if self.active_backend == "mujoco":
            self._mj_trace(data, pos, mat, np.arange(self._gid.size))
            return
        rays = self._complex_rays(data, pos, mat, visible)
        if rays is None or rays.size < self._gid.size:
            self._tracer.trace(
                data,
                pos,
                mat,
                visible,
                self.cutoff,
                self._planar_cutoff,
                self._gid,
                self._t,
                self._n,
            )
        if rays is not None and rays.size:
            self._mj_trace(data, pos, mat, rays)

    def _complex_rays(
        self, data: mujoco.MjData, pos: np.ndarray, mat: np.ndarray, visible: np.ndarray
    ) -> np.ndarray | None:
        """Pixels whose rays may hit a visible mesh/hfield/SDF geom (None if there are none)."""
        ids = self._complex[visible[self._complex]]
        if ids.size == 0:
            return None
        near = np.linalg.norm(data.geom_xpos[ids] - pos, axis=1)
        near = near <= self.cutoff + self.model.geom_rbound[ids]
        xmat = data.geom_xmat[ids].reshape(-1, 3, 3)
        corners = box_corners(data.geom_xpos[ids], xmat, self.model.geom_aabb[ids])
        x0, x1, y0, y1, empty = self._projector.rects(corners, pos, mat)
        mask = self._ray_mask
        mask.fill(False)
        for i in np.flatnonzero(near & ~empty):
            mask[y0[i] : y1[i] + 1, x0[i] : x1[i] + 1] = True
        return np.flatnonzero(mask)

    def _mj_trace(self, data: mujoco.MjData, pos: np.ndarray, mat: np.ndarray, rays: np.ndarray):
        """Trace the given pixels' rays with mujoco.mj_multiRay (all geom types)."""
        n = rays.size
        vec = self._mj_vec[: 3 * n]
        np.matmul(self._dirs[rays], mat.T, out=vec.reshape(n, 3))  # world (x, y, -1) rays
        gid, dist, nrm = self._mj_gid[:n], self._mj_dist[:n], self._mj_n[: 3 * n]
        mujoco.mj_multiRay(
            self.model, data, np.ascontiguousarray(pos, np.float64), vec, self._mj_group, 1,
            self.bodyexclude, gid, dist, nrm, n, MJ_NO_CUTOFF,
        )  # fmt: skip
        miss = (gid < 0) | (dist > self._planar_cutoff[rays])
        self._gid[rays] = np.where(miss, -1, gid)
        self._t[rays] = dist
        self._n[:, rays] = mat.T @ nrm.reshape(n, 3).T  # world -> camera frame
