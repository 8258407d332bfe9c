"""Reading ETH/UCY pedestrian track files: rows `frame ped_id x y`, metres on the ground plane.

Each data row holds exactly four numbers separated by any whitespace (tabs or spaces); frame and
pedestrian id may be written as floats (`0.0\t1.0\t11.23\t3.74`) but must be whole numbers.
Blank lines and lines starting with `#` are skipped. Rows may come in any order across
pedestrians (the published files are sorted by frame), but one pedestrian's frames must strictly
increase down the file.

The frame step is the most common positive frame difference within pedestrians (10 in the UCY
files); one step lasts 1 / fps seconds (2.5 Hz, i.e. 0.4 s, by default). A pedestrian whose
frames jump by anything other than the frame step (a gap in the annotation) is split there into
separate contiguous segments, each a `Track` of its own with the same `ped_id`, so every
consecutive pair of rows in a `Track` is exactly one step apart.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FRAME_STEP = 10
"""Frame difference of one step in the published UCY files; used when a file shows none."""
FPS = 2.5
"""Steps per second of the annotations at their frame step (10 frames = 0.4 s)."""
TRACK_SUFFIX = ".txt"
COLUMNS = ("frame", "ped_id", "x", "y")

_ACCEPTED_ROW = "accepted: rows of four whitespace-separated numbers 'frame ped_id x y'"
# A plain decimal number; float() alone would also take '1_0', 'nan' and 'infinity'.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


class TrackFormatError(ValueError):
    """A track file that is not in the `frame ped_id x y` format; names the file and line."""

    def __init__(self, path: str | Path, line: int | None, what: str, accepted: str):
        self.path = str(path)
        self.line = line
        where = f"{self.path}: line {line}" if line is not None else self.path
        super().__init__(f"{where}: {what}; {accepted}")


@dataclass
class Track:
    """One contiguous segment of one pedestrian: frames one frame step apart, positions in metres."""

    ped_id: int
    frames: np.ndarray  # (T,) int64, strictly increasing by the file's frame step
    xy: np.ndarray  # (T, 2) float64, metres on the ground plane


@dataclass
class TrackFile:
    """The tracks of one file (one recording of one scene), split into contiguous segments."""

    path: Path
    frame_step: int  # frames per step, detected from the file
    tracks: list[Track]  # sorted by ped_id, then by first frame
    fps: float = FPS  # steps per second at `frame_step`

    @property
    def name(self) -> str:
        """The file name, e.g. 'crowds_zara01.txt'."""
        return self.path.name

    @property
    def scene(self) -> str:
        """The scene name: the file stem, e.g. 'crowds_zara01'."""
        return self.path.stem

    @property
    def pedestrians(self) -> int:
        """Number of distinct pedestrian ids (a pedestrian may have several segments)."""
        return len({t.ped_id for t in self.tracks})

    @property
    def dt(self) -> float:
        """Seconds per step."""
        return 1.0 / self.fps


def _check_fps(fps: float) -> float:
    number = not isinstance(fps, bool) and isinstance(fps, int | float)
    if not number or not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps={fps!r}; accepted: a positive finite number of steps per second")
    return float(fps)


def _parse_row(text: str, path: Path, line: int) -> tuple[int, int, float, float]:
    """One data row -> (frame, ped_id, x, y), or TrackFormatError naming the line."""
    tokens = text.split()
    if len(tokens) != len(COLUMNS):
        raise TrackFormatError(
            path, line, f"expected 4 columns, got {len(tokens)} ({text[:60]!r})", _ACCEPTED_ROW
        )
    values = []
    for name, token in zip(COLUMNS, tokens):
        if _NON_FINITE.fullmatch(token):
            raise TrackFormatError(
                path, line, f"{name} is {token}", "accepted: finite numbers only (no NaN or inf)"
            )
        if not _NUMBER.fullmatch(token):
            raise TrackFormatError(
                path, line, f"{name} {token[:30]!r} is not a number", _ACCEPTED_ROW
            )
        value = float(token)
        if not math.isfinite(value):  # e.g. 1e999 overflows
            raise TrackFormatError(
                path, line, f"{name} {token[:30]} overflows a float", "accepted: finite numbers"
            )
        values.append(value)
    frame, ped, x, y = values
    for name, value in (("frame", frame), ("ped_id", ped)):
        if value != int(value):
            raise TrackFormatError(
                path, line, f"{name} {value!r} is not a whole number", "accepted: e.g. 10 or 10.0"
            )
    return int(frame), int(ped), x, y


def _read_rows(path: Path) -> dict[int, list[tuple[int, float, float]]]:
    """Rows grouped by pedestrian, in file order, each pedestrian's frames checked increasing."""
    try:
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise TrackFormatError(
            path, None, f"not UTF-8 text (byte {e.start})", "accepted: a plain text file"
        ) from None
    rows: dict[int, list[tuple[int, float, float]]] = {}
    last_line: dict[int, int] = {}
    for line, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        frame, ped, x, y = _parse_row(stripped, path, line)
        seen = rows.setdefault(ped, [])
        if seen and frame <= seen[-1][0]:
            kind = "repeats" if frame == seen[-1][0] else "comes after"
            raise TrackFormatError(
                path,
                line,
                f"frame {frame} of pedestrian {ped} {kind} its frame {seen[-1][0]} "
                f"on line {last_line[ped]}",
                "accepted: each pedestrian's frames strictly increasing down the file",
            )
        seen.append((frame, x, y))
        last_line[ped] = line
    if not rows:
        raise TrackFormatError(
            path, None, "no data rows (empty, or only blank and '#' lines)", _ACCEPTED_ROW
        )
    return rows


def _detect_step(frames: list[np.ndarray]) -> int:
    """The most common positive frame difference within pedestrians (the smallest on a tie)."""
    counts: Counter[int] = Counter()
    for f in frames:
        counts.update(np.diff(f).tolist())
    if not counts:  # every pedestrian seen once: nothing to measure
        return FRAME_STEP
    best = max(counts.values())
    return min(step for step, n in counts.items() if n == best)


def _segments(ped: int, frames: np.ndarray, xy: np.ndarray, step: int) -> list[Track]:
    """Split one pedestrian's rows wherever consecutive frames are not one step apart."""
    cuts = np.flatnonzero(np.diff(frames) != step) + 1
    return [
        Track(ped_id=ped, frames=f, xy=p)
        for f, p in zip(np.split(frames, cuts), np.split(xy, cuts))
    ]


def load_tracks(path: str | Path, *, fps: float = FPS) -> TrackFile:
    """Read one ETH/UCY track file; TrackFormatError names the file and line of a bad row."""
    fps = _check_fps(fps)
    path = Path(path)
    rows = _read_rows(path)
    peds = sorted(rows)
    frames = [np.array([r[0] for r in rows[p]], dtype=np.int64) for p in peds]
    xys = [np.array([r[1:] for r in rows[p]], dtype=np.float64).reshape(-1, 2) for p in peds]
    step = _detect_step(frames)
    tracks = [t for p, f, xy in zip(peds, frames, xys) for t in _segments(p, f, xy, step)]
    return TrackFile(path=path, frame_step=step, tracks=tracks, fps=fps)


def load_track_dir(directory: str | Path, *, fps: float = FPS) -> list[TrackFile]:
    """Read every *.txt track file of a directory, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such directory of track files")
    paths = sorted(p for p in directory.iterdir() if p.suffix == TRACK_SUFFIX and p.is_file())
    if not paths:
        raise FileNotFoundError(
            f"{directory}: no track files; accepted: a directory holding *{TRACK_SUFFIX} files "
            "with rows 'frame ped_id x y'"
        )
    return [load_tracks(p, fps=fps) for p in paths]
