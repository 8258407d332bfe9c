"""The --ray path: the same shard tasks as Ray remote functions give the same bytes (~15 s)."""

from __future__ import annotations

import os
import sys

import pytest

from policies.data import generate
from tests.policies.test_data_standin import tiny_config

ray = pytest.importorskip("ray")


def test_ray_generation_matches_local(tmp_path) -> None:
    cfg = tiny_config(episodes=4)
    generate(cfg, tmp_path / "local", workers=1, progress=False)
    # Ray workers import the stand-in planner from tests/: give them this process's sys.path
    env = {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": env})
    try:
        summary = generate(cfg, tmp_path / "ray", use_ray=True, progress=False)
    finally:
        ray.shutdown()
    assert summary.episodes == 4 and summary.workers == 2
    local = {p.name: p.read_bytes() for p in (tmp_path / "local").iterdir()}
    remote = {p.name: p.read_bytes() for p in (tmp_path / "ray").iterdir()}
    assert remote == local
