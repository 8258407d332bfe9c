"""ClimbRouteBatchEnv: mujoco.batch physics gives exactly the single envs' trajectories."""

import gymnasium as gym
import numpy as np
import pytest

import navenv  # noqa: F401
from navenv.envs.climb.batch import ClimbRouteBatchEnv


def hold(env, noise, rng):
    u = env.unwrapped
    lo, hi = u.index.hinge_range.T
    q = u.data.qpos[u.index.hinge_qpos]
    jitter = rng.normal(0, noise, u.action_layout.field("hinge_targets").shape)
    targets = 2 * (q - lo) / (hi - lo) - 1 + jitter
    a = u.action_layout.join(np.float64, hinge_targets=targets, grips=np.ones(4))
    return np.clip(a, -1, 1).astype(np.float32)


def test_matches_single_envs_step_for_step():
    vec = gym.make_vec(
        "ClimbRoute-v0", num_envs=2, vectorization_mode="vector_entry_point", obs="state"
    )
    assert isinstance(vec, ClimbRouteBatchEnv)
    singles = [gym.make("ClimbRoute-v0", obs="state") for _ in range(2)]
    obs, _ = vec.reset(seed=5)
    for k, env in enumerate(singles):
        o, _ = env.reset(seed=5 + k)
        np.testing.assert_array_equal(obs[k], o)
    rng = np.random.default_rng(0)
    for _ in range(40):
        actions = np.stack([hold(env, 0.02, rng) for env in singles])
        obs, rewards, term, trunc, info = vec.step(actions)
        for k, env in enumerate(singles):
            o, r, te, tr, inf = env.step(actions[k])
            np.testing.assert_array_equal(obs[k], o)
            assert rewards[k] == r and term[k] == te and trunc[k] == tr
            np.testing.assert_array_equal(info["grips"][k], inf["grips"])
        assert not (term.any() or trunc.any())


def test_autoreset_on_the_next_step():
    vec = ClimbRouteBatchEnv(num_envs=2, obs="state")
    vec.reset(seed=0)
    layout = vec.envs[0].action_layout
    fall = np.zeros((2, layout.size), np.float32)
    fall[:, layout["grips"]] = -1.0  # let go of everything
    ended = None
    for _ in range(120):
        _, _, term, trunc, _ = vec.step(fall)
        if term.any() or trunc.any():
            ended = term | trunc
            break
    assert ended is not None
    _, rewards, term, trunc, info = vec.step(fall)
    k = int(np.flatnonzero(ended)[0])
    assert rewards[k] == 0.0 and not term[k]
    assert (info["grips"][k] >= 0).all()  # back in the start stance, gripping


def test_rejects_what_it_cannot_batch():
    with pytest.raises(ValueError, match="one scene"):
        ClimbRouteBatchEnv(num_envs=2, scene_split="train")
    with pytest.raises(ValueError, match="control must be 'physics'"):
        ClimbRouteBatchEnv(num_envs=2, control="kinematic")
