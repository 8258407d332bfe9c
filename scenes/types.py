"""The scene data model: plain dataclasses that describe everything a world needs.

A `Scene` is pure data (numbers, strings, relative file names). It knows nothing about MuJoCo;
`navenv.world.scene_spec` compiles it. Conventions (see DESIGN.md):

- Units are metres, angles radians, z is up after loading.
- Climbing walls: the wall's base runs along the x axis near y = 0 and its climbing face points
  toward +y (the climber stands at y > 0 and faces -y, which is the SMPL rest orientation in navenv's
  z-up frame, so an identity root orientation faces the wall).
- Whole gyms (imported scans with a floor): the floor is at z = 0 and `Scene.sectors` lists the
  wall sectors, each facing its own way; holds and routes belong to one sector each.
- Quaternions are (w, x, y, z), MuJoCo's order.
- Colours are RGBA floats in [0, 1].
- File names in `MeshGeom` and `Hold.shape` are relative to the scene directory and may not
  escape it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SCENE_FORMAT_VERSION = 1
"""Version of the on-disk format written by `scenes.save`; bump on any incompatible change."""

SceneKind = Literal["climbing_wall", "room"]
HoldKind = Literal["jug", "crimp", "sloper", "pinch", "foothold"]
HOLD_KINDS: tuple[str, ...] = ("jug", "crimp", "sloper", "pinch", "foothold")
PrimitiveType = Literal["box", "plane", "sphere", "capsule", "cylinder", "ellipsoid"]
CollisionStrategy = Literal[
    "primitive", "convex_hull", "convex_decomposition", "heightfield", "none"
]
Limb = Literal["left_hand", "right_hand", "left_foot", "right_foot"]
SectorKind = Literal["slab", "vertical", "overhang", "roof", "arete"]
SECTOR_KINDS: tuple[str, ...] = ("slab", "vertical", "overhang", "roof", "arete")
LIMBS: tuple[str, ...] = ("left_hand", "right_hand", "left_foot", "right_foot")

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
RGBA = tuple[float, float, float, float]


@dataclass
class Primitive:
    """A static geometric primitive (MuJoCo geom semantics for `size`)."""

    name: str
    type: PrimitiveType
    size: Vec3  # MuJoCo geom size: box half-extents, sphere (r,..), capsule (r, half-length, 0)
    pos: Vec3 = (0.0, 0.0, 0.0)
    quat: Quat = (1.0, 0.0, 0.0, 0.0)
    rgba: RGBA = (0.8, 0.8, 0.8, 1.0)
    collision: CollisionStrategy = "primitive"  # "primitive" or "none" (visual only)
    friction: float = 1.0


@dataclass
class MeshGeom:
    """A static triangle mesh with the strategy used to collide with it.

    `file` is the visual mesh. `collision_files` are the convex pieces (for
    "convex_decomposition"), empty for "convex_hull" (MuJoCo hulls the visual mesh) and
    "none". For "heightfield", `heightfield` holds the grid.
    """

    name: str
    file: str  # relative to the scene directory (.obj/.stl)
    pos: Vec3 = (0.0, 0.0, 0.0)
    quat: Quat = (1.0, 0.0, 0.0, 0.0)
    scale: Vec3 = (1.0, 1.0, 1.0)
    rgba: RGBA = (0.75, 0.72, 0.68, 1.0)
    collision: CollisionStrategy = "convex_hull"
    collision_files: list[str] = field(default_factory=list)
    heightfield: Heightfield | None = None
    friction: float = 1.0


@dataclass
class Heightfield:
    """A regular grid of heights for collision with mostly planar surfaces.

    The field lies in a local frame (`pos`, `quat`) whose z axis is the surface normal;
    `heights` is row-major (nrow, ncol) in metres, spanning `size_x` x `size_y` (full extents).
    """

    pos: Vec3
    quat: Quat
    size_x: float
    size_y: float
    base: float  # thickness below the lowest height, metres (MuJoCo hfield size[3])
    nrow: int
    ncol: int
    heights: list[float]


@dataclass
class Hold:
    """A climbing hold: where it is, which way it faces, how big, what kind."""

    id: str
    position: Vec3  # centre of the hold's grip surface, metres
    normal: Vec3  # unit outward normal of the wall at the hold
    size: float  # characteristic radius, metres (a jug ~0.07, a crimp ~0.03)
    kind: HoldKind
    rgba: RGBA = (0.9, 0.2, 0.2, 1.0)
    shape: str | None = None  # optional relative mesh file for a scanned hold shape


@dataclass
class Route:
    """A route: an ordered list of holds from the start holds to the top hold."""

    id: str
    name: str
    grade: str  # V-scale, e.g. "V2"
    holds: list[str]  # hold ids in climbing order (start holds first, top hold last)
    start: dict[str, str]  # limb name (see LIMBS) -> hold id
    top: str  # hold id that ends the route when held with both hands
    rgba: RGBA = (0.9, 0.2, 0.2, 1.0)
    # The setter's beta after the start position: (limb, hold id) in order, each move placing one
    # limb on a hold of `holds`; empty when unknown (hand-made routes). Replaying it from `start`
    # gives every stance the setter checked for reach (see scenes.route_setter.route_stances).
    moves: list[tuple[str, str]] = field(default_factory=list)
    sector: str | None = None  # id of the scene sector the route is on (None: single-wall scenes)


@dataclass
class Camera:
    """A pinhole camera (the tripod that films the scene), OpenCV-style intrinsics.

    Pose: `pos` and a `lookat` point with the world z axis as up.
    """

    name: str
    pos: Vec3
    lookat: Vec3
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float


@dataclass
class Region:
    """A labelled oriented box (rooms): bed, sofa, table, bowl, door, ..."""

    label: str
    center: Vec3
    half_extents: Vec3
    yaw: float = 0.0  # rotation about z, radians


@dataclass
class WalkableGrid:
    """Occupancy of the floor: True where an agent can stand (rooms)."""

    origin: tuple[float, float]  # world (x, y) of cell (0, 0)'s corner, metres
    cell: float  # cell edge, metres
    rows: list[str]  # one string per row along +y; "1" walkable, "0" blocked; row i is y index i


@dataclass
class Spawn:
    """Where an agent (or the observer) starts: position of the pelvis and heading."""

    pos: Vec3
    yaw: float = 0.0  # rotation about z from the rest orientation (facing -y), radians


@dataclass
class Sector:
    """One wall sector of a whole gym: a connected face climbed on its own, with its holds.

    Angles are degrees here (the one exception to radians): 0 is vertical, positive overhangs
    (90 a roof), negative leans back (a slab); it is the angle of the sector's main face (of
    its roof part for kind "roof").
    """

    id: str
    name: str  # e.g. "overhang 25 deg"
    kind: SectorKind
    angle_deg: float
    normal: Vec3  # unit outward normal of the main face (toward the climber)
    width: float  # m, horizontal extent across the face
    height: float  # m, top of the sector above the floor
    area: float  # m^2 of climbing surface
    base: Vec3  # middle of the sector's foot on the floor, metres
    holds: list[str] = field(default_factory=list)  # ids of the holds on it
    spawn: Spawn | None = None  # where a climber stands at its foot, facing it
    camera: str | None = None  # name of its tripod camera in Scene.cameras
    geometry: list[str] = field(default_factory=list)  # names of its geometry items


@dataclass
class Metadata:
    """Where the scene came from and what was done to it."""

    source: str = "generated"  # "generated", "imported:<file name>", "hand-made"
    licence: str = "CC0-1.0"
    seed: int | None = None
    generator: str | None = None
    generator_version: str | None = None
    params: dict = field(default_factory=dict)  # generator parameters (JSON-compatible)
    fixes: list[str] = field(default_factory=list)  # what import repaired, one line each


@dataclass
class Scene:
    """A scene: static geometry, holds and routes (walls), regions (rooms), cameras, spawns."""

    name: str
    kind: SceneKind
    geometry: list[Primitive | MeshGeom] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    walkable: WalkableGrid | None = None
    sectors: list[Sector] = field(default_factory=list)  # whole gyms; empty for a single wall
    spawn: Spawn | None = None
    observer_spawn: Spawn | None = None
    metadata: Metadata = field(default_factory=Metadata)
    units: str = "m"
    up: str = "z"
    version: int = SCENE_FORMAT_VERSION
    root: str | None = None  # directory mesh files resolve against; not serialised

    def hold(self, hold_id: str) -> Hold:
        """The hold with this id (KeyError naming the id and the scene otherwise)."""
        for h in self.holds:
            if h.id == hold_id:
                return h
        raise KeyError(f"scene {self.name!r} has no hold {hold_id!r}")

    def sector(self, sector_id: str) -> Sector:
        """The sector with this id (KeyError naming the id and the scene otherwise)."""
        for s in self.sectors:
            if s.id == sector_id:
                return s
        ids = [s.id for s in self.sectors]
        raise KeyError(f"scene {self.name!r} has no sector {sector_id!r}; sectors: {ids}")

    def route(self, key: str | int) -> Route:
        """A route by id or by index."""
        if isinstance(key, int):
            if not -len(self.routes) <= key < len(self.routes):
                raise KeyError(f"scene {self.name!r} has {len(self.routes)} routes; index {key}")
            return self.routes[key]
        for r in self.routes:
            if r.id == key:
                return r
        ids = [r.id for r in self.routes]
        raise KeyError(f"scene {self.name!r} has no route {key!r}; routes: {ids}")
