"""Minari export: stored episodes replayed through ClimbRoute-v0, loadable by minari.load_dataset."""

from __future__ import annotations

import numpy as np
import pytest

from navenv.envs.climb.layout import action_layout, obs_layout
from policies.data import ClimbDataset, generate
from policies.data.episode import QPOS_LAYOUT
from tests.policies.test_data_standin import tiny_config

minari = pytest.importorskip("minari")


def test_export_loads_with_minari_and_replays_the_stored_poses(tmp_path, monkeypatch) -> None:
    from policies.data.minari_export import export_minari

    data = tmp_path / "ds"
    cfg = tiny_config(episodes=3, fps=30.0, clip_seconds=1.0, clips_per_plan=3)
    generate(cfg, data, workers=1, progress=False)
    root = tmp_path / "minari"
    export_minari(data, "navenv/climb-test-v0", minari_root=root, progress=False)
    with pytest.raises(ValueError, match="already exists"):
        export_minari(data, "navenv/climb-test-v0", minari_root=root, progress=False)

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    ds = minari.load_dataset("navenv/climb-test-v0")
    assert ds.total_episodes == 3 and ds.total_steps == 3 * 30
    assert ds.spec.env_spec.kwargs == {
        "scene_split": "train",
        "obs": "state",
        "control": "kinematic",
    }
    stored = ClimbDataset(data, fields=["qpos", "scene_name", "route_id", "plan_seed"])
    from navenv.envs.climb.env import ClimbRouteEnv
    from scenes import splits

    for ep, item in zip(ds.iterate_episodes(), stored):
        obs_size, action_size = obs_layout("state").vector.size, action_layout("kinematic").size
        assert ep.observations.shape == (31, obs_size) and ep.actions.shape == (30, action_size)
        assert np.isfinite(ep.observations).all() and ep.truncations[-1]
        assert not ep.terminations.any()  # the stand-in never tops out
        # replaying the recorded actions puts the humanoid in the stored poses
        spec = next(s for s in splits.get("train") if s.name == item["scene_name"])
        env = ClimbRouteEnv(
            scene=spec.build(), route=item["route_id"], obs="state", control="kinematic"
        )
        obs, _ = env.reset(seed=int(item["plan_seed"]))
        np.testing.assert_allclose(obs, ep.observations[0], atol=1e-5)
        idx = env.unwrapped.index
        for k, actions in ((0, ep.actions[:1]), (29, ep.actions[1:])):
            for a in actions:
                env.step(a)
            q = env.unwrapped.data.qpos
            stored = QPOS_LAYOUT.split(item["qpos"][k].numpy())
            np.testing.assert_allclose(q[idx.root_qpos][:3], stored["root_position"], atol=1e-4)
            np.testing.assert_allclose(q[idx.hinge_qpos], stored["hinges"], atol=1e-3)
        env.close()
