"""PPO checkpoints: save an SB3 actor-critic as safetensors, load it as a navenv policy, act."""

import gymnasium as gym
import numpy as np
import pytest

import navenv  # noqa: F401
from navenv.wrappers import RelativePoseAction
from policies.ppo import ENV_KWARGS, PpoPolicy, save_ppo


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, scene):
    """An untrained SB3 MlpPolicy for the state env, saved the way train_ppo.py --ship does."""
    from stable_baselines3 import PPO

    env = RelativePoseAction(gym.make("ClimbRoute-v0", scene=scene, **ENV_KWARGS), scale=0.05)
    model = PPO("MlpPolicy", env, n_steps=64, seed=0, device="cpu", verbose=0)
    path = tmp_path_factory.mktemp("ppo") / "ckpt"
    save_ppo(model.policy, path, {"steps": 0, "scale": 0.05, "split": "train"})
    env.reset(seed=0)
    return path, model, env


def test_loaded_policy_acts_as_the_wrapped_sb3_policy(scene, checkpoint):
    """PpoPolicy in the plain env gives the action SB3 gives through RelativePoseAction."""
    path, model, wrapped = checkpoint
    env = gym.make("ClimbRoute-v0", scene=scene, **ENV_KWARGS)
    policy = PpoPolicy(env, checkpoint=path)
    obs, info = env.reset(seed=1)
    policy.reset(seed=1, info=info)
    wobs, _ = wrapped.reset(seed=1)
    np.testing.assert_array_equal(obs, wobs)
    for _ in range(5):
        rel, _ = model.predict(wobs, deterministic=True)
        want = wrapped.action(rel)
        got = policy.act(obs)
        np.testing.assert_allclose(got, want, atol=1e-5)
        obs, *_ = env.step(got)
        wobs, *_ = wrapped.step(rel)
    env.close()


def test_bad_checkpoints_are_refused(tmp_path, scene, checkpoint):
    with pytest.raises(FileNotFoundError, match="not a PPO checkpoint"):
        PpoPolicy(checkpoint=tmp_path)
    other = gym.make(
        "ClimbRoute-v0", scene=scene, obs="state", control="physics", assist="residual"
    )
    with pytest.raises(ValueError, match="action space"):
        PpoPolicy(other, checkpoint=checkpoint[0])
    with pytest.raises(RuntimeError, match="reset"):
        PpoPolicy(checkpoint=checkpoint[0]).act(np.zeros(216, np.float32))
