"""Skeletons: builtin anthropometry and shape basis, and the smplx path on synthetic model files."""

import pickle

import numpy as np
import pytest

from navenv.body import JOINT_INDEX, SMPL_JOINT_NAMES, SMPL_PARENTS, Skeleton, bone_lengths
from navenv.body.smpl_files import (
    SMPL_DIR_ENV,
    SMPLFileError,
    SMPLFileNotFoundError,
    load_model_arrays,
)
from tests.navenv.synthetic_smpl import N_VERTS, N_VERTS_SMPLX, write_synthetic_model


def test_joint_tables():
    assert len(SMPL_JOINT_NAMES) == 24 and SMPL_JOINT_NAMES[0] == "pelvis"
    assert SMPL_JOINT_NAMES[22:] == ("left_hand", "right_hand")
    assert all(p < i for i, p in enumerate(SMPL_PARENTS))


def test_builtin_proportions_and_symmetry():
    s = Skeleton.builtin()
    rest = s.rest_joints
    assert s.stature == pytest.approx(1.70, abs=1e-6)
    assert s.sole_height == pytest.approx(0.0, abs=1e-6)  # soles on the floor at transl = 0
    # left/right mirror images
    for name in SMPL_JOINT_NAMES:
        if name.startswith("left_"):
            l, r = rest[JOINT_INDEX[name]], rest[JOINT_INDEX["right_" + name[5:]]]
            np.testing.assert_allclose(l * [-1, 1, 1], r, atol=1e-12)
    # Winter (2009): shoulder-to-fingertip about 0.44 H, hip-to-sole about 0.53 H
    assert s.arm_length() / s.stature == pytest.approx(0.44, abs=0.02)
    assert s.leg_length() / s.stature == pytest.approx(0.53, abs=0.02)


def test_betas_change_stature_and_limbs_linearly():
    base = Skeleton.builtin()
    tall = Skeleton.builtin([1.0])
    assert tall.stature - base.stature == pytest.approx(0.09, abs=1e-6)
    long_arms = Skeleton.builtin([0, 1.0])
    assert long_arms.bone_length("left_elbow") / base.bone_length("left_elbow") == pytest.approx(
        1.05
    )
    assert long_arms.bone_length("left_knee") == pytest.approx(base.bone_length("left_knee"))
    long_legs = Skeleton.builtin([0, 0, 2.0])
    assert long_legs.bone_length("left_knee") / base.bone_length("left_knee") == pytest.approx(1.08)
    # linear in betas: offsets(a + b) - offsets(0) = (offsets(a) - 0) + (offsets(b) - 0)
    a, b = np.arange(10) * 0.1, -np.ones(10) * 0.3
    lhs = Skeleton.builtin(a + b).offsets - base.offsets
    rhs = (Skeleton.builtin(a).offsets - base.offsets) + (
        Skeleton.builtin(b).offsets - base.offsets
    )
    np.testing.assert_allclose(lhs, rhs, atol=1e-12)
    for beta in (-3.0, 3.0):
        assert (bone_lengths(Skeleton.builtin(np.full(10, beta)).rest_joints) > 0.01).all()


def test_bad_betas():
    with pytest.raises(ValueError, match="betas"):
        Skeleton.builtin([np.nan])
    with pytest.raises(ValueError, match="betas"):
        Skeleton.builtin(np.zeros(11))


@pytest.mark.parametrize(
    "kind, fmt", [("smpl", "npz"), ("smpl", "pkl"), ("smplh", "npz"), ("smplx", "npz")]
)
def test_from_smplx_runs_smplx_on_synthetic_files(tmp_path, kind, fmt):
    path = write_synthetic_model(tmp_path, kind=kind, fmt=fmt)
    s = Skeleton.from_smplx(path)
    # the synthetic model regresses the builtin skeleton's joints (see synthetic_smpl.py)
    np.testing.assert_allclose(s.rest_joints, Skeleton.builtin().rest_joints, atol=1e-5)
    assert (
        s.vertices.shape == (N_VERTS_SMPLX if kind == "smplx" else N_VERTS, 3)
        and s.faces.shape[1] == 3
    )
    np.testing.assert_allclose(s.skin_weights.sum(axis=1), 1.0, atol=1e-6)
    assert s.source.startswith(kind)
    # betas go through smplx's shape blend shapes
    shaped = Skeleton.from_smplx(path, betas=np.full(10, 3.0))
    assert np.abs(shaped.vertices - s.vertices).max() > 1e-3


def test_from_smplx_folder_and_env_var(tmp_path, monkeypatch):
    write_synthetic_model(tmp_path / "smpl", kind="smpl", fmt="npz", gender="FEMALE")
    monkeypatch.setenv(SMPL_DIR_ENV, str(tmp_path))
    s = Skeleton.from_smplx(gender="female")
    assert "SMPL_FEMALE.npz" in s.source


def test_missing_model_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.delenv(SMPL_DIR_ENV, raising=False)
    with pytest.raises(SMPLFileNotFoundError, match=SMPL_DIR_ENV):
        Skeleton.from_smplx()
    with pytest.raises(SMPLFileNotFoundError, match="no neutral model file"):
        Skeleton.from_smplx(tmp_path)


def test_restricted_unpickler_refuses_code(tmp_path):
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    # {"v_template": print("pwned")} written opcode by opcode: pickling a live `print` would
    # record whatever replaced it in this process (Ray swaps in its own once initialised)
    path.write_bytes(b"(dp0\nS'v_template'\np1\ncbuiltins\nprint\np2\n(S'pwned'\ntRs.")
    with pytest.raises(SMPLFileError, match="refused to load builtins.print"):
        load_model_arrays(path)


def test_npz_with_pickled_arrays_is_refused(tmp_path):
    path = tmp_path / "SMPL_NEUTRAL.npz"
    np.savez(path, v_template=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SMPLFileError, match="cannot read"):
        load_model_arrays(path)


def test_chumpy_objects_are_read_as_arrays(tmp_path):
    # the original SMPL release pickles chumpy.Ch objects; emulate one without chumpy installed
    import sys
    import types

    fake = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x

        def __reduce__(self):
            return (Ch, (), {"x": self.x})

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    fake.Ch = Ch
    sys.modules["chumpy"] = types.ModuleType("chumpy")
    sys.modules["chumpy.ch"] = fake
    try:
        from tests.navenv.synthetic_smpl import synthetic_smpl_arrays

        data = synthetic_smpl_arrays()
        data["v_template"] = Ch(data["v_template"])
        path = tmp_path / "SMPL_NEUTRAL.pkl"
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=2)
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]
    arrays = load_model_arrays(path)
    assert np.asarray(arrays["v_template"]).shape == (N_VERTS, 3)
    assert Skeleton.from_smplx(path).vertices.shape == (N_VERTS, 3)
