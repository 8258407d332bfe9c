"""The `navenv` command line: help, scenes subcommands, mocap tracking."""

import json
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from navenv.cli import main


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("demo", "bench", "track", "scenes", "data"):
        assert cmd in out


def test_console_script_entry_point_runs():
    # the installed `navenv` script and `python -m navenv.cli` behave the same
    out = subprocess.run(
        [sys.executable, "-m", "navenv.cli", "scenes", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "wall_vertical_01" in out and "test_novel_geometry" in out


def test_scenes_show_and_render(tmp_path, capsys):
    assert main(["scenes", "show", "wall_vertical_01"]) == 0
    out = capsys.readouterr().out
    assert "climbing_wall" in out and "route r0" in out
    png = tmp_path / "wall.png"
    assert (
        main(
            [
                "scenes",
                "render",
                "wall_vertical_01",
                "--out",
                str(png),
                "--width",
                "160",
                "--height",
                "120",
            ]
        )
        == 0
    )
    image = iio.imread(png)
    assert image.shape == (120, 160, 3) and image.std() > 5


def test_scenes_import_writes_a_loadable_scene(tmp_path, capsys):
    out_dir = tmp_path / "scan"
    assert (
        main(["scenes", "import", "tests/data/meshes/wall_binary.stl", "--out", str(out_dir)]) == 0
    )
    import scenes

    scene = scenes.load(out_dir)
    assert scene.kind == "climbing_wall" and scene.holds


def test_scenes_import_refuses_a_wall_no_env_can_climb(tmp_path, capsys):
    from tests.scenes.gym_fixtures import write_boulder_stl

    stl = write_boulder_stl(tmp_path / "boulder.stl")
    out = tmp_path / "scan"
    assert main(["scenes", "import", str(stl), "--out", str(out), "--holds", "detect"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("navenv scenes import: error: ") and "Traceback" not in err
    assert "no route could be set on the wall" in err and "13.10 m tall at scale 1" in err
    assert "in feet (scale=0.3048)" in err and "--allow-no-routes" in err
    assert not out.exists()
    argv = ["scenes", "import", str(stl), "--out", str(out), "--holds", "detect"]
    assert main([*argv, "--allow-no-routes"]) == 0
    assert main([*argv[:-2], "--holds", "generate", "--scale", "auto"]) == 0
    assert "scaled by 0.3048 (feet" in capsys.readouterr().out


def test_scenes_show_lists_the_sectors_of_a_gym_scan(tmp_path, capsys):
    from tests.scenes.gym_fixtures import write_gym_obj

    obj = write_gym_obj(tmp_path / "gym.obj", n_unused=10)
    out = tmp_path / "gym"
    assert main(["scenes", "import", str(obj), "--out", str(out), "--holds", "generate"]) == 0
    capsys.readouterr()
    assert main(["scenes", "show", str(out)]) == 0
    text = capsys.readouterr().out
    sectors = [line for line in text.splitlines() if line.startswith("sector ")]
    assert len(sectors) == 6 and all("routes: s" in line for line in sectors)
    assert any("overhang, +25.0 deg from vertical, 5.0 m wide x 3.50 m tall" in x for x in sectors)
    assert "route s0r0 " in text and "on sector s0" in text


def test_bad_input_is_one_clear_line(capsys):
    assert main(["scenes", "show", "no_such_scene"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("navenv scenes: error:") and "no_such_scene" in err


def test_track_amc_writes_video_and_summary(tmp_path):
    main(
        [
            "track",
            "tests/data/mocap/02_01.amc",
            "--asf",
            "tests/data/mocap/02.asf",
            "--out",
            str(tmp_path),
        ]
    )
    summary = json.loads((tmp_path / "02_01.json").read_text())
    assert summary["tracking_mpjpe_mm"] < 30 and summary["assist_body_weights"] < 0.25
    frames = iio.imread(tmp_path / "02_01.mp4")
    assert frames.shape[0] == summary["frames"] and frames.shape[-1] == 3
    assert np.std(frames) > 5
