"""`navenv bench --ray`: the same episodes as Ray tasks give the same scores (~20 s)."""

from __future__ import annotations

import json

import pytest

from benchmarks.main_job import SuiteConfig, run_suite

ray = pytest.importorskip("ray")


def test_ray_bench_matches_local_workers(tmp_path) -> None:
    cfg = dict(
        splits=("test_novel_holds",),
        policies=("random", "scripted_kinematic"),
        episodes=1,
        max_steps=40,
        video=False,
    )
    run_suite(SuiteConfig(workers=2, **cfg), tmp_path / "local")
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        run_suite(SuiteConfig(ray=True, **cfg), tmp_path / "ray")
    finally:
        ray.shutdown()

    def scores(run: str) -> dict:  # from results.json: NaN is null there, so rows compare
        summary = json.loads((tmp_path / run / "results.json").read_text())["summary"]
        return {
            k: {m: v for m, v in row.items() if not m.startswith("wall_s")}
            for k, row in summary.items()
        }

    assert set(scores("ray")) == {"test_novel_holds/random", "test_novel_holds/scripted_kinematic"}
    assert scores("ray") == scores("local")  # every score but the wall time
    # the filmed episodes ran in this process: their videos are beside the report
    videos = json.loads((tmp_path / "ray" / "results.json").read_text())["videos"]
    assert set(videos) == {"random", "scripted_kinematic"}
    assert all((tmp_path / "ray" / v).stat().st_size > 0 for v in videos.values())
