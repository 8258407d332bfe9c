"""Checkpoint I/O (policies.pretrained) with the behaviour-cloning method (policies.bc): a tiny
real training run, an exact save/load round trip, and every refusal with its message."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import navenv  # registers ClimbRoute-v0
from policies import CheckpointError, load_pretrained, make_policy, save_pretrained
from policies.bc import BCConfig, BCPolicy
from policies.bc.train import ENV_KWARGS, collect, save, train
from policies.pretrained import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    checkpoint_path,
    list_methods,
    load_config,
    shipped_checkpoints,
)

TINY = BCConfig(hidden_sizes=(32, 32), epochs=15, batch_size=64, routes=1, max_steps=200)


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    """A few hundred expert (obs, action) pairs: one route of the shipped wall."""
    return collect(TINY, progress=False)


@pytest.fixture(scope="module")
def trained(data):
    return train(TINY, data, progress=False)


@pytest.fixture(scope="module")
def saved(trained, tmp_path_factory) -> Path:
    return save(trained, tmp_path_factory.mktemp("ckpt") / "bc", command="pytest")


@pytest.fixture
def ckpt(saved, tmp_path) -> Path:
    """A fresh copy of the good checkpoint, to break."""
    return Path(shutil.copytree(saved, tmp_path / "bc"))


def _config(ckpt: Path) -> dict:
    return json.loads((ckpt / CONFIG_FILE).read_text())


def _write_config(ckpt: Path, meta) -> None:
    (ckpt / CONFIG_FILE).write_text(json.dumps(meta))


class _Trap:
    """Unpickling this would create a file: proves a pickle is never opened."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


# ---------------------------------------------------------------- the method
def test_expert_pairs(data):
    assert data["obs"].shape == (TINY.max_steps, TINY.obs_dim)
    assert data["action"].shape == (TINY.max_steps, TINY.action_dim)
    assert np.isfinite(data["obs"]).all() and np.abs(data["action"]).max() <= 1.0


def test_tiny_training_lowers_the_loss(trained, data):
    assert trained.pairs == len(data["obs"]) and trained.steps == TINY.epochs * 4
    assert trained.losses[-1] < 0.5 * trained.initial_loss
    assert trained.losses[-1] < trained.losses[0]


def test_training_is_seeded(data):
    cfg = BCConfig(**{**vars(TINY), "epochs": 2})
    a, b = train(cfg, data, progress=False), train(cfg, data, progress=False)
    assert a.losses == b.losses
    for k, v in a.policy.state_dict().items():
        assert torch.equal(v, b.policy.state_dict()[k]), k


def test_config_is_validated():
    for bad, match in (
        ({"hidden_sizes": ()}, "hidden_sizes"),
        ({"lr": 0.0}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"activation": "swish"}, "activation"),
        ({"seed": -1}, "seed"),
        ({"scenes": ()}, "scenes"),
    ):
        with pytest.raises(ValueError, match=match):
            BCConfig(**bad)
    assert BCConfig(hidden_sizes=[8, 8]).hidden_sizes == (8, 8)  # JSON lists -> tuples


def test_normaliser_is_in_the_state_dict(trained):
    state = trained.policy.state_dict()
    for name in ("obs_mean", "obs_std", "action_mean", "action_std"):
        assert name in state
    assert not torch.equal(state["obs_mean"], torch.zeros(TINY.obs_dim))


# ---------------------------------------------------------------- round trip
def test_round_trip_gives_identical_actions(trained, saved, data):
    assert sorted(p.name for p in saved.iterdir()) == ["README.md", CONFIG_FILE, WEIGHTS_FILE]
    meta = _config(saved)
    assert meta["method"] == "bc" and meta["format"] == 1
    assert meta["navenv_version"] == navenv.__version__
    assert meta["config"]["hidden_sizes"] == [32, 32]
    card = (saved / "README.md").read_text()
    assert "pytest" in card and f"{trained.pairs} (obs, action) pairs" in card
    loaded = load_pretrained(saved)
    assert isinstance(loaded, BCPolicy) and loaded.config == TINY and not loaded.training
    obs = torch.as_tensor(data["obs"])
    assert torch.equal(loaded.sample({"obs": obs}), trained.policy.sample({"obs": obs}))
    for o in data["obs"][:: len(obs) // 5]:
        np.testing.assert_array_equal(loaded.act(o), trained.policy.act(o))
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_bc_policy_acts_in_the_env_through_the_registry(saved):
    env = gym.make("ClimbRoute-v0", max_episode_steps=20, **ENV_KWARGS)
    policy = make_policy("bc", env, checkpoint=str(saved))
    obs, info = env.reset(seed=0)
    policy.reset(seed=0, info=info)
    for _ in range(5):
        action = policy.act(obs)
        assert action.shape == env.action_space.shape and action.dtype == np.float32
        obs, *_ = env.step(action)
    env.close()
    other = gym.make("ClimbRoute-v0", obs="state", control="kinematic")
    with pytest.raises(ValueError, match="the checkpoint expects"):
        make_policy("bc", other, checkpoint=str(saved))
    other.close()


def test_same_weights_give_the_same_bytes(trained, saved, tmp_path):
    again = save_pretrained(trained.policy, tmp_path / "again", card="x")
    assert (again / WEIGHTS_FILE).read_bytes() == (saved / WEIGHTS_FILE).read_bytes()
    assert (again / CONFIG_FILE).read_bytes() == (saved / CONFIG_FILE).read_bytes()


def test_save_is_atomic_and_refuses_to_clobber(trained, tmp_path):
    target = save_pretrained(trained.policy, tmp_path / "c", card="first")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_pretrained(trained.policy, target, card="second")
    save_pretrained(trained.policy, target, card="second", overwrite=True)
    assert (target / "README.md").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]
    with pytest.raises(ValueError, match="card"):
        save_pretrained(trained.policy, tmp_path / "d", card="")
    assert not (tmp_path / "d").exists()


# ---------------------------------------------------------------- refusals
def test_refuses_a_pickle_file_path(tmp_path):
    marker = tmp_path / "ran"
    for suffix in (".pt", ".pth", ".bin", ".pkl"):
        path = tmp_path / f"model{suffix}"
        path.write_bytes(pickle.dumps(_Trap(marker)))
        with pytest.raises(CheckpointError, match=rf"model\{suffix}: a \{suffix} file is a pickle"):
            load_pretrained(path)
    assert not marker.exists()


def test_refuses_pickle_weights_in_the_directory(ckpt):
    (ckpt / WEIGHTS_FILE).unlink()
    torch.save({"w": torch.zeros(2)}, ckpt / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="pytorch_model.bin: a pickle-based weight file"):
        load_pretrained(ckpt)


def test_refuses_a_zip_named_safetensors(ckpt):
    torch.save({"w": torch.zeros(2)}, ckpt / WEIGHTS_FILE)  # torch.save writes a zip
    with pytest.raises(CheckpointError, match=r"model.safetensors: is a zip archive"):
        load_pretrained(ckpt)


def test_refuses_a_pickle_named_safetensors(ckpt, tmp_path):
    marker = tmp_path / "ran"
    (ckpt / WEIGHTS_FILE).write_bytes(pickle.dumps(_Trap(marker), protocol=4))
    with pytest.raises(CheckpointError, match=r"model.safetensors: is a pickle \(protocol 4\)"):
        load_pretrained(ckpt)
    assert not marker.exists()


def test_refuses_truncated_or_corrupt_weights(ckpt):
    good = (ckpt / WEIGHTS_FILE).read_bytes()
    path = ckpt / WEIGHTS_FILE
    path.write_bytes(good[:-100])
    with pytest.raises(CheckpointError, match="model.safetensors: truncated: tensors need"):
        load_pretrained(ckpt)
    path.write_bytes(good[:5])
    with pytest.raises(CheckpointError, match=r"truncated \(5 bytes\)"):
        load_pretrained(ckpt)
    path.write_bytes(good[:200])
    with pytest.raises(CheckpointError, match="truncated or not safetensors"):
        load_pretrained(ckpt)
    path.write_bytes(struct.pack("<Q", 9) + b"not json!" + good[8:])
    with pytest.raises(CheckpointError, match="corrupt safetensors header"):
        load_pretrained(ckpt)
    path.unlink()
    with pytest.raises(CheckpointError, match="model.safetensors: missing"):
        load_pretrained(ckpt)


def test_refuses_bad_config_json(ckpt):
    meta = _config(ckpt)
    (ckpt / CONFIG_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json: not valid JSON"):
        load_pretrained(ckpt)
    _write_config(ckpt, [1, 2])
    with pytest.raises(CheckpointError, match="expected a JSON object"):
        load_pretrained(ckpt)
    _write_config(ckpt, {"config": meta["config"]})
    with pytest.raises(CheckpointError, match=r"config.json: lacks \['method'\]"):
        load_pretrained(ckpt)
    _write_config(ckpt, {"method": "bc"})
    with pytest.raises(CheckpointError, match=r"lacks \['config'\]"):
        load_pretrained(ckpt)
    _write_config(ckpt, {**meta, "format": 2})
    with pytest.raises(CheckpointError, match="format 2 is not supported"):
        load_pretrained(ckpt)
    (ckpt / CONFIG_FILE).unlink()
    with pytest.raises(CheckpointError, match="config.json: missing"):
        load_pretrained(ckpt)


def test_refuses_unknown_method_and_fields(ckpt):
    meta = _config(ckpt)
    _write_config(ckpt, {**meta, "method": "nope"})
    with pytest.raises(
        CheckpointError, match=r"unknown method 'nope'; registered methods: \[.*'bc'"
    ):
        load_pretrained(ckpt)
    assert "bc" in list_methods()
    _write_config(ckpt, {**meta, "config": {**meta["config"], "depth": 3}})
    with pytest.raises(
        CheckpointError, match=r"config fields \['depth'\] are not fields of BCConfig"
    ):
        load_pretrained(ckpt)
    _write_config(ckpt, {**meta, "config": {**meta["config"], "hidden_sizes": []}})
    with pytest.raises(CheckpointError, match="invalid BCConfig: BCConfig.hidden_sizes"):
        load_pretrained(ckpt)


def test_refuses_weights_that_do_not_fit_the_model(ckpt):
    meta = _config(ckpt)
    _write_config(ckpt, {**meta, "config": {**meta["config"], "hidden_sizes": [16, 32]}})
    with pytest.raises(
        CheckpointError,
        match=r"shape mismatch .*model.net.0.weight: file \(32, 216\) vs model \(16, 216\)",
    ):
        load_pretrained(ckpt)
    _write_config(ckpt, {**meta, "config": {**meta["config"], "hidden_sizes": [32]}})
    with pytest.raises(CheckpointError, match=r"unexpected \['model.net.4.bias'"):
        load_pretrained(ckpt)
    _write_config(ckpt, {**meta, "config": {**meta["config"], "hidden_sizes": [32, 32, 32]}})
    with pytest.raises(CheckpointError, match=r"missing \['model.net.6.bias'"):
        load_pretrained(ckpt)


def test_names_and_missing_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match="'no_such_ckpt': no shipped checkpoint"):
        load_pretrained("no_such_ckpt")
    with pytest.raises(CheckpointError, match="no such checkpoint directory"):
        load_pretrained(tmp_path / "absent")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(CheckpointError, match="is a file"):
        checkpoint_path(tmp_path / "notes.txt")
    monkeypatch.setattr("policies.bc.policy.SHIPPED", "no_such_ckpt")
    with pytest.raises(CheckpointError, match="policy 'bc': no checkpoint given and none shipped"):
        make_policy("bc")


def test_shipped_checkpoint_loads_by_name():
    assert "bc_tiny" in shipped_checkpoints()
    policy = make_policy("bc")  # the shipped one
    assert isinstance(policy, BCPolicy) and policy.config.hidden_sizes == (64, 64)
    assert (checkpoint_path("bc_tiny") / WEIGHTS_FILE).stat().st_size < 1_000_000


@pytest.mark.slow
def test_shipped_checkpoint_reproduces(tmp_path):
    # the command in policies/checkpoints/bc_tiny/README.md, run as library code (~45 s)
    shipped = checkpoint_path("bc_tiny")
    _, config = load_config(shipped)
    out = save(train(config, progress=False), tmp_path / "bc_tiny")
    assert (out / WEIGHTS_FILE).read_bytes() == (shipped / WEIGHTS_FILE).read_bytes()


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)
    assert os.fspath(checkpoint_path(Path("."))) == "."
