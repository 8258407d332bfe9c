"""Contact grounding of sampled chunks: which limb holds which hold, and IK that puts it there.

The shipped model places hands ~0.15-0.2 m from where the expert's are (global MPJPE on val),
while ClimbRoute captures a grip only within 6 cm of a hold, so a sampled chunk executed as is
grips almost nothing. As motion-generation controllers do with foot contacts, contacts are read
from the motion (a limb slow and near a hold for a few frames holds it) and the chunk is
corrected by inverse kinematics so those limbs land on their holds (`navenv.ik`, the solver
the expert's planner uses). What the model decides (which hold, when, how the body moves) is
kept; only the last few centimetres are closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from navenv.envs.climb.spawn import grip_point, limb_axes
from navenv.humanoid import names
from navenv.humanoid.index import HumanoidIndex
from navenv.ik import IKConfig, SiteTarget, solve_ik

HANDS = (0, 1)  # limb indices of the hands (names.LIMBS order)


@dataclass
class GroundingConfig:
    """Thresholds of contact inference (per limb: names.LIMBS order) and the IK effort."""

    radius: float = 0.3
    """m: a limb's grip site this near a hold may hold it (chosen on 16 `val` routes,
    kinematic, from 0.2 / 0.25 / 0.3 / 0.35 / 0.4: completion 6 / 10 / 12 / 7 / 4 of 16; the
    shipped model's hands land ~0.15-0.3 m from the holds they go for)."""
    speed: float = 0.5
    """m/s: and moves slower than this."""
    min_frames: int = 3
    """Frames a contact must last (shorter ones are noise)."""
    iterations: int = 15
    """IK iterations per frame."""
    route_only: bool = True
    """Limbs hold only the route's holds (the expert's precision is 1.0: it never grips an
    off-route hold); False lets a limb hold whatever hold it comes near."""
    max_free: int = 4
    """Most limbs off their holds at once (`schedule_contacts`): a limb the sample lets go
    keeps its hold until enough others hold theirs, as the expert moves one limb at a time;
    4 (the default) executes the inferred contacts as they are. ClimbDiffusionPolicy uses 4
    in kinematic control (2 completed 16 of 32 `val` routes against 17 with 4) and 1 in
    physics (val, 32 routes: 3 falls against 9, progress 0.65 against 0.59)."""
    keep_top: bool = True
    """A hand that holds the route's top hold keeps it (the sample's hand often let go of
    the top again before the other hand matched it)."""

    def __post_init__(self) -> None:
        for name in ("radius", "speed"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not v > 0:
                raise ValueError(f"GroundingConfig.{name}={v!r}: expected a number > 0")
        for name, low, high in (
            ("min_frames", 1, None),
            ("iterations", 1, None),
            ("max_free", 0, 4),
        ):
            v = getattr(self, name)
            if (
                not isinstance(v, int)
                or isinstance(v, bool)
                or v < low
                or (high is not None and v > high)
            ):
                span = f"{low}..{high}" if high is not None else f">= {low}"
                raise ValueError(f"GroundingConfig.{name}={v!r}: expected an int {span}")


def infer_contacts(
    sites: np.ndarray,
    holds: np.ndarray,
    fps: float,
    config: GroundingConfig | None = None,
    held: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """(T, 4) scene hold each limb holds per frame (-1 free) from grip-site positions
    sites (T, 4, 3) m and hold positions holds (H, 3) m. `held` (4,): holds gripped before the
    first frame; a limb keeps its hold while it stays within the radius of it. `allowed`:
    the scene holds a limb may take (None: all); a held hold is kept even if not allowed."""
    cfg = config or GroundingConfig()
    s = np.asarray(sites, dtype=np.float64)
    t = len(s)
    dist = np.linalg.norm(s[:, :, None, :] - np.asarray(holds)[None, None], axis=-1)  # (T,4,H)
    if allowed is not None:  # holds not allowed are never taken (a held one is kept by `dist`)
        ok = np.zeros(dist.shape[-1], bool)
        ok[np.asarray(allowed, dtype=int)] = True
        reach = np.where(ok[None, None], dist, np.inf)
    else:
        reach = dist
    nearest = reach.argmin(axis=-1)  # (T, 4)
    near = reach.min(axis=-1) < cfg.radius
    speed = np.zeros((t, 4))
    if t > 1:
        step = np.linalg.norm(np.diff(s, axis=0), axis=-1) * fps  # (T-1, 4)
        speed[1:] = step
        speed[0] = step[0]
    candidate = np.where(near & (speed < cfg.speed), nearest, -1)
    out = np.full((t, 4), -1, dtype=int)
    for limb in range(4):
        out[:, limb] = _segments(candidate[:, limb], cfg.min_frames)
        if held is not None and held[limb] >= 0:  # keep the hold until the limb leaves it
            for i in range(t):
                if dist[i, limb, held[limb]] >= cfg.radius or out[i, limb] not in (-1, held[limb]):
                    break
                out[i, limb] = held[limb]
    return out


def schedule_contacts(
    contacts: np.ndarray, held: np.ndarray, max_free: int, top: int | None = None
) -> np.ndarray:
    """(T, 4) contacts with no more than `max_free` limbs free at once where the sample frees
    more: walking the frames in order, a limb that lets go of its hold keeps it while
    `max_free` others are free already; switching to another hold and grabbing are never
    delayed. A hand on the `top` hold (the route's last) keeps it: a finished move is never
    undone. `held` (4,): holds gripped before the first frame (-1 free). Limbs that let go at
    the same frame are freed in limb order (hands first: they are what climbs)."""
    c = np.asarray(contacts, dtype=int)
    if max_free >= c.shape[1] and top is None:
        return c.copy()
    out = np.empty_like(c)
    cur = np.asarray(held, dtype=int).copy()
    for i, want in enumerate(c):
        for limb in np.flatnonzero((cur >= 0) & (want != cur)):
            if top is not None and limb in HANDS and cur[limb] == top:
                continue
            if want[limb] >= 0:
                cur[limb] = want[limb]  # a switch: the limb is never free
            elif int((cur < 0).sum()) < max_free:
                cur[limb] = -1
        grab = (cur < 0) & (want >= 0)
        cur[grab] = want[grab]
        out[i] = cur
    return out


def _segments(labels: np.ndarray, min_frames: int) -> np.ndarray:
    """Runs of equal non-negative labels shorter than min_frames set to -1."""
    out = labels.copy()
    i = 0
    while i < len(labels):
        j = i
        while j < len(labels) and labels[j] == labels[i]:
            j += 1
        if labels[i] >= 0 and j - i < min_frames:
            out[i:j] = -1
        i = j
    return out


def grip_sites(model: mujoco.MjModel, data: mujoco.MjData, index: HumanoidIndex, qpos):
    """(T, 4, 3) grip-site positions (m) of configurations qpos (T, nq)."""
    out = np.empty((len(qpos), 4, 3))
    for i, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        out[i] = data.site_xpos[index.grip_sites]
    return out


def ground_chunk(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    index: HumanoidIndex,
    scene,
    qpos: np.ndarray,
    contacts: np.ndarray,
    config: GroundingConfig | None = None,
    start: int = 0,
) -> np.ndarray:
    """(T, nq) configurations with each limb's grip site moved onto its contact hold, frames
    `start` and later (earlier ones, the executed prefix, stay); IK from each frame's pose with
    the pose as its prior, so free limbs and the trunk move as little as they can."""
    cfg = config or GroundingConfig()
    ik = IKConfig(iterations=cfg.iterations, avoid_contacts=False, posture_weight=0.05)
    out = np.asarray(qpos, dtype=np.float64).copy()
    for i in range(start, len(out)):
        targets = []
        for limb, name in enumerate(names.LIMBS):
            h = int(contacts[i, limb])
            if h < 0:
                continue
            hold = scene.holds[h]
            targets.append(
                SiteTarget(
                    site=int(index.grip_sites[limb]),
                    pos=grip_point(hold),
                    axes=limb_axes(name, np.asarray(hold.normal, dtype=np.float64)),
                )
            )
        if not targets:
            continue
        data.qpos[:] = out[i]
        out[i] = solve_ik(model, data, targets, posture=out[i], config=ik).qpos
    return out


__all__ = [
    "GroundingConfig",
    "grip_sites",
    "ground_chunk",
    "infer_contacts",
    "schedule_contacts",
]
