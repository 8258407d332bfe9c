"""MotionPlayer: plays a Motion in RoomNav-v0 frame by frame, holds its last frame, and refuses
what it cannot play."""

from __future__ import annotations

import math

import numpy as np
import pytest

from navenv.body.motion import Motion
from navenv.envs.room import RoomNavEnv
from policies.scripted.gait import MotionLibrary, stand, walk_along
from policies.scripted.room import MotionPlayer


@pytest.fixture(scope="module")
def walk():
    """A kinematic RoomNav-v0 env, its reset info and a short walk from the agent's spawn."""
    env = RoomNavEnv(obs="state", scene="rooms_val/001", width=16, height=16)
    obs, info = env.reset(seed=3)
    fps, (x, y), yaw = 1.0 / info["dt"], info["agent_xy"], float(info["agent_yaw"])
    ahead = np.array([x, y]) + 0.5 * np.array([math.sin(yaw), -math.cos(yaw)])  # rest faces -y
    library = MotionLibrary.default()
    path = np.array([[x, y], ahead])
    motion, _ = walk_along(path, speed=1.0, fps=fps, library=library, start_yaw=yaw, end_yaw=yaw)
    rest = stand(0.2, motion.transl[-1, :2], yaw, fps, library=library)
    return env, obs, info, Motion.concatenate([motion, rest])


def test_kinematic_playback_puts_the_pelvis_on_the_motion_root_and_holds_the_end(walk):
    env, obs, info, motion = walk
    player = MotionPlayer(info)
    assert player.control == "kinematic" and not player.residual
    player.play(motion)
    assert player.motion is motion and player.t == 0 and not player.done
    assert player.root.shape == (len(motion), 7)
    # the root follows the motion's translation (root_qpos adds only the pelvis offset)
    assert np.ptp(player.root[:, :2], axis=0).max() > 0.3
    frames = len(motion) - 1
    for k in range(1, frames + 1):
        obs, *_ = env.step(player.act(obs))
        assert player.t == k
        pelvis = info["obs_layout"].get(obs, "position")
        np.testing.assert_allclose(pelvis, player.root[k, :3], atol=1e-3)
        assert player.done == (k == frames)
    last = player.act(obs)
    for _ in range(3):  # past the end it holds the last frame
        obs, *_ = env.step(player.act(obs))
        assert player.t == frames and player.done
        np.testing.assert_array_equal(player.act(obs), last)
        np.testing.assert_allclose(
            info["obs_layout"].get(obs, "position"), player.root[-1, :3], atol=1e-3
        )


def test_a_new_motion_continues_the_joint_angles_of_the_frame_being_played(walk):
    _, obs, info, motion = walk
    player = MotionPlayer(info)
    player.play(motion)
    for _ in range(10):
        player.act(obs)
    now = player.hinge(player.t).copy()
    player.play(motion.slice(player.t))
    assert player.t == 0 and player._seed is not None
    np.testing.assert_allclose(player.hinge(0), now, atol=1e-6)


def test_bad_info_or_motion_is_a_clear_error(walk):
    _, obs, info, motion = walk
    with pytest.raises(ValueError, match="reset info lacks"):
        MotionPlayer({"dt": 1 / 30})
    with pytest.raises(ValueError, match="reset info dict"):
        MotionPlayer(None)
    with pytest.raises(ValueError, match="dt must be positive"):
        MotionPlayer({**info, "dt": 0.0})
    player = MotionPlayer(info)
    assert player.done
    with pytest.raises(RuntimeError, match="play"):
        player.act(obs)
    with pytest.raises(ValueError, match="resample"):
        player.play(motion.resample(motion.fps / 2))
