"""Procedural climbing walls: panels, volumes, holds, routes, a tripod camera and a spawn.

Frame (see scenes/types.py): the wall's base runs along x centred on x = 0 at y = 0, its face points
toward +y, z is up. A panel tilted by `angle` (past vertical; negative = slab, leaning away from the
climber; positive = overhang, leaning toward +y) rises along u = (0, sin a, cos a) with outward normal
n = (0, cos a, -sin a). Everything is built from primitives (thin boxes), so generated scenes need
no mesh files. Randomness comes only from `numpy.random.default_rng(seed)`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from scenes.placement import DEFAULT_KIND_MIX, DEFAULT_PALETTE, check_kind_mix, check_palette
from scenes.route_setter import ClimberDims, place_holds, set_routes
from scenes.types import Camera, Metadata, Primitive, Scene, Spawn

WALL_GENERATOR = "scenes.generate_wall"
WALL_GENERATOR_VERSION = "1"
PROFILES = ("vertical", "slab", "overhang", "multi_panel")
DEFAULT_ANGLE_DEG = {"vertical": 0.0, "slab": -15.0, "overhang": 20.0, "multi_panel": 25.0}
PANEL_THICKNESS_M = 0.1
SAMPLES_PER_M2 = 400  # candidate hold sites per square metre of surface (~5 cm apart)
EDGE_MARGIN_M = 0.12  # keep holds off the wall's side edges
PANEL_RGBA = (0.86, 0.85, 0.8, 1.0)
VOLUME_RGBA = (0.7, 0.74, 0.8, 1.0)
FLOOR_RGBA = (0.3, 0.3, 0.34, 1.0)
CAMERA_SIZE = (640, 480)
CAMERA_HFOV_DEG = 70.0
CAMERA_HEIGHT_M = 1.6
BODY_HALF_WIDTH_M = 0.6  # lateral clearance kept around the spawn
_BOX_SIGNS = np.array(np.meshgrid([-1.0, 1.0], [-1.0, 1.0], [-1.0, 1.0])).reshape(3, -1).T  # (8, 3)


@dataclass(frozen=True)
class WallParams:
    """Parameters of `generate_wall` (metres, degrees); validated on construction."""

    width: float = 4.0  # along x
    height: float = 4.5  # vertical extent of the climbing surface
    profile: str = "vertical"  # one of PROFILES
    angle_deg: float | None = None  # past vertical; None: DEFAULT_ANGLE_DEG[profile]
    n_volumes: int = 2  # boxes and wedges bolted on the panels
    hold_density: float = 8.0  # holds per square metre of surface
    kind_mix: dict | None = None  # kind -> weight; None: DEFAULT_KIND_MIX
    hold_size_scale: float = 1.0  # multiplies every hold radius
    palette: list | None = None  # RGBA colours of holds on no route; None: DEFAULT_PALETTE
    n_routes: int = 3
    min_spacing: float = 0.2  # minimum distance between hold centres
    climber: ClimberDims = field(default_factory=ClimberDims)

    def __post_init__(self) -> None:
        def bad(name: str, accepted: str) -> ValueError:
            return ValueError(
                f"generate_wall: {name}={getattr(self, name)!r}; accepted: {accepted}"
            )

        def number(name: str, lo: float, hi: float) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                raise bad(name, f"a number in [{lo}, {hi}]")

        number("width", 1.5, 30.0)
        number("height", 2.5, 20.0)
        number("hold_density", 0.5, 40.0)
        number("hold_size_scale", 0.2, 4.0)
        number("min_spacing", 0.05, 1.0)
        if self.profile not in PROFILES:
            raise bad("profile", ", ".join(PROFILES))
        for name, hi in (("n_volumes", 20), ("n_routes", 10)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
                raise bad(name, f"an int in 0..{hi}")
        a = self.angle
        ranges = {
            "vertical": (0, 0),
            "slab": (-45, -1e-9),
            "overhang": (1e-9, 60),
            "multi_panel": (0, 60),
        }
        lo, hi = ranges[self.profile]
        if not (isinstance(a, int | float) and math.isfinite(a) and lo <= a <= hi):
            raise bad("angle_deg", f"for profile {self.profile!r}, degrees in [{lo:g}, {hi:g}]")
        check_kind_mix(self.mix)
        check_palette(self.colours)
        if not isinstance(self.climber, ClimberDims):
            raise bad("climber", "a ClimberDims")

    @property
    def angle(self) -> float:
        """The resolved wall angle, degrees past vertical."""
        return DEFAULT_ANGLE_DEG[self.profile] if self.angle_deg is None else self.angle_deg

    @property
    def mix(self) -> dict:
        """The resolved hold kind mix."""
        return dict(DEFAULT_KIND_MIX if self.kind_mix is None else self.kind_mix)

    @property
    def colours(self) -> list:
        """The resolved hold palette."""
        return [list(c) for c in (DEFAULT_PALETTE if self.palette is None else self.palette)]

    def to_dict(self) -> dict:
        """JSON-compatible resolved parameters (stored in Metadata.params)."""
        d = asdict(self)
        d.update(
            angle_deg=float(self.angle),
            kind_mix=self.mix,
            palette=self.colours,
            climber=self.climber.to_dict(),
        )
        return d


@dataclass(frozen=True)
class Panel:
    """A flat section of the wall between heights z0 and z1, tilted by `angle` radians."""

    z0: float
    z1: float
    angle: float
    y0: float  # y of the front face at z0

    @property
    def u(self) -> np.ndarray:
        """Unit direction up the panel face."""
        return np.array([0.0, math.sin(self.angle), math.cos(self.angle)])

    @property
    def n(self) -> np.ndarray:
        """Unit outward normal of the face."""
        return np.array([0.0, math.cos(self.angle), -math.sin(self.angle)])

    @property
    def length(self) -> float:
        """Face length along u, metres."""
        return (self.z1 - self.z0) / math.cos(self.angle)

    def point(self, x: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Face points at lateral x and distance s up the face: (N, 3)."""
        base = np.array([0.0, self.y0, self.z0])
        return base + np.outer(x, [1.0, 0.0, 0.0]) + np.outer(s, self.u)

    def y_at(self, z: float) -> float:
        """y of the face at height z (extrapolated beyond the panel)."""
        return self.y0 + (z - self.z0) * math.tan(self.angle)


def make_panels(params: WallParams) -> list[Panel]:
    """The wall's panels from bottom to top, joined edge to edge."""
    a = math.radians(params.angle)
    h = params.height
    if params.profile == "multi_panel":
        spec = [(0.0, h / 3, -a / 2), (h / 3, 2 * h / 3, 0.0), (2 * h / 3, h, a)]
    else:
        spec = [(0.0, h, a)]
    panels, y = [], 0.0
    for z0, z1, ang in spec:
        p = Panel(z0=z0, z1=z1, angle=ang, y0=y)
        panels.append(p)
        y = p.y_at(z1)
    return panels


def quat_from_matrix(r: np.ndarray) -> tuple[float, float, float, float]:
    """Rotation matrix -> unit quaternion (w, x, y, z), w >= 0."""
    m = np.asarray(r, dtype=float)
    t = np.trace(m)
    if t > 0:
        s = 2.0 * math.sqrt(t + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * math.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0] * 4
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    v = np.array(q) / np.linalg.norm(q)
    v = -v if v[0] < 0 else v
    return tuple(float(x) + 0.0 for x in v)  # + 0.0 turns -0.0 into 0.0


def _rot_x(phi: float) -> np.ndarray:
    c, s = math.cos(phi), math.sin(phi)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


@dataclass(frozen=True)
class Volume:
    """A box bolted on a panel; a wedge is a box tilted about the panel's horizontal axis."""

    centre: np.ndarray  # (3,)
    rot: (
        np.ndarray
    )  # (3, 3) columns: local x (along the wall), y (out of the face), z (up the face)
    half: np.ndarray  # (3,) half extents in the local frame
    panel: int
    wedge: bool

    def local(self, p: np.ndarray) -> np.ndarray:
        """World points (N, 3) in this volume's local frame."""
        return (p - self.centre) @ self.rot

    def contains(self, p: np.ndarray, margin: float) -> np.ndarray:
        """(N,) whether points lie inside the box grown by `margin`."""
        return np.all(np.abs(self.local(p)) <= self.half + margin, axis=1)


def make_volumes(params: WallParams, panels: list[Panel], rng: np.random.Generator) -> list[Volume]:
    """Non-overlapping boxes and wedges on the panels, away from edges and panel joints."""
    w = params.width
    areas = np.array([p.length * w for p in panels])
    vols: list[Volume] = []
    for _ in range(params.n_volumes):
        for _try in range(50):
            k = int(rng.choice(len(panels), p=areas / areas.sum()))
            p = panels[k]
            hx, hs = rng.uniform(0.2, 0.4), rng.uniform(0.2, 0.4)
            wedge = bool(rng.random() < 0.5)
            phi = rng.uniform(math.radians(15), math.radians(35)) * (
                1 if rng.random() < 0.5 else -1
            )
            phi = phi if wedge else 0.0
            # A wedge's back face is embedded so one end sits flush and the other protrudes.
            hd = (
                rng.uniform(0.08, 0.18)
                if not wedge
                else hs * math.tan(abs(phi)) + rng.uniform(0.05, 0.12)
            )
            if p.length < 2 * hs + 0.3 or w < 2 * hx + 0.4:
                continue
            x = rng.uniform(-w / 2 + hx + 0.2, w / 2 - hx - 0.2)
            s = rng.uniform(hs + 0.15, p.length - hs - 0.15)
            rot_panel = np.column_stack([[1.0, 0.0, 0.0], p.n, p.u])
            rot = rot_panel @ _rot_x(phi)
            off = hd * math.cos(phi) - hs * abs(math.sin(phi))
            centre = np.round(p.point(np.array([x]), np.array([s]))[0] + p.n * off, 4)
            half = np.round(np.array([hx, hd, hs]), 4)
            cand = Volume(centre=centre, rot=rot, half=half, panel=k, wedge=wedge)
            if all(
                abs(centre[0] - v.centre[0]) > hx + v.half[0] + 0.15
                or abs(centre[2] - v.centre[2]) > hs + v.half[2] + 0.15
                for v in vols
            ):
                vols.append(cand)
                break
    return vols


def surface_samples(
    params: WallParams, panels: list[Panel], vols: list[Volume], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, float]:
    """Candidate hold sites (points, normals) on panel and volume faces, and their area (m^2)."""
    w = params.width
    pts, nrms, area = [], [], 0.0
    for i, p in enumerate(panels):
        s_lo = 0.15 / math.cos(p.angle) if i == 0 else 0.03  # no holds at floor level
        s_hi = p.length - 0.06
        a = (w - 2 * EDGE_MARGIN_M) * (s_hi - s_lo)
        n = math.ceil(a * SAMPLES_PER_M2)
        q = p.point(
            rng.uniform(-w / 2 + EDGE_MARGIN_M, w / 2 - EDGE_MARGIN_M, n),
            rng.uniform(s_lo, s_hi, n),
        )
        keep = ~np.any([v.contains(q, 0.06) for v in vols], axis=0) if vols else np.ones(n, bool)
        pts.append(q[keep])
        nrms.append(np.tile(p.n, (int(keep.sum()), 1)))
        area += a * keep.mean()
    for v in vols:
        p = panels[v.panel]
        for axis, sign in ((0, 1), (0, -1), (1, 1), (2, 1), (2, -1)):  # every face but the back
            normal = v.rot[:, axis] * sign
            if normal @ p.n < -0.1 or normal[2] < -0.5:  # into the wall, or facing the floor
                continue
            others = [a for a in range(3) if a != axis]
            fa = 4 * v.half[others[0]] * v.half[others[1]]
            n = max(1, math.ceil(fa * SAMPLES_PER_M2))
            loc = np.zeros((n, 3))
            loc[:, axis] = sign * v.half[axis]
            for o in others:
                loc[:, o] = rng.uniform(-v.half[o] + 0.03, v.half[o] - 0.03, n)
            q = v.centre + loc @ v.rot.T
            out_of_wall = (q - p.point(np.array([0.0]), np.array([0.0]))[0]) @ p.n > 0.04
            clear = (
                ~np.any([o.contains(q, 0.03) for o in vols if o is not v], axis=0)
                if len(vols) > 1
                else True
            )
            keep = out_of_wall & clear
            pts.append(q[keep])
            nrms.append(np.tile(normal, (int(keep.sum()), 1)))
            area += fa * keep.mean()
    return np.concatenate(pts), np.concatenate(nrms), float(area)


def tripod_camera(corners: np.ndarray, centre: np.ndarray) -> Camera:
    """A camera on the floor in front (+y) at CAMERA_HEIGHT_M, far enough to see every corner."""
    width, height = CAMERA_SIZE
    f = (width / 2) / math.tan(math.radians(CAMERA_HFOV_DEG) / 2)
    for d in np.arange(2.0, 40.0, 0.25):
        pos = np.array([centre[0], centre[1] + d, CAMERA_HEIGHT_M])
        fwd = centre - pos
        fwd /= np.linalg.norm(fwd)
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        rel = corners - pos
        z = rel @ fwd
        u = f * (rel @ right) / z + width / 2
        v = f * (rel @ down) / z + height / 2
        margin = 0.05
        if (
            (z > 0.1).all()
            and (np.abs(u / width - 0.5) <= 0.5 - margin).all()
            and (np.abs(v / height - 0.5) <= 0.5 - margin).all()
        ):
            break
    r = lambda x: round(float(x), 4)  # noqa: E731
    return Camera(
        name="tripod",
        pos=(r(pos[0]), r(pos[1]), r(pos[2])),
        lookat=(r(centre[0]), r(centre[1]), r(centre[2])),
        width=width,
        height=height,
        fx=r(f),
        fy=r(f),
        cx=width / 2,
        cy=height / 2,
    )


def _geometry(params: WallParams, panels: list[Panel], vols: list[Volume]) -> list[Primitive]:
    w, t = params.width, PANEL_THICKNESS_M
    r4 = lambda v: tuple(round(float(x), 4) for x in v)  # noqa: E731
    geoms = [
        Primitive(
            name="floor", type="plane", size=(round(w / 2 + 4.0, 4), 8.0, 0.1), rgba=FLOOR_RGBA
        )
    ]
    for i, p in enumerate(panels):
        mid = p.point(np.array([0.0]), np.array([p.length / 2]))[0]
        geoms.append(
            Primitive(
                name=f"panel_{i}",
                type="box",
                size=r4([w / 2, t / 2, p.length / 2]),
                pos=r4(mid - p.n * t / 2),
                quat=quat_from_matrix(np.column_stack([[1.0, 0, 0], p.n, p.u])),
                rgba=PANEL_RGBA,
            )
        )
    for i, v in enumerate(vols):
        geoms.append(
            Primitive(
                name=f"{'wedge' if v.wedge else 'volume'}_{i}",
                type="box",
                size=r4(v.half),
                pos=r4(v.centre),
                quat=quat_from_matrix(v.rot),
                rgba=VOLUME_RGBA,
            )
        )
    return geoms


def generate_wall(seed: int, **kwargs: object) -> Scene:
    """A seeded procedural climbing wall; keyword arguments are the fields of WallParams.

    Same seed and parameters give a byte-identical saved scene. If the holds admit no route and
    routes were asked for, holds are re-placed at 1.3x the density (up to 4 times).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"generate_wall: seed must be a non-negative int, got {seed!r}")
    params = WallParams(**kwargs)
    rng = np.random.default_rng(int(seed))
    panels = make_panels(params)
    vols = make_volumes(params, panels, rng)
    pts, nrms, area = surface_samples(params, panels, vols, rng)
    density = params.hold_density
    for _ in range(5):
        holds = place_holds(
            pts,
            nrms,
            rng,
            density=density,
            kind_mix=params.mix,
            size_scale=params.hold_size_scale,
            palette=params.colours,
            min_spacing=params.min_spacing,
            area_m2=area,
        )
        routes = set_routes(holds, params.n_routes, rng, climber=params.climber)
        if routes or params.n_routes == 0:
            break
        density *= 1.3
    top = panels[-1].point(
        np.array([-params.width / 2, params.width / 2]), np.array([panels[-1].length] * 2)
    )
    base = panels[0].point(np.array([-params.width / 2, params.width / 2]), np.array([0.0, 0.0]))
    signs = np.array([(1, 1, 1), (-1, 1, 1), (1, 1, -1), (-1, 1, -1)], dtype=float)
    corners = np.concatenate([top, base, *(v.centre + (signs * v.half) @ v.rot.T for v in vols)])
    ys = [p.y_at(z) for p in panels for z in (p.z0, p.z1)]
    centre = np.array([0.0, (min(ys) + max(ys)) / 2, params.height / 2])
    return Scene(
        name=f"wall_{params.profile}_{seed}",
        kind="climbing_wall",
        geometry=_geometry(params, panels, vols),
        holds=holds,
        routes=routes,
        cameras=[tripod_camera(corners, centre)],
        spawn=_spawn(params, panels, vols, holds, routes),
        metadata=Metadata(
            source="generated",
            licence="CC0-1.0",
            seed=int(seed),
            generator=WALL_GENERATOR,
            generator_version=WALL_GENERATOR_VERSION,
            params=params.to_dict(),
        ),
    )


def _spawn(
    params: WallParams, panels: list[Panel], vols: list[Volume], holds: list, routes: list
) -> Spawn:
    """Standing on the floor facing the wall below route 0's start holds, clear of overhangs and
    of volumes within reach of the body (0.4 m in front of the furthest-out surface)."""
    x = 0.0
    if routes:
        by_id = {h.id: h for h in holds}
        start = routes[0].start
        x = (by_id[start["left_hand"]].position[0] + by_id[start["right_hand"]].position[0]) / 2
    reach_z = min(params.climber.stature, params.height)
    face_y = max(p.y_at(min(max(z, p.z0), p.z1)) for p in panels for z in (0.0, reach_z))
    for v in vols:
        corners = v.centre + (_BOX_SIGNS * v.half) @ v.rot.T
        near = (
            corners[:, 0].min() <= x + BODY_HALF_WIDTH_M
            and corners[:, 0].max() >= x - BODY_HALF_WIDTH_M
        )
        if near and corners[:, 2].min() <= reach_z:
            face_y = max(face_y, float(corners[:, 1].max()))
    return Spawn(
        pos=(round(x, 4), round(face_y + 0.4, 4), round(params.climber.leg_length, 4)), yaw=0.0
    )
