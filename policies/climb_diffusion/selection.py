"""Choosing among sampled chunks: which of K candidates moves the climb along its route.

A generative policy that samples one chunk per replan executes whatever the sampler draws, and
the shipped model's draws vary a lot (best-of-4 global MPJPE 121 mm against 140 mm for the mean
of 4 on val): some reach for an off-route hold, some hover. Sample-and-rank, as planners built
on generative models do (sampling many plans and keeping the one a cheap criterion prefers),
keeps what the model can do and drops what it does by chance. The criterion reads only what the
policy already gives the model as its prompt (the route's holds and which ones are held), from
the candidate's own inferred contacts (`grounding.infer_contacts`), before any grounding IK:

- advance: route holds gained by the hands beyond the highest one held now (capped);
- finish: both hands on the route's top hold (the env's success);
- reach: how near a free hand comes to the next hold it needs (m, lower is better);
- off-route: distinct holds off the route that the hands would grip.

Pure numpy on arrays, so the ranking is tested without a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from policies.climb_diffusion.grounding import HANDS


@dataclass
class SelectionConfig:
    """Weights of the route criterion (score units: one route hold gained = 1)."""

    advance_cap: int = 2
    """Route holds gained that count (more would reward skipping the route's holds)."""
    finish: float = 3.0
    """Bonus of a candidate whose hands both grip the top hold."""
    reach_per_m: float = 2.0
    """Penalty per metre between the nearest free hand and the next hold."""
    off_route: float = 0.5
    """Penalty per distinct off-route hold gripped by a hand."""


def next_target(route: list[int], held: np.ndarray) -> tuple[int, int]:
    """(rank of the highest route hold a hand holds now (-1: none), the scene hold a free hand
    should go for next: the next route hold, or the top again while only one hand holds it)."""
    ranks = [route.index(int(h)) for h in held[list(HANDS)] if int(h) in route]
    top = max(ranks) if ranks else -1
    if top == len(route) - 1:
        return top, route[-1]
    return top, route[top + 1]


def moving_hand(route: list[int], held: np.ndarray, hand_pos: np.ndarray, target_pos) -> int:
    """The hand (0 left, 1 right) that should go for the next target hold: the other one when a
    hand holds the target already (the match on the top) or the higher route hold; the free
    one when one is free; else the one nearer the target. held (4,) per limb, hand_pos (2, 3)."""
    _, target = next_target(route, held)
    hands = [int(h) for h in np.asarray(held)[list(HANDS)]]
    if target in hands:
        return 1 - hands.index(target)
    if (np.array(hands) < 0).sum() == 1:
        return hands.index(-1)
    rank = [route.index(h) if h in route else -1 for h in hands]
    if rank[0] != rank[1]:
        return int(np.argmin(rank))
    d = np.linalg.norm(np.asarray(hand_pos) - np.asarray(target_pos), axis=-1)
    return int(np.argmin(d))


def route_score(
    contacts: np.ndarray,
    sites: np.ndarray,
    route: list[int],
    hold_pos: np.ndarray,
    held: np.ndarray,
    known: int,
    config: SelectionConfig | None = None,
) -> float:
    """The criterion (module doc) of one candidate: contacts (T, 4) scene hold per limb per
    frame (-1 free), grip sites (T, 4, 3) m, the route's scene holds in order, hold positions
    (H, 3) m, `held` (4,) holds gripped now, frames before `known` executed (not scored)."""
    cfg = config or SelectionConfig()
    c = np.asarray(contacts)[known:, list(HANDS)]
    s = np.asarray(sites)[known:, list(HANDS)]
    if len(c) == 0:
        return 0.0
    top, target = next_target(route, np.asarray(held))
    order = {h: k for k, h in enumerate(route)}
    gripped = {int(h) for h in np.unique(c) if h >= 0}
    best = max((order[h] for h in gripped if h in order), default=-1)
    score = float(min(max(best - top, 0), cfg.advance_cap))
    last = len(route) - 1
    if ((c == route[last]).all(axis=1)).any():
        score += cfg.finish
    movers = [k for k, h in enumerate(np.asarray(held)[list(HANDS)]) if int(h) != target]
    if movers:  # the hands not on the target already: the nearest any of them comes (0 on it)
        d = np.linalg.norm(s[:, movers] - np.asarray(hold_pos)[target], axis=-1)  # (T', M)
        d[c[:, movers] == target] = 0.0
        score -= cfg.reach_per_m * float(d.min())
    score -= cfg.off_route * len([h for h in gripped if h not in order])
    return score


__all__ = ["SelectionConfig", "moving_hand", "next_target", "route_score"]
