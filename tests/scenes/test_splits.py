"""Splits are fixed, disjoint, and their novel tiers lie outside the training ranges; builtins match."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import scenes
from scenes import builtin, splits
from scenes.io import dumps
from scenes.placement import HOLD_BASE_SIZE_M
from scenes.types import Scene

WALL_SPLITS = ["train", "val", "test_iid", "test_novel_geometry", "test_novel_holds"]
ROOM_SPLITS = ["rooms_train", "rooms_val", "rooms_test_iid", "rooms_test_novel"]


@cache
def built(name: str) -> tuple[Scene, ...]:
    return tuple(spec.build() for spec in splits.get(name))


def test_names_and_sizes() -> None:
    assert splits.names() == [*WALL_SPLITS, *ROOM_SPLITS, "rooms_imported"]
    assert [s.generator for s in splits.get("rooms_imported")] == ["scan"]
    for name in WALL_SPLITS + ROOM_SPLITS:
        specs = splits.get(name)
        assert len(specs) == (32 if name in ("train", "rooms_train") else 8)
        assert [s.name for s in specs] == [f"{name}/{i:03d}" for i in range(len(specs))]
        assert {s.generator for s in specs} == {"room" if name.startswith("rooms") else "wall"}
    with pytest.raises(KeyError, match="train"):
        splits.get("nope")


def test_specs_are_fixed_and_copies() -> None:
    a = splits.get("train")
    a[0].params["profile"] = "changed"
    assert splits.get("train")[0].params["profile"] != "changed"
    assert splits.get("val") == splits.get("val")


def test_no_scene_in_two_splits() -> None:
    keys: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for name in splits.names():
        for spec, scene in zip(splits.get(name), built(name)):
            assert keys.setdefault(spec.key(), name) == name, (
                f"{spec.name} repeats a spec of {keys[spec.key()]}"
            )
            h = splits.content_hash(scene)
            assert hashes.setdefault(h, spec.name) == spec.name, f"{spec.name} equals {hashes[h]}"
    seeds = [s.seed for n in splits.names() for s in splits.get(n)]
    assert len(seeds) == len(set(seeds))


def test_every_wall_has_a_route() -> None:
    for name in WALL_SPLITS:
        assert all(s.routes for s in built(name)), name


def _panel_angles_deg(scene: Scene) -> list[float]:
    out = []
    for g in scene.geometry:
        if g.name.startswith("panel"):
            w, x, _, _ = g.quat
            out.append(-math.degrees(2 * math.atan2(x, w)))  # rotation about x by -angle
    return out


def _n_volumes(scene: Scene) -> int:
    return sum(g.name.startswith(("volume", "wedge")) for g in scene.geometry)


def _scales(scene: Scene) -> list[float]:
    return [h.size / HOLD_BASE_SIZE_M[h.kind] for h in scene.holds]


def test_iid_splits_share_the_training_ranges() -> None:
    for name in ("train", "val", "test_iid"):
        for scene in built(name):
            slab_lo, _ = splits.TRAIN_SLAB_DEG
            _, over_hi = splits.TRAIN_OVERHANG_DEG
            assert all(slab_lo - 1e-6 <= a <= over_hi + 1e-6 for a in _panel_angles_deg(scene))
            assert _n_volumes(scene) <= splits.TRAIN_MAX_VOLUMES
            assert "pinch" not in {h.kind for h in scene.holds}
            lo, hi = splits.TRAIN_SIZE_SCALE
            assert (
                lo * 0.85 - 1e-3 <= min(_scales(scene)) and max(_scales(scene)) <= hi * 1.15 + 1e-3
            )


def test_novel_geometry_is_outside_training_geometry() -> None:
    train_angles = [a for s in built("train") for a in _panel_angles_deg(s)]
    train_vols = max(_n_volumes(s) for s in built("train"))
    for scene in built("test_novel_geometry"):
        angles = _panel_angles_deg(scene)
        steepest = max(angles, key=abs)
        assert steepest > max(train_angles) or steepest < min(train_angles)
        assert _n_volumes(scene) > train_vols
        assert scene.metadata.params["kind_mix"] == splits.TRAIN_KIND_MIX


def test_novel_holds_are_outside_training_holds() -> None:
    train = built("train")
    train_scales = [x for s in train for x in _scales(s)]
    route_colours = {r.rgba for s in train for r in s.routes}
    train_colours = {h.rgba for s in train for h in s.holds} - route_colours
    for scene in built("test_novel_holds"):
        kinds = {h.kind for h in scene.holds}
        assert "pinch" in kinds and "jug" not in kinds
        scales = _scales(scene)
        assert min(scales) > max(train_scales) or max(scales) < min(train_scales)
        colours = {h.rgba for h in scene.holds} - {r.rgba for r in scene.routes}
        assert colours and not colours & train_colours
        hi = splits.TRAIN_OVERHANG_DEG[1]
        assert all(
            splits.TRAIN_SLAB_DEG[0] - 1e-6 <= a <= hi + 1e-6 for a in _panel_angles_deg(scene)
        )


def test_novel_rooms_are_larger_with_unseen_furniture() -> None:
    train = built("rooms_train")
    max_area = max(np.prod(s.metadata.params["size"]) for s in train)
    train_labels = {r.label for s in train for r in s.regions}
    for scene in built("rooms_test_novel"):
        assert np.prod(scene.metadata.params["size"]) > max_area
        assert scene.metadata.params["layout"] == "island"
    novel_labels = {r.label for s in built("rooms_test_novel") for r in s.regions}
    assert novel_labels - train_labels  # desks / wardrobes never seen in training
    assert all(s.metadata.params["layout"] == "perimeter" for s in train)


def test_builtin_files_equal_the_generator_output(tmp_path: Path) -> None:
    assert builtin.list_builtin() == sorted({**builtin.BUILTIN_SPECS, **builtin.BUILTIN_SCANS})
    assert scenes.list_builtin() == builtin.list_builtin()
    for sid in sorted(builtin.BUILTIN_SPECS):
        path = builtin.assets_dir() / sid / "scene.json"
        assert path.stat().st_size < 100_000
        assert path.read_text(encoding="utf-8") == dumps(builtin.build_builtin(sid)), (
            f"{sid} drifted from its generator; run scenes.builtin.regenerate()"
        )
        assert scenes.load(sid).name == sid
    written = builtin.regenerate(tmp_path)
    assert sorted(p.parent.name for p in written) == sorted(builtin.BUILTIN_SPECS)


def test_shipped_room_scan_reimports_to_the_same_rooms_and_regions(tmp_path: Path) -> None:
    shipped = scenes.load("room_scan_01")
    again = builtin.import_scan("room_scan_01", tmp_path)
    assert again.walkable == shipped.walkable
    assert [r.label for r in again.regions] == [r.label for r in shipped.regions]
    assert sorted(r.label for r in shipped.regions) == [
        "bed",
        "chair",
        "obstacle",
        "shelf",
        "sofa",
        "table",
        "wardrobe",
    ]
    assert splits.spec("rooms_imported/000").build().name == "room_scan_01"
    default = scenes.load("wall_vertical_01")
    assert default.metadata.params["profile"] == "vertical" and len(default.routes) >= 1
    split, index = builtin.BUILTIN_SPECS["wall_vertical_01"]
    assert split == "train" and splits.get(split)[index].params["profile"] == "vertical"
