"""Body motion for a scripted walker: walk along a floor path, stand, turn on the spot.

`walk_along` turns a planner's root path into a `Motion` with real gait: the path is timed
(`timing`: ramps from and to rest, rounded corners, smoothed heading), a recorded walk cycle is
played by distance travelled with a speed-dependent stride (`layers`), idle-pose turns are
stepped at either end to reach ``start_yaw`` / ``end_yaw``, and finally every stance of every
foot is pinned and the legs re-solved (`planting`), so feet do not slide. Headings are yaws
about z from facing -y: a floor direction (dx, dy) has yaw ``atan2(dx, -dy)``.

Measured foot skating (`contacts.foot_skate_m_s`, builtin body, 30 fps, shipped library):
0.005-0.010 m/s on straight, curved (r = 1.5-3 m), L-shaped and zigzag paths at 0.6-1.5 m/s,
95th percentile of planted-foot speed under 0.04 m/s; the recorded clip itself slides at
0.095 m/s by the same measure. Tests assert < `SKATE_BOUND_M_S`.
"""

from __future__ import annotations

import math

import numpy as np

from navenv.body.motion import Motion
from navenv.body.skeleton import Skeleton
from policies.scripted.gait.layers import (
    MIN_TURN_RAD,
    Body,
    Layer,
    idle_layer,
    turn_layer,
    walk_layer,
)
from policies.scripted.gait.library import MotionLibrary
from policies.scripted.gait.planting import plant_feet
from policies.scripted.gait.poses import wrap_angle
from policies.scripted.gait.timing import (
    MIN_PATH_M,
    check_path,
    check_speed,
    path_length,
    time_along,
)

SKATE_BOUND_M_S = 0.03  # tests assert it; measured 0.005-0.010 m/s at 0.6-1.5 m/s


def _check_fps(fps) -> float:
    if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps: expected a positive number of frames per second, got {fps!r}")
    return float(fps)


def _check_yaw(yaw, name: str) -> float | None:
    if yaw is None:
        return None
    if not (isinstance(yaw, int | float | np.floating) and math.isfinite(yaw)):
        raise ValueError(f"{name}: expected a finite yaw in radians or None, got {yaw!r}")
    return float(yaw)


def _check_xy(xy, name: str = "pos_xy") -> np.ndarray:
    p = np.asarray(xy, dtype=np.float64)
    if p.shape != (2,) or not np.isfinite(p).all():
        raise ValueError(f"{name}: expected a finite floor point (x, y), got {xy!r}")
    return p


def _body(library: MotionLibrary | None, betas) -> Body:
    try:
        skeleton = Skeleton.builtin(betas)
    except ValueError as e:
        raise ValueError(f"betas: {e}") from e
    return Body(skeleton, MotionLibrary.default() if library is None else library)


def _finish(body: Body, layer: Layer, fps: float, plant: bool = True) -> tuple[Motion, np.ndarray]:
    """The planted Motion of a layer, and its contacts."""
    rots = layer.rots
    motion = Motion(fps, layer.transl, rots[:, 0], rots[:, 1:], body.skeleton.betas)
    if plant:
        motion = plant_feet(motion, body.skeleton, layer.contacts, layer.lift, layer.widen)
    return motion, layer.contacts.copy()


def stand(
    duration: float,
    pos_xy,
    yaw: float,
    fps: float = 30.0,
    *,
    library: MotionLibrary | None = None,
    betas=None,
) -> Motion:
    """The idle pose held for duration seconds at a floor point, facing yaw (both feet down)."""
    fps = _check_fps(fps)
    if not (isinstance(duration, int | float) and math.isfinite(duration) and duration >= 0):
        raise ValueError(f"duration: expected seconds >= 0, got {duration!r}")
    body = _body(library, betas)
    layer = idle_layer(body, _check_xy(pos_xy), _check_yaw(yaw, "yaw"), round(duration * fps) + 1)
    return _finish(body, layer, fps, plant=False)[0]


def turn_in_place(
    pos_xy,
    yaw0: float,
    yaw1: float,
    fps: float = 30.0,
    *,
    library: MotionLibrary | None = None,
    betas=None,
) -> tuple[Motion, np.ndarray]:
    """Turn on the spot from yaw0 to yaw1 (the shorter way), stepping; Motion and (T, 2) contacts."""
    fps = _check_fps(fps)
    body = _body(library, betas)
    y0, y1 = _check_yaw(yaw0, "yaw0"), _check_yaw(yaw1, "yaw1")
    if y0 is None or y1 is None:
        raise ValueError("yaw0, yaw1: both are required (radians)")
    return _finish(body, turn_layer(body, _check_xy(pos_xy), y0, y1, fps), fps)


def walk_along(
    path_xy,
    *,
    speed,
    fps: float = 30.0,
    library: MotionLibrary | None = None,
    start_yaw: float | None = None,
    end_yaw: float | None = None,
    rng: np.random.Generator | int | None = None,
    betas=None,
) -> tuple[Motion, np.ndarray]:
    """Walk a (K, 2) floor polyline from standing to standing; Motion and (T, 2) foot contacts.

    speed: m/s, one number or (K,) per-point speeds. start_yaw / end_yaw: headings to turn from
    before setting off / to after arriving (None: face along the path). rng picks among walk
    cycles of similar speed (None: the nearest). betas: the builtin body's shape (None: mean).
    Contacts are (left, right) and are what the feet were planted to.
    """
    path = check_path(path_xy)
    speeds = check_speed(speed, len(path))
    fps = _check_fps(fps)
    y_start, y_end = _check_yaw(start_yaw, "start_yaw"), _check_yaw(end_yaw, "end_yaw")
    body = _body(library, betas)
    if path_length(path) < MIN_PATH_M:
        y0 = y_start if y_start is not None else (y_end if y_end is not None else 0.0)
        return _finish(
            body, turn_layer(body, path[0], y0, y0 if y_end is None else y_end, fps), fps
        )
    timing = time_along(path, speeds, fps)
    generator = (
        rng if isinstance(rng, np.random.Generator) or rng is None else np.random.default_rng(rng)
    )
    cycle = body.library.cycle_for_speed(float(np.median(speeds)), body.leg_length_m, generator)
    layers = []
    if y_start is not None and abs(wrap_angle(timing.yaw[0] - y_start)) >= MIN_TURN_RAD:
        layers.append(turn_layer(body, timing.xy[0], y_start, float(timing.yaw[0]), fps))
    layers.append(walk_layer(body, timing, cycle))
    if y_end is not None and abs(wrap_angle(y_end - timing.yaw[-1])) >= MIN_TURN_RAD:
        layers.append(turn_layer(body, timing.xy[-1], float(timing.yaw[-1]), y_end, fps))
    return _finish(body, Layer.concatenate(layers), fps)
