"""Procedural rooms: floor, four walls, labelled furniture and obstacles, a walkable grid, spawns.

The room's interior spans x in [-X/2, X/2], y in [-Y/2, Y/2], z up from the floor at 0. Furniture is
boxes (a bowl is a cylinder on a table), each mirrored by a `Region` with its label; yaw is a
multiple of 90 degrees, a region's local x runs along the wall it stands against. Randomness comes
only from `numpy.random.default_rng(seed)`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from scenes.types import Camera, Metadata, Primitive, Region, Scene, Spawn, WalkableGrid

ROOM_GENERATOR = "scenes.generate_room"
ROOM_GENERATOR_VERSION = "1"
LAYOUTS = ("perimeter", "island")
PELVIS_HEIGHT_M = 0.93  # standing pelvis height of the default 1.75 m body
WALL_THICKNESS_M = 0.1
GAP_M = 0.1  # minimum gap between footprints

# label -> (along-wall size, depth, height) ranges in metres, stands against a wall?, colour
CATALOGUE: dict[
    str, tuple[tuple[float, float], tuple[float, float], tuple[float, float], bool, tuple]
] = {
    "bed": ((1.4, 1.8), (1.9, 2.1), (0.45, 0.6), True, (0.75, 0.78, 0.9, 1.0)),
    "sofa": ((1.6, 2.2), (0.8, 0.95), (0.75, 0.9), True, (0.55, 0.35, 0.3, 1.0)),
    "shelf": ((0.8, 1.2), (0.3, 0.4), (1.6, 2.0), True, (0.6, 0.45, 0.3, 1.0)),
    "table": ((0.9, 1.5), (0.7, 0.9), (0.72, 0.76), False, (0.7, 0.55, 0.38, 1.0)),
    "chair": ((0.42, 0.5), (0.42, 0.5), (0.85, 0.95), False, (0.45, 0.35, 0.25, 1.0)),
    "desk": ((1.0, 1.4), (0.55, 0.7), (0.72, 0.76), True, (0.8, 0.8, 0.78, 1.0)),
    "wardrobe": ((1.0, 1.6), (0.55, 0.65), (1.9, 2.2), True, (0.5, 0.4, 0.32, 1.0)),
}
DEFAULT_FURNITURE = ("bed", "sofa", "table", "chair", "shelf")


@dataclass(frozen=True)
class RoomParams:
    """Parameters of `generate_room` (metres); validated on construction."""

    size: tuple[float, float] = (6.0, 5.0)  # interior extent along x and y
    height: float = 2.6  # wall height
    n_furniture: int = 5  # pieces drawn from `furniture` (a table first, with a bowl on it)
    n_obstacles: int = 2  # small free-standing boxes labelled "obstacle"
    layout: str = "perimeter"  # "perimeter": wall pieces against walls; "island": all free-standing
    furniture: tuple[str, ...] = DEFAULT_FURNITURE  # labels from CATALOGUE to draw from
    body_radius: float = 0.25  # walkable cells keep this clearance from walls and footprints
    cell: float = 0.1  # walkable grid cell edge

    def __post_init__(self) -> None:
        def bad(name: str, accepted: str) -> ValueError:
            return ValueError(
                f"generate_room: {name}={getattr(self, name)!r}; accepted: {accepted}"
            )

        size = self.size
        if (
            not isinstance(size, tuple | list)
            or len(size) != 2
            or not all(isinstance(v, int | float) and 2.5 <= v <= 30 for v in size)
        ):
            raise bad("size", "(x, y) with each in [2.5, 30] m")
        object.__setattr__(self, "size", (float(size[0]), float(size[1])))
        object.__setattr__(self, "furniture", tuple(self.furniture))
        for name, lo, hi in (("height", 2.0, 6.0), ("body_radius", 0.05, 1.0), ("cell", 0.02, 0.5)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                raise bad(name, f"a number in [{lo}, {hi}]")
        for name, hi in (("n_furniture", 30), ("n_obstacles", 30)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
                raise bad(name, f"an int in 0..{hi}")
        if self.layout not in LAYOUTS:
            raise bad("layout", ", ".join(LAYOUTS))
        unknown = [f for f in self.furniture if f not in CATALOGUE]
        if unknown or not self.furniture:
            raise bad("furniture", f"a non-empty subset of {sorted(CATALOGUE)}")

    def to_dict(self) -> dict:
        """JSON-compatible parameters (stored in Metadata.params)."""
        d = asdict(self)
        d.update(size=list(self.size), furniture=list(self.furniture))
        return d


@dataclass
class _Item:
    label: str
    cx: float
    cy: float
    along: float  # full size along the local x axis
    depth: float  # full size along the local y axis
    height: float
    yaw: float  # multiple of pi/2
    z0: float = 0.0

    @property
    def half_xy(self) -> tuple[float, float]:
        """World-axis half extents of the footprint."""
        turned = abs(math.sin(self.yaw)) > 0.5
        a, d = self.along / 2, self.depth / 2
        return (d, a) if turned else (a, d)

    def overlaps(self, other: _Item, gap: float) -> bool:
        """Whether the footprints come closer than `gap`."""
        (ax, ay), (bx, by) = self.half_xy, other.half_xy
        return abs(self.cx - other.cx) < ax + bx + gap and abs(self.cy - other.cy) < ay + by + gap


# Walls: along-direction, inward normal, yaw of a piece standing against it.
_WALLS = (
    ((1.0, 0.0), (0.0, 1.0), 0.0),
    ((0.0, 1.0), (-1.0, 0.0), math.pi / 2),
    ((-1.0, 0.0), (0.0, -1.0), math.pi),
    ((0.0, -1.0), (1.0, 0.0), -math.pi / 2),
)


def _wall_len(k: int, size: tuple[float, float]) -> float:
    return size[0] if k % 2 == 0 else size[1]


def _against_wall(
    k: int, t: float, depth: float, size: tuple[float, float], inset: float
) -> tuple[float, float]:
    """Centre of a footprint `depth` deep, `inset` off wall k, `t` along it from its middle."""
    (ax, ay), (nx, ny), _ = _WALLS[k]
    off = (size[1] if k % 2 == 0 else size[0]) / 2
    d = -off + inset + depth / 2
    return ax * t + nx * d, ay * t + ny * d


def _draw(label: str, rng: np.random.Generator) -> tuple[float, float, float]:
    along, depth, height, _, _ = CATALOGUE[label]
    return tuple(round(float(rng.uniform(*r)), 3) for r in (along, depth, height))


def _place(
    label: str, p: RoomParams, rng: np.random.Generator, placed: list[_Item]
) -> _Item | None:
    """Rejection-sample a footprint that fits in the room without touching earlier ones."""
    along, depth, height = _draw(label, rng)
    X, Y = p.size
    table = next((i for i in placed if i.label == "table"), None)
    for attempt in range(80):
        if CATALOGUE[label][3] and p.layout == "perimeter":
            k = int(rng.integers(4))
            half_len = _wall_len(k, p.size) / 2 - along / 2 - 0.05
            if half_len <= 0:
                continue
            cx, cy = _against_wall(k, float(rng.uniform(-half_len, half_len)), depth, p.size, 0.02)
            item = _Item(label, cx, cy, along, depth, height, _WALLS[k][2])
        elif label == "chair" and table is not None and attempt < 40:
            k = int(rng.integers(4))  # pull up to one side of the table
            (tx, ty) = table.half_xy
            (nx, ny) = _WALLS[k][1]
            item = _Item(
                label,
                table.cx - nx * (tx + depth / 2 + 0.12),
                table.cy - ny * (ty + depth / 2 + 0.12),
                along,
                depth,
                height,
                _WALLS[k][2],
            )
        else:
            yaw = _WALLS[int(rng.integers(4))][2]
            tmp = _Item(label, 0.0, 0.0, along, depth, height, yaw)
            hx, hy = tmp.half_xy
            if X / 2 - hx - 0.6 <= 0 or Y / 2 - hy - 0.6 <= 0:
                continue
            item = _Item(
                label,
                float(rng.uniform(-(X / 2 - hx - 0.6), X / 2 - hx - 0.6)),
                float(rng.uniform(-(Y / 2 - hy - 0.6), Y / 2 - hy - 0.6)),
                along,
                depth,
                height,
                yaw,
            )
        hx, hy = item.half_xy
        inside = abs(item.cx) + hx <= X / 2 + 1e-9 and abs(item.cy) + hy <= Y / 2 + 1e-9
        gap = 0.02 if label == "chair" else GAP_M
        if inside and not any(item.overlaps(o, gap) for o in placed):
            item.cx, item.cy = round(item.cx, 4), round(item.cy, 4)
            return item
    return None


def _walkable(p: RoomParams, items: list[_Item]) -> WalkableGrid:
    """Cells whose centre keeps `body_radius` from the walls and from every footprint."""
    X, Y = p.size
    nx, ny = math.ceil(X / p.cell - 1e-9), math.ceil(Y / p.cell - 1e-9)
    xs = -X / 2 + (np.arange(nx) + 0.5) * p.cell
    ys = -Y / 2 + (np.arange(ny) + 0.5) * p.cell
    gx, gy = np.meshgrid(xs, ys)  # (ny, nx): row i is y index i
    r = p.body_radius
    free = (np.abs(gx) <= X / 2 - r) & (np.abs(gy) <= Y / 2 - r)
    for it in items:
        hx, hy = it.half_xy
        dx = np.maximum(np.abs(gx - it.cx) - hx, 0.0)
        dy = np.maximum(np.abs(gy - it.cy) - hy, 0.0)
        free &= np.hypot(dx, dy) > r
    rows = ["".join("1" if v else "0" for v in row) for row in free]
    return WalkableGrid(origin=(-X / 2, -Y / 2), cell=p.cell, rows=rows)


def _free_cells(grid: WalkableGrid) -> np.ndarray:
    """(N, 2) world xy centres of walkable cells."""
    mask = np.array([[c == "1" for c in row] for row in grid.rows])
    iy, ix = np.nonzero(mask)
    return np.column_stack(
        [grid.origin[0] + (ix + 0.5) * grid.cell, grid.origin[1] + (iy + 0.5) * grid.cell]
    )


def _yaw_facing(dx: float, dy: float) -> float:
    """Yaw that turns the rest facing (-y) toward (dx, dy)."""
    return round(math.atan2(dx, -dy), 4)


def _box(
    name: str, centre: tuple, half: tuple, yaw: float, rgba: tuple, collision: str = "primitive"
) -> Primitive:
    r4 = lambda v: tuple(round(float(x), 4) for x in v)  # noqa: E731
    quat = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
    return Primitive(
        name=name,
        type="box",
        size=r4(half),
        pos=r4(centre),
        quat=quat,
        rgba=rgba,
        collision=collision,
    )


def generate_room(seed: int, **kwargs: object) -> Scene:
    """A seeded procedural room; keyword arguments are the fields of RoomParams.

    Pieces that do not fit after 80 tries are left out (the regions list what was placed).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"generate_room: seed must be a non-negative int, got {seed!r}")
    p = RoomParams(**kwargs)
    rng = np.random.default_rng(int(seed))
    X, Y = p.size
    H, t = p.height, WALL_THICKNESS_M
    geoms = [
        Primitive(
            name="floor",
            type="plane",
            size=(round(X / 2 + 1, 4), round(Y / 2 + 1, 4), 0.1),
            rgba=(0.62, 0.58, 0.52, 1.0),
        )
    ]
    for k, (cx, cy, hx, hy) in enumerate(
        (
            (0, -Y / 2 - t / 2, X / 2 + t, t / 2),
            (X / 2 + t / 2, 0, t / 2, Y / 2 + t),
            (0, Y / 2 + t / 2, X / 2 + t, t / 2),
            (-X / 2 - t / 2, 0, t / 2, Y / 2 + t),
        )
    ):
        geoms.append(
            _box(f"wall_{k}", (cx, cy, H / 2), (hx, hy, H / 2), 0.0, (0.92, 0.91, 0.88, 1.0))
        )

    # The door: visual only, on a wall; a clearance zone in front keeps furniture out of its swing.
    k = int(rng.integers(4))
    half_len = _wall_len(k, p.size) / 2 - 0.6
    tdoor = round(float(rng.uniform(-half_len, half_len)), 4)
    dx, dy = _against_wall(k, tdoor, 0.04, p.size, 0.0)
    zone = _Item(
        "door_zone", *_against_wall(k, tdoor, 1.0, p.size, 0.0), 1.1, 1.0, 0.0, _WALLS[k][2]
    )
    door = _Item("door", dx, dy, 0.9, 0.04, 2.05, _WALLS[k][2])
    items: list[_Item] = []
    labels = []
    if p.n_furniture and "table" in p.furniture:
        labels.append("table")
    while len(labels) < p.n_furniture:
        labels.append(str(rng.choice(list(p.furniture))))
    for label in labels:
        item = _place(label, p, rng, [zone, *items])
        if item is not None:
            items.append(item)
    obstacles: list[_Item] = []
    for _ in range(p.n_obstacles):
        size = tuple(
            round(float(v), 3)
            for v in (rng.uniform(0.2, 0.6), rng.uniform(0.2, 0.6), rng.uniform(0.3, 1.0))
        )
        for _try in range(80):
            cx = float(rng.uniform(-X / 2 + 0.3 + size[0] / 2, X / 2 - 0.3 - size[0] / 2))
            cy = float(rng.uniform(-Y / 2 + 0.3 + size[1] / 2, Y / 2 - 0.3 - size[1] / 2))
            ob = _Item("obstacle", round(cx, 4), round(cy, 4), size[0], size[1], size[2], 0.0)
            if not any(ob.overlaps(o, GAP_M) for o in [zone, *items, *obstacles]):
                obstacles.append(ob)
                break

    regions = []
    counts: dict[str, int] = {}
    solid = items + obstacles
    for it in solid:
        n = counts[it.label] = counts.get(it.label, -1) + 1
        rgba = CATALOGUE[it.label][4] if it.label in CATALOGUE else (0.35, 0.4, 0.45, 1.0)
        centre = (it.cx, it.cy, it.height / 2)
        half = (it.along / 2, it.depth / 2, it.height / 2)
        geoms.append(_box(f"{it.label}_{n}", centre, half, it.yaw, rgba))
        regions.append(
            Region(label=it.label, center=_r(centre), half_extents=_r(half), yaw=round(it.yaw, 4))
        )
    table = next((i for i in items if i.label == "table"), None)
    if table is not None:
        bx, by, bz = table.cx, table.cy, table.height + 0.04
        geoms.append(
            Primitive(
                name="bowl_0",
                type="cylinder",
                size=(0.09, 0.04, 0.0),
                pos=_r((bx, by, bz)),
                rgba=(0.85, 0.85, 0.9, 1.0),
            )
        )
        regions.append(
            Region(label="bowl", center=_r((bx, by, bz)), half_extents=(0.09, 0.09, 0.04))
        )
    geoms.append(
        _box(
            "door_0",
            (door.cx, door.cy, door.height / 2),
            (0.45, 0.02, door.height / 2),
            door.yaw,
            (0.45, 0.3, 0.2, 1.0),
            collision="none",
        )
    )
    regions.append(
        Region(
            label="door",
            center=_r((door.cx, door.cy, door.height / 2)),
            half_extents=(0.45, 0.02, round(door.height / 2, 4)),
            yaw=round(door.yaw, 4),
        )
    )

    grid = _walkable(p, solid)
    cells = _free_cells(grid)
    if not len(cells):
        raise ValueError(
            f"generate_room: no walkable cell left in a {X} x {Y} m room; use fewer pieces"
        )
    agent = cells[int(rng.integers(len(cells)))]
    wall_dist = np.minimum(X / 2 - np.abs(cells[:, 0]), Y / 2 - np.abs(cells[:, 1]))
    near_wall = cells[(wall_dist <= p.body_radius + 0.35) & (np.hypot(*(cells - agent).T) >= 1.5)]
    pool = near_wall if len(near_wall) else cells
    obs = pool[int(rng.integers(len(pool)))]
    corner = (1 if rng.random() < 0.5 else -1, 1 if rng.random() < 0.5 else -1)
    w_px, h_px = 640, 480
    f = round((w_px / 2) / math.tan(math.radians(45.0)), 4)  # 90 degree horizontal field of view
    return Scene(
        name=f"room_{seed}",
        kind="room",
        geometry=geoms,
        cameras=[
            Camera(
                name="tripod",
                pos=_r((corner[0] * (X / 2 - 0.15), corner[1] * (Y / 2 - 0.15), H - 0.25)),
                lookat=(0.0, 0.0, 0.8),
                width=w_px,
                height=h_px,
                fx=f,
                fy=f,
                cx=w_px / 2,
                cy=h_px / 2,
            )
        ],
        regions=regions,
        walkable=grid,
        spawn=Spawn(
            pos=_r((agent[0], agent[1], PELVIS_HEIGHT_M)),
            yaw=round(float(rng.uniform(-math.pi, math.pi)), 4),
        ),
        observer_spawn=Spawn(
            pos=_r((obs[0], obs[1], PELVIS_HEIGHT_M)), yaw=_yaw_facing(-obs[0], -obs[1])
        ),
        metadata=Metadata(
            source="generated",
            licence="CC0-1.0",
            seed=int(seed),
            generator=ROOM_GENERATOR,
            generator_version=ROOM_GENERATOR_VERSION,
            params=p.to_dict(),
        ),
    )


def _r(v: tuple) -> tuple[float, float, float]:
    return tuple(round(float(x), 4) for x in v)
