"""`navenv data generate | info | to-minari` through navenv's argument parser."""

from __future__ import annotations

import re

import pytest

from navenv.cli import build_parser, main
from policies.data import ClimbShards
from policies.data import cli as data_cli
from tests.policies.test_data_standin import PLANNER


def test_generate_then_info(tmp_path, capsys) -> None:
    out = tmp_path / "ds"
    args = build_parser().parse_args(
        [
            "data",
            "generate",
            "--episodes",
            "3",
            "--shard-size",
            "2",
            "--out",
            str(out),
            "--width",
            "16",
            "--height",
            "16",
            "--fps",
            "5",
            "--workers",
            "1",
            "--seed",
            "4",
            "--max-penetration",
            "0.03",
        ]
    )
    args.planner = PLANNER  # navenv.cli has no --planner; the default is the scripted expert
    assert data_cli.run(args) == 0
    printed = capsys.readouterr().out
    assert "generated 3 episodes (75 frames" in printed and "episodes/min/core" in printed
    shards = ClimbShards(out)
    assert len(shards) == 3 and shards.manifest.config["seed"] == 4
    assert shards.manifest.config["max_penetration_m"] == 0.03
    assert shards.manifest.fields["ego_rgb"].shape == (25, 16, 16, 3)  # 5 s at 5 fps

    assert main(["data", "info", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3/3 episodes in 2 shards (complete)" in printed and "2/2 shards OK" in printed
    # the stand-in never reaches the top; a route it sinks into deeper than 3 cm is replaced
    found = re.search(
        r"plans: 0/3 episodes .*; (\d) from a route tried .*; 0 deeper than 0.03 m", printed
    )
    assert found, printed
    tries = shards.columns(["plan_try"])["plan_try"]
    assert int(found.group(1)) == sum(t > 0 for t in tries)


def test_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["data", "info", str(tmp_path)]) == 2
    assert "no manifest" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["data", "generate"])  # --out is required
    args = ["data", "generate", "--out", str(tmp_path / "x"), "--max-penetration", "nan"]
    assert main(args) == 2
    assert "max_penetration_m=nan" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # refused before anything is written


def test_to_minari(tmp_path, capsys, monkeypatch) -> None:
    minari = pytest.importorskip("minari")
    from policies.data import generate
    from tests.policies.test_data_standin import tiny_config

    generate(tiny_config(episodes=2, fps=30.0), tmp_path / "ds", workers=1, progress=False)
    root = tmp_path / "m"
    code = main(
        [
            "data",
            "to-minari",
            str(tmp_path / "ds"),
            "--dataset-id",
            "navenv/t-v0",
            "--minari-root",
            str(root),
        ]
    )
    assert code == 0 and "2 episodes, 120 steps" in capsys.readouterr().out
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    assert minari.load_dataset("navenv/t-v0").total_episodes == 2
