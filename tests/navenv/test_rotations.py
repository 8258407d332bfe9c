"""Rotation conversions: numpy vs torch agreement, round trips, known values."""

import numpy as np
import pytest
import torch

from navenv.body import rotations as R

RNG = np.random.default_rng(0)
AA = RNG.normal(size=(64, 3)) * 1.2  # includes angles well past pi/2
AA[0] = 0.0  # identity
AA[1] = [1e-9, 0, 0]  # near-zero angle
AA[2] = [np.pi - 1e-7, 0, 0]  # near pi


def mats():
    return R.axis_angle_to_matrix(AA)


def test_axis_angle_matrix_is_rotation_and_round_trips():
    m = mats()
    assert R.is_rotation(m).all()
    back = R.axis_angle_to_matrix(R.matrix_to_axis_angle(m))
    np.testing.assert_allclose(back, m, atol=1e-10)


def test_known_values():
    m = R.axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
    np.testing.assert_allclose(m @ [1.0, 0, 0], [0, 1.0, 0], atol=1e-12)
    q = R.matrix_to_quat(m)
    np.testing.assert_allclose(q, [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)], atol=1e-12)
    np.testing.assert_allclose(
        R.euler_xyz_to_matrix(np.array([0.3, 0, 0])), R.rotation_x(0.3), atol=1e-12
    )


@pytest.mark.parametrize(
    "fwd, inv",
    [
        (R.matrix_to_quat, R.quat_to_matrix),
        (R.matrix_to_rot6d, R.rot6d_to_matrix),
        (R.matrix_to_euler_xyz, R.euler_xyz_to_matrix),
        (R.matrix_to_axis_angle, R.axis_angle_to_matrix),
    ],
)
def test_round_trip_numpy_and_torch_agree(fwd, inv):
    m = mats()
    np.testing.assert_allclose(inv(fwd(m)), m, atol=1e-9)
    mt = torch.tensor(m)
    np.testing.assert_allclose(fwd(mt).numpy(), fwd(m), atol=1e-9)
    np.testing.assert_allclose(inv(fwd(mt)).numpy(), m, atol=1e-9)


def test_batched_shapes_preserved():
    m = R.axis_angle_to_matrix(RNG.normal(size=(2, 5, 3)))
    assert m.shape == (2, 5, 3, 3)
    assert R.matrix_to_rot6d(m).shape == (2, 5, 6)
    assert R.matrix_to_quat(m).shape == (2, 5, 4)
    assert R.matrix_to_euler_xyz(m).shape == (2, 5, 3)


def test_euler_matches_nested_rotations_and_gimbal_lock():
    a = np.array([0.4, -0.7, 1.1])
    expected = (
        R.rotation_x(a[0]) @ R.axis_angle_to_matrix(np.array([0, a[1], 0])) @ R.rotation_z(a[2])
    )
    np.testing.assert_allclose(R.euler_xyz_to_matrix(a), expected, atol=1e-12)
    locked = R.euler_xyz_to_matrix(np.array([0.3, np.pi / 2, 0.2]))
    np.testing.assert_allclose(
        R.euler_xyz_to_matrix(R.matrix_to_euler_xyz(locked)), locked, atol=1e-9
    )


def test_rot6d_gram_schmidt_projects_noisy_input():
    r6 = R.matrix_to_rot6d(mats()) + RNG.normal(0, 0.05, (64, 6))
    assert R.is_rotation(R.rot6d_to_matrix(r6), tol=1e-9).all()


def test_torch_gradients_are_finite_at_identity():
    aa = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    R.axis_angle_to_matrix(aa).sum().backward()
    assert torch.isfinite(aa.grad).all()


def test_slerp_endpoints_and_midpoint():
    q0 = R.axis_angle_to_quat(np.array([0.0, 0, 0]))
    q1 = R.axis_angle_to_quat(np.array([0.0, 0, 1.0]))
    np.testing.assert_allclose(R.quat_slerp(q0, q1, np.array(0.0)), q0, atol=1e-12)
    np.testing.assert_allclose(R.quat_slerp(q0, q1, np.array(1.0)), q1, atol=1e-12)
    mid = R.quat_to_axis_angle(R.quat_slerp(q0, q1, np.array(0.5)))
    np.testing.assert_allclose(mid, [0, 0, 0.5], atol=1e-12)


def test_geodesic_angle():
    m = R.axis_angle_to_matrix(np.array([[0.0, 0.0, 0.5], [3.0, 0, 0]]))
    np.testing.assert_allclose(R.geodesic_angle(np.eye(3), m), [0.5, 3.0], atol=1e-9)


def test_is_rotation_rejects_reflections_and_drift():
    m = mats()
    assert R.is_rotation(m).all()
    assert not R.is_rotation(-m).any()  # det -1
    assert not R.is_rotation(m * 1.01).any()
    assert not R.is_rotation(np.full((3, 3), np.nan))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="expected shape"):
        R.axis_angle_to_matrix(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="rot6d_to_matrix"):
        R.rot6d_to_matrix(np.zeros(5))
