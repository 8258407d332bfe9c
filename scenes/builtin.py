"""Scenes shipped with the package (scenes/assets/<id>/scene.json) and how to regenerate them.

Each builtin scene is a fixed split spec built and renamed to its id, so the shipped files can be
checked against the generator (tests/scenes/test_splits.py) and rebuilt with `regenerate()`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from scenes import splits
from scenes.io import save
from scenes.shipped import assets_dir, list_builtin
from scenes.types import Scene

# id -> (split name, index in that split). wall_vertical_01 is the climbing env's default scene.
BUILTIN_SPECS: dict[str, tuple[str, int]] = {
    "wall_vertical_01": ("train", 1),
    "wall_overhang_01": ("train", 2),
    "room_01": ("rooms_train", 0),
}


# id -> import_mesh keyword arguments for shipped imported scans; each asset keeps its source
# mesh in <id>/source/ (written by tests/data/meshes/make_fixtures.py) so it can be re-imported.
BUILTIN_SCANS: dict[str, dict] = {
    "room_scan_01": {"source": "living_room.obj", "kind": "room", "collision": "auto"},
}


def import_scan(scene_id: str, dest: str | os.PathLike) -> Scene:
    """Re-import the shipped scan `scene_id` from its source mesh into `dest` (its scene dir)."""
    from scenes.importer import import_mesh

    if scene_id not in BUILTIN_SCANS:
        raise KeyError(f"unknown builtin scan {scene_id!r}; known: {sorted(BUILTIN_SCANS)}")
    args = dict(BUILTIN_SCANS[scene_id])
    source = assets_dir() / scene_id / "source" / args.pop("source")
    return import_mesh(source, out_dir=dest, name=scene_id, **args)


def build_builtin(scene_id: str) -> Scene:
    """Generate the builtin scene `scene_id` from its split spec (what the shipped file holds)."""
    if scene_id not in BUILTIN_SPECS:
        raise KeyError(f"unknown builtin scene {scene_id!r}; known: {sorted(BUILTIN_SPECS)}")
    split, index = BUILTIN_SPECS[scene_id]
    return replace(splits.get(split)[index].build(), name=scene_id)


def regenerate(dest: str | os.PathLike | None = None) -> list[Path]:
    """Rebuild every builtin scene into `dest` (default: the package's assets); returns the files."""
    root = Path(dest) if dest is not None else assets_dir()
    return [save(build_builtin(sid), root / sid) for sid in sorted(BUILTIN_SPECS)]


__all__ = [
    "BUILTIN_SCANS",
    "BUILTIN_SPECS",
    "assets_dir",
    "build_builtin",
    "import_scan",
    "list_builtin",
    "regenerate",
]
