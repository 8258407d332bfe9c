"""The main job end to end on a tiny suite: episodes run in workers, scores, report files."""

import json

import numpy as np
import pytest

from benchmarks.harness import EpisodeTask, run_episode
from benchmarks.main_job import SuiteConfig, make_tasks, run_suite
from benchmarks.scoring import markdown_table, score_episode, summarise


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    cfg = SuiteConfig(
        splits=("train", "test_novel_holds"),
        policies=("random", "scripted_kinematic"),
        episodes=1,
        max_steps=90,
        workers=2,
    )
    summary = run_suite(cfg, out)
    return out, summary


def test_report_files_and_table(report):
    out, summary = report
    for name in ("report.md", "summary.png", "results.json", "climb.mp4", "climb_frame.png"):
        assert (out / name).stat().st_size > 0, name
    text = (out / "report.md").read_text()
    assert "| train | random |" in text and "| test_novel_holds | scripted_kinematic |" in text
    results = json.loads((out / "results.json").read_text())
    assert (
        set(results["summary"])
        == set(summary)
        == {
            "train/random",
            "train/scripted_kinematic",
            "test_novel_holds/random",
            "test_novel_holds/scripted_kinematic",
        }
    )


def test_each_policy_is_filmed_on_the_novel_split_with_its_plan_as_a_ghost(report):
    import imageio.v3 as iio

    from benchmarks.harness import VIDEO_SIZE
    from navenv.render.overlay import GHOST_RGB

    out, _ = report
    results = json.loads((out / "results.json").read_text())
    assert results["videos"] == {
        "random": "videos/random.mp4",
        "scripted_kinematic": "videos/scripted_kinematic.mp4",
    }
    assert "videos/scripted_kinematic.mp4" in (out / "report.md").read_text()
    expert = iio.imread(out / "videos/scripted_kinematic.mp4")
    assert expert.shape[1:] == (VIDEO_SIZE[1], VIDEO_SIZE[0], 3)
    assert len(expert) == 90 // 2 + 1  # the reset frame and every second of the 90 steps
    # the same scene, route and start: the expert's frame has its plan drawn in the ghost's
    # colour, random's (no plan) has none of it (mp4 is lossy, hence a colour tolerance)
    rand = iio.imread(out / "videos/random.mp4")

    def ghostly(frame):
        return int((np.abs(frame.astype(int) - GHOST_RGB).max(axis=-1) < 60).sum())

    changed = np.abs(expert[0].astype(int) - rand[0]).max(axis=-1) > 40  # the same render else
    assert changed.sum() > 100 and ghostly(expert[0]) > ghostly(rand[0]) + 100


def test_expert_beats_random(report):
    _, summary = report
    for split in ("train", "test_novel_holds"):
        expert, rand = summary[f"{split}/scripted_kinematic"], summary[f"{split}/random"]
        assert expert["route_progress"] > rand["route_progress"]
        assert expert["falls"] == 0.0
        assert expert["mpjpe_plan_mm"] == pytest.approx(
            0.0, abs=1.0
        )  # kinematic replay is the plan


def test_tasks_are_seeded_and_shared_across_policies():
    cfg = SuiteConfig(
        splits=("train",), policies=("random", "scripted_kinematic"), episodes=2, seed=3
    )
    a, b = make_tasks(cfg), make_tasks(cfg)
    assert a == b
    by_policy = {
        p: [(t.spec.key(), t.route, t.seed) for t in a if t.policy == p] for p in cfg.policies
    }
    assert by_policy["random"] == by_policy["scripted_kinematic"]


def test_episode_records_are_deterministic():
    cfg = SuiteConfig(splits=("train",), policies=("random",), episodes=1, max_steps=40)
    task = make_tasks(cfg)[0]
    r1, r2 = run_episode(task), run_episode(task)
    np.testing.assert_array_equal(r1.grips, r2.grips)
    np.testing.assert_array_equal(r1.joints, r2.joints)
    assert score_episode(r1)["route_progress"] == score_episode(r2)["route_progress"]


def test_bad_suite_config():
    with pytest.raises(ValueError, match="unknown splits"):
        SuiteConfig(splits=("nope",))
    with pytest.raises(ValueError, match="unknown policies"):
        SuiteConfig(policies=("sac",))


def test_table_marks_missing_metrics():
    task = EpisodeTask(
        "random",
        "train",
        make_tasks(SuiteConfig(splits=("train",), policies=("random",), episodes=1))[0].spec,
        "r0",
        0,
        20,
    )
    table = markdown_table(summarise([run_episode(task)]))
    assert table.splitlines()[2].endswith("| - |")  # no plan to compare a random policy with


def test_assist_none_reaches_the_env():
    """A task's assist overrides its policy's env: random actions push the root through the
    residual assist, and with assist="none" the action space has no assist to push."""
    spec = make_tasks(SuiteConfig(splits=("train",), policies=("random",), episodes=1))[0].spec
    helped = run_episode(EpisodeTask("random", "train", spec, "r0", 0, 10, assist="residual"))
    alone = run_episode(EpisodeTask("random", "train", spec, "r0", 0, 10, assist="none"))
    assert helped.mean_assist > 0.0
    assert alone.mean_assist == 0.0
    assert summarise([alone]).keys() == {("train", "random[assist=none]")}


@pytest.mark.slow  # plans the expert three times (~1-5 min on 2 shared cores)
def test_adherence_scores_a_policy_against_the_expert():
    """--adherence: the kinematic expert replays its own plan (0 mm); random actions do not."""
    spec = make_tasks(SuiteConfig(splits=("train",), policies=("random",), episodes=1))[0].spec
    kin = run_episode(EpisodeTask("scripted_kinematic", "train", spec, "r0", 0, 20, adherence=True))
    rnd = run_episode(EpisodeTask("random", "train", spec, "r0", 0, 20, adherence=True))
    assert score_episode(kin)["mpjpe_expert_mm"] < 0.01  # float32 round-off only
    assert score_episode(rnd)["mpjpe_expert_mm"] > 10.0
    assert np.isnan(
        score_episode(run_episode(EpisodeTask("random", "train", spec, "r0", 0, 5)))[
            "mpjpe_expert_mm"
        ]
    )
