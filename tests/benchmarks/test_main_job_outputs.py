"""The main job refuses room splits, writes strict JSON (null, never NaN) and shows progress
while it films a climb."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks.harness import run_episode
from benchmarks.main_job import SuiteConfig, _film_one_climb, _write_report, make_tasks, run_bench
from benchmarks.scoring import json_ready, markdown_table


def _strict_loads(text: str):
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("split", ["rooms_train", "rooms_test_novel"])
def test_run_bench_refuses_room_splits(tmp_path, split):
    with pytest.raises(ValueError, match="the bench runs climbing splits: train, val, test_iid"):
        run_bench(tmp_path / "out", episodes=1, splits=["train", split], seed=0, workers=1)
    assert not (tmp_path / "out").exists()  # refused before any work


def test_results_json_is_strict_with_null_for_missing_metrics(tmp_path):
    nan = float("nan")
    summary = {
        ("train", "random"): {"episodes": 2, "completion": 0.0, "order": nan, "mpjpe_plan_mm": nan},
        ("train", "scripted_kinematic"): {"episodes": 2, "completion": 1.0, "mpjpe_plan_mm": 0.0},
    }
    cfg = SuiteConfig(splits=("train",), policies=("random", "scripted_kinematic"), episodes=2)
    _write_report(tmp_path, cfg, summary, markdown_table(summary), None, 1.5, 4)
    results = _strict_loads((tmp_path / "results.json").read_text())
    assert results["summary"]["train/random"]["mpjpe_plan_mm"] is None
    assert results["summary"]["train/random"]["order"] is None
    assert results["summary"]["train/scripted_kinematic"]["mpjpe_plan_mm"] == 0.0
    assert results["config"]["splits"] == ["train"]
    assert results["provenance"]["versions"]["mujoco"]
    commit = results["provenance"]["git_commit"]
    assert commit is None or len(commit) == 40
    assert not (tmp_path / "results.json.tmp").exists()
    report = (tmp_path / "report.md").read_text()
    assert "null in results.json" in report


def test_report_has_the_generalisation_view(tmp_path):
    """With train and a novel split, the report tabulates and plots the drop between them."""
    summary = {
        ("train", "p"): {
            "episodes": 2,
            "completion": 1.0,
            "route_progress": 1.0,
            "completion_ci": [1.0, 1.0],
        },
        ("test_novel_holds", "p"): {
            "episodes": 2,
            "completion": 0.5,
            "route_progress": 0.75,
            "completion_ci": [0.0, 1.0],
        },
    }
    cfg = SuiteConfig(splits=("train", "test_novel_holds"), policies=("random",), episodes=2)
    _write_report(tmp_path, cfg, summary, markdown_table(summary), None, 1.0, 4)
    report = (tmp_path / "report.md").read_text()
    assert "| p | +50% / +0.25 |" in report
    assert (tmp_path / "generalisation.png").stat().st_size > 1000
    assert (tmp_path / "summary.png").stat().st_size > 1000


def test_json_ready_converts_numpy_and_non_finite():
    import numpy as np

    value = {"a": np.float32(1.5), "b": (np.int64(3), np.nan, math.inf), "c": np.bool_(True)}
    assert json_ready(value) == {"a": 1.5, "b": [3, None, None], "c": True}
    json.dumps(json_ready(value), allow_nan=False)


def test_filming_shows_progress_per_frame(tmp_path, capsys):
    cfg = SuiteConfig(splits=("train",), policies=("random",), episodes=1, max_steps=12)
    tasks = make_tasks(cfg)
    known = run_episode(tasks[0])
    video = _film_one_climb(cfg, tasks, tmp_path, [known])
    assert video is not None and video.stat().st_size > 0
    assert (tmp_path / "climb_frame.png").stat().st_size > 0
    err = capsys.readouterr().err
    n = known.steps + 1
    assert "filming random on train/" in err and f"{n}/{n}" in err
    assert "writing climb.mp4" in err


def test_run_episode_calls_on_frame_per_recorded_frame():
    from dataclasses import replace

    cfg = SuiteConfig(splits=("train",), policies=("random",), episodes=1, max_steps=5)
    task = replace(make_tasks(cfg)[0], record_frames=True)
    ticks = []
    rec = run_episode(task, render_size=(32, 24), on_frame=lambda: ticks.append(1))
    assert len(ticks) == len(rec.frames) == rec.steps + 1
