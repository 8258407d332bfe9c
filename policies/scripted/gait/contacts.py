"""Foot contacts from joint positions (low and slow), and foot skating in m/s.

A foot has two contact points, the ankle (standing in for the heel) and the ball of the foot
(SMPL's ``*_foot`` joint). A point is in contact when it is low, less than
`CONTACT_HEIGHT_M` above the local floor, and slow, slower than `CONTACT_SPEED_M_S` (3D); a foot
is in contact when either point is (heel strike to toe-off). Heights are sole clearances: the
point's height minus its rest height above the sole, so a flat foot on the floor reads 0 for
both points. The floor is the lowest sole clearance of either foot over a sliding window of
`FLOOR_WINDOW_S`, because real captures drift by centimetres (CMU 02_01's floor rises 5 cm
over 3 s). Runs shorter than `MIN_RUN_S` (contacts or gaps) are merged into their neighbours.
The same rule (height + speed) defines contact in ``benchmarks.metrics.motion``'s skating
metrics; it is restated here because policies may not import benchmarks.

Foot skating (`foot_skate_m_s`) is the mean horizontal speed of the planted part of a foot while
the foot is in contact: per step, the slower of its two points (a foot rolling over its heel or
its ball keeps that point still; one that slides moves both), averaged over the steps in which
the foot is in contact at both ends (lift-off and touch-down steps move legitimately).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from navenv.body.joints import JOINT_INDEX
from navenv.body.kinematics import forward_kinematics
from navenv.body.motion import Motion
from navenv.body.skeleton import Skeleton

FEET = ("left", "right")
ANKLES = (JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"])
BALLS = (JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"])

CONTACT_HEIGHT_M = 0.05  # as benchmarks' skating metrics' contact_height_m default
CONTACT_SPEED_M_S = (
    0.6  # CMU stance points move < 0.3 m/s, swing ones 1-9; 0.6 keeps ~10% double support
)
FLOOR_WINDOW_S = 1.0  # longer than one step, so some foot is down in every window
MIN_RUN_S = 0.1


def foot_points(joints: np.ndarray) -> np.ndarray:
    """(T, 2 feet, 2 points, 3) ankle and ball positions (left, right) from (T, 24, 3) joints."""
    return np.stack([joints[:, [a, b]] for a, b in zip(ANKLES, BALLS)], axis=1)


def point_rest_heights(skeleton: Skeleton) -> np.ndarray:
    """(2,) rest heights (m) of the ankle and the ball above the sole."""
    rest = skeleton.rest_joints
    sole = skeleton.sole_height
    return np.array([rest[ANKLES[0], 2] - sole, rest[BALLS[0], 2] - sole])


def sole_clearance(points: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T, 2, 2) height (m) of each foot point above the sole plane of a flat foot at z = 0."""
    return points[..., 2] - point_rest_heights(skeleton)


def _runs(c: np.ndarray) -> list[tuple[int, int, bool]]:
    """(start, stop, value) of each run of equal values in a (T,) bool array."""
    bounds = np.r_[0, np.flatnonzero(np.diff(c.astype(np.int8))) + 1, len(c)]
    return [(int(a), int(b), bool(c[a])) for a, b in itertools.pairwise(bounds)]


def _clean_runs(c: np.ndarray, min_len: int) -> np.ndarray:
    """(T,) bool with interior gaps, then interior contacts, shorter than min_len flipped."""
    out = c.copy()
    for value in (False, True):
        for a, b, v in _runs(out):
            if v == value and b - a < min_len and a > 0 and b < len(out):
                out[a:b] = not value
    return out


def detect_contacts(joints: np.ndarray, fps: float, skeleton: Skeleton) -> np.ndarray:
    """(T, 2) bool: which foot (left, right) is in contact in each frame of (T, 24, 3) joints."""
    pts = foot_points(joints)  # (T, 2, 2, 3)
    clearance = sole_clearance(pts, skeleton)  # (T, 2, 2)
    window = max(1, round(FLOOR_WINDOW_S * fps))
    floor = minimum_filter1d(clearance.min(axis=(1, 2)), window, mode="nearest")
    floor = uniform_filter1d(floor, window, mode="nearest")  # the window's steps, smoothed
    low = clearance - floor[:, None, None] < CONTACT_HEIGHT_M
    speed = np.linalg.norm(np.gradient(pts, axis=0), axis=-1) * fps  # (T, 2, 2)
    slow = speed < CONTACT_SPEED_M_S
    contact = (low & slow).any(axis=2)  # (T, 2)
    min_len = max(1, round(MIN_RUN_S * fps))
    return np.stack([_clean_runs(contact[:, k], min_len) for k in range(2)], axis=1)


def _check_contacts(contacts: np.ndarray, n_frames: int) -> np.ndarray:
    c = np.asarray(contacts)
    if c.shape != (n_frames, 2):
        raise ValueError(f"contacts: expected shape ({n_frames}, 2) (left, right), got {c.shape}")
    return c.astype(bool)


def planted_speeds(motion: Motion, contacts: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """Horizontal speeds (m/s) of the planted point of each foot over steps in contact at both ends.

    Returns a flat array over (step, foot) pairs; see the module docstring for the definition.
    """
    c = _check_contacts(contacts, len(motion))
    if len(motion) < 2:
        return np.zeros(0)
    pts = foot_points(forward_kinematics(skeleton, motion))  # (T, 2, 2, 3)
    step = np.linalg.norm(np.diff(pts[..., :2], axis=0), axis=-1) * motion.fps  # (T-1, 2, 2)
    planted = step.min(axis=2)  # (T-1, 2): the slower of ankle and ball
    both = c[1:] & c[:-1]
    return planted[both]


def foot_skate_m_s(motion: Motion, contacts: np.ndarray, skeleton: Skeleton | None = None) -> float:
    """Mean horizontal speed (m/s) of feet while in contact (0.0 when no foot is ever planted)."""
    sk = Skeleton.builtin(motion.betas) if skeleton is None else skeleton
    speeds = planted_speeds(motion, contacts, sk)
    return float(speeds.mean()) if speeds.size else 0.0


def contact_events(contacts: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per foot, (onsets, offsets): fractional frame times of touch-downs and lift-offs.

    An event lies half-way between the last frame before the change and the first after it.
    """
    c = np.asarray(contacts, dtype=bool)
    out = []
    for k in range(c.shape[1]):
        d = np.diff(c[:, k].astype(int))
        out.append((np.flatnonzero(d == 1) + 0.5, np.flatnonzero(d == -1) + 0.5))
    return out
