"""navenv.mocap.cleanup: CMU's leading reference T-pose frame and one-frame spikes in real mocap.

The fixtures are written into tmp_path from the real CMU 131_01 BVH in tests/data/mocap (see
ATTRIBUTION.md there): 300 frames of its dance part (file frames 236-535), with

- a reference frame prepended the way cgspeed's CMU conversions have one: every rotation
  channel 0.0000, the root position channels copied from the next (first real) frame, and
- a one-frame glitch in the middle: +20 degrees on LeftShoulder's Xrotation at clip frame 150,
  which throws the left elbow and hand ~15 m/s away for one frame.

This window is where a zero-rotation frame jumps furthest from the real pose (this conversion's
rest pose has the arms down, so the jump comes from heading and lean): over 100 m/s at the
fingertips, about 95 m/s at the retargeted hands.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from navenv.body import SMPL_JOINT_NAMES, forward_kinematics
from navenv.mocap import (
    REFERENCE_FRAME_MODES,
    MocapError,
    MocapReport,
    RetargetResult,
    SourceMotion,
    Spike,
    clean_source,
    detect_spikes,
    is_reference_frame,
    load_amc,
    load_bvh,
    read_amc,
    read_bvh,
    repair_spike_frames,
)
from navenv.mocap.cleanup import (
    chain_positions,
    joint_speeds,
    rotation_angles,
    slerp_rotations,
    spike_limits,
)
from navenv.mocap.source import axis_rotations

DATA = Path(__file__).resolve().parents[1] / "data" / "mocap"
BVH, ASF, AMC = DATA / "131_01.bvh", DATA / "02.asf", DATA / "02_01.amc"
CMU_UNITS_TO_M = 0.0254 / 0.45  # what navenv infers for 131_01 (see test_mocap.py)
WINDOW = slice(236, 536)
SPIKE_FRAME, SPIKE_JOINT, SPIKE_DEG = 150, "LeftShoulder", 20.0
J = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}
SMPL_HANDS = [J[n] for n in ("left_wrist", "right_wrist", "left_hand", "right_hand")]
FINGERTIPS = ("LFingers_End", "RFingers_End")


# ---- fixtures: real text, edited -------------------------------------------------------------


def _split_bvh() -> tuple[list[bytes], list[bytes], dict[str, tuple[int, list[str]]]]:
    """131_01's hierarchy lines, data rows, and {joint: (first column, channel names)}."""
    raw = BVH.read_bytes().split(b"\n")  # keeps the real file's "\r"s
    at = next(k for k, line in enumerate(raw) if line.strip().upper() == b"MOTION")
    rows = [line for line in raw[at + 3 :] if line.strip()]
    columns, col, name = {}, 0, ""
    for line in raw[:at]:
        tok = line.split()
        if tok and tok[0] in (b"ROOT", b"JOINT"):
            name = tok[1].decode()
        elif tok and tok[0] == b"CHANNELS":
            n = int(tok[1])
            columns[name] = (col, [c.decode() for c in tok[2 : 2 + n]])
            col += n
    return raw[:at], rows, columns


def _write(path: Path, head: list[bytes], rows: list[bytes]) -> Path:
    text = [*head, b"MOTION", b"Frames: %d" % len(rows), b"Frame Time: .0083333", *rows, b""]
    path.write_bytes(b"\n".join(text))
    return path


def _reference_row(row: bytes) -> bytes:
    """A CMU-style reference frame: root position of ``row``, every rotation channel zero."""
    values = row.split()
    return b" ".join(values[:3] + [b"0.0000"] * (len(values) - 3)) + b" \r"


def _with_spike(row: bytes, columns: dict, joint: str, axis: str, degrees: float) -> bytes:
    values = row.split()
    first, names = columns[joint]
    k = first + names.index(f"{axis}rotation")
    values[k] = b"%.4f" % (float(values[k]) + degrees)
    return b" ".join(values) + b" \r"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """clean: the real window; tpose: reference frame + window; glitch: reference + window with
    the spike (the issue's two traits at once)."""
    out = tmp_path_factory.mktemp("mocap_fixes")
    head, rows, columns = _split_bvh()
    clip = rows[WINDOW]
    spiked = list(clip)
    spiked[SPIKE_FRAME] = _with_spike(clip[SPIKE_FRAME], columns, SPIKE_JOINT, "X", SPIKE_DEG)
    return {
        "clean": _write(out / "clean.bvh", head, clip),
        "tpose": _write(out / "tpose.bvh", head, [_reference_row(clip[0]), *clip]),
        "glitch": _write(out / "glitch.bvh", head, [_reference_row(clip[0]), *spiked]),
    }


@pytest.fixture(scope="module")
def loaded(files) -> dict[str, tuple[RetargetResult, MocapReport]]:
    """Each retarget once: the glitch file kept / auto / auto + repair, and the clean window."""
    out = {}
    for key, file, options in (
        ("keep", "glitch", {"reference_frame": "keep"}),
        ("auto", "glitch", {}),
        ("repaired", "glitch", {"repair_spikes": True}),
        ("clean", "clean", {}),
    ):
        report = MocapReport()
        result = load_bvh(files[file], return_result=True, report=report, **options)
        out[key] = (result, report)
    return out


def _hand_speeds(result: RetargetResult) -> np.ndarray:
    """(T-1,) fastest SMPL wrist/hand speed per step of the retargeted motion, m/s."""
    joints = forward_kinematics(result.skeleton, result.motion)
    return joint_speeds(joints[:, SMPL_HANDS], result.motion.fps).max(axis=1)


def _source_m(source: SourceMotion) -> np.ndarray:
    return source.global_transforms()[1] * CMU_UNITS_TO_M


# ---- reference frame ----------------------------------------------------------------------------


def test_auto_drops_the_reference_frame_and_the_absurd_first_step(files, loaded):
    source = read_bvh(files["glitch"])
    tips = [source.index(n) for n in FINGERTIPS]
    first_step = joint_speeds(_source_m(source)[:2, tips], source.fps).max()
    assert first_step > 100.0  # the file's hands leave the reference pose at > 100 m/s

    keep, keep_report = loaded["keep"]
    auto, auto_report = loaded["auto"]
    assert len(keep.motion) == 301 and len(auto.motion) == 300
    assert not keep_report.reference_frame_dropped and keep_report.reference_frame == "keep"
    assert auto_report.reference_frame_dropped and auto_report.reference_frame == "auto"
    assert auto_report.reference_jump_m_s > 100.0
    assert auto.cleanup is auto_report  # the loader's provenance carries the same report
    assert _hand_speeds(keep)[0] > 80.0  # the retargeted hands jump too
    assert _hand_speeds(auto)[0] < 5.0  # walking speed after the drop
    cleaned, _ = clean_source(source)
    # In the file, an ordinary step of this dance (the right fingertip flicks at 7 m/s here).
    assert joint_speeds(_source_m(cleaned)[:2, tips], source.fps).max() < 10.0


def test_auto_gives_exactly_the_clip_without_the_reference_frame(files):
    cleaned, report = clean_source(read_bvh(files["tpose"]))
    clean = read_bvh(files["clean"])
    assert report.reference_frame_dropped and not report.spikes
    np.testing.assert_array_equal(cleaned.rotations, clean.rotations)
    np.testing.assert_array_equal(cleaned.root_translation, clean.root_translation)
    assert any("dropped frame 0" in line for line in report.lines())


def test_drop_always_drops_and_keep_never_does(files):
    clean = read_bvh(files["clean"])
    dropped, report = clean_source(clean, reference_frame="drop")
    assert report.reference_frame_dropped and dropped.num_frames == clean.num_frames - 1
    np.testing.assert_array_equal(dropped.rotations, clean.rotations[1:])
    kept, report = clean_source(read_bvh(files["tpose"]), reference_frame="keep")
    assert not report.reference_frame_dropped and kept.num_frames == 301


def test_unmodified_real_recordings_are_not_altered(files, loaded):
    for source in (read_bvh(BVH), read_amc(ASF, AMC)):
        cleaned, report = clean_source(source)
        assert not report.reference_frame_dropped and report.spikes == [], report.lines()
        assert report.lines()[-1] == "spikes: none"
        np.testing.assert_array_equal(cleaned.rotations, source.rotations)
        np.testing.assert_array_equal(cleaned.root_translation, source.root_translation)
    result, report = loaded["clean"]
    assert len(result.motion) == 300 and not report.reference_frame_dropped and not report.spikes


def test_load_amc_shares_the_cleanup():
    report = MocapReport()
    motion = load_amc(ASF, AMC, report=report, reference_frame="drop")
    assert report.reference_frame_dropped and len(motion) == 342  # 343 frames in 02_01


# ---- spikes -------------------------------------------------------------------------------------


def test_injected_spike_is_reported_with_frame_joint_and_speed(files, loaded):
    _, report = loaded["auto"]
    frames = {s.frame for s in report.spikes}
    joints = {s.joint for s in report.spikes}
    assert frames == {SPIKE_FRAME}  # counted after the dropped reference frame
    assert {"LeftElbow", "LeftWrist"} <= joints
    source = read_bvh(files["glitch"])
    below = {source.names[i] for i in range(source.num_joints) if _descends(source, i, SPIKE_JOINT)}
    assert joints <= below  # only what the shoulder moves
    # The expected speed, from geometry: how far the glitch moved each joint in that frame.
    glitched, clean = _source_m(read_bvh(files["glitch"]))[1:], _source_m(read_bvh(files["clean"]))
    for s in report.spikes:
        i = source.index(s.joint)
        jump = np.linalg.norm(glitched[SPIKE_FRAME, i] - clean[SPIKE_FRAME, i]) * source.fps
        assert s.speed_m_s == pytest.approx(jump, rel=0.15)
        assert s.time_s == pytest.approx(SPIKE_FRAME / 120.0)
    hand = next(s for s in report.spikes if s.joint == "LeftWrist")
    assert 12.0 < hand.speed_m_s < 20.0  # the 15-17 m/s kind of glitch
    lines = "\n".join(report.lines())
    assert f"frame {SPIKE_FRAME}" in lines and "LeftWrist" in lines and "not repaired" in lines
    # With 'keep' the same spike is one frame later.
    assert {s.frame for s in loaded["keep"][1].spikes} == {SPIKE_FRAME + 1}


def _descends(source: SourceMotion, i: int, ancestor: str) -> bool:
    a = source.index(ancestor)
    while i >= 0:
        i = source.parents[i]
        if i == a:
            return True
    return False


def test_repair_removes_the_spike_and_changes_no_other_frame(files, loaded):
    spiked, _ = clean_source(read_bvh(files["glitch"]))
    repaired, report = clean_source(read_bvh(files["glitch"]), repair_spikes=True)
    assert report.repaired == {SPIKE_FRAME: (f"{SPIKE_JOINT} rotation",)}
    changed = np.abs(repaired.rotations - spiked.rotations).max(axis=(2, 3))  # (T, J)
    assert set(np.argwhere(changed > 0)[:, 0]) == {SPIKE_FRAME}
    assert set(np.argwhere(changed > 0)[:, 1]) == {repaired.index(SPIKE_JOINT)}
    np.testing.assert_array_equal(repaired.root_translation, spiked.root_translation)
    # The slerped rotation is within a fraction of a degree of what the performer did.
    truth = read_bvh(files["clean"]).rotations[SPIKE_FRAME, repaired.index(SPIKE_JOINT)]
    got = repaired.rotations[SPIKE_FRAME, repaired.index(SPIKE_JOINT)]
    assert np.degrees(rotation_angles(truth.T @ got)) < 0.5
    assert detect_spikes(_source_m(repaired), repaired.fps, repaired.names) == []
    assert any(
        "repaired frame 150: interpolated LeftShoulder rotation" in x for x in report.lines()
    )

    # Retargeted: the hands' fastest step is back to the recording's own.
    normal = _hand_speeds(loaded["clean"][0]).max()
    assert _hand_speeds(loaded["auto"][0]).max() > 2.0 * normal  # the glitch survives retargeting
    assert _hand_speeds(loaded["repaired"][0]).max() == pytest.approx(normal, rel=0.1)
    assert loaded["repaired"][1].repaired == report.repaired


# ---- pure functions on hand-made arrays ---------------------------------------------------------


def _still_and_moving(t: int = 100, fps: float = 100.0) -> np.ndarray:
    """(t, 2, 3): joint 0 walks along x at 1 m/s, joint 1 stands at (0, 1, 0)."""
    p = np.zeros((t, 2, 3))
    p[:, 0, 0] = np.arange(t) / fps
    p[:, 1, 1] = 1.0
    return p


def test_joint_speeds_and_limits():
    v = joint_speeds(_still_and_moving(), 100.0)
    np.testing.assert_allclose(v[:, 0], 1.0)
    np.testing.assert_allclose(v[:, 1], 0.0)
    # No spread: the limit is the 2 m/s floor; a spread raises it to median + 10 sigma.
    np.testing.assert_allclose(spike_limits(v), [2.0, 2.0])
    spread = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])  # median 3, MAD 1
    np.testing.assert_allclose(spike_limits(spread), [3.0 + 10 * 1.4826])


def test_detect_spikes_known_answers():
    p = _still_and_moving()
    p[50, 1, 2] += 0.2  # one frame 20 cm off: in and out at 20 m/s, neighbours agree
    p[70:, 1, 0] += 0.2  # a jump that stays: the neighbours disagree, not a spike
    p[85:, 0, 0] += np.arange(15) * 0.09  # speeds up from 1 to 10 m/s and keeps going
    spikes = detect_spikes(p, 100.0, ["walker", "stander"])
    assert spikes == [Spike(50, "stander", pytest.approx(20.0), pytest.approx(0.5))]
    assert detect_spikes(p[:2], 100.0, ["walker", "stander"]) == []
    # The same glitch under the 2 m/s floor is jitter, not a spike.
    q = _still_and_moving()
    q[50, 1, 2] += 0.015
    assert detect_spikes(q, 100.0, ["walker", "stander"]) == []


def test_is_reference_frame_known_answers():
    t, fps = 50, 100.0
    rot = np.broadcast_to(np.eye(3), (t, 2, 3, 3)).copy()
    rot[1:] = axis_rotations("z", np.full((t - 1, 2), 0.3))
    pos = _still_and_moving(t, fps)
    pos[0, 1] += [0.0, 0.0, 0.5]  # the reference pose is 0.5 m away: 50 m/s, 50x typical
    assert is_reference_frame(rot, pos, fps)
    pos[0, 1, 2] = 0.08  # 8 m/s: still over 5x the walk's 1 m/s and over 5 m/s
    assert is_reference_frame(rot, pos, fps)
    tilted = rot.copy()
    tilted[0, 1] = axis_rotations("x", np.radians(1.0))  # 1 degree is not "zero"
    assert not is_reference_frame(tilted, pos, fps)
    assert not is_reference_frame(rot, _still_and_moving(t, fps), fps)  # a held T-pose: no jump
    small = _still_and_moving(t, fps)
    small[0, 1] += [0.0, 0.0, 0.04]  # 4 m/s: 4x the walk's 1 m/s, under 5x and 5 m/s
    assert not is_reference_frame(rot, small, fps)
    assert not is_reference_frame(rot[:2], pos[:2], fps)


def test_slerp_and_chain_positions():
    r = slerp_rotations(axis_rotations("z", 0.0), axis_rotations("z", np.radians(40.0)))
    np.testing.assert_allclose(r, axis_rotations("z", np.radians(20.0)), atol=1e-12)
    rot = np.broadcast_to(np.eye(3), (1, 3, 3, 3)).copy()
    rot[0, 1] = axis_rotations("z", np.pi / 2)
    p = chain_positions(
        rot, np.zeros((1, 3)), np.array([[0, 0, 0], [1, 0, 0], [1, 0, 0]]), (-1, 0, 1)
    )
    np.testing.assert_allclose(p[0], [[0, 0, 0], [1, 0, 0], [1, 1, 0]], atol=1e-12)


def _arm(t: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...], list[str]]:
    """Root, elbow 1 m along x, hand 1 m further; the elbow turns 0.02 rad per frame about z."""
    rot = np.broadcast_to(np.eye(3), (t, 3, 3, 3)).copy()
    rot[:, 1] = axis_rotations("z", 0.02 * np.arange(t))
    offsets = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    return rot, np.zeros((t, 3)), offsets, (-1, 0, 1), ["root", "elbow", "hand"]


def test_repair_spike_frames_known_answers():
    rot, root, offsets, parents, names = _arm()
    fps = 30.0
    bad = rot.copy()
    bad[10, 1] = axis_rotations("z", 0.02 * 10 + 0.5)  # the elbow glitches for one frame
    spikes = detect_spikes(chain_positions(bad, root, offsets, parents), fps, names)
    assert [(s.frame, s.joint) for s in spikes] == [(10, "hand")]
    fixed, fixed_root, done = repair_spike_frames(bad, root, offsets, parents, names, spikes)
    assert done == {10: ("elbow rotation",)}
    np.testing.assert_allclose(fixed, rot, atol=1e-12)  # slerp of a steady turn is exact
    np.testing.assert_array_equal(fixed_root, root)
    assert bad[10, 1, 0, 1] != fixed[10, 1, 0, 1]  # the input was not modified in place

    moved = root.copy()
    moved[20] += [0.0, 0.0, 0.3]  # the root translation glitches: everything spikes
    spikes = detect_spikes(chain_positions(rot, moved, offsets, parents), fps, names)
    assert {s.frame for s in spikes} == {20} and {s.joint for s in spikes} == set(names)
    fixed, fixed_root, done = repair_spike_frames(rot, moved, offsets, parents, names, spikes)
    assert done == {20: ("root translation",)}
    np.testing.assert_allclose(fixed_root, root, atol=1e-12)
    np.testing.assert_array_equal(fixed, rot)


def test_report_lines():
    report = MocapReport(
        source="x.bvh",
        reference_frame_dropped=True,
        reference_jump_m_s=96.3,
        spikes=[Spike(7, "LeftWrist", 16.04, 7 / 120)],
        repaired={7: ("LeftShoulder rotation",)},
        repair_requested=True,
    )
    assert report.lines() == [
        "x.bvh: reference frame: dropped frame 0 (zero rotations; jump to frame 1 96.3 m/s)",
        "spikes: 1 joint(s) in 1 frame(s)",
        "  frame 7 (0.058 s) LeftWrist: 16.0 m/s",
        "  repaired frame 7: interpolated LeftShoulder rotation",
    ]
    assert MocapReport().lines() == ["reference frame: none detected", "spikes: none"]


# ---- bad arguments and the CLI ------------------------------------------------------------------


def test_bad_arguments_name_the_parameter(files):
    assert REFERENCE_FRAME_MODES == ("auto", "keep", "drop")
    with pytest.raises(
        ValueError, match=r"reference_frame: expected one of 'auto', 'keep', 'drop'"
    ):
        load_bvh(files["clean"], reference_frame="bogus")
    with pytest.raises(ValueError, match="reference_frame.*'bogus'"):
        load_amc(ASF, AMC, reference_frame="bogus")
    with pytest.raises(ValueError, match="repair_spikes: expected True or False, got 'yes'"):
        clean_source(read_bvh(files["clean"]), repair_spikes="yes")
    with pytest.raises(MocapError, match="reference_frame='drop' needs at least 2 frames"):
        clean_source(read_bvh(files["clean"]).frames(0, 1), reference_frame="drop")


def test_track_command_prints_the_spikes(files, monkeypatch, capsys):
    """`navenv track` lists the spikes; the physics and the video are stubbed (test_cli runs
    them for real), so this checks the wiring and the printout."""
    from types import SimpleNamespace

    import benchmarks.mocap_demo as demo
    from navenv.cli import main

    def fake_track(motion, skeleton):
        return SimpleNamespace(mpjpe_mm=1.0, assist_force_mean=0.0, body_weight=1.0, qpos=[])

    monkeypatch.setattr(demo, "track_motion", fake_track)
    monkeypatch.setattr(demo, "render_tracking", lambda tracked, skeleton: [])
    monkeypatch.setattr(demo, "write_mp4", lambda path, frames, fps: path)
    out = files["glitch"].parent / "track"
    out.mkdir(exist_ok=True)
    assert main(["track", str(files["glitch"]), "--out", str(out), "--repair-spikes"]) == 0
    printed = capsys.readouterr().out
    assert "reference frame: dropped frame 0" in printed
    assert f"frame {SPIKE_FRAME} (1.250 s) LeftWrist:" in printed
    assert "repaired frame 150: interpolated LeftShoulder rotation" in printed
    import json

    summary = json.loads((out / "glitch.json").read_text())
    assert summary["reference_frame_dropped"] is True
    assert {s["joint"] for s in summary["spikes"]} >= {"LeftElbow", "LeftWrist"}
    assert summary["spikes_repaired"] == {"150": ["LeftShoulder rotation"]}


def test_cli_reference_frame_choices_match_the_library():
    from navenv.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    track = sub.choices["track"]
    option = next(a for a in track._actions if a.dest == "reference_frame")
    assert tuple(option.choices) == REFERENCE_FRAME_MODES and option.default == "auto"
