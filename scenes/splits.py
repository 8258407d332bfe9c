"""Named, fixed splits of scene specs (generator + seed + parameters), built on demand.

Walls (scenes.generate_wall):
- `train` (32), `val` (8), `test_iid` (8): one distribution. Profiles vertical/slab/overhang/
  multi_panel; slab angle in TRAIN_SLAB_DEG, overhang and multi-panel top angle in
  TRAIN_OVERHANG_DEG; 0..TRAIN_MAX_VOLUMES volumes; hold kinds TRAIN_KIND_MIX (no pinches); size
  scale in TRAIN_SIZE_SCALE; neutral TRAIN_PALETTE. Disjoint seed ranges.
- `test_novel_geometry` (8): steeper walls than any in training (slab NOVEL_SLAB_DEG, overhang
  NOVEL_OVERHANG_DEG) and more volumes (NOVEL_VOLUMES); holds as in training.
- `test_novel_holds` (8): training geometry ranges, but pinch-heavy NOVEL_KIND_MIX, size scales in
  NOVEL_SIZE_SCALES (outside TRAIN_SIZE_SCALE) and the disjoint NOVEL_PALETTE.
Rooms (scenes.generate_room):
- `rooms_train` (32), `rooms_val` (8), `rooms_test_iid` (8): perimeter layout, interior in
  ROOM_TRAIN_SIZE, 3..5 pieces from the default furniture, 0..2 obstacles.
- `rooms_imported` (1): shipped imported room scans (scenes.builtin.BUILTIN_SCANS), furniture
  regions guessed from the scan (scenes.room_scan).
- `rooms_test_novel` (8): larger rooms (ROOM_NOVEL_SIZE), 6..8 pieces including unseen desks and
  wardrobes, all free-standing ("island" layout).
Parameters are drawn once from a generator seeded by the split's name, so a split never changes
unless this file does (tests/scenes/test_splits.py guards the shipped builtins against drift).
"""

from __future__ import annotations

import copy
import hashlib
import json
import zlib
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np

from scenes.types import Scene

TRAIN_SLAB_DEG = (-20.0, -5.0)
TRAIN_OVERHANG_DEG = (5.0, 30.0)
TRAIN_MAX_VOLUMES = 3
TRAIN_SIZE_SCALE = (0.85, 1.15)
TRAIN_KIND_MIX = {"jug": 0.35, "crimp": 0.2, "sloper": 0.15, "foothold": 0.3}
TRAIN_PALETTE = [
    [0.55, 0.5, 0.45, 1.0],
    [0.4, 0.38, 0.36, 1.0],
    [0.72, 0.67, 0.58, 1.0],
    [0.5, 0.42, 0.3, 1.0],
]
NOVEL_SLAB_DEG = (-32.0, -25.0)
NOVEL_OVERHANG_DEG = (35.0, 45.0)
NOVEL_VOLUMES = (5, 7)
NOVEL_KIND_MIX = {"pinch": 0.45, "crimp": 0.1, "sloper": 0.1, "foothold": 0.35}
NOVEL_SIZE_SCALES = ((0.5, 0.6), (1.6, 1.8))  # even with the +-15 % per-hold jitter
NOVEL_PALETTE = [[0.2, 0.6, 0.55, 1.0], [0.75, 0.85, 0.35, 1.0], [0.35, 0.25, 0.55, 1.0]]
# Splits of shipped imported scans (scenes.builtin.BUILTIN_SCANS): name -> scene ids.
_SCAN_SPLITS: dict[str, tuple[str, ...]] = {"rooms_imported": ("room_scan_01",)}
ROOM_TRAIN_SIZE = ((5.0, 7.0), (4.0, 6.0))
ROOM_NOVEL_SIZE = ((8.0, 10.0), (7.0, 9.0))

# name -> (generator, count, first seed); seed ranges never overlap.
_SPLITS: dict[str, tuple[str, int, int]] = {
    "train": ("wall", 32, 100_000),
    "val": ("wall", 8, 200_000),
    "test_iid": ("wall", 8, 300_000),
    "test_novel_geometry": ("wall", 8, 400_000),
    "test_novel_holds": ("wall", 8, 500_000),
    "rooms_train": ("room", 32, 600_000),
    "rooms_val": ("room", 8, 700_000),
    "rooms_test_iid": ("room", 8, 800_000),
    "rooms_test_novel": ("room", 8, 900_000),
}


@dataclass(frozen=True)
class SceneSpec:
    """A reproducible scene: which generator, which seed, which parameters (JSON-compatible)."""

    name: str  # "<split>/<index>"
    generator: str  # "wall", "room" or "scan" (a shipped imported scan, params {"id": ...})
    seed: int
    params: dict = field(default_factory=dict, hash=False)

    def build(self) -> Scene:
        """Generate the scene (deterministic), or load the shipped scan (generator "scan")."""
        if self.generator == "scan":
            from scenes.io import load

            return load(self.params["id"])
        from scenes.room import generate_room
        from scenes.wall import generate_wall

        make = {"wall": generate_wall, "room": generate_room}[self.generator]
        return make(self.seed, **self.params)

    def key(self) -> str:
        """Canonical text of generator, seed and parameters (the spec's identity, without name)."""
        return json.dumps([self.generator, self.seed, self.params], sort_keys=True)


def names() -> list[str]:
    """All split names."""
    return [*_SPLITS, *_SCAN_SPLITS]


def get(name: str) -> list[SceneSpec]:
    """The specs of a split, in a fixed order."""
    if name not in _SPLITS and name not in _SCAN_SPLITS:
        raise KeyError(f"unknown split {name!r}; known: {', '.join(names())}")
    # Copies, so a caller editing params cannot change the cached split.
    return [replace(s, params=copy.deepcopy(s.params)) for s in _build(name)]


def spec(name: str) -> SceneSpec:
    """The spec of one split scene by its name, ``"<split>/<index>"`` (``"train/000"``, ``"train/0"``)."""
    split, sep, index = str(name).partition("/")
    if not sep or split not in names():
        raise KeyError(
            f"{name!r} is no split scene name: expected '<split>/<index>' with a split of "
            f"{', '.join(names())}"
        )
    specs = _build(split)
    if not index.isdigit() or int(index) >= len(specs):
        raise KeyError(
            f"{name!r}: split {split!r} has scenes {split}/000 .. {split}/{len(specs) - 1:03d}"
        )
    s = specs[int(index)]
    return replace(s, params=copy.deepcopy(s.params))


def content_hash(scene: Scene) -> str:
    """SHA-256 of a scene's content (geometry, holds, routes, regions, ...), ignoring name/metadata."""
    from scenes.codec import dumps
    from scenes.types import Metadata

    return hashlib.sha256(dumps(replace(scene, name="_", metadata=Metadata())).encode()).hexdigest()


def _r(x: float, nd: int = 1) -> float:
    return round(float(x), nd)


def _wall_params(split: str, rng: np.random.Generator) -> dict[str, Any]:
    profile = str(rng.choice(["vertical", "slab", "overhang", "multi_panel"]))
    slab, over = TRAIN_SLAB_DEG, TRAIN_OVERHANG_DEG
    n_vol = int(rng.integers(0, TRAIN_MAX_VOLUMES + 1))
    if split == "test_novel_geometry":
        profile = str(rng.choice(["slab", "overhang", "multi_panel"]))
        slab, over = NOVEL_SLAB_DEG, NOVEL_OVERHANG_DEG
        n_vol = int(rng.integers(NOVEL_VOLUMES[0], NOVEL_VOLUMES[1] + 1))
    angle = {
        "vertical": 0.0,
        "slab": _r(rng.uniform(*slab)),
        "overhang": _r(rng.uniform(*over)),
        "multi_panel": _r(rng.uniform(*over)),
    }[profile]
    params: dict[str, Any] = dict(
        profile=profile,
        angle_deg=angle,
        n_volumes=n_vol,
        kind_mix=dict(TRAIN_KIND_MIX),
        palette=[list(c) for c in TRAIN_PALETTE],
        hold_size_scale=_r(rng.uniform(*TRAIN_SIZE_SCALE), 3),
    )
    if split == "test_novel_holds":
        lo, hi = NOVEL_SIZE_SCALES[int(rng.integers(2))]
        params.update(
            kind_mix=dict(NOVEL_KIND_MIX),
            palette=[list(c) for c in NOVEL_PALETTE],
            hold_size_scale=_r(rng.uniform(lo, hi), 3),
        )
    return params


def _room_params(split: str, rng: np.random.Generator) -> dict[str, Any]:
    if split == "rooms_test_novel":
        (xl, xh), (yl, yh) = ROOM_NOVEL_SIZE
        return dict(
            size=[_r(rng.uniform(xl, xh)), _r(rng.uniform(yl, yh))],
            n_furniture=int(rng.integers(6, 9)),
            n_obstacles=int(rng.integers(1, 4)),
            layout="island",
            furniture=["bed", "sofa", "table", "chair", "shelf", "desk", "wardrobe"],
        )
    (xl, xh), (yl, yh) = ROOM_TRAIN_SIZE
    return dict(
        size=[_r(rng.uniform(xl, xh)), _r(rng.uniform(yl, yh))],
        n_furniture=int(rng.integers(3, 6)),
        n_obstacles=int(rng.integers(0, 3)),
        layout="perimeter",
        furniture=["bed", "sofa", "table", "chair", "shelf"],
    )


@cache
def _build(name: str) -> tuple[SceneSpec, ...]:
    if name in _SCAN_SPLITS:
        return tuple(
            SceneSpec(name=f"{name}/{i:03d}", generator="scan", seed=0, params={"id": sid})
            for i, sid in enumerate(_SCAN_SPLITS[name])
        )
    generator, count, first_seed = _SPLITS[name]
    # Parameter draws are seeded by the split name, independent of Python's hash randomisation.
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    draw = _wall_params if generator == "wall" else _room_params
    return tuple(
        SceneSpec(
            name=f"{name}/{i:03d}", generator=generator, seed=first_seed + i, params=draw(name, rng)
        )
        for i in range(count)
    )
