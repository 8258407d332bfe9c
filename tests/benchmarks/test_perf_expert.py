"""perf_expert on one route: the kinematic climb, the penetration figures and the table."""

import numpy as np

from benchmarks.perf_expert import Result, evaluate, table, tasks


def test_one_route_is_climbed_and_measured():
    task = tasks(["train"], 1)[0]
    res = evaluate(task, seed=0, physics=False)
    assert res.error is None, res.error
    assert res.kinematic_success and res.kinematic_progress == 1.0
    assert res.plan_frames > 100 and res.plan_seconds > 0
    assert 0.0 <= res.sunk_keyframes <= 1.0 and 0.0 <= res.sunk_frames < 0.1
    assert 0.0 <= res.max_penetration_m < 0.2
    failed = Result("train", "x", "r9", False, 1.0, 10, False, 0.0, 0.5, 0.5, 0.1)
    lines = table([res, failed], physics=False).splitlines()
    assert lines[0].split()[:3] == ["split", "routes", "kinematic"]
    row = lines[2].split()
    assert row[:3] == ["train", "2", "50.0%"]
    expected_sunk = 100 * np.mean([res.sunk_frames, 0.5])
    assert row[6] == f"{expected_sunk:.1f}%"
