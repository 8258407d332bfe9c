"""MuJoCo's OpenGL renderer and the ray-cast camera behind one small interface, with fallback.

`make_renderer(model, w, h, prefer="gl")` returns a `GLRenderer` when an OpenGL context can be
created, else warns once and returns a `RayCastRenderer` (CPU, no OpenGL). Both have
`render(data, camera=None) -> uint8 (H, W, 3)` and `close()`.

GL backend: `GLRenderer` runs `mujoco.Renderer`'s pipeline (MjvScene, MjrContext, mjr_render,
mjr_readPixels) on a context of the backend named by MUJOCO_GL *when the renderer is made*:
egl, osmesa or glfw. `mujoco.Renderer` itself uses the backend bound when `mujoco` was first
imported, so any earlier `import mujoco` without MUJOCO_GL (another module, an import sorter
moving imports) would leave it on GLFW, which needs a display. Importing `navenv.render` sets
MUJOCO_GL=egl on Linux if it is unset (headless; software rendering through Mesa where there is
no GPU) and never overrides a user's choice such as MUJOCO_GL=osmesa.

Shadows are off by default: the shadow map is an extra render pass per light, about 10x the frame
time in software GL at small resolutions (`benchmarks/perf_raycast.py`). One GL context is made
per renderer and reused for every frame; use a renderer from the thread that made it.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import warnings
import weakref
from typing import Protocol

import mujoco
import numpy as np

from navenv.render.raycast import RayCastCamera, _resolve_camera, camera_fovy_deg
from navenv.render.shading import RenderError

PREFERENCES: tuple[str, ...] = ("gl", "raycast")
"""Values `make_renderer(prefer=...)` accepts."""

GL_BACKENDS: dict[str, str] = {
    "egl": "mujoco.egl",
    "osmesa": "mujoco.osmesa",
    "glfw": "mujoco.glfw",
}
"""MUJOCO_GL values GLRenderer supports and the MuJoCo module holding each one's GLContext."""

# What making a GL context raises when no backend works: ImportError (backend or PyOpenGL
# missing, PYOPENGL_PLATFORM conflict, no EGL device, unsupported MUJOCO_GL), OSError (shared
# library missing), AttributeError (PyOpenGL without the platform's GL functions), RuntimeError
# (EGL/OSMesa context creation failed), mujoco.FatalError (no current context: GLFW, no display).
GL_ERRORS: tuple[type[BaseException], ...] = (
    ImportError,
    OSError,
    AttributeError,
    RuntimeError,
    mujoco.FatalError,
)


def gl_backend() -> str:
    """The GL backend GLRenderer will use: MUJOCO_GL, else egl on Linux and glfw elsewhere."""
    default = "egl" if sys.platform.startswith("linux") else "glfw"
    return os.environ.get("MUJOCO_GL", "").strip().lower() or default


def _gl_context_class() -> type:
    """MuJoCo's GLContext class for `gl_backend()` (ImportError if unsupported or missing)."""
    backend = gl_backend()
    if backend not in GL_BACKENDS:
        raise ImportError(f"MUJOCO_GL={backend!r}: GLRenderer supports {sorted(GL_BACKENDS)}")
    return importlib.import_module(GL_BACKENDS[backend]).GLContext


class Renderer(Protocol):
    """What `make_renderer` returns."""

    kind: str
    width: int
    height: int

    def render(self, data: mujoco.MjData, camera: str | int | None = None) -> np.ndarray:
        """uint8 (H, W, 3) image from a model camera (name or id) or the default free camera."""
        ...

    def close(self) -> None:
        """Release the renderer's resources; it cannot render afterwards."""
        ...


class GLRenderer:
    """MuJoCo's OpenGL rendering on one offscreen context made for this renderer."""

    kind = "gl"

    def __init__(
        self, model: mujoco.MjModel, width: int, height: int, *, shadows: bool = False
    ) -> None:
        """Raises one of GL_ERRORS if no GL context can be made, RenderError for a bad size."""
        self._context = self._mjr = None  # so that close() works whatever __init__ reached
        offw, offh = model.vis.global_.offwidth, model.vis.global_.offheight
        if not (1 <= width <= offw and 1 <= height <= offh):
            raise RenderError(
                f"GLRenderer size {width}x{height}: must be within the model's offscreen buffer "
                f"{offw}x{offh}; raise <visual><global offwidth=.. offheight=../> in the model"
            )
        self.model, self.width, self.height = model, width, height
        self._context = _gl_context_class()(width, height)
        _track(self)
        self._context.make_current()
        self._mjr = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._mjr)
        self._scene = mujoco.MjvScene(model, maxgeom=10_000)
        self._scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        self._option = mujoco.MjvOption()
        self._camera = mujoco.MjvCamera()
        self._rect = mujoco.MjrRect(0, 0, width, height)
        self._pixels = np.empty((height, width, 3), np.uint8)

    def render(self, data: mujoco.MjData, camera: str | int | None = None) -> np.ndarray:
        """uint8 (H, W, 3) image from a model camera (name or id) or the default free camera."""
        if self._mjr is None:
            raise RenderError("GLRenderer.render: the renderer was closed")
        cid = _resolve_camera(self.model, camera)
        if cid < 0:
            mujoco.mjv_defaultFreeCamera(self.model, self._camera)
        else:
            self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
            self._camera.fixedcamid = cid
        self._context.make_current()
        mujoco.mjv_updateScene(
            self.model, data, self._option, None, self._camera, mujoco.mjtCatBit.mjCAT_ALL,
            self._scene,
        )  # fmt: skip
        mujoco.mjr_render(self._rect, self._scene, self._mjr)
        mujoco.mjr_readPixels(self._pixels, None, self._rect, self._mjr)
        return np.flipud(self._pixels).copy()  # GL's row 0 is the bottom

    def close(self) -> None:
        """Free MuJoCo's render context and the GL context."""
        if self._mjr is not None:
            self._context.make_current()
            self._mjr.free()
            self._mjr = None
        if self._context is not None:
            self._context.free()
            self._context = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit the GL backend may already be gone
            pass

    def __enter__(self) -> GLRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_live: weakref.WeakSet[GLRenderer] = weakref.WeakSet()
_atexit_registered = False


def _track(renderer: GLRenderer) -> None:
    """Remember a renderer with a GL context, to close it at interpreter exit if nobody did.

    The hook is registered after the first context exists: MuJoCo's EGL backend registers its
    own `eglTerminate` hook when it makes its first display, and atexit runs hooks last-in
    first-out, so ours frees the contexts while the display is still there."""
    global _atexit_registered
    _live.add(renderer)
    if not _atexit_registered:
        atexit.register(_close_live_renderers)
        _atexit_registered = True


def _close_live_renderers() -> None:
    """atexit hook: close every GL renderer still open (`env.render()` without `env.close()`)."""
    for renderer in list(_live):
        try:
            renderer.close()
        except Exception:  # exiting anyway: a context that will not free is moot
            pass


class RayCastRenderer:
    """The `Renderer` interface over `RayCastCamera`s (one per camera used, made on first use)."""

    kind = "raycast"

    def __init__(self, model: mujoco.MjModel, width: int, height: int, **camera_kwargs) -> None:
        """camera_kwargs: passed to every RayCastCamera (bodyexclude, cutoff, shading, ...)."""
        self.model, self.width, self.height = model, width, height
        self._kwargs = camera_kwargs
        self._cams: dict[int, RayCastCamera] = {}

    def render(self, data: mujoco.MjData, camera: str | int | None = None) -> np.ndarray:
        """uint8 (H, W, 3) image from a model camera (name or id) or the default free camera."""
        cid = _resolve_camera(self.model, camera)
        cam = self._cams.get(cid)
        if cam is None:  # same field of view as MuJoCo's renderer would use for this camera
            kwargs = {"fovy_deg": camera_fovy_deg(self.model, cid), **self._kwargs}
            cam = RayCastCamera(
                self.model, self.width, self.height, camera=None if cid < 0 else cid, **kwargs
            )
            self._cams[cid] = cam
        return cam.render(data)

    def close(self) -> None:
        """Drop the cameras' buffers."""
        self._cams.clear()

    def __enter__(self) -> RayCastRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _make_gl(model: mujoco.MjModel, width: int, height: int, shadows: bool) -> GLRenderer:
    """Factory for the GL path (a seam: tests replace it with one that fails)."""
    with warnings.catch_warnings():  # GLFW without a display warns before MuJoCo raises
        warnings.filterwarnings("ignore", module="glfw")
        return GLRenderer(model, width, height, shadows=shadows)


_warned = False
_gl_ok: bool | None = None  # None: not tried yet
_gl_error: BaseException | None = None  # why the last attempt failed


def _warn_fallback(exc: BaseException | None) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"OpenGL rendering unavailable with MUJOCO_GL={gl_backend()} ({type(exc).__name__}: "
            f"{exc}); using the CPU ray-cast renderer instead",
            RuntimeWarning,
            stacklevel=3,
        )


def gl_available() -> bool:
    """Whether a MuJoCo GL context can be created here (probed once per process, then cached)."""
    global _gl_ok, _gl_error
    if _gl_ok is None:
        model = mujoco.MjModel.from_xml_string("<mujoco><worldbody/></mujoco>")
        try:
            probe = _make_gl(model, 8, 8, False)
        except GL_ERRORS as exc:
            _gl_ok, _gl_error = False, exc
        else:
            probe.render(mujoco.MjData(model))
            probe.close()
            _gl_ok = True
    return _gl_ok


def make_renderer(
    model: mujoco.MjModel,
    width: int,
    height: int,
    *,
    prefer: str = "gl",
    shadows: bool = False,
    **raycast_kwargs,
) -> GLRenderer | RayCastRenderer:
    """A renderer of the preferred kind; "gl" falls back to ray casting (warning once) if no GL
    context can be made. raycast_kwargs go to RayCastCamera (bodyexclude, cutoff, shading...)."""
    if prefer not in PREFERENCES:
        raise RenderError(f"prefer={prefer!r}: expected one of {PREFERENCES}")
    global _gl_ok, _gl_error
    if prefer == "gl":
        if _gl_ok is not False:  # once GL failed in this process it is not tried again
            try:
                return _make_gl(model, width, height, shadows)
            except GL_ERRORS as exc:
                _gl_ok, _gl_error = False, exc
        _warn_fallback(_gl_error)
    return RayCastRenderer(model, width, height, **raycast_kwargs)
