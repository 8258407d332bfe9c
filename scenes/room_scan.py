"""What a scanned room means: where a person can walk, and which blobs are furniture.

A scan is geometry without labels. From its floor-frame height map (the highest surface below
2 m per 10 cm cell, `scenes.surface.rasterize_max`) this module derives:

- the walkable grid: floor cells with nothing above the ankle, eroded by a body radius so a
  person standing on any walkable cell clears walls and furniture (as `generate_room` does);
- furniture regions: connected blobs of raised cells away from the room's boundary walls, each
  an oriented box (principal axes of its cells) with a label guessed from its height, size and
  flatness (`label_blob`). Labels are heuristics, written to `metadata.fixes` with the numbers
  they came from, so a user can check or replace them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from scenes.types import Region, WalkableGrid

FLOOR_MAX_M = 0.1  # a cell whose highest surface is at most this is floor
BODY_RADIUS_M = 0.25  # walkable cells keep this from anything raised (as generate_room)
WALL_BAND_M = 0.25  # raised cells this close to the scan's outline are walls
MIN_BLOB_M2 = 0.04  # smaller raised blobs are noise
FLAT_TOL_M = 0.06  # cells within this of a blob's top count as its top surface


def walkable_grid(heights: np.ndarray, origin: tuple[float, float], cell: float) -> WalkableGrid:
    """Floor cells (height <= FLOOR_MAX_M) at least BODY_RADIUS_M from any other cell."""
    floor = ~np.isnan(heights) & (np.nan_to_num(heights, nan=9.0) <= FLOOR_MAX_M)
    clearance = ndimage.distance_transform_edt(np.pad(floor, 1))[1:-1, 1:-1] * cell
    walk = floor & (clearance > BODY_RADIUS_M)
    return WalkableGrid(
        origin=(round(origin[0], 6), round(origin[1], 6)),
        cell=cell,
        rows=["".join("1" if c else "0" for c in row) for row in walk],
    )


def label_blob(height: float, long_m: float, short_m: float, flat: float) -> str:
    """A furniture label from a blob's top height (m), footprint sides (m) and the share of its
    cells at its top height (a table is flat; a sofa's back stands above its seat)."""
    area = long_m * short_m
    if height >= 1.2:
        return "shelf" if short_m < 0.45 else "wardrobe"
    if area < 0.12:
        return "obstacle"
    if height < 0.35:
        return "obstacle"
    if height < 0.65:
        return "bed" if area >= 1.8 else "obstacle"
    if area < 0.36 and long_m < 0.7:
        return "chair"
    if flat >= 0.7:
        return "table" if long_m < 1.6 else "desk"
    return "sofa"


def furniture_regions(
    heights: np.ndarray, origin: tuple[float, float], cell: float
) -> tuple[list[Region], list[str]]:
    """Regions of the raised blobs inside the room and one `metadata.fixes` line per region."""
    known = ~np.isnan(heights)
    raised = known & (np.nan_to_num(heights, nan=0.0) > FLOOR_MAX_M)
    outline = ndimage.distance_transform_edt(np.pad(known, 1))[1:-1, 1:-1] * cell
    inside = raised & (outline > WALL_BAND_M)
    labels, n = ndimage.label(inside, structure=np.ones((3, 3)))
    regions, notes = [], []
    for k in range(1, n + 1):
        iy, ix = np.nonzero(labels == k)
        if len(iy) * cell * cell < MIN_BLOB_M2:
            continue
        xy = np.column_stack([origin[0] + (ix + 0.5) * cell, origin[1] + (iy + 0.5) * cell])
        top = heights[iy, ix]
        h = float(np.percentile(top, 95))
        centre = xy.mean(axis=0)
        cov = np.cov((xy - centre).T) if len(xy) > 2 else np.eye(2)
        w, vecs = np.linalg.eigh(cov)
        axis = vecs[:, int(np.argmax(w))]
        yaw = math.atan2(axis[1], axis[0])
        u = np.array([math.cos(yaw), math.sin(yaw)])
        v = np.array([-u[1], u[0]])
        local = np.column_stack([(xy - centre) @ u, (xy - centre) @ v])
        # no half-cell padding: the rasteriser already smears vertical faces into the next cell
        lo, hi = local.min(axis=0), local.max(axis=0)
        centre = centre + ((lo + hi) / 2) @ np.stack([u, v])
        half = (hi - lo) / 2
        flat = float(np.mean(top >= h - FLAT_TOL_M))
        label = label_blob(h, 2 * half[0], 2 * half[1], flat)
        regions.append(
            Region(
                label=label,
                center=(round(float(centre[0]), 4), round(float(centre[1]), 4), round(h / 2, 4)),
                half_extents=(round(float(half[0]), 4), round(float(half[1]), 4), round(h / 2, 4)),
                yaw=round(yaw, 4),
            )
        )
        notes.append(
            f"region {len(regions) - 1}: {label!r} guessed from a blob {2 * half[0]:.2f} x "
            f"{2 * half[1]:.2f} m, {h:.2f} m tall, {100 * flat:.0f}% flat"
        )
    return regions, notes
