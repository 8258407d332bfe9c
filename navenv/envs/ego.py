"""The ego-centric camera every navenv env shares: a ray-cast head camera and its frame stack.

`EgoVideo` renders the humanoid's head camera with the CPU ray-caster (no OpenGL; the head's own
geoms are excluded so the camera sees past them) and keeps the last `frames` frames, oldest first,
as the observation's ``ego_rgb`` (and ``ego_depth`` when asked). Spaces come from `spaces()`.
"""

from __future__ import annotations

import mujoco
import numpy as np
from gymnasium import spaces as gym_spaces

from navenv.humanoid import names
from navenv.render.raycast import RayCastCamera


class FrameStack:
    """The last `n` frames, oldest first, as one (n, H, W, C) uint8 array (a ring buffer)."""

    def __init__(self, n: int, frame_shape: tuple[int, ...], dtype=np.uint8):
        self.frames = np.zeros((n, *frame_shape), dtype=dtype)
        self.head = 0

    def reset(self, frame: np.ndarray) -> None:
        """Fill every slot with `frame` (the first observation of an episode)."""
        self.frames[:] = frame
        self.head = 0

    def push(self, frame: np.ndarray) -> None:
        """Add the newest frame, dropping the oldest."""
        self.frames[self.head] = frame
        self.head = (self.head + 1) % len(self.frames)

    def stacked(self) -> np.ndarray:
        """(n, ...) frames in time order, oldest first (a new array)."""
        return np.roll(self.frames, -self.head, axis=0)


class EgoVideo:
    """The head camera of one model and the stacks of its last `frames` RGB (and depth) frames."""

    def __init__(
        self,
        model: mujoco.MjModel,
        head_body: int,
        width: int,
        height: int,
        fovy_deg: float,
        frames: int,
        depth: bool = False,
    ) -> None:
        self.width, self.height, self.frames, self.depth = (
            int(width),
            int(height),
            int(frames),
            bool(depth),
        )
        self.camera = RayCastCamera(
            model, self.width, self.height, fovy_deg, camera=names.EGO_CAMERA, bodyexclude=head_body
        )
        self._rgb = FrameStack(self.frames, (self.height, self.width, 3))
        self._depth = FrameStack(self.frames, (self.height, self.width), np.float32)

    def spaces(self) -> dict[str, gym_spaces.Box]:
        """Observation spaces of ``ego_rgb`` (frames, H, W, 3) uint8 and ``ego_depth`` (frames, H, W) m."""
        out = {
            "ego_rgb": gym_spaces.Box(
                0, 255, shape=(self.frames, self.height, self.width, 3), dtype=np.uint8
            )
        }
        if self.depth:
            out["ego_depth"] = gym_spaces.Box(
                0.0, np.inf, shape=(self.frames, self.height, self.width), dtype=np.float32
            )
        return out

    def render(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray | None]:
        """One frame: (H, W, 3) uint8 RGB and, with depth, (H, W) float32 metres."""
        if self.depth:
            return self.camera.render(data, depth=True)
        return self.camera.render(data), None

    def reset(self, data: mujoco.MjData) -> None:
        """Fill the stacks with the current frame (the first observation of an episode)."""
        rgb, depth = self.render(data)
        self._rgb.reset(rgb)
        if self.depth:
            self._depth.reset(depth)

    def push(self, data: mujoco.MjData) -> None:
        """Render the current frame and add it to the stacks."""
        rgb, depth = self.render(data)
        self._rgb.push(rgb)
        if self.depth:
            self._depth.push(depth)

    def observe(self) -> dict[str, np.ndarray]:
        """``ego_rgb`` (and ``ego_depth``): the stacked frames, oldest first (new arrays)."""
        out = {"ego_rgb": self._rgb.stacked()}
        if self.depth:
            out["ego_depth"] = self._depth.stacked()
        return out
