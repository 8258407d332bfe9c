"""The gait library (real CMU clips) and path-following walk synthesis with planted feet."""

import itertools
import math

import numpy as np
import pytest

from navenv.body import Motion, Skeleton
from navenv.body.rotations import is_rotation
from policies.scripted.gait import (
    SKATE_BOUND_M_S,
    MotionLibrary,
    build_default_library,
    foot_skate_m_s,
    stand,
    turn_in_place,
    walk_along,
)
from policies.scripted.gait.library import DEFAULT_ASSET, DEFAULT_SOURCE_DIR
from policies.scripted.gait.planting import stance_runs
from policies.scripted.gait.poses import heading_yaw


def _arc(radius: float, angle: float, n: int = 60) -> np.ndarray:
    """A circular arc from (0, 0) heading -y, turning left (towards +x) by angle."""
    a = np.linspace(0.0, angle, n)
    return np.c_[radius * (1.0 - np.cos(a)), -radius * np.sin(a)]


def _distance_to_polyline(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """(N,) distance from each point (N, 2) to a (K, 2) polyline."""
    best = np.full(len(points), np.inf)
    for a, b in itertools.pairwise(poly):
        d = b - a
        t = np.clip(((points - a) @ d) / (d @ d), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * d), axis=1))
    return best


def _lift_order(contacts: np.ndarray) -> list[int]:
    """Which foot lifts off at each lift-off, in time order."""
    events = [(b, k) for k in range(2) for _, b in stance_runs(contacts[:, k]) if b < len(contacts)]
    return [k for _, k in sorted(events)]


def _check_motion(motion: Motion) -> None:
    for name in ("transl", "global_orient", "body_pose"):
        assert np.isfinite(getattr(motion, name)).all(), name
    assert is_rotation(motion.rotations, tol=1e-6).all()


# ---------------------------------------------------------------------------- library
def test_default_library_has_plausible_cycles_and_an_idle_pose():
    lib = MotionLibrary.default()
    assert lib is MotionLibrary.default()  # cached
    assert len(lib.cycles) >= 1 and lib.fps == 30.0
    for c in lib.cycles:
        assert 1.0 <= c.stride_m <= 1.8, c.name
        assert 0.8 <= c.duration_s <= 1.4, c.name
        assert 0.8 <= c.speed_m_s <= 1.6, c.name
        contacts = c.contacts
        assert contacts.shape == (c.num_frames, 2)
        # one stance per foot per cycle; the left one opens the cycle (left heel strike)
        assert contacts[0, 0] and 0.5 < contacts.mean() < 0.8
        for k in range(2):
            runs = stance_runs(np.r_[contacts[:, k], contacts[:, k]])  # two cycles, wrapped
            assert len(runs) in (2, 3), (c.name, k, runs)
        assert (
            is_rotation(c.body_pose, tol=1e-6).all()
            and is_rotation(c.global_orient, tol=1e-6).all()
        )
    assert lib.idle.body_pose.shape == (23, 3, 3) and lib.idle.height_m > -0.1


def test_asset_rebuilds_identically_from_the_mocap_fixtures(tmp_path):
    lib = build_default_library(DEFAULT_SOURCE_DIR, tmp_path / "cmu_walk.npz")
    with np.load(DEFAULT_ASSET) as shipped, np.load(tmp_path / "cmu_walk.npz") as rebuilt:
        assert sorted(shipped.files) == sorted(rebuilt.files)
        for key in shipped.files:
            a, b = shipped[key], rebuilt[key]
            if np.issubdtype(a.dtype, np.floating):
                np.testing.assert_allclose(a, b, atol=1e-5, err_msg=key)
            else:
                np.testing.assert_array_equal(a, b, err_msg=key)
    assert (tmp_path / "ATTRIBUTION.md").read_text() == (
        DEFAULT_ASSET.parent / "ATTRIBUTION.md"
    ).read_text()
    assert "mocap.cs.cmu.edu" in (tmp_path / "ATTRIBUTION.md").read_text()
    # the writer is deterministic: the same library gives the same bytes
    lib.save(tmp_path / "again.npz")
    assert (tmp_path / "again.npz").read_bytes() == (tmp_path / "cmu_walk.npz").read_bytes()
    assert DEFAULT_ASSET.stat().st_size < 300_000


# ---------------------------------------------------------------------------- walking
def test_straight_walk_reaches_the_end_on_the_path_with_alternating_planted_feet():
    path = np.array([[0.0, 0.0], [0.0, -4.0]])
    motion, contacts = walk_along(path, speed=1.2)
    _check_motion(motion)
    assert np.linalg.norm(motion.transl[-1, :2] - path[-1]) < 0.1
    cruise = 4.0 / 1.2
    assert cruise + 0.3 < motion.duration < cruise + 1.5  # ramps from and to rest, then settling
    assert _distance_to_polyline(motion.transl[:, :2], path).max() < 0.1
    assert contacts.shape == (len(motion), 2) and contacts[0].all() and contacts[-1].all()
    assert contacts.any(axis=1).all()  # walking: never both feet in the air
    order = _lift_order(contacts)
    assert len(order) >= 5 and all(a != b for a, b in itertools.pairwise(order))
    assert foot_skate_m_s(motion, contacts) < SKATE_BOUND_M_S
    # the walk reaches the requested speed in the middle
    speed = np.linalg.norm(np.diff(motion.transl[:, :2], axis=0), axis=1) * motion.fps
    assert abs(np.median(speed[len(speed) // 3 : 2 * len(speed) // 3]) - 1.2) < 0.1


@pytest.mark.parametrize("speed", [0.8, 1.4])
@pytest.mark.parametrize("shape", ["straight", "arc"])
def test_feet_stay_planted_on_straight_and_curved_paths(shape, speed):
    path = np.array([[0.0, 0.0], [0.0, -5.0]]) if shape == "straight" else _arc(3.0, math.pi / 2)
    motion, contacts = walk_along(path, speed=speed)
    _check_motion(motion)
    assert foot_skate_m_s(motion, contacts) < SKATE_BOUND_M_S
    assert np.linalg.norm(motion.transl[-1, :2] - path[-1]) < 0.1


def test_l_shaped_path_turns_the_body_by_ninety_degrees():
    path = np.array([[0.0, 0.0], [0.0, -3.0], [3.0, -3.0]])
    motion, contacts = walk_along(path, speed=1.0)
    yaw = np.unwrap(heading_yaw(motion.global_orient))
    assert abs(math.degrees(yaw[-1] - yaw[0]) - 90.0) < 5.0
    assert foot_skate_m_s(motion, contacts) < SKATE_BOUND_M_S


def test_start_and_end_yaw_are_reached_by_stepping_turns():
    path = np.array([[0.0, 0.0], [0.0, -2.0]])
    motion, contacts = walk_along(path, speed=1.0, start_yaw=math.pi, end_yaw=math.pi / 2)
    _check_motion(motion)
    yaw = heading_yaw(motion.global_orient)
    assert abs(math.remainder(yaw[0] - math.pi, 2 * math.pi)) < 0.05
    assert abs(math.remainder(yaw[-1] - math.pi / 2, 2 * math.pi)) < 0.05
    assert foot_skate_m_s(motion, contacts) < SKATE_BOUND_M_S


def test_per_point_speeds_betas_fps_and_seeds():
    path = _arc(2.0, math.pi / 2, n=30)
    motion, contacts = walk_along(
        path, speed=np.linspace(0.6, 1.5, 30), fps=60, betas=[1.0, 0.0, 0.5]
    )
    _check_motion(motion)
    assert motion.fps == 60 and motion.betas[0] == 1.0
    assert foot_skate_m_s(motion, contacts) < SKATE_BOUND_M_S
    a, _ = walk_along(path, speed=1.1, rng=3)
    b, _ = walk_along(path, speed=1.1, rng=np.random.default_rng(3))
    assert a == b


# ---------------------------------------------------------------------------- stand, turn
def test_stand_keeps_the_root_still():
    motion = stand(1.0, (1.0, 2.0), 0.5)
    _check_motion(motion)
    assert len(motion) == 31
    assert np.ptp(motion.transl, axis=0).max() == 0.0
    np.testing.assert_allclose(motion.transl[0, :2], [1.0, 2.0])
    np.testing.assert_allclose(heading_yaw(motion.global_orient), 0.5, atol=1e-9)


def test_turn_in_place_steps_round_on_the_spot():
    motion, contacts = turn_in_place((0.5, -1.0), 0.0, math.pi / 2)
    _check_motion(motion)
    np.testing.assert_allclose(motion.transl[:, :2], [[0.5, -1.0]] * len(motion), atol=1e-9)
    assert abs(heading_yaw(motion.global_orient[-1]) - math.pi / 2) < 1e-6
    assert all(len(stance_runs(contacts[:, k])) >= 2 for k in range(2))  # each foot steps
    assert contacts[0].all() and contacts[-1].all()
    assert foot_skate_m_s(motion, contacts) < SKATE_BOUND_M_S


# ---------------------------------------------------------------------------- the metric
def test_foot_skate_is_the_planted_feet_speed():
    sk = Skeleton.builtin()
    still = stand(1.0, (0.0, 0.0), 0.0)
    both = np.ones((len(still), 2), bool)
    assert foot_skate_m_s(still, both, sk) == 0.0
    t = np.arange(len(still)) / still.fps
    sliding = Motion(
        still.fps,
        still.transl + np.c_[0.5 * t, 0 * t, 0 * t],
        still.global_orient,
        still.body_pose,
        still.betas,
    )
    assert foot_skate_m_s(sliding, both, sk) == pytest.approx(0.5)
    assert foot_skate_m_s(sliding, ~both, sk) == 0.0  # nothing planted


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"path_xy": [[0.0, 0.0]]}, "path_xy"),
        ({"path_xy": [[0.0, 0.0], [np.nan, 1.0]]}, "path_xy"),
        ({"path_xy": [0.0, 1.0, 2.0]}, "path_xy"),
        ({"speed": 0.0}, "speed"),
        ({"speed": -1.0}, "speed"),
        ({"speed": float("nan")}, "speed"),
        ({"speed": [1.0, 1.0, 1.0]}, "speed"),
        ({"fps": 0}, "fps"),
        ({"start_yaw": float("nan")}, "start_yaw"),
    ],
)
def test_bad_input_names_the_argument(kwargs, argument):
    call = {"path_xy": [[0.0, 0.0], [0.0, -2.0]], "speed": 1.0} | kwargs
    with pytest.raises(ValueError, match=argument):
        walk_along(call.pop("path_xy"), **call)
