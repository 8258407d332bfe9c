"""navenv.tracks: the ETH/UCY loader, 8 -> 12 windows, baselines, scene grouping, room adapter, CLI."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import scenes
from benchmarks.metrics.forecast import min_ade_k
from navenv.cli import main
from navenv.tracks import (
    FPS,
    FRAME_STEP,
    OBS_LEN,
    PRED_LEN,
    TrackFormatError,
    agents_in_room,
    constant_velocity,
    count_windows,
    flat_room_for,
    group_scenes,
    leave_one_scene_out,
    load_track_dir,
    load_tracks,
    windows,
)
from scenes.validate import first_difference, validate_scene

UCY = Path(__file__).parents[1] / "data" / "ucy"
ZARA01 = UCY / "crowds_zara01.txt"
STEP_M = 0.4  # 1 m/s at 2.5 Hz


def write(path: Path, rows: list[tuple], sep: str = "\t") -> Path:
    """A track file of (frame, ped_id, x, y) rows, written like the published files."""
    path.write_text("".join(sep.join(f"{float(v)!r}" for v in r) + "\n" for r in rows))
    return path


def walker(ped: int, frames, x0: float = 0.0, y: float = 0.0, dx: float = STEP_M) -> list[tuple]:
    """Rows of one pedestrian walking along +x, one step `dx` per frame step."""
    return [(f, ped, x0 + dx * k, y) for k, f in enumerate(frames)]


# --- loader ---------------------------------------------------------------------------------


def test_real_zara01_loads_with_its_frame_step_and_plausible_speeds():
    tf = load_tracks(ZARA01)
    assert tf.name == "crowds_zara01.txt" and tf.scene == "crowds_zara01"
    assert tf.pedestrians == 148 and len(tf.tracks) == 148  # no gaps in zara01
    assert tf.frame_step == FRAME_STEP == 10 and tf.fps == FPS == 2.5
    assert sum(len(t.frames) for t in tf.tracks) == 5153
    for t in tf.tracks:
        assert t.frames.dtype == np.int64 and t.xy.dtype == np.float64
        assert t.xy.shape == (len(t.frames), 2)
        assert np.all(np.diff(t.frames) == tf.frame_step)
    speeds = [np.linalg.norm(np.diff(t.xy, axis=0), axis=1).mean() * tf.fps for t in tf.tracks]
    assert 0.2 < np.mean(speeds) < 2.5
    first = next(t for t in tf.tracks if t.ped_id == 1)
    assert first.frames[0] == 0 and first.xy[0].tolist() == [13.4487205051, 3.93788669527]


def test_fps_is_recorded_and_checked():
    assert load_tracks(ZARA01, fps=25).fps == 25.0
    with pytest.raises(ValueError, match="fps=0"):
        load_tracks(ZARA01, fps=0)


@pytest.mark.parametrize("sep", ["\t", " ", "  \t "])
def test_any_whitespace_separates_columns(tmp_path, sep):
    rows = walker(1, range(0, 50, 10)) + walker(2, range(0, 50, 10), y=1.0)
    ref = load_tracks(write(tmp_path / "tab.txt", rows, "\t"))
    tf = load_tracks(write(tmp_path / "other.txt", rows, sep))
    assert [t.ped_id for t in tf.tracks] == [1, 2]
    for a, b in zip(tf.tracks, ref.tracks):
        np.testing.assert_array_equal(a.frames, b.frames)
        np.testing.assert_array_equal(a.xy, b.xy)


def test_float_ids_comments_and_blank_lines(tmp_path):
    p = tmp_path / "f.txt"
    p.write_text("# frame ped x y\n\n0.0\t1.0\t11.23\t3.74\n   \n10.0\t1.0\t11.5\t3.8\n")
    tf = load_tracks(p)
    (t,) = tf.tracks
    assert t.ped_id == 1 and t.frames.tolist() == [0, 10]
    assert t.xy.tolist() == [[11.23, 3.74], [11.5, 3.8]]


def test_frame_step_is_the_most_common_difference(tmp_path):
    rows = walker(1, range(0, 60, 6)) + walker(2, [0, 6, 12, 100])
    tf = load_tracks(write(tmp_path / "eth_like.txt", rows))
    assert tf.frame_step == 6
    # ped 2 jumps from 12 to 100: two segments
    assert [(t.ped_id, t.frames.tolist()) for t in tf.tracks if t.ped_id == 2] == [
        (2, [0, 6, 12]),
        (2, [100]),
    ]


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("0 1 2.0\n", 1, "expected 4 columns, got 3"),
        ("# header\n\n0 1 2 3\n10 1 2 3 4\n", 4, "expected 4 columns, got 5"),
        ("0 1 2 3\n10 1 abc 3\n", 2, "x 'abc' is not a number"),
        ("0 1 nan 3\n", 1, "x is nan"),
        ("0 1 2 -inf\n", 1, "y is -inf"),
        ("0 1 1 1\n0 1 2 2\n", 2, "frame 0 of pedestrian 1 repeats its frame 0 on line 1"),
        ("10 1 1 1\n10 2 1 1\n0 1 2 2\n", 3, "frame 0 of pedestrian 1 comes after its frame 10"),
        ("10.5 1 1 1\n", 1, "frame 10.5 is not a whole number"),
    ],
)
def test_malformed_rows_name_the_file_and_line(tmp_path, text, line, what):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(TrackFormatError) as e:
        load_tracks(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: line {line}: ") and what in msg and "accepted" in msg
    assert e.value.line == line and e.value.path == str(p)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file_is_an_error(tmp_path, text):
    p = tmp_path / "empty.txt"
    p.write_text(text)
    with pytest.raises(TrackFormatError, match="no data rows") as e:
        load_tracks(p)
    assert str(p) in str(e.value)


def test_load_track_dir_reads_txt_files_sorted(tmp_path):
    write(tmp_path / "b.txt", walker(1, range(0, 30, 10)))
    write(tmp_path / "a.txt", walker(1, range(0, 30, 10)))
    (tmp_path / "notes.md").write_text("not a track file")
    assert [f.name for f in load_track_dir(tmp_path)] == ["a.txt", "b.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no track files"):
        load_track_dir(empty)


# --- windows --------------------------------------------------------------------------------


def test_window_counts_and_first_window_values(tmp_path):
    # ped 1: 25 consecutive steps -> 25 - 20 + 1 = 6 windows; ped 2: 10 steps, a missing frame,
    # then 22 steps -> segments of 10 (no window) and 22 (3 windows)
    frames2 = [*range(0, 100, 10), *range(110, 330, 10)]
    rows = walker(1, range(0, 250, 10)) + walker(2, frames2, y=5.0)
    tf = load_tracks(write(tmp_path / "hand.txt", rows))
    assert [len(t.frames) for t in tf.tracks] == [25, 10, 22]
    w = windows(tf)
    assert len(w) == count_windows(tf) == 9
    assert w.obs.shape == (9, OBS_LEN, 2) and w.fut.shape == (9, PRED_LEN, 2)
    assert w.ped_id.tolist() == [1] * 6 + [2] * 3
    assert w.start_frame.tolist() == [0, 10, 20, 30, 40, 50, 110, 120, 130]
    x = STEP_M * np.arange(20)
    np.testing.assert_allclose(w.obs[0], np.column_stack([x[:8], np.zeros(8)]))
    np.testing.assert_allclose(w.fut[0], np.column_stack([x[8:], np.zeros(12)]))
    # ped 2's first window starts after the gap, at its 11th row
    np.testing.assert_allclose(w.obs[6, 0], [STEP_M * 10, 5.0])
    assert len(windows(tf, stride=2)) == count_windows(tf, stride=2) == 3 + 2


def test_neighbours_nearest_first_then_absent_then_capped(tmp_path):
    frames = range(0, 200, 10)  # 20 steps: one 8 -> 12 window each
    rows = walker(1, frames)
    rows += [(f, 2, 0.4 * k, 3.0) for k, f in enumerate(frames)]  # 3 m away
    rows += [(f, 3, 0.4 * k, -1.0) for k, f in enumerate(frames)]  # 1 m away
    rows += [(f, 4, 0.4 * k, 2.0) for k, f in enumerate(frames)]  # 2 m away
    rows += [(f, 5, 0.4 * k, 0.5) for k, f in enumerate(range(0, 40, 10))]  # gone at frame 40
    rows += [(f, 6, 0.0, 0.2) for f in range(500, 520, 10)]  # never there at the same time
    tf = load_tracks(write(tmp_path / "crowd.txt", rows))
    w = windows(tf)
    (i,) = np.flatnonzero(w.ped_id == 1)
    assert w.neighbours.shape == (len(w), 4, OBS_LEN, 2)
    ys = w.neighbours[i, :, 0, 1]
    assert ys.tolist() == [-1.0, 2.0, 3.0, 0.5]  # ped 3, 4, 2, then 5 (absent at the last step)
    np.testing.assert_allclose(w.neighbours[i, 0, :, 0], STEP_M * np.arange(8))
    assert not np.isnan(w.neighbours[i, 3, :4]).any() and np.isnan(w.neighbours[i, 3, 4:]).all()
    capped = windows(tf, max_neighbours=2)
    (j,) = np.flatnonzero(capped.ped_id == 1)
    assert capped.neighbours.shape[1] == 2
    assert capped.neighbours[j, :, -1, 1].tolist() == [-1.0, 2.0]
    assert windows(tf, max_neighbours=0).neighbours.shape == (len(w), 0, OBS_LEN, 2)


def test_too_short_tracks_give_no_windows(tmp_path):
    tf = load_tracks(write(tmp_path / "short.txt", walker(1, range(0, 190, 10))))
    w = windows(tf)
    assert len(w) == 0 and w.obs.shape == (0, OBS_LEN, 2) and w.neighbours.shape[0] == 0


def test_real_zara01_windows_match_the_standard_count():
    tf = load_tracks(ZARA01)
    w = windows(tf)
    assert len(w) == 2356  # Social GAN's zara1 test set holds 2356 sequences
    assert np.isfinite(w.obs).all() and np.isfinite(w.fut).all()
    assert w.neighbours.shape[1] == 8
    # the nearest neighbour at the last observed step is never further than the second
    d = np.linalg.norm(w.neighbours[:, :, -1] - w.obs[:, None, -1], axis=-1)
    both = ~np.isnan(d[:, :2]).any(axis=1)
    assert both.any() and (d[both, 0] <= d[both, 1]).all()


# --- baselines ------------------------------------------------------------------------------


def test_constant_velocity_is_exact_on_a_straight_line():
    t = np.arange(OBS_LEN + PRED_LEN)
    v = np.array([[0.3, -0.2], [1.1, 0.5]])  # metres per step
    track = np.array([5.0, -2.0]) + t[None, :, None] * v[:, None]  # (2, 20, 2)
    obs, fut = track[:, :OBS_LEN], track[:, OBS_LEN:]
    pred = constant_velocity(obs, PRED_LEN)
    assert pred.shape == (2, PRED_LEN, 2)
    assert min_ade_k(pred[:, None], fut) == pytest.approx(0.0, abs=1e-12)


def test_constant_velocity_on_zara01_is_a_plausible_baseline():
    w = windows(load_tracks(ZARA01))
    ade = min_ade_k(constant_velocity(w.obs, PRED_LEN)[:, None], w.fut)
    assert 0.2 < ade < 1.0  # metres; published constant-velocity ADEs on zara1 are 0.3-0.5


def test_constant_velocity_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"accepted: \(N, T, 2\)"):
        constant_velocity(np.zeros((3, 1, 2)), PRED_LEN)
    with pytest.raises(ValueError, match="pred_len"):
        constant_velocity(np.zeros((3, 8, 2)), 0)


# --- scene grouping -------------------------------------------------------------------------


def test_leave_one_scene_out_groups_univ(tmp_path):
    rows = walker(1, range(0, 30, 10))
    for stem in ("students001", "students003", "crowds_zara01", "my_plaza"):
        write(tmp_path / f"{stem}.txt", rows)
    files = load_track_dir(tmp_path)
    assert {k: [f.scene for f in v] for k, v in group_scenes(files).items()} == {
        "my_plaza": ["my_plaza"],
        "univ": ["students001", "students003"],
        "zara1": ["crowds_zara01"],
    }
    folds = leave_one_scene_out(files)
    assert [f.test_name for f in folds] == ["my_plaza", "univ", "zara1"]
    name, train, test = folds[1]
    assert name == "univ" and [f.scene for f in test] == ["students001", "students003"]
    assert [f.scene for f in train] == ["crowds_zara01", "my_plaza"]
    for fold in folds:
        assert not {f.scene for f in fold.train_files} & {f.scene for f in fold.test_files}
    with pytest.raises(ValueError, match="at least two scenes"):
        leave_one_scene_out([f for f in files if f.scene.startswith("students")])


# --- room adapter ---------------------------------------------------------------------------


def test_flat_room_validates_round_trips_and_holds_every_point(tmp_path):
    tf = load_tracks(ZARA01)
    scene, offset = flat_room_for(tf, margin=1.0)
    validate_scene(scene)
    assert scene.kind == "room" and scene.metadata.source == "tracks:crowds_zara01.txt"
    assert scene.geometry[0].name == "floor" and scene.geometry[0].type == "plane"
    walls = [g for g in scene.geometry if g.name.startswith("wall_")]
    assert len(walls) == 4 and all(g.collision == "none" for g in walls)
    assert [c.name for c in scene.cameras] == ["tripod"]
    reread = scenes.load(scenes.save(scene, tmp_path / "room"))
    assert first_difference(replace(reread, root=None), scene) is None

    grid = scene.walkable
    assert grid.cell == 0.1 and all(set(row) == {"1"} for row in grid.rows)
    xy = np.concatenate([t.xy for t in agents_in_room(tf, offset)])
    np.testing.assert_allclose(xy.min(0) + xy.max(0), 0.0, atol=1e-3)  # centred at the origin
    ix = np.floor((xy[:, 0] - grid.origin[0]) / grid.cell).astype(int)
    iy = np.floor((xy[:, 1] - grid.origin[1]) / grid.cell).astype(int)
    assert (ix >= 0).all() and (iy >= 0).all()
    assert (ix < len(grid.rows[0])).all() and (iy < len(grid.rows)).all()
    # the margin is kept on every side
    assert (xy.min(0) - np.array(grid.origin) >= 1.0 - 1e-9).all()
    np.testing.assert_allclose(
        np.concatenate([t.xy for t in tf.tracks]) - offset, xy
    )  # agents are only shifted


# --- CLI ------------------------------------------------------------------------------------


def test_cli_tracks_info_prints_a_row_per_file_and_a_total(capsys):
    assert main(["tracks", "info", str(UCY)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].split()[:3] == ["file", "scene", "peds"]
    zara = lines[1].split()
    assert zara[:4] == ["crowds_zara01.txt", "zara1", "148", "148"] and "2356" in zara
    assert lines[2].startswith("students003_head.txt") and lines[3].startswith("total")


def test_cli_tracks_info_exits_2_on_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1 2 3\n10 1 2\n")
    assert main(["tracks", "info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("navenv tracks: error: ") and "Traceback" not in err
    assert f"{bad}: line 2: expected 4 columns, got 3" in err
