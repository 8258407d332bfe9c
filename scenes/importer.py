"""Turn a real reconstruction (mesh or point-cloud file) into a `Scene`.

Pipeline of `import_mesh` (each stage's wall time goes into `timings` when given):
load (`scenes.mesh_formats.load_raw`) -> repair (`scenes.mesh_repair`) -> orient (up axis,
facing, units: `scenes.orientation`) -> mesh point clouds (height map over the wall plane,
`scenes.surface.mesh_point_cloud`) -> write the visual mesh -> holds (detect:
`scenes.holds_detect`; generate: `scenes.route_setter.place_holds`; file:
`scenes.hold_files`; none) and routes (`set_routes`) -> collision (`scenes.collision`:
heightfield or cached CoACD pieces) -> floor, tripod camera, spawn (walls) or walkable grid,
spawn, camera (rooms). Every repair or conversion is one line in `scene.metadata.fixes`.

A climbing-wall mesh in which `scenes.floor.find_floor` finds a floor with walls around it is a
whole gym and goes through `scenes.gym` instead (sectors, each with holds, routes, a spawn and a
camera). A wall that ends up with holds but no route raises `NoRoutesError` with the numbers
(`scenes.no_routes`), or warns with `allow_no_routes=True`.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from scenes import collision as col
from scenes.errors import SceneError
from scenes.floor import find_floor
from scenes.hold_files import (
    import_hold_mesh,
    place_hold_shape,
    read_holds_file,
    safe_name,
)
from scenes.holds_detect import HoldDetectConfig, detect_holds, surface_points
from scenes.mesh_formats import load_raw, write_obj
from scenes.mesh_repair import repair
from scenes.no_routes import diagnose, no_routes
from scenes.orientation import Placement, place_room, place_wall
from scenes.room_scan import furniture_regions, walkable_grid
from scenes.surface import (
    HeightMap,
    mesh_point_cloud,
    plane_axes,
    rasterize_max,
    representable_area_fraction,
)
from scenes.types import (
    Camera,
    Hold,
    MeshGeom,
    Metadata,
    Primitive,
    Scene,
    Spawn,
)

__all__ = ["import_hold_mesh", "import_mesh", "place_hold_shape", "read_holds_file"]

IMPORTER_VERSION = "3"
"""Recorded in `Metadata.generator_version`; bump when import results change."""
COLLISION_CELL_M = 0.02
"""Heightfield collision grid edge (metres), enlarged for walls wider than ~20 m."""
WALL_RGBA = (0.75, 0.72, 0.68, 1.0)
"""Colour of an imported mesh without vertex colours."""
COLOUR_LEVELS = 8
"""Quantisation steps per channel when picking an imported mesh's colour (`surface_colour`)."""


@contextmanager
def _stage(timings: dict[str, float] | None, name: str):
    t0 = time.perf_counter()
    yield
    if timings is not None:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0


def _check_args(kind, up, scale, holds, collision) -> None:
    if kind not in ("climbing_wall", "room"):
        raise SceneError(f"kind must be 'climbing_wall' or 'room', got {kind!r}")
    if up not in ("auto", "x", "y", "z"):
        raise SceneError(f"up must be 'auto', 'x', 'y' or 'z', got {up!r}")
    if scale != "auto" and not (
        isinstance(scale, int | float) and math.isfinite(scale) and scale > 0
    ):
        raise SceneError(f"scale must be a positive number or 'auto', got {scale!r}")
    if collision not in ("auto", "heightfield", "convex_decomposition", "convex_hull", "none"):
        raise SceneError(
            "collision must be 'auto', 'heightfield', 'convex_decomposition', "
            f"'convex_hull' or 'none', got {collision!r}"
        )
    if not isinstance(holds, str | Path):
        raise SceneError(f"holds must be 'detect', 'generate', 'none' or a path, got {holds!r}")
    if kind == "room" and (
        holds == "generate"
        or isinstance(holds, Path)
        or holds not in ("detect", "none", "generate")
    ):
        raise SceneError(f"holds={str(holds)!r} needs kind='climbing_wall'; rooms have no holds")
    if kind == "room" and collision == "heightfield":
        raise SceneError("collision='heightfield' is for climbing walls; use 'auto' for rooms")


def import_mesh(
    path: str | Path,
    kind: str = "climbing_wall",
    up: str = "auto",
    scale: float | str = 1.0,
    holds: str | Path = "detect",
    out_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    collision: str = "auto",
    name: str | None = None,
    seed: int = 0,
    *,
    n_routes: int = 3,
    hold_config: HoldDetectConfig | None = None,
    coacd_config: col.CoacdConfig | None = None,
    timings: dict[str, float] | None = None,
    allow_no_routes: bool = False,
) -> Scene:
    """Import an OBJ/PLY/STL/GLB/GLTF mesh or PLY point cloud as a scene (metres, z up).

    Args:
        path: the reconstruction file.
        kind: "climbing_wall" (wall face toward +y, base along x at y = 0) or "room" (floor at
            z = 0, centred on the origin, walkable grid from the floor).
        up: "auto" (a whole gym: `scenes.floor.find_floor`; a single wall:
            `scenes.orientation.choose_up_axis`; a room: `choose_room_up_axis`) or the file's
            up axis "x"/"y"/"z".
        scale: metres per file unit, or "auto" to guess the unit from the size (walls:
            `scenes.orientation.guess_wall_unit`, metric or imperial, a bouldering wall 2.5-5.5
            m before a lead wall up to 20 m; rooms: metres/cm/mm).
        holds: "detect", "generate", "none" or a holds JSON file (`scenes.hold_files`).
        out_dir: scene directory receiving the mesh files; default a new temporary directory
            (it is not deleted: `Scene.root` points at it).
        cache_dir: convex-decomposition cache (default $NAVENV_CACHE_DIR/coacd or
            ~/.cache/navenv/coacd).
        collision: "auto" (heightfield for walls the height map covers, else convex
            decomposition), "heightfield", "convex_decomposition", "convex_hull" or "none".
        name: scene name (default the file's stem).
        seed: seeds plane fitting, hold generation and route setting.
        n_routes: routes to set on the holds (on each sector of a whole gym).
        timings: if given, receives seconds per stage.
        allow_no_routes: return a climbing wall on which no route could be set with a
            `NoRoutesWarning` instead of raising.
    Raises:
        SceneError: unreadable or invalid input, naming the file and the problem.
        NoRoutesError: a climbing wall with holds but no route (unless `allow_no_routes`),
            with the numbers: holds placed and reachable, spacing vs reach, wall height vs scale.
    """
    path = Path(path)
    _check_args(kind, up, scale, holds, collision)
    created = out_dir is None
    if created:
        out_dir = Path(tempfile.mkdtemp(prefix=f"navenv_{safe_name(name or path.stem)}_"))
    before = _files_under(Path(out_dir))
    try:
        return _import(
            path,
            kind,
            up,
            scale,
            holds,
            out_dir,
            cache_dir,
            collision,
            name,
            seed,
            n_routes,
            hold_config,
            coacd_config,
            timings,
            allow_no_routes,
        )
    except BaseException as exc:
        # nothing half-written is left behind
        _remove_new(Path(out_dir), before, created, safe_name(name or path.stem))
        if not isinstance(exc, SceneError) or exc.file is not None:
            raise
        raise SceneError(exc.detail, file=str(path), field=exc.field) from None


def _files_under(root: Path) -> set[Path] | None:
    """Every path under `root`, or None if it does not exist yet."""
    return set(root.rglob("*")) if root.exists() else None


def _remove_new(root: Path, before: set[Path] | None, created: bool, stem: str) -> None:
    """Delete what a failed import wrote under `root`: all of it if the import created `root`,
    else only new files named as the importer names them (`<stem>_*`, `collision/<stem>_*`,
    `holds/*`), so nothing another process put there meanwhile is touched."""
    if created or before is None:
        shutil.rmtree(root, ignore_errors=True)
        return
    ours = {*root.glob(f"{stem}_*"), *root.glob(f"collision/{stem}_*"), *root.glob("holds/*")}
    for p in ours - before:
        if p.is_file():
            p.unlink(missing_ok=True)
    for sub in ("collision", "holds"):
        d = root / sub
        if d not in before and d.is_dir() and not any(d.iterdir()):
            d.rmdir()


def _import(
    path: Path,
    kind,
    up,
    scale,
    holds,
    out_dir,
    cache_dir,
    collision,
    name,
    seed,
    n_routes,
    hold_config,
    coacd_config,
    timings,
    allow_no_routes=False,
) -> Scene:
    """The import pipeline (see the module docstring); arguments as `import_mesh`."""
    rng = np.random.default_rng(seed)
    name = safe_name(name or path.stem)
    with _stage(timings, "load"):
        raw = load_raw(path)
    with _stage(timings, "repair"):
        mesh = repair(raw)
    if kind == "climbing_wall" and not mesh.is_point_cloud:
        with _stage(timings, "orient"):
            fit = find_floor(mesh.vertices, mesh.faces, up, mesh.fmt)
        if fit is not None:
            from scenes.gym import import_gym

            args = (holds, n_routes, hold_config, collision, cache_dir, timings, allow_no_routes)
            return import_gym(path, name, mesh, fit, up, scale, Path(out_dir), seed, rng, *args)
    with _stage(timings, "orient"):
        place = (place_wall if kind == "climbing_wall" else place_room)(
            mesh.vertices, mesh.faces, fmt=mesh.fmt, up=up, scale=scale, rng=rng
        )
    fixes = list(mesh.fixes) + place.fixes
    for line in place.fixes:
        if line.startswith("warning:"):
            warnings.warn(f"{path}: {line}", stacklevel=3)
    v = place.apply(mesh.vertices)
    f, vcol = mesh.faces, mesh.vertex_colors
    if mesh.is_point_cloud:
        with _stage(timings, "mesh_points"):
            v, f, vcol, cell = mesh_point_cloud(v, vcol, place.surface_axes)
        fixes.append(
            f"meshed a point cloud of {len(mesh.vertices):,} points as a height map "
            f"over its dominant plane (cell {cell * 100:.1f} cm): {len(v):,} vertices, "
            f"{len(f):,} faces"
        )
        v = place.recentre(v)
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix=f"navenv_{name}_"))
    out.mkdir(parents=True, exist_ok=True)
    geom_name = "wall" if kind == "climbing_wall" else "room"
    visual = f"{name}_{geom_name}.obj"
    with _stage(timings, "write_mesh"):
        write_obj(out / visual, v, f)
    scene = Scene(name=name, kind=kind, root=str(out))
    if kind == "climbing_wall":
        _wall_contents(scene, v, f, vcol, place, holds, rng, n_routes, hold_config, timings, out)
        if scene.holds and n_routes > 0 and not scene.routes:
            d = diagnose(scene.holds, float(v[:, 2].max()), place.scale)
            no_routes(str(path), d, allow_no_routes, fixes)
    f_col = f
    if kind == "room":
        _room_contents(scene, v, f, fixes)
        f_col = _without_floor(v, f, scene, fixes)
    rgba = WALL_RGBA if vcol is None else surface_colour(v, f, vcol, scene.holds)
    with _stage(timings, "collision"):
        geom = _collision(
            v,
            f_col,
            kind,
            place,
            collision,
            out,
            name,
            geom_name,
            cache_dir,
            coacd_config,
            fixes,
            scene,
        )
    geom.file, geom.rgba = visual, rgba
    scene.geometry.insert(0, geom)
    scene.metadata = Metadata(
        source=f"imported:{path.name}",
        licence="unknown",
        seed=seed,
        generator="scenes.importer",
        generator_version=IMPORTER_VERSION,
        params={
            "kind": kind,
            "up": up,
            "scale": scale if scale == "auto" else float(scale),
            "holds": str(holds),
            "collision": collision,
            "resolved_up": place.up_axis,
            "resolved_scale": place.scale,
            **scene.metadata.params,
        },
        fixes=fixes,
    )
    return scene


def surface_colour(
    vertices: np.ndarray,
    faces: np.ndarray,
    vertex_colors: np.ndarray,
    holds: Sequence[Hold] = (),
    levels: int = COLOUR_LEVELS,
) -> tuple[float, float, float, float]:
    """The colour of most of the surface away from the holds: a colour the mesh really has.

    Vertex colours are quantised to `levels` steps per channel; each vertex weighs a third of the
    area of its faces (so densely meshed holds do not outvote a coarsely meshed wall); vertices
    within 1.5 x size + 2 cm of a hold are left out (all are used if that leaves none). Returns the
    mean colour of the heaviest bin. A per-channel median would mix the holds' colours into one
    no vertex has (a grey wall with red and blue holds came out magenta).
    """
    v = np.asarray(vertices, np.float64)
    rgb = np.clip(np.asarray(vertex_colors, np.float64)[:, :3], 0.0, 1.0)
    weight = np.zeros(len(v))
    if len(faces):
        tri = v[np.asarray(faces)]
        area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
        np.add.at(weight, np.asarray(faces).ravel(), np.repeat(area / 3.0, 3))
    if not weight.any():
        weight[:] = 1.0
    off = np.ones(len(v), bool)
    for h in holds:
        off &= np.linalg.norm(v - np.asarray(h.position), axis=1) > 1.5 * h.size + 0.02
    if not weight[off].any():
        off[:] = True
    q = np.minimum((rgb[off] * levels).astype(np.int64), levels - 1)
    key = (q[:, 0] * levels + q[:, 1]) * levels + q[:, 2]
    best = key == int(np.argmax(np.bincount(key, weights=weight[off])))
    mean = np.average(rgb[off][best], axis=0, weights=weight[off][best] + 1e-12)
    return (*(float(x) for x in np.round(mean, 4)), 1.0)


def _wall_heightmap(v: np.ndarray, f: np.ndarray, place: Placement, cell: float) -> HeightMap:
    """Height map of the wall (scene frame) along its fitted plane normal, x along the base."""
    axes = plane_axes(place.wall_normal, np.array([1.0, 0.0, 0.0]))
    ext = np.ptp(v, axis=0)
    cell = max(cell, float(np.sqrt(ext[0] * ext[2] / 3.5e6)))  # bound memory on huge walls
    return rasterize_max(v, f, axes, cell)


def _wall_contents(
    scene: Scene,
    v,
    f,
    vcol,
    place: Placement,
    holds,
    rng,
    n_routes: int,
    hold_config,
    timings,
    out: Path,
) -> None:
    """Holds, routes, floor, tripod camera and spawn of an imported wall."""
    from scenes.route_setter import ClimberDims, place_holds, set_routes

    cfg = hold_config or HoldDetectConfig()
    with _stage(timings, "holds"):
        if holds == "detect":
            hm = _wall_heightmap(v, f, place, cfg.cell_m)
            scene.holds = detect_holds(hm, cfg=cfg, vertices=v, vertex_colors=vcol)
        elif holds == "generate":
            hm = _wall_heightmap(v, f, place, 0.02)
            area = float((~np.isnan(hm.heights)).sum()) * hm.cell**2
            pts, nrm = surface_points(hm, 20_000, rng)
            scene.holds = place_holds(pts, nrm, rng, area_m2=area)
        elif holds != "none":
            scene.holds = read_holds_file(Path(holds), place, out)
    with _stage(timings, "routes"):
        if scene.holds and n_routes > 0:
            # Detected and listed holds keep their real colours; generated ones take the route's.
            scene.routes = set_routes(
                scene.holds,
                n_routes,
                rng,
                climber=ClimberDims(),
                up=(0.0, 0.0, 1.0),
                recolour=holds == "generate",
            )
    lo, hi = v.min(axis=0), v.max(axis=0)
    width, height = float(hi[0] - lo[0]), float(hi[2])
    base = v[(v[:, 2] < 1.2) & (np.abs(v[:, 0]) < 0.6)]
    front = float(base[:, 1].max()) if len(base) else float(hi[1])
    camera = _tripod(width, height, front, float(hi[1]))
    y0, y1 = float(lo[1]) - 0.5, camera.pos[1] + 2.0  # floor from behind the wall past the camera
    scene.geometry.append(
        Primitive(
            name="floor",
            type="plane",
            pos=(0.0, round((y0 + y1) / 2, 4), 0.0),
            size=(round(width / 2 + 2.0, 4), round((y1 - y0) / 2, 4), 0.1),
            rgba=(0.45, 0.45, 0.48, 1.0),
        )
    )
    scene.cameras = [camera]
    scene.spawn = Spawn(pos=(0.0, round(front + 0.35, 4), 0.95), yaw=0.0)


def _tripod(width: float, height: float, front: float, depth_max: float) -> Camera:
    """A 640x480, 60 degree vertical-FOV camera on the floor in front, framing the whole wall."""
    w, h = 640, 480
    fy = (h / 2) / math.tan(math.radians(30.0))
    need = max(height / 2 / (h / 2 / fy), width / 2 / (w / 2 / fy)) * 1.1
    y = depth_max + need
    return Camera(
        name="tripod",
        pos=(0.0, round(y, 4), 1.5),
        lookat=(0.0, round(front, 4), round(height / 2, 4)),
        width=w,
        height=h,
        fx=round(fy, 4),
        fy=round(fy, 4),
        cx=w / 2,
        cy=h / 2,
    )


FLOOR_FACE_M = 0.02  # room faces entirely below this height are the floor


def _without_floor(v: np.ndarray, f: np.ndarray, scene: Scene, fixes: list[str]) -> np.ndarray:
    """The faces above the floor; the floor itself collides as a plane named "floor" (convex
    pieces that take in a stretch of floor come out slanted and trip the feet)."""
    low = (v[f][:, :, 2] < FLOOR_FACE_M).all(axis=1)
    if not low.any() or low.all():
        return f
    lo, hi = v.min(axis=0), v.max(axis=0)
    half = (hi - lo) / 2 + 1.0
    centre = (lo + hi) / 2
    scene.geometry.append(
        Primitive(
            name="floor",
            type="plane",
            size=(round(float(half[0]), 4), round(float(half[1]), 4), 0.1),
            pos=(round(float(centre[0]), 4), round(float(centre[1]), 4), -0.001),
            rgba=(0.6, 0.58, 0.55, 1.0),
        )
    )
    fixes.append(
        f"collision: the floor ({int(low.sum()):,} faces at z < {FLOOR_FACE_M} m) is a plane; "
        "the rest is decomposed"
    )
    return f[~low]


def _room_contents(scene: Scene, v: np.ndarray, f: np.ndarray, fixes: list[str]) -> None:
    """Walkable grid (floor cells with nothing above 10 cm below 2 m, kept a body radius from
    anything raised), furniture regions (scenes.room_scan), spawn, corner camera."""
    cell = 0.1
    hm = rasterize_max(v, f, np.eye(3), cell, h_max=2.0)
    if np.isnan(hm.heights).all():
        raise SceneError("room has no geometry below 2 m to find its floor")
    scene.walkable = walkable_grid(hm.heights, (hm.u0, hm.v0), cell)
    walk = np.array([[c == "1" for c in row] for row in scene.walkable.rows], bool)
    scene.regions, notes = furniture_regions(hm.heights, (hm.u0, hm.v0), cell)
    fixes.extend(notes)
    uu, vv = hm.centres()
    if walk.any():
        d = np.where(walk, uu**2 + vv**2, np.inf)
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        scene.spawn = Spawn(pos=(round(float(uu[i, j]), 4), round(float(vv[i, j]), 4), 0.95))
    lo, hi = v.min(axis=0), v.max(axis=0)
    cam = (float(lo[0]) + 0.3, float(lo[1]) + 0.3, min(2.2, float(hi[2]) - 0.1))
    scene.cameras = [
        Camera(
            name="tripod",
            pos=tuple(round(c, 4) for c in cam),
            lookat=(0.0, 0.0, 0.8),
            width=640,
            height=480,
            fx=415.6922,
            fy=415.6922,
            cx=320.0,
            cy=240.0,
        )
    ]


def _collision(
    v,
    f,
    kind,
    place: Placement,
    collision: str,
    out: Path,
    name: str,
    geom_name: str,
    cache_dir,
    coacd_config,
    fixes: list[str],
    scene: Scene,
) -> MeshGeom:
    """MeshGeom with the chosen collision strategy (files written/copied into `out`)."""
    geom = MeshGeom(name=geom_name, file="")
    info: dict = {}
    strategy = collision
    hm = None
    if kind == "climbing_wall" and collision in ("auto", "heightfield"):
        hm = _wall_heightmap(v, f, place, COLLISION_CELL_M)
        ext = max(hm.heights.shape) * hm.cell
        if max(hm.heights.shape) > 1024:
            hm = _wall_heightmap(v, f, place, ext / 1000)
        frac = representable_area_fraction(v, f, hm, tol=max(0.02, 1.5 * hm.cell))
        relief = col.relief_ratio(hm)
        info["representable_fraction"] = round(frac, 4)
        info["relief_ratio"] = round(relief, 4)
        if collision == "auto":
            strategy = col.choose_strategy(frac, relief, kind)
    elif collision == "auto":
        strategy = "convex_decomposition"
    if strategy == "heightfield":
        geom.heightfield = col.heightfield_from_map(hm)
    elif strategy == "convex_decomposition":
        dec = col.convex_decomposition(v, f, cache_dir=cache_dir, cfg=coacd_config)
        info.update(col.store_pieces(dec, out, name, geom))
        if dec.input_faces < len(f):
            fixes.append(
                f"decimated {len(f):,} faces to {dec.input_faces:,} for convex "
                "decomposition (visual mesh unchanged)"
            )
    geom.collision = strategy
    info["strategy"] = strategy
    scene.metadata.params["collision_info"] = info
    return geom
