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


__all__ = ["BUILTIN_SPECS", "assets_dir", "build_builtin", "list_builtin", "regenerate"]
