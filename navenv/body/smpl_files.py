"""User-supplied SMPL / SMPL-H / SMPL-X model files, read safely and run through smplx.

SMPL files are licensed (https://smpl.is.tue.mpg.de): navenv never ships or downloads them. Point
navenv at yours with the ``model_path`` argument (a file, or a directory holding e.g.
``SMPL_NEUTRAL.pkl`` / ``SMPLH_MALE.npz`` / ``SMPLX_NEUTRAL.npz``, also under ``smpl/``, ``smplh/``,
``smplx/`` subfolders as smplx lays them out) or the ``NAVENV_SMPL_DIR`` environment variable.

Safety: ``.npz`` files are read with ``allow_pickle=False``; ``.pkl`` files go through a restricted
unpickler that only builds numpy arrays/dtypes/scalars, scipy sparse matrices and plain
containers. chumpy objects found in the original SMPL release are read as plain arrays without
importing chumpy. Anything else in a pickle is refused with `SMPLFileError`.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from navenv.body.joints import NUM_JOINTS, SMPL_PARENTS
from navenv.body.rotations import rotation_x

SMPL_DIR_ENV = "NAVENV_SMPL_DIR"
# SMPL canonical frame (y up, facing +z) -> navenv body frame (z up, facing -y)
SMPL_TO_NAVENV = rotation_x(np.pi / 2)

# For SMPL-H / SMPL-X the 24th/25th SMPL joints ("hands") are taken at the base of the middle
# finger, the closest equivalent (SMPL's hand joint sits at the knuckles).
_HAND_JOINT_IN_SMPLH = {22: 25, 23: 40}  # left_middle1, right_middle1 in SMPL-H order
_HAND_JOINT_IN_SMPLX = {22: 28, 23: 43}  # same joints in SMPL-X order (after jaw and eyes)


class SMPLFileError(ValueError):
    """An SMPL model file is missing, unreadable or unsafe; the message says which and why."""


class SMPLFileNotFoundError(SMPLFileError, FileNotFoundError):
    """No SMPL model file where navenv looked."""


# ---------------------------------------------------------------------------- safe loading
class _ChumpyArray:
    """Stands in for chumpy.Ch while unpickling: keeps the array in its state, runs no chumpy."""

    def __init__(self, *args, **kwargs):
        self.x = None

    def __setstate__(self, state):
        self.x = state.get("x") if isinstance(state, dict) else None

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.x, dtype=dtype)


_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("scipy.sparse.csc", "csc_matrix"),
    ("scipy.sparse._csc", "csc_matrix"),
    ("scipy.sparse.csr", "csr_matrix"),
    ("scipy.sparse._csr", "csr_matrix"),
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("builtins", "set"),
    ("builtins", "object"),
    ("copy_reg", "_reconstructor"),
    ("copyreg", "_reconstructor"),
    ("__builtin__", "object"),
    ("_codecs", "encode"),  # protocol-2 pickles store bytes through it; it only encodes strings
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module.startswith("chumpy"):
            return _ChumpyArray
        if (module, name) in _ALLOWED_GLOBALS:
            if module.startswith("scipy"):
                import scipy.sparse

                return getattr(scipy.sparse, name)
            if module in ("copy_reg", "copyreg"):
                import copyreg

                return copyreg._reconstructor
            if module == "_codecs":
                import codecs

                return codecs.encode
            if module in ("builtins", "__builtin__"):
                import builtins

                return getattr(builtins, name)
            import importlib

            try:
                return getattr(importlib.import_module(module), name)
            except ImportError:  # numpy.core vs numpy._core across numpy versions
                alt = (
                    module.replace("numpy.core", "numpy._core")
                    if "numpy.core" in module
                    else module.replace("numpy._core", "numpy.core")
                )
                return getattr(importlib.import_module(alt), name)
        raise pickle.UnpicklingError(
            f"refused to load {module}.{name} (only numpy/scipy data is allowed)"
        )


def _to_plain(value):
    """Arrays for chumpy stand-ins and sparse matrices; leave other values alone."""
    if isinstance(value, _ChumpyArray):
        return np.asarray(value.x)
    if hasattr(value, "toarray") and "scipy.sparse" in type(value).__module__:
        return value
    return value


def load_model_arrays(path: str | os.PathLike) -> dict:
    """The arrays of an SMPL-family model file (.npz or .pkl), read without executing code."""
    path = Path(path)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        elif path.suffix == ".pkl":
            with open(path, "rb") as f:
                raw = _RestrictedUnpickler(io.BytesIO(f.read()), encoding="latin1").load()
            if not isinstance(raw, dict):
                raise SMPLFileError(f"{path}: expected a dict of arrays, got {type(raw).__name__}")
            data = {k: _to_plain(v) for k, v in raw.items()}
        else:
            raise SMPLFileError(f"{path}: unknown extension {path.suffix!r}; expected .npz or .pkl")
    except SMPLFileError:
        raise
    except pickle.UnpicklingError as e:
        raise SMPLFileError(f"{path}: unsafe or corrupt pickle: {e}") from e
    except (OSError, ValueError, EOFError, KeyError, AttributeError, TypeError) as e:
        raise SMPLFileError(f"{path}: cannot read model file ({type(e).__name__}: {e})") from e
    for key in (
        "v_template",
        "J_regressor",
        "kintree_table",
        "weights",
        "shapedirs",
        "posedirs",
        "f",
    ):
        if key not in data:
            raise SMPLFileError(
                f"{path}: missing array {key!r}; is this an SMPL-family model file?"
            )
    return data


def resolve_model_path(model_path=None, gender: str = "neutral") -> Path:
    """The model file to use: the argument (file or folder) or $NAVENV_SMPL_DIR, else a clear error."""
    gender = gender.lower()
    if gender not in ("neutral", "male", "female"):
        raise SMPLFileError(f"gender: expected 'neutral', 'male' or 'female', got {gender!r}")
    base = model_path if model_path is not None else os.environ.get(SMPL_DIR_ENV)
    where = (
        "Download the SMPL, SMPL-H or SMPL-X model files from https://smpl.is.tue.mpg.de (licence "
        f"required) and pass their path as model_path=..., or set {SMPL_DIR_ENV} to the folder "
        "holding them (e.g. SMPL_NEUTRAL.pkl, SMPLH_NEUTRAL.npz, SMPLX_NEUTRAL.npz). Without them, "
        "use Skeleton.builtin()."
    )
    if base is None:
        raise SMPLFileNotFoundError(
            f"no SMPL model path given and {SMPL_DIR_ENV} is not set. {where}"
        )
    base = Path(base).expanduser()
    if base.is_file():
        return base
    if base.is_dir():
        names = [
            f"{kind}_{gender.upper()}.{ext}"
            for kind in ("SMPL", "SMPLH", "SMPLX")
            for ext in ("npz", "pkl")
        ]
        for sub in ("", "smpl", "smplh", "smplx"):
            for name in names:
                if (base / sub / name).is_file():
                    return base / sub / name
        raise SMPLFileNotFoundError(
            f"{base}: no {gender} model file in this folder (looked for {names}). {where}"
        )
    raise SMPLFileNotFoundError(f"{base}: no such file or folder. {where}")


# ---------------------------------------------------------------------------- smplx code path
def _model_kind(data: dict) -> str:
    n = int(np.shape(data["J_regressor"])[0])
    return {24: "smpl", 52: "smplh", 55: "smplx"}.get(n, "unknown")


def build_smplx_model(path: Path, data: dict, gender: str, num_betas: int = 10):
    """An smplx body model (SMPL, SMPLH or SMPLX) built from safely loaded arrays."""
    import smplx
    from smplx.utils import Struct

    kind = _model_kind(data)
    with contextlib.redirect_stdout(io.StringIO()):  # smplx prints notes about beta counts
        return _build(smplx, Struct, path, data, gender, num_betas, kind)


def _build(smplx, Struct, path: Path, data: dict, gender: str, num_betas: int, kind: str):
    if kind == "smpl":
        return smplx.SMPL(
            model_path=str(path), data_struct=Struct(**data), gender=gender, num_betas=num_betas
        )
    if kind == "smplh":
        return smplx.SMPLH(
            model_path=str(path),
            data_struct=Struct(**data),
            gender=gender,
            num_betas=num_betas,
            use_pca=False,
        )
    if kind == "smplx":
        # smplx.SMPLX always reads its own file; hand it a sanitised copy holding only plain arrays
        arrays = {
            k: (v.toarray() if hasattr(v, "toarray") else np.asarray(v)) for k, v in data.items()
        }
        arrays = {k: v for k, v in arrays.items() if v.dtype != object}
        with tempfile.TemporaryDirectory() as tmp:
            clean = Path(tmp) / "model.npz"
            np.savez(clean, **arrays)
            return smplx.SMPLX(
                model_path=str(clean), ext="npz", gender=gender, num_betas=num_betas, use_pca=False
            )
    raise SMPLFileError(
        f"{path}: J_regressor has {data['J_regressor'].shape[0]} joints; expected 24 (SMPL), 52 (SMPL-H) or 55 (SMPL-X)"
    )


@dataclass(frozen=True, eq=False)
class SMPLBody:
    """One SMPL-family body at given betas, in navenv's frame (metres, z up)."""

    joints: np.ndarray  # (24, 3) rest joint positions
    betas: np.ndarray  # (10,)
    source: str  # "<kind>:<path>"
    vertices: np.ndarray  # (V, 3) rest mesh
    faces: np.ndarray  # (F, 3) int
    skin_weights: np.ndarray  # (V, 24)


def load_smplx_body(model_path=None, gender: str = "neutral", betas=None) -> SMPLBody:
    """Rest joints and rest mesh of an SMPL-family model for the given betas (through smplx);
    `navenv.body.Skeleton.from_smplx` makes the Skeleton from them."""
    import torch

    path = resolve_model_path(model_path, gender)
    data = load_model_arrays(path)
    kind = _model_kind(data)
    model = build_smplx_model(path, data, gender)
    b = np.zeros(10) if betas is None else np.asarray(betas, dtype=np.float64).reshape(-1)
    nb = model.num_betas
    b_in = np.zeros(nb)
    b_in[: min(nb, b.shape[0])] = b[:nb]
    with torch.no_grad():
        out = model(betas=torch.tensor(b_in[None], dtype=torch.float32), return_verts=True)
    joints_all = out.joints[0].double().numpy()
    verts = out.vertices[0].double().numpy()
    hand_map = {"smpl": {}, "smplh": _HAND_JOINT_IN_SMPLH, "smplx": _HAND_JOINT_IN_SMPLX}[kind]
    idx = [hand_map.get(i, i) for i in range(NUM_JOINTS)]
    joints = joints_all[idx] @ SMPL_TO_NAVENV.T
    weights = np.asarray(data["weights"], dtype=np.float64)
    return SMPLBody(
        joints=joints,
        betas=np.pad(b[:10], (0, max(0, 10 - b[:10].shape[0]))),
        source=f"{kind}:{path}",
        vertices=verts @ SMPL_TO_NAVENV.T,
        faces=np.asarray(data["f"], dtype=np.int64),
        skin_weights=_weights_to_smpl24(weights, data, kind),
    )


def _weights_to_smpl24(weights: np.ndarray, data: dict, kind: str) -> np.ndarray:
    """(V, 24) skinning weights: extra joints' weights are added to their nearest SMPL-24 ancestor."""
    if kind == "smpl":
        return weights
    parents = np.asarray(data["kintree_table"][0], dtype=np.int64)
    out = np.zeros((weights.shape[0], NUM_JOINTS))
    for j in range(weights.shape[1]):
        k = j
        while k >= 22 and k < len(parents):  # fingers, jaw, eyes -> walk up to a body joint
            k = int(parents[k])
        target = k if k < 22 else SMPL_PARENTS[-1]
        if j >= 22 and target in (20, 21):  # finger weights go to the SMPL hand joint
            target += 2
        out[:, target] += weights[:, j]
    return out
