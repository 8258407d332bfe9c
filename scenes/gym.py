"""Import a whole-gym scan (a floor with wall sectors around it) as one climbing scene.

`scenes.importer.import_mesh` comes here when `scenes.floor.find_floor` finds a floor. Steps:
place (the floor's normal up, units from the walls' height, the floor at z = 0, turned so the
largest sector faces +y, the floor centred on x = y = 0) -> sectors (`scenes.sectors.segment`)
-> per sector: holds (generated on the front of its height map and clear of the walls beside
it, detected on that height map, or read from a file and given to the nearest sector), routes
(`set_routes` on its holds alone), a spawn at its foot, a tripod camera in front of it, its
own mesh with heightfield collision -> the floor as a plane, everything not climbed (ceiling,
mats, ledges) as one visual-only mesh. Every decision is one line in `scene.metadata.fixes`.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import scipy.spatial

from scenes import collision as col
from scenes.errors import NoRoutesWarning, SceneError
from scenes.floor import FloorFit
from scenes.gym_parts import (
    camera_for,
    clear_of,
    compact,
    front_area,
    overview_camera,
    sector_heightmap,
    spawn_for,
    up_rotation,
)
from scenes.hold_files import read_holds_file
from scenes.holds_detect import HoldDetectConfig, detect_holds, surface_points
from scenes.mesh_formats import RawMesh, write_obj
from scenes.no_routes import diagnose, message, no_routes
from scenes.orientation import Placement, resolve_wall_scale
from scenes.placement import place_holds
from scenes.reach import ClimberDims
from scenes.route_setter import set_routes
from scenes.sectors import SectorMesh, Segmentation, segment
from scenes.surface import representable_area_fraction
from scenes.types import Hold, MeshGeom, Metadata, Primitive, Scene, Sector

FRONT_MIN_DOT = 0.15
"""Cells of a sector's height map whose normal is further than ~81 degrees from the sector's
mean normal get no generated holds (edge-on flanks); a roof's underside is ~70 degrees off."""


def import_gym(
    path: Path,
    name: str,
    mesh: RawMesh,
    fit: FloorFit,
    up: str,
    scale: float | str,
    out: Path,
    seed: int,
    rng: np.random.Generator,
    holds: str | Path,
    n_routes: int,
    hold_config: HoldDetectConfig | None,
    collision: str,
    cache_dir: str | Path | None,
    timings: dict[str, float] | None,
    allow_no_routes: bool,
) -> Scene:
    """A whole gym as one scene with a sector per wall face (the module docstring); called by
    `scenes.importer.import_mesh`, whose arguments these are, once it has found a floor."""
    from scenes.importer import IMPORTER_VERSION, _stage, surface_colour

    fixes = list(mesh.fixes)
    with _stage(timings, "sectors"):
        place, v, f, seg = place_gym(mesh, fit, scale, fixes)
    for line in fixes:
        if line.startswith("warning:"):
            warnings.warn(f"{path}: {line}", stacklevel=4)
    out.mkdir(parents=True, exist_ok=True)
    scene = Scene(name=name, kind="climbing_wall", root=str(out))
    _contents(
        scene,
        v,
        f,
        mesh.vertex_colors,
        seg,
        place,
        holds=holds,
        rng=rng,
        n_routes=n_routes,
        hold_config=hold_config,
        collision=collision,
        out=out,
        name=name,
        fixes=fixes,
        source=str(path),
        allow_no_routes=allow_no_routes,
        timings_stage=lambda stage: _stage(timings, stage),
        cache_dir=cache_dir,
    )
    if mesh.vertex_colors is not None:
        rgba = surface_colour(v, f, mesh.vertex_colors, scene.holds)
        for g in scene.geometry:
            if isinstance(g, MeshGeom):
                g.rgba = rgba
    scene.metadata = Metadata(
        source=f"imported:{path.name}",
        licence="unknown",
        seed=seed,
        generator="scenes.importer",
        generator_version=IMPORTER_VERSION,
        params={
            "kind": "climbing_wall",
            "up": up,
            "scale": scale if scale == "auto" else float(scale),
            "holds": str(holds),
            "collision": collision,
            "resolved_up": place.up_axis,
            "resolved_scale": place.scale,
            "floor": {
                "up_in_file": [round(float(x), 6) for x in fit.up],
                "file_height": round(float(fit.height), 6),
                "wall_height_m": round(float(fit.wall_height * place.scale), 4),
                "flipped_winding": bool(fit.flipped),
            },
            **scene.metadata.params,
        },
        fixes=fixes,
    )
    return scene


def place_gym(
    mesh: RawMesh, fit: FloorFit, scale: float | str, fixes: list[str]
) -> tuple[Placement, np.ndarray, np.ndarray, Segmentation]:
    """Placement, scene-frame vertices, faces (winding fixed) and the sector segmentation;
    appends the decisions (up and its evidence, unit, floor height, yaw) to `fixes`."""
    rot = up_rotation(fit.up)
    f = mesh.faces[:, ::-1] if fit.flipped else mesh.faces
    fixes += fit.evidence
    s = resolve_wall_scale(scale, fit.wall_height, mesh.fmt, fixes)
    v = s * (mesh.vertices @ rot.T)
    v[:, 2] -= s * fit.height
    seg = segment(v, f, fit.faces)
    if not seg.sectors:
        raise SceneError("found a floor but no wall sector around it to climb")
    face = seg.sectors[0].facing
    yaw = math.atan2(face[0], face[1])  # turn the largest sector to face +y
    quarter = round(yaw / (math.pi / 2)) * (math.pi / 2)
    yaw = quarter if abs(yaw - quarter) < math.radians(1.0) else yaw
    c, sn = math.cos(yaw), math.sin(yaw)
    rz = np.array([[c, -sn, 0.0], [sn, c, 0.0], [0.0, 0.0, 1.0]])
    rz[np.abs(rz) < 1e-15] = 0.0
    v = v @ rz.T
    floor_pts = v[np.unique(f[seg.floor])]
    centre = (floor_pts.min(axis=0) + floor_pts.max(axis=0)) / 2
    shift = np.array([-centre[0], -centre[1], 0.0])
    v = v + shift
    for sec in seg.sectors:
        sec.normal, sec.facing = rz @ sec.normal, rz @ sec.facing
        sec.base = rz @ sec.base + shift
    rotation = rz @ rot
    translation = shift - np.array([0.0, 0.0, s * fit.height]) @ rz.T
    up_name = _axis_name(fit.up)
    fixes.append(
        f"floor: file height {fit.height:.4g} along {up_name} -> z = 0 "
        f"({int(seg.floor.sum())} faces, replaced by a floor plane)"
    )
    if abs(yaw) > 1e-9:
        fixes.append(
            f"rotated {math.degrees(yaw):.1f} degrees about the vertical so the largest "
            "sector faces +y"
        )
    place = Placement(rotation, s, translation, up_name, seg.sectors[0].normal, [])
    return place, v, f, seg


def _axis_name(up: np.ndarray) -> str:
    a = int(np.argmax(np.abs(up)))
    if abs(abs(up[a]) - 1.0) < 1e-9:
        return ("" if up[a] > 0 else "-") + "xyz"[a]
    return "oblique"


def _contents(
    scene: Scene,
    v: np.ndarray,
    f: np.ndarray,
    vcol,
    seg,
    place: Placement,
    *,
    holds,
    rng: np.random.Generator,
    n_routes: int,
    hold_config: HoldDetectConfig | None,
    collision: str,
    out: Path,
    name: str,
    fixes: list[str],
    source: str,
    allow_no_routes: bool,
    timings_stage,
    cache_dir=None,
) -> None:
    """Fill `scene` with the sectors' meshes, holds, routes, spawns, cameras, and the floor."""
    ids = [f"s{i}" for i in range(len(seg.sectors))]
    with timings_stage("holds"):
        per = _holds(v, f, vcol, seg.sectors, ids, holds, rng, hold_config, place, out, seg.floor)
    cl = ClimberDims()
    for sid in ids:
        scene.holds += per[sid]
    with timings_stage("routes"):
        for sid in ids:
            if not per[sid] or n_routes <= 0:
                continue
            routes = set_routes(per[sid], n_routes, rng, climber=cl, recolour=holds == "generate")
            for r in routes:
                r.id, r.sector = f"{sid}{r.id}", sid
            scene.routes += routes
    geoms, info = [], {}
    with timings_stage("collision"):
        for sid, sec in zip(ids, seg.sectors):
            g, info[sid] = _sector_geom(
                v, f[sec.faces], sec, collision, out, f"{name}_{sid}", cache_dir
            )
            geoms.append(g)
    rest = seg.ceiling | seg.tops | seg.dropped
    if rest.any():
        write_obj(out / f"{name}_rest.obj", *compact(v, f[rest]))
        geoms.append(MeshGeom(name="gym_rest", file=f"{name}_rest.obj", collision="none"))
        fixes.append(
            f"kept {int(rest.sum())} faces that are not climbed (ceiling {int(seg.ceiling.sum())}, "
            f"mats and ledges {int(seg.tops.sum())}, left out {int(seg.dropped.sum())}) as "
            "visual-only geometry"
        )
    lo, hi = v[np.unique(f[seg.floor])].min(axis=0), v[np.unique(f[seg.floor])].max(axis=0)
    geoms.append(
        Primitive(
            name="floor",
            type="plane",
            pos=(0.0, 0.0, 0.0),
            size=(
                round(float(hi[0] - lo[0]) / 2 + 2, 4),
                round(float(hi[1] - lo[1]) / 2 + 2, 4),
                0.1,
            ),
            rgba=(0.45, 0.45, 0.48, 1.0),
        )
    )
    scene.geometry = geoms
    scene.cameras = [overview_camera(v, f[~seg.floor])]
    for sid, sec in zip(ids, seg.sectors):
        cam = camera_for(v, f[~seg.floor], sec, f"tripod_{sid}")
        scene.cameras.append(cam)
        scene.sectors.append(_sector(sid, sec, v, f, per[sid], cam.name))
    scene.spawn = scene.sectors[0].spawn
    scene.metadata.params["collision_info"] = {"strategy": "per-sector", "sectors": info}
    fixes += seg.notes
    for s in scene.sectors:
        routes = [r.id for r in scene.routes if r.sector == s.id]
        fixes.append(
            f"sector {s.id}: {s.name}, {s.width:.1f} m wide, {s.height:.2f} m tall, "
            f"{s.area:.1f} m^2, facing [{s.normal[0]:.2f}, {s.normal[1]:.2f}, "
            f"{s.normal[2]:.2f}], {len(s.holds)} holds, {len(routes)} routes"
        )
    _check_routes(scene, per, ids, holds, n_routes, place, fixes, source, allow_no_routes, cl)


def _holds(
    v, f, vcol, sectors, ids, holds, rng, hold_config, place, out, floor
) -> dict[str, list[Hold]]:
    """Holds per sector id, with ids prefixed by the sector's."""
    per: dict[str, list[Hold]] = {sid: [] for sid in ids}
    if holds == "none":
        return per
    if holds not in ("detect", "generate"):
        listed = read_holds_file(Path(holds), place, out)
        cent = [v[f[s.faces]].mean(axis=1) for s in sectors]
        owner = np.repeat(np.arange(len(sectors)), [len(c) for c in cent])
        tree = scipy.spatial.cKDTree(np.concatenate(cent))
        for h in listed:
            per[ids[int(owner[tree.query(h.position)[1]])]].append(h)
        return per
    cfg = hold_config or HoldDetectConfig()
    owner = np.full(len(f), -1)
    for k, sec in enumerate(sectors):
        owner[sec.faces] = k
    for k, (sid, sec) in enumerate(zip(ids, sectors)):
        if holds == "generate":
            # On the sector's front surface only (its height map over its mean normal): not on
            # an overhang's or a slab's side face, which lies behind the climbing face.
            hm = sector_heightmap(v, f[sec.faces], sec, 0.02)
            pts, nrm = surface_points(hm, 20_000, rng, min_normal_dot=FRONT_MIN_DOT)
            others = f[(owner != k) & ~floor]
            if len(others):
                keep = clear_of(pts, nrm, v, others, rng)
                pts, nrm = pts[keep], nrm[keep]
            area = front_area(hm) * len(pts) / 20_000
            per[sid] = place_holds(pts, nrm, rng, area_m2=area, id_prefix=f"{sid}h")
        else:
            hm = sector_heightmap(v, f[sec.faces], sec, cfg.cell_m)
            found = detect_holds(hm, cfg=cfg, vertices=v, vertex_colors=vcol)
            for h in found:
                h.id = f"{sid}{h.id}"
            per[sid] = found
    return per


def _sector_geom(v, fs, sec: SectorMesh, collision: str, out: Path, stem: str, cache_dir=None):
    """The sector's MeshGeom: its faces as a visual mesh, colliding as `collision` asks
    ("auto": a heightfield over the sector; the others as for a single wall)."""
    write_obj(out / f"{stem}.obj", *compact(v, fs))
    geom = MeshGeom(name=stem.rsplit("_", 1)[-1] + "_wall", file=f"{stem}.obj")
    info: dict = {}
    strategy = "heightfield" if collision == "auto" else collision
    if strategy == "heightfield":
        hm = sector_heightmap(v, fs, sec, max(0.03, math.sqrt(sec.width * sec.height / 60_000)))
        info["representable_fraction"] = round(
            representable_area_fraction(v, fs, hm, tol=max(0.02, 1.5 * hm.cell)), 4
        )
        geom.heightfield = col.heightfield_from_map(hm)
    elif strategy == "convex_decomposition":
        dec = col.convex_decomposition(*compact(v, fs), cache_dir=cache_dir)
        info.update(col.store_pieces(dec, out, stem, geom))
    geom.collision = strategy
    info["strategy"] = strategy
    return geom, info


def _sector(sid: str, sec: SectorMesh, v, f, holds: list[Hold], camera: str) -> Sector:
    angle = round(sec.angle_deg, 3) + 0.0  # + 0.0: no "-0"
    name = sec.kind if sec.kind in ("arete", "roof") else f"{sec.kind} {round(angle):d} deg"
    n = sec.normal / np.linalg.norm(sec.normal)
    return Sector(
        id=sid,
        name=name,
        kind=sec.kind,
        angle_deg=angle,
        normal=tuple(round(float(x), 6) for x in n),
        width=round(sec.width, 4),
        height=round(sec.height, 4),
        area=round(sec.area, 4),
        base=tuple(round(float(x), 4) for x in sec.base),
        holds=[h.id for h in holds],
        spawn=spawn_for(v, f[sec.faces], sec),
        camera=camera,
        geometry=[f"{sid}_wall"],
    )


def _check_routes(scene, per, ids, holds, n_routes, place, fixes, source, allow, cl) -> None:
    """No route anywhere: raise (or warn); a sector without routes: warn and note it."""
    if holds == "none" or n_routes <= 0:
        return
    empty = [s for s in scene.sectors if not any(r.sector == s.id for r in scene.routes)]
    if not empty:
        return
    if len(empty) == len(scene.sectors):
        top = max(s.height for s in scene.sectors)
        d = diagnose(scene.holds, top, place.scale, climber=cl)
        no_routes(source, d, allow, fixes, what=f"any of the {len(empty)} sectors")
        return
    diags = {s.id: diagnose(per[s.id], s.height, place.scale, climber=cl) for s in empty}
    for s in empty:
        text = message(diags[s.id], what=f"sector {s.id} ({s.name})")
        fixes.append(f"warning: {text}")
        warnings.warn(f"{source}: {text}", NoRoutesWarning, stacklevel=4)
