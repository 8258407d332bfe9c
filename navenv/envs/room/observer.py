"""The observer: a person holding a camera who moves by a scripted behaviour and films the agent.

ATS learns from casual video shot by someone who is in the room too; the agent's behaviour is
conditioned on that person's trajectory. The observer here walks on the room's walkable grid at
`speed` and always turns (at a limited rate) to keep the camera on the agent. Behaviours:

- ``stand``: stays where it spawned.
- ``follow``: walks toward the agent until within `distance`, re-planning every second.
- ``circle``: orbits the agent at `distance` (the orbit point snapped onto walkable cells).
- ``walk_past``: walks back and forth between its spawn and the point mirrored through the
  agent, passing it.

It never steps closer than PERSONAL_GAP_M to the agent. Its body is a MuJoCo mocap body (a torso
capsule, a head and a camera in its hands) so it appears in every camera and the agent can
collide with it.
"""

from __future__ import annotations

import math

import numpy as np

from navenv.envs.room.config import OBSERVER_MODES
from scenes.navigation import NavGrid, NoPathError, plan_path, resample_path

PERSONAL_GAP_M = 0.8  # the observer stops rather than come closer than this to the agent
REPLAN_S = 1.0  # seconds between two plans while following or circling
TURN_RATE = 3.0  # rad/s the observer turns its camera toward the agent
PATH_SPACING_M = 0.05
AVOID_MARGIN_M = 0.3  # paths pass the agent this much beyond the personal gap


class Observer:
    """State and behaviour of the observer (positions in world metres, yaw in radians)."""

    def __init__(self, nav: NavGrid, speed: float, distance: float):
        self.nav, self.speed, self.distance = nav, float(speed), float(distance)
        self.mode = "stand"
        self.xy = np.zeros(2)
        self.yaw = 0.0
        self._path = np.zeros((1, 2))
        self._s = 0  # index into _path
        self._clock = 0.0
        self._orbit = 0.0
        self._orbit_dir = 1.0
        self._ends: tuple[np.ndarray, np.ndarray] | None = None

    def reset(self, mode: str, xy, yaw: float, agent_xy, rng: np.random.Generator) -> None:
        """Start behaviour `mode` at floor point `xy` facing `yaw`."""
        if mode not in OBSERVER_MODES:
            raise ValueError(f"observer mode {mode!r}: expected one of {OBSERVER_MODES}")
        self.mode = mode
        self.xy = self.nav.nearest_walkable(np.asarray(xy, float))
        self.yaw = float(yaw)
        self._path, self._s, self._clock = self.xy[None].copy(), 0, 0.0
        rel = self.xy - np.asarray(agent_xy, float)
        self._orbit = math.atan2(rel[1], rel[0])
        self._orbit_dir = 1.0 if rng.random() < 0.5 else -1.0
        self._ends = None
        if mode == "walk_past":
            far = self.nav.nearest_walkable(np.asarray(agent_xy, float) - rel)
            self._ends = (self.xy.copy(), far)
            self._plan(far, np.asarray(agent_xy, float))
        elif mode in ("follow", "circle"):
            self._replan(np.asarray(agent_xy, float))

    def step(self, dt: float, agent_xy) -> None:
        """Advance the behaviour by `dt` seconds with the agent at `agent_xy`."""
        agent_xy = np.asarray(agent_xy, float)
        self._clock += dt
        if self.mode in ("follow", "circle") and self._clock >= REPLAN_S:
            self._clock = 0.0
            self._replan(agent_xy)
        if self.mode == "walk_past" and self._s >= len(self._path) - 1 and self._ends:
            a, b = self._ends
            self._ends = (b, a)
            self._plan(a, agent_xy)
        self._walk(dt, agent_xy)
        self._turn_toward(agent_xy, dt)

    # ---------------------------------------------------------------- internals
    def _replan(self, agent_xy: np.ndarray) -> None:
        if self.mode == "follow":
            gap = np.linalg.norm(agent_xy - self.xy)
            if gap <= self.distance:
                self._path, self._s = self.xy[None].copy(), 0
                return
            self._plan(agent_xy, agent_xy, stop_short=self.distance)
        else:  # circle: the orbit point a second's walk ahead
            self._orbit += self._orbit_dir * self.speed * REPLAN_S / max(self.distance, 0.5)
            target = agent_xy + self.distance * np.array(
                [math.cos(self._orbit), math.sin(self._orbit)]
            )
            self._plan(self.nav.nearest_walkable(target), agent_xy)

    def _plan(self, goal: np.ndarray, agent_xy: np.ndarray, stop_short: float = 0.0) -> None:
        """Walk to `goal` around the agent's personal disc (a follow stops `stop_short` early)."""
        nav = self.nav.blocked_disc(agent_xy, PERSONAL_GAP_M + AVOID_MARGIN_M, keep=self.xy)
        if stop_short > 0:  # the agent's own cell is blocked now: aim at the edge of the disc
            nav = self.nav
        try:
            path = plan_path(nav, self.xy, goal)
        except NoPathError:  # an unreachable orbit point: wait for the next plan
            self._path, self._s = self.xy[None].copy(), 0
            return
        path = resample_path(np.vstack([self.xy, path]), PATH_SPACING_M)
        if stop_short > 0:
            keep = np.linalg.norm(path - goal, axis=1) > stop_short
            path = path[: max(int(np.argmin(keep)) if not keep.all() else len(path), 1)]
        self._path, self._s = path, 0

    def _walk(self, dt: float, agent_xy: np.ndarray) -> None:
        steps = max(round(self.speed * dt / PATH_SPACING_M), 1)
        nxt = min(self._s + steps, len(self._path) - 1)
        if nxt == self._s:
            return
        if np.linalg.norm(self._path[nxt] - agent_xy) < PERSONAL_GAP_M:
            return  # keep a personal distance: wait for the agent to move on
        self._s = nxt
        self.xy = self._path[nxt].copy()

    def _turn_toward(self, agent_xy: np.ndarray, dt: float) -> None:
        d = agent_xy - self.xy
        if np.hypot(*d) < 1e-6:
            return
        want = math.atan2(d[0], -d[1])  # yaw that faces (dx, dy), rest facing -y
        err = (want - self.yaw + math.pi) % (2 * math.pi) - math.pi
        self.yaw += float(np.clip(err, -TURN_RATE * dt, TURN_RATE * dt))
