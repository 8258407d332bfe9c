"""The standard forecasting protocol on track files: 8 observed -> 12 predicted steps, per scene.

Windows slide with stride 1 over each contiguous segment (see navenv.tracks.io), within one scene
file, so no window spans a gap or two recordings. Each window carries the other pedestrians seen
during its observed steps as context, nearest first at the last observed step. Scenes are grouped
the standard way (`SCENE_GROUPS`) for leave-one-scene-out evaluation: train on every other scene,
test on the held-out one (Social GAN, Gupta et al. 2018).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from navenv.tracks.io import TrackFile

OBS_LEN = 8
"""Observed steps (3.2 s at 2.5 Hz)."""
PRED_LEN = 12
"""Predicted steps (4.8 s at 2.5 Hz)."""
MAX_NEIGHBOURS = 8
"""Default cap on the neighbours kept per window."""

SCENE_GROUPS: dict[str, str] = {
    "biwi_eth": "eth",
    "biwi_hotel": "hotel",
    "students001": "univ",
    "students003": "univ",
    "crowds_zara01": "zara1",
    "crowds_zara02": "zara2",
}
"""File stem -> scene, as in the ETH/UCY leave-one-scene-out protocol (univ is two recordings).
A stem not listed is a scene of its own."""


@dataclass
class Window:
    """N forecasting windows of one scene file; positions in metres, NaN where nobody is."""

    scene: str  # file stem the windows come from
    ped_id: np.ndarray  # (N,) int64, the forecast pedestrian
    start_frame: np.ndarray  # (N,) int64, frame of the first observed step
    obs: np.ndarray  # (N, obs_len, 2) observed positions
    fut: np.ndarray  # (N, pred_len, 2) positions to predict
    neighbours: np.ndarray  # (N, M, obs_len, 2) other pedestrians, nearest first, NaN padded

    def __len__(self) -> int:
        return len(self.obs)


class Fold(NamedTuple):
    """One leave-one-scene-out split: the held-out scene, the files to train on, those to test."""

    test_name: str
    train_files: list[TrackFile]
    test_files: list[TrackFile]


def _positive(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name}={value!r}; accepted: an int >= {minimum}")


def count_windows(
    track_file: TrackFile, obs_len: int = OBS_LEN, pred_len: int = PRED_LEN, stride: int = 1
) -> int:
    """Number of windows `windows` would cut with these settings, without building them."""
    length = obs_len + pred_len
    return sum(
        (len(t.frames) - length) // stride + 1 for t in track_file.tracks if len(t.frames) >= length
    )


def _scene_grid(track_file: TrackFile) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F,) frames, (P,) ped ids and (F, P, 2) positions of the whole scene, NaN where absent."""
    frames = np.unique(np.concatenate([t.frames for t in track_file.tracks]))
    peds = np.unique([t.ped_id for t in track_file.tracks])
    grid = np.full((len(frames), len(peds), 2), np.nan)
    for t in track_file.tracks:
        grid[np.searchsorted(frames, t.frames), np.searchsorted(peds, t.ped_id)] = t.xy
    return frames, peds, grid


def _empty(scene: str, obs_len: int, pred_len: int) -> Window:
    """No windows, with the shapes a non-empty result would have."""
    return Window(
        scene=scene,
        ped_id=np.zeros((0,), dtype=np.int64),
        start_frame=np.zeros((0,), dtype=np.int64),
        obs=np.zeros((0, obs_len, 2)),
        fut=np.zeros((0, pred_len, 2)),
        neighbours=np.zeros((0, 0, obs_len, 2)),
    )


def windows(
    track_file: TrackFile,
    obs_len: int = OBS_LEN,
    pred_len: int = PRED_LEN,
    stride: int = 1,
    max_neighbours: int = MAX_NEIGHBOURS,
) -> Window:
    """Cut obs_len -> pred_len windows from every segment of one scene file, with neighbours.

    A neighbour is another pedestrian with a position at one or more of the window's observed
    frames; neighbours are ordered by distance at the last observed frame (those absent then
    come last), ties by ped_id, and at most `max_neighbours` are kept. M is the largest number
    kept over the file's windows.
    """
    _positive("obs_len", obs_len, 2)  # a velocity needs two observed steps
    _positive("pred_len", pred_len)
    _positive("stride", stride)
    _positive("max_neighbours", max_neighbours, 0)
    length = obs_len + pred_len
    if not track_file.tracks:
        return _empty(track_file.scene, obs_len, pred_len)
    frames, peds, grid = _scene_grid(track_file)
    width = min(max_neighbours, len(peds) - 1)
    parts: list[tuple] = []
    for t in track_file.tracks:
        if len(t.frames) < length:
            continue
        starts = np.arange(0, len(t.frames) - length + 1, stride)
        idx = starts[:, None] + np.arange(length)  # (n, L)
        obs, fut = t.xy[idx[:, :obs_len]], t.xy[idx[:, obs_len:]]
        context = grid[np.searchsorted(frames, t.frames[idx[:, :obs_len]])]  # (n, obs, P, 2)
        context[:, :, peds == t.ped_id] = np.nan
        seen = ~np.isnan(context[..., 0]).all(axis=1)  # (n, P)
        dist = np.linalg.norm(context[:, -1] - obs[:, -1, None], axis=-1)  # (n, P), NaN if absent
        dist = np.where(np.isnan(dist), np.inf, dist)
        # Primary key: seen at all; then distance. lexsort is stable, so ties keep ped_id order.
        order = np.lexsort((dist, ~seen), axis=-1)[:, :width]  # (n, width)
        near = np.take_along_axis(context, order[:, None, :, None], axis=2)  # (n, obs, width, 2)
        count = np.take_along_axis(seen, order, axis=1).sum(axis=1)
        ped = np.full(len(starts), t.ped_id, dtype=np.int64)
        parts.append((ped, t.frames[starts], obs, fut, near.transpose(0, 2, 1, 3), count))
    if not parts:
        return _empty(track_file.scene, obs_len, pred_len)
    ped, start, obs, fut, near, count = (np.concatenate(c) for c in zip(*parts))
    m = int(count.max(initial=0))
    return Window(
        scene=track_file.scene,
        ped_id=ped,
        start_frame=start.astype(np.int64),
        obs=obs,
        fut=fut,
        neighbours=np.ascontiguousarray(near[:, :m]),
    )


def scene_group(name: str) -> str:
    """The scene a file stem belongs to (`SCENE_GROUPS`), or the stem itself if not listed."""
    return SCENE_GROUPS.get(name, name)


def group_scenes(files: list[TrackFile]) -> dict[str, list[TrackFile]]:
    """Files grouped by scene (`scene_group` of each file's stem), scenes sorted by name."""
    groups: dict[str, list[TrackFile]] = {}
    for f in files:
        groups.setdefault(scene_group(f.scene), []).append(f)
    return dict(sorted(groups.items()))


def leave_one_scene_out(files: list[TrackFile]) -> list[Fold]:
    """One fold per scene (sorted by name): test on its files, train on every other scene's."""
    groups = group_scenes(files)
    if len(groups) < 2:
        raise ValueError(
            f"leave_one_scene_out: got {len(groups)} scene(s) ({', '.join(groups) or 'none'}); "
            "accepted: files from at least two scenes"
        )
    # Train files keep the order they were given in (load_track_dir sorts by name).
    return [
        Fold(name, [f for f in files if scene_group(f.scene) != name], test)
        for name, test in groups.items()
    ]
