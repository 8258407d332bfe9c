"""Episode generation: tasks, clips, videos, context frames, determinism, resume (policies.data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mujoco
import numpy as np
import pytest

from navenv.body.skeleton import Skeleton
from navenv.envs.climb.compiled import compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.sinking import SceneRays
from policies.data import DatasetConfigError, GenerateConfig, generate, make_tasks
from policies.data.episode import (
    HIGHLIGHT_RGBA,
    SceneRenderer,
    build_episode,
    first_touches,
    sample_frames,
    sample_motion,
)
from policies.data.generate import DEFAULT_PLANNER
from policies.data.store import ShardReader, load_manifest
from policies.scripted.keyframes import frame_penetration
from scenes import splits
from tests.policies.test_data_standin import SINKING_PLANNER, plan_standin, tiny_config


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[GenerateConfig, Path]:
    cfg = tiny_config()
    out = tmp_path_factory.mktemp("data") / "ds"
    summary = generate(cfg, out, workers=1, progress=False)
    assert summary.episodes == 6 and summary.frames == 6 * 20 and summary.skipped_shards == 0
    return cfg, out


def _episodes(out: Path) -> list[dict[str, np.ndarray]]:
    man = load_manifest(out)
    eps = []
    for rec in man.shards:
        r = ShardReader(out, rec, man.fields)
        eps += [r.read(i) for i in range(rec.episodes)]
        r.close()
    return eps


def test_manifest_describes_the_dataset(dataset) -> None:
    cfg, out = dataset
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "shard-00000.npz",
        "shard-00001.npz",
        "shard-00002.npz",
    ]
    man = load_manifest(out)
    assert man.complete and man.episodes == 6 and man.frames == 20 and man.fps == 10.0
    assert (man.width, man.height) == (16, 16) and man.config == cfg.to_json()
    assert [s.first_episode for s in man.shards] == [0, 2, 4]
    assert man.fields["ego_rgb"].shape == (20, 16, 16, 3) and man.fields["ego_rgb"].per_frame
    assert man.fields["features"].shape == (20, 147) and man.fields["context"].shape[0] == 8
    obj = json.loads((out / "manifest.json").read_text())
    assert obj["counts"]["frames"] == 120 and obj["navenv_version"]


def test_plan_seed_offset_keeps_scenes_routes_and_clips() -> None:
    """An evaluation's "expert on another seed": same tasks, every plan seed shifted."""
    base = make_tasks(GenerateConfig(episodes=12, planner="x:y"))
    other = make_tasks(GenerateConfig(episodes=12, planner="x:y", plan_seed_offset=1))
    assert [(t.scene_name, t.route_draw, t.clip_index) for t in base] == [
        (t.scene_name, t.route_draw, t.clip_index) for t in other
    ]
    assert [t.plan_seed + 1 for t in base] == [t.plan_seed for t in other]


def test_resume_accepts_a_manifest_written_before_a_config_field_existed(tmp_path) -> None:
    """A dataset from before `plan_seed_offset` resumes: missing fields take their defaults."""
    cfg = tiny_config(episodes=2, clips_per_plan=1, shard_size=1)
    generate(cfg, tmp_path, workers=1, progress=False)
    man = json.loads((tmp_path / "manifest.json").read_text())
    del man["config"]["plan_seed_offset"]
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    summary = generate(cfg, tmp_path, workers=1, progress=False)
    assert summary.skipped_shards == 2 and summary.episodes == 0


def test_tasks_are_deterministic_prefix_stable_and_cover_scenes() -> None:
    cfg = GenerateConfig(episodes=70, clips_per_plan=2, planner="x:y")
    tasks = make_tasks(cfg)
    assert tasks == make_tasks(GenerateConfig(episodes=70, clips_per_plan=2, planner="x:y"))
    assert make_tasks(GenerateConfig(episodes=30, clips_per_plan=2, planner="x:y")) == tasks[:30]
    assert tasks != make_tasks(GenerateConfig(episodes=70, clips_per_plan=2, seed=1, planner="x:y"))
    assert [t.episode for t in tasks] == list(range(70))
    assert [t.clip_index for t in tasks[:4]] == [0, 1, 0, 1]
    assert tasks[0].plan_seed == tasks[1].plan_seed != tasks[2].plan_seed
    first_round = {t.scene_index for t in tasks[: 2 * 32]}
    assert first_round == set(range(32))  # every scene once per round of 32 plans
    names = {s.name for s in splits.get("train")}
    assert {t.scene_name for t in tasks} <= names


def test_episode_matches_the_plan(dataset) -> None:
    _cfg, out = dataset
    ep = _episodes(out)[3]
    spec = splits.get("train")[[s.name for s in splits.get("train")].index(str(ep["scene_name"]))]
    scene = spec.build()
    route = scene.route(str(ep["route_id"]))
    plan = plan_standin(scene, route, seed=int(ep["plan_seed"]))
    start, step = int(ep["clip_start"]), 3  # 30 fps plan, 10 fps clip
    rows = start + step * np.arange(20)
    assert ep["valid"].all() and rows[-1] < len(plan.motion)
    np.testing.assert_allclose(ep["features"], plan.motion.to_features()[rows], atol=1e-6)
    np.testing.assert_array_equal(ep["contacts"], plan.contacts[rows])
    np.testing.assert_array_equal(ep["grip"], plan.grip[rows])
    np.testing.assert_allclose(ep["qpos"][:, :3], plan.qpos[rows, :3], atol=1e-6)
    # the body's depth per frame (contacts and limbs through a panel), as the planner measures it
    world = compile_world(scene, Skeleton.builtin(), ClimbConfig())
    own = np.zeros(world.model.ngeom, bool)
    own[world.index.geoms] = True
    expected = frame_penetration(world.model, plan.qpos[rows], own, SceneRays(scene))
    np.testing.assert_allclose(ep["penetration"], expected, atol=1e-6)
    assert ep["penetration"].dtype == np.float32 and (ep["penetration"] >= 0).all()
    # route and holds annotations
    n = int(ep["route_count"])
    assert n == len(route.holds) and list(ep["route_hold_ids"][:n]) == route.holds
    assert (ep["route_hold_index"][n:] == -1).all() and (ep["route_hold_ids"][n:] == "").all()
    h0 = scene.holds[int(ep["route_hold_index"][0])]
    np.testing.assert_allclose(ep["route_pos"][0], h0.position, atol=1e-6)
    assert int(ep["hold_count"]) == len(scene.holds)
    assert scene.holds[int(ep["route_top"])].id == route.top
    assert str(ep["scene_id"]) == scene.name and int(ep["clip_index"]) == 1


def test_tripod_hides_the_climber_and_context_highlights_holds(dataset) -> None:
    _cfg, out = dataset
    ep = _episodes(out)[0]
    tripod = ep["tripod_rgb"]
    assert (tripod == tripod[0]).all()  # static wall, static camera, climber hidden
    spec = next(s for s in splits.get("train") if s.name == str(ep["scene_name"]))
    world = compile_world(spec.build(), Skeleton.builtin(), ClimbConfig())
    r = SceneRenderer(world, 16, 16, 90.0)
    np.testing.assert_array_equal(r.background(), tripod[0])
    posed = mujoco.MjData(world.model)  # the same camera with the climber in its clip pose
    posed.qpos[world.index.root_qpos] = ep["qpos"][0, :7]
    posed.qpos[world.index.hinge_qpos] = ep["qpos"][0, 7:]
    mujoco.mj_forward(world.model, posed)
    assert (r.tripod.render(posed) != tripod[0]).any(), "the climber would be visible"

    count = int(ep["context_count"])
    holds, frames = first_touches(ep["contacts"], 8)
    assert count == len(holds) >= 4  # four start holds (unless shared) and the new hand hold
    assert list(ep["context_hold"][:count]) == holds and list(ep["context_frame"][:count]) == frames
    assert (ep["context_hold"][count:] == -1).all() and not ep["context"][count:].any()
    yellow = np.round(np.asarray(HIGHLIGHT_RGBA[:3]) * 255).astype(np.uint8)
    for k in range(count):
        diff = (ep["context"][k] != tripod[0]).any(-1)
        assert diff.any() and (ep["context"][k][diff] == yellow).all(-1).any()
    assert len({ep["context"][k].tobytes() for k in range(count)}) == count  # one per hold


def test_ego_video_follows_the_motion(dataset) -> None:
    _, out = dataset
    ego = _episodes(out)[0]["ego_rgb"]
    assert ego.std() > 5 and len({f.tobytes() for f in ego}) > 5


def test_same_arguments_same_bytes_any_worker_count(dataset, tmp_path) -> None:
    cfg, out = dataset
    generate(cfg, tmp_path / "again", workers=2, progress=False)  # spawned worker processes
    assert _files(tmp_path / "again") == _files(out)


def test_resume_skips_complete_shards_and_regenerates_bad_ones(dataset, tmp_path, capsys) -> None:
    cfg, out = dataset
    ref = _files(out)
    d = tmp_path / "ds"
    d.mkdir()
    for name, data in ref.items():
        (d / name).write_bytes(data)
    raw = bytearray(ref["shard-00001.npz"])
    raw[100] ^= 0x55
    (d / "shard-00001.npz").write_bytes(bytes(raw))
    (d / "shard-00002.npz").unlink()
    (d / ".shard-00002.npz.tmp").write_bytes(b"half")  # what a killed writer may leave
    os.utime(d / "shard-00000.npz", ns=(1, 1))
    summary = generate(cfg, d, workers=1, progress=True)
    assert summary.skipped_shards == 1 and summary.episodes == 4
    assert (d / "shard-00000.npz").stat().st_mtime_ns == 1  # untouched
    err = capsys.readouterr()
    assert "shard-00001.npz: sha256 mismatch" in err.out + err.err
    assert "shard-00002.npz: missing" in err.out + err.err
    got = _files(d)
    got.pop(".shard-00002.npz.tmp")
    assert got == ref
    again = generate(cfg, d, workers=1, progress=False)
    assert again.episodes == 0 and again.skipped_shards == 3


def test_killed_run_leaves_valid_manifest_and_resumes(dataset, tmp_path) -> None:
    cfg, out = dataset
    d = tmp_path / "ds"
    d.mkdir()
    man = load_manifest(out)
    man.shards = man.shards[:1]  # as written after the first shard completed
    from policies.data.store import write_manifest

    write_manifest(d, man)
    (d / "shard-00000.npz").write_bytes((out / "shard-00000.npz").read_bytes())
    assert not load_manifest(d).complete and load_manifest(d).episodes == 2
    summary = generate(cfg, d, workers=1, progress=False)
    assert summary.skipped_shards == 1 and summary.dataset_episodes == 6
    assert _files(d) == _files(out)


def test_config_or_version_mismatch_is_a_clear_error(dataset, tmp_path) -> None:
    _cfg, out = dataset
    with pytest.raises(DatasetConfigError, match=r"width: 16 -> 32"):
        generate(tiny_config(width=32), out, workers=1, progress=False)
    man = json.loads((out / "manifest.json").read_text())
    man["navenv_version"] = "0.0.1"
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(DatasetConfigError, match="written by navenv 0.0.1"):
        generate(tiny_config(), tmp_path, workers=1, progress=False)


def test_short_plans_are_padded_and_flagged(tmp_path) -> None:
    cfg = tiny_config(episodes=1, fps=30.0, clip_seconds=3.0, clips_per_plan=1)  # 90 > plan
    generate(cfg, tmp_path, workers=1, progress=False)
    ep = _episodes(tmp_path)[0]
    n = int(ep["valid"].sum())
    assert 60 <= n < 90 and ep["valid"][:n].all() and not ep["valid"][n:].any()
    assert (ep["features"][n:] == ep["features"][n - 1]).all()
    assert (ep["ego_rgb"][n:] == ep["ego_rgb"][n - 1]).all()


def _drawn(task) -> tuple[list, int]:
    """A task's scene routes and the index of its drawn route."""
    routes = splits.get("train")[task.scene_index].build().routes
    return routes, task.route_draw % len(routes)


def test_a_sunk_plan_moves_on_to_the_next_route(tmp_path) -> None:
    cfg = tiny_config(episodes=8, clips_per_plan=1, shard_size=4, planner=SINKING_PLANNER)
    generate(cfg, tmp_path / "a", workers=1, progress=False)
    moved = 0
    for ep, task in zip(_episodes(tmp_path / "a"), make_tasks(cfg), strict=True):
        routes, drawn = _drawn(task)
        tries = int(drawn == 0)  # the stand-in sinks 10 cm on the first route only
        moved += tries
        assert int(ep["plan_try"]) == tries
        assert str(ep["route_id"]) == routes[(drawn + tries) % len(routes)].id
        assert int(ep["plan_seed"]) == task.plan_seed + tries  # the seed that planned it
        assert float(ep["plan_penetration"]) == pytest.approx(0.005)
    assert 0 < moved < cfg.episodes  # the sample has groups of both kinds
    # None keeps every plan as drawn; a limit no plan meets keeps the shallowest of plan_tries
    kept = tiny_config(
        episodes=4, clips_per_plan=1, planner=SINKING_PLANNER, max_penetration_m=None
    )
    generate(kept, tmp_path / "b", workers=1, progress=False)
    for ep, task in zip(_episodes(tmp_path / "b"), make_tasks(kept), strict=True):
        routes, drawn = _drawn(task)
        assert int(ep["plan_try"]) == 0 and str(ep["route_id"]) == routes[drawn].id
    strict = tiny_config(
        episodes=4, clips_per_plan=1, planner=SINKING_PLANNER, max_penetration_m=0.001
    )
    generate(strict, tmp_path / "c", workers=1, progress=False)
    for ep, task in zip(_episodes(tmp_path / "c"), make_tasks(strict), strict=True):
        _routes, drawn = _drawn(task)
        assert int(ep["plan_try"]) == int(drawn == 0)  # the first 5 mm plan, not a later one
        assert float(ep["plan_penetration"]) == pytest.approx(0.005)
    with pytest.raises(ValueError, match="max_penetration_m"):
        tiny_config(max_penetration_m=-0.01)
    with pytest.raises(ValueError, match="plan_tries"):
        tiny_config(plan_tries=0)


def test_fractional_frame_sampling_interpolates() -> None:
    i0, _i1, w, valid = sample_frames(start=4, frames=5, plan_fps=30.0, fps=12.0, plan_frames=12)
    np.testing.assert_array_equal(i0, [4, 6, 9, 11, 11])
    np.testing.assert_allclose(w, [0.0, 0.5, 0.0, 0.0, 0.0])
    assert valid.tolist() == [True, True, True, False, False]  # 4 + 2.5 k > 11 from k = 3
    import scenes

    scene = scenes.load("wall_vertical_01")
    plan = plan_standin(scene, scene.routes[0], seed=0)
    m = sample_motion(plan.motion, np.array([0, 10]), np.array([1, 11]), np.array([0.0, 0.5]))
    f, src = m.to_features(), plan.motion.to_features()
    np.testing.assert_allclose(f[0], src[0], atol=1e-6)
    np.testing.assert_allclose(f[1, :3], 0.5 * (src[10, :3] + src[11, :3]), atol=1e-6)


def test_bad_plans_and_configs_are_rejected(tmp_path) -> None:
    import scenes

    scene = scenes.load("wall_vertical_01")
    world = compile_world(scene, Skeleton.builtin(), ClimbConfig())
    plan = plan_standin(scene, scene.routes[0], seed=0)
    plan.qpos = plan.qpos[:, :-1]
    cfg = tiny_config()
    with pytest.raises(ValueError, match=r"plan.qpos: expected \(T, 76\)"):
        build_episode(
            plan,
            SceneRenderer(world, 16, 16, 90.0),
            scene.routes[0],
            cfg.fields(),
            fps=10.0,
            clip_index=0,
            clips_per_plan=1,
            meta={"episode": 0, "scene_name": "x", "plan_seed": 0},
        )
    with pytest.raises(ValueError, match="split='nope'"):
        GenerateConfig(split="nope")
    with pytest.raises(ValueError, match="climbing-wall split"):
        GenerateConfig(split="rooms_train")
    assert GenerateConfig(fps=30).to_json() == GenerateConfig(fps=30.0).to_json()
    with pytest.raises(ValueError, match="episodes=0"):
        GenerateConfig(episodes=0)
    with pytest.raises(ValueError, match="at least 2 frames"):
        GenerateConfig(clip_seconds=0.01)
    with pytest.raises(ImportError, match="cannot import"):
        generate(tiny_config(planner="no_such_module:plan"), tmp_path, workers=1, progress=False)
    assert not list(tmp_path.iterdir())  # checked before anything is written


@pytest.mark.slow
def test_the_expert_generates_climbs_within_its_tolerance(tmp_path) -> None:
    """The real planner: the first plan group of this dataset (train/005, route r2) sinks 8 cm
    on its drawn route, so the group moves on to the scene's next route, which plans clean."""
    cfg = tiny_config(episodes=2, planner=DEFAULT_PLANNER)
    task = make_tasks(cfg)[0]
    routes, drawn = _drawn(task)
    generate(cfg, tmp_path, workers=1, progress=False)
    eps = _episodes(tmp_path)
    assert [int(e["plan_try"]) for e in eps] == [1, 1]
    assert str(eps[0]["route_id"]) == routes[(drawn + 1) % len(routes)].id
    deepest = float(eps[0]["plan_penetration"])
    assert 0 < deepest <= cfg.max_penetration_m
    assert max(float(e["penetration"].max()) for e in eps) <= deepest + 1e-6
