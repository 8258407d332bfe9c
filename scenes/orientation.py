"""Put an imported mesh into the scene convention: up axis, facing, units, position.

Walls (`place_wall`): the main panel is the RANSAC plane holding the most surface; the up axis is
`up` or `choose_up_axis`; the panel's horizontal normal is turned to +y; units come from `scale`
or, with scale="auto", from the wall height (`guess_wall_unit`: a bouldering wall is 2.5-5.5 m
tall, a lead wall up to 20 m); the base goes to z = 0, y = 0, centred on x = 0. Rooms (`place_room`): up from the floor (the largest plane), floor at z = 0,
centred on the origin. Each decision that changes the geometry appends a line to `fixes`;
implausible sizes append a line starting with "warning:".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenes.errors import SceneError
from scenes.surface import face_normals, fit_plane, plane_axes, sample_surface, triangle_areas

_UP_ROTATIONS = (
    np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),  # x up -> z up
    np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),  # y up -> z up (glTF, OBJ)
    np.eye(3),
)
_UNITS = ((1.0, "metres"), (0.01, "centimetres"), (0.001, "millimetres"))
WALL_UNITS: tuple[tuple[float, str], ...] = (*_UNITS, (0.0254, "inches"), (0.3048, "feet"))
"""Units a wall file may be in: metres per unit and name (metric first)."""
BOULDER_M = (2.5, 5.5)
"""Heights of a bouldering wall (no rope), metres."""
LEAD_M = (5.5, 20.0)
"""Heights of a lead wall (roped), metres."""
_Y_UP_FORMATS = ("glb", "gltf", "obj")


def guess_wall_unit(height: float, fmt: str) -> tuple[float, str, str]:
    """(metres per unit, unit name, why) for a wall `height` file units tall.

    A height that makes a bouldering wall (2.5-5.5 m) beats one that makes a lead wall (5.5-20
    m): most scanned walls are boulders, and a lead wall needs a rope the scan cannot show. The
    units searched first are the file format's own: metric for glTF (metres by specification),
    OBJ, PLY and OFF (scanners and Blender), metric and imperial for STL (CAD). Within a band
    the unit closest to the band's typical height (4 m, 12 m) wins. With no plausible unit the
    one nearest 4.5 m is taken (and `place_wall` warns).
    """
    pools = [WALL_UNITS] if fmt == "stl" else [WALL_UNITS[:3], WALL_UNITS[3:]]
    for pool in pools:
        for (lo, hi), typical, what in ((BOULDER_M, 4.0, "bouldering"), (LEAD_M, 12.0, "lead")):
            fits = [u for u in pool if lo <= height * u[0] <= hi]
            if not fits:
                continue
            s, unit = min(fits, key=lambda u: abs(np.log(height * u[0] / typical)))
            why = f"{height * s:.2f} m is a {what} wall's height ({lo:g}-{hi:g} m)"
            others = [
                f"in {u[1]} it would be {height * u[0]:.3g} m, a "
                f"{'bouldering' if height * u[0] <= BOULDER_M[1] else 'lead'} wall's height "
                f"(pass scale={u[0]:g} if it is one)"
                for u in WALL_UNITS
                if u[0] != s and BOULDER_M[0] <= height * u[0] <= LEAD_M[1]
            ]
            return s, unit, "; ".join([why, *others])
    s, unit = _guess_scale(height, 4.5)
    return s, unit, f"no unit makes {height:.4g} file units a wall's height; nearest to 4.5 m"


def choose_up_axis(wall_normal: np.ndarray, fmt: str) -> tuple[int, str]:
    """Up axis (0=x, 1=y, 2=z) of a wall file from its dominant plane's normal, and why.

    The wall's main panel is vertical, so up is one of the two coordinate axes least aligned
    with the panel normal. Exporters write Y-up or Z-up, never X-up, so if x is one of the two
    the other is up (a wall facing y is Z-up, facing z is Y-up). A wall facing x is ambiguous:
    then the format's convention decides (glTF mandates Y-up, OBJ is Y-up by tool convention;
    STL/PLY/OFF from CAD and scanners are Z-up).
    """
    a_n = int(np.argmax(np.abs(wall_normal)))
    rest = [a for a in range(3) if a != a_n]
    if 0 in rest:
        axis = rest[1]
        return axis, f"wall faces {'xyz'[a_n]}, so {'xyz'[axis]} is up"
    axis = 1 if fmt in _Y_UP_FORMATS else 2
    return axis, f"wall faces x; {fmt.upper()} files are {'YZ'[axis - 1]}-up by convention"


def choose_room_up_axis(plane_normal: np.ndarray) -> tuple[int, str]:
    """Up axis of a room: the coordinate axis closest to its dominant plane's normal.

    The largest single plane in a room is its floor (or ceiling): rooms are wider than tall,
    so the floor outsizes every wall.
    """
    axis = int(np.argmax(np.abs(plane_normal)))
    return axis, f"the largest plane (floor) faces along {'xyz'[axis]}"


@dataclass
class Placement:
    """Similarity transform from file to scene: x_scene = scale * rotation @ x + translation."""

    rotation: np.ndarray  # (3, 3)
    scale: float
    translation: np.ndarray  # (3,) metres
    up_axis: str  # the file's up axis, "x" | "y" | "z"
    wall_normal: np.ndarray  # scene-frame unit normal of the main plane (+z for rooms)
    fixes: list[str]

    def apply(self, pts: np.ndarray) -> np.ndarray:
        """File points -> scene points (metres, z up)."""
        return self.scale * np.asarray(pts, np.float64) @ self.rotation.T + self.translation

    @property
    def surface_axes(self) -> np.ndarray:
        """Plane frame rows (u, v, n) for meshing and height maps: u along x, n the normal."""
        return plane_axes(self.wall_normal, np.array([1.0, 0.0, 0.0]))

    def recentre(self, v: np.ndarray) -> np.ndarray:
        """Shift scene vertices so their lowest point is at z = 0 (kept in `translation`)."""
        dz = float(v[:, 2].min())
        self.translation = self.translation - np.array([0.0, 0.0, dz])
        return v - np.array([0.0, 0.0, dz])


def _guess_scale(size: float, typical_m: float) -> tuple[float, str]:
    """Unit (metres, cm, mm) that brings `size` closest to `typical_m` on a log scale."""
    return min(_UNITS, key=lambda u: abs(np.log(max(size, 1e-300) * u[0] / typical_m)))


def _resolve_scale(
    scale,
    size: float,
    what: str,
    typical_m: float,
    plausible: tuple,
    fixes: list[str],
    warn_into: list[str] | None = None,
) -> float:
    """Metres per unit from `scale` (or a metric guess near `typical_m`), noting it in `fixes`;
    the implausible-size warning goes to `warn_into` (default `fixes`)."""
    if scale == "auto":
        s, unit = _guess_scale(size, typical_m)
        if s != 1.0:
            fixes.append(
                f"scaled by {s:g} ({unit}: {what} {size:.4g} file units -> {size * s:.2f} m)"
            )
    else:
        s = float(scale)
        if s != 1.0:
            fixes.append(f"scaled by {s:g} (scale argument)")
    lo, hi = plausible
    if not lo <= size * s <= hi:
        (fixes if warn_into is None else warn_into).append(
            f"warning: {what} {size * s:.3g} m is outside the plausible {lo:g}-{hi:g} m;"
            " check the units (pass scale='auto' to guess them, or scale=<m per unit>)"
        )
    return s


def resolve_wall_scale(scale: float | str, height: float, fmt: str, fixes: list[str]) -> float:
    """Metres per file unit for a wall `height` file units tall: `scale`, or with "auto"
    `guess_wall_unit`; appends what was decided (and a warning when implausible) to `fixes`."""
    if scale == "auto":
        s, unit, why = guess_wall_unit(height, fmt)
        if s != 1.0:
            fixes.append(
                f"scaled by {s:g} ({unit}: wall height {height:.4g} file units -> "
                f"{height * s:.2f} m; scale='auto': {why})"
            )
        else:
            fixes.append(f"units: metres (scale='auto': {why})")
        return _resolve_scale(s, height, "wall height", 4.5, (2.0, 20.0), [], fixes)
    if float(scale) == 1.0:
        fixes.append("units: metres (scale=1; pass scale='auto' to have the unit guessed)")
    return _resolve_scale(scale, height, "wall height", 4.5, (2.0, 20.0), fixes)


def _snap_angle(theta: float, tol_deg: float = 1.0) -> float:
    quarter = np.pi / 2
    k = round(theta / quarter)
    return k * quarter if abs(theta - k * quarter) < np.radians(tol_deg) else theta


def place_wall(
    v: np.ndarray, f: np.ndarray, *, fmt: str, up: str, scale, rng: np.random.Generator
) -> Placement:
    """Placement putting a climbing wall in the scene convention.

    The main panel is the RANSAC plane with the most surface. Up comes from `up` or
    `choose_up_axis`; the panel normal's horizontal part is turned to +y (angles within 1
    degree of a quarter turn snap to it), choosing the side with more protrusion volume (holds
    and volumes stick out of the climbing face; ties go by the mean face normal). Then the
    wall's lowest point is put on z = 0, its x extent centred on 0, and the median depth of its
    lowest 5 % (the base) on y = 0.
    """
    pts = (
        sample_surface(v, f, 20_000, rng)
        if len(f)
        else (v if len(v) <= 20_000 else v[rng.choice(len(v), 20_000, replace=False)])
    )
    diag = float(np.linalg.norm(np.ptp(pts, axis=0)))
    if diag <= 0:
        raise SceneError("mesh has zero extent")
    plane, _ = fit_plane(pts, rng, inlier_dist=0.003 * diag)
    fixes: list[str] = []
    if up == "auto":
        axis, why = choose_up_axis(plane.normal, fmt)
    else:
        axis, why = "xyz".index(up), "up argument"
    if axis != 2:
        fixes.append(f"converted {'XY'[axis]}-up to Z-up ({why})")
    r_up = _UP_ROTATIONS[axis]
    n1 = r_up @ plane.normal
    horiz = np.array([n1[0], n1[1], 0.0])
    if np.linalg.norm(horiz) < 0.5:
        name = "xyz"[axis]
        others = " or ".join(f"up='{a}'" for a in "xyz" if a != name)
        advice = (
            f"pass {others} if {name} is not the file's up axis, or crop the floor from the scan"
            if up != "auto"
            else "pass up='x', 'y' or 'z' for the file's real up axis, or crop the floor"
        )
        raise SceneError(
            f"the dominant plane (normal {np.round(n1, 3).tolist()} with {name} up"
            f"{' as passed' if up != 'auto' else ''}) is within 30 degrees of horizontal, so "
            "it cannot be the wall face, and no walls rise around it for it to be a gym's "
            f"floor (scenes.floor); {advice}"
        )
    r = plane.signed_distance(pts)
    t = 0.01 * diag
    front, back = r[r > t].sum(), -r[r < -t].sum()
    sign = 1.0
    if back > 1.2 * front:
        sign = -1.0
    elif front <= 1.2 * back and len(f):
        mean_n = (face_normals(v, f) * triangle_areas(v, f)[:, None]).sum(axis=0)
        sign = -1.0 if mean_n @ plane.normal < 0 else 1.0
    horiz = sign * horiz / np.linalg.norm(horiz)
    theta = _snap_angle(np.pi / 2 - np.arctan2(horiz[1], horiz[0]))
    theta = (theta + np.pi) % (2 * np.pi) - np.pi
    c, s_ = np.cos(theta), np.sin(theta)
    rz = np.array([[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]])
    rz[np.abs(rz) < 1e-15] = 0.0
    if abs(theta) > 1e-9:
        fixes.append(
            f"rotated {np.degrees(theta):.1f} degrees about the vertical so the wall faces +y"
        )
    rot = rz @ r_up
    q = v @ rot.T
    height = float(np.ptp(q[:, 2]))
    s = resolve_wall_scale(scale, height, fmt, fixes)
    normal = rot @ (sign * plane.normal)
    tx, tz = -s * (q[:, 0].max() + q[:, 0].min()) / 2, -s * q[:, 2].min()
    # y = 0 at the wall's base: the median depth of the lowest 5 % of its height (a kicker
    # panel under an overhang stays at the floor line, unlike the main plane extended down).
    base = q[:, 2] <= q[:, 2].min() + 0.05 * max(height, 1e-12)
    y0 = s * float(np.median(q[base, 1]))
    return Placement(rot, s, np.array([tx, -y0, tz]), "xyz"[axis], normal, fixes)


def place_room(
    v: np.ndarray, f: np.ndarray, *, fmt: str, up: str, scale, rng: np.random.Generator
) -> Placement:
    """Placement for a room: up from `up` or `choose_room_up_axis`, floor (`floor_level`) at
    z = 0, centred on x = y = 0, largest horizontal extent expected 1.5-50 m."""
    del fmt  # rooms have no format convention to fall back on
    fixes: list[str] = []
    if up == "auto":
        if len(f) == 0:
            raise SceneError("cannot find a room's up axis from a point cloud; pass up='y'/'z'")
        pts = sample_surface(v, f, 20_000, rng)
        plane, _ = fit_plane(pts, rng, inlier_dist=0.003 * float(np.linalg.norm(np.ptp(pts, 0))))
        axis, why = choose_room_up_axis(plane.normal)
    else:
        axis, why = "xyz".index(up), "up argument"
    if axis != 2:
        fixes.append(f"converted {'XY'[axis]}-up to Z-up ({why})")
    rot = _UP_ROTATIONS[axis]
    q = v @ rot.T
    size = float(np.ptp(q[:, :2], axis=0).max())
    s = _resolve_scale(scale, size, "room size", 6.0, (1.5, 50.0), fixes)
    t = -s * np.array(
        [
            (q[:, 0].max() + q[:, 0].min()) / 2,
            (q[:, 1].max() + q[:, 1].min()) / 2,
            floor_level(q, f, bin_size=0.02 / s),
        ]
    )
    return Placement(rot, s, t, "xyz"[axis], np.array([0.0, 0.0, 1.0]), fixes)


def floor_level(v: np.ndarray, f: np.ndarray, bin_size: float) -> float:
    """Height (z, same units as v) of the floor: the lowest `bin_size` slab of heights that holds
    at least 20 % of the upward-facing area (the top of a floor slab, not its underside);
    the lowest vertex if nothing faces up."""
    if len(f) == 0:
        return float(v[:, 2].min())
    up = face_normals(v, f)[:, 2] > 0.95
    if not up.any():
        return float(v[:, 2].min())
    z = v[f[up]].mean(axis=1)[:, 2]
    area = triangle_areas(v, f)[up]
    order = np.argsort(z)
    z, area = z[order], area[order]
    hi = np.searchsorted(z, z + bin_size, side="right")
    window = np.concatenate([[0.0], np.cumsum(area)])
    share = (window[hi] - window[np.arange(len(z))]) / area.sum()
    first = int(np.argmax(share >= 0.2)) if (share >= 0.2).any() else int(np.argmax(share))
    return float(np.average(z[first : hi[first]], weights=area[first : hi[first]]))
