"""Clean real mocap before retargeting: CMU's reference T-pose frame and one-frame spikes.

Both checks measure joint positions of the *source* skeleton (its own FK, in metres), so they
judge what the performer's markers did, before the retarget's temporal smoothing can hide it.
Speeds are frame-to-frame: ``v[t] = |p[t+1] - p[t]| * fps`` (m/s) per joint.

Reference frame (BVH conversions of the CMU database can start a take with a reference pose: all
rotations zero, the root at its frame-1 position; 131_01 in tests/data, from the 3dsMax-friendly
release, has none). Frame 0 is one when both hold:

- every local rotation of frame 0, root included, is within ``REFERENCE_MAX_ANGLE_DEG`` = 0.5
  degrees of the identity (the BVH writes 0.0000; 0.5 deg leaves room for rounding), and
- the jump ``v[0]`` of the fastest joint is over ``REFERENCE_JUMP_RATIO`` = 5 times the
  recording's typical step (the median over t >= 1 of the fastest joint's ``v[t]``) and over
  ``REFERENCE_MIN_JUMP_M_S`` = 5 m/s. A take that really starts in a held T-pose does not jump.
  Needs 3 or more frames. (On 131_01, whose rest pose has the arms down, a zero-rotation frame
  put before any of its frames jumps 32-107 m/s, 11-40 times the typical step of 1.4-3.4 m/s;
  the zero-rotation test is what makes the rule specific, the jump test only guards it.)

Spikes (a marker that jumps away for one frame and comes back). Per joint j, from its own speeds
over the whole clip: ``limit_j = max(median(v_j) + SPIKE_MAD_K * 1.4826 * MAD(v_j),
SPIKE_MIN_M_S)`` with ``SPIKE_MAD_K`` = 10 and ``SPIKE_MIN_M_S`` = 2 m/s (1.4826 * MAD estimates
the standard deviation; the floor keeps millimetre jitter of a still joint out). Frame t (not the
first or last) spikes on joint j when

- the in-speed ``v[t-1]`` and the out-speed ``v[t]`` are both over ``limit_j``, and
- the neighbours agree: the bridge speed ``|p[t+1] - p[t-1]| * fps / 2`` is under
  ``SPIKE_BRIDGE_RATIO`` = 0.5 of the smaller of the two. A real fast movement keeps going, so its
  bridge speed equals its in- and out-speeds; a jump that stays (a new segment) has a large bridge.

The reported speed is the larger of in- and out-speed. On the real CMU clips (131_01 BVH, 02_01
ASF/AMC) nothing is reported: their fastest real excursions (a thumb tip at 5-8 m/s) stay under
their joints' limits (12-14 m/s for the hands of 131_01).

Repair (only on request) interpolates the spike frame from its neighbours: a source joint's
local rotation by slerp halfway between frames t-1 and t+1, the root translation linearly. It
changes as little as possible: greedily, the one change (a strict ancestor's rotation of a
spiking joint, or the root translation when the root spikes) that most reduces the spiking
joints' excursions from their neighbours' midpoint, until each is under 10 % of what it was.
Other frames are never changed. Non-root BVH position channels are not repaired.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from navenv.body.rotations import matrix_to_quat, quat_slerp, quat_to_matrix
from navenv.mocap.mapping import resolve_mapping
from navenv.mocap.retarget import source_units_to_m
from navenv.mocap.source import MocapError, SourceMotion

REFERENCE_FRAME_MODES: tuple[str, ...] = ("auto", "keep", "drop")
REFERENCE_MAX_ANGLE_DEG = 0.5
REFERENCE_JUMP_RATIO = 5.0
REFERENCE_MIN_JUMP_M_S = 5.0
SPIKE_MAD_K = 10.0
SPIKE_MIN_M_S = 2.0
SPIKE_BRIDGE_RATIO = 0.5
_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
_REPAIR_TARGET = 0.1  # stop once every spiking joint is within 10 % of its original excursion
_REPAIR_MIN_GAIN = 0.01  # a change that helps by less than 1 % is noise, not the culprit


@dataclass(frozen=True)
class Spike:
    """One joint spiking in one frame: frame index (0-based, in the cleaned clip at the source
    rate), source joint name, its larger of in- and out-speed (m/s), and the frame's time (s)."""

    frame: int
    joint: str
    speed_m_s: float
    time_s: float


@dataclass
class MocapReport:
    """What the cleanup did to a clip; pass one to `load_bvh` / `load_amc` (``report=``) to get it.

    source: the clip's files. reference_frame: the mode used ('auto', 'keep', 'drop').
    reference_frame_dropped: whether frame 0 was removed. reference_jump_m_s: the fastest joint's
    speed from frame 0 to frame 1 of the file (NaN for one frame). spikes: detected spikes, by
    frame then joint (frames count after any dropped reference frame). repaired: {frame: what was
    interpolated} ('<joint> rotation', '<root> translation'); empty unless repair was asked for.
    """

    source: str = ""
    reference_frame: str = "auto"
    reference_frame_dropped: bool = False
    reference_jump_m_s: float = math.nan
    spikes: list[Spike] = field(default_factory=list)
    repaired: dict[int, tuple[str, ...]] = field(default_factory=dict)
    repair_requested: bool = False

    def spike_frames(self) -> list[int]:
        """Frames with at least one spike, ascending."""
        return sorted({s.frame for s in self.spikes})

    def lines(self) -> list[str]:
        """Human-readable summary, one line per fact and one per spike."""
        v = self.reference_jump_m_s
        jump = "" if math.isnan(v) else f"; jump to frame 1 {v:.1f} m/s"  # NaN: one frame
        if self.reference_frame_dropped:
            why = "asked for" if self.reference_frame == "drop" else "zero rotations"
            ref = f"reference frame: dropped frame 0 ({why}{jump})"
        elif self.reference_frame == "keep":
            ref = f"reference frame: kept frame 0 (reference_frame='keep'{jump})"
        else:
            ref = "reference frame: none detected"
        out = [f"{self.source}: {ref}" if self.source else ref]
        if not self.spikes:
            return [*out, "spikes: none"]
        frames = self.spike_frames()
        out.append(f"spikes: {len(self.spikes)} joint(s) in {len(frames)} frame(s)")
        for s in self.spikes:
            out.append(f"  frame {s.frame} ({s.time_s:.3f} s) {s.joint}: {s.speed_m_s:.1f} m/s")
        for f in frames:
            if f in self.repaired:
                out.append(f"  repaired frame {f}: interpolated {', '.join(self.repaired[f])}")
            elif self.repair_requested:  # e.g. a non-root BVH position channel, or the last frame
                out.append(f"  frame {f}: no rotation or root translation explains it; left as is")
        if not self.repair_requested:
            out.append("  not repaired (repair_spikes=True, or `navenv track --repair-spikes`)")
        return out


def joint_speeds(positions: np.ndarray, fps: float) -> np.ndarray:
    """(T-1, J) frame-to-frame speeds (units/s) of (T, J, 3) joint positions."""
    p = np.asarray(positions, dtype=np.float64)
    return np.linalg.norm(np.diff(p, axis=0), axis=-1) * fps


def rotation_angles(rotations: np.ndarray) -> np.ndarray:
    """(...) angle in radians of each (..., 3, 3) rotation matrix."""
    r = np.asarray(rotations, dtype=np.float64)
    cos = (np.trace(r, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.arccos(np.clip(cos, -1.0, 1.0))


def reference_jump_m_s(positions: np.ndarray, fps: float) -> float:
    """Speed (m/s) of the fastest joint from frame 0 to frame 1 of (T, J, 3) metres; NaN if T < 2."""
    if len(positions) < 2:
        return math.nan
    return float(joint_speeds(positions[:2], fps).max())


def is_reference_frame(rotations: np.ndarray, positions: np.ndarray, fps: float) -> bool:
    """Whether frame 0 is a reference T-pose (the module docstring's rule, with its numbers).

    rotations: (T, J, 3, 3) local rotations; positions: (T, J, 3) joint positions in metres.
    """
    if len(positions) < 3:
        return False
    if np.degrees(rotation_angles(rotations[0])).max() > REFERENCE_MAX_ANGLE_DEG:
        return False
    step = joint_speeds(positions, fps).max(axis=1)  # (T-1,) fastest joint per step
    jump, typical = step[0], float(np.median(step[1:]))
    return bool(jump > REFERENCE_JUMP_RATIO * typical and jump > REFERENCE_MIN_JUMP_M_S)


def spike_limits(speeds: np.ndarray) -> np.ndarray:
    """(J,) per-joint spike speed limit (m/s) from (N, J) speeds: robust median + 10 sigma, >= 2."""
    v = np.asarray(speeds, dtype=np.float64)
    med = np.median(v, axis=0)
    sigma = _MAD_TO_SIGMA * np.median(np.abs(v - med), axis=0)
    return np.maximum(med + SPIKE_MAD_K * sigma, SPIKE_MIN_M_S)


def detect_spikes(
    positions: np.ndarray, fps: float, names: list[str] | tuple[str, ...]
) -> list[Spike]:
    """One-frame spikes of (T, J, 3) joint positions in metres (rule in the module docstring)."""
    p = np.asarray(positions, dtype=np.float64)
    if len(p) < 3:
        return []
    v = joint_speeds(p, fps)  # (T-1, J)
    limit = spike_limits(v)
    v_in, v_out = v[:-1], v[1:]  # (T-2, J) for frames 1..T-2
    bridge = np.linalg.norm(p[2:] - p[:-2], axis=-1) * fps / 2.0
    slower = np.minimum(v_in, v_out)
    hit = (slower > limit) & (bridge < SPIKE_BRIDGE_RATIO * slower)
    return [
        Spike(int(t) + 1, str(names[j]), float(max(v_in[t, j], v_out[t, j])), (int(t) + 1) / fps)
        for t, j in np.argwhere(hit)
    ]


def slerp_rotations(r0: np.ndarray, r1: np.ndarray, t: float = 0.5) -> np.ndarray:
    """(..., 3, 3) rotations a fraction t of the way from r0 to r1 along the shortest arc."""
    q0, q1 = matrix_to_quat(np.asarray(r0)), matrix_to_quat(np.asarray(r1))
    return quat_to_matrix(quat_slerp(q0, q1, np.full(q0.shape[:-1], float(t))))


def chain_positions(
    rotations: np.ndarray,
    root_translation: np.ndarray,
    offsets: np.ndarray,
    parents: list[int] | tuple[int, ...],
) -> np.ndarray:
    """(T, J, 3) joint positions from (T, J, 3, 3) local rotations, (T, 3) root positions and
    (J, 3) or (T, J, 3) offsets from each parent (the `SourceMotion` convention)."""
    rot = np.asarray(rotations, dtype=np.float64)
    t, j = rot.shape[:2]
    off = np.broadcast_to(np.asarray(offsets, dtype=np.float64), (t, j, 3))
    glob = np.empty_like(rot)
    pos = np.empty((t, j, 3))
    glob[:, 0], pos[:, 0] = rot[:, 0], root_translation
    for i in range(1, j):
        p = parents[i]
        glob[:, i] = glob[:, p] @ rot[:, i]
        pos[:, i] = pos[:, p] + np.einsum("tab,tb->ta", glob[:, p], off[:, i])
    return pos


def _ancestors(joint: int, parents: list[int] | tuple[int, ...]) -> list[int]:
    out, p = [], parents[joint]
    while p >= 0:
        out.append(p)
        p = parents[p]
    return out


def _repair_frame(
    rot: np.ndarray,
    root: np.ndarray,
    off: np.ndarray,
    parents: list[int] | tuple[int, ...],
    names: list[str] | tuple[str, ...],
    f: int,
    hit: list[int],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Frame f's (J, 3, 3) rotations and (3,) root after the greedy repair, and what changed."""
    win = slice(f - 1, f + 2)
    p = chain_positions(rot[win], root[win], off[win], parents)
    mid = 0.5 * (p[0, hit] + p[2, hit])
    e0 = np.maximum(np.linalg.norm(p[1, hit] - mid, axis=-1), 1e-12)

    def excursion(r_f: np.ndarray, root_f: np.ndarray) -> np.ndarray:
        q = chain_positions(r_f[None], root_f[None], off[f : f + 1], parents)[0]
        return np.linalg.norm(q[hit] - mid, axis=-1) / e0  # relative, so joints weigh alike

    # Candidates: rotations that move a spiking joint (its strict ancestors), and the root
    # translation if the root itself spikes; each replaced by its neighbours' midpoint.
    cands: dict[str, tuple[int, np.ndarray]] = {}
    for a in sorted({a for j in hit for a in _ancestors(j, parents)}):
        cands[f"{names[a]} rotation"] = (a, slerp_rotations(rot[f - 1, a], rot[f + 1, a]))
    if 0 in hit:
        cands[f"{names[0]} translation"] = (-1, 0.5 * (root[f - 1] + root[f + 1]))
    r_f, root_f = rot[f].copy(), root[f].copy()
    current, chosen = excursion(r_f, root_f), []
    while cands and current.max() > _REPAIR_TARGET:
        trials = {}
        for key, (a, value) in cands.items():
            r_try, root_try = r_f.copy(), root_f.copy()
            if a < 0:
                root_try = value
            else:
                r_try[a] = value
            trials[key] = (excursion(r_try, root_try).mean(), r_try, root_try)
        key = min(trials, key=lambda k: trials[k][0])
        score, r_try, root_try = trials[key]
        if score > current.mean() - _REPAIR_MIN_GAIN:
            break
        r_f, root_f, current = r_try, root_try, excursion(r_try, root_try)
        chosen.append(key)
        del cands[key]
    return r_f, root_f, chosen


def repair_spike_frames(
    rotations: np.ndarray,
    root_translation: np.ndarray,
    offsets: np.ndarray,
    parents: list[int] | tuple[int, ...],
    names: list[str] | tuple[str, ...],
    spikes: list[Spike],
) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[str, ...]]]:
    """Interpolate each spike frame from its neighbours (see the module docstring).

    rotations: (T, J, 3, 3) local; root_translation: (T, 3); offsets: (J, 3) or (T, J, 3) in the
    same units (any: the repair compares relative excursions). Returns new rotations and root
    translation (the inputs are not changed) and {frame: what was interpolated}. Only spike
    frames change.
    """
    rot = np.array(rotations, dtype=np.float64)
    root = np.array(root_translation, dtype=np.float64)
    off = np.broadcast_to(np.asarray(offsets, dtype=np.float64), (*rot.shape[:2], 3))
    index = {n: i for i, n in enumerate(names)}
    by_frame: dict[int, set[int]] = {}
    for s in spikes:
        by_frame.setdefault(s.frame, set()).add(index[s.joint])
    done: dict[int, tuple[str, ...]] = {}
    for f in sorted(by_frame):
        if not 1 <= f < len(rot) - 1:
            continue  # the first and last frames have only one neighbour: nothing to agree on
        r_f, root_f, chosen = _repair_frame(rot, root, off, parents, names, f, sorted(by_frame[f]))
        if chosen:
            rot[f], root[f] = r_f, root_f
            done[f] = tuple(chosen)
    return rot, root, done


def clean_source(
    source: SourceMotion,
    *,
    reference_frame: str = "auto",
    repair_spikes: bool = False,
    mapping: dict[str, str | None] | None = None,
    units_to_m: float | None = None,
    report: MocapReport | None = None,
) -> tuple[SourceMotion, MocapReport]:
    """Drop a reference frame, find spikes and optionally repair them; returns (clip, report).

    reference_frame: 'auto' drops frame 0 when it is a reference T-pose (module docstring),
    'drop' always drops it, 'keep' never does. repair_spikes interpolates spike frames. mapping
    and units_to_m are those given to `retarget` (they fix the units speeds are measured in).
    ``report``, when given, is filled in place and returned.
    """
    if reference_frame not in REFERENCE_FRAME_MODES:
        raise ValueError(
            f"reference_frame: expected one of {', '.join(map(repr, REFERENCE_FRAME_MODES))}, "
            f"got {reference_frame!r}"
        )
    if not isinstance(repair_spikes, bool | np.bool_):
        raise ValueError(f"repair_spikes: expected True or False, got {repair_spikes!r}")
    names, _ = resolve_mapping(source.names, mapping, where=source.source)
    scale = source_units_to_m(source, names, units_to_m)
    _, pos = source.global_transforms()
    pos = pos * scale
    report = report if report is not None else MocapReport()
    fresh = MocapReport(
        source=source.source,
        reference_frame=reference_frame,
        reference_jump_m_s=reference_jump_m_s(pos, source.fps),
        repair_requested=bool(repair_spikes),
    )
    drop = reference_frame == "drop" or (
        reference_frame == "auto" and is_reference_frame(source.rotations, pos, source.fps)
    )
    if drop:
        if source.num_frames < 2:
            raise MocapError(
                f"{source.source}: reference_frame='drop' needs at least 2 frames, the clip has 1"
            )
        source, pos = source.frames(1), pos[1:]
        fresh.reference_frame_dropped = True
    fresh.spikes = detect_spikes(pos, source.fps, source.names)
    if repair_spikes and fresh.spikes:
        offsets = source.translations if source.translations is not None else source.rest_offsets
        rot, root, fresh.repaired = repair_spike_frames(
            source.rotations,
            source.root_translation,
            offsets,
            source.parents,
            source.names,
            fresh.spikes,
        )
        source = dataclasses.replace(source, rotations=rot, root_translation=root)
    for f in dataclasses.fields(MocapReport):  # fill the caller's object, which it may hold
        setattr(report, f.name, getattr(fresh, f.name))
    return source, report


def clean_and_retarget(
    source: SourceMotion,
    *,
    reference_frame: str,
    repair_spikes: bool,
    report: MocapReport | None,
    mapping: dict[str, str | None] | None,
    units_to_m: float | None,
    **retarget_kw,
):
    """`clean_source`, then `retarget` (with `retarget_kw`); the result carries the report."""
    from navenv.mocap.retarget import retarget

    source, report = clean_source(
        source,
        reference_frame=reference_frame,
        repair_spikes=repair_spikes,
        mapping=mapping,
        units_to_m=units_to_m,
        report=report,
    )
    result = retarget(source, mapping=mapping, units_to_m=units_to_m, **retarget_kw)
    result.cleanup = report
    return result
