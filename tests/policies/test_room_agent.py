"""The scripted RoomNav agent: reaches goals in both control modes, reacts to the observer,
chooses goals by its profile, and is multi-modal across seeds from the same start."""

from __future__ import annotations

import numpy as np
import pytest

from navenv.envs.room import RoomNavEnv
from policies.scripted.room import AgentProfile, RoomAgent
from scenes.navigation import GOAL_LABELS


def _episode(env, agent, seed, options=None, steps=900):
    obs, info = env.reset(seed=seed, options=options)
    agent.reset(seed=seed, info=info)
    gaps = []
    for _ in range(steps):
        obs, _, term, trunc, info = env.step(agent.act(obs))
        gaps.append(np.linalg.norm(info["observer_xy"] - info["agent_xy"]))
        if term or trunc:
            break
    return info, np.array(gaps)


def test_kinematic_agent_reaches_its_goals_on_a_room_split():
    env = RoomNavEnv(obs="state", scene_split="rooms_val", width=16, height=16)
    agent = RoomAgent()
    results = [_episode(env, agent, seed)[0] for seed in range(4)]
    assert all(r["is_success"] for r in results), [r["goal_distance"] for r in results]
    assert all(r["reward_fall"] == 0 for r in results)
    # Paths are walked, not teleported: at least the geodesic distance to the approach area.
    for r in results:
        assert r["path_length"] >= r["start_distance"] - 0.35


def test_physics_agent_with_residual_assist_walks_without_nan_or_falling():
    env = RoomNavEnv(
        obs="state",
        control="physics",
        assist="residual",
        scene="rooms_val/001",
        width=16,
        height=16,
    )
    info, _ = _episode(env, RoomAgent(), seed=1, steps=240)
    assert np.isfinite(info["agent_xy"]).all()
    assert info["reward_fall"] == 0
    assert info["path_length"] > 0.5 or info["is_success"]


def test_agent_keeps_its_distance_from_an_observer_standing_in_its_way():
    env = RoomNavEnv(obs="state", scene="rooms_val/000", width=16, height=16)
    base = env.reset(seed=0, options={"observer": "stand"})[1]
    plan = RoomAgent(react=False)
    plan.reset(seed=0, info=base)
    # the observer stands on the agent's own path, halfway along it
    xy = plan._root[:, :2]
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
    middle = xy[int(np.searchsorted(arc, arc[-1] / 2))]
    opts = {"observer": "stand", "observer_at": middle, "goal": base["goal_index"]}
    opts["spawn"] = (*base["agent_xy"], base["agent_yaw"])
    profile = plan.profile
    info, gaps = _episode(env, RoomAgent(profile=profile), 0, opts)
    _, gaps_blind = _episode(env, RoomAgent(profile=profile, react=False), 0, opts)
    assert info["is_success"]
    assert gaps_blind.min() < 0.5  # without reacting it walks right past the observer
    assert gaps.min() > gaps_blind.min() + 0.3  # reacting, it goes round


def test_goal_choice_follows_the_profile_and_mood():
    rng = np.random.default_rng(0)
    p = AgentProfile.draw(rng, mood="evening")
    labels = list(GOAL_LABELS)
    w = p.goal_weights(labels)
    assert w.sum() == pytest.approx(1.0)
    raw = np.array(p.liking)
    # the evening mood triples sofa and bed relative to an unboosted label
    i, j = labels.index("sofa"), labels.index("obstacle")
    assert w[i] / w[j] == pytest.approx(3.0 * raw[i] / raw[j])
    agent = RoomAgent(profile=p)
    agent.rng, agent.profile = np.random.default_rng(1), p
    goals = [(k, lab) for k, lab in enumerate(labels)]
    picks = np.bincount([agent.choose_goal(goals) for _ in range(3000)], minlength=len(labels))
    np.testing.assert_allclose(picks / picks.sum(), w, atol=0.03)
    with pytest.raises(ValueError, match="mood="):
        AgentProfile.draw(rng, mood="midnight")


def test_same_start_different_seeds_choose_different_goals_and_paths():
    env = RoomNavEnv(obs="state", scene="rooms_train/000", width=16, height=16)
    _, info = env.reset(seed=0, options={"observer": "stand"})
    goals = [(g.index, g.region.label) for g in env.world.goals]
    chosen, ends = [], []
    for seed in range(12):
        agent = RoomAgent()
        agent.reset(seed=seed, info=info)
        chosen.append(agent.choose_goal(goals))
        ends.append(agent.target)
    assert len(set(chosen)) >= 2
    assert np.ptp(np.array(ends), axis=0).max() > 0.1


def test_reset_without_room_info_is_an_error():
    with pytest.raises(ValueError, match="reset info"):
        RoomAgent().reset(seed=0, info={})
