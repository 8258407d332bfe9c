"""Bench statistics: bootstrap intervals, the generalisation view, run-to-run comparison and the
assist rows, on hand-made numbers."""

import numpy as np
import pytest

from benchmarks.harness import EpisodeTask
from benchmarks.main_job import SuiteConfig, make_tasks
from benchmarks.scoring import bootstrap_ci, compare, generalisation, generalisation_table


def test_bootstrap_ci_brackets_the_mean_and_narrows_with_episodes():
    rng = np.random.default_rng(0)
    few = rng.binomial(1, 0.5, size=10).astype(float)
    many = rng.binomial(1, 0.5, size=400).astype(float)
    lo, hi = bootstrap_ci(few)
    assert lo <= few.mean() <= hi
    lo2, hi2 = bootstrap_ci(many)
    assert lo2 <= many.mean() <= hi2
    assert hi2 - lo2 < 0.5 * (hi - lo)
    # a Bernoulli mean of 400 draws: the normal interval is +-1.96 sqrt(p(1-p)/n) ~ +-0.049
    assert abs((hi2 - lo2) / 2 - 1.96 * np.sqrt(0.25 / 400)) < 0.01


def test_bootstrap_ci_edge_cases():
    assert bootstrap_ci(np.ones(5)) == (1.0, 1.0)
    assert all(np.isnan(bootstrap_ci(np.array([np.nan, np.nan]))))
    lo, hi = bootstrap_ci(np.array([0.0, 1.0, np.nan]))  # NaNs dropped
    assert 0.0 <= lo <= hi <= 1.0
    assert bootstrap_ci(np.arange(10.0), seed=1) == bootstrap_ci(np.arange(10.0), seed=1)
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(np.ones(3), level=1.5)


def test_generalisation_is_train_minus_split():
    summary = {
        ("train", "a"): {"completion": 1.0, "route_progress": 1.0},
        ("test_novel_holds", "a"): {"completion": 0.25, "route_progress": 0.5},
        ("test_novel_holds", "b"): {"completion": 0.5, "route_progress": 0.5},  # no train row
    }
    assert generalisation(summary) == {"a": {"test_novel_holds": 0.75}}
    table = generalisation_table(summary)
    assert "| a | +75% / +0.50 |" in table and "| b |" not in table


def test_compare_prints_changes():
    now = {"train/a": {"completion": 0.75, "falls": 0.0}}
    before = {"train/a": {"completion": 0.5, "falls": None}, "train/b": {"completion": 1.0}}
    out = compare(now, before, ("completion", "falls"))
    assert "| train/a | 0.75 (+0.25) | 0 (new) |" in out
    assert "no split/policy in common" in compare({"x": {}}, before, ("completion",))


def test_assist_both_gives_physics_policies_two_rows():
    cfg = SuiteConfig(
        splits=("train",),
        policies=("scripted_kinematic", "scripted_physics"),
        episodes=1,
        assist=("residual", "none"),
    )
    labels = sorted(t.label for t in make_tasks(cfg))
    assert labels == ["scripted_kinematic", "scripted_physics", "scripted_physics[assist=none]"]
    with pytest.raises(ValueError, match="assist"):
        SuiteConfig(assist=("lots",))
    assert EpisodeTask("p", "train", None, "r0", 0).label == "p"
