"""Cameras that turn a MuJoCo scene into images.

- `RayCastCamera`: CPU ray casting, no OpenGL, deterministic; uint8 RGB and float32 planar depth;
  the default for observations. A numba-compiled tracer and shader (~6,500 frames/s at 64x64 on
  one core in ClimbRoute) with the numpy tracer (~1,000 frames/s) as fallback and reference.
- `make_renderer(model, w, h, prefer="gl" | "raycast")`: MuJoCo's OpenGL renderer for pretty
  videos, falling back to ray casting (with one warning) where no GL context can be made.

Importing this package sets MUJOCO_GL=egl on Linux when it is unset (headless EGL; it never
overrides a user's choice); see `navenv.render.gl` for how the GL backend is chosen.
"""

import os as _os
import sys as _sys

# Also makes a plain mujoco.Renderer headless when `mujoco` is first imported after this package.
if _sys.platform.startswith("linux"):
    _os.environ.setdefault("MUJOCO_GL", "egl")

from navenv.render.gl import (
    GL_BACKENDS,
    GL_ERRORS,
    PREFERENCES,
    GLRenderer,
    RayCastRenderer,
    Renderer,
    gl_available,
    gl_backend,
    make_renderer,
)
from navenv.render.raycast import BACKENDS, RayCastCamera, camera_fovy_deg
from navenv.render.shading import RenderError, ShadingConfig

__all__ = [
    "BACKENDS",
    "GL_BACKENDS",
    "GL_ERRORS",
    "PREFERENCES",
    "GLRenderer",
    "RayCastCamera",
    "RayCastRenderer",
    "RenderError",
    "Renderer",
    "ShadingConfig",
    "camera_fovy_deg",
    "gl_available",
    "gl_backend",
    "make_renderer",
]
