"""Hold placement: Poisson-disk-like dart throwing of sized, coloured holds on a sampled surface."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from scenes.types import HOLD_KINDS, RGBA, Hold

HOLD_BASE_SIZE_M = {"jug": 0.07, "crimp": 0.03, "sloper": 0.085, "pinch": 0.05, "foothold": 0.03}
DEFAULT_KIND_MIX = {"jug": 0.3, "crimp": 0.2, "sloper": 0.12, "pinch": 0.13, "foothold": 0.25}
# Neutral hold colours, distinct from every route colour so a route's colour identifies it.
DEFAULT_PALETTE: tuple[RGBA, ...] = (
    (0.55, 0.5, 0.45, 1.0),
    (0.4, 0.38, 0.36, 1.0),
    (0.72, 0.67, 0.58, 1.0),
    (0.5, 0.42, 0.3, 1.0),
)


def unit_rows(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Normalise vectors along the last axis; rows shorter than 1e-3 become `fallback`."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > 1e-3, v / np.maximum(n, 1e-12), fallback)


def up_vector(up: Sequence[float]) -> np.ndarray:
    """Validate and normalise an up direction."""
    u = np.asarray(up, dtype=float)
    if u.shape != (3,) or not np.isfinite(u).all() or np.linalg.norm(u) < 1e-9:
        raise ValueError(f"up: expected a non-zero finite 3-vector, got {up!r}")
    return u / np.linalg.norm(u)


def check_kind_mix(kind_mix: Mapping[str, float]) -> dict[str, float]:
    """Validate a kind -> weight mapping; returns a plain dict in HOLD_KINDS order."""
    if not isinstance(kind_mix, Mapping) or not kind_mix:
        raise ValueError(f"kind_mix: expected a non-empty mapping kind -> weight, got {kind_mix!r}")
    unknown = [k for k in kind_mix if k not in HOLD_KINDS]
    if unknown:
        raise ValueError(f"kind_mix: unknown kinds {unknown}; accepted: {HOLD_KINDS}")
    for k, w in kind_mix.items():
        if not (isinstance(w, int | float) and math.isfinite(w) and w >= 0):
            raise ValueError(f"kind_mix[{k!r}]: expected a finite weight >= 0, got {w!r}")
    if sum(kind_mix.values()) <= 0:
        raise ValueError("kind_mix: weights sum to zero")
    return {k: float(kind_mix[k]) for k in HOLD_KINDS if k in kind_mix}


def check_palette(palette: Sequence[Sequence[float]]) -> list[RGBA]:
    """Validate a list of RGBA colours in [0, 1]."""
    if isinstance(palette, str) or not isinstance(palette, Sequence) or not palette:
        raise ValueError(f"palette: expected a non-empty list of RGBA colours, got {palette!r}")
    out = []
    for i, c in enumerate(palette):
        if (
            isinstance(c, str)
            or len(c) != 4
            or not all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in c)
        ):
            raise ValueError(f"palette[{i}]: expected 4 numbers in [0, 1], got {c!r}")
        out.append(tuple(float(v) for v in c))
    return out


def estimate_area(points: np.ndarray, normals: np.ndarray, cell: float) -> float:
    """Rough area (m^2) of a densely sampled surface: occupied voxels weighted by orientation.

    A plane with unit normal n crosses on average area * (|nx| + |ny| + |nz|) / cell^2 voxels;
    averaging three grid offsets avoids the degenerate case of a plane through grid corners.
    """
    total = 0.0
    for shift in ((0.0, 0.0, 0.0), (0.31, 0.57, 0.13), (0.71, 0.19, 0.83)):
        keys, inverse = np.unique(
            np.floor(points / cell + np.array(shift)).astype(np.int64), axis=0, return_inverse=True
        )
        mean_n = np.zeros((len(keys), 3))
        np.add.at(mean_n, inverse.ravel(), normals)
        mean_n = unit_rows(mean_n, np.array([0.0, 0.0, 1.0]))
        total += float(np.sum(cell * cell / np.abs(mean_n).sum(1)))
    return total / 3


def place_holds(
    points: np.ndarray,
    normals: np.ndarray,
    rng: np.random.Generator,
    *,
    density: float = 8.0,
    kind_mix: Mapping[str, float] | None = None,
    size_scale: float = 1.0,
    palette: Sequence[Sequence[float]] | None = None,
    min_spacing: float = 0.2,
    area_m2: float | None = None,
    up: Sequence[float] = (0.0, 0.0, 1.0),
    id_prefix: str = "h",
    max_holds: int | None = None,
) -> list[Hold]:
    """Place holds on a sampled surface with a minimum spacing (dart throwing, Poisson-disk-like).

    `points`/`normals` (N, 3) sample the surface densely and uniformly (a few cm apart); the target
    count is density (holds / m^2) times `area_m2` (estimated from the samples if None). Each hold
    draws a kind from `kind_mix`, a radius HOLD_BASE_SIZE_M[kind] * size_scale * U(0.85, 1.15) and a
    colour from `palette`, and sits on the surface: position = point + normal * size / 2 (rounded to
    0.1 mm). Holds keep `max(min_spacing, r_i + r_j + 0.02)` apart. Ids run bottom to top along `up`.
    """
    pts = np.asarray(points, dtype=float)
    nrm = np.asarray(normals, dtype=float)
    if pts.ndim != 2 or pts.shape[1:] != (3,) or nrm.shape != pts.shape:
        raise ValueError(
            f"place_holds: points and normals must both be (N, 3), got {pts.shape}, {nrm.shape}"
        )
    if not (np.isfinite(pts).all() and np.isfinite(nrm).all()):
        raise ValueError("place_holds: points and normals must be finite")
    if not (math.isfinite(density) and density > 0):
        raise ValueError(f"place_holds: density must be > 0 holds/m^2, got {density!r}")
    if not (math.isfinite(size_scale) and size_scale > 0):
        raise ValueError(f"place_holds: size_scale must be > 0, got {size_scale!r}")
    if not (math.isfinite(min_spacing) and min_spacing >= 0):
        raise ValueError(f"place_holds: min_spacing must be >= 0 m, got {min_spacing!r}")
    mix = check_kind_mix(DEFAULT_KIND_MIX if kind_mix is None else kind_mix)
    colours = check_palette(DEFAULT_PALETTE if palette is None else palette)
    u = up_vector(up)
    norms = np.linalg.norm(nrm, axis=1)
    if len(pts) and norms.min() < 1e-9:
        raise ValueError("place_holds: normals must be non-zero")
    if len(pts) == 0:
        return []
    nrm = nrm / norms[:, None]
    area = estimate_area(pts, nrm, max(min_spacing / 2, 0.05)) if area_m2 is None else area_m2
    target = round(density * area)
    if max_holds is not None:
        target = min(target, max_holds)

    kinds = list(mix)
    weights = np.array([mix[k] for k in kinds]) / sum(mix.values())
    order = rng.permutation(len(pts))
    kind_idx = rng.choice(len(kinds), size=len(pts), p=weights)
    jitter = rng.uniform(0.85, 1.15, size=len(pts))
    colour_idx = rng.integers(0, len(colours), size=len(pts))
    base = np.array([HOLD_BASE_SIZE_M[k] for k in kinds])
    radius = np.round(base[kind_idx] * size_scale * jitter, 4)
    centres = np.round(pts + nrm * radius[:, None] / 2, 4)

    cell = max(min_spacing, 2 * float(radius.max()) + 0.02)
    grid: dict[tuple[int, int, int], list[int]] = {}
    accepted: list[int] = []
    for i in order:
        if len(accepted) >= target:
            break
        key = tuple(np.floor(centres[i] / cell).astype(int))
        clear = True
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for dz in (-1, 0, 1):
                    for j in grid.get((key[0] + dx, key[1] + dy, key[2] + dz), ()):
                        need = max(min_spacing, radius[i] + radius[j] + 0.02)
                        if np.sum((centres[i] - centres[j]) ** 2) < need * need:
                            clear = False
                            break
                    if not clear:
                        break
                if not clear:
                    break
        if clear:
            grid.setdefault(key, []).append(int(i))
            accepted.append(int(i))

    accepted.sort(key=lambda i: (float(centres[i] @ u), float(centres[i, 0]), float(centres[i, 1])))
    width = max(3, len(str(len(accepted) - 1)))
    return [
        Hold(
            id=f"{id_prefix}{n:0{width}d}",
            position=tuple(float(v) for v in centres[i]),
            normal=tuple(float(v) for v in nrm[i]),
            size=float(radius[i]),
            kind=kinds[kind_idx[i]],
            rgba=colours[colour_idx[i]],
        )
        for n, i in enumerate(accepted)
    ]
