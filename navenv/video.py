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


_END, _ABORT = object(), object()


class Mp4Stream:
    """An mp4 written frame by frame: frames are encoded on a background thread as they come
    (so a long episode never holds its video in memory); `close()` finishes the file, written
    atomically by `write_mp4`; `abort()` (or an exception inside a `with` block) leaves none."""

    def __init__(self, path: str | os.PathLike, fps: float) -> None:
        import queue
        import threading

        self.path = Path(path)
        self._queue: queue.Queue = queue.Queue(maxsize=32)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, args=(fps,), daemon=True)
        self._thread.start()

    def _frames(self):
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if item is _ABORT:
                raise InterruptedError(f"{self.path}: aborted")
            yield item

    def _write(self, fps: float) -> None:
        try:
            write_mp4(self.path, self._frames(), fps)
        except BaseException as e:  # reported by close()
            self._error = e

    def _put(self, item) -> bool:
        """Queue `item` unless the writer has stopped (never blocks on a dead writer)."""
        import queue

        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def append(self, frame: np.ndarray) -> None:
        """Queue one uint8 RGB frame (H, W, 3); every frame must have the first one's size."""
        if not self._put(frame):
            raise RuntimeError(f"{self.path}: the writer stopped ({self._error!r})")

    def close(self) -> Path:
        """Finish the file; returns its path (re-raises what stopped the writer)."""
        self._put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.path

    def abort(self) -> None:
        """Stop without leaving a file."""
        self._put(_ABORT)
        self._thread.join()

    def __enter__(self) -> Mp4Stream:
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
