"""Split the climbing surface of a whole-gym scan into wall sectors.

Input is the scan in the scene frame (metres, z up, floor at z = 0). Faces are first sorted
out: the floor, a ceiling (a downward plane at the top covering >= 30 % of the floor's area) and
other upward surfaces more than 50 degrees from vertical (mats, ledges, wall tops) do not get
climbed. The rest is split where it creases:

1. normals are smoothed over neighbours within 15 degrees of each other (scan noise goes,
   creases stay), and faces sharing a vertex join when their normals differ by < 20 degrees;
2. a joined part whose normals spread by more than 35 degrees (a rounded corner that chained
   two walls together) is split in two by its normals, again and again;
3. parts smaller than `MIN_AREA_M2` or narrower than `MIN_WIDTH_M` (the side triangle of an
   overhang panel, a volume's flank) join the neighbour they share the longest edge with;
4. parts that start above `FOOT_REACH_M` (a roof, the lip above it) join the part below them:
   every sector must be climbable from the floor;
5. two sectors meeting at a convex, near-vertical edge at 30-120 degrees become one arete.

Each sector's angle is its main face's (its largest part; its roof part for kind "roof"): 0
vertical, positive overhanging, negative a slab. Kinds: roof when >= 20 % of its area is 60
degrees or more past vertical, arete from step 5, else slab (< -5), vertical (-5..5) or
overhang (> 5). Connected parts come from scipy.sparse.csgraph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from scenes.surface import face_normals, triangle_areas

MIN_AREA_M2 = 3.0
MIN_WIDTH_M = 1.5
FOOT_REACH_M = 0.75
"""Highest a sector's lowest point may be: start footholds sit 0.1-0.75 m above the floor."""
JOIN_DEG, SMOOTH_DEG, SPREAD_DEG = 20.0, 15.0, 35.0
TOP_SIN = np.sin(np.radians(50.0))
"""Upward faces with n_z above this (more than 50 degrees past vertical) are not climbed."""


@dataclass
class SectorMesh:
    """One sector: its faces and what describes it (scene frame, metres, degrees)."""

    faces: np.ndarray  # indices into the mesh's faces
    kind: str
    angle_deg: float
    normal: np.ndarray  # (3,) unit outward normal of the main face
    facing: np.ndarray  # (3,) unit horizontal direction from the wall toward the climber
    width: float
    height: float
    area: float
    base: np.ndarray  # (3,) middle of the front of its foot on the floor (z = 0)
    parts: int = 1


@dataclass
class Segmentation:
    """Sectors and the faces that are not climbed, by what they are."""

    sectors: list[SectorMesh]
    floor: np.ndarray  # (F,) bool
    ceiling: np.ndarray  # (F,) bool
    tops: np.ndarray  # (F,) bool: mats, ledges, wall tops
    dropped: np.ndarray  # (F,) bool: climbable faces too small or too high to be a sector
    notes: list[str] = field(default_factory=list)


def face_angles(n: np.ndarray) -> np.ndarray:
    """Degrees from vertical of outward normals: 0 vertical, + overhanging, 90 a roof."""
    return np.degrees(np.arcsin(np.clip(-n[:, 2], -1.0, 1.0)))


def _pairs(f: np.ndarray, cap: int = 12) -> np.ndarray:
    """(P, 2) face pairs sharing a vertex; a vertex of more than `cap` faces (a fan's hub)
    links each of its faces to the next only."""
    inc_v = f.reshape(-1)
    inc_f = np.repeat(np.arange(len(f)), 3)
    order = np.argsort(inc_v, kind="stable")
    inc_v, inc_f = inc_v[order], inc_f[order]
    start = np.flatnonzero(np.r_[True, inc_v[1:] != inc_v[:-1]])
    size = np.diff(np.r_[start, len(inc_v)])
    out = []
    for s in np.unique(size):
        if s < 2:
            continue
        groups = inc_f[start[size == s, None] + np.arange(s)]  # (G, s)
        if s <= cap:
            i, j = np.triu_indices(s, 1)
        else:
            i, j = np.arange(s - 1), np.arange(1, s)
        out.append(np.stack([groups[:, i].ravel(), groups[:, j].ravel()], axis=1))
    if not out:
        return np.zeros((0, 2), np.int64)
    p = np.sort(np.concatenate(out), axis=1)
    return np.unique(p[p[:, 0] != p[:, 1]], axis=0)


def _edge_pairs(v: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces sharing an edge: (P, 2) pairs, each edge's length and unit direction."""
    e = np.sort(f[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    face = np.repeat(np.arange(len(f)), 3)
    order = np.lexsort((e[:, 1], e[:, 0]))
    e, face = e[order], face[order]
    same = np.all(e[1:] == e[:-1], axis=1)
    pairs = np.stack([face[:-1][same], face[1:][same]], axis=1)
    d = v[e[1:][same, 1]] - v[e[1:][same, 0]]
    length = np.linalg.norm(d, axis=1)
    return pairs, length, d / np.maximum(length[:, None], 1e-12)


def _labels(keep: np.ndarray, pairs: np.ndarray, n: int) -> np.ndarray:
    """Connected components of the faces in `keep` over `pairs` (others get -1)."""
    g = scipy.sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), (n, n))
    _, lab = scipy.sparse.csgraph.connected_components(g, directed=False)
    _, lab = np.unique(np.where(keep, lab, -1), return_inverse=True)
    return np.where(keep, lab.reshape(-1) - (0 if keep.all() else 1), -1)


def _smooth(n: np.ndarray, area: np.ndarray, pairs: np.ndarray, rounds: int = 2) -> np.ndarray:
    """Area-weighted normals averaged over neighbours within SMOOTH_DEG (creases stay sharp)."""
    cos = np.cos(np.radians(SMOOTH_DEG))
    for _ in range(rounds):
        ok = np.sum(n[pairs[:, 0]] * n[pairs[:, 1]], axis=1) > cos
        i, j = pairs[ok, 0], pairs[ok, 1]
        acc = n * area[:, None]
        np.add.at(acc, i, n[j] * area[j, None])
        np.add.at(acc, j, n[i] * area[i, None])
        n = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-300)
    return n


def _split_spread(lab, n, area, pairs, depth: int = 3) -> np.ndarray:
    """Split parts whose normals spread more than SPREAD_DEG in two by their normals."""
    cos = np.cos(np.radians(SPREAD_DEG))
    for _ in range(depth):
        k = lab.max() + 1
        if k <= 0:
            return lab
        mean = np.zeros((k, 3))
        ok = lab >= 0
        np.add.at(mean, lab[ok], n[ok] * area[ok, None])
        mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-300)
        off = ok & (np.sum(n * mean[np.maximum(lab, 0)], axis=1) < cos)
        share = np.bincount(lab[off], area[off], k) / np.maximum(
            np.bincount(lab[ok], area[ok], k), 1e-300
        )
        spread = np.flatnonzero((share > 0.1) & (np.bincount(lab[ok], area[ok], k) >= MIN_AREA_M2))
        if not len(spread):
            return lab
        side = np.zeros(len(lab), np.int64)
        for r in spread:
            idx = np.flatnonzero(lab == r)
            a = n[idx[np.argmin(n[idx] @ mean[r])]]
            b = n[idx[np.argmin(n[idx] @ a)]]
            for _ in range(10):  # 2-means on the sphere
                to_b = n[idx] @ b > n[idx] @ a
                a = (n[idx][~to_b] * area[idx][~to_b, None]).sum(0)
                b = (n[idx][to_b] * area[idx][to_b, None]).sum(0)
                a, b = (x / max(np.linalg.norm(x), 1e-300) for x in (a, b))
            side[idx] = to_b
        same = (lab[pairs[:, 0]] == lab[pairs[:, 1]]) & (side[pairs[:, 0]] == side[pairs[:, 1]])
        lab = _labels(lab >= 0, pairs[same], len(lab))
    return lab


class _Regions:
    """Parts being merged: faces, areas and shared edge lengths between them."""

    def __init__(self, lab, v, f, area, epairs, elen) -> None:
        self.v, self.f, self.area = v, f, area
        self.members = {int(r): list(np.flatnonzero(lab == r)) for r in np.unique(lab[lab >= 0])}
        self.adj: dict[int, dict[int, float]] = {r: {} for r in self.members}
        li, lj = lab[epairs[:, 0]], lab[epairs[:, 1]]
        cross = (li >= 0) & (lj >= 0) & (li != lj)
        for a, b, length in zip(li[cross], lj[cross], elen[cross]):
            self.adj[a][b] = self.adj[a].get(b, 0.0) + length
            self.adj[b][a] = self.adj[b].get(a, 0.0) + length
        self.parts = {r: 1 for r in self.members}
        self.core = {r: list(m) for r, m in self.members.items()}  # its largest original part

    def total(self, r: int) -> float:
        return float(self.area[self.members[r]].sum())

    def verts(self, r: int) -> np.ndarray:
        return self.v[np.unique(self.f[self.members[r]])]

    def merge(self, r: int, into: int) -> None:
        if self.area[self.core[r]].sum() > self.area[self.core[into]].sum():
            self.core[into] = self.core[r]
        del self.core[r]
        self.members[into] += self.members.pop(r)
        self.parts[into] += self.parts.pop(r)
        for k, length in self.adj.pop(r).items():
            self.adj[k].pop(r, None)
            if k != into:
                self.adj[into][k] = self.adj[into].get(k, 0.0) + length
                self.adj[k][into] = self.adj[k].get(into, 0.0) + length


def _width(pts: np.ndarray, normal: np.ndarray) -> float:
    h = np.array([normal[0], normal[1], 0.0])
    if np.linalg.norm(h) < 1e-6:
        return float(np.ptp(pts[:, :2], axis=0).max())
    lat = np.cross([0.0, 0.0, 1.0], h / np.linalg.norm(h))
    return float(np.ptp(pts @ lat))


def segment(v: np.ndarray, f: np.ndarray, floor: np.ndarray) -> Segmentation:
    """Sectors of a gym mesh in the scene frame (see the module docstring); `floor` marks the
    floor's faces (from `scenes.floor.find_floor`)."""
    n = face_normals(v, f)
    area = triangle_areas(v, f)
    cz = v[f].mean(axis=1)[:, 2]
    top = float(v[:, 2].max())
    floor = floor | ((n[:, 2] > np.cos(np.radians(15.0))) & (cz < 0.05))
    ceil = (n[:, 2] < -np.cos(np.radians(15.0))) & (cz > top - 0.05 * top)
    if area[ceil].sum() < 0.3 * area[floor].sum():
        ceil[:] = False
    tops = ~floor & (n[:, 2] > TOP_SIN)
    climb = ~floor & ~ceil & ~tops & (area > 0)
    pairs = _pairs(f)
    pairs = pairs[climb[pairs[:, 0]] & climb[pairs[:, 1]]]
    ns = _smooth(n, area, pairs)
    joined = pairs[np.sum(ns[pairs[:, 0]] * ns[pairs[:, 1]], axis=1) > np.cos(np.radians(JOIN_DEG))]
    lab = _split_spread(_labels(climb, joined, len(f)), ns, area, joined)
    epairs, elen, edir = _edge_pairs(v, f)
    reg = _Regions(lab, v, f, area, epairs, elen)
    notes: list[str] = []
    n_absorbed = _absorb_small(reg, ns)
    n_hung, unreachable = _hang(reg)
    aretes = _aretes(reg, lab, ns, epairs, elen, edir)
    dropped = np.zeros(len(f), bool)
    for r in unreachable + [r for r in reg.members if reg.total(r) < MIN_AREA_M2]:
        if r in reg.members:
            dropped[reg.members.pop(r)] = True
    sectors = [_describe(reg, r, v, f, n, area, aretes) for r in reg.members]
    sectors.sort(key=lambda s: (-round(s.area, 3), s.kind))
    notes.append(
        f"split the climbing surface at creases into {len(sectors)} sectors "
        f"({n_absorbed} small parts joined a neighbour, {n_hung} parts starting above "
        f"{FOOT_REACH_M:g} m joined the part below, {len(aretes)} aretes)"
    )
    if dropped.any():
        notes.append(
            f"left {area[dropped].sum():.1f} m^2 of steep surface out of every sector "
            "(too small, or out of reach from the floor)"
        )
    return Segmentation(sectors, floor, ceil, tops, dropped, notes)


def _absorb_small(reg: _Regions, ns: np.ndarray) -> int:
    """Step 3: small or narrow parts join the neighbour they share the longest edge with."""
    count = 0
    for r in sorted(reg.members, key=reg.total):
        if r not in reg.members:
            continue
        normal = (ns[reg.members[r]] * reg.area[reg.members[r], None]).sum(0)
        small = reg.total(r) < MIN_AREA_M2 or _width(reg.verts(r), normal) < MIN_WIDTH_M
        if small and reg.adj[r]:
            reg.merge(r, max(reg.adj[r], key=lambda k: (reg.adj[r][k], -k)))
            count += 1
    return count


def _hang(reg: _Regions) -> tuple[int, list[int]]:
    """Step 4: parts starting above FOOT_REACH_M join the lower neighbour with the longest
    shared edge; returns how many joined and the ones with no lower neighbour."""
    low = {r: float(reg.verts(r)[:, 2].min()) for r in reg.members}
    count, stuck = 0, []
    for r in sorted(reg.members, key=lambda r: low[r]):
        if low[r] <= FOOT_REACH_M:
            continue
        below = {k: length for k, length in reg.adj[r].items() if low[k] < low[r]}
        if not below:
            stuck.append(r)
            continue
        into = max(below, key=lambda k: (below[k], -k))
        reg.merge(r, into)
        count += 1
    return count, stuck


def _aretes(reg, lab, ns, epairs, elen, edir) -> set[int]:
    """Step 5: pair sectors across convex near-vertical edges; returns the merged sectors."""
    group = np.full(len(lab), -1)
    for r, faces in reg.members.items():
        group[faces] = r
    gi, gj = group[epairs[:, 0]], group[epairs[:, 1]]
    cross = (gi >= 0) & (gj >= 0) & (gi != gj)
    c = reg.v[reg.f].mean(axis=1)
    i, j = epairs[cross, 0], epairs[cross, 1]
    convex = np.sum((c[j] - c[i]) * ns[i], axis=1) < 0
    vertical = np.abs(edir[cross, 2]) > np.cos(np.radians(30.0))
    cand: dict[tuple[int, int], float] = {}
    for a, b, length, ok in zip(gi[cross], gj[cross], elen[cross], convex & vertical):
        if ok:
            key = (min(a, b), max(a, b))
            cand[key] = cand.get(key, 0.0) + length
    mean = {
        r: (ns[m] * reg.area[m, None]).sum(0)
        / max(np.linalg.norm((ns[m] * reg.area[m, None]).sum(0)), 1e-300)
        for r, m in reg.members.items()
    }
    done: set[int] = set()
    out: set[int] = set()
    for (a, b), length in sorted(cand.items(), key=lambda kv: -kv[1]):
        if a in done or b in done or length < 1.5 or length < 0.4 * reg.adj[a].get(b, 0.0):
            continue
        angle = np.degrees(np.arccos(np.clip(mean[a] @ mean[b], -1, 1)))
        steep = all(abs(np.degrees(np.arcsin(-mean[r][2]))) <= 45.0 for r in (a, b))
        if 30.0 <= angle <= 120.0 and steep and min(reg.total(a), reg.total(b)) >= MIN_AREA_M2:
            reg.merge(b, a)
            done |= {a, b}
            out.add(a)
    return out


def _describe(reg: _Regions, r: int, v, f, n, area, aretes: set[int]) -> SectorMesh:
    """Kind, angle, normal, size and foot of one merged sector."""
    faces = np.array(sorted(reg.members[r]))
    a = area[faces]
    ang = face_angles(n[faces])
    mean = (n[faces] * a[:, None]).sum(0)
    roofy = ang >= 60.0
    if r in aretes:
        kind = "arete"
        main = n[faces]
    elif a[roofy].sum() >= 0.2 * a.sum():
        kind, main, a = "roof", n[faces][roofy], a[roofy]
    else:
        core = np.array(reg.core[r])
        kind, main, a = "", n[core], area[core]
    normal = (main * a[:, None]).sum(0)
    normal /= np.linalg.norm(normal)
    angle = float(np.degrees(np.arcsin(np.clip(-normal[2], -1, 1))))
    if kind == "arete":  # the faces' own angle, not their bisector's
        angle = float(np.average(face_angles(n[faces]), weights=area[faces]))
    if not kind:
        kind = "slab" if angle < -5.0 else "vertical" if angle <= 5.0 else "overhang"
    pts = v[np.unique(f[faces])]
    facing = np.array([mean[0], mean[1], 0.0])
    if np.linalg.norm(facing) < 1e-6:
        facing = np.array([-pts[:, 0].mean(), -pts[:, 1].mean(), 0.0])  # toward the room
    facing /= max(np.linalg.norm(facing), 1e-12)
    foot = pts[pts[:, 2] <= pts[:, 2].min() + 0.3]
    lat = np.cross([0.0, 0.0, 1.0], facing)
    s = pts @ lat
    mid = (s.max() + s.min()) / 2
    # the foot's lateral middle, at its front (a prow's tip, not the corner behind it)
    base = lat * mid + facing * float((foot @ facing).max())
    base[2] = 0.0
    return SectorMesh(
        faces=faces,
        kind=kind,
        angle_deg=angle,
        normal=normal,
        facing=facing,
        width=float(np.ptp(s)),
        height=float(pts[:, 2].max()),
        area=float(area[faces].sum()),
        base=base,
        parts=reg.parts[r],
    )
