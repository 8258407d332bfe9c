"""BVH (Biovision hierarchy) files: parse into a `SourceMotion`, or load straight onto SMPL-24.

Accepted: HIERARCHY with one ROOT, nested JOINT and ``End Site`` blocks, OFFSET and CHANNELS in
either order, any subset of {X,Y,Z}position / {X,Y,Z}rotation in any order; MOTION with
``Frames:`` and ``Frame Time:``, one frame per line. CRLF, LF, CR and mixed line endings and tabs
are fine. Rotations are in degrees and compose intrinsically in channel order
(``Zrotation Yrotation Xrotation`` -> ``Rz @ Ry @ Rx``), the convention of every BVH writer we know.
A position channel replaces that axis of the joint's OFFSET. End sites become joints named
``<parent>_End``. Units are not stored in BVH; `navenv.mocap.retarget` infers them from leg length.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from navenv.body.motion import Motion
from navenv.body.skeleton import Skeleton
from navenv.mocap.cleanup import MocapReport, clean_and_retarget
from navenv.mocap.retarget import RetargetResult
from navenv.mocap.source import MocapError, SourceMotion, euler_to_matrix, split_lines

_CHANNELS = {f"{a}{k}": (a.lower(), k) for a in "XYZ" for k in ("position", "rotation")}


class _Tokens:
    """Whitespace tokens of the HIERARCHY part, each with its 1-based line number."""

    def __init__(self, lines: list[str], start: int, stop: int, where: str) -> None:
        self.items: list[tuple[str, int]] = []
        for k in range(start, stop):
            for tok in lines[k].replace("{", " { ").replace("}", " } ").split():
                self.items.append((tok, k + 1))
        self.pos = 0
        self.where = where
        self.last_line = stop + 1  # the MOTION line, where the hierarchy had to be complete

    def next(self, what: str) -> tuple[str, int]:
        if self.pos >= len(self.items):
            raise MocapError(
                f"{self.where}:{self.last_line}: unexpected end of HIERARCHY, expected {what}"
            )
        self.pos += 1
        return self.items[self.pos - 1]

    def expect(self, *words: str) -> int:
        tok, line = self.next(" ".join(words))
        if tok.lower() not in {w.lower() for w in words}:
            raise MocapError(
                f"{self.where}:{line}: expected {' or '.join(map(repr, words))}, got {tok!r}"
            )
        return line

    def number(self, what: str) -> float:
        tok, line = self.next(what)
        try:
            value = float(tok)
        except ValueError:
            raise MocapError(
                f"{self.where}:{line}: {what}: expected a number, got {tok!r}"
            ) from None
        if not np.isfinite(value):
            raise MocapError(f"{self.where}:{line}: {what}: expected a finite number, got {tok!r}")
        return value


def _parse_hierarchy(tokens: _Tokens):
    """Joints as (names, parents, offsets, channels per joint, end-site flags)."""
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[tuple[str, str]]] = []
    ends: list[bool] = []

    def block(name: str, parent: int, end_site: bool, line: int) -> None:
        if name in names:
            raise MocapError(f"{tokens.where}:{line}: duplicate joint name {name!r}")
        me = len(names)
        names.append(name)
        parents.append(parent)
        offsets.append([0.0, 0.0, 0.0])
        channels.append([])
        ends.append(end_site)
        tokens.expect("{")
        seen_offset = False
        while True:
            tok, line = tokens.next("OFFSET, CHANNELS, JOINT, End Site or '}'")
            key = tok.upper()
            if key == "}":
                break
            if key == "OFFSET":
                offsets[me] = [tokens.number(f"OFFSET of {name!r}") for _ in range(3)]
                seen_offset = True
            elif key == "CHANNELS" and not end_site:
                count = tokens.number(f"CHANNELS count of {name!r}")
                if count != int(count) or not 0 <= count <= 6:
                    raise MocapError(
                        f"{tokens.where}:{line}: CHANNELS count must be 0..6, got {count:g}"
                    )
                for _ in range(int(count)):
                    ch, cline = tokens.next(f"a channel name of {name!r}")
                    key_ch = ch[0].upper() + ch[1:].lower() if ch else ch
                    if key_ch not in _CHANNELS:
                        raise MocapError(
                            f"{tokens.where}:{cline}: unknown channel {ch!r} of {name!r}; "
                            f"expected one of {sorted(_CHANNELS)}"
                        )
                    channels[me].append(_CHANNELS[key_ch])
            elif key == "JOINT" and not end_site:
                child, cline = tokens.next("a joint name")
                block(child, me, False, cline)
            elif key == "END" and not end_site:
                tokens.expect("Site")
                end_name, k = f"{name}_End", 1
                while end_name in names:  # a joint may have several end sites
                    end_name, k = f"{name}_End{k}", k + 1
                block(end_name, me, True, line)
            else:
                raise MocapError(
                    f"{tokens.where}:{line}: unexpected {tok!r} in "
                    f"{'End Site of' if end_site else 'joint'} {name!r}"
                )
        if not seen_offset:
            raise MocapError(f"{tokens.where}:{line}: joint {name!r} has no OFFSET")

    tokens.expect("ROOT")
    root, line = tokens.next("the root joint name")
    block(root, -1, False, line)
    if tokens.pos < len(tokens.items):
        tok, line = tokens.items[tokens.pos]
        raise MocapError(
            f"{tokens.where}:{line}: unexpected {tok!r} after the ROOT block "
            "(one ROOT per file is supported)"
        )
    return names, parents, np.array(offsets), channels, ends


def _header_value(lines: list[str], k: int, key: str, where: str) -> tuple[float, int]:
    """The number after ``key`` on the next non-blank line at or after index k."""
    while k < len(lines) and not lines[k].strip():
        k += 1
    if k >= len(lines):
        raise MocapError(f"{where}:{len(lines)}: MOTION block ends before {key!r}")
    text = lines[k].strip()
    if not text.lower().startswith(key.lower()):
        raise MocapError(f"{where}:{k + 1}: expected {key!r}, got {text[:40]!r}")
    try:
        return float(text[len(key) :].strip()), k + 1
    except ValueError:
        raise MocapError(f"{where}:{k + 1}: {key!r} needs a number, got {text!r}") from None


def _motion_block(
    lines: list[str], first: int, n_frames: int, n_channels: int, where: str
) -> np.ndarray:
    """(n_frames, n_channels) numbers from the data rows starting at line index ``first``."""
    rows = lines[first:]
    while rows and not rows[-1].strip():
        rows.pop()
    split = [r.split() for r in rows]
    counts = np.fromiter((len(s) for s in split), dtype=np.int64, count=len(split))
    bad = np.flatnonzero(counts != n_channels)
    if bad.size and bad[0] < n_frames:
        k = int(bad[0])
        what = "an empty line" if counts[k] == 0 else f"{counts[k]}"
        raise MocapError(f"{where}:{first + k + 1}: expected {n_channels} numbers, got {what}")
    if len(rows) != n_frames:
        raise MocapError(
            f"{where}:{first + len(rows)}: Frames: declares {n_frames} frames but the MOTION block "
            f"has {len(rows)} rows"
        )
    try:
        values = np.array([tok for s in split for tok in s], dtype=np.float64)
    except ValueError:
        values = None
    if values is None or not np.isfinite(values).all():
        for k, s in enumerate(split):  # slow path only to name the offending line
            try:
                if not np.isfinite(np.array(s, dtype=np.float64)).all():
                    raise ValueError
            except ValueError:
                raise MocapError(
                    f"{where}:{first + k + 1}: non-numeric or non-finite value in "
                    f"{' '.join(s)[:60]!r}..."
                ) from None
    return values.reshape(n_frames, n_channels)


def parse_bvh(data: bytes, *, name: str = "<bytes>") -> SourceMotion:
    """Parse BVH file contents (bytes) into a `SourceMotion`; ``name`` prefixes error messages."""
    lines = split_lines(data)
    head = [k for k, line in enumerate(lines) if line.strip()]
    if not head or lines[head[0]].strip().upper() != "HIERARCHY":
        line = head[0] + 1 if head else 1
        raise MocapError(f"{name}:{line}: expected 'HIERARCHY' as the first line of a BVH file")
    motion_at = next((k for k in head if lines[k].strip().upper() == "MOTION"), None)
    if motion_at is None:
        raise MocapError(f"{name}:{len(lines)}: no MOTION block (file truncated?)")
    tokens = _Tokens(lines, head[0] + 1, motion_at, name)
    names, parents, offsets, channels, ends = _parse_hierarchy(tokens)

    n_frames_f, k = _header_value(lines, motion_at + 1, "Frames:", name)
    if n_frames_f != int(n_frames_f) or n_frames_f < 1:
        raise MocapError(f"{name}:{k}: Frames: must be a positive integer, got {n_frames_f:g}")
    frame_time, k = _header_value(lines, k, "Frame Time:", name)
    if not frame_time > 0:
        raise MocapError(f"{name}:{k}: Frame Time: must be positive, got {frame_time:g}")
    n_channels = sum(len(c) for c in channels)
    values = _motion_block(lines, k, int(n_frames_f), n_channels, name)

    t, j = values.shape[0], len(names)
    rotations = np.broadcast_to(np.eye(3), (t, j, 3, 3)).copy()
    translations = np.broadcast_to(offsets, (t, j, 3)).copy()
    animated = False
    col = 0
    for i, chans in enumerate(channels):
        cols = np.arange(col, col + len(chans))
        col += len(chans)
        rot_axes = "".join(a for a, kind in chans if kind == "rotation")
        rot_cols = [c for c, (_, kind) in zip(cols, chans) if kind == "rotation"]
        if rot_axes:
            rotations[:, i] = euler_to_matrix(
                np.deg2rad(values[:, rot_cols]), rot_axes, intrinsic=True
            )
        for c, (axis, kind) in zip(cols, chans):
            if kind == "position":
                translations[:, i, "xyz".index(axis)] = values[:, c]
                animated |= i > 0
    fps = 1.0 / frame_time
    if abs(fps - round(fps)) < 1e-3 * fps:  # ".0083333" means 120 Hz, not 120.0005 Hz
        fps = float(round(fps))
    return SourceMotion(
        names=names,
        parents=parents,
        rest_offsets=offsets,
        rotations=rotations,
        root_translation=translations[:, 0],
        fps=fps,
        units_to_m=None,
        translations=translations if animated else None,
        end_sites=ends,
        source=name,
    )


def read_bvh(path: str | os.PathLike) -> SourceMotion:
    """Parse a BVH file into a `SourceMotion` (source units and axes; nothing retargeted)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise MocapError(f"{path}: cannot read BVH file ({e.strerror})") from e
    return parse_bvh(data, name=path.name)


def load_bvh(
    path: str | os.PathLike,
    *,
    mapping: dict[str, str | None] | None = None,
    skeleton: Skeleton | None = None,
    fit_shape: bool = True,
    fps: float | None = None,
    units_to_m: float | None = None,
    ground: bool = True,
    return_result: bool = False,
    reference_frame: str = "auto",
    repair_spikes: bool = False,
    report: MocapReport | None = None,
) -> Motion | RetargetResult:
    """Read a BVH file and retarget it onto navenv's SMPL-24 skeleton.

    Returns the `Motion` (betas set when the shape was fitted), or with ``return_result=True`` the
    whole `RetargetResult` (motion, skeleton, residuals, mapped source joints). ``fps`` resamples
    the result (None keeps the file's rate); ``units_to_m`` overrides unit detection. See
    `navenv.mocap.retarget.retarget` for mapping, skeleton, fit_shape and ground.

    Before retargeting (`navenv.mocap.cleanup`, which gives the rules and numbers):
    ``reference_frame`` 'auto' drops a leading reference T-pose frame (CMU's BVH conversions
    start with one), 'drop' always drops frame 0, 'keep' never does; one-frame spikes are
    detected and, with ``repair_spikes=True``, interpolated. ``report`` (a `MocapReport`) is
    filled with what was done; the `RetargetResult` carries the same report as ``cleanup``.
    """
    result = clean_and_retarget(
        read_bvh(path),
        reference_frame=reference_frame,
        repair_spikes=repair_spikes,
        report=report,
        mapping=mapping,
        units_to_m=units_to_m,
        skeleton=skeleton,
        fit_shape=fit_shape,
        ground=ground,
        fps=fps,
    )
    return result if return_result else result.motion
