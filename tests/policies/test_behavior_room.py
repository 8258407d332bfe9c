"""The room behaviour hierarchy: data windows, the stages, the chain, the bench, the policy.

Models are tiny and trained for a few steps on a few seconds of real scripted-agent data, so
the tests check mechanics (shapes, frames, flags, control, resume, the CLI) and that training
really fits, not the shipped models' figures (the README's table comes from `navenv bench
behavior` on the shipped models).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from benchmarks.behavior import constant_velocity, run_behavior, score, table
from navenv.body.rotations import matrix_to_rot6d, rot6d_to_matrix, rotation_z
from policies.behavior.hierarchy import BehaviorModel, OneStage
from policies.behavior.room_data import (
    FUTURE,
    PAST,
    ego_joints,
    heading_axes,
    load_room_tensors,
    to_agent_body,
    to_world_body,
)
from policies.behavior.stages import StageConfig, StageDiffusion
from policies.behavior.train_room import RoomTrainConfig, train_stage
from policies.data.room import RoomDataConfig, generate_room_data

TINY = RoomTrainConfig(steps=6, batch_size=8, eval_every=3, checkpoint_every=3, val_windows=8)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two 8 s episodes of training rooms and one of validation rooms (stride 4 windows)."""
    root = tmp_path_factory.mktemp("room_beh")
    short = dict(shard_size=1, episode_seconds=8.0)
    generate_room_data(RoomDataConfig("rooms_train", 2, **short), root / "train", progress=False)
    generate_room_data(RoomDataConfig("rooms_val", 1, **short), root / "val", progress=False)
    return root


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory):
    """Every stage (and two ablations) trained a few steps: a runs folder as the bench reads."""
    out = tmp_path_factory.mktemp("beh_runs")
    cfg = RoomTrainConfig(**{**TINY.__dict__, "stride": 4})
    for name, kw in {
        "goal": {"stage": "goal"},
        "path": {"stage": "path"},
        "body": {"stage": "body"},
        "onestage": {"stage": "onestage"},
        "goal_noscene": {"stage": "goal", "use_scene": False},
        "path_noscene": {"stage": "path", "use_scene": False},
    }.items():
        train_stage(
            StageConfig(size="tiny", **kw), data / "train", data / "val", out / name, cfg,
            progress=False,
        )  # fmt: skip
    return out


def test_windows_are_in_the_agent_frame(data):
    w = load_room_tensors(data / "train", stride=4)
    assert len(w) == 2 * len(range(0, 80 - 64 + 1, 4))
    assert w.past.shape[1:] == (PAST, 4) and w.path.shape[1:] == (FUTURE, 3)
    assert w.body.shape[1:] == (FUTURE, 144) and w.scene.dtype == torch.uint8
    # now is the origin, facing +x, and the goal is the path's last frame
    assert torch.allclose(w.past[:, -1], torch.tensor([0.0, 0.0, 1.0, 0.0]), atol=1e-5)
    assert torch.equal(w.goal, w.path[:, -1])
    f = -rot6d_to_matrix(w.pose[:, :6].double().numpy())[:, :2, 1]  # the pelvis' facing
    assert np.allclose(f[:, 1], 0.0, atol=0.05) and (f[:, 0] > 0.95).all()


def test_body_frames_round_trip_and_ego_joints_ignore_the_root():
    rng = np.random.default_rng(0)
    rot = np.stack([rotation_z(a) for a in rng.uniform(-3, 3, 24 * 5)]).reshape(5, 24, 3, 3)
    r6 = matrix_to_rot6d(rot)
    axes = heading_axes(0.7)
    back = to_world_body(to_agent_body(r6, axes), axes)
    assert np.allclose(back, r6, atol=1e-9)
    turned = r6.copy()
    turned[:, 0] = matrix_to_rot6d(rotation_z(1.0) @ rot[:, 0])
    a, b = ego_joints(r6.reshape(5, 144)), ego_joints(turned.reshape(5, 144))
    assert np.allclose(a, b) and np.allclose(a[:, 0], 0.0)


def test_metrics_on_hand_made_samples():
    gt = {
        "goal": np.array([[1.0, 0.0, 0.0]]),
        "path": np.zeros((1, FUTURE, 3)),
        "body": np.tile(matrix_to_rot6d(np.eye(3)), (1, FUTURE, 24)),
    }
    path = np.zeros((1, 2, FUTURE, 3))
    path[0, 0, :, 0] = 0.5  # 0.5 m off everywhere
    path[0, 1, :, 1] = 2.0  # 2 m off: the best of two is 0.5
    body = np.tile(matrix_to_rot6d(np.eye(3)), (1, 2, FUTURE, 24))
    body[0, 1, :, :6] = matrix_to_rot6d(rotation_z(0.3))  # second sample's root turned 0.3 rad
    s = score(
        {"goal": np.array([[[1.0, 0.3, 0.0], [4.0, 0.0, 0.0]]]), "path": path, "body": body}, gt
    )
    assert s["goal"] == pytest.approx(0.3) and s["path"] == pytest.approx(0.5)
    assert s["orient"] == pytest.approx(0.0, abs=1e-9)  # the first sample is exact
    assert s["joints"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("stage", ["goal", "path", "body", "onestage"])
def test_each_stage_overfits_a_batch(data, stage):
    w = load_room_tensors(data / "train", stride=8)
    batch = w.batch(np.arange(min(len(w), 4)))
    torch.manual_seed(0)
    m = StageDiffusion(StageConfig(stage=stage, size="tiny", cond_drop=0.0))
    m.fit_normaliser(w.batch(np.arange(len(w))))
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(150):
        loss = m(batch, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.35 * np.mean(losses[:10])


def test_control_branch_is_a_no_op_at_init_and_steers_after_training(data):
    w = load_room_tensors(data / "train", stride=8)
    batch = w.batch(np.arange(4))
    torch.manual_seed(0)
    m = StageDiffusion(StageConfig(stage="path", size="tiny"))
    m.fit_normaliser(w.batch(np.arange(len(w))))
    x, t = torch.randn(4, FUTURE, 3), torch.full((4,), 10)
    cond = m.cond(batch).flatten(1)
    with torch.no_grad():
        with_ctrl = m.net(x, t, cond, m.control(batch))
        without = m.net(x, t, cond, None)
    assert torch.equal(with_ctrl, without)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    for _ in range(20):
        loss = m(batch, torch.Generator().manual_seed(1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert not torch.allclose(m.net(x, t, cond, m.control(batch)), m.net(x, t, cond, None))


@pytest.mark.parametrize("flag", ["use_past", "use_observer", "use_scene", "use_pose"])
def test_ablation_flags_remove_their_inputs(data, flag):
    slot = {
        "use_past": "past",
        "use_observer": "observer",
        "use_scene": "scene",
        "use_pose": "pose",
    }
    w = load_room_tensors(data / "train", stride=8)
    batch = w.batch(np.arange(3))
    torch.manual_seed(0)
    on = StageDiffusion(StageConfig(stage="body", size="tiny"))
    off = StageDiffusion(StageConfig(stage="body", size="tiny", **{flag: False}))
    noisy = dict(batch)
    name = slot[flag]
    if name == "scene":
        noisy[name] = torch.randint(0, 255, batch[name].shape, dtype=torch.uint8)
    else:
        noisy[name] = batch[name] + torch.randn_like(batch[name])
    a, b = off.sample(batch, k=2, seed=3, steps=4), off.sample(noisy, k=2, seed=3, steps=4)
    assert torch.equal(a, b)
    a, b = on.sample(batch, k=2, seed=3, steps=4), on.sample(noisy, k=2, seed=3, steps=4)
    assert not torch.allclose(a, b)


def test_training_selects_on_val_and_resumes_exactly(data, tmp_path):
    cfg = RoomTrainConfig(**{**TINY.__dict__, "stride": 4})
    sc = StageConfig(stage="path", size="tiny")
    whole = train_stage(sc, data / "train", data / "val", tmp_path / "a", cfg, progress=False)
    part = train_stage(
        sc, data / "train", data / "val", tmp_path / "b", cfg, progress=False, stop_after=4
    )
    assert part["steps"] == 4
    with pytest.raises(FileExistsError, match="resume"):
        train_stage(sc, data / "train", data / "val", tmp_path / "b", cfg, progress=False)
    rest = train_stage(
        sc, data / "train", data / "val", tmp_path / "b", cfg, progress=False, resume=True
    )
    assert rest["best"] == whole["best"]
    a = (tmp_path / "a" / "model" / "model.safetensors").read_bytes()
    assert a == (tmp_path / "b" / "model" / "model.safetensors").read_bytes()
    rows = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert whole["best"]["val_loss"] == min(r["val_loss"] for r in rows)


def test_chain_and_one_stage_sample_every_level(runs, data):
    w = load_room_tensors(data / "val", stride=8)
    batch = w.batch(np.arange(2))
    chain = BehaviorModel(*(runs / n / "model" for n in ("goal", "path", "body")))
    out = chain.sample(batch, k=3, seed=0, steps=3)
    assert out["goal"].shape == (2, 3, 3) and out["path"].shape == (2, 3, FUTURE, 3)
    assert out["body"].shape == (2, 3, FUTURE, 144)
    fixed = chain.sample(batch, k=2, seed=0, steps=3, goal=torch.zeros(2, 3))
    assert torch.equal(fixed["goal"], torch.zeros(2, 2, 3))
    one = OneStage(runs / "onestage" / "model").sample(batch, k=2, steps=3)
    assert torch.equal(one["goal"], one["path"][:, :, -1])
    with pytest.raises(ValueError, match="goal"):
        BehaviorModel(runs / "path" / "model", runs / "path" / "model", runs / "body" / "model")


def test_bench_behavior_scores_every_row_and_writes_results(runs, data, tmp_path):
    res = run_behavior(
        [data / "val"],
        runs=runs,
        train_data=data / "train",
        out=tmp_path,
        k=2,
        trials=2,
        windows=4,
        steps=3,
    )
    rows = res["splits"]["val"]["rows"]
    assert {"full", "one-stage", "w/o scene", "constant velocity", "nearest clip"} <= set(rows)
    assert "orient" not in rows["w/o scene"]  # no body stage without the scene was trained
    for r in rows.values():
        assert all(np.isfinite(r[c]) and r[c] >= 0 for c in ("goal", "path"))
    assert json.loads((tmp_path / "results.json").read_text())["k"] == 2
    text = table(res)
    assert "ATS one-stage" in text and "| full |" in text
    # constant velocity continues the last step exactly
    cv = constant_velocity(load_room_tensors(data / "val", stride=8).batch([0]))
    step = cv["path"][0, 0, 1, :2] - cv["path"][0, 0, 0, :2]
    assert torch.allclose(cv["path"][0, 0, 2, :2] - cv["path"][0, 0, 1, :2], step)


@pytest.mark.parametrize("control", ["kinematic", "physics"])
def test_policy_runs_an_episode_and_replans_on_schedule(runs, control):
    from navenv.envs.room import RoomNavEnv
    from policies.behavior.policy import BehaviorPolicyConfig, HierarchicalBehaviorPolicy

    chain = BehaviorModel(*(runs / n / "model" for n in ("goal", "path", "body")))
    env = RoomNavEnv(obs="state", scene_split="rooms_val", control=control)
    pol = HierarchicalBehaviorPolicy(chain, BehaviorPolicyConfig(steps=2, replan_s=1.0))
    obs, info = env.reset(seed=2)
    pol.reset(seed=2, info=info)
    steps = 0
    for _ in range(65):
        obs, _, term, trunc, _ = env.step(pol.act(obs))
        steps += 1
        assert np.isfinite(obs).all()
        if term or trunc:
            break
    assert pol.plans == 1 + (steps - 1) // 30  # one plan per replan_s of env time (30 Hz)


def test_policy_reads_the_observer_only_when_the_model_does(runs, data, tmp_path):
    """Moving the observer changes the plan of a model conditioned on it, and not one without."""
    from navenv.envs.room import RoomNavEnv
    from policies.behavior.policy import BehaviorPolicyConfig, HierarchicalBehaviorPolicy

    cfg = RoomTrainConfig(**{**TINY.__dict__, "stride": 4})
    train_stage(
        StageConfig(stage="path", size="tiny", use_observer=False),
        data / "train", data / "val", tmp_path / "path_noobs", cfg, progress=False,
    )  # fmt: skip
    env = RoomNavEnv(obs="state", scene_split="rooms_val")
    for path_dir, changes in ((runs / "path", True), (tmp_path / "path_noobs", False)):
        chain = BehaviorModel(runs / "goal" / "model", path_dir / "model", runs / "body" / "model")
        plans = []
        for shift in (0.0, 1.5):
            obs, info = env.reset(seed=4)
            # one plan per re-plan: ranking candidates reads the observer itself
            pol = HierarchicalBehaviorPolicy(chain, BehaviorPolicyConfig(steps=3, candidates=1))
            pol.reset(seed=4, info=info)
            parts = {k: v.copy() for k, v in env.obs_layout.split(obs).items()}
            parts["observer_path"][:, 1] += shift  # the observer stands 1.5 m further left
            pol.act(env.obs_layout.join(**parts))
            plans.append(pol.last_plan["path"])
        assert (not np.allclose(plans[0], plans[1])) == changes


def test_shipped_chain_walks_where_its_goal_is(data):
    """The shipped models, steered to a goal 3 m ahead or 3 m to the left, walk there."""
    chain = BehaviorModel.shipped()
    w = load_room_tensors(data / "val", stride=8)
    batch = w.batch([0, 0])
    goal = torch.tensor([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
    out = chain.sample(batch, k=2, seed=0, steps=10, goal=goal)
    end = out["path"][:, :, -1, :2]  # (2, K, 2)
    assert torch.isfinite(out["body"]).all()
    assert (torch.linalg.norm(end - goal[:, None, :2], dim=-1) < 1.0).all()


def test_free_mode_lets_the_goal_stage_choose_and_bad_config_is_refused(runs):
    from navenv.envs.room import RoomNavEnv
    from policies.behavior.policy import BehaviorPolicyConfig, HierarchicalBehaviorPolicy

    chain = BehaviorModel(*(runs / n / "model" for n in ("goal", "path", "body")))
    env = RoomNavEnv(obs="state", scene_split="rooms_val")
    obs, info = env.reset(seed=5)
    goals = []
    for mode in ("task", "free"):
        pol = HierarchicalBehaviorPolicy(chain, BehaviorPolicyConfig(goal=mode, steps=2))
        pol.reset(seed=5, info=info)
        pol.act(obs)
        goals.append(pol.last_plan["goal"])
    _, xy, yaw = pol.conditions(obs)
    ob = pol.observer_xy(obs, xy, yaw)
    assert np.allclose(goals[0], pol.subgoal(xy, yaw, ob), atol=1e-6)  # task: the planned sub-goal
    assert not np.allclose(goals[1], goals[0])  # free: the goal stage's own sample
    with pytest.raises(ValueError, match="goal"):
        BehaviorPolicyConfig(goal="wander")
    with pytest.raises(ValueError, match="replan_s"):
        BehaviorPolicyConfig(replan_s=0.0)
    with pytest.raises(ValueError, match="reset info"):
        HierarchicalBehaviorPolicy(chain).reset(seed=0, info={})
    from navenv.envs.room import RoomConfig

    voxel = RoomNavEnv(obs="state", scene_split="rooms_val", config=RoomConfig(crop="voxel"))
    _, vinfo = voxel.reset(seed=0)
    with pytest.raises(ValueError, match="crop='height'"):
        HierarchicalBehaviorPolicy(chain).reset(seed=0, info=vinfo)


def _planner(avoid: bool, rows: list[str], goal) -> object:
    """A task-mode policy on a hand-made grid (the sub-goal needs no model)."""
    from policies.behavior.policy import BehaviorPolicyConfig, HierarchicalBehaviorPolicy
    from scenes.navigation import NavGrid

    pol = HierarchicalBehaviorPolicy(object(), BehaviorPolicyConfig(avoid_observer=avoid))
    pol.nav = NavGrid(mask=[[c == "1" for c in r] for r in rows], origin=(0.0, 0.0), cell=0.1)
    pol.approach = np.array([goal], float)
    return pol


def test_task_subgoal_steps_round_an_observer_on_the_way_and_off_it_stays():
    from scenes.navigation import passes_near, resample_path

    start, observer, goal = np.array([0.5, 2.0]), np.array([2.0, 2.0]), (5.5, 2.0)
    room = ["1" * 60] * 40  # 6 x 4 m, nothing in the way but the observer
    near = {}
    for avoid in (True, False):
        pol = _planner(avoid, room, goal)
        way = pol.way(start, observer)
        near[avoid] = passes_near(resample_path(way, 0.05), observer, 1.0)
        sub = pol.subgoal(start, np.pi / 2, observer)  # yaw pi/2 faces +x: heading x is world x
        straight = pol.subgoal(start, np.pi / 2)  # no observer: 4 m straight ahead
        assert np.allclose(straight, [4.0, 0.0, 0.0], atol=0.1)
        assert np.allclose(sub, straight) != avoid  # avoiding, it moves off the line
        assert abs(sub[1]) > 0.3 or not avoid
        if avoid:  # heading straight for it keeps the room the way keeps (yaw pi/2: x, y)
            seg = np.linspace(start, start + sub[:2], 200)
            assert np.linalg.norm(seg - observer, axis=1).min() > pol.config.personal_m - 0.15
        # an observer off the way changes nothing
        assert np.allclose(pol.subgoal(start, np.pi / 2, (2.0, 3.8)), straight)
    assert near == {True: False, False: True}
    # a 0.6 m corridor: no way round the disc at any size worth asking for; it squeezes past
    # (without raising)
    corridor = _planner(True, ["1" * 60] * 6, (5.5, 0.3))
    way = corridor.way(np.array([0.5, 0.3]), np.array([3.0, 0.3]))
    assert np.allclose(way[[0, -1]], [[0.5, 0.3], [5.5, 0.3]])
    assert np.allclose(way[:, 1], 0.3, atol=0.06)


def test_task_subgoal_stays_in_sight_round_a_corner():
    """An L-shaped room: the way turns a corner 3.5 m ahead; in sight, the sub-goal stops where
    the straight line from the agent still clears the block (without: 4 m along, behind it)."""
    from policies.behavior.policy import BehaviorPolicyConfig
    from scenes.navigation import line_of_sight

    rows = ["1" * 60] * 40
    rows = [("1" * 20 + "0" * 40) if iy < 35 else r for iy, r in enumerate(rows)]  # x>=2, y<3.5
    start, goal = np.array([0.5, 0.3]), (5.5, 3.9)
    subs = {}
    for sight in (True, False):
        pol = _planner(True, rows, goal)
        pol.config = BehaviorPolicyConfig(in_sight=sight)
        sub = pol.subgoal(start, np.pi / 2)  # heading x is world x, heading y world y
        subs[sight] = start + sub[:2]
    assert not line_of_sight(pol.nav, start, subs[False])  # 4 m along: behind the corner
    assert line_of_sight(pol.nav, start, subs[True])
    assert np.linalg.norm(subs[True] - start) > 1.5  # the visible stretch, not a step
    # nothing in the way: in sight changes nothing
    open_room = _planner(True, ["1" * 60] * 40, (5.5, 2.0))
    assert np.allclose(
        open_room.subgoal(np.array([0.5, 2.0]), np.pi / 2), [4.0, 0.0, 0.0], atol=0.1
    )


def test_policy_plans_round_the_observer_it_observes(runs):
    """In the env, the observer read back from the observation is where it stands, and the
    plan's sub-goal steps round it (not with avoid_observer=False)."""
    from navenv.envs.room import RoomNavEnv
    from policies.behavior.policy import BehaviorPolicyConfig, HierarchicalBehaviorPolicy
    from policies.data.room import point_on_way
    from scenes.navigation import passes_near, resample_path

    chain = BehaviorModel(*(runs / n / "model" for n in ("goal", "path", "body")))
    env = RoomNavEnv(obs="state", scene_split="rooms_val")
    obs, info = env.reset(seed=2)
    at = point_on_way(env.world.nav, info["agent_xy"], info["goal_approach"])  # 1.8 m along
    opts = {"goal": info["goal_index"], "observer": "stand", "observer_at": at}
    obs, info = env.reset(seed=2, options=opts)
    goals, near = {}, {}
    for avoid in (True, False):
        cfg = BehaviorPolicyConfig(steps=2, avoid_observer=avoid)
        pol = HierarchicalBehaviorPolicy(chain, cfg)
        pol.reset(seed=2, info=info)
        _, xy, yaw = pol.conditions(obs)
        ob = pol.observer_xy(obs, xy, yaw)
        assert np.allclose(ob, info["observer_xy"], atol=1e-4)
        pol.act(obs)
        goals[avoid] = pol.last_plan["goal"]
        assert np.allclose(goals[avoid], pol.subgoal(xy, yaw, ob), atol=1e-6)
        near[avoid] = passes_near(resample_path(pol.way(xy, ob), 0.05), ob, cfg.personal_m - 0.1)
    assert np.allclose(goals[False], pol.subgoal(xy, yaw), atol=1e-6)  # the observer-free goal
    assert np.linalg.norm(goals[True] - goals[False]) > 0.3
    assert near == {True: False, False: True}


def test_scene_guidance_pushes_paths_off_occupied_cells_and_is_off_by_default(runs, data):
    from policies.behavior.stages import GUIDE_MARGIN_M, crop_cells, scene_nudge

    # a wall one metre ahead (crop rows are heading x): a frame 0.2 m from it is pushed back
    crop = torch.zeros(1, 64, 64, dtype=torch.uint8)
    crop[0, 42:, :] = 100  # heading x >= 1.05 m is occupied (cell centres from 1.05 m)
    cells = crop_cells(crop)
    path = torch.zeros(1, 3, 3)
    path[0, :, 0] = torch.tensor([0.0, 0.8, 2.0])  # clear, inside the margin, inside the wall
    out = scene_nudge(path, cells, 1.0)
    assert torch.allclose(out[0, 0], path[0, 0])  # clear of the margin: untouched
    # (to the margin, about: distances run to cell centres less half a cell)
    assert torch.isclose(out[0, 1, 0], torch.tensor(1.0 - GUIDE_MARGIN_M), atol=0.02)
    # inside the wall (1 m deep in): pushed back out the near side; heights untouched
    assert torch.isclose(out[0, 2, 0], torch.tensor(1.0 - GUIDE_MARGIN_M), atol=0.02)
    assert torch.equal(out[..., 2], path[..., 2])
    assert torch.isclose(scene_nudge(path, cells, 0.5)[0, 1, 0], torch.tensor(0.75), atol=0.02)
    # in the sampler: the same seed with and without guidance, through the chain
    chain = BehaviorModel(*(runs / n / "model" for n in ("goal", "path", "body")))
    batch = load_room_tensors(data / "val", stride=8).batch([0])
    goal = torch.tensor([[3.0, 0.0, 0.0]])
    batch["scene"] = crop
    plain = chain.sample(batch, k=2, seed=0, steps=3, goal=goal)["path"]
    again = chain.sample(batch, k=2, seed=0, steps=3, goal=goal, scene_guidance=0.0)["path"]
    guided = chain.sample(batch, k=2, seed=0, steps=3, goal=goal, scene_guidance=1.0)["path"]
    assert torch.equal(plain, again)  # 0: the sampler as it was

    def intrusion(p):
        return (p[..., 0] - (1.0 - GUIDE_MARGIN_M)).clamp_min(0).sum()

    assert intrusion(guided) < 0.5 * intrusion(plain) and intrusion(plain) > 0
    with pytest.raises(ValueError, match="path stage"):
        chain.body.sample({**batch, "path": plain[:, 0]}, 1, 0, 2, scene_guidance=1.0)


def test_ranking_costs_intrusion_and_the_observer_and_prefers_the_clear_path():
    from policies.behavior.ranking import MARGIN_M, OBSERVER_M, intrusion, plan_costs
    from scenes.navigation import NavGrid

    # 4 m x 2 m room, 0.1 m cells, a block at x 1.5-2.5 m, y 0-1 m (the lower half)
    mask = np.ones((20, 40), bool)
    mask[:10, 15:25] = False
    nav = NavGrid(mask=mask, origin=(0.0, 0.0), cell=0.1)
    xs = np.linspace(0.3, 3.7, 35)
    through = np.column_stack([xs, np.full_like(xs, 0.5)])  # straight across the block
    above = np.column_stack([xs, np.full_like(xs, 1.55)])  # 0.55 m clear of it
    paths = np.stack([through, above])
    cost = intrusion(nav, paths)
    assert cost[1] == 0.0  # clear of the margin everywhere
    assert intrusion(nav, paths, margin=0.6)[1] > 0.0  # not of a margin wider than its 0.55 m
    blocked = (~nav.is_walkable(through)).sum()
    assert blocked >= 9 and cost[0] >= blocked * MARGIN_M  # each blocked frame costs the margin
    # the observer on the clear path makes it cost too: a frame on the observer costs OBSERVER_M
    ob = above[17]
    with_ob = intrusion(nav, paths, ob)
    assert with_ob[1] >= OBSERVER_M and np.isclose(with_ob[0] - cost[0], 0.0)
    # the ranking picks the clear path even though the blocked one ends on the goal
    goal = through[-1]
    assert np.argmin(plan_costs(nav, paths, goal)) == 1
    # with both clear, the one ending nearer the goal wins
    near = above.copy()
    near[-1] = goal + np.array([0.0, 0.5])
    assert np.argmin(plan_costs(nav, np.stack([above, near]), goal)) == 1
    with pytest.raises(ValueError, match="K, T, 2"):
        intrusion(nav, through)
    assert np.isclose(nav.clearance_at([[-5.0, 0.0]])[0], 0.0)  # outside the grid: no clearance


def test_policy_with_candidates_plays_the_lowest_cost_sample(runs):
    from navenv.envs.room import RoomNavEnv
    from policies.behavior.policy import BehaviorPolicyConfig, HierarchicalBehaviorPolicy
    from policies.behavior.ranking import plan_costs
    from policies.behavior.room_data import heading_axes

    chain = BehaviorModel(*(runs / n / "model" for n in ("goal", "path", "body")))
    env = RoomNavEnv(obs="state", scene_split="rooms_val")
    obs, info = env.reset(seed=3)
    pol = HierarchicalBehaviorPolicy(chain, BehaviorPolicyConfig(steps=2, candidates=4))
    pol.reset(seed=3, info=info)
    pol.act(obs)
    # the same draw by hand: the played plan is the candidate of least cost
    batch, xy, yaw = pol.conditions(obs)
    ob = pol.observer_xy(obs, xy, yaw)
    goal = torch.as_tensor(pol.subgoal(xy, yaw, ob), dtype=torch.float32)[None]
    out = chain.sample(batch, k=4, seed=3 * 7919, steps=2, goal=goal)
    axes = heading_axes(yaw)[:, :2]
    paths = out["path"][0].double().numpy() @ axes + xy
    costs = plan_costs(pol.nav, paths, out["goal"][0].double().numpy() @ axes + xy, ob)
    best = int(np.argmin(costs))
    assert np.allclose(pol.last_plan["path"], out["path"][0, best].double().numpy())
    with pytest.raises(ValueError, match="candidates"):
        BehaviorPolicyConfig(candidates=0)
