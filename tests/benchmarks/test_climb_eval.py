"""`navenv eval climb-diffusion` end to end on a tiny model and stand-in expert, and the
per-window scoring on hand-made motions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.climb_eval import EvalConfig, run_eval, score_window
from benchmarks.metrics import shapes_from_primitives
from policies.climb_diffusion.config import ClimbDiffusionConfig
from policies.climb_diffusion.kinematics import feature_joints
from policies.climb_diffusion.train import train
from policies.data.generate import generate
from tests.policies.test_data_standin import PLANNER, tiny_config


def test_score_window_is_zero_for_the_reference_itself():
    """A sample equal to the expert's motion: no motion error, every touched hold recalled."""
    import scenes

    rng = np.random.default_rng(0)
    feats = np.zeros((8, 147))
    feats[:, 3:] = np.tile([1, 0, 0, 0, 1, 0], 24)  # identity 6D for every joint
    feats[:, :3] = [0.0, -0.5, 1.0] + 0.01 * rng.normal(size=(8, 3)).cumsum(axis=0)
    joints = feature_joints(feats, np.zeros(10))
    from navenv.body.joints import JOINT_INDEX

    holds = np.stack([joints[0, JOINT_INDEX["left_hand"]] + [0.05, 0, 0], [5.0, 5.0, 5.0]])
    contacts = np.full((8, 4), -1)
    contacts[:, 0] = 0
    shapes = shapes_from_primitives(scenes.load("wall_vertical_01").geometry[:0])
    row = score_window(joints[None], joints, contacts, holds, shapes, fps=10.0)
    assert row["mpjpe_mm"] == 0.0 and row["pa_mpjpe_mm"] < 1e-6
    assert row["route_recall"] == 1.0 and row["route_precision"] == 1.0
    assert row["contact_dist_cm"] == pytest.approx(5.0, abs=1e-6)
    moved = joints + np.array([0.1, 0.0, 0.0])
    assert score_window(moved[None], joints, contacts, holds, shapes, fps=10.0)[
        "mpjpe_mm"
    ] == pytest.approx(100.0)


def test_eval_writes_a_table_with_every_method(tmp_path):
    data = tmp_path / "train"
    generate(tiny_config(episodes=4, shard_size=2), data, workers=1, progress=False)
    cfg = ClimbDiffusionConfig.preset(
        "tiny",
        frames=8,
        fps=10.0,
        max_context=4,
        max_known=3,
        steps=2,
        batch_size=2,
        warmup_steps=1,
    )
    train(cfg, data, tmp_path / "run", progress=False)
    ecfg = EvalConfig(
        splits=("val",),
        episodes=2,
        samples=2,
        workers=1,
        width=16,
        height=16,
        clip_seconds=2.0,
        planner=PLANNER,
    )
    payload = run_eval(
        {"tiny": tmp_path / "run" / "model"}, data, tmp_path / "eval", ecfg, progress=False
    )
    stored = json.loads((tmp_path / "eval" / "results.json").read_text())
    methods = stored["results"]["val"]
    assert set(methods) == {"tiny", "nearest_neighbour", "mean_motion", "expert_other_seed"}
    for name in ("tiny", "nearest_neighbour", "mean_motion"):
        assert methods[name]["windows"] > 0
        assert methods[name]["mpjpe_mm"] > 0
        assert methods[name]["mpjpe_mm"] <= methods[name]["mpjpe_mean_k_mm"] + 1e-9
    assert payload["results"]["val"]["tiny"]["windows"] == methods["tiny"]["windows"]
    assert "| val | tiny |" in (tmp_path / "eval" / "results.md").read_text()


def test_model_spec_carries_sampling_overrides_and_refuses_others():
    from benchmarks.climb_eval import parse_model_spec

    assert parse_model_spec("runs/a/model") == ("model", "runs/a/model", {})
    label, spec, over = parse_model_spec("g2=climb_diffusion_small@guidance=2,sample_steps=20")
    assert (label, spec) == ("g2", "climb_diffusion_small@guidance=2,sample_steps=20")
    assert over == {"guidance": 2.0, "sample_steps": 20}
    label, _, over = parse_model_spec("climb_diffusion_small@sampler=dpm")
    assert label == "climb_diffusion_small@sampler=dpm" and over == {"sampler": "dpm"}
    with pytest.raises(ValueError, match="accepted: sampler=VALUE"):
        parse_model_spec("x=ckpt@width=64")  # architecture is the checkpoint's, not a setting
    with pytest.raises(ValueError, match="not a number"):
        parse_model_spec("ckpt@guidance=lots")
