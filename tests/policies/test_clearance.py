"""The planner's clearance pass: sunk frames pushed clear, holds kept, bounds kept."""

import numpy as np
import pytest

from navenv.body.rotations import quat_to_matrix
from navenv.humanoid import names
from policies.scripted import PlannerConfig, plan_climb
from policies.scripted.clearance import ClearanceConfig, _fit, _runs, clear_frames
from policies.scripted.keyframes import frame_quality
from policies.scripted.trajectory import frame_rates, to_coords


def test_runs_are_widened_and_merged():
    bad = np.zeros(30, bool)
    bad[[3, 4, 10, 25]] = True
    assert _runs(bad, 2) == [(1, 6), (8, 12), (23, 27)]
    assert _runs(bad, 3) == [(0, 13), (22, 28)]
    assert _runs(np.zeros(5, bool), 2) == []


def test_fit_follows_targets_dies_out_and_keeps_fixed_frames():
    coords = np.zeros((60, 4))
    frames = np.arange(25, 35)
    target = np.full((10, 4), 0.1)
    allowed = dict(joint_speed=10.0, joint_accel=100.0, root_speed=10.0, root_accel=100.0)
    out = _fit(coords, frames, target, np.array([30]), allowed, 30.0, ClearanceConfig())
    assert out[30] == pytest.approx(np.zeros(4), abs=1e-6)  # fixed
    assert np.all(out[[27, 33], 3] > 0.05)  # pulled toward the target around it
    assert np.abs(out[[0, 59]]).max() < 1e-3  # and back to the plan far away
    tight = dict(joint_speed=0.05, joint_accel=0.05, root_speed=0.05, root_accel=0.05)
    assert _fit(coords, frames, target, np.array([], int), tight, 30.0, ClearanceConfig()) is None


def test_a_sunk_arm_is_pushed_out_with_holds_and_bounds_kept(scene, world):
    """Swing the right arm into the wall over a travelling segment of a real plan; the pass
    takes it out again, keeps every limb on its hold and the motion within its bounds."""
    cfg = PlannerConfig(clearance=ClearanceConfig(rounds=0))
    plan = plan_climb(scene, scene.routes[0], seed=0, world=world, config=cfg)
    idx = world.index
    held = plan.contacts >= 0
    # a long stretch with the right hand off its hold: bend its shoulder toward the wall
    free = np.flatnonzero(~held[:, 1])
    a = free[0] + 2
    b = a + 10
    assert held[a : b + 1, [0, 2, 3]].all() and not held[a : b + 1, 1].any()
    sunk = plan.qpos.copy()
    shoulder = idx.hinge_qpos[names.HINGE_NAMES.index("right_shoulder_z")]
    bump = np.sin(np.linspace(0.0, np.pi, b - a + 1)) ** 2
    sunk[a : b + 1, shoulder] -= 1.2 * bump
    own = np.zeros(world.model.ngeom, bool)
    own[idx.geoms] = True
    pen0, sites0 = frame_quality(world.model, sunk, own, idx.grip_sites)
    tol = 2 * cfg.ik.penetration_tol
    assert (pen0 > tol).sum() >= 3  # the arm is in the wall
    rest = np.array([k.frame for k in plan.stances if k.rest])
    limits = cfg.limits
    frame = quat_to_matrix(plan.qpos[0, 3:7])
    before = frame_rates(to_coords(sunk, idx, frame), limits.fps)
    out, report = clear_frames(
        world.model, idx, sunk, held, rest, tol, cfg.drift_tolerance_m, limits, ClearanceConfig()
    )
    pen1, sites1 = frame_quality(world.model, out, own, idx.grip_sites)
    assert report.rounds_kept >= 1 and report.after_m == pytest.approx(pen1.max())
    assert np.maximum(pen1 - tol, 0).sum() < 0.2 * np.maximum(pen0 - tol, 0).sum()
    drift = np.linalg.norm(sites1 - sites0, axis=2)[held]
    assert drift.max() <= cfg.drift_tolerance_m
    np.testing.assert_array_equal(out[rest], sunk[rest])
    after = frame_rates(to_coords(out, idx, frame), limits.fps)
    for key in ("joint_speed", "joint_accel", "root_speed", "root_accel"):
        assert after[key] <= max(before[key], getattr(limits, f"max_{key}")) * 1.001


def test_clearance_config_validation():
    for bad in ({"rounds": -1}, {"max_frames": 0}, {"smoothing": 0.0}, {"floor": 0.0}):
        with pytest.raises(ValueError, match="ClearanceConfig"):
            ClearanceConfig(**bad)
