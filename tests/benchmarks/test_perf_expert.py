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
    failed = Result(
        "train",
        "x",
        "r9",
        plan_ok=False,
        plan_seconds=1.0,
        plan_frames=10,
        plan_attempts=3,
        kinematic_success=False,
        kinematic_progress=0.5,
        sunk_keyframes=0.5,
        sunk_frames=0.1,
        max_penetration_m=0.01,
    )
    sunk = Result(**{**vars(failed), "kinematic_success": True, "max_penetration_m": 0.03})
    lines = table([res, failed, sunk], physics=False).splitlines()
    assert lines[0].split()[:4] == ["split", "routes", "kinematic", "clean"]
    row = dict(zip(lines[0].split(), lines[2].split(), strict=True))
    assert row["split"] == "train" and row["routes"] == "3"
    assert row["kinematic"] == "66.7%"  # res and sunk climb, failed does not
    clean = res.max_penetration_m <= 0.02
    assert row["clean"] == f"{100 * (clean / 3):.1f}%"  # sunk is deeper than 2 cm
    assert row["sunk_frm"] == f"{100 * np.mean([res.sunk_frames, 0.1, 0.1]):.1f}%"
    assert row["draws"] == f"{np.mean([res.plan_attempts, 3, 3]):.2f}"
