"""`navenv tracks info`: one row per track file, and a total (used by navenv.cli)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from navenv.tracks.io import TrackFile, load_track_dir, load_tracks
from navenv.tracks.windows import OBS_LEN, PRED_LEN, count_windows, scene_group


@dataclass
class FileSummary:
    """What `navenv tracks info` reports about one file (or, for the total, several)."""

    name: str
    group: str
    pedestrians: int
    segments: int
    frames: str  # "first-last" frame, or "-" for the total
    duration_s: float  # recorded time, first to last frame
    frame_step: str
    windows: int  # OBS_LEN -> PRED_LEN windows, stride 1
    steps: int  # number of one-step displacements, the weight of mean_speed
    mean_speed: float  # m/s over every step of every segment (NaN if no step)


def summarise(tf: TrackFile) -> FileSummary:
    """The `tracks info` row of one loaded file."""
    first = min(int(t.frames[0]) for t in tf.tracks)
    last = max(int(t.frames[-1]) for t in tf.tracks)
    step = [np.linalg.norm(np.diff(t.xy, axis=0), axis=1) for t in tf.tracks]
    moves = np.concatenate(step) if step else np.zeros(0)
    return FileSummary(
        name=tf.name,
        group=scene_group(tf.scene),
        pedestrians=tf.pedestrians,
        segments=len(tf.tracks),
        frames=f"{first}-{last}",
        duration_s=(last - first) / tf.frame_step * tf.dt,
        frame_step=str(tf.frame_step),
        windows=count_windows(tf),
        steps=len(moves),
        mean_speed=float(moves.mean() * tf.fps) if len(moves) else float("nan"),
    )


def total(rows: list[FileSummary]) -> FileSummary:
    """The sum of several rows; the speed is the mean over all their steps."""
    steps = sum(r.steps for r in rows)
    moved = sum(r.mean_speed * r.steps for r in rows if r.steps)
    frame_steps = {r.frame_step for r in rows}
    n = len({r.group for r in rows})
    return FileSummary(
        name="total",
        group=f"{n} scene{'s' if n != 1 else ''}",
        pedestrians=sum(r.pedestrians for r in rows),
        segments=sum(r.segments for r in rows),
        frames="-",
        duration_s=sum(r.duration_s for r in rows),
        frame_step=frame_steps.pop() if len(frame_steps) == 1 else "mixed",
        windows=sum(r.windows for r in rows),
        steps=steps,
        mean_speed=moved / steps if steps else float("nan"),
    )


def load_path(path: str | Path) -> list[TrackFile]:
    """A track file, or every *.txt file of a directory."""
    path = Path(path)
    if path.is_dir():
        return load_track_dir(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such track file or directory")
    return [load_tracks(path)]


def print_table(rows: list[FileSummary], out: TextIO = sys.stdout) -> None:
    """The rows and their total as a text table, columns as wide as their widest cell."""
    head = ("file", "scene", "peds", "segments", "frames", "duration_s", "step")
    head += (f"win {OBS_LEN}->{PRED_LEN}", "m/s")
    cells = [head] + [
        (
            r.name,
            r.group,
            str(r.pedestrians),
            str(r.segments),
            r.frames,
            f"{r.duration_s:.1f}",
            r.frame_step,
            str(r.windows),
            f"{r.mean_speed:.2f}",
        )
        for r in [*rows, total(rows)]
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    for row in cells:
        # Names left-aligned, numbers right-aligned.
        text = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(text), file=out)


def run(args: argparse.Namespace) -> int:
    """Dispatch a `navenv tracks` subcommand."""
    if args.tracks_command == "info":
        print_table([summarise(tf) for tf in load_path(args.path)])
    return 0
