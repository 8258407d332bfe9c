"""Motion metrics on hand-made joint arrays with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from benchmarks.metrics.motion import (
    accel_error_mm,
    mean_jerk_m_s3,
    mpjpe_mm,
    pa_mpjpe_mm,
    procrustes_align,
    skating_ratio,
    skating_speed_m_s,
)


def _pose(seed: int, frames: int = 5, joints: int = 6) -> np.ndarray:
    """A random, non-planar (hence chiral) joint cloud of size ~1 m."""
    return np.random.default_rng(seed).normal(scale=0.5, size=(frames, joints, 3))


# --- MPJPE ---------------------------------------------------------------------------------


def test_translated_copy_global_error_is_translation_and_root_aligned_is_zero():
    gt = _pose(0)
    pred = gt + np.array([0.03, -0.04, 0.0])  # 5 cm
    assert mpjpe_mm(pred, gt, align="none") == pytest.approx(50.0)
    assert mpjpe_mm(pred, gt, align="root") == pytest.approx(0.0, abs=1e-9)


def test_single_joint_offset_is_averaged_over_joints():
    gt = _pose(1, joints=4)
    pred = gt.copy()
    pred[:, 2, 1] += 0.03
    assert mpjpe_mm(pred, gt) == pytest.approx(30.0 / 4)
    # Offsetting the root instead moves every other joint in root-relative coordinates.
    pred = gt.copy()
    pred[:, 0, 1] += 0.03
    assert mpjpe_mm(pred, gt, align="root") == pytest.approx(30.0 * 3 / 4)
    assert mpjpe_mm(pred, gt, align="root", root_index=-1) == pytest.approx(30.0 / 4)


def test_reduce_options_give_frame_and_joint_arrays():
    gt = _pose(2, frames=3, joints=2)
    pred = gt + np.array([[[0.001, 0, 0]], [[0.002, 0, 0]], [[0.003, 0, 0]]])
    per_frame = mpjpe_mm(pred, gt, align="none", reduce="per_frame")
    assert per_frame.shape == (3,)
    np.testing.assert_allclose(per_frame, [1.0, 2.0, 3.0])
    per_joint = mpjpe_mm(pred, gt, align="none", reduce="none")
    assert per_joint.shape == (3, 2)
    np.testing.assert_allclose(per_joint, [[1, 1], [2, 2], [3, 3]])
    assert mpjpe_mm(pred, gt, align="none") == pytest.approx(2.0)


# --- PA-MPJPE ------------------------------------------------------------------------------


def test_rotated_scaled_translated_copy_has_zero_pa_mpjpe():
    gt = _pose(3)
    rots = Rotation.random(gt.shape[0], random_state=3).as_matrix()
    pred = 1.7 * np.einsum("tik,tjk->tji", rots, gt) + np.array([1.0, -2.0, 0.5])
    assert pa_mpjpe_mm(pred, gt) == pytest.approx(0.0, abs=1e-6)
    assert mpjpe_mm(pred, gt, align="none") > 100.0


def test_procrustes_recovers_the_inverse_transform():
    gt = _pose(4, frames=2)
    rot = Rotation.from_rotvec([0.3, -1.1, 0.4]).as_matrix()
    pred = 0.5 * gt @ rot.T + np.array([0.2, 0.1, -0.3])
    aligned, scale, rotation, translation = procrustes_align(pred, gt)
    np.testing.assert_allclose(aligned, gt, atol=1e-9)
    np.testing.assert_allclose(scale, [2.0, 2.0])
    np.testing.assert_allclose(rotation[0], rot.T, atol=1e-9)
    assert translation.shape == (2, 3)
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0)


def test_mirror_image_is_not_aligned_away():
    gt = _pose(5, frames=1, joints=8)
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    # A reflection would align the mirror image exactly; a proper rotation cannot.
    assert pa_mpjpe_mm(mirrored, gt) > 50.0
    _, _, rotation, _ = procrustes_align(mirrored, gt)
    assert np.linalg.det(rotation[0]) == pytest.approx(1.0)


def test_collapsed_prediction_aligns_to_the_target_centroid():
    gt = _pose(6, frames=1, joints=5)
    pred = np.zeros_like(gt)
    expected = np.linalg.norm(gt - gt.mean(axis=1, keepdims=True), axis=-1).mean() * 1000
    assert pa_mpjpe_mm(pred, gt) == pytest.approx(expected)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.2, 5.0),
    shift=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
)
def test_pa_mpjpe_is_invariant_to_a_similarity_transform_of_the_prediction(seed, scale, shift):
    rng = np.random.default_rng(seed)
    gt = rng.normal(size=(2, 7, 3))
    pred = gt + rng.normal(scale=0.1, size=gt.shape)
    rot = Rotation.random(random_state=seed).as_matrix()
    moved = scale * pred @ rot.T + np.asarray(shift)
    assert pa_mpjpe_mm(moved, gt) == pytest.approx(pa_mpjpe_mm(pred, gt), rel=1e-6, abs=1e-6)
    # Umeyama minimises the squared error, so the aligned RMS never exceeds the raw RMS.
    aligned = procrustes_align(pred, gt)[0]
    assert np.mean((aligned - gt) ** 2) <= np.mean((pred - gt) ** 2) + 1e-12


# --- acceleration error and jerk -----------------------------------------------------------


def test_constant_velocity_has_zero_acceleration_error():
    t = np.arange(10, dtype=float)[:, None, None]
    gt = np.zeros((10, 3, 3))
    pred = gt + t * np.array([0.01, 0.02, -0.03])
    assert accel_error_mm(pred, gt, align="none") == pytest.approx(0.0, abs=1e-9)


def test_known_acceleration_gives_known_error():
    frames, joints = 8, 3
    t = np.arange(frames, dtype=float)[:, None, None]
    gt = _pose(7, frames=frames, joints=joints)
    accel = np.array([0.0, 0.003, 0.004])  # 5 mm / frame^2
    pred = gt + 0.5 * t**2 * accel  # every joint: root-aligned error vanishes
    assert accel_error_mm(pred, gt, align="none") == pytest.approx(5.0)
    assert accel_error_mm(pred, gt, align="root") == pytest.approx(0.0, abs=1e-9)
    pred = gt.copy()
    pred[:, 1] += 0.5 * t[:, 0] ** 2 * accel  # one non-root joint
    assert accel_error_mm(pred, gt) == pytest.approx(5.0 / joints)
    per_frame = accel_error_mm(pred, gt, reduce="per_frame")
    assert per_frame.shape == (frames - 2,)
    np.testing.assert_allclose(per_frame, 5.0 / joints)


def test_jerk_of_a_cubic_is_six_times_its_coefficient():
    fps = 30.0
    seconds = np.arange(12) / fps
    coeff = np.array([0.0, 0.0, 0.7])  # x(t) = coeff * t^3, jerk = 6 * coeff
    pos = (seconds[:, None] ** 3 * coeff)[:, None, :]
    assert mean_jerk_m_s3(pos, fps=fps) == pytest.approx(6 * 0.7, rel=1e-6)
    assert mean_jerk_m_s3(pos, fps=fps, reduce="per_frame").shape == (12 - 3,)


# --- skating -------------------------------------------------------------------------------


def _sliding_foot(frames: int, fps: float, speed_m_s: float, height_m: float = 0.0) -> np.ndarray:
    """A foot moving along x at `speed_m_s` and constant height, (T, 3)."""
    x = np.arange(frames) * speed_m_s / fps
    return np.stack([x, np.zeros(frames), np.full(frames, height_m)], axis=1)


def test_foot_sliding_at_one_metre_per_second_in_contact_skates_at_one():
    foot = _sliding_foot(20, fps=30.0, speed_m_s=1.0, height_m=0.02)
    assert skating_speed_m_s(foot, fps=30.0) == pytest.approx(1.0)
    assert skating_speed_m_s(foot[:, None, :], fps=30.0) == pytest.approx(1.0)
    # Above the contact height the same motion is a swing, not a skate.
    lifted = _sliding_foot(20, fps=30.0, speed_m_s=1.0, height_m=0.2)
    assert skating_speed_m_s(lifted, fps=30.0) == 0.0


def test_only_the_tangential_part_of_the_motion_counts():
    foot = _sliding_foot(20, fps=50.0, speed_m_s=0.6)
    foot[:, 2] = np.arange(20) * 0.8 / 50.0 * 0.01  # slight vertical drift stays < 5 cm
    assert skating_speed_m_s(foot, fps=50.0) == pytest.approx(0.6)


def test_explicit_contact_mask_and_lift_off_steps():
    fps = 10.0
    foot = _sliding_foot(10, fps=fps, speed_m_s=1.0)
    foot[5:, 0] = foot[4, 0] + np.arange(1, 6) * 0.5  # 5 m/s once lifted off
    mask = np.arange(10) < 5
    # Steps 0->1 .. 3->4 are in contact at both ends; 4->5 is the lift-off and is excluded.
    assert skating_speed_m_s(foot, mask, fps=fps) == pytest.approx(1.0)
    two = np.stack([foot, foot], axis=1)
    per_joint = np.stack([mask, np.zeros(10, bool)], axis=1)
    assert skating_speed_m_s(two, per_joint, fps=fps) == pytest.approx(1.0)
    assert skating_speed_m_s(foot, np.zeros(10, bool), fps=fps) == 0.0


def test_hand_sliding_on_a_wall_uses_the_wall_normal():
    hand = np.stack([np.arange(15) * 0.5 / 25.0, np.full(15, 0.01), np.linspace(1, 1.2, 15)], 1)
    speed = skating_speed_m_s(hand, fps=25.0, up=(0.0, 1.0, 0.0))
    expected = np.hypot(0.5 / 25.0, 0.2 / 14) * 25.0
    assert speed == pytest.approx(expected)


def test_skating_ratio_counts_steps_above_the_threshold():
    fps = 20.0
    fast = _sliding_foot(21, fps=fps, speed_m_s=1.0)
    slow = _sliding_foot(21, fps=fps, speed_m_s=0.2)
    assert skating_ratio(fast, fps=fps) == 1.0
    assert skating_ratio(slow, fps=fps) == 0.0
    half = fast.copy()
    half[11:, 0] = half[10, 0]  # slides for the first 10 of 20 steps, then stands still
    assert skating_ratio(half, fps=fps) == pytest.approx(0.5)
    assert skating_ratio(half, fps=fps, window_frames=1) == pytest.approx(0.5)
    # A single-step jump is removed by the 5-step window, not without it.
    jump = _sliding_foot(21, fps=fps, speed_m_s=0.0)
    jump[10:, 0] += 0.05  # 1 m/s for one step
    assert skating_ratio(jump, fps=fps) == 0.0
    assert skating_ratio(jump, fps=fps, window_frames=1) == pytest.approx(1 / 20)


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pred", "gt", "match"),
    [
        (np.zeros((4, 3, 2)), np.zeros((4, 3, 2)), "pred"),
        (np.zeros((4, 3, 3)), np.zeros((4, 2, 3)), "pred and gt"),
        (np.zeros((3, 3)), np.zeros((3, 3)), "pred"),
        (np.zeros((0, 3, 3)), np.zeros((0, 3, 3)), "pred"),
    ],
)
def test_bad_shapes_raise_naming_the_argument(pred, gt, match):
    with pytest.raises(ValueError, match=match):
        mpjpe_mm(pred, gt)
    with pytest.raises(ValueError, match=match):
        pa_mpjpe_mm(pred, gt)


def test_nan_and_bad_options_raise():
    gt = _pose(8)
    bad = gt.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"gt: contains NaN"):
        mpjpe_mm(gt, bad)
    with pytest.raises(ValueError, match="align"):
        mpjpe_mm(gt, gt, align="pelvis")
    with pytest.raises(ValueError, match="reduce"):
        mpjpe_mm(gt, gt, reduce="sum")
    with pytest.raises(ValueError, match="root_index"):
        mpjpe_mm(gt, gt, root_index=6)
    with pytest.raises(ValueError, match="3 frames"):
        accel_error_mm(gt[:2], gt[:2])
    with pytest.raises(ValueError, match="fps"):
        skating_speed_m_s(gt, fps=0.0)
    with pytest.raises(ValueError, match="contact"):
        skating_speed_m_s(gt, np.ones(4, bool), fps=30.0)
    with pytest.raises(ValueError, match="contact"):
        skating_speed_m_s(gt, np.full(5, 0.5), fps=30.0)
    with pytest.raises(ValueError, match="up"):
        skating_speed_m_s(gt, fps=30.0, up=(0, 0, 0))
    with pytest.raises(ValueError, match="window_frames"):
        skating_ratio(gt, fps=30.0, window_frames=0)
