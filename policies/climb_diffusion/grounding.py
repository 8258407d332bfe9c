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


@dataclass
class GroundingConfig:
    """Thresholds of contact inference (per limb: names.LIMBS order) and the IK effort."""

    radius: float = 0.2
    """m: a limb's grip site this near a hold may hold it."""
    speed: float = 0.5
    """m/s: and moves slower than this."""
    min_frames: int = 3
    """Frames a contact must last (shorter ones are noise)."""
    iterations: int = 15
    """IK iterations per frame."""


def infer_contacts(
    sites: np.ndarray,
    holds: np.ndarray,
    fps: float,
    config: GroundingConfig | None = None,
    held: np.ndarray | None = None,
) -> np.ndarray:
    """(T, 4) scene hold each limb holds per frame (-1 free) from grip-site positions
    sites (T, 4, 3) m and hold positions holds (H, 3) m. `held` (4,): holds gripped before the
    first frame; a limb keeps its hold while it stays within the radius of it."""
    cfg = config or GroundingConfig()
    s = np.asarray(sites, dtype=np.float64)
    t = len(s)
    dist = np.linalg.norm(s[:, :, None, :] - np.asarray(holds)[None, None], axis=-1)  # (T,4,H)
    nearest = dist.argmin(axis=-1)  # (T, 4)
    near = dist.min(axis=-1) < cfg.radius
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


__all__ = ["GroundingConfig", "grip_sites", "ground_chunk", "infer_contacts"]
