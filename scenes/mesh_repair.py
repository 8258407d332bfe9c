"""Clean a mesh read by `scenes.mesh_formats` into something later stages can rely on.

`repair` removes non-finite vertices, unreferenced and duplicate vertices, degenerate and
duplicate faces, splits non-manifold edges, fills small holes and drops floating debris. Every
change appends one human-readable line to `fixes`. Geometry stays in file units and file axes;
scaling and orientation happen in `scenes.surface.place_wall` / `place_room`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from scenes.errors import SceneError
from scenes.mesh_formats import RawMesh, count_str


def _compact(v: np.ndarray, f: np.ndarray, col: np.ndarray | None, keep: np.ndarray):
    """Keep the vertices in mask `keep` and renumber the faces (faces must use only kept ones)."""
    remap = np.cumsum(keep) - 1
    return v[keep], remap[f], None if col is None else col[keep]


def _edges(f: np.ndarray) -> np.ndarray:
    return f[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)


def repair(raw: RawMesh, *, debris_max_faces: int = 8) -> RawMesh:
    """Clean a mesh and log each change in its `fixes`; point clouds only lose bad points."""
    v, f, col, fixes = raw.vertices, raw.faces, raw.vertex_colors, list(raw.fixes)
    finite = np.isfinite(v).all(axis=1)
    if not finite.all():
        bad_face = ~finite[f].all(axis=1) if len(f) else np.zeros(0, bool)
        fixes.append(
            f"removed {count_str(int((~finite).sum()))} non-finite (NaN/inf) vertices and "
            f"{count_str(int(bad_face.sum()))} faces using them"
        )
        f = f[~bad_face]
        v, f, col = _compact(v, f, col, finite)
    if len(v) == 0:
        raise SceneError("mesh has no finite vertices")
    if len(f) == 0:
        return RawMesh(v, f, col, raw.fmt, fixes)
    used = np.zeros(len(v), bool)
    used[f.reshape(-1)] = True
    if not used.all():
        fixes.append(f"removed {count_str(int((~used).sum()))} unreferenced vertices")
        v, f, col = _compact(v, f, col, used)
    v, f, col = _merge_duplicates(v, f, col, fixes)
    f = _drop_bad_faces(v, f, fixes)
    if len(f) == 0:
        raise SceneError("mesh has no non-degenerate faces")
    # Holes first: splitting non-manifold edges opens new boundaries that are not holes.
    v, f, col = _fill_holes(v, f, col, fixes)
    f, v, col = _split_nonmanifold(v, f, col, fixes)
    v, f, col = _drop_debris(v, f, col, fixes, debris_max_faces)
    return RawMesh(v, f, col, raw.fmt, fixes)


def _merge_duplicates(v, f, col, fixes):
    """Weld vertices closer than 1e-7 of the bounding-box diagonal (STL stores 3 per face)."""
    diag = float(np.linalg.norm(v.max(0) - v.min(0))) or 1.0
    key = np.round((v - v.min(0)) / (diag * 1e-7)).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(first) < len(v):
        fixes.append(f"merged {count_str(len(v) - len(first))} duplicate vertices")
        order = np.argsort(first)  # keep the file's vertex order stable
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        v, f = v[first[order]], rank[inverse][f]
        col = None if col is None else col[first[order]]
    return v, f, col


def _drop_bad_faces(v: np.ndarray, f: np.ndarray, fixes: list[str]) -> np.ndarray:
    """Remove faces with repeated vertices, ~zero area or collinear corners, then exact duplicate
    faces."""
    diag = float(np.linalg.norm(v.max(0) - v.min(0))) or 1.0
    tri = v[f]
    area2 = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    degen = (f[:, 0] == f[:, 1]) | (f[:, 1] == f[:, 2]) | (f[:, 0] == f[:, 2])
    degen |= area2 <= (diag * 1e-9) ** 2
    # Collinear corners written in float32 (STL) keep a rounding-sized area: count a triangle
    # whose height is under 1e-5 of its longest edge as flat too.
    longest2 = np.max(np.sum((tri - np.roll(tri, 1, axis=1)) ** 2, axis=2), axis=1)
    degen |= area2 <= 1e-5 * longest2
    if degen.any():
        fixes.append(f"removed {count_str(int(degen.sum()))} degenerate faces")
        f = f[~degen]
    _, first = np.unique(np.sort(f, axis=1), axis=0, return_index=True)
    if len(first) < len(f):
        fixes.append(f"removed {count_str(len(f) - len(first))} duplicate faces")
        f = f[np.sort(first)]
    return f


def _split_nonmanifold(v, f, col, fixes):
    """Detach faces beyond the first two on edges shared by 3+ faces (copies of the edge ends)."""
    e = np.sort(_edges(f), axis=1)
    _, inv, counts = np.unique(e, axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    bad_edges = np.flatnonzero(counts > 2)
    if len(bad_edges) == 0:
        return f, v, col
    order = np.argsort(inv, kind="stable")  # edge slots grouped by unique edge
    starts = np.searchsorted(inv[order], bad_edges)
    f = f.copy()
    copies: list[int] = []  # source vertex of each new vertex
    n_detached = 0
    for be, st in zip(bad_edges.tolist(), starts.tolist()):
        slots = order[st : st + counts[be]]
        a, b = e[slots[0]]
        for fid in (slots[2:] // 3).tolist():
            for old in (a, b):
                hit = np.flatnonzero(f[fid] == old)
                if len(hit):  # already detached at this vertex for another edge otherwise
                    copies.append(int(old))
                    f[fid, hit] = len(v) + len(copies) - 1
            n_detached += 1
    v = np.vstack([v, v[copies]])
    if col is not None:
        col = np.vstack([col, col[copies]])
    fixes.append(
        f"split {count_str(len(bad_edges))} non-manifold edges (shared by 3+ faces) by "
        f"detaching {count_str(n_detached)} faces"
    )
    return f, v, col


def _boundary_loops(f: np.ndarray) -> list[list[int]]:
    """Simple closed loops of directed boundary edges (edges used by exactly one face).

    A vertex shared by two holes (a bowtie) is visited twice by one walk; the walk splits off
    a loop whenever it comes back to a vertex already on its path.
    """
    e = _edges(f)
    key = np.sort(e, axis=1)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    boundary = e[counts[inv.reshape(-1)] == 1]
    nxt: dict[int, list[int]] = defaultdict(list)
    for a, b in boundary.tolist():
        nxt[a].append(b)
    loops: list[list[int]] = []
    for start in list(nxt):
        while nxt[start]:
            path, where = [start], {start: 0}
            cur = nxt[start].pop()
            while True:
                if cur in where:  # closed a simple loop: cut it off the path
                    k = where[cur]
                    if len(path) - k >= 3:
                        loops.append(path[k:])
                    for w in path[k + 1 :]:
                        del where[w]
                    path = path[: k + 1]
                else:
                    where[cur] = len(path)
                    path.append(cur)
                if not nxt.get(cur):
                    break  # an open chain (or the walk is done)
                cur = nxt[cur].pop()
    return loops


def _fill_holes(v, f, col, fixes):
    """Fan-fill boundary loops shorter than half their part's bounding-box diagonal.

    Longer loops are a surface's outline (a wall scan is an open sheet) or large openings,
    which are left alone; a small loop inside a surface is a scanning hole. Loops enclosing
    no area (cracks along T-junctions) are left alone too: a fan there is all slivers.
    """
    loops = _boundary_loops(f)
    if not loops:
        return v, f, col
    n_comp, label = _vertex_components(f, len(v))
    lo = np.full((n_comp, 3), np.inf)
    hi = np.full((n_comp, 3), -np.inf)
    np.minimum.at(lo, label, v)
    np.maximum.at(hi, label, v)
    diag = np.linalg.norm(np.where(np.isfinite(hi - lo), hi - lo, 0.0), axis=1)
    new_f: list[np.ndarray] = []
    new_v: list[np.ndarray] = []
    new_c: list[np.ndarray] = []
    for loop in loops:
        pts = v[loop]
        perim = float(np.linalg.norm(pts - np.roll(pts, -1, axis=0), axis=1).sum())
        if perim >= 0.5 * diag[label[loop[0]]]:
            continue
        newell = np.cross(pts, np.roll(pts, -1, axis=0)).sum(axis=0)
        if np.linalg.norm(newell) <= 1e-4 * perim * perim:
            continue  # a crack of zero width (a T-junction, a dropped sliver): nothing to fill
        c = len(v) + len(new_v)
        new_v.append(pts.mean(axis=0))
        if col is not None:
            new_c.append(col[loop].mean(axis=0))
        ring = np.array(loop)
        # Reverse the boundary direction so the patch's winding matches its neighbours.
        new_f.append(np.stack([np.roll(ring, -1), ring, np.full(len(ring), c)], axis=1))
    if not new_f:
        return v, f, col
    fixes.append(
        f"filled {count_str(len(new_f))} holes (boundary loops up to "
        f"{max(len(x) for x in new_f)} edges)"
    )
    v = np.vstack([v, np.array(new_v)])
    col = None if col is None else np.vstack([col, np.array(new_c)])
    return v, np.vstack([f, *new_f]), col


def _vertex_components(f: np.ndarray, n_vertices: int) -> tuple[int, np.ndarray]:
    """Connected components of the vertex graph: (count, label per vertex)."""
    e = _edges(f)
    adj = scipy.sparse.coo_matrix(
        (np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n_vertices, n_vertices)
    )
    return scipy.sparse.csgraph.connected_components(adj, directed=False)


def _drop_debris(v, f, col, fixes, max_faces: int):
    """Remove tiny floating fragments (few faces, <0.01% of the area); report the rest."""
    n_comp, label = _vertex_components(f, len(v))
    if n_comp == 1:
        return v, f, col
    face_label = label[f[:, 0]]
    tri = v[f]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    comp_area = np.bincount(face_label, weights=area, minlength=n_comp)
    comp_faces = np.bincount(face_label, minlength=n_comp)
    present = comp_faces > 0
    debris = present & (comp_faces <= max_faces) & (comp_area < 1e-4 * area.sum())
    if debris.any():
        fixes.append(
            f"removed {count_str(int(debris.sum()))} tiny disconnected fragments "
            f"({count_str(int(comp_faces[debris].sum()))} faces)"
        )
        f = f[~debris[face_label]]
        used = np.zeros(len(v), bool)
        used[f.reshape(-1)] = True
        v, f, col = _compact(v, f, col, used)
    kept = int((present & ~debris).sum())
    if kept > 1:
        share = comp_area[present & ~debris].max() / max(comp_area[present & ~debris].sum(), 1e-300)
        fixes.append(f"kept {kept} disconnected parts (largest has {share:.0%} of the area)")
    return v, f, col
