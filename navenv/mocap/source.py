"""`SourceMotion`: a parsed mocap clip on its own skeleton (any joint names, units and axes).

Both file formats (BVH, ASF/AMC) are parsed into this one form, and retargeting reads only it.
Conventions, chosen so that BVH maps onto it directly and ASF/AMC after one change of frame:

- Joints are points; ``parents[i] < i`` (-1 for the root). ``rest_offsets[i]`` is joint i's rest
  position relative to its parent's, in the *parent's* frame (root: its rest position).
- ``rotations[t, i]`` is joint i's local rotation (joint frame -> parent frame), identity at rest,
  so in the rest pose every joint frame is parallel to the world frame.
- World position of joint i: ``p[parent] + G[parent] @ offset[i]`` with ``G[i] = G[parent] @ R[i]``.
- End sites (BVH ``End Site``, ASF bone tips) are joints too, with identity rotations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from navenv.body.rotations import is_rotation


class MocapError(ValueError):
    """A mocap file (or clip) is malformed or unusable; the message names the file and line."""


def axis_rotations(axis: str, angles_rad: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations about one axis ('x', 'y' or 'z') by angles (...,) in radians."""
    a = np.asarray(angles_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones_like(a), np.zeros_like(a)
    rows = {
        "x": ((one, zero, zero), (zero, c, -s), (zero, s, c)),
        "y": ((c, zero, s), (zero, one, zero), (-s, zero, c)),
        "z": ((c, -s, zero), (s, c, zero), (zero, zero, one)),
    }[axis.lower()]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def euler_to_matrix(angles_rad: np.ndarray, axes: str, *, intrinsic: bool) -> np.ndarray:
    """(..., 3, 3) from Euler angles (..., len(axes)) about ``axes`` (e.g. 'zyx'), in radians.

    Intrinsic (BVH): ``R = R[axes[0]] @ R[axes[1]] @ ...``; extrinsic (ASF/AMC, the first axis is
    applied first about the fixed frame): ``R = ... @ R[axes[1]] @ R[axes[0]]``.
    """
    a = np.asarray(angles_rad, dtype=np.float64)
    out = np.broadcast_to(np.eye(3), (*a.shape[:-1], 3, 3)).copy()
    for k, ax in enumerate(axes):
        r = axis_rotations(ax, a[..., k])
        out = out @ r if intrinsic else r @ out
    return out


@dataclass(eq=False)
class SourceMotion:
    """A mocap clip on its source skeleton (see the module docstring for the conventions).

    names: joint names, unique. parents: parent index per joint (-1 for the root, parents first).
    rest_offsets: (J, 3) rest offset of each joint from its parent, source units.
    rotations: (T, J, 3, 3) local rotations, identity in the rest pose.
    root_translation: (T, 3) world position of the root joint, source units.
    fps: frames per second (> 0).
    units_to_m: metres per source unit, or None when the file does not say (BVH).
    translations: optional (T, J, 3) per-frame local offsets replacing rest_offsets (BVH joints
        with position channels); None when every offset is constant.
    end_sites: per joint, whether it is an end site (a point with no channels).
    source: where the clip came from (file names), used in messages.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    rest_offsets: np.ndarray
    rotations: np.ndarray
    root_translation: np.ndarray
    fps: float
    units_to_m: float | None = None
    translations: np.ndarray | None = None
    end_sites: tuple[bool, ...] = ()
    source: str = "<memory>"

    def __post_init__(self) -> None:
        self.names = tuple(str(n) for n in self.names)
        self.parents = tuple(int(p) for p in self.parents)
        j = len(self.names)
        where = f"{self.source}: SourceMotion"
        if j == 0 or len(self.parents) != j:
            raise MocapError(f"{where}: {j} names but {len(self.parents)} parents")
        if len(set(self.names)) != j:
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise MocapError(f"{where}: duplicate joint names {dup}")
        if self.parents[0] != -1 or any(not 0 <= p < i for i, p in enumerate(self.parents) if i):
            raise MocapError(f"{where}: parents must be -1 for joint 0 and precede each joint")
        self.rest_offsets = _finite(self.rest_offsets, (j, 3), f"{where}.rest_offsets")
        self.rotations = _finite(self.rotations, (None, j, 3, 3), f"{where}.rotations")
        t = self.rotations.shape[0]
        if t == 0:
            raise MocapError(f"{where}: no frames")
        ok = is_rotation(self.rotations, tol=1e-4)
        if not ok.all():
            frame, joint = (int(i) for i in np.argwhere(~ok)[0])
            raise MocapError(
                f"{where}.rotations: frame {frame}, joint {self.names[joint]!r} is not a rotation"
            )
        self.root_translation = _finite(self.root_translation, (t, 3), f"{where}.root_translation")
        if self.translations is not None:
            self.translations = _finite(self.translations, (t, j, 3), f"{where}.translations")
        self.end_sites = tuple(bool(e) for e in self.end_sites) or (False,) * j
        if len(self.end_sites) != j:
            raise MocapError(f"{where}: end_sites has {len(self.end_sites)} entries, expected {j}")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MocapError(f"{where}: fps must be positive, got {self.fps!r}")
        self.fps = float(self.fps)
        if self.units_to_m is not None and not (
            np.isfinite(self.units_to_m) and self.units_to_m > 0
        ):
            raise MocapError(f"{where}: units_to_m must be positive, got {self.units_to_m!r}")

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return self.rotations.shape[0]

    @property
    def num_joints(self) -> int:
        """Number of joints J (end sites included)."""
        return len(self.names)

    def index(self, name: str) -> int:
        """Index of a joint by name: exact, else case-insensitive and namespace-free if unique."""
        if name in self.names:
            return self.names.index(name)
        key = normalize_name(name)
        hits = [i for i, n in enumerate(self.names) if normalize_name(n) == key]
        if len(hits) == 1:
            return hits[0]
        raise MocapError(
            f"{self.source}: no source joint named {name!r}; the source joints are {list(self.names)}"
        )

    def rest_positions(self) -> np.ndarray:
        """(J, 3) joint positions in the rest pose, source units (root at its rest offset)."""
        pos = np.zeros((self.num_joints, 3))
        pos[0] = self.rest_offsets[0]
        for i in range(1, self.num_joints):
            pos[i] = pos[self.parents[i]] + self.rest_offsets[i]
        return pos

    def global_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """World rotations (T, J, 3, 3) and positions (T, J, 3) of every joint, source units."""
        t, j = self.num_frames, self.num_joints
        rot = np.empty((t, j, 3, 3))
        pos = np.empty((t, j, 3))
        rot[:, 0] = self.rotations[:, 0]
        pos[:, 0] = self.root_translation
        offsets = self.translations if self.translations is not None else self.rest_offsets[None]
        for i in range(1, j):
            p = self.parents[i]
            rot[:, i] = rot[:, p] @ self.rotations[:, i]
            off = np.broadcast_to(offsets[:, i], (t, 3))
            pos[:, i] = pos[:, p] + np.einsum("tab,tb->ta", rot[:, p], off)
        return rot, pos

    def frames(self, start: int, stop: int | None = None) -> SourceMotion:
        """Frames [start:stop] as a new clip (e.g. to trim a long take before retargeting)."""
        sl = slice(start, stop)
        if len(range(*sl.indices(self.num_frames))) == 0:
            raise MocapError(
                f"{self.source}: frames({start}, {stop}) of {self.num_frames} is empty"
            )
        return dataclasses.replace(
            self,
            rotations=self.rotations[sl],
            root_translation=self.root_translation[sl],
            translations=None if self.translations is None else self.translations[sl],
        )

    def transformed(self, rotation: np.ndarray, scale: float) -> SourceMotion:
        """The same clip in another world frame: ``v_new = scale * rotation @ v`` (units -> metres
        when scale is units_to_m). Local rotations become ``W R W^T`` so the rest pose stays the
        identity and world positions transform rigidly.
        """
        w = np.asarray(rotation, dtype=np.float64)
        if (
            w.shape != (3, 3)
            or not np.allclose(w @ w.T, np.eye(3), atol=1e-9)
            or np.linalg.det(w) < 0
        ):
            raise MocapError(f"transformed: rotation must be a proper (3, 3) rotation, got {w}")
        units = None if self.units_to_m is None else self.units_to_m / scale
        return SourceMotion(
            names=self.names,
            parents=self.parents,
            rest_offsets=scale * self.rest_offsets @ w.T,
            rotations=w @ self.rotations @ w.T,
            root_translation=scale * self.root_translation @ w.T,
            fps=self.fps,
            units_to_m=units,
            translations=None if self.translations is None else scale * self.translations @ w.T,
            end_sites=self.end_sites,
            source=self.source,
        )


def split_lines(data: bytes) -> list[str]:
    """Text lines of a file with any mix of CRLF / LF / CR endings (line i is number i + 1)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # never fails; joint names are ASCII in practice
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def normalize_name(name: str) -> str:
    """Joint-name key for lenient matching: no namespace ('mixamorig:'), no spaces, lower case."""
    return name.rsplit(":", 1)[-1].replace(" ", "").replace("_", "").lower()


def _finite(value, shape: tuple, name: str) -> np.ndarray:
    """float64 array of the given shape (None = any) with finite entries, else MocapError."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
        raise MocapError(f"{name}: expected shape {shape}, got {a.shape}")
    if not np.isfinite(a).all():
        raise MocapError(f"{name}: NaN or inf at index {tuple(np.argwhere(~np.isfinite(a))[0])}")
    return a
