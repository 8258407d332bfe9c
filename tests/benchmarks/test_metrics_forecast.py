"""Best-of-K forecasting metrics on hand-made trajectories and rotations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from benchmarks.metrics.forecast import (
    geodesic_angle_rad,
    min_ade_joint_angles_rad,
    min_ade_k,
    min_ade_orientation_rad,
    min_fde_k,
)


def _rot(rotvec) -> np.ndarray:
    """Rotation matrices from rotation vectors (..., 3) -> (..., 3, 3)."""
    rv = np.asarray(rotvec, dtype=float)
    return Rotation.from_rotvec(rv.reshape(-1, 3)).as_matrix().reshape(*rv.shape[:-1], 3, 3)


def test_one_perfect_sample_among_k_gives_zero():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(3, 12, 3))
    pred = gt[:, None] + rng.normal(size=(3, 5, 12, 3))
    pred[0, 2] = gt[0]
    pred[1, 0] = gt[1]
    pred[2, 4] = gt[2]
    assert min_ade_k(pred, gt) == 0.0
    assert min_fde_k(pred, gt) == 0.0


def test_constant_offsets_give_the_smallest_offset_per_agent():
    gt = np.zeros((2, 4, 2))
    offsets = np.array([[0.5, 0.2, 0.9], [1.0, 3.0, 2.0]])  # (N, K) metres
    pred = np.zeros((2, 3, 4, 2))
    pred[..., 0] = offsets[:, :, None]
    np.testing.assert_allclose(min_ade_k(pred, gt, reduce="none"), [0.2, 1.0])
    assert min_ade_k(pred, gt) == pytest.approx(0.6)
    np.testing.assert_allclose(min_fde_k(pred, gt, reduce="none"), [0.2, 1.0])


def test_ade_averages_the_horizon_and_fde_picks_its_own_sample():
    horizon = 5
    gt = np.zeros((1, horizon, 3))
    pred = np.zeros((1, 2, horizon, 3))
    pred[0, 0, :, 1] = [0.0, 0.0, 0.0, 0.0, 1.0]  # ADE 0.2, FDE 1.0
    pred[0, 1, :, 1] = [0.5, 0.5, 0.5, 0.5, 0.0]  # ADE 0.4, FDE 0.0
    assert min_ade_k(pred, gt) == pytest.approx(0.2)
    assert min_fde_k(pred, gt) == pytest.approx(0.0)
    # A goal forecast is a one-step horizon: minADE = minFDE.
    assert min_ade_k(pred[:, :, -1:], gt[:, -1:]) == min_fde_k(pred, gt)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6))
def test_min_ade_is_below_every_samples_ade(seed, k):
    rng = np.random.default_rng(seed)
    gt = rng.normal(size=(4, 7, 3))
    pred = rng.normal(size=(4, k, 7, 3))
    per_agent = min_ade_k(pred, gt, reduce="none")
    ade = np.linalg.norm(pred - gt[:, None], axis=-1).mean(axis=2)
    np.testing.assert_allclose(per_agent, ade.min(axis=1))
    assert np.all(per_agent >= 0)


def test_rotation_by_a_known_angle_gives_that_angle():
    axis = np.array([1.0, 2.0, -0.5]) / np.linalg.norm([1.0, 2.0, -0.5])
    base = _rot([0.3, -0.2, 1.0])
    for angle in (1e-7, 0.01, 0.7, 2.0, np.pi - 1e-6):
        other = base @ _rot(axis * angle)
        assert geodesic_angle_rad(base, other) == pytest.approx(angle, rel=1e-6, abs=1e-12)
    # Mid-range it agrees with the textbook arccos formula.
    r1, r2 = _rot([0.4, 0.1, -0.3]), _rot([-1.0, 0.5, 0.2])
    cos = (np.trace(r1.T @ r2) - 1) / 2
    assert geodesic_angle_rad(r1, r2) == pytest.approx(np.arccos(cos))


def test_orientation_min_ade_takes_the_best_sample():
    horizon = 4
    gt = np.broadcast_to(np.eye(3), (2, horizon, 3, 3))
    angles = np.array([[0.3, 0.1, 0.5], [0.2, 0.4, 0.25]])  # (N, K) radians about z
    rotvec = np.zeros((2, 3, horizon, 3))
    rotvec[..., 2] = angles[:, :, None]
    pred = _rot(rotvec)
    np.testing.assert_allclose(min_ade_orientation_rad(pred, gt, reduce="none"), [0.1, 0.2])
    assert min_ade_orientation_rad(pred, gt) == pytest.approx(0.15)


def test_joint_angle_min_ade_averages_joints_and_steps():
    n, k, h, j = 1, 2, 3, 4
    gt = _rot(np.random.default_rng(1).normal(size=(n, h, j, 3)))
    err = np.zeros((n, k, h, j, 3))
    err[0, 0, :, 0, 0] = 0.8  # sample 0: one joint off by 0.8 rad -> mean 0.2
    err[0, 1, :, :, 1] = 0.3  # sample 1: every joint off by 0.3 rad -> mean 0.3
    pred = gt[:, None] @ _rot(err)
    assert min_ade_joint_angles_rad(pred, gt) == pytest.approx(0.2)


def test_bad_inputs_raise_naming_the_argument():
    gt = np.zeros((2, 5, 3))
    with pytest.raises(ValueError, match="pred and gt disagree"):
        min_ade_k(np.zeros((2, 3, 4, 3)), gt)
    with pytest.raises(ValueError, match="pred: expected shape"):
        min_ade_k(np.zeros((2, 5, 3)), gt)
    nan = np.zeros((2, 3, 5, 3))
    nan[1, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="pred: contains NaN"):
        min_fde_k(nan, gt)
    with pytest.raises(ValueError, match="reduce"):
        min_ade_k(np.zeros((2, 3, 5, 3)), gt, reduce="median")
    not_rotation = np.broadcast_to(np.eye(3), (1, 2, 3, 3, 3)).copy()
    not_rotation[0, 1, 2] *= 2.0
    with pytest.raises(ValueError, match="pred: matrix at index"):
        min_ade_orientation_rad(not_rotation, np.broadcast_to(np.eye(3), (1, 3, 3, 3)))
    reflection = np.broadcast_to(np.diag([1.0, 1.0, -1.0]), (1, 3, 3, 3))
    with pytest.raises(ValueError, match="gt: matrix at index"):
        min_ade_orientation_rad(np.broadcast_to(np.eye(3), (1, 2, 3, 3, 3)), reflection)
    with pytest.raises(ValueError, match="gt: expected shape"):
        min_ade_joint_angles_rad(np.broadcast_to(np.eye(3), (1, 2, 3, 4, 3, 3)), np.eye(3))
