"""Compiled (numba) twin of `navenv.render.shading.Shader.shade`, byte for byte the same image.

`Shader` (numpy, ~20 whole-image passes) stays the definition of the look; this kernel does the
same per pixel in one pass. To give the same bytes it repeats each numpy step's arithmetic in the
same precision and order: colours, lighting, fog and the sky blend in float32 (numpy 2 casts a
Python float operand to float32 first), the checker's plane coordinates and the sky's elevation
in float64 and then cast, three-term dot products summed left to right (what numpy's float32
matmul / einsum give for them), the final + 0.5 and truncating cast. Per-frame inputs that numpy
computes with small matrix products (the light in the camera frame) and the base colours come
from the same numpy code (`geom_base_rgb`), so they are identical by construction. (The one
place a machine's BLAS could still round differently: numpy's float64 matmul for a plane hit's
world point, which only matters for a point within ~1e-16 m of a checker square's edge.)

If `shading.py` changes, this kernel must follow: tests/navenv/test_render.py compares the two
images exactly. Imported only once a camera's numba backend is resolved (it imports numba).
"""

from __future__ import annotations

import mujoco
import numba
import numpy as np

from navenv.render.shading import Shader, ShadingConfig, geom_base_rgb

_OPTS = {"cache": True, "fastmath": False, "error_model": "numpy"}
_F0, _F1, _HALF, _F255 = np.float32(0.0), np.float32(1.0), np.float32(0.5), np.float32(255.0)


@numba.njit(**_OPTS)
def _shade_kernel(
    geom_id: np.ndarray,  # (N,) int32, -1: miss
    depth: np.ndarray,  # (N,) float64 planar depth (m)
    normal: np.ndarray,  # (3, N) float32 unit camera-frame normals
    base: np.ndarray,  # (ngeom + 1, 3) float32 geom RGB in [0, 1]
    is_plane: np.ndarray,  # (ngeom + 1,) bool
    unit_rays: np.ndarray,  # (3, N) float32 unit camera-frame rays
    ray_x: np.ndarray,  # (N,) float64 rays (x, y, -1)
    ray_y: np.ndarray,
    inv_norm: np.ndarray,  # (N,) float64 1 / |ray|
    light: np.ndarray,  # (3,) float32 direction to the sun, camera frame
    weights: np.ndarray,  # (3,) float32 255 * (diffuse, headlight, ambient)
    checker: np.ndarray,  # (2,) float64 square edge (m; 0: off), contrast
    fog: np.ndarray,  # (2,) float64 start distance (m; < 0: off), cutoff (m)
    horizon: np.ndarray,  # (3,) float32 0..255
    zenith: np.ndarray,  # (3,) float32 0..255
    geom_xpos: np.ndarray,  # (ngeom, 3)
    geom_xmat: np.ndarray,  # (ngeom, 9)
    pose: np.ndarray,  # (12,) camera position, then camera-to-world rotation row-major
    out: np.ndarray,  # (N, 3) uint8
) -> None:
    """`Shader.shade` for every pixel (see the module docstring for the arithmetic contract)."""
    size, contrast = checker[0], checker[1]
    fog_start, cutoff = fog[0], fog[1]
    fog_on = fog_start >= 0.0 and cutoff > fog_start
    for p in range(geom_id.size):
        g = geom_id[p]
        # sun (Lambert) + headlight + ambient
        n0, n1, n2 = normal[0, p], normal[1, p], normal[2, p]
        k = light[0] * n0 + light[1] * n1 + light[2] * n2
        if k < _F0:  # numpy.maximum(k, 0): keeps NaN and -0
            k = _F0
        k = k * weights[0]
        head = abs(n0 * unit_rays[0, p] + n1 * unit_rays[1, p] + n2 * unit_rays[2, p])
        k = k + head * weights[1]
        k = k + weights[2]
        r, gr, b = base[g, 0] * k, base[g, 1] * k, base[g, 2] * k
        if size > 0.0 and is_plane[g]:  # checker in the plane's own xy
            t = depth[p]
            q0, q1, q2 = ray_x[p] * t, ray_y[p] * t, -t
            u = v = 0.0
            for i in range(3):
                rel = q0 * pose[3 + 3 * i] + q1 * pose[4 + 3 * i] + q2 * pose[5 + 3 * i]
                rel = rel + (pose[i] - geom_xpos[g, i])
                u += rel * geom_xmat[g, 3 * i]
                v += rel * geom_xmat[g, 3 * i + 1]
            parity = (np.floor(u / size) + np.floor(v / size)) % 2.0
            factor = np.float32(1.0 + contrast * (2.0 * parity - 1.0))
            r, gr, b = r * factor, gr * factor, b * factor
        if fog_on:
            dist = depth[p] / inv_norm[p]
            f = np.float32((dist - fog_start) / (cutoff - fog_start))
            f = min(max(f, _F0), _F1)
            r = r + f * (horizon[0] - r)
            gr = gr + f * (horizon[1] - gr)
            b = b + f * (horizon[2] - b)
        if g < 0:  # sky by the ray's elevation: world up (camera matrix row 2) . unit ray
            elev = (ray_x[p] * pose[9] + ray_y[p] * pose[10] - pose[11]) * inv_norm[p]
            e = np.float32(min(max(elev, 0.0), 1.0))
            r = horizon[0] + e * (zenith[0] - horizon[0])
            gr = horizon[1] + e * (zenith[1] - horizon[1])
            b = horizon[2] + e * (zenith[2] - horizon[2])
        out[p, 0] = np.uint8(min(r + _HALF, _F255))
        out[p, 1] = np.uint8(min(gr + _HALF, _F255))
        out[p, 2] = np.uint8(min(b + _HALF, _F255))


class JitShader:
    """`Shader`'s compiled twin: built from one (its config and buffers), same `shade` call."""

    def __init__(self, ref: Shader) -> None:
        cfg = ref.config
        self.ref = ref
        # Python floats times float32 arrays round the float to float32 first (numpy 2)
        self.weights = np.array([255.0 * cfg.diffuse, 255.0 * cfg.headlight, 255.0 * cfg.ambient])
        self.weights = self.weights.astype(np.float32)
        self.checker = np.array([cfg.checker_m, cfg.checker_contrast])
        fog_start = -1.0 if cfg.fog_start_m is None else cfg.fog_start_m
        self.fog = np.array([fog_start, 0.0])
        self.pose = np.empty(12)

    def shade(
        self,
        data: mujoco.MjData,
        cam_pos: np.ndarray,
        cam_mat: np.ndarray,
        geom_id: np.ndarray,
        depth: np.ndarray,
        normal: np.ndarray,
        cutoff: float,
        out: np.ndarray,
    ) -> np.ndarray:
        """As `Shader.shade`: uint8 RGB for hits and misses into `out` (N, 3); returns it."""
        ref = self.ref
        base = geom_base_rgb(ref._model, ref._base)
        light = (cam_mat.T @ -ref._light_world).astype(np.float32)
        self.pose[:3] = cam_pos
        self.pose[3:] = cam_mat.reshape(9)
        self.fog[1] = cutoff
        _shade_kernel(
            geom_id, depth, normal, base, ref._is_plane, ref._unit_rays, ref._x, ref._y,
            ref._inv_norm, light, self.weights, self.checker, self.fog, ref._horizon,
            ref._zenith, data.geom_xpos, data.geom_xmat, self.pose, out,
        )  # fmt: skip
        return out


def warm_up() -> None:
    """Compile (or load from cache) and run the kernel on a 2-pixel frame: a lit hit and the sky."""
    model = mujoco.MjModel.from_xml_string(
        "<mujoco><worldbody><geom size='1'/></worldbody></mujoco>"
    )
    data = mujoco.MjData(model)
    x, y = np.array([0.0, 0.0]), np.array([0.0, 1.0])
    inv_norm = 1.0 / np.hypot(np.hypot(x, y), 1.0)
    ref = Shader(ShadingConfig(fog_start_m=1.0), model, x, y, inv_norm)
    ids = np.array([0, -1], np.int32)
    depth = np.array([2.0, 0.0])
    normal = np.zeros((3, 2), np.float32)
    normal[2, 0] = 1.0
    want = ref.shade(
        data, np.zeros(3), np.eye(3), ids, depth, normal, 5.0, np.empty((2, 3), np.uint8)
    )
    got = JitShader(ref).shade(
        data, np.zeros(3), np.eye(3), ids, depth, normal, 5.0, np.empty((2, 3), np.uint8)
    )
    if not np.array_equal(got, want):
        raise RuntimeError(f"warm-up frame wrong: {got.tolist()} instead of {want.tolist()}")
