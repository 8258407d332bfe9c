"""Holds from files: JSON holds lists and scanned hold meshes (`Hold.shape`).

Holds files (`holds=<path>`): JSON, either a list of hold objects or
`{"frame": "scene" | "source", "holds": [...]}`. A hold object has the `Hold` fields:
`id` (string, unique), `position` and `normal` (3 numbers; the normal is normalised), `size`
(radius, metres, > 0), `kind` (one of HOLD_KINDS) and optionally `rgba` (4 numbers in [0, 1])
and `shape` (a mesh file relative to the holds file, copied into the scene). With frame
"source" positions are in the mesh file's units and axes and are transformed like the mesh;
"scene" (the default) means the imported scene's metres, z up.

Scanned hold shapes (`import_hold_mesh`): the mesh is cleaned, its flat mounting face turned to
look along -z with the hold protruding along +z, and written in units of the hold's radius with
the mounting face at z = -0.5. `navenv.world` renders a hold with a `shape` by placing that mesh
at `Hold.position`, scaled by `Hold.size`, local +z along `Hold.normal`; so a hold whose
position is `wall point + normal * size / 2` (the `place_holds` convention, and what
`place_hold_shape` computes) sits flush on the wall.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np

from scenes.errors import SceneError
from scenes.holds_detect import DEFAULT_HOLD_RGBA, HoldDetectConfig, guess_kind
from scenes.mesh_formats import load_raw, write_obj
from scenes.mesh_repair import repair
from scenes.orientation import Placement
from scenes.types import HOLD_KINDS, Hold


def safe_name(text: str) -> str:
    """`text` reduced to letters, digits, '_' and '-' (for file and scene names)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")
    return name or "scene"


def _vec(value, n: int, where: str, src: str) -> tuple[float, ...]:
    ok = (
        isinstance(value, list)
        and len(value) == n
        and all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in value
        )
    )
    if not ok:
        raise SceneError(f"expected {n} finite numbers, got {value!r}", file=src, field=where)
    return tuple(float(x) for x in value)


def read_holds_file(path: Path, place: Placement, out: Path) -> list[Hold]:
    """Holds from a JSON holds file (format in the module docstring), in the scene frame."""
    src = str(path)
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SceneError(f"cannot read holds file: {exc}", file=src) from None
    frame = "scene"
    if isinstance(doc, dict):
        frame = doc.get("frame", "scene")
        if frame not in ("scene", "source"):
            raise SceneError(
                f"expected 'scene' or 'source', got {frame!r}", file=src, field="frame"
            )
        doc = doc.get("holds")
    if not isinstance(doc, list):
        raise SceneError("expected a list of holds or {'holds': [...]}", file=src, field="holds")
    holds: list[Hold] = []
    for i, item in enumerate(doc):
        where = f"holds[{i}]"
        if not isinstance(item, dict):
            raise SceneError(f"expected an object, got {item!r}", file=src, field=where)
        extra = set(item) - {"id", "position", "normal", "size", "kind", "rgba", "shape"}
        if extra:
            raise SceneError(f"unexpected fields {sorted(extra)}", file=src, field=where)
        hid = item.get("id")
        if not isinstance(hid, str) or not hid or hid in {h.id for h in holds}:
            raise SceneError(
                f"expected a unique non-empty string, got {hid!r}", file=src, field=f"{where}.id"
            )
        pos = np.array(_vec(item.get("position"), 3, f"{where}.position", src))
        nrm = np.array(_vec(item.get("normal"), 3, f"{where}.normal", src))
        if np.linalg.norm(nrm) < 1e-9:
            raise SceneError("normal must be non-zero", file=src, field=f"{where}.normal")
        size = item.get("size")
        ok = isinstance(size, int | float) and not isinstance(size, bool)
        if not (ok and math.isfinite(size) and size > 0):
            raise SceneError(
                f"expected a positive radius in metres, got {size!r}",
                file=src,
                field=f"{where}.size",
            )
        kind = item.get("kind")
        if kind not in HOLD_KINDS:
            raise SceneError(
                f"expected one of {HOLD_KINDS}, got {kind!r}", file=src, field=f"{where}.kind"
            )
        rgba = _vec(item.get("rgba", list(DEFAULT_HOLD_RGBA)), 4, f"{where}.rgba", src)
        if not all(0.0 <= c <= 1.0 for c in rgba):
            raise SceneError(
                f"colour components must be in [0, 1], got {rgba}", file=src, field=f"{where}.rgba"
            )
        if frame == "source":
            pos, nrm = place.apply(pos[None])[0], place.rotation @ nrm
            size = float(size) * place.scale
        nrm = nrm / np.linalg.norm(nrm)
        shape = _copy_shape(item.get("shape"), path.parent, out, src, f"{where}.shape")
        holds.append(
            Hold(
                id=hid,
                position=tuple(float(x) for x in pos),
                normal=tuple(float(x) for x in nrm),
                size=float(size),
                kind=kind,
                rgba=rgba,
                shape=shape,
            )
        )
    return holds


def _copy_shape(ref, base: Path, out: Path, src: str, where: str) -> str | None:
    """Copy a hold's shape mesh (relative to the holds file) into `out/holds/`."""
    if ref is None:
        return None
    ok = (
        isinstance(ref, str)
        and not Path(ref).is_absolute()
        and ".." not in Path(ref).parts
        and Path(ref).suffix.lower() in (".obj", ".stl")
        and (base / ref).is_file()
    )
    if not ok:
        raise SceneError(
            f"expected an existing .obj/.stl file relative to the holds file, got {ref!r}",
            file=src,
            field=where,
        )
    rel = f"holds/{Path(ref).name}"
    (out / "holds").mkdir(exist_ok=True)
    tmp = out / "holds" / f".{Path(ref).name}.tmp"
    shutil.copyfile(base / ref, tmp)
    tmp.replace(out / rel)
    return rel


def import_hold_mesh(
    path: str | Path,
    out_dir: str | Path,
    *,
    scale: float = 1.0,
    name: str | None = None,
    kind: str | None = None,
) -> Hold:
    """Clean a scanned hold mesh, write it as a `Hold.shape` and return a template `Hold`.

    The mounting face is the largest planar facet of the convex hull (holds are bolted on with
    a flat back). The shape is rotated so that face looks along -z and the hold protrudes
    along +z, its footprint's long axis along x, centred on the footprint, and expressed in
    units of the hold radius `size` = sqrt(a * b) (a, b: half extents of the footprint) with
    the mounting face at z = -0.5. That is the convention of `navenv.world`, which places a
    shape at `Hold.position` scaled by `Hold.size` with +z along `Hold.normal`, so a hold at
    `wall point + normal * size / 2` (as `place_holds` and `place_hold_shape` put them) sits
    flush on the wall. Written to `out_dir/holds/<name>.obj`; the template has position
    (0, 0, size / 2) relative to its mounting point, normal +z and kind `kind` or a guess.
    """
    import trimesh
    from scipy.spatial.transform import Rotation

    path = Path(path)
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise SceneError(f"scale must be a positive number, got {scale!r}", file=str(path))
    if kind is not None and kind not in HOLD_KINDS:
        raise SceneError(f"kind must be one of {HOLD_KINDS}, got {kind!r}", file=str(path))
    try:
        mesh = repair(load_raw(path))
    except SceneError as exc:
        raise SceneError(exc.detail, file=str(path)) from None
    if mesh.is_point_cloud:
        raise SceneError("a hold shape must be a mesh, got a point cloud", file=str(path))
    v = mesh.vertices * float(scale)
    try:
        hull = trimesh.Trimesh(v, mesh.faces, process=False).convex_hull
    except Exception as exc:  # qhull fails on flat or degenerate input
        raise SceneError(f"hold mesh has no convex hull ({exc})", file=str(path)) from None
    cand = [(a, n) for a, n in zip(hull.facets_area, hull.facets_normal)]
    in_facet = {int(i) for fc in hull.facets for i in fc}
    cand += [
        (hull.area_faces[i], hull.face_normals[i])
        for i in range(len(hull.faces))
        if i not in in_facet
    ]
    back = max(cand, key=lambda c: c[0])[1]  # outward hull normal of the mounting face
    v = Rotation.align_vectors([[0.0, 0.0, -1.0]], [back])[0].apply(v)
    v[:, 2] -= v[:, 2].min()
    xy = v[:, :2] - v[:, :2].mean(axis=0)
    evec = np.linalg.eigh(np.cov(xy.T))[1]
    major = evec[:, 1] * (1.0 if evec[0, 1] >= 0 else -1.0)  # sign fixed for determinism
    yaw = np.arctan2(major[1], major[0])
    c, s_ = np.cos(-yaw), np.sin(-yaw)
    v[:, :2] = v[:, :2] @ np.array([[c, -s_], [s_, c]]).T
    lo, hi = v[:, :2].min(axis=0), v[:, :2].max(axis=0)
    v[:, :2] -= (lo + hi) / 2
    size = float(np.sqrt((hi[0] - lo[0]) * (hi[1] - lo[1])) / 2)
    if not size > 0:
        raise SceneError("hold mesh has a degenerate footprint", file=str(path))
    depth = float(v[:, 2].max())
    local = (v - np.array([0.0, 0.0, 0.5 * size])) / size
    name = safe_name(name or path.stem)
    (Path(out_dir) / "holds").mkdir(parents=True, exist_ok=True)
    write_obj(Path(out_dir) / "holds" / f"{name}.obj", local, mesh.faces)
    rgba = DEFAULT_HOLD_RGBA
    if mesh.vertex_colors is not None:
        rgba = (*(float(x) for x in np.median(mesh.vertex_colors[:, :3], axis=0)), 1.0)
    return Hold(
        id=name,
        position=(0.0, 0.0, round(size / 2, 6)),
        normal=(0.0, 0.0, 1.0),
        size=round(size, 6),
        kind=kind or guess_kind(size, depth, math.inf, HoldDetectConfig()),
        rgba=rgba,
        shape=f"holds/{name}.obj",
    )


def place_hold_shape(template: Hold, wall_point, normal, hold_id: str) -> Hold:
    """A copy of a hold-shape template mounted on the wall at `wall_point` facing `normal`."""
    n = np.asarray(normal, np.float64)
    if n.shape != (3,) or not np.isfinite(n).all() or np.linalg.norm(n) < 1e-9:
        raise SceneError(f"normal must be a finite non-zero 3-vector, got {normal!r}")
    n = n / np.linalg.norm(n)
    pos = np.asarray(wall_point, np.float64) + 0.5 * template.size * n
    return Hold(
        id=hold_id,
        position=tuple(float(x) for x in pos),
        normal=tuple(float(x) for x in n),
        size=template.size,
        kind=template.kind,
        rgba=template.rgba,
        shape=template.shape,
    )
