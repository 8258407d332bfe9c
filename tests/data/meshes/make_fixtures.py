"""Generate the synthetic climbing-wall fixtures in this folder (run once; outputs are committed).

    python tests/data/meshes/make_fixtures.py

All files are generated here from code (no third-party data; CC0). The wall is 4 m wide and
4.5 m tall, in the scene convention (x along the base, face toward +y, z up), with 23 dome-shaped
holds of known kinds in two climbable columns, a box volume and a wedge volume (separate closed parts). `holds_truth.json`
lists each hold's apex (scene frame, metres) and kind. Each file carries real-world quirks:

- wall_quirks.obj   quads/pentagons (n-gons), 25 unreferenced vertices, a missing .mtl library,
                    an existing .mtl naming a missing texture, an undefined material, vertex colours
- wall_binary.stl   binary STL (3 unmerged vertices per face)
- wall_ascii.stl    ASCII STL
- wall.ply          binary PLY mesh with vertex colours and quad faces
- wall_points.ply   binary PLY point cloud of the front surface (no faces), 2 mm noise, colours
- wall.glb          glTF binary, Y-up (the glTF convention), vertex colours
- wall_yup_cm.obj   Y-up and centimetres
- wall_broken.obj   holes, a non-manifold fin, duplicate vertices, degenerate and duplicate faces,
                    a NaN vertex and a floating fragment
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
from scipy.spatial import Delaunay

HERE = Path(__file__).resolve().parent
WALL_W, WALL_H = 4.0, 4.5
GREY = (0.8, 0.8, 0.78)
WOOD = (0.6, 0.45, 0.3)
# hold shapes: half-width a (x), half-height b (z), depth d (domes: y = d * sqrt(1 - rho^2))
SHAPES = {
    "foothold": (0.035, 0.035, 0.03),
    "jug": (0.09, 0.09, 0.08),
    "crimp": (0.05, 0.025, 0.018),
    "sloper": (0.12, 0.12, 0.035),
    "pinch": (0.03, 0.06, 0.045),
}
RED, BLUE, GREEN, YELLOW = (0.85, 0.1, 0.1), (0.1, 0.3, 0.9), (0.1, 0.7, 0.2), (0.95, 0.85, 0.1)
# two climbable columns (left red, right blue) plus footholds: x, z, kind, colour
_LAYOUT = [
    (-1.0, 0.35, "foothold", RED),
    (-0.6, 0.5, "foothold", RED),
    (0.2, 0.35, "foothold", BLUE),
    (0.6, 0.5, "foothold", BLUE),
    (-1.05, 1.3, "jug", RED),
    (-0.55, 1.4, "crimp", RED),
    (-1.0, 1.9, "pinch", RED),
    (-0.5, 2.35, "sloper", RED),
    (-1.0, 2.8, "jug", RED),
    (-0.55, 3.25, "crimp", RED),
    (-0.95, 3.7, "pinch", RED),
    (-0.6, 4.15, "jug", RED),
    (0.15, 1.3, "jug", BLUE),
    (0.6, 1.45, "pinch", BLUE),
    (0.2, 1.9, "crimp", BLUE),
    (0.65, 2.35, "jug", BLUE),
    (0.15, 2.8, "sloper", BLUE),
    (0.6, 3.25, "pinch", BLUE),
    (0.2, 3.7, "crimp", BLUE),
    (0.55, 4.15, "jug", BLUE),
    (1.5, 0.4, "foothold", YELLOW),
    (1.5, 2.5, "jug", GREEN),
    (1.4, 3.9, "sloper", GREEN),
]
HOLDS = [(x, z, *SHAPES[k], k, c) for x, z, k, c in _LAYOUT]
BOX = (-1.95, -1.4, 2.2, 2.6, 0.25)  # x0, x1, z0, z1, depth
WEDGE = (1.0, 1.9, 0.9, 1.9, 0.3)  # x0, x1, z0 (deep end), z1 (flush end), depth at z0


def _dome(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Height of the hold domes and the index of the hold covering each point (-1: none)."""
    h = np.zeros_like(x)
    owner = np.full(x.shape, -1)
    for i, (hx, hz, a, b, d, _, _) in enumerate(HOLDS):
        rho2 = ((x - hx) / a) ** 2 + ((z - hz) / b) ** 2
        hi = d * np.sqrt(np.clip(1.0 - rho2, 0.0, None))
        owner[rho2 <= 1.0 + 1e-9] = i
        h = np.maximum(h, hi)
    return h, owner


def front_height(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The wall's front surface y(x, z) including holds and volumes (for the point cloud)."""
    h, _ = _dome(x, z)
    x0, x1, z0, z1, d = BOX
    h = np.where((x >= x0) & (x <= x1) & (z >= z0) & (z <= z1), np.maximum(h, d), h)
    x0, x1, z0, z1, d = WEDGE
    inside = (x >= x0) & (x <= x1) & (z >= z0) & (z <= z1)
    return np.where(inside, np.maximum(h, d * (z1 - z) / (z1 - z0)), h)


def _box_parts():
    """Box and wedge volumes: vertices and polygon faces (quads and triangles), outward."""
    x0, x1, z0, z1, d = BOX
    bv = np.array([[x, y, z] for z in (z0, z1) for y in (0.0, d) for x in (x0, x1)], float)
    # vertex index = 4*zi + 2*yi + xi
    box_faces = [[0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5], [0, 2, 3, 1], [4, 5, 7, 6]]
    x0, x1, z0, z1, d = WEDGE
    wv = np.array(
        [[x0, 0, z0], [x1, 0, z0], [x0, d, z0], [x1, d, z0], [x0, 0, z1], [x1, 0, z1]], float
    )
    wedge_faces = [[0, 2, 3, 1], [2, 4, 5, 3], [0, 1, 5, 4], [0, 4, 2], [1, 3, 5]]
    return bv, _outward(bv, box_faces), wv, _outward(wv, wedge_faces)


def _outward(v: np.ndarray, faces: list[list[int]]) -> list[list[int]]:
    """Orient the polygons of a convex solid so their normals point away from its centre."""
    centre = v.mean(axis=0)
    out = []
    for f in faces:
        p = v[f]
        n = np.cross(p[1] - p[0], p[2] - p[0])
        out.append(f if n @ (p.mean(axis=0) - centre) > 0 else f[::-1])
    return out


def build_wall() -> dict:
    """Vertices, polygon faces (lists), vertex colours and the hold truth of the fixture wall."""
    gx, gz = np.meshgrid(np.linspace(-WALL_W / 2, WALL_W / 2, 21), np.linspace(0, WALL_H, 24))
    pts = np.stack([gx.ravel(), gz.ravel()], axis=1)
    keep = np.ones(len(pts), bool)
    rings = []
    for hx, hz, a, b, _, _, _ in HOLDS:
        rho2 = ((pts[:, 0] - hx) / a) ** 2 + ((pts[:, 1] - hz) / b) ** 2
        keep &= rho2 > 1.3**2
        rings.append([[hx, hz]])
        for rho, n in ((0.35, 8), (0.6, 10), (0.8, 12), (0.93, 14), (1.0, 14), (1.15, 14)):
            t = np.linspace(0, 2 * np.pi, n, endpoint=False) + rho
            rings.append(np.stack([hx + rho * a * np.cos(t), hz + rho * b * np.sin(t)], 1))
    pts = np.vstack([pts[keep], *rings])
    tri = Delaunay(pts).simplices
    e1, e2 = pts[tri[:, 1]] - pts[tri[:, 0]], pts[tri[:, 2]] - pts[tri[:, 0]]
    ccw = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] > 0
    tri[ccw] = tri[ccw][:, ::-1]  # (x, z) clockwise <=> 3-D normal toward +y
    h, owner = _dome(pts[:, 0], pts[:, 1])
    verts = np.stack([pts[:, 0], h, pts[:, 1]], axis=1)
    colours = np.array([HOLDS[o][6] if o >= 0 else GREY for o in owner])
    faces = [list(t) for t in tri]
    bv, bf, wv, wf = _box_parts()
    for pv, pf in ((bv, bf), (wv, wf)):
        base = len(verts)
        verts = np.vstack([verts, pv])
        colours = np.vstack([colours, np.tile(WOOD, (len(pv), 1))])
        faces += [[base + i for i in f] for f in pf]
    truth = [
        {"position": [hx, d, hz], "kind": kind, "rgba": [*c, 1.0]}
        for hx, hz, a, b, d, kind, c in HOLDS
    ]
    return {"vertices": verts, "faces": faces, "colors": colours, "holds": truth}


def triangulate(faces: list[list[int]]) -> np.ndarray:
    """Fan-triangulate polygons."""
    return np.array([[f[0], f[k], f[k + 1]] for f in faces for k in range(1, len(f) - 1)])


def _fmt(x: float) -> str:
    return f"{x:.5f}".rstrip("0").rstrip(".") if np.isfinite(x) else "nan"


def write_obj(path: Path, verts, faces, colors=None, header: str = "", extra_v=()) -> None:
    """Plain OBJ writer (polygons kept as written)."""
    lines = [header] if header else []
    for i, v in enumerate(verts):
        c = "" if colors is None else " " + " ".join(_fmt(x) for x in colors[i])
        lines.append("v " + " ".join(_fmt(x) for x in v) + c)
    lines += ["v " + " ".join(_fmt(x) for x in v) for v in extra_v]
    lines += ["f " + " ".join(str(i + 1) for i in f) for f in faces]
    path.write_text("\n".join(lines) + "\n")


def write_quirky_obj(path: Path, wall: dict) -> None:
    """OBJ with n-gons, unreferenced vertices and broken material references."""
    v, f, c = wall["vertices"], wall["faces"], wall["colors"]
    n_tri = sum(len(x) == 3 for x in f[:-11])
    lines = [
        "# synthetic climbing wall (navenv test fixture, CC0)",
        "mtllib wall_materials.mtl",
        "mtllib wall_present.mtl",
        "o wall",
    ]
    lines += [
        "v " + " ".join(_fmt(x) for x in p) + " " + " ".join(_fmt(x) for x in q)
        for p, q in zip(v, c)
    ]
    # leftovers of a modelling session: vertices no face uses
    g = np.linspace(0, 1, 5)
    lines += [f"v {_fmt(5 + a)} {_fmt(1 + b)} 9 0.5 0.5 0.5" for a in g for b in g]
    lines.append("usemtl paint")
    lines += ["f " + " ".join(f"{i + 1}" for i in face) for face in f[:n_tri]]
    lines.append("usemtl wood")
    # volumes: quads and triangles
    lines += ["f " + " ".join(f"{i + 1}//" for i in face) for face in f[n_tri:]]
    path.write_text("\n".join(lines) + "\n")
    (HERE / "wall_present.mtl").write_text(
        "# material with a texture that was not shipped\nnewmtl wood\nKd 0.6 0.45 0.3\n"
        "map_Kd C:\\Users\\artist\\textures\\plywood.png\n"
    )


def write_stl_binary(path: Path, verts, tris) -> None:
    """Binary STL (facet normals from the winding)."""
    t = verts[tris]
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    rec = np.zeros(len(tris), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    rec["n"], rec["v"] = n, t
    path.write_bytes(
        b"navenv synthetic wall".ljust(80, b" ") + struct.pack("<I", len(tris)) + rec.tobytes()
    )


def write_stl_ascii(path: Path, verts, tris) -> None:
    """ASCII STL with 4-decimal coordinates."""
    t = verts[tris]
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    out = ["solid wall"]
    for ni, ti in zip(n, t):
        out.append("facet normal " + " ".join(f"{x:.3f}" for x in ni))
        out.append("outer loop")
        out += ["vertex " + " ".join(f"{x:.4f}" for x in p) for p in ti]
        out += ["endloop", "endfacet"]
    path.write_text("\n".join([*out, "endsolid wall"]) + "\n")


def write_ply(path: Path, verts, colors, faces=None) -> None:
    """Binary little-endian PLY with uchar colours and optional polygon faces."""
    header = [
        "ply",
        "format binary_little_endian 1.0",
        "comment navenv fixture (CC0)",
        f"element vertex {len(verts)}",
        "property float x",
        "property float y",
        "property float z",
        "property uchar red",
        "property uchar green",
        "property uchar blue",
    ]
    if faces is not None:
        header += [f"element face {len(faces)}", "property list uchar int vertex_indices"]
    header.append("end_header")
    vrec = np.zeros(len(verts), dtype=[("p", "<f4", 3), ("c", "u1", 3)])
    vrec["p"], vrec["c"] = verts, np.round(np.asarray(colors) * 255)
    body = vrec.tobytes()
    if faces is not None:
        body += b"".join(struct.pack(f"<B{len(f)}i", len(f), *f) for f in faces)
    path.write_bytes(("\n".join(header) + "\n").encode() + body)


def y_up(v: np.ndarray) -> np.ndarray:
    """Z-up scene coordinates -> the Y-up convention of glTF/most DCC exports (x, z, -y)."""
    return np.stack([v[:, 0], v[:, 2], -v[:, 1]], axis=1)


def point_cloud(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy scan points of the wall's front surface with colours."""
    x = rng.uniform(-WALL_W / 2, WALL_W / 2, n)
    z = rng.uniform(0, WALL_H, n)
    y = front_height(x, z) + rng.normal(0, 0.002, n)
    _, owner = _dome(x, z)
    col = np.array([HOLDS[o][6] if o >= 0 else GREY for o in owner])
    x0, x1, z0, z1, _ = BOX
    col[(x >= x0) & (x <= x1) & (z >= z0) & (z <= z1)] = WOOD
    return np.stack([x, y, z], axis=1), col


def write_broken(path: Path, wall: dict) -> dict:
    """Wall with holes, a non-manifold fin, duplicates, degenerate faces, NaN and debris."""
    v = wall["vertices"].copy()
    tris = triangulate(wall["faces"])
    # holes: drop single triangles in the plain wall, well away from holds and the border
    cent = v[tris].mean(axis=1)
    h_free = np.array([min(np.hypot(c[0] - hx, c[2] - hz) for hx, hz, *_ in HOLDS) for c in cent])
    plain = np.flatnonzero(
        (np.abs(cent[:, 0]) < 1.6)
        & (cent[:, 2] > 0.4)
        & (cent[:, 2] < 4.2)
        & (h_free > 0.4)
        & (np.abs(cent[:, 1]) < 1e-9)
    )
    holes = plain[[5, 40, 90]]
    keep = np.ones(len(tris), bool)
    keep[holes] = False
    tris = list(map(list, tris[keep]))
    a, b = tris[0][0], tris[0][1]  # a wall edge that already has two faces
    extra = [v[a] + np.array([0.0, 0.3, 0.0])]  # fin apex sticking out
    fin = [a, b, len(v)]
    dup_src = tris[1][2]
    extra.append(v[dup_src].copy())  # duplicate of an existing vertex
    tris[1][2] = len(v) + 1
    extra.append([np.nan, np.nan, np.nan])
    nan_face = [a, b, len(v) + 2]
    extra += [[5.0, 5.0, 5.0], [5.01, 5.0, 5.0], [5.0, 5.01, 5.0]]  # debris triangle
    debris = [len(v) + 3, len(v) + 4, len(v) + 5]
    degenerate = [[a, a, b], [tris[5][0], tris[5][1], tris[5][0]]]
    duplicate = [list(tris[7])]
    faces = [*tris, fin, nan_face, debris, *degenerate, *duplicate]
    write_obj(
        path,
        np.vstack([v, np.array(extra)]),
        faces,
        header="# broken synthetic wall (navenv test fixture, CC0)",
    )
    return {"holes": 3, "fin": 1, "degenerate": 2, "duplicate_faces": 1, "nan": 1}


def _box(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Closed axis-aligned box as triangles (outward)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    v = np.array(
        [
            [(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]]
            for k in (0, 1)
            for j in (0, 1)
            for i in (0, 1)
        ]
    )
    quads = _outward(
        v, [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
    )
    return v, triangulate(quads)


def build_cave() -> tuple[np.ndarray, np.ndarray]:
    """A wall slab with a roof whose front lip hangs down: free space hidden behind the lip,
    which a heightfield along the wall normal cannot represent (needs convex pieces)."""
    parts = [
        _box((-2, -0.1, 0), (2, 0, 4.5)),  # wall slab
        _box((-2, 0, 2.4), (2, 1.5, 2.6)),  # roof
        _box((-2, 1.3, 1.4), (2, 1.5, 2.4)),
    ]  # lip hanging from the roof's front
    verts, faces, base = [], [], 0
    for v, f in parts:
        verts.append(v)
        faces.append(f + base)
        base += len(v)
    return np.vstack(verts), np.vstack(faces)


def build_room() -> tuple[np.ndarray, np.ndarray]:
    """A 5 x 4 m room (floor slab, four 2.5 m walls, no ceiling) with a 1 x 0.7 m table at
    x 0.5-1.5, y 0.5-1.2 (z up, metres)."""
    boxes = [
        ((-2.5, -2, -0.1), (2.5, 2, 0)),
        ((-2.5, -2, 0), (-2.4, 2, 2.5)),
        ((2.4, -2, 0), (2.5, 2, 2.5)),
        ((-2.4, -2, 0), (2.4, -1.9, 2.5)),
        ((-2.4, 1.9, 0), (2.4, 2, 2.5)),
        ((0.5, 0.5, 0), (1.5, 1.2, 0.75)),
    ]
    verts, faces, base = [], [], 0
    for lo, hi in boxes:
        v, f = _box(lo, hi)
        verts.append(v)
        faces.append(f + base)
        base += len(v)
    return np.vstack(verts), np.vstack(faces)


def build_furnished_room() -> tuple[np.ndarray, np.ndarray]:
    """A 6 x 5 m living room as one scan-like mesh (z up, metres): floor slab, four 2.6 m walls
    and a door gap, a bed, a sofa (seat and back), a table, a chair (seat and back), a shelf, a
    wardrobe and a box on the floor; the pieces touch nothing but the floor (and the wall behind)."""
    boxes = [
        ((-3.0, -2.5, -0.1), (3.0, 2.5, 0.0)),  # floor
        ((-3.0, -2.5, 0.0), (-2.9, 2.5, 2.6)),  # west wall
        ((2.9, -2.5, 0.0), (3.0, 2.5, 2.6)),  # east wall
        ((-2.9, 2.4, 0.0), (2.9, 2.5, 2.6)),  # north wall
        ((-2.9, -2.5, 0.0), (0.5, -2.4, 2.6)),  # south wall, west of the door
        ((1.4, -2.5, 0.0), (2.9, -2.4, 2.6)),  # south wall, east of the door
        ((0.5, -2.5, 2.05), (1.4, -2.4, 2.6)),  # lintel over the door
        ((-2.9, 0.4, 0.0), (-1.3, 2.4, 0.55)),  # bed against the west and north walls
        ((0.2, 1.55, 0.0), (2.2, 2.4, 0.45)),  # sofa seat against the north wall
        ((0.2, 2.2, 0.45), (2.2, 2.4, 0.85)),  # sofa back
        ((0.3, -0.4, 0.0), (1.5, 0.4, 0.74)),  # table
        ((-0.45, -0.25, 0.0), (0.0, 0.2, 0.46)),  # chair seat
        ((-0.45, -0.25, 0.46), (-0.39, 0.2, 0.9)),  # chair back
        ((2.55, -1.2, 0.0), (2.9, -0.2, 1.8)),  # shelf against the east wall
        ((-2.9, -2.4, 0.0), (-2.3, -1.2, 2.0)),  # wardrobe in the south-west corner
        ((-1.0, -1.6, 0.0), (-0.6, -1.2, 0.4)),  # a box on the floor
    ]
    verts, faces, base = [], [], 0
    for lo, hi in boxes:
        v, f = _box(lo, hi)
        verts.append(v)
        faces.append(f + base)
        base += len(v)
    return np.vstack(verts), np.vstack(faces)


def build_hold_shape() -> tuple[np.ndarray, np.ndarray]:
    """A closed scanned-hold-like mesh: half-ellipsoid (8 x 6 cm footprint, 5 cm tall) on a
    flat base at z = 0, protruding toward +z."""
    rings, n = 8, 24
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    verts = [[0.0, 0.0, 0.05]]
    for k in range(1, rings + 1):
        phi = k / rings * np.pi / 2
        verts += [
            [0.04 * np.sin(phi) * np.cos(a), 0.03 * np.sin(phi) * np.sin(a), 0.05 * np.cos(phi)]
            for a in t
        ]
    verts.append([0.0, 0.0, 0.0])
    faces = [[0, 1 + i, 1 + (i + 1) % n] for i in range(n)]
    for k in range(rings - 1):
        a, b = 1 + k * n, 1 + (k + 1) * n
        for i in range(n):
            j = (i + 1) % n
            faces += [[a + i, b + i, b + j], [a + i, b + j, a + j]]
    last, centre = 1 + (rings - 1) * n, len(verts) - 1
    faces += [[centre, last + (i + 1) % n, last + i] for i in range(n)]
    return np.array(verts), np.array(faces)


def main() -> None:
    """Write every fixture next to this script."""
    rng = np.random.default_rng(20240601)
    wall = build_wall()
    v, polys, col = wall["vertices"], wall["faces"], wall["colors"]
    tris = triangulate(polys)
    write_quirky_obj(HERE / "wall_quirks.obj", wall)
    write_stl_binary(HERE / "wall_binary.stl", v, tris)
    write_stl_ascii(HERE / "wall_ascii.stl", v, tris)
    write_ply(HERE / "wall.ply", v, col, polys)
    pts, pcol = point_cloud(30_000, rng)
    write_ply(HERE / "wall_points.ply", pts, pcol)
    import trimesh

    glb = trimesh.Trimesh(
        y_up(v), tris, vertex_colors=np.round(col * 255).astype(np.uint8), process=False
    )
    glb.export(HERE / "wall.glb")
    write_obj(
        HERE / "wall_yup_cm.obj",
        y_up(v) * 100.0,
        tris,
        header="# Y-up, centimetres (navenv test fixture, CC0)",
    )
    broken = write_broken(HERE / "wall_broken.obj", wall)
    (HERE / "holds_truth.json").write_text(
        json.dumps(
            {
                "wall_height_m": WALL_H,
                "wall_width_m": WALL_W,
                "holds": wall["holds"],
                "broken": broken,
                "n_ngons": sum(len(f) > 3 for f in polys),
                "n_unreferenced": 25,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
