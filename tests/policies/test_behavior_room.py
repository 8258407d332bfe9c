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
            pol = HierarchicalBehaviorPolicy(chain, BehaviorPolicyConfig(steps=3))
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
    assert np.allclose(goals[0], pol.subgoal(xy, yaw), atol=1e-6)  # task: the planned sub-goal
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
