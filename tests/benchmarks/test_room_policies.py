"""benchmarks.room_policies: episodes with the observer in the way, and the closest approach."""

from __future__ import annotations

import numpy as np

from benchmarks.room_policies import reset_episode, run_split
from policies.data.room import IN_WAY_M


def test_in_way_episodes_keep_room_spawn_and_goal_and_stand_the_observer_on_the_way():
    from navenv.envs.room import RoomNavEnv

    env = RoomNavEnv(obs="state", scene_split="rooms_val", width=16, height=16)
    placed = 0
    for seed in range(4):
        _, base, in_way = reset_episode(env, seed, 0.0)
        assert not in_way
        _, info, in_way = reset_episode(env, seed, 1.0)
        assert info["scene"].name == base["scene"].name
        assert np.allclose(info["agent_xy"], base["agent_xy"])
        assert info["goal_index"] == base["goal_index"]
        if in_way:  # else the way is too short to stand on
            placed += 1
            assert info["observer_mode"] == "stand"
            gap = np.linalg.norm(info["observer_xy"] - info["agent_xy"])
            assert 1.0 < gap <= IN_WAY_M + 0.1
    assert placed >= 1


def test_run_split_reports_the_closest_approach_to_the_observer():
    r = run_split("rooms_val", "kinematic", 2, "none", "scripted", observer_in_way=1.0)
    assert r["episodes_in_way"] == sum(row["observer_in_way"] for row in r["rows"]) >= 1
    gaps = [row["closest_to_observer_m"] for row in r["rows"]]
    assert np.isfinite(gaps).all() and min(gaps) == r["closest_to_observer_m_min"]
    # the scripted agent steps round an observer standing in its way
    assert all(row["closest_to_observer_m"] > 0.4 for row in r["rows"] if row["observer_in_way"])
