"""Read mesh and point-cloud files into plain arrays, and write meshes atomically.

OBJ and PLY have their own parsers so that n-gons, unreferenced vertices and broken material
references can be counted and reported (and because trimesh cannot read binary PLY files that mix
triangles and quads); STL, GLB, GLTF and OFF go through trimesh. Files are parsed, never executed.
Every tolerated defect appends one human-readable line to `RawMesh.fixes`.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from scenes.atomic import write_atomic
from scenes.errors import SceneError
from scenes.polygons import triangulate_polygons

MESH_SUFFIXES: tuple[str, ...] = (".obj", ".stl", ".ply", ".glb", ".gltf", ".off")
"""File suffixes `load_raw` accepts."""


@dataclass
class RawMesh:
    """Triangles (or bare points) as read from a file, in file units and file axes."""

    vertices: np.ndarray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64; (0, 3) for a point cloud
    vertex_colors: np.ndarray | None = None  # (V, 4) float RGBA in [0, 1], or None
    fmt: str = "obj"  # lower-case suffix without the dot
    fixes: list[str] = field(default_factory=list)

    @property
    def is_point_cloud(self) -> bool:
        """True when the file held vertices but no faces."""
        return len(self.faces) == 0


def count_str(count: int) -> str:
    """An integer with thousands separators, for fix lines."""
    return f"{count:,}"


def load_raw(path: str | Path) -> RawMesh:
    """Read a mesh or point-cloud file into a `RawMesh` (SceneError if unreadable)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise SceneError(
            f"unsupported mesh format {suffix!r}; accepted: {', '.join(MESH_SUFFIXES)}",
            file=str(path),
        )
    if not path.is_file():
        raise SceneError("mesh file does not exist", file=str(path))
    try:
        loader = {".obj": _load_obj, ".ply": _load_ply}.get(suffix, _load_trimesh)
        raw = loader(path)
    except SceneError as exc:
        raise SceneError(exc.detail, file=str(path), field=exc.field) from None
    except Exception as exc:  # parsers raise anything from ValueError to struct.error
        raise SceneError(f"cannot parse {suffix[1:].upper()} file: {exc}", file=str(path)) from exc
    if len(raw.vertices) == 0:
        raise SceneError("file contains no vertices", file=str(path))
    return raw


def write_obj(path: str | Path, v: np.ndarray, f: np.ndarray) -> None:
    """Write a triangle mesh as OBJ (6 decimals, 1-based faces), atomically."""
    buf = io.StringIO()
    buf.write(f"# navenv scenes mesh: {len(v)} vertices, {len(f)} faces\n")
    np.savetxt(buf, np.asarray(v, np.float64), fmt="v %.6f %.6f %.6f")
    np.savetxt(buf, np.asarray(f, np.int64) + 1, fmt="f %d %d %d")
    write_atomic(path, buf.getvalue().encode())


# --------------------------------------------------------------------------------------- OBJ


def _resolve_ref(base: Path, ref: str) -> Path | None:
    """Find a referenced file next to `base`; exporters often write absolute foreign paths."""
    ref = ref.strip().strip('"')
    cand = base / ref
    if cand.is_file():
        return cand
    name = ref.replace("\\", "/").rsplit("/", 1)[-1]
    cand = base / name
    return cand if name and cand.is_file() else None


def _read_mtl(path: Path, fixes: list[str]) -> dict[str, dict]:
    """Materials in an MTL file: name -> {"kd": rgba or None, "texture": Path or None}."""
    mats: dict[str, dict] = {}
    cur: dict | None = None
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split(maxsplit=1)
        if not parts:
            continue
        key, rest = parts[0], (parts[1].strip() if len(parts) > 1 else "")
        if key == "newmtl":
            cur = mats.setdefault(rest, {"kd": None, "texture": None})
        elif cur is not None and key == "Kd":
            try:
                rgb = [float(t) for t in rest.split()[:3]]
                cur["kd"] = (*np.clip(rgb, 0, 1).tolist(), 1.0)
            except ValueError:
                fixes.append(f"ignored malformed Kd colour {rest!r} in '{path.name}'")
        elif cur is not None and key == "map_Kd":
            ref = rest.split()[-1] if rest else ""  # options such as -s 1 1 come first
            tex = _resolve_ref(path.parent, ref)
            if tex is None:
                fixes.append(f"ignored missing texture '{ref}' (from '{path.name}')")
            else:
                cur["texture"] = tex
    return mats


def _sample_texture(tex: Path, uv: np.ndarray, fixes: list[str]) -> np.ndarray | None:
    """RGBA in [0, 1] at each uv (nearest texel, wrapped), or None if the image is unreadable."""
    from PIL import Image

    try:
        with Image.open(tex) as im:
            img = np.asarray(im.convert("RGBA"), dtype=np.float64) / 255.0
    except Exception as exc:
        fixes.append(f"ignored unreadable texture '{tex.name}' ({exc})")
        return None
    h, w = img.shape[:2]
    col = np.floor(np.mod(uv[:, 0], 1.0) * w).astype(np.int64).clip(0, w - 1)
    row = np.floor((1.0 - np.mod(uv[:, 1], 1.0)) * h).astype(np.int64).clip(0, h - 1)
    return img[row, col]


def _load_obj(path: Path) -> RawMesh:
    """Parse a Wavefront OBJ: v (optionally with RGB), vt, f (any polygon size), mtllib, usemtl."""
    fixes: list[str] = []
    verts: list[list[str]] = []
    colors: list[list[str]] = []
    uvs: list[list[str]] = []
    face_v: list[list[int]] = []  # each face's vertex indices (any polygon size)
    face_t: list[list[int]] = []  # and texture-coordinate indices (-1: none)
    face_mat: list[str] = []
    mtllibs: list[str] = []
    material = ""
    n_bad_face = 0
    text = path.read_text(errors="replace").replace("\\\n", " ")
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        key = parts[0]
        if key == "v":
            verts.append(parts[1:4])
            if len(parts) >= 7:
                colors.append(parts[4:7])
        elif key == "vt":
            uvs.append(([*parts[1:3], "0", "0"])[:2])
        elif key == "f":
            nv, nt = len(verts), len(uvs)
            idx: list[int] = []
            tix: list[int] = []
            for tok in parts[1:]:
                sub = tok.split("/")
                vi = int(sub[0])
                idx.append(vi - 1 if vi > 0 else nv + vi)
                ti = int(sub[1]) if len(sub) > 1 and sub[1] else 0
                tix.append(ti - 1 if ti > 0 else (nt + ti if ti < 0 else -1))
            if len(idx) < 3:
                n_bad_face += 1
                continue
            face_v.append(idx)  # triangulated once every vertex is read
            face_t.append(tix)
            face_mat.append(material)
        elif key == "usemtl":
            material = line.split(maxsplit=1)[1].strip() if len(parts) > 1 else ""
        elif key == "mtllib":
            mtllibs.append(line.split(maxsplit=1)[1].strip() if len(parts) > 1 else "")
    if colors and len(colors) != len(verts):
        fixes.append(
            f"ignored vertex colours present on only {count_str(len(colors))} of "
            f"{count_str(len(verts))} vertices"
        )
        colors = []
    try:
        v = np.array(verts, dtype=np.float64).reshape(-1, 3)
    except ValueError as exc:
        raise SceneError(f"malformed 'v' line ({exc}); expected 'v x y z [r g b]'") from exc
    poly, corner = _triangulate_faces(v, face_v, fixes)
    f = _flat(face_v)[corner]
    tri_uv = _flat(face_t)[corner]
    tri_mat = np.array(face_mat, dtype=object)[poly] if face_mat else np.array([], dtype=object)
    if n_bad_face:
        fixes.append(f"dropped {count_str(n_bad_face)} face lines with fewer than 3 vertices")
    valid = np.all((f >= 0) & (f < len(v)), axis=1)
    if not valid.all():
        fixes.append(f"dropped {count_str(int((~valid).sum()))} faces referencing missing vertices")
        f = f[valid]
    vcol = _obj_colors(
        path,
        v,
        f,
        colors,
        tri_uv[valid],
        tri_mat[valid] if len(tri_mat) else np.array([]),
        np.array(uvs, dtype=np.float64).reshape(-1, 2),
        mtllibs,
        fixes,
    )
    return RawMesh(v, f, vcol, "obj", fixes)


def _triangulate_faces(
    v: np.ndarray, faces: list, fixes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Triangles of polygon faces (lists of vertex indices, 3 or more each): (M,) the face of
    each and (M, 3) its corners as indices into the faces' concatenated corners (`_flat`).
    Convex faces are fanned, concave ones ear-clipped (`scenes.polygons`); one fixes line
    counts the n-gons."""
    poly, local, n_concave = triangulate_polygons(v, faces)
    sizes = np.fromiter((len(p) for p in faces), np.int64, len(faces))
    n_ngon = int(np.sum(sizes > 3))
    if n_ngon:
        concave = f" ({count_str(n_concave)} concave, ear-clipped)" if n_concave else ""
        fixes.append(f"triangulated {count_str(n_ngon)} n-gon faces{concave}")
    return poly, (np.cumsum(sizes) - sizes)[poly][:, None] + local


def _flat(faces: list) -> np.ndarray:
    """All corners of `faces` (lists of ints) in one int64 array."""
    return np.fromiter((i for p in faces for i in p), np.int64, sum(len(p) for p in faces))


def _obj_colors(
    path: Path,
    v: np.ndarray,
    f: np.ndarray,
    colors: list,
    tri_uv: np.ndarray,
    tri_mat: np.ndarray,
    uvs: np.ndarray,
    mtllibs: list[str],
    fixes: list[str],
) -> np.ndarray | None:
    """Per-vertex colour from OBJ vertex colours, else textures, else material Kd."""
    mats: dict[str, dict] = {}
    for lib in mtllibs:
        found = _resolve_ref(path.parent, lib)
        if found is None:
            fixes.append(f"ignored missing material library '{lib}'")
        else:
            mats.update(_read_mtl(found, fixes))
    used = {str(m) for m in tri_mat if m}
    for name in sorted(used - set(mats)):
        count = int(np.sum(tri_mat == name))
        fixes.append(f"ignored undefined material '{name}' (used by {count_str(count)} faces)")
    if colors:
        c = np.array(colors, dtype=np.float64)
        if c.max(initial=0.0) > 1.0:  # some exporters write 0-255
            c = c / 255.0
        return np.hstack([np.clip(c, 0, 1), np.ones((len(c), 1))])
    if not used & set(mats) or len(f) == 0:
        return None
    # Colour each face corner, then average the corners that share a vertex.
    corner = np.full((len(f), 3, 4), np.nan)
    for name in used & set(mats):
        sel = tri_mat == name
        mat = mats[name]
        if mat["texture"] is not None and len(uvs):
            ok = sel[:, None] & (tri_uv >= 0) & (tri_uv < len(uvs))
            rgba = _sample_texture(mat["texture"], uvs[tri_uv[ok]], fixes)
            if rgba is not None:
                corner[ok] = rgba
                continue
        if mat["kd"] is not None:
            corner[sel] = mat["kd"]
    flat = corner.reshape(-1, 4)
    have = ~np.isnan(flat[:, 0])
    if not have.any():
        return None
    acc = np.zeros((len(v), 4))
    cnt = np.zeros(len(v))
    np.add.at(acc, f.reshape(-1)[have], flat[have])
    np.add.at(cnt, f.reshape(-1)[have], 1.0)
    out = np.tile([0.75, 0.72, 0.68, 1.0], (len(v), 1))
    out[cnt > 0] = acc[cnt > 0] / cnt[cnt > 0, None]
    return out


# ----------------------------------------------------------------------------- other formats


def _load_trimesh(path: Path) -> RawMesh:
    """STL / GLB / GLTF / OFF through trimesh, without trimesh's own processing."""
    fixes: list[str] = []
    fmt = path.suffix.lower()[1:]
    loaded = trimesh.load(str(path), process=False)
    if isinstance(loaded, trimesh.Scene):
        parts = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh | trimesh.PointCloud)]
        if not parts:
            raise SceneError("file contains no mesh or point geometry")
        meshes = [g for g in parts if isinstance(g, trimesh.Trimesh) and len(g.faces)]
        if len(parts) > 1:
            fixes.append(f"merged {len(parts)} scene nodes into one mesh (node transforms applied)")
        loaded = trimesh.util.concatenate(meshes) if meshes else parts[0]
    if isinstance(loaded, trimesh.PointCloud):
        cols = loaded.colors if len(loaded.colors) == len(loaded.vertices) else None
        return RawMesh(
            np.asarray(loaded.vertices, np.float64),
            np.zeros((0, 3), np.int64),
            None if cols is None else np.asarray(cols, np.float64) / 255.0,
            fmt,
            fixes,
        )
    if not isinstance(loaded, trimesh.Trimesh):
        raise SceneError(f"expected a mesh or point cloud, got {type(loaded).__name__}")
    vcol = None
    visual = loaded.visual
    try:
        if visual is not None and visual.kind == "texture":
            vcol = np.asarray(visual.to_color().vertex_colors, np.float64) / 255.0
        elif visual is not None and visual.kind in ("vertex", "face"):
            vcol = np.asarray(visual.vertex_colors, np.float64) / 255.0
    except Exception as exc:  # a texture that is referenced but unreadable
        fixes.append(f"ignored unreadable colours/texture ({exc})")
        vcol = None
    if vcol is not None and len(vcol) != len(loaded.vertices):
        vcol = None
    return RawMesh(
        np.asarray(loaded.vertices, np.float64),
        np.asarray(loaded.faces, np.int64),
        vcol,
        fmt,
        fixes,
    )


# --------------------------------------------------------------------------------------- PLY

_PLY_TYPES = {
    "char": "i1",
    "int8": "i1",
    "uchar": "u1",
    "uint8": "u1",
    "short": "i2",
    "int16": "i2",
    "ushort": "u2",
    "uint16": "u2",
    "int": "i4",
    "int32": "i4",
    "uint": "u4",
    "uint32": "u4",
    "float": "f4",
    "float32": "f4",
    "double": "f8",
    "float64": "f8",
}


def _ply_header(data: bytes) -> tuple[str, list, int]:
    """(format, [(element, count, [(prop, dtype, list count dtype or None)])], body offset)."""
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise SceneError("not a PLY file (no 'ply' magic or no 'end_header')")
    body = data.index(b"\n", end) + 1 if b"\n" in data[end:] else len(data)
    fmt, elements = "", []
    for line in data[:end].decode("ascii", errors="replace").splitlines()[1:]:
        parts = line.split()
        if not parts or parts[0] in ("comment", "obj_info"):
            continue
        if parts[0] == "format" and len(parts) >= 2:
            fmt = parts[1]
        elif parts[0] == "element" and len(parts) == 3:
            elements.append((parts[1], int(parts[2]), []))
        elif parts[0] == "property" and elements:
            try:
                if parts[1] == "list":
                    elements[-1][2].append((parts[4], _PLY_TYPES[parts[3]], _PLY_TYPES[parts[2]]))
                else:
                    elements[-1][2].append((parts[2], _PLY_TYPES[parts[1]], None))
            except (KeyError, IndexError):
                raise SceneError(f"malformed PLY property line {line!r}") from None
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise SceneError(
            f"unknown PLY format {fmt!r} (accepted: ascii, binary_little_endian, binary_big_endian)"
        )
    return fmt, elements, body


def _ply_binary_element(body: bytes, offset: int, count: int, props: list, endian: str):
    """Parse one binary element: ({prop: array or list of arrays}, new offset)."""
    if all(lt is None for _, _, lt in props):
        dt = np.dtype([(name, endian + t) for name, t, _ in props])
        if offset + count * dt.itemsize > len(body):
            raise SceneError("PLY file is truncated")
        arr = np.frombuffer(body, dt, count, offset)
        return {name: arr[name] for name, _, _ in props}, offset + count * dt.itemsize
    if len(props) == 1 and count > 0:  # the usual face element: one list, try fixed length first
        name, t, lt = props[0]
        cdt, idt = np.dtype(endian + lt), np.dtype(endian + t)
        first = int(np.frombuffer(body, cdt, 1, offset)[0])
        rec = np.dtype([("n", cdt), ("i", idt, (first,))])
        if offset + count * rec.itemsize <= len(body):
            arr = np.frombuffer(body, rec, count, offset)
            if (arr["n"] == first).all():
                return {name: arr["i"]}, offset + count * rec.itemsize
    out: dict[str, list] = {name: [] for name, _, _ in props}
    for _ in range(count):  # mixed list lengths: walk record by record
        for name, t, lt in props:
            if lt is None:
                dt = np.dtype(endian + t)
                out[name].append(np.frombuffer(body, dt, 1, offset)[0])
                offset += dt.itemsize
            else:
                cdt, idt = np.dtype(endian + lt), np.dtype(endian + t)
                n = int(np.frombuffer(body, cdt, 1, offset)[0])
                offset += cdt.itemsize
                out[name].append(np.frombuffer(body, idt, n, offset))
                offset += n * idt.itemsize
    return out, offset


def _ply_ascii_element(tokens: list, pos: int, count: int, props: list):
    """Parse one ASCII element: ({prop: array or list of arrays}, new token position)."""
    if all(lt is None for _, _, lt in props):
        n = len(props)
        arr = np.array(tokens[pos : pos + count * n], dtype=np.float64).reshape(count, n)
        return {name: arr[:, k] for k, (name, _, _) in enumerate(props)}, pos + count * n
    out: dict[str, list] = {name: [] for name, _, _ in props}
    for _ in range(count):
        for name, _, lt in props:
            if lt is None:
                out[name].append(float(tokens[pos]))
                pos += 1
            else:
                n = int(tokens[pos])
                out[name].append(np.array(tokens[pos + 1 : pos + 1 + n], dtype=np.int64))
                pos += 1 + n
    return out, pos


def _load_ply(path: Path) -> RawMesh:
    """Parse PLY (ascii or binary, any polygon sizes); vertex colours from red/green/blue."""
    data = path.read_bytes()
    fmt, elements, start = _ply_header(data)
    body = data[start:]
    tokens = body.split() if fmt == "ascii" else []
    pos = 0
    parsed: dict[str, dict] = {}
    for name, count, props in elements:
        try:
            if fmt == "ascii":
                parsed[name], pos = _ply_ascii_element(tokens, pos, count, props)
            else:
                endian = "<" if fmt == "binary_little_endian" else ">"
                parsed[name], pos = _ply_binary_element(body, pos, count, props, endian)
        except (ValueError, IndexError, struct.error) as exc:
            raise SceneError(f"PLY element {name!r} is truncated or malformed ({exc})") from None
    vert = parsed.get("vertex", {})
    if not all(k in vert for k in "xyz"):
        raise SceneError("PLY has no 'vertex' element with x, y, z properties")
    v = np.stack([np.asarray(vert[k], np.float64) for k in "xyz"], axis=1)
    fixes: list[str] = []
    vcol = None
    if all(k in vert for k in ("red", "green", "blue")):
        c = np.stack([np.asarray(vert[k], np.float64) for k in ("red", "green", "blue")], 1)
        vcol = np.hstack([c / 255.0 if c.max(initial=0) > 1.0 else c, np.ones((len(c), 1))])
    face = parsed.get("face", {})
    polys = face.get("vertex_indices", face.get("vertex_index"))
    f = np.zeros((0, 3), np.int64)
    if polys is not None and len(polys):
        if isinstance(polys, np.ndarray) and polys.shape[1] == 3:
            f = polys.astype(np.int64)
        else:
            kept = [np.asarray(p, np.int64) for p in polys if len(p) >= 3]
            n_bad = len(polys) - len(kept)
            if n_bad:
                fixes.append(f"dropped {count_str(n_bad)} faces with fewer than 3 vertices")
            if kept:
                f = _flat(kept)[_triangulate_faces(v, kept, fixes)[1]]
        valid = np.all((f >= 0) & (f < len(v)), axis=1)
        if not valid.all():
            fixes.append(
                f"dropped {count_str(int((~valid).sum()))} faces referencing missing vertices"
            )
            f = f[valid]
    return RawMesh(v, f, vcol, "ply", fixes)
