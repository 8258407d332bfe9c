"""The order in which limbs take holds: the route's moves, varied by seed.

Routes from the route setter carry their moves (`Route.moves`, every stance checked for reach);
hand-made and imported routes do not, and `derive_moves` builds a sequence from the route's hand
and foot hold orders: the lower hand moves up to the next hand hold, then the lower foot follows
to the next foothold, and both hands finish matched on the top hold. `climb_sequence` then swaps
consecutive independent moves at random (the seed's "choice among equals") when the stance in
between stays reachable for the route setter's climber.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from navenv.envs.climb.compiled import limb_sequences
from scenes.reach import DEFAULT_CLIMBER, ClimberDims, stance_reachable
from scenes.types import LIMBS, Hold, Route

HANDS = ("left_hand", "right_hand")
FEET = ("left_foot", "right_foot")


def climb_sequence(
    route: Route,
    kinds: Mapping[str, str],
    holds: Mapping[str, Hold],
    rng: np.random.Generator,
    swap_probability: float = 0.0,
    climber: ClimberDims = DEFAULT_CLIMBER,
) -> list[tuple[str, str]]:
    """(limb, hold id) moves from the start stance to both hands on the top hold.

    kinds: hold id -> kind; holds: hold id -> Hold (for reach checks). One rng draw per
    consecutive pair, so the sequence is a pure function of the route and the generator state.
    """
    missing = [l for l in LIMBS if l not in route.start]
    if missing:
        raise ValueError(
            f"route {route.id!r}: start stance lacks {missing}; the scripted climber needs all of "
            f"{LIMBS} on start holds"
        )
    moves = list(route.moves) if route.moves else derive_moves(route, kinds, holds)
    if not moves or moves[-1][1] != route.top:
        raise ValueError(f"route {route.id!r}: its moves do not end on the top hold {route.top!r}")
    stance = dict(route.start)
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(moves):
        if i + 1 < len(moves):
            draw = rng.random()
            a, b = moves[i], moves[i + 1]
            if draw < swap_probability and _swappable(stance, a, b, route.top, holds, climber):
                a, b = b, a
            out += [a, b]
            stance[a[0]], stance[b[0]] = a[1], b[1]
            i += 2
        else:
            out.append(moves[i])
            stance[moves[i][0]] = moves[i][1]
            i += 1
    return out


def _swappable(stance, a, b, top: str, holds, climber: ClimberDims) -> bool:
    """Can move b go before move a? Different limbs and holds, neither finishing on the top,
    b's hold free now, and the stance with b done first reachable."""
    (la, ha), (lb, hb) = a, b
    if la == lb or ha == hb or top in (ha, hb) or hb in stance.values():
        return False
    between = {**stance, lb: hb}
    return stance_reachable(climber, {l: holds[between[l]] for l in LIMBS})


def derive_moves(
    route: Route, kinds: Mapping[str, str], holds: Mapping[str, Hold]
) -> list[tuple[str, str]]:
    """Moves for a route without `moves`: hands take the hand sequence (the lower hand moves),
    feet follow on the foot sequence, both hands match on the top hold."""
    hand_seq, foot_seq = limb_sequences(route, dict(kinds))
    stance = dict(route.start)
    starts = set(stance.values())
    hand_next = [h for h in hand_seq if h not in starts and h != route.top]
    foot_next = [h for h in foot_seq if h not in starts]
    height = {h: float(holds[h].position[2]) for h in holds}
    moves: list[tuple[str, str]] = []

    def move(limb: str, hold_id: str) -> None:
        moves.append((limb, hold_id))
        stance[limb] = hold_id

    for hold_id in hand_next:
        move(min(HANDS, key=lambda l: (height[stance[l]], l)), hold_id)
        lowest_hand = min(height[stance[l]] for l in HANDS)
        # feet follow while the next foothold sits well below the hands
        while foot_next and height[foot_next[0]] < lowest_hand - 0.5:
            move(min(FEET, key=lambda l: (height[stance[l]], l)), foot_next.pop(0))
    first = min(HANDS, key=lambda l: (height[stance[l]], l))
    if stance[first] != route.top:
        move(first, route.top)
    other = "right_hand" if first == "left_hand" else "left_hand"
    if stance[other] != route.top:
        move(other, route.top)
    return moves
