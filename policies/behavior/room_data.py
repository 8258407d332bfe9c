"""Room behaviour windows as model tensors, in the agent frame (what the three stages train on).

A window is 8 past + 56 future frames at 10 fps (ATS) cut from a `navenv data generate --env
room` dataset. Everything is expressed in the agent frame at the last past frame ("now"): the
origin at the pelvis floor point, x along the heading, y to the left, z up (the frame of
RoomNav-v0's past / observer / scene observations, so a policy feeds the env's observation
straight in). Per window:

- past (8, 4), observer (8, 4): x, y, cos and sin of the yaw relative to now, oldest first;
- scene (64, 64) uint8: the ego-centric occupancy heights (cm) at now;
- pose (144,): the body at now (root orientation 6D in the agent frame, 23 joints' 6D);
- path (56, 3): the SMPL root translation of every future frame;
- goal (3,): the root translation at the last future frame (ATS's goal: 5.6 s ahead);
- body (56, 144): root orientation 6D (agent frame) and the 23 joints' local 6D rotations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from navenv.body.rotations import matrix_to_rot6d, rot6d_to_matrix

PAST, FUTURE = 8, 56
POSE_DIM = 24 * 6  # root orientation + 23 body joints, 6D each
TRACK_DIM = 4  # x, y, cos(dyaw), sin(dyaw)
CROP_UNIT_M = 0.01  # the dataset stores heights as uint8 centimetres
FIELDS = ("past", "observer", "scene", "pose", "path", "goal", "body")


def heading_axes(yaw: float | np.ndarray) -> np.ndarray:
    """(..., 3, 3) rows: the agent frame's x (facing; rest faces -y), y (left), z in the world."""
    yaw = np.asarray(yaw, float)
    f = np.stack([np.sin(yaw), -np.cos(yaw), np.zeros_like(yaw)], -1)
    left = np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], -1)
    up = np.broadcast_to(np.array([0.0, 0.0, 1.0]), f.shape)
    return np.stack([f, left, up], axis=-2)


def track(xy: np.ndarray, yaw: np.ndarray, origin: np.ndarray, yaw0: float) -> np.ndarray:
    """(T, 4) agent-frame track of world xy (T, 2) and yaw (T,) (RoomNav's history layout)."""
    axes = heading_axes(yaw0)[:2, :2]
    rel = (np.asarray(xy, float) - origin) @ axes.T
    d = np.asarray(yaw, float) - yaw0
    return np.column_stack([rel, np.cos(d), np.sin(d)])


def to_agent_body(rot6d: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """(T, 24, 6) world rotations (root first) -> (T, 144): the root in the agent frame."""
    r = np.array(rot6d, dtype=np.float64)
    root = axes @ rot6d_to_matrix(r[:, 0])
    r[:, 0] = matrix_to_rot6d(root)
    return r.reshape(len(r), POSE_DIM)


def to_world_body(body: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Inverse of to_agent_body: (T, 144) -> (T, 24, 6) with the root in the world."""
    r = np.array(body, dtype=np.float64).reshape(len(body), 24, 6)
    r[:, 0] = matrix_to_rot6d(axes.T @ rot6d_to_matrix(r[:, 0]))
    return r


def window(ep: dict, start: int) -> dict[str, np.ndarray]:
    """The agent-frame arrays (module doc) of the window starting at frame `start` of episode
    arrays `ep` (root_xy, root_yaw, transl, rot6d, observer, occupancy_cm)."""
    now = start + PAST - 1
    past, fut = slice(start, now + 1), slice(now + 1, now + 1 + FUTURE)
    origin, yaw0 = np.asarray(ep["root_xy"][now], float), float(ep["root_yaw"][now])
    axes = heading_axes(yaw0)
    path = (np.asarray(ep["transl"][fut], float) - [*origin, 0.0]) @ axes.T
    ob = ep["observer"]
    return {
        "past": track(ep["root_xy"][past], ep["root_yaw"][past], origin, yaw0),
        "observer": track(ob[past, :2], ob[past, 2], origin, yaw0),
        "scene": np.asarray(ep["occupancy_cm"][now], np.uint8),
        "pose": to_agent_body(ep["rot6d"][now : now + 1], axes)[0],
        "path": path,
        "goal": path[-1],
        "body": to_agent_body(ep["rot6d"][fut], axes),
    }


@dataclass
class RoomTensors:
    """Every window of a room dataset, stacked (float32 unless noted; see the module doc)."""

    past: torch.Tensor  # (N, 8, 4)
    observer: torch.Tensor  # (N, 8, 4)
    scene: torch.Tensor  # (N, 64, 64) uint8 cm
    pose: torch.Tensor  # (N, 144)
    path: torch.Tensor  # (N, 56, 3)
    goal: torch.Tensor  # (N, 3)
    body: torch.Tensor  # (N, 56, 144)
    scene_names: list[str]

    def __len__(self) -> int:
        return len(self.past)

    def batch(self, index) -> dict[str, torch.Tensor]:
        """The tensors of windows `index` (a dict of FIELDS)."""
        idx = torch.as_tensor(np.asarray(index, dtype=np.int64))
        return {k: getattr(self, k)[idx] for k in FIELDS}

    def spread(self, n: int) -> np.ndarray:
        """n window indices spread evenly over the set (consecutive windows share an episode)."""
        return np.unique(np.linspace(0, len(self) - 1, min(n, len(self))).astype(np.int64))


def load_room_tensors(
    directory: str | os.PathLike, stride: int = 10, max_episodes: int | None = None
) -> RoomTensors:
    """Cut every `stride`-th window of every episode of the room dataset in `directory`."""
    from policies.data.room import RoomWindows
    from policies.data.store import DatasetError, ShardReader

    ds = RoomWindows(directory, stride=stride)  # validates the dataset
    if stride < 1:
        raise ValueError(f"stride={stride}: expected >= 1")
    starts = range(0, ds.manifest.frames - PAST - FUTURE + 1, stride)
    rows: dict[str, list] = {k: [] for k in FIELDS}
    names: list[str] = []
    seen = 0
    for rec in ds.manifest.shards:
        reader = ShardReader(Path(directory), rec, ds.manifest.fields)
        for e in range(rec.episodes):
            if max_episodes is not None and seen >= max_episodes:
                break
            ep = reader.read(e)
            seen += 1
            for s in starts:
                w = window(ep, s)
                for k in FIELDS:
                    rows[k].append(w[k])
                names.append(str(ep["scene"]))
    if not names:
        raise DatasetError(f"{directory}: no windows (empty dataset?)")
    t = {
        k: torch.as_tensor(np.stack(v), dtype=torch.uint8 if k == "scene" else torch.float32)
        for k, v in rows.items()
    }
    return RoomTensors(**t, scene_names=names)


def voxels(scene_cm: torch.Tensor, layers: int = 8, height_m: float = 2.0) -> torch.Tensor:
    """(B, H, W) uint8 height crops (cm) -> (B, layers, H, W) 0/1 occupancy voxels (a column
    is solid from the floor to its top: exact for furniture standing on the floor)."""
    top = scene_cm.float() * CROP_UNIT_M
    lo = torch.arange(layers, dtype=torch.float32, device=top.device) * (height_m / layers)
    return (top[:, None] > lo[:, None, None]).float()


def ego_joints(body: np.ndarray) -> np.ndarray:
    """(..., T, 24, 3) joint positions (m) in the body's own frame (pelvis at the origin, root
    rotation removed) of bodies (..., T, 144), on the built-in mean skeleton: ATS's "joints"."""
    from navenv.body.kinematics import global_transforms
    from navenv.body.skeleton import Skeleton

    r = rot6d_to_matrix(np.asarray(body, float).reshape(*np.shape(body)[:-1], 24, 6))
    r[..., 0, :, :] = np.eye(3)
    offsets = Skeleton.builtin().offsets
    _, pos = global_transforms(offsets, np.zeros((*r.shape[:-3], 3)), r)
    return pos - pos[..., :1, :]
