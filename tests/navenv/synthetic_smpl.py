"""Synthetic SMPL-format model files for tests (the real ones are licensed and not available).

The arrays have SMPL's names, shapes and dtypes (6890 vertices, 13776 faces, 10 shape and
9 x (J - 1) pose blend shapes) and are valid: each vertex belongs to a blob around one joint placed
at navenv's builtin skeleton (in SMPL's y-up frame), the joint regressor averages each blob,
skinning weights are one-hot per blob, and the blend shapes are small random arrays. So smplx's
real code path runs on them and regresses joints at known positions.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from navenv.body.joints import SMPL_PARENTS
from navenv.body.skeleton import Skeleton
from navenv.body.smpl_files import SMPL_TO_NAVENV

N_VERTS = 6890
N_VERTS_SMPLX = 10475
N_FACES = 13776
SMPLH_FINGERS = 5  # index, middle, pinky, ring, thumb; 3 joints each, per hand


def _joints_and_parents(kind: str) -> tuple[np.ndarray, list[int]]:
    """Rest joints (SMPL frame) and parents for 'smpl' (24), 'smplh' (52) or 'smplx' (55 joints)."""
    joints = Skeleton.builtin().rest_joints @ SMPL_TO_NAVENV  # navenv -> SMPL frame (row vectors)
    if kind == "smpl":
        return joints, list(SMPL_PARENTS)
    body, parents = list(joints[:22]), list(SMPL_PARENTS[:22])
    if kind == "smplx":  # jaw and eyes come before the fingers in SMPL-X
        head = joints[15]
        for offset in ([0.0, -0.05, 0.05], [0.03, 0.04, 0.08], [-0.03, 0.04, 0.08]):
            body.append(head + np.array(offset))
            parents.append(15)
    for wrist, hand in ((20, 22), (21, 23)):
        direction = joints[hand] - joints[wrist]
        for finger in range(SMPLH_FINGERS):
            spread = np.array(
                [0.0, 0.0, 0.012 * (finger - 1)]
            )  # middle finger on the SMPL hand joint
            for k in range(3):
                body.append(joints[hand] + spread + direction * 0.4 * k)
                parents.append(wrist if k == 0 else len(body) - 2)
    return np.asarray(body), parents


def synthetic_smpl_arrays(seed: int = 0, kind: str = "smpl") -> dict:
    """The arrays of a synthetic SMPL ('smpl'), SMPL-H ('smplh') or SMPL-X ('smplx') model."""
    rng = np.random.default_rng(seed)
    joints, parents = _joints_and_parents(kind)
    n = len(joints)
    n_verts = N_VERTS_SMPLX if kind == "smplx" else N_VERTS
    owner = np.arange(n_verts) % n  # vertex -> joint blob
    offsets = rng.normal(0, 0.03, (n_verts, 3))
    blob_verts = [np.flatnonzero(owner == j) for j in range(n)]
    for verts in blob_verts:  # centre each blob exactly on its joint
        offsets[verts] -= offsets[verts].mean(axis=0)
    j_reg = np.zeros((n, n_verts))
    for j, verts in enumerate(blob_verts):
        j_reg[j, verts] = 1.0 / len(verts)
    weights = np.zeros((n_verts, n))
    weights[np.arange(n_verts), owner] = 1.0
    faces = [
        rng.choice(blob_verts[int(rng.integers(n))], size=3, replace=False) for _ in range(N_FACES)
    ]
    kintree = np.array(
        [[4294967295 if p < 0 else p for p in parents], list(range(n))], dtype=np.int64
    )
    data = {
        "v_template": joints[owner] + offsets,
        "J_regressor": j_reg,
        "weights": weights,
        # SMPL-X stores 300 shape then 100 expression components
        "shapedirs": rng.normal(0, 1e-3, (n_verts, 3, 400 if kind == "smplx" else 10)),
        "posedirs": rng.normal(0, 1e-4, (n_verts, 3, 9 * (n - 1))),
        "kintree_table": kintree,
        "f": np.asarray(faces, dtype=np.int64),
    }
    if kind == "smplx":  # facial landmarks smplx's constructor reads
        data["lmk_faces_idx"] = rng.integers(0, N_FACES, 51)
        data["lmk_bary_coords"] = rng.dirichlet(np.ones(3), 51)
    if kind in ("smplh", "smplx"):
        for side in ("l", "r"):
            data[f"hands_components{side}"] = np.linalg.qr(rng.normal(size=(45, 45)))[0]
            data[f"hands_mean{side}"] = np.zeros(45)
    return data


def write_synthetic_model(
    folder: Path, kind: str = "smpl", fmt: str = "npz", gender: str = "NEUTRAL"
) -> Path:
    """Write e.g. SMPL_NEUTRAL.npz / .pkl (sparse regressor, like the real release) into folder."""
    data = synthetic_smpl_arrays(kind=kind)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind.upper()}_{gender}.{fmt}"
    if fmt == "npz":
        np.savez(path, **data)
    else:
        import scipy.sparse

        data["J_regressor"] = scipy.sparse.csc_matrix(data["J_regressor"])
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=2)
    return path
