"""Turn per-pixel ray hits (geom id, planar depth, camera-frame normal) into a uint8 RGB image.

The look is deliberately simple but legible for ego-centric video: each geom's flat colour
(`geom_rgba`, or `mat_rgba` of its material; textures are not sampled), lit by an ambient term, a
Lambert term from one directional "sun" and a headlight term (|normal . ray|) so that surfaces
facing away from the sun keep their shape; planes get a faint checker so ground motion is visible;
misses get a sky gradient from horizon to zenith colour by the ray's elevation; optional linear
distance fog fades towards the horizon colour. Every pass is a vectorised numpy operation writing
into buffers allocated once per camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np


class RenderError(ValueError):
    """Bad renderer/camera argument: the message names the argument and what is accepted."""


def _check_rgb(name: str, value: tuple[float, ...]) -> None:
    if len(value) != 3 or not all(0.0 <= float(c) <= 1.0 for c in value):
        raise RenderError(f"ShadingConfig.{name}={value!r}: expected 3 floats in [0, 1]")


@dataclass(frozen=True)
class ShadingConfig:
    """How hits become colours; all colours are RGB floats in [0, 1]."""

    sky_rgb: tuple[float, float, float] = (0.53, 0.68, 0.88)
    """Sky colour straight up (zenith); misses blend from `horizon_rgb` to this by elevation."""
    horizon_rgb: tuple[float, float, float] = (0.86, 0.89, 0.93)
    """Sky colour at and below the horizon; also the fog colour."""
    light_dir: tuple[float, float, float] = (0.35, 0.6, -1.0)
    """Direction the sun's light travels, world frame (any length > 0; -z is straight down)."""
    ambient: float = 0.35
    """Light every surface gets regardless of orientation."""
    diffuse: float = 0.45
    """Weight of the sun's Lambert term max(0, -n . light_dir)."""
    headlight: float = 0.3
    """Weight of the headlight term |n . ray|: keeps shapes visible on the sun's shadow side."""
    checker_m: float = 0.5
    """Edge of a floor-checker square in metres, in each plane's own frame; 0 disables it."""
    checker_contrast: float = 0.12
    """Checker squares are multiplied by 1 +- this."""
    fog_start_m: float | None = None
    """Ray distance (m) where linear fog starts (all horizon colour at the cutoff); None: off."""

    def __post_init__(self) -> None:
        _check_rgb("sky_rgb", self.sky_rgb)
        _check_rgb("horizon_rgb", self.horizon_rgb)
        light = np.asarray(self.light_dir, dtype=float)
        if light.shape != (3,) or not np.all(np.isfinite(light)) or np.linalg.norm(light) < 1e-9:
            raise RenderError(
                f"ShadingConfig.light_dir={self.light_dir!r}: expected 3 finite floats, not all 0"
            )
        for name in ("ambient", "diffuse", "headlight", "checker_m"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise RenderError(f"ShadingConfig.{name}={value!r}: expected a finite float >= 0")
        if not 0.0 <= self.checker_contrast < 1.0:
            raise RenderError(
                f"ShadingConfig.checker_contrast={self.checker_contrast!r}: expected 0 <= c < 1"
            )
        if self.fog_start_m is not None and not (
            math.isfinite(self.fog_start_m) and self.fog_start_m >= 0.0
        ):
            raise RenderError(
                f"ShadingConfig.fog_start_m={self.fog_start_m!r}: expected None or a float >= 0"
            )


def geom_base_rgb(model: mujoco.MjModel, out: np.ndarray) -> np.ndarray:
    """Write geoms' RGB (their material's where they have one) into out[:ngeom] of (ngeom+1, 3)."""
    out[: model.ngeom] = model.geom_rgba[:, :3]
    if model.nmat:
        has_mat = model.geom_matid >= 0
        out[: model.ngeom][has_mat] = model.mat_rgba[model.geom_matid[has_mat], :3]
    return out


class Shader:
    """Shades one camera's hit buffers; holds every per-pixel buffer it needs, allocated once."""

    def __init__(
        self,
        config: ShadingConfig,
        model: mujoco.MjModel,
        ray_x: np.ndarray,
        ray_y: np.ndarray,
        inv_norm: np.ndarray,
    ) -> None:
        """`ray_x`, `ray_y`: (N,) camera-frame ray directions (x, y, -1); `inv_norm`: 1/|ray|."""
        self.config = config
        self._model = model
        self._x, self._y, self._inv_norm = ray_x, ray_y, inv_norm
        n = ray_x.shape[0]
        self._unit_rays = (np.stack([ray_x, ray_y, -np.ones(n)]) * inv_norm).astype(np.float32)
        self._rgb = np.empty((n, 3), np.float32)
        self._k = np.empty(n, np.float32)
        self._tmp = np.empty(n, np.float32)
        # Row ngeom doubles as the colour for id -1 (a miss), later overwritten by the sky.
        self._base = np.zeros((model.ngeom + 1, 3), np.float32)
        light = np.asarray(config.light_dir, dtype=float)
        self._light_world = light / np.linalg.norm(light)
        self._zenith = np.asarray(config.sky_rgb, np.float32) * 255.0
        self._horizon = np.asarray(config.horizon_rgb, np.float32) * 255.0
        self._is_plane = np.append(model.geom_type == mujoco.mjtGeom.mjGEOM_PLANE, False)

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
        """Write uint8 RGB for hits (geom_id >= 0) and misses (-1) into `out` (N, 3); returns it.

        `depth`: (N,) planar depth in metres; `normal`: (3, N) float32 unit normals in the camera
        frame; `cam_pos`/`cam_mat`: camera position and camera-to-world rotation (3, 3).
        """
        cfg, rgb, k, tmp = self.config, self._rgb, self._k, self._tmp
        np.take(geom_base_rgb(self._model, self._base), geom_id, axis=0, out=rgb)

        # Sun (Lambert) + ambient + headlight in the camera frame, scaled to 0..255 at once.
        light = (cam_mat.T @ -self._light_world).astype(np.float32)
        np.matmul(light, normal, out=k)
        np.maximum(k, 0.0, out=k)
        k *= 255.0 * cfg.diffuse
        np.einsum("ij,ij->j", normal, self._unit_rays, out=tmp)
        np.abs(tmp, out=tmp)
        tmp *= 255.0 * cfg.headlight
        k += tmp
        k += 255.0 * cfg.ambient
        rgb *= k[:, None]

        if cfg.checker_m > 0.0:
            self._checker(data, cam_pos, cam_mat, geom_id, depth)
        if cfg.fog_start_m is not None and cutoff > cfg.fog_start_m:
            dist = depth / self._inv_norm  # planar depth -> ray distance
            np.copyto(tmp, (dist - cfg.fog_start_m) / (cutoff - cfg.fog_start_m), "same_kind")
            np.clip(tmp, 0.0, 1.0, out=tmp)
            rgb += tmp[:, None] * (self._horizon - rgb)

        miss = np.flatnonzero(geom_id < 0)
        if miss.size:  # sky gradient by the ray's elevation: world up in the camera frame
            up = cam_mat[2]
            elev = (self._x[miss] * up[0] + self._y[miss] * up[1] - up[2]) * self._inv_norm[miss]
            elev = np.clip(elev, 0.0, 1.0).astype(np.float32)[:, None]
            rgb[miss] = self._horizon + elev * (self._zenith - self._horizon)

        rgb += 0.5  # round, not truncate, in the cast below
        np.minimum(rgb, 255.0, out=rgb)
        np.copyto(out, rgb, casting="unsafe")
        return out

    def _checker(
        self,
        data: mujoco.MjData,
        cam_pos: np.ndarray,
        cam_mat: np.ndarray,
        geom_id: np.ndarray,
        depth: np.ndarray,
    ) -> None:
        """Modulate plane pixels by a checker in each plane's local xy (it moves with the plane)."""
        idx = np.flatnonzero(self._is_plane[geom_id])
        if idx.size == 0:
            return
        g = geom_id[idx]
        t = depth[idx]
        q_cam = np.stack([self._x[idx] * t, self._y[idx] * t, -t], axis=1)
        rel = q_cam @ cam_mat.T + (cam_pos - data.geom_xpos[g])
        mats = data.geom_xmat[g].reshape(-1, 3, 3)
        u = np.einsum("nj,nj->n", rel, mats[:, :, 0])
        v = np.einsum("nj,nj->n", rel, mats[:, :, 1])
        size = self.config.checker_m
        parity = (np.floor(u / size) + np.floor(v / size)) % 2.0
        factor = 1.0 + self.config.checker_contrast * (2.0 * parity - 1.0)
        self._rgb[idx] *= factor[:, None].astype(np.float32)
