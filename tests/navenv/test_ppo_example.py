"""The PPO example learns: mean episode return rises over 20k steps (slow: ~1.5 min)."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_ppo.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_ppo", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_ppo_state_return_rises(tmp_path):
    result = load_example().train(obs="state", steps=20000, n_envs=2, seed=0, out=tmp_path)
    assert result["episodes"] > 50
    assert result["last_mean_return"] > result["first_mean_return"] + 1.0
    assert result["last_mean_length"] > result["first_mean_length"]
    assert (tmp_path / "ppo_climb_state.zip").exists()


def test_ppo_ego_cnn_runs_a_few_updates(tmp_path):
    result = load_example().train(obs="ego", steps=512, n_envs=2, seed=0, out=tmp_path)
    assert result["episodes"] >= 1
    assert (tmp_path / "ppo_climb_ego.zip").exists()
