"""Observations of ClimbRoute: proprioception, the route ahead, and the ego-centric frame stack.

Layouts (all float32, all in the pelvis frame unless stated; the constants below name the slices):

proprio (152):
    joint_angles 69 (rad, SMPL order x y z per joint) | joint_velocities 69 (rad/s, clipped)
    | root_height 1 (m, pelvis above z = 0) | root_linvel 3 (m/s) | root_angvel 3 (rad/s)
    | gravity 3 (unit vector) | grips 4 (1 = gripping; left hand, right hand, left foot, right foot)
route (K * 8 + 4 * 8, K = route_lookahead):
    for each of the next K hand holds after the furthest one a hand has reached (the top hold
    repeats when fewer remain): position 3 (m) | outward normal 3 | size 1 (m) | is_top 1
    then for each limb: grip site position 3 (m) | gripping 1 | route position of the hold it is
    on 1 (i / (R - 1), -1 when on none) | vector to its next target hold 3 (m) (hands: the next
    hand hold; feet: the next foot hold)
"""

from __future__ import annotations

import mujoco
import numpy as np

from navenv.envs.climb.layout import HOLD_COLUMNS, LIMB_COLUMNS, PROPRIO, len_cols
from navenv.envs.grips import NO_HOLD, Grips
from navenv.envs.proprio import fill_body
from navenv.humanoid.index import HumanoidIndex

PROPRIO_LAYOUT: dict[str, slice] = {name: f.slice for name, f in PROPRIO.fields.items()}
PROPRIO_DIM = PROPRIO.size
HOLD_FEATURES = len_cols(HOLD_COLUMNS)
LIMB_FEATURES = len_cols(LIMB_COLUMNS)
_P = PROPRIO_LAYOUT


def route_dim(lookahead: int) -> int:
    """Size of the route observation for `lookahead` holds."""
    return lookahead * HOLD_FEATURES + 4 * LIMB_FEATURES


class RouteView:
    """The route's holds as arrays, its hand and foot sequences, and the route observation.

    The hand sequence is the order in which hands take holds (both start holds, then every hand
    move of `Route.moves`; without moves, the route's non-foothold holds in order); progress is
    the furthest hand-sequence position a hand has gripped. The foot sequence likewise.
    """

    def __init__(
        self,
        hold_positions: np.ndarray,
        hold_normals: np.ndarray,
        hold_sizes: np.ndarray,
        route_holds: np.ndarray,
        hand_seq: np.ndarray,
        foot_seq: np.ndarray,
        lookahead: int,
    ):
        self.route = np.asarray(route_holds, dtype=int)  # (R,) scene hold indices, route order
        self.all_pos = np.asarray(hold_positions, dtype=np.float64)  # (H, 3)
        self.all_normal = np.asarray(hold_normals, dtype=np.float64)
        self.all_size = np.asarray(hold_sizes, dtype=np.float64)
        self.hand_seq = np.asarray(hand_seq, dtype=int)
        self.foot_seq = np.asarray(foot_seq, dtype=int)
        self.lookahead = lookahead
        self.route_pos_of_hold = {int(h): i for i, h in enumerate(self.route)}
        # the same as an array over every scene hold (plus a -1 slot for "no hold" at index -1)
        self._route_pos = np.full(len(self.all_pos) + 1, -1)
        self._route_pos[self.route] = np.arange(len(self.route))
        self.hand_pos_of_hold = {int(h): i for i, h in enumerate(self.hand_seq)}
        self.foot_pos_of_hold = {int(h): i for i, h in enumerate(self.foot_seq)}
        self._norm = 1.0 / max(len(self.route) - 1, 1)
        # the K hand holds after each position of the hand sequence (the top repeats at the end)
        n = len(self.hand_seq)
        self._ahead = self.hand_seq[
            np.minimum(np.arange(n + 1)[:, None] + np.arange(lookahead), n - 1)
        ]
        self._pts = np.empty((2 * lookahead + 8, 3))
        self._holds = np.empty((lookahead, HOLD_FEATURES))
        self._limbs = np.empty((4, LIMB_FEATURES))

    def position_of(self, hold: int) -> int:
        """Route position (0..R-1) of scene hold `hold`, or -1 when it is not on the route."""
        return self.route_pos_of_hold.get(int(hold), -1)

    def hand_position_of(self, hold: int) -> int:
        """Hand-sequence position of scene hold `hold`, or -1."""
        return self.hand_pos_of_hold.get(int(hold), -1)

    def foot_position_of(self, hold: int) -> int:
        """Foot-sequence position of scene hold `hold`, or -1."""
        return self.foot_pos_of_hold.get(int(hold), -1)

    @property
    def n_hand(self) -> int:
        """Length of the hand sequence."""
        return len(self.hand_seq)

    def next_hand_hold(self, reached: int) -> int:
        """Scene index of the next hand hold after hand-sequence position `reached`."""
        return int(self.hand_seq[min(reached + 1, len(self.hand_seq) - 1)])

    def observe(
        self,
        pelvis_pos: np.ndarray,
        pelvis_rot: np.ndarray,
        sites: np.ndarray,
        active: np.ndarray,
        held: np.ndarray,
        reached: int,
        foot_reached: int,
    ) -> np.ndarray:
        """(route_dim,) float32 (sites: (4, 3) grip sites, world; held: (4,) scene holds or -1)."""
        k = self.lookahead
        ahead = self._ahead[min(reached + 1, len(self._ahead) - 1)]  # (K,) scene holds
        # every world point/direction goes to the pelvis frame in one product (hot path)
        pts = self._pts
        pts[:k] = self.all_pos[ahead] - pelvis_pos
        pts[k : 2 * k] = self.all_normal[ahead]
        pts[2 * k : 2 * k + 4] = sites - pelvis_pos
        pts[2 * k + 4 :] = self.limb_targets(reached, foot_reached) - sites
        local = pts @ pelvis_rot
        holds, limbs = self._holds, self._limbs
        hc, lc = HOLD_COLUMNS, LIMB_COLUMNS
        holds[:, hc["position"]] = local[:k]
        holds[:, hc["normal"]] = local[k : 2 * k]
        holds[:, hc["size"]] = self.all_size[ahead, None]
        holds[:, hc["is_top"]] = (ahead == self.hand_seq[-1])[:, None]
        limbs[:, lc["site"]] = local[2 * k : 2 * k + 4]
        limbs[:, lc["gripping"]] = active[:, None]
        route_pos = self._route_pos[held]  # held == -1 reads the trailing -1 slot
        limbs[:, lc["hold"]] = np.where(route_pos >= 0, route_pos * self._norm, -1.0)[:, None]
        limbs[:, lc["to_target"]] = local[2 * k + 4 :]
        out = np.empty(route_dim(k), np.float32)
        out[: k * HOLD_FEATURES] = holds.reshape(-1)
        out[k * HOLD_FEATURES :] = limbs.reshape(-1)
        return out

    def limb_targets(self, reached: int, foot_reached: int) -> np.ndarray:
        """(4, 3) world position each limb should go to next: both hands the next hand hold,
        both feet the next foot hold."""
        out = np.empty((4, 3))
        out[0:2] = self.all_pos[self.next_hand_hold(reached)]
        if len(self.foot_seq):
            out[2:4] = self.all_pos[self.foot_seq[min(foot_reached + 1, len(self.foot_seq) - 1)]]
        else:
            out[2:4] = out[0]
        return out


def proprioception(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    index: HumanoidIndex,
    grips: Grips,
    max_joint_speed: float,
    out: np.ndarray,
) -> np.ndarray:
    """Fill `out` (152,) with the proprio vector (see PROPRIO_LAYOUT) and return it."""
    fill_body(data, index, max_joint_speed, out, _P)
    out[_P["grips"]] = grips.held != NO_HOLD
    return out
