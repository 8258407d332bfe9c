"""navenv.mocap: BVH and ASF/AMC parsing and retargeting onto SMPL-24, on real CMU recordings.

Fixtures in tests/data/mocap (see ATTRIBUTION.md there): CMU 02_01 "walk" (ASF/AMC) and CMU
131_01 "Start Walk Stop" (cgspeed BVH). Malformed files are built here from the real text.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from navenv.body import (
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
    Motion,
    Skeleton,
    bone_lengths,
    forward_kinematics,
)
from navenv.body.rotations import matrix_to_euler_xyz
from navenv.mocap import (
    REQUIRED_JOINTS,
    MocapError,
    RetargetConfig,
    RetargetResult,
    SourceMotion,
    detect_dialect,
    detect_units_to_m,
    load_amc,
    load_bvh,
    parse_asf_amc,
    parse_bvh,
    read_amc,
    read_bvh,
    resolve_mapping,
    retarget,
)
from navenv.mocap.retarget import fit_betas
from navenv.mocap.source import euler_to_matrix

DATA = Path(__file__).resolve().parents[1] / "data" / "mocap"
BVH, ASF, AMC = DATA / "131_01.bvh", DATA / "02.asf", DATA / "02_01.amc"
J = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}
BVH_WALK = slice(540, 700)  # 131_01: stands, dances a little, walks along -y (~4.5-5.8 s), stops


@pytest.fixture(scope="module")
def amc_result() -> RetargetResult:
    return load_amc(ASF, AMC, return_result=True)


@pytest.fixture(scope="module")
def bvh_result() -> RetargetResult:
    return load_bvh(BVH, return_result=True)


@pytest.fixture(scope="module")
def bvh_source() -> SourceMotion:
    return read_bvh(BVH)


@pytest.fixture(scope="module")
def bvh_walk(bvh_source) -> RetargetResult:
    """One second of walking from 131_01, retargeted with the detected dialect."""
    return retarget(bvh_source.frames(540, 600))


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")  # keeps each line's "\r", so numbering is unchanged


def _bvh_error(lines: list[bytes]) -> str:
    with pytest.raises(MocapError) as e:
        parse_bvh(b"\n".join(lines), name="131_01.bvh")
    return str(e.value)


def _amc_error(asf: bytes, amc: bytes) -> str:
    with pytest.raises(MocapError) as e:
        parse_asf_amc(asf, amc, asf_name="02.asf", amc_name="02_01.amc")
    return str(e.value)


def _pelvis_speed(joints: np.ndarray, fps: float) -> np.ndarray:
    return np.linalg.norm(np.diff(joints[:, 0, :2], axis=0), axis=1) * fps


def _facing_cos(motion: Motion, joints: np.ndarray, frames: slice) -> float:
    """Mean cosine between the body's forward (-y of the pelvis) and the pelvis velocity."""
    fwd = -motion.global_orient[frames, :2, 1]
    vel = np.gradient(joints[:, 0, :2], axis=0)[frames]
    cos = np.sum(fwd * vel, 1) / (np.linalg.norm(fwd, axis=1) * np.linalg.norm(vel, axis=1))
    return float(cos.mean())


# ----------------------------------------------------------------------------- parsing: BVH
def test_bvh_parses_the_real_file(bvh_source):
    s = bvh_source
    assert s.num_frames == 994 and s.fps == 120.0 and s.units_to_m is None
    assert s.num_joints == 31 + 7  # 31 joints with channels, 7 end sites
    assert sum(s.end_sites) == 7 and "LeftToe_End" in s.names
    for name in ("Hips", "LeftHip", "Chest2", "LeftCollar", "lowerneck", "RThumb"):
        assert name in s.names
    assert s.names[s.parents[s.index("LeftKnee")]] == "LeftHip"
    np.testing.assert_allclose(s.rest_offsets[s.index("LeftKnee")], [2.49329, -6.85026, 0.0])
    # first data row: "5.2300 16.9002 -33.8986 -5.4029 9.8098 10.4956 ..." (X/Y/Z pos, Z/Y/X rot)
    np.testing.assert_allclose(s.root_translation[0], [5.23, 16.9002, -33.8986])
    expected = Rotation.from_euler("ZYX", [-5.4029, 9.8098, 10.4956], degrees=True).as_matrix()
    np.testing.assert_allclose(s.rotations[0, 0], expected, atol=1e-12)


def test_bvh_line_endings_and_tabs_do_not_matter(bvh_source):
    text = BVH.read_bytes().replace(b"\r\n", b"\n")
    variants = [
        text,
        text.replace(b"\n", b"\r\n"),
        text.replace(b"\n", b"\r"),
        text.replace(b"\t", b"  "),
        b"".join(  # every third line CRLF, every third CR: mixed, whatever git did to the fixture
            line + (b"\r\n", b"\n", b"\r")[k % 3] for k, line in enumerate(text.split(b"\n"))
        ),
    ]
    for data in variants:
        s = parse_bvh(data, name="variant.bvh")
        assert s.names == bvh_source.names
        np.testing.assert_array_equal(s.rotations, bvh_source.rotations)
        np.testing.assert_array_equal(s.root_translation, bvh_source.root_translation)


def test_bvh_channel_orders_subsets_and_position_channels():
    """A hand-written file: odd channel order, a channel subset, a position channel on a child
    joint, braces on the keyword lines; positions checked against scipy's intrinsic Euler."""
    text = (
        "HIERARCHY\nROOT Root {\n OFFSET 0 0 0\n"
        " CHANNELS 6 Yrotation Xposition Zrotation Yposition Xrotation Zposition\n"
        " JOINT Mid {\n  OFFSET 0.5 1 0\n  CHANNELS 2 Yposition Xrotation\n"
        "  End Site {\n   OFFSET 0 2 0\n  }\n }\n}\n"
        "MOTION\nFrames: 2\nFrame Time: 0.04\n"
        "10 1 20 2 30 3 1.5 40\n0 0 0 0 0 0 1 0\n"
    )
    s = parse_bvh(text.encode(), name="tiny.bvh")
    assert s.fps == 25.0 and s.names == ("Root", "Mid", "Mid_End")
    _, pos = s.global_transforms()
    r_root = Rotation.from_euler("YZX", [10, 20, 30], degrees=True).as_matrix()
    r_mid = Rotation.from_euler("X", 40, degrees=True).as_matrix()
    root_t = np.array([1.0, 2.0, 3.0])
    mid = root_t + r_root @ np.array([0.5, 1.5, 0.0])  # Yposition replaces the offset's y
    np.testing.assert_allclose(pos[0, 1], mid, atol=1e-12)
    np.testing.assert_allclose(pos[0, 2], mid + r_root @ r_mid @ [0, 2, 0], atol=1e-12)
    np.testing.assert_allclose(pos[1], [[0, 0, 0], [0.5, 1, 0], [0.5, 3, 0]], atol=1e-12)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("wrong_count", "131_01.bvh:300: expected 96 numbers, got 95"),
        ("truncated", "131_01.bvh:600: expected 96 numbers, got"),
        ("fewer_frames", "declares 994 frames but the MOTION block has 993 rows"),
        ("extra_frame", "declares 994 frames but the MOTION block has 995 rows"),
        ("non_numeric", "131_01.bvh:400: non-numeric or non-finite value"),
        ("nan", "131_01.bvh:401: non-numeric or non-finite value"),
        ("no_hierarchy", "131_01.bvh:1: expected 'HIERARCHY'"),
        ("no_motion", "no MOTION block"),
        ("bad_channel", "131_01.bvh:5: unknown channel 'Wrotation'"),
        ("bad_offset", "131_01.bvh:12: OFFSET of 'LeftHip': expected a number, got 'x'"),
        ("missing_brace", "131_01.bvh:184: unexpected end of HIERARCHY"),
        ("bad_frames", "131_01.bvh:186: 'Frames:' needs a number"),
        ("zero_frames", "131_01.bvh:186: Frames: must be a positive integer"),
        ("bad_frame_time", "131_01.bvh:187: 'Frame Time:' needs a number"),
    ],
)
def test_bvh_malformed_files_name_file_and_line(edit, expected):
    lines = _lines(BVH)  # index k is line k + 1
    if edit == "wrong_count":
        lines[299] = b" ".join(lines[299].split()[:-1]) + b"\r"
    elif edit == "truncated":
        lines = [*lines[:599], lines[599][:100]]
    elif edit == "fewer_frames":
        lines = lines[:-2]  # the file ends with a newline: drop the last row and the empty tail
    elif edit == "extra_frame":
        lines = [*lines[:-1], lines[-2], b""]
    elif edit == "non_numeric":
        lines[399] = lines[399].replace(b"0.0000", b"abc", 1)
    elif edit == "nan":
        lines[400] = lines[400].replace(b"0.0000", b"nan", 1)
    elif edit == "no_hierarchy":
        lines = lines[1:]
    elif edit == "no_motion":
        lines = lines[:184]
    elif edit == "bad_channel":
        lines[4] = lines[4].replace(b"Xrotation", b"Wrotation")
    elif edit == "bad_offset":
        lines[11] = lines[11].replace(b"-1.64261", b"x")
    elif edit == "missing_brace":
        lines = [*lines[:183], *lines[184:]]  # drop the ROOT's closing '}' (line 184)
    elif edit == "bad_frames":
        lines[185] = b"Frames: many"
    elif edit == "zero_frames":
        lines[185] = b"Frames: 0"
    elif edit == "bad_frame_time":
        lines[186] = b"Frame Time: fast"
    message = _bvh_error(lines)
    assert expected in message, message


def test_read_bvh_missing_file(tmp_path):
    with pytest.raises(MocapError, match=r"nope\.bvh: cannot read BVH file"):
        read_bvh(tmp_path / "nope.bvh")


# ----------------------------------------------------------------------------- parsing: ASF/AMC
def test_asf_amc_parse_the_real_files():
    s = read_amc(ASF, AMC)
    assert s.num_frames == 343 and s.fps == 120.0
    assert s.units_to_m == pytest.approx(0.056444, rel=1e-4)  # (1 / 0.45) inch
    assert s.names[0] == "root" and "lfemur" in s.names and "ltoes_end" in s.names
    assert s.num_joints == 1 + 30 + 7  # root, 30 bones, 7 leaf tips
    # ltibia starts at lfemur's tip: direction (0.34202 -0.939693 0) x length 7.59371
    np.testing.assert_allclose(
        s.rest_offsets[s.index("ltibia")], 7.59371 * np.array([0.34202, -0.939693, 0]), rtol=1e-5
    )
    np.testing.assert_allclose(s.root_translation[0], [10.4194, 16.7048, -30.1003])
    # ltibia: axis (0 0 20) XYZ, dof rx = 22.3977 deg in frame 1 -> C Rx C^T
    c = Rotation.from_euler("xyz", [0, 0, 20], degrees=True).as_matrix()
    want = c @ Rotation.from_euler("x", 22.3977, degrees=True).as_matrix() @ c.T
    np.testing.assert_allclose(s.rotations[0, s.index("ltibia")], want, atol=1e-12)
    # bones without dof (lhipjoint) do not rotate
    np.testing.assert_array_equal(
        s.rotations[:, s.index("lhipjoint")], np.broadcast_to(np.eye(3), (343, 3, 3))
    )


def test_euler_conventions_match_scipy():
    rng = np.random.default_rng(0)
    angles = rng.uniform(-3, 3, size=(5, 3))
    for axes in ("xyz", "zyx", "yxz"):
        intr = Rotation.from_euler(axes.upper(), angles).as_matrix()
        extr = Rotation.from_euler(axes, angles).as_matrix()
        np.testing.assert_allclose(euler_to_matrix(angles, axes, intrinsic=True), intr, atol=1e-12)
        np.testing.assert_allclose(euler_to_matrix(angles, axes, intrinsic=False), extr, atol=1e-12)


def _amc_line(lines: list[bytes], start: int, prefix: bytes) -> int:
    """Index of the first line at or after ``start`` that begins with ``prefix``."""
    return next(k for k in range(start, len(lines)) if lines[k].startswith(prefix))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("unknown_bone", "02_01.amc:{line}: unknown bone 'lfemurX'"),
        ("count", "02_01.amc:{line}: 'rtibia' expects 1 numbers, got 0"),
        ("non_numeric", "02_01.amc:{line}: expected a finite number, got 'abc'"),
        ("missing_bone", "lacks bones ['head']"),
        ("duplicate_bone", "02_01.amc:{line}: bone 'thorax' given twice"),
        ("frame_gap", "02_01.amc:{line}: frame number 7 follows 5"),
        ("truncated", "frame 343 lacks bones"),
    ],
)
def test_amc_malformed_files_name_file_and_line(edit, expected):
    asf, lines = ASF.read_bytes(), _lines(AMC)
    k = _amc_line(lines, 500, b"lfemur")
    if edit == "unknown_bone":
        lines[k] = lines[k].replace(b"lfemur", b"lfemurX")
    elif edit == "count":
        k = _amc_line(lines, 500, b"rtibia")
        lines[k] = b"rtibia"
    elif edit == "non_numeric":
        k = _amc_line(lines, 500, b"root")
        lines[k] = lines[k].replace(b" ", b" abc ", 1)
        lines[k] = b" ".join(lines[k].split()[:7])
    elif edit == "missing_bone":
        del lines[_amc_line(lines, 500, b"head")]
    elif edit == "duplicate_bone":
        k = _amc_line(lines, 500, b"thorax")
        lines.insert(k + 1, lines[k])
        k += 1
    elif edit == "frame_gap":
        k = lines.index(b"6")
        lines[k] = b"7"
    elif edit == "truncated":
        lines = lines[: _amc_line(lines, len(lines) - 20, b"rfemur")]
    message = _amc_error(asf, b"\n".join(lines))
    assert expected.format(line=k + 1) in message, message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t.replace(b"lhumerus lradius", b"lhumerus lradiusX"),
            "02.asf:{}: :hierarchy names unknown bone 'lradiusX'",
        ),
        (
            lambda t: t.replace(b"length 7.28717", b"lenght 7.28717"),
            "02.asf:{}: bone block needs name, direction and length",
        ),
        (
            lambda t: t.replace(
                b"dof rx\n    limits (-10.0 170.0)", b"dof tx\n    limits (-10.0 170.0)", 1
            ),
            "unsupported bone dof ['tx']",
        ),
        (
            lambda t: t.replace(
                b"direction 0.34202 -0.939693 0  \n", b"direction 0.34202 oops 0\n", 1
            ),
            "02.asf:{}: direction: expected 3 numbers",
        ),
        (
            lambda t: t[: t.index(b"name rfemur")],
            "bone block has no 'end' (file truncated?)",
        ),
        (
            lambda t: t.replace(b"length 0.45", b"length -1"),
            ":units length must be a positive number",
        ),
        (
            lambda t: t.replace(b"    upperneck head\n", b""),
            "bones ['head'] are not reachable from root",
        ),
    ],
)
def test_asf_malformed_files(edit, expected):
    asf = ASF.read_bytes()
    bad = edit(asf)
    assert bad != asf, "the edit did not apply"
    # the line of the first byte that differs
    first = next((i for i, (a, b) in enumerate(zip(asf, bad)) if a != b), len(bad))
    line = asf[:first].count(b"\n") + 1
    if "bone block" in expected:  # reported at the block's 'begin' line
        line = asf[:first].rfind(b"begin")
        line = asf[:line].count(b"\n") + 1
    message = _amc_error(bad, AMC.read_bytes())
    assert expected.format(line) in message, message


# ----------------------------------------------------------------------------- retargeting
def test_real_clips_retarget_cleanly(amc_result, bvh_result):
    for r, frames, dialect in ((amc_result, 343, "cmu_asf"), (bvh_result, 994, "cgspeed_3dsmax")):
        m = r.motion
        assert isinstance(m, Motion) and len(m) == frames and m.fps == 120.0
        assert r.dialect == dialect and r.units_to_m == pytest.approx(0.0254 / 0.45)
        for a in (m.transl, m.global_orient, m.body_pose, m.betas):
            assert np.isfinite(a).all()
        np.testing.assert_array_equal(m.betas, r.skeleton.betas)
        assert np.all(np.abs(m.betas) <= 3.0)
        joints = forward_kinematics(r.skeleton, m)
        lengths = bone_lengths(joints)  # rigid skeleton: every bone keeps its length
        assert np.abs(lengths - lengths[0]).max() < 1e-9
        np.testing.assert_allclose(
            lengths[0], np.linalg.norm(r.skeleton.offsets[1:], axis=1), atol=1e-9
        )
        # residuals (mm) against the mapped source joints; collars are rotation-only targets
        assert r.residual_mm_mean < 30.0
        targeted = ~np.isnan(r.residual_mm_per_joint)
        assert not targeted[J["left_collar"]] and not targeted[J["right_collar"]]
        assert targeted.sum() >= 20 and np.nanmax(r.residual_mm_per_joint) < 60.0
        assert (
            np.isnan(r.source_joints[:, ~targeted]).all()
            and np.isfinite(r.source_joints[:, targeted]).all()
        )
    # measured: 12.5 mm (02_01) and 18.9 mm (131_01, whose cgspeed conversion lost the thorax bone)
    assert amc_result.residual_mm_mean < 20.0


def test_walk_02_01_is_a_normal_walk(amc_result):
    m = amc_result.motion
    joints = forward_kinematics(amc_result.skeleton, m)
    assert joints[:, 0, 2].std() < 0.03  # pelvis height steady while walking
    assert 0.85 < joints[:, 0, 2].mean() < 1.1
    assert 1.0 < _pelvis_speed(joints, m.fps).mean() < 1.6
    assert _facing_cos(m, joints, slice(None)) > 0.9  # walks forward, i.e. toward -y of the body


def test_start_walk_stop_131_01(bvh_result):
    m = bvh_result.motion
    joints = forward_kinematics(bvh_result.skeleton, m)
    speed = _pelvis_speed(joints, m.fps)
    assert speed.sum() / m.fps > 3.0  # path length (m): covers a few metres
    assert np.linalg.norm(joints[-1, 0, :2] - joints[0, 0, :2]) > 2.0
    assert 0.9 < speed[BVH_WALK].mean() < 1.6  # walking speed in the middle
    assert speed[-120:].mean() < 0.2  # and stands still at the end
    assert joints[BVH_WALK, 0, 2].std() < 0.03
    assert _facing_cos(m, joints, BVH_WALK) > 0.9


def test_knees_bend_the_right_way(amc_result, bvh_result):
    """Knee rotations are flexion about the body's x axis, positive (shin swings back), with no
    twist: wrong facing or wrong rest alignment would show up here."""
    for r, frames in ((amc_result, slice(None)), (bvh_result, BVH_WALK)):
        for knee in ("left_knee", "right_knee"):
            angles = np.rad2deg(matrix_to_euler_xyz(r.motion.body_pose[frames, J[knee] - 1]))
            assert angles[:, 0].min() > -10 and angles[:, 0].max() > 40
            assert np.abs(angles[:, 1:]).max() < 10


def test_feet_reach_the_floor(amc_result, bvh_result):
    for r in (amc_result, bvh_result):
        joints = forward_kinematics(r.skeleton, r.motion)
        sole = r.skeleton.rest_joints[:, 2] - r.skeleton.sole_height
        for side in ("left", "right"):
            feet = [J[f"{side}_ankle"], J[f"{side}_foot"]]
            lowest = (joints[:, feet, 2] - sole[feet]).min()
            assert -1e-9 <= lowest < 0.03  # each foot touches down; none goes through the floor
        # the source's own floor (y = 0) agrees with the fitted feet within a few cm
        assert abs(r.ground_shift_m) < 0.03


def test_ground_false_keeps_source_height_and_fit_is_deterministic(amc_result):
    r = retarget(read_amc(ASF, AMC), ground=False)
    np.testing.assert_array_equal(r.motion.body_pose, amc_result.motion.body_pose)
    np.testing.assert_allclose(
        r.motion.transl + np.array([0, 0, amc_result.ground_shift_m]),
        amc_result.motion.transl,
        atol=1e-12,
    )
    assert r.ground_shift_m == 0.0 and r.residual_mm_mean == pytest.approx(
        amc_result.residual_mm_mean
    )


def test_shape_fit_matches_source_limbs(amc_result):
    src = amc_result.source_joints
    sk = amc_result.skeleton
    for a, b in (
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("left_elbow", "left_wrist"),
    ):
        source_len = np.linalg.norm(src[:, J[a]] - src[:, J[b]], axis=-1).mean()
        assert sk.bone_length(b) == pytest.approx(source_len, rel=0.1)
    plain = retarget(read_amc(ASF, AMC).frames(0, 120), fit_shape=False)
    fitted = retarget(read_amc(ASF, AMC).frames(0, 120))
    assert np.all(plain.motion.betas == 0) and fitted.residual_mm_mean < plain.residual_mm_mean


def test_given_skeleton_and_resampling():
    sk = Skeleton.builtin([0.5])
    m = load_amc(ASF, AMC, skeleton=sk, fps=30.0)  # without return_result: the Motion
    assert isinstance(m, Motion) and np.array_equal(m.betas, sk.betas)
    assert m.fps == 30.0 and len(m) == 86  # 342 / 4 + 1 frames
    r = retarget(read_amc(ASF, AMC).frames(0, 121), skeleton=sk, fps=30.0)
    assert r.skeleton is sk and len(r.motion) == 31 and r.source_joints.shape == (31, 24, 3)
    # resampled targets still follow the resampled motion, about as well as at 120 Hz
    joints = forward_kinematics(sk, r.motion)
    err_mm = 1000 * np.nanmean(np.linalg.norm(joints - r.source_joints, axis=-1))
    assert err_mm == pytest.approx(r.residual_mm_mean, rel=0.1)


def test_source_frame_units_and_rotation_do_not_matter(bvh_source):
    """The same clip in metres, Z-up and turned 30 degrees retargets to the same motion."""
    clip = bvh_source.frames(540, 620)
    base = retarget(clip)
    w = Rotation.from_euler("xz", [90, 30], degrees=True).as_matrix()  # Y-up -> Z-up, turn 30
    moved = clip.transformed(w, 0.0254 / 0.45)  # also converts the numbers to metres
    moved.units_to_m = None  # as a BVH in metres would be read
    r = retarget(moved)
    assert r.units_to_m == 1.0
    j0 = forward_kinematics(base.skeleton, base.motion)
    j1 = forward_kinematics(r.skeleton, r.motion)
    np.testing.assert_allclose(j1, j0, atol=1e-3)
    np.testing.assert_allclose(r.motion.betas, base.motion.betas, atol=1e-6)


def test_fit_betas_reproduces_bone_lengths():
    """Lengths of a builtin skeleton with other betas are matched (betas themselves are not
    unique: stature trades off against the nine segment betas)."""
    pairs = [(j, p) for j, p in enumerate(SMPL_PARENTS) if p >= 0]
    truth = Skeleton.builtin([1.0, -0.8, 1.5, 0.5, -1.0, 0.7, -0.5, 1.0, 0.3, -0.6])
    lengths = np.array([truth.bone_length(SMPL_JOINT_NAMES[j]) for j, _ in pairs])
    fitted = Skeleton.builtin(fit_betas(lengths, pairs))
    got = np.array([fitted.bone_length(SMPL_JOINT_NAMES[j]) for j, _ in pairs])
    np.testing.assert_allclose(got, lengths, rtol=2e-3)
    with pytest.raises(ValueError, match="positive finite lengths"):
        fit_betas(np.zeros(len(pairs)), pairs)


def test_detect_units():
    assert detect_units_to_m(14.2) == pytest.approx(0.0254 / 0.45)  # CMU
    assert detect_units_to_m(0.82) == 1.0
    assert detect_units_to_m(82.0) == 0.01
    assert detect_units_to_m(820.0) == 0.001
    assert detect_units_to_m(32.0) == 0.0254  # inches
    with pytest.raises(MocapError, match="cannot infer units"):
        detect_units_to_m(1e5)


# ----------------------------------------------------------------------------- mappings
def _renamed(names: dict[str, str], prefix: str = "") -> bytes:
    """The real BVH with joints renamed (all at once, so swaps are safe)."""
    text = BVH.read_bytes().decode()
    pattern = re.compile(r"(ROOT|JOINT)(\s+)(\S+)")
    return pattern.sub(lambda m: f"{m[1]}{m[2]}{prefix}{names.get(m[3], m[3])}", text).encode()


def _sides(left: dict[str, str]) -> dict[str, str]:
    out = dict(left)
    for a, b in left.items():
        if a.startswith("Left"):
            out["Right" + a[4:]] = "Right" + b[4:] if b.startswith("Left") else b
    return out


MIXAMO_NAMES = _sides(
    {
        "LeftHip": "LeftUpLeg",
        "LeftKnee": "LeftLeg",
        "LeftAnkle": "LeftFoot",
        "LeftToe": "LeftToeBase",
        "Chest": "Spine",
        "Chest2": "Spine1",
        "lowerneck": "Spine2",
        "LeftCollar": "LeftShoulder",
        "LeftShoulder": "LeftArm",
        "LeftElbow": "LeftForeArm",
        "LeftWrist": "LeftHand",
    }
) | {"LFingers": "LeftHandIndex1", "RFingers": "RightHandIndex1"}
MOTIONBUILDER_NAMES = {k: v for k, v in MIXAMO_NAMES.items() if k != "lowerneck"} | {
    "lowerneck": "Neck",
    "Neck": "Neck1",
    "lowerback": "LowerBack",
}


@pytest.mark.parametrize(
    ("names", "prefix", "dialect"),
    [
        (MIXAMO_NAMES, "", "mixamo"),
        (MIXAMO_NAMES, "mixamorig:", "mixamo"),
        (MOTIONBUILDER_NAMES, "", "cgspeed_motionbuilder"),
    ],
)
def test_dialects_are_detected_and_give_the_same_motion(bvh_walk, names, prefix, dialect):
    clip = parse_bvh(_renamed(names, prefix), name="renamed.bvh")
    assert detect_dialect(clip.names).name == dialect
    r = retarget(clip.frames(540, 600))
    base = bvh_walk
    assert r.dialect == dialect and len(r.mapping) == len(base.mapping)
    np.testing.assert_allclose(r.motion.body_pose, base.motion.body_pose, atol=1e-9)
    np.testing.assert_allclose(r.motion.transl, base.motion.transl, atol=1e-9)


def test_custom_mapping_equals_detected_one(bvh_source, bvh_walk):
    clip = bvh_source.frames(540, 600)
    detected = bvh_walk
    custom = retarget(clip, mapping=dict(detected.mapping))
    assert custom.dialect == "custom" and custom.mapping == detected.mapping
    np.testing.assert_array_equal(custom.motion.body_pose, detected.motion.body_pose)
    # case and namespace do not matter; None leaves an SMPL joint unmapped
    loose = {k: "MY:" + v.upper() for k, v in detected.mapping.items()} | {"left_hand": None}
    mapping, _ = resolve_mapping(clip.names, loose)
    assert mapping["left_knee"] == "LeftKnee" and "left_hand" not in mapping
    # only the required joints: the rest (spine, neck, feet, hands) is placed by the fit alone
    minimal = retarget(clip, mapping={k: detected.mapping[k] for k in REQUIRED_JOINTS})
    targeted = ~np.isnan(minimal.residual_mm_per_joint)
    assert [SMPL_JOINT_NAMES[j] for j in np.flatnonzero(targeted)] == [
        n for n in SMPL_JOINT_NAMES if n in REQUIRED_JOINTS
    ]
    assert minimal.residual_mm_mean < 30.0 and np.isfinite(minimal.motion.body_pose).all()


def test_bad_mappings_raise_clear_errors(bvh_source):
    names = bvh_source.names
    good, _ = resolve_mapping(names)
    with pytest.raises(
        MocapError, match=r"mapping\['left_knee'\] = 'Knee' is not a source joint.*'LeftKnee'"
    ):
        resolve_mapping(names, good | {"left_knee": "Knee"})
    with pytest.raises(MocapError, match=r"\['left_kneecap'\] are not SMPL joints.*'left_knee'"):
        resolve_mapping(names, good | {"left_kneecap": "LeftKnee"})
    with pytest.raises(MocapError, match=r"lacks required SMPL joints \['head'\]"):
        resolve_mapping(names, {k: v for k, v in good.items() if k != "head"})
    anonymous = [f"J{i}" for i in range(len(names))]
    with pytest.raises(MocapError, match=r"match no known dialect.*mapping=.*'J0'"):
        detect_dialect(anonymous)
    with pytest.raises(MocapError, match=r"131_01\.bvh: no source joint named 'Tail'.*'Hips'"):
        bvh_source.index("Tail")


# ----------------------------------------------------------------------------- small pieces
def test_source_motion_validation():
    rot = np.broadcast_to(np.eye(3), (2, 2, 3, 3))
    ok = {
        "names": ("a", "b"),
        "parents": (-1, 0),
        "rest_offsets": np.zeros((2, 3)),
        "rotations": rot,
        "root_translation": np.zeros((2, 3)),
        "fps": 30.0,
    }
    SourceMotion(**ok)
    for bad, match in (
        ({"names": ("a", "a")}, "duplicate joint names"),
        ({"parents": (0, -1)}, "parents"),
        ({"fps": 0.0}, "fps"),
        ({"rotations": 2 * rot}, "frame 0, joint 'a' is not a rotation"),
        ({"root_translation": np.zeros((3, 3))}, "root_translation"),
    ):
        with pytest.raises(MocapError, match=match):
            SourceMotion(**(ok | bad))
    with pytest.raises(MocapError, match="empty"):
        SourceMotion(**ok).frames(5, 9)


def test_retarget_config_validation():
    with pytest.raises(ValueError, match="iterations"):
        RetargetConfig(iterations=-1)
    with pytest.raises(ValueError, match="learning_rate"):
        RetargetConfig(learning_rate=float("nan"))
