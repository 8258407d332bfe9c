"""A route setter: routes whose every stance the climber can reach, with grades and colours.

The body and the reach model live in scenes.reach (`ClimberDims`, `stance_reachable`) and hold
placement in scenes.placement (`place_holds`); both are re-exported here.

Grade (`grade_from_moves`), documented formula: with r_i = distance a hand travels in move i divided
by `arm_length`, D = mean of the three largest r_i, and K = mean hand-hold difficulty over the route's
hand holds (jug 0, pinch 1.0, sloper 1.2, crimp 1.5):
    V = clip(round(6 * (D - 0.6) / 0.7 + 1.5 * K), 0, 10)
A hand leapfrogging past the other travels about twice the hold spacing, so r ~ 0.6 is a short
move (V0 between jugs), r ~ 1.0 typical, and r ~ 1.3 between crimps V8. V never decreases when a
move gets longer or a hold gets harder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenes.placement import (
    DEFAULT_KIND_MIX,
    DEFAULT_PALETTE,
    HOLD_BASE_SIZE_M,
    place_holds,
    unit_rows,
    up_vector,
)
from scenes.reach import DEFAULT_CLIMBER, ClimberDims, reach_ok, stance_reachable
from scenes.types import LIMBS, RGBA, Hold, Route

__all__ = [
    "DEFAULT_KIND_MIX",
    "DEFAULT_PALETTE",
    "HOLD_BASE_SIZE_M",
    "ROUTE_COLOURS",
    "ClimberDims",
    "grade_from_moves",
    "place_holds",
    "route_stances",
    "set_routes",
    "stance_reachable",
]

HAND_KINDS = ("jug", "crimp", "sloper", "pinch")
KIND_DIFFICULTY = {"jug": 0.0, "pinch": 1.0, "sloper": 1.2, "crimp": 1.5}
ROUTE_COLOURS: tuple[tuple[str, RGBA], ...] = (
    ("red", (0.85, 0.1, 0.1, 1.0)),
    ("blue", (0.1, 0.3, 0.9, 1.0)),
    ("green", (0.1, 0.7, 0.2, 1.0)),
    ("yellow", (0.95, 0.85, 0.1, 1.0)),
    ("purple", (0.55, 0.2, 0.75, 1.0)),
    ("orange", (1.0, 0.5, 0.05, 1.0)),
    ("pink", (1.0, 0.45, 0.7, 1.0)),
    ("cyan", (0.1, 0.8, 0.85, 1.0)),
    ("white", (0.97, 0.97, 0.97, 1.0)),
    ("black", (0.08, 0.08, 0.08, 1.0)),
)
MIN_HAND_HOLDS = 5


def route_stances(route: Route) -> list[dict[str, str]]:
    """The stances (limb -> hold id) of a route: its start, then one after each move."""
    stance = dict(route.start)
    out = [dict(stance)]
    for limb, hold_id in route.moves:
        stance[limb] = hold_id
        out.append(dict(stance))
    return out


def grade_from_moves(move_ratios: Sequence[float], hand_kinds: Sequence[str]) -> str:
    """V-grade from hand-move distances (in arm lengths) and hand-hold kinds (module doc formula)."""
    if not move_ratios or not hand_kinds:
        raise ValueError("grade_from_moves: needs at least one move and one hand hold")
    bad = [k for k in hand_kinds if k not in KIND_DIFFICULTY]
    if bad:
        raise ValueError(f"grade_from_moves: {bad} are not hand-hold kinds {HAND_KINDS}")
    top = sorted(move_ratios, reverse=True)[:3]
    d = sum(top) / len(top)
    k = sum(KIND_DIFFICULTY[x] for x in hand_kinds) / len(hand_kinds)
    v = round(6.0 * (d - 0.6) / 0.7 + 1.5 * k)
    return f"V{min(10, max(0, v))}"


# --- route setting -------------------------------------------------------------------------------


@dataclass
class _Wall:
    """Hold arrays the setter searches, in a frame with `h` = height above the floor."""

    cl: ClimberDims
    up: np.ndarray
    pos: np.ndarray  # (H, 3)
    nrm: np.ndarray  # (H, 3)
    h: np.ndarray  # (H,) height above the floor along up
    lat: np.ndarray  # (H,) coordinate toward the climber's left
    hand: np.ndarray  # (H,) usable by hands (not a foothold)
    taken: np.ndarray  # (H,) a hand hold of an earlier route: off limits

    def ok(self, stances: np.ndarray) -> np.ndarray:
        """(S,) reachability of (S, 4) hold-index stances in LIMBS order."""
        return reach_ok(self.cl, self.pos[stances], self.nrm[stances], self.up)

    def free_for(self, st: dict[str, int]) -> np.ndarray:
        """Holds not already under a limb."""
        mask = np.ones(len(self.h), dtype=bool)
        mask[list(st.values())] = False
        return mask


def _with(st: dict[str, int], limb: str, idx: np.ndarray) -> np.ndarray:
    """(len(idx), 4) stances equal to `st` but with `limb` on each candidate hold."""
    base = np.array([st[limb_] for limb_ in LIMBS])
    out = np.tile(base, (len(idx), 1))
    out[:, LIMBS.index(limb)] = idx
    return out


def _start(w: _Wall, rng: np.random.Generator, other_lanes: list[float]) -> dict[str, int] | None:
    """Both hands near standing shoulder height, both feet on low holds, reachable together."""
    hs = w.cl.shoulder_height
    cand = np.flatnonzero(w.hand & ~w.taken & (w.h >= hs - 0.3) & (w.h <= hs + 0.35))
    if other_lanes and cand.size:
        gap = np.min(np.abs(w.lat[cand, None] - np.array(other_lanes)[None]), axis=1)
        if (gap >= 0.9).any():
            cand = cand[gap >= 0.9]
    if not cand.size:
        return None
    a = int(rng.choice(cand))
    band = (w.h >= hs - 0.3) & (w.h <= hs + 0.35)
    partner = np.flatnonzero(
        w.hand
        & ~w.taken
        & band
        & (np.abs(w.lat - w.lat[a]) >= 0.15)
        & (np.abs(w.lat - w.lat[a]) <= 0.7)
        & (np.abs(w.h - w.h[a]) <= 0.3)
    )
    b = a if (not partner.size or rng.random() < 0.2) else int(rng.choice(partner))
    lh, rh = (a, b) if w.lat[a] >= w.lat[b] else (b, a)
    mid = (w.lat[lh] + w.lat[rh]) / 2
    feet = np.flatnonzero(
        ~w.taken
        & (w.h >= 0.1)
        & (w.h <= 0.75)
        & (np.abs(w.lat - mid) <= 0.8)
        & (np.arange(len(w.h)) != lh)
        & (np.arange(len(w.h)) != rh)
    )
    i, j = np.meshgrid(feet, feet, indexing="ij")
    pairs = np.stack([i.ravel(), j.ravel()], 1)
    pairs = pairs[w.lat[pairs[:, 0]] > w.lat[pairs[:, 1]]]  # left foot to the left
    if not len(pairs):
        return None
    stances = np.column_stack([np.full(len(pairs), lh), np.full(len(pairs), rh), pairs])
    good = stances[w.ok(stances)]
    if not len(good):
        return None
    pick = good[int(rng.integers(len(good)))]
    return dict(zip(LIMBS, (int(v) for v in pick)))


def _hand_up(
    w: _Wall, rng: np.random.Generator, st: dict, lane: float, target: float
) -> str | None:
    """Move the lower hand (else the other) up to a reachable hold; returns the limb moved."""
    hand_top = max(w.h[st["left_hand"]], w.h[st["right_hand"]])
    for limb in sorted(("left_hand", "right_hand"), key=lambda k: (w.h[st[k]], k)):
        other = st["right_hand" if limb == "left_hand" else "left_hand"]
        cur = st[limb]
        low = max(hand_top - 0.15, w.h[cur] + 0.2)
        side = w.lat >= w.lat[other] - 0.1 if limb == "left_hand" else w.lat <= w.lat[other] + 0.1
        idx = np.flatnonzero(
            w.hand
            & ~w.taken
            & w.free_for(st)
            & side
            & (w.h > low)
            & (w.h <= hand_top + 1.4 * w.cl.arm_length)
            & (np.abs(w.lat - lane) <= 1.0)
        )
        if idx.size:
            idx = idx[w.ok(_with(st, limb, idx))]
        if not idx.size:
            continue
        ratio = np.linalg.norm(w.pos[idx] - w.pos[cur], axis=1) / w.cl.arm_length
        drift = np.maximum(np.abs(w.lat[idx] - lane) - 0.3, 0.0)
        score = np.abs(ratio - target) + 0.3 * drift + 0.15 * rng.random(idx.size)
        st[limb] = int(idx[np.argmin(score)])
        return limb
    return None


def _foot_up(w: _Wall, rng: np.random.Generator, st: dict, optional: bool) -> str | None:
    """Move the lower foot (else the other) up toward ~0.57 stature below the hands."""
    hand_low = min(w.h[st["left_hand"]], w.h[st["right_hand"]])
    mid = (w.lat[st["left_hand"]] + w.lat[st["right_hand"]]) / 2
    target_h = hand_low - 0.57 * w.cl.stature
    for limb in sorted(("left_foot", "right_foot"), key=lambda k: (w.h[st[k]], k)):
        cur = st[limb]
        if optional and target_h - w.h[cur] < 0.15:
            continue
        other = st["right_foot" if limb == "left_foot" else "left_foot"]
        left = limb == "left_foot"
        side = w.lat >= w.lat[other] + 0.05 if left else w.lat <= w.lat[other] - 0.05
        idx = np.flatnonzero(
            ~w.taken
            & w.free_for(st)
            & side
            & (w.h >= w.h[cur] + 0.1)
            & (w.h <= hand_low - 0.35)
            & (np.abs(w.lat - mid) <= 0.9)
        )
        if idx.size:
            idx = idx[w.ok(_with(st, limb, idx))]
        if not idx.size:
            continue
        want_lat = mid + (0.15 if left else -0.15)
        score = (
            np.abs(w.h[idx] - target_h)
            + 0.3 * np.abs(w.lat[idx] - want_lat)
            + 0.1 * rng.random(idx.size)
        )
        st[limb] = int(idx[np.argmin(score)])
        return limb
    return None


def _climb(w: _Wall, rng: np.random.Generator, st: dict, top_min: float) -> list | None:
    """Greedy ascent from a start stance to a matched top hold; the moves, or None if stuck."""
    lane = (w.lat[st["left_hand"]] + w.lat[st["right_hand"]]) / 2
    target = rng.uniform(0.45, 0.85)  # preferred hand move, in arm lengths: sets the style
    moves: list[tuple[str, int]] = []
    for _ in range(80):
        lh, rh = st["left_hand"], st["right_hand"]
        if max(w.h[lh], w.h[rh]) >= top_min:
            if lh == rh:
                return moves
            top, other = (lh, "right_hand") if w.h[lh] >= w.h[rh] else (rh, "left_hand")
            if w.ok(_with(st, other, np.array([top])))[0]:
                st[other] = top
                moves.append((other, top))
                return moves
            limb = _foot_up(w, rng, st, optional=False)
            if limb is None:
                return None
            moves.append((limb, st[limb]))
            continue
        limb = _hand_up(w, rng, st, lane, target)
        if limb is None:
            limb = _foot_up(w, rng, st, optional=False)
            if limb is None:
                return None
            moves.append((limb, st[limb]))
            continue
        moves.append((limb, st[limb]))
        limb = _foot_up(w, rng, st, optional=True)
        if limb is not None:
            moves.append((limb, st[limb]))
    return None


def _route(w: _Wall, holds: Sequence[Hold], k: int, start: dict, moves: list) -> Route | None:
    """Package a climbed sequence as a Route (None if it has too few hand holds)."""
    cur = dict(start)
    ratios = []
    for limb, i in moves:
        if "hand" in limb:
            ratios.append(float(np.linalg.norm(w.pos[i] - w.pos[cur[limb]])) / w.cl.arm_length)
        cur[limb] = i
    top = cur["left_hand"]  # _climb ends matched: both hands on the top hold
    hands = {start["left_hand"], start["right_hand"]} | {i for limb, i in moves if "hand" in limb}
    if len(hands) < MIN_HAND_HOLDS or not ratios:
        return None
    order = list(dict.fromkeys([*start.values(), *(i for _, i in moves)]))
    order = [i for i in order if i != top] + [top]
    grade = grade_from_moves(ratios, [holds[i].kind for i in sorted(hands)])
    colour_name, rgba = ROUTE_COLOURS[k]
    return Route(
        id=f"r{k}",
        name=f"{colour_name} {grade}",
        grade=grade,
        holds=[holds[i].id for i in order],
        start={limb: holds[i].id for limb, i in start.items()},
        top=holds[top].id,
        rgba=rgba,
        moves=[(limb, holds[i].id) for limb, i in moves],
    )


def set_routes(
    holds: Sequence[Hold],
    n_routes: int,
    rng: np.random.Generator,
    *,
    climber: ClimberDims = DEFAULT_CLIMBER,
    up: Sequence[float] = (0.0, 0.0, 1.0),
    floor_height: float = 0.0,
    recolour: bool = True,
    attempts_per_route: int = 40,
) -> list[Route]:
    """Set up to `n_routes` routes on the holds, each reachable move by move for `climber`.

    A route starts with both hands near standing shoulder height (hands may share a jug) and both
    feet on holds 0.1-0.75 m above the floor (`floor_height` along `up`), climbs with the lower
    hand moving up to a reachable hold (footholds are never hand holds), feet following, and ends
    matched on a top hold within 0.5 m of the highest hand hold on the wall; it has at least
    MIN_HAND_HOLDS hand holds. Hand holds are not shared between routes; feet may share. Routes
    that cannot be set are left out, so fewer than `n_routes` may come back. With `recolour`, holds
    on a route are recoloured in place to the route colour (a shared hold keeps the first route's).
    """
    if not isinstance(n_routes, int) or not 0 <= n_routes <= len(ROUTE_COLOURS):
        raise ValueError(
            f"set_routes: n_routes must be an int in 0..{len(ROUTE_COLOURS)}, got {n_routes!r}"
        )
    if not isinstance(climber, ClimberDims):
        raise ValueError(f"set_routes: climber must be a ClimberDims, got {type(climber).__name__}")
    u = up_vector(up)
    if n_routes == 0 or not holds:
        return []
    pos = np.array([h.position for h in holds], dtype=float)
    nrm = np.array([h.normal for h in holds], dtype=float)
    horiz = nrm.sum(0) - (nrm.sum(0) @ u) * u
    fallback = np.cross(u, [1.0, 0.0, 0.0]) if abs(u[0]) < 0.9 else np.cross(u, [0.0, 1.0, 0.0])
    out = unit_rows(horiz, fallback / np.linalg.norm(fallback))
    w = _Wall(
        cl=climber,
        up=u,
        pos=pos,
        nrm=nrm,
        h=pos @ u - floor_height,
        lat=pos @ np.cross(out, u),
        hand=np.array([h.kind != "foothold" for h in holds]),
        taken=np.zeros(len(holds), dtype=bool),
    )
    if not w.hand.any():
        return []
    top_min = float(w.h[w.hand].max()) - 0.5
    routes: list[Route] = []
    lanes: list[float] = []
    for k in range(n_routes):
        route = None
        for _ in range(attempts_per_route):
            start = _start(w, rng, lanes)
            if start is None:
                continue
            moves = _climb(w, rng, dict(start), top_min)
            route = None if moves is None else _route(w, holds, k, start, moves)
            if route is not None:
                break
        if route is None:
            break
        routes.append(route)
        lanes.append(float((w.lat[start["left_hand"]] + w.lat[start["right_hand"]]) / 2))
        index = {h.id: i for i, h in enumerate(holds)}
        for limb, hid in [*route.start.items(), *route.moves]:
            if "hand" in limb:
                w.taken[index[hid]] = True
    if recolour:
        claimed: set[str] = set()
        for r in routes:
            for h in holds:
                if h.id in r.holds and h.id not in claimed:
                    h.rgba = r.rgba
                    claimed.add(h.id)
    return routes
