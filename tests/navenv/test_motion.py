"""Motion: features, slicing, resampling, files and validation."""

import numpy as np
import pytest

from navenv.body import FEATURE_DIM, Motion, MotionError, Skeleton, forward_kinematics
from navenv.body.rotations import axis_angle_to_matrix


def random_motion(t=12, fps=30.0, seed=0):
    rng = np.random.default_rng(seed)
    return Motion(
        fps=fps,
        transl=rng.normal(size=(t, 3)),
        global_orient=axis_angle_to_matrix(rng.normal(size=(t, 3))),
        body_pose=axis_angle_to_matrix(rng.normal(size=(t, 23, 3)) * 0.5),
        betas=rng.normal(size=10),
    )


def test_features_round_trip():
    m = random_motion()
    f = m.to_features()
    assert f.shape == (12, FEATURE_DIM) == (12, 147)
    back = Motion.from_features(f, fps=m.fps, betas=m.betas)
    np.testing.assert_allclose(back.body_pose, m.body_pose, atol=1e-5)
    np.testing.assert_allclose(back.transl, m.transl, atol=1e-6)
    np.testing.assert_allclose(
        forward_kinematics(Skeleton.builtin(), back),
        forward_kinematics(Skeleton.builtin(), m),
        atol=1e-4,
    )


def test_save_load_exact(tmp_path):
    m = random_motion()
    path = m.save(tmp_path / "walk.npz")
    assert Motion.load(path) == m
    assert not list(tmp_path.glob("*.tmp"))


def test_load_rejects_pickles_and_garbage(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(MotionError, match="bad.npz"):
        Motion.load(bad)
    obj = tmp_path / "obj.npz"
    np.savez(
        obj, version=1, fps=30.0, transl=np.array([object()]), global_orient=0, body_pose=0, betas=0
    )
    with pytest.raises(MotionError, match="obj.npz"):
        Motion.load(obj)


def test_slice_and_concatenate():
    m = random_motion(t=10)
    s = m.slice(2, 8, 2)
    assert len(s) == 3 and s.fps == 15.0
    np.testing.assert_array_equal(s.transl, m.transl[2:8:2])
    c = Motion.concatenate([m.slice(0, 4), m.slice(4)])
    assert c == m
    with pytest.raises(MotionError, match="empty"):
        m.slice(5, 5)


def test_resample_preserves_endpoints_and_duration():
    m = random_motion(t=31, fps=30.0)
    r = m.resample(60.0)
    assert len(r) == 61 and r.fps == 60.0
    np.testing.assert_allclose(r.transl[::2], m.transl, atol=1e-12)
    np.testing.assert_allclose(r.body_pose[::2], m.body_pose, atol=1e-9)
    np.testing.assert_allclose(r.transl[1], 0.5 * (m.transl[0] + m.transl[1]), atol=1e-12)
    down = m.resample(10.0)
    assert len(down) == 11
    np.testing.assert_allclose(down.global_orient[1], m.global_orient[3], atol=1e-9)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("transl", np.zeros((12, 2)), r"transl: expected shape \(T, 3\)"),
        ("transl", np.full((12, 3), np.nan), "transl: NaN or inf"),
        ("body_pose", np.zeros((12, 23, 3, 3)), "body_pose: not a rotation"),
        (
            "global_orient",
            np.tile(np.eye(3), (11, 1, 1)),
            r"global_orient: expected shape \(12, 3, 3\)",
        ),
        ("fps", -1.0, "fps"),
    ],
)
def test_validation_names_the_field(field, value, match):
    m = random_motion()
    kwargs = {k: getattr(m, k) for k in ("fps", "transl", "global_orient", "body_pose", "betas")}
    kwargs[field] = value
    with pytest.raises(MotionError, match=match):
        Motion(**kwargs)


def test_reflection_is_not_a_rotation():
    m = random_motion()
    go = m.global_orient.copy()
    go[3] = go[3] @ np.diag([1.0, 1.0, -1.0])
    with pytest.raises(MotionError, match=r"global_orient: not a rotation matrix at index \(3,\)"):
        Motion(m.fps, m.transl, go, m.body_pose, m.betas)
