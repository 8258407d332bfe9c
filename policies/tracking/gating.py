"""Grip gating: when the tracker holds the reference at a grip, and which grip channels it opens.

On what the observation shows (closed loop):
- at a frame where the reference closes a grip the tracker waits (holds the reference there)
  until the observation shows it closed, up to `max_wait_s`; it lets no limb go while another
  the reference holds is still off its hold (three points of contact, up to `release_wait_s`);
- a wanted grip opens its channel only once the limb is within `grip_tolerance` of where the
  reference puts it (or after `max_wait_s`), and, while the reference names the hold, only when
  the env would close it on that hold (the env takes the nearest hold in its capture radius);
- a grip the reference holds but the body lost is re-armed by opening its channel for one step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from policies.tracking.config import TrackerConfig
from policies.tracking.reference import Reference


class GripGate:
    """The waiting and grip-channel state of one tracker (see the module doc): `waited` s at
    the current hold-up, `pending` (4,) s each wanted grip has been open, `lost` (4,) s each
    planned grip has been missing."""

    def __init__(self, config: TrackerConfig, dt: float) -> None:
        self.config, self.dt = config, float(dt)
        self.waited = 0.0
        self.pending = np.zeros(4)
        self.lost = np.zeros(4)

    def reset(self) -> None:
        """Forget every wait (a new reference)."""
        self.waited = 0.0
        self.lost[:] = 0.0
        self.pending[:] = 0.0

    def hold(self, ref: Reference, time: float, held: np.ndarray) -> bool:
        """Whether to stay at `time` this step (and count the wait): a grip the reference closes
        at this frame is still open, or a limb would let go while another wanted grip is open."""
        cfg = self.config
        frame = ref.frame_at(time)
        want = ref.grips[frame]
        new = want & ~held & (~ref.grips[frame - 1] if frame > 0 else True)
        waiting = cfg.wait_for_grip and new.any() and self.waited < cfg.max_wait_s - 1e-9
        if not waiting:
            # three points of contact (up to release_wait_s, then the plan goes on)
            lets_go = want & ~ref.grips[ref.frame_at(time + self.dt)] & held
            waiting = (
                cfg.wait_for_grip
                and lets_go.any()
                and (want & ~held).any()
                and self.waited < cfg.release_wait_s - 1e-9
            )
        self.waited = self.waited + self.dt if waiting else 0.0
        return bool(waiting)

    def channels(
        self,
        want: np.ndarray,
        held: np.ndarray,
        site_error: np.ndarray,
        meant: np.ndarray | None = None,
        nearest_hold: Callable[[int], int] | None = None,
    ) -> np.ndarray:
        """(4,) bool grip channels for the wanted grips `want` given the `held` ones: a wanted
        grip that is not closed yet opens once its grip site is within `grip_tolerance`
        (`site_error`, m) or after `max_wait_s`, and, where `meant` (4,) names its hold (>= 0),
        only while `nearest_hold(limb)` is that hold: the env closes a grip anywhere within its
        capture radius, and a grip closed off the reference drags the rest of the climb off it."""
        self.pending = np.where(want & ~held, self.pending + self.dt, 0.0)
        late = self.pending >= self.config.max_wait_s - 1e-9
        ready = (site_error < self.config.grip_tolerance) | late
        if meant is not None:
            # the env closes on the nearest hold in reach: only let it when that is the one
            # meant, even after the wait (a grip on another hold drags the rest off the plan)
            for limb in np.flatnonzero(want & ~held & ready & (meant >= 0)):
                ready[limb] = nearest_hold(int(limb)) == meant[limb]
        return want & (held | ready)

    def rearm(self, channels: np.ndarray, held: np.ndarray) -> np.ndarray:
        """`channels` with a grip the reference holds but the body has lost for longer than
        `rearm_after_s` opened (-1 once), so the env can close it again."""
        self.lost = np.where(channels & ~held, self.lost + self.dt, 0.0)
        rearm = self.lost > self.config.rearm_after_s
        channels[rearm] = False
        self.lost[rearm] = 0.0
        return channels


__all__ = ["GripGate"]
