"""Grips: limbs holding holds, with MuJoCo's own equality constraints.

Each limb has one pre-declared `connect` equality between its body and the world (see
`navenv.world.compose_world`), inactive until the limb grips. Closing a grip writes the limb's grip
site (in its body frame) and the site's current world position into ``model.eq_data`` and sets
``data.eq_active``: the limb is then held where it was when the grip closed, free to rotate about
that point like a hand around a jug. A grip closes only when the limb's gripping geoms are within
`capture_radius` of a hold's surface (``mj_geomDistance``), and breaks when the constraint force
exceeds the limb's force limit; a broken grip stays open until its channel goes <= 0 again, so a
policy that holds the channel high does not re-grab in a loop.
"""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.humanoid import names
from navenv.humanoid.index import HumanoidIndex

NO_HOLD = -1


class Grips:
    """Grip state of the four limbs (order: names.LIMBS) for one model."""

    def __init__(
        self,
        model: mujoco.MjModel,
        index: HumanoidIndex,
        hold_geoms: np.ndarray,
        capture_radius: float,
        force_limits: np.ndarray,
    ) -> None:
        self.model = model
        self.index = index
        self.hold_geoms = np.asarray(hold_geoms, dtype=int)
        self.capture_radius = capture_radius
        self.force_limits = np.asarray(force_limits, dtype=np.float64)
        eq = mujoco.mjtObj.mjOBJ_EQUALITY
        self.equalities = np.array(
            [mujoco.mj_name2id(model, eq, names.GRIP_EQUALITIES[l]) for l in names.LIMBS]
        )
        if (self.equalities < 0).any():
            raise KeyError(
                "model has no grip equalities; build it with navenv.world.compose_world(grips=True)"
            )
        # gripping geoms: the hand's fingers and palm; the foot's toes and sole
        limb_bodies = {
            "left_hand": ("left_hand", "left_wrist"),
            "right_hand": ("right_hand", "right_wrist"),
            "left_foot": ("left_foot", "left_ankle"),
            "right_foot": ("right_foot", "right_ankle"),
        }
        body_id = {n: index.bodies[i] for i, n in enumerate(names.BODY_NAMES)}
        self.limb_geoms = [
            np.flatnonzero(np.isin(model.geom_bodyid, [body_id[b] for b in limb_bodies[l]]))
            for l in names.LIMBS
        ]
        self.site_local = model.site_pos[index.grip_sites].copy()  # (4, 3) in the limb body's frame
        self.hold_radius = (
            model.geom_rbound[self.hold_geoms] if len(self.hold_geoms) else np.zeros(0)
        )
        self.held = np.full(4, NO_HOLD)  # index into hold_geoms per limb
        self._active = np.zeros(4, bool)  # held != NO_HOLD, kept in step (read every env step)
        self.armed = np.ones(4, bool)
        self._fromto = np.zeros(6)

    # ------------------------------------------------------------------ state
    def reset(self, data: mujoco.MjData) -> None:
        """Open every grip."""
        self.held[:] = NO_HOLD
        self._active[:] = False
        self.armed[:] = True
        data.eq_active[self.equalities] = 0

    def set_state(self, data: mujoco.MjData, held: np.ndarray) -> None:
        """Close grips on the given holds (index per limb, -1 open) at the limbs' current positions."""
        self.reset(data)
        for limb, hold in enumerate(np.asarray(held, dtype=int)):
            if hold != NO_HOLD:
                self._close(data, limb, hold)

    @property
    def active(self) -> np.ndarray:
        """(4,) bool: which limbs grip (read-only by convention; updated in place)."""
        return self._active

    # ------------------------------------------------------------------ per step
    def command(self, data: mujoco.MjData, channels: np.ndarray) -> None:
        """Apply the grip channels (4,): > 0 close on the nearest hold in reach, <= 0 open."""
        for limb in range(4):
            want = channels[limb] > 0.0
            if not want:
                self.armed[limb] = True
                if self.held[limb] != NO_HOLD:
                    self._open(data, limb)
            elif self.held[limb] == NO_HOLD and self.armed[limb]:
                hold = self.nearest_hold(data, limb)
                if hold != NO_HOLD:
                    self._close(data, limb, hold)

    def enforce_limits(self, data: mujoco.MjData) -> np.ndarray:
        """Break grips whose constraint force exceeds their limit; returns (4,) bool broken."""
        forces = self.forces(data)
        broken = self.active & (forces > self.force_limits)
        for limb in np.flatnonzero(broken):
            self._open(data, limb)
            self.armed[limb] = False
        return broken

    def forces(self, data: mujoco.MjData) -> np.ndarray:
        """(4,) current constraint force norm (N) of each grip (0 when open)."""
        ne = data.ne  # MuJoCo puts the equality rows first in the constraint arrays
        if ne == 0:
            return np.zeros(4)
        f = data.efc_force[:ne]
        sq = np.bincount(data.efc_id[:ne], weights=f * f, minlength=self.model.neq)
        return np.sqrt(sq[self.equalities]) * self._active

    def nearest_hold(self, data: mujoco.MjData, limb: int) -> int:
        """Index of the hold whose surface is nearest the limb's gripping geoms within the capture
        radius, or -1."""
        if len(self.hold_geoms) == 0:
            return NO_HOLD
        # bounding spheres first: only pairs whose spheres come within the capture radius can
        geoms = self.limb_geoms[limb]
        gap = np.linalg.norm(
            data.geom_xpos[self.hold_geoms][:, None, :] - data.geom_xpos[geoms][None, :, :], axis=-1
        )
        gap -= self.hold_radius[:, None] + self.model.geom_rbound[geoms][None, :]  # (H, G)
        pairs = np.argwhere(gap < self.capture_radius)
        best, best_d = NO_HOLD, self.capture_radius
        for h, k in pairs[np.argsort(gap[pairs[:, 0], pairs[:, 1]])]:
            d = mujoco.mj_geomDistance(
                self.model, data, int(geoms[k]), int(self.hold_geoms[h]), best_d, self._fromto
            )
            if d < best_d:
                best, best_d = int(h), d
        return best

    # ------------------------------------------------------------------ internals
    def _close(self, data: mujoco.MjData, limb: int, hold: int) -> None:
        eq = self.equalities[limb]
        self.model.eq_data[eq, 0:3] = self.site_local[limb]
        self.model.eq_data[eq, 3:6] = data.site_xpos[self.index.grip_sites[limb]]
        data.eq_active[eq] = 1
        self.held[limb] = hold
        self._active[limb] = True

    def _open(self, data: mujoco.MjData, limb: int) -> None:
        data.eq_active[self.equalities[limb]] = 0
        self.held[limb] = NO_HOLD
        self._active[limb] = False
