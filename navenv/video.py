"""Writing mp4 videos (imageio's ffmpeg plugin), with an inset for the ego view."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def inset(
    frame: np.ndarray, small: np.ndarray, scale: int = 2, margin: int = 8, corner: str = "top_right"
) -> np.ndarray:
    """`frame` (H, W, 3) with `small` (h, w, 3) enlarged `scale` times and framed in a corner."""
    big = np.repeat(np.repeat(small, scale, axis=0), scale, axis=1)
    h, w = big.shape[:2]
    out = frame.copy()
    if h + 2 * margin > frame.shape[0] or w + 2 * margin > frame.shape[1]:
        return out  # no room: leave the frame alone rather than crop the inset
    y0 = margin if corner.startswith("top") else frame.shape[0] - h - margin
    x0 = frame.shape[1] - w - margin if corner.endswith("right") else margin
    out[y0 - 2 : y0 + h + 2, x0 - 2 : x0 + w + 2] = 255  # white border
    out[y0 : y0 + h, x0 : x0 + w] = big
    return out


def write_mp4(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float) -> Path:
    """Encode uint8 RGB frames to an H.264 mp4 atomically; returns the path."""
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".mp4")
    os.close(fd)
    n = 0
    try:
        with imageio.get_writer(
            tmp, fps=fps, codec="libx264", quality=7, macro_block_size=8
        ) as writer:
            for frame in frames:
                writer.append_data(np.ascontiguousarray(frame, dtype=np.uint8))
                n += 1
        if n == 0:
            raise ValueError(f"{path}: no frames to write")
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a video is for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
