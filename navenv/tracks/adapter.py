"""Real pedestrian tracks as agents in a flat room, so the room models can train on them.

The recordings have no scanned geometry, so the room is only a floor the tracks' extent (plus a
margin) wide, centred at the origin, with four visual-only boundary walls (collision "none": a
real pedestrian never walks into a wall the data do not have), every floor cell walkable, and a
tripod camera in a corner. The conventions (rounding to 0.1 mm, a 640 x 480 camera with a
90 degree horizontal field of view, the pelvis height of spawns) are scenes.generate_room's.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from navenv.tracks.io import Track, TrackFile
from scenes.room import PELVIS_HEIGHT_M
from scenes.types import Camera, Metadata, Primitive, Scene, Spawn, WalkableGrid

ADAPTER_GENERATOR = "navenv.tracks.flat_room_for"
ADAPTER_VERSION = "1"
CELL_M = 0.1  # walkable grid cell edge, as in generated rooms
MARGIN_M = 1.0  # free floor around the tracks' extent
WALL_HEIGHT_M = 2.6
WALL_THICKNESS_M = 0.05  # thin: the walls only mark the edge of the data
FLOOR_OVERHANG_M = 1.0  # the floor plane reaches past the walls, as in generated rooms
CAMERA_INSET_M = 0.15  # tripod distance from the corner walls
CAMERA_BELOW_TOP_M = 0.25  # tripod height below the wall tops
LOOKAT_HEIGHT_M = 0.8
IMAGE_W, IMAGE_H = 640, 480
HFOV_DEG = 90.0
DECIMALS = 4  # scenes round coordinates to 0.1 mm
TRACKS_LICENCE = "that of the track data (ETH/UCY: research use, cite the dataset's paper)"
FLOOR_RGBA = (0.62, 0.58, 0.52, 1.0)
WALL_RGBA = (0.92, 0.91, 0.88, 1.0)


def _r(v) -> tuple[float, ...]:
    return tuple(round(float(x), DECIMALS) for x in v)


def _all_xy(track_file: TrackFile) -> np.ndarray:
    if not track_file.tracks:
        raise ValueError(f"{track_file.path}: no tracks to place; accepted: a non-empty file")
    return np.concatenate([t.xy for t in track_file.tracks])


def _wall(name: str, centre: tuple, half: tuple) -> Primitive:
    return Primitive(
        name=name,
        type="box",
        size=_r(half),
        pos=_r(centre),
        rgba=WALL_RGBA,
        collision="none",
    )


def _spawn(tracks: list[Track]) -> Spawn:
    """The start of the longest track, facing its first step (rest orientation faces -y)."""
    t = max(tracks, key=lambda t: len(t.frames))
    yaw = 0.0
    if len(t.xy) > 1:
        dx, dy = t.xy[1] - t.xy[0]
        yaw = math.atan2(dx, -dy) if dx or dy else 0.0
    return Spawn(pos=_r((*t.xy[0], PELVIS_HEIGHT_M)), yaw=round(yaw, DECIMALS))


def flat_room_for(
    track_file: TrackFile, margin: float = MARGIN_M
) -> tuple[Scene, tuple[float, float]]:
    """A flat room around a file's tracks, centred at the origin, and the xy offset subtracted."""
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not margin >= 0:
        raise ValueError(f"margin={margin!r}; accepted: a number of metres >= 0")
    xy = _all_xy(track_file)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    offset = _r((lo + hi) / 2)
    reach = np.abs(xy - offset).max(axis=0) + margin  # (2,) half extents the tracks need
    # Whole cells, so the grid ends exactly at the walls.
    nx, ny = (max(1, math.ceil(2 * v / CELL_M - 1e-9)) for v in reach)
    hx, hy = round(nx * CELL_M / 2, DECIMALS), round(ny * CELL_M / 2, DECIMALS)
    t, h = WALL_THICKNESS_M, WALL_HEIGHT_M
    geometry = [
        Primitive(
            name="floor",
            type="plane",
            size=_r((hx + FLOOR_OVERHANG_M, hy + FLOOR_OVERHANG_M, 0.1)),
            rgba=FLOOR_RGBA,
        ),
        _wall("wall_0", (0, -hy - t / 2, h / 2), (hx + t, t / 2, h / 2)),
        _wall("wall_1", (hx + t / 2, 0, h / 2), (t / 2, hy + t, h / 2)),
        _wall("wall_2", (0, hy + t / 2, h / 2), (hx + t, t / 2, h / 2)),
        _wall("wall_3", (-hx - t / 2, 0, h / 2), (t / 2, hy + t, h / 2)),
    ]
    f = round((IMAGE_W / 2) / math.tan(math.radians(HFOV_DEG / 2)), DECIMALS)
    camera = Camera(
        name="tripod",
        pos=_r((hx - CAMERA_INSET_M, hy - CAMERA_INSET_M, h - CAMERA_BELOW_TOP_M)),
        lookat=(0.0, 0.0, LOOKAT_HEIGHT_M),
        width=IMAGE_W,
        height=IMAGE_H,
        fx=f,
        fy=f,
        cx=IMAGE_W / 2,
        cy=IMAGE_H / 2,
    )
    scene = Scene(
        name=f"tracks_{track_file.scene}",
        kind="room",
        geometry=geometry,
        cameras=[camera],
        walkable=WalkableGrid(origin=(-hx, -hy), cell=CELL_M, rows=["1" * nx] * ny),
        spawn=_spawn(agents_in_room(track_file, offset)),
        metadata=Metadata(
            source=f"tracks:{track_file.name}",
            licence=TRACKS_LICENCE,
            generator=ADAPTER_GENERATOR,
            generator_version=ADAPTER_VERSION,
            params={
                "margin": float(margin),
                "offset": [offset[0], offset[1]],
                "frame_step": int(track_file.frame_step),
                "fps": float(track_file.fps),
            },
        ),
    )
    return scene, (offset[0], offset[1])


def agents_in_room(track_file: TrackFile, offset: tuple[float, float]) -> list[Track]:
    """The file's tracks shifted by -offset into the room of `flat_room_for` (copies)."""
    shift = np.asarray(offset, dtype=np.float64).reshape(2)
    return [replace(t, frames=t.frames.copy(), xy=t.xy - shift) for t in track_file.tracks]
