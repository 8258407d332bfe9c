"""Route-adherence metrics for climbing: which holds were touched, in what order, how far.

Inputs share one encoding:
- `contacts`: (T, 4) integer array; contacts[t, l] is the index of the hold limb l is on at
  frame t, or -1 for none. Limb order is `LIMB_NAMES` (scenes.types.LIMBS).
- `route`: (R,) integer array of distinct hold indices in climbing order (start holds first,
  top hold last), the same indices as in `contacts`.
- `hold_positions`: (H, 3) hold centres in metres; `limb_positions`: (T, 4, 3) in metres.

`limbs` selects which limbs count as touching: "hands", "feet" or "all".
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from benchmarks.metrics._validate import choice, float_array, int_array, positive

LIMB_NAMES: tuple[str, ...] = ("left_hand", "right_hand", "left_foot", "right_foot")
"""Column order of `contacts` and `limb_positions` (matches scenes.types.LIMBS)."""

Limbs = Literal["hands", "feet", "all"]
_LIMB_COLUMNS = {"hands": (0, 1), "feet": (2, 3), "all": (0, 1, 2, 3)}
OrderMethod = Literal["consecutive", "kendall", "lis"]
_ORDER_METHODS = ("consecutive", "kendall", "lis")


def _contacts(contacts: ArrayLike) -> np.ndarray:
    """Validate a (T, 4) contact timeline of hold indices or -1."""
    return int_array(contacts, "contacts", ("T", 4), min_value=-1)


def _route(route: ArrayLike) -> np.ndarray:
    """Validate a non-empty (R,) route of distinct hold indices."""
    r = int_array(route, "route", ("R",), min_value=0)
    if r.size == 0:
        raise ValueError("route: expected at least one hold index, got an empty route")
    values, counts = np.unique(r, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(
            f"route: hold indices must be distinct, {values[counts > 1].tolist()} repeat"
        )
    return r


def _columns(contacts: np.ndarray, limbs: str) -> np.ndarray:
    """The (T, L) columns of `contacts` for the selected limbs."""
    return contacts[:, list(_LIMB_COLUMNS[choice(limbs, "limbs", tuple(_LIMB_COLUMNS))])]


def _first_touch(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct holds in `cols` (T, L) and the first frame each is touched (unsorted)."""
    frames = np.broadcast_to(np.arange(cols.shape[0])[:, None], cols.shape)
    on = cols >= 0
    held, when = cols[on], frames[on]  # row-major: earlier frames come first
    holds, first = np.unique(held, return_index=True)
    return holds, when[first]


def touched_holds(contacts: ArrayLike, *, limbs: Limbs = "all") -> np.ndarray:
    """Distinct holds (any, on the route or not) touched by `limbs`, in order of first touch.

    Returns an int64 (M,) array. Holds first touched on the same frame are ordered by index.
    """
    holds, first = _first_touch(_columns(_contacts(contacts), limbs))
    return holds[np.lexsort((holds, first))]


def holds_touched_in_order(
    contacts: ArrayLike, route: ArrayLike, *, limbs: Limbs = "all"
) -> np.ndarray:
    """Distinct route holds touched by `limbs`, in order of first touch; int64 (M,) array.

    Holds not on the route are left out. Route holds first touched on the same frame (e.g.
    the start holds, grabbed together) are ordered by their position on the route: a
    simultaneous touch has no order, so it is never counted as out of order.
    """
    r = _route(route)
    holds, first = _first_touch(_columns(_contacts(contacts), limbs))
    on_route = np.isin(holds, r)
    holds, first = holds[on_route], first[on_route]
    sorter = np.argsort(r)
    rank = sorter[np.searchsorted(r, holds, sorter=sorter)]  # position along the route
    return holds[np.lexsort((rank, first))]


def route_precision_recall(
    contacts: ArrayLike, route: ArrayLike, *, limbs: Limbs = "all"
) -> tuple[float, float]:
    """(precision, recall) of the holds touched by `limbs` against the route, each in [0, 1].

    precision = |touched ∩ route| / |touched| (0.0 when nothing is touched);
    recall = |touched ∩ route| / |route|. Sets of distinct hold indices, frames ignored.
    """
    r = _route(route)
    touched = touched_holds(contacts, limbs=limbs)
    hits = int(np.isin(touched, r).sum())
    precision = hits / touched.size if touched.size else 0.0
    return float(precision), float(hits / r.size)


def _longest_increasing(values: np.ndarray) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tails: list[int] = []
    for v in values.tolist():
        i = bisect_left(tails, v)
        if i == len(tails):
            tails.append(v)
        else:
            tails[i] = v
    return len(tails)


def order_correctness(
    contacts: ArrayLike,
    route: ArrayLike,
    *,
    limbs: Limbs = "all",
    method: OrderMethod = "consecutive",
) -> float:
    """How well the first touches of route holds follow the route order, in [0, 1].

    Let s_1..s_m be the route positions of the touched route holds in order of first touch
    (`holds_touched_in_order`). Then:
    - "consecutive": fraction of the m - 1 consecutive pairs with s_i < s_{i+1};
    - "kendall": fraction of all m (m - 1) / 2 pairs i < j with s_i < s_j, i.e.
      (Kendall tau + 1) / 2 against the route order;
    - "lis": length of the longest increasing subsequence of s, divided by m.
    All are 1.0 when every touched route hold was first touched in route order, including the
    vacuous m < 2 case; skipped holds do not lower it (recall measures those). Route
    [0, 1, 2, 3] touched as [0, 2, 1, 3] scores 2/3, 5/6 and 3/4 respectively.
    """
    choice(method, "method", _ORDER_METHODS)
    r = _route(route)
    order = holds_touched_in_order(contacts, r, limbs=limbs)
    rank_of = {int(h): i for i, h in enumerate(r)}
    s = np.array([rank_of[int(h)] for h in order], dtype=np.int64)
    m = s.size
    if m < 2:
        return 1.0
    if method == "consecutive":
        return float(np.mean(s[1:] > s[:-1]))
    if method == "kendall":
        upper = np.triu(s[None, :] > s[:, None], k=1)  # s_i < s_j for i < j
        return float(upper.sum() / (m * (m - 1) / 2))
    return _longest_increasing(s) / m


def contact_events(contacts: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every contact onset: (frames (M,), limbs (M,), holds (M,)) int64 arrays.

    A contact begins at frame t for limb l when contacts[t, l] >= 0 and either t == 0 or
    contacts[t - 1, l] differs (moving straight from one hold to another is a new contact).
    Events are sorted by frame, then limb.
    """
    c = _contacts(contacts)
    previous = np.vstack([np.full((1, 4), -1, dtype=np.int64), c[:-1]])
    onset = (c >= 0) & (c != previous)
    frames, limbs = np.nonzero(onset)  # row-major, so already sorted by frame then limb
    return frames.astype(np.int64), limbs.astype(np.int64), c[frames, limbs]


def contact_distance_m(
    limb_positions: ArrayLike, contacts: ArrayLike, hold_positions: ArrayLike
) -> tuple[float, np.ndarray]:
    """Distance in metres from each limb to its hold at the frame the contact begins.

    limb_positions: (T, 4, 3) metres; contacts: (T, 4); hold_positions: (H, 3) metres.
    Returns (mean, per_contact (M,)) with per_contact[i] = ||limb_positions[t_i, l_i] -
    hold_positions[h_i]|| for the events (t_i, l_i, h_i) of `contact_events`, in that order.
    The mean is NaN when there is no contact at all (nothing to measure).
    """
    c = _contacts(contacts)
    x = float_array(limb_positions, "limb_positions", ("T", 4, 3))
    holds = float_array(hold_positions, "hold_positions", ("H", 3))
    if x.shape[0] != c.shape[0]:
        raise ValueError(
            f"limb_positions: has {x.shape[0]} frames, contacts has {c.shape[0]}; they must match"
        )
    if c.size and c.max() >= holds.shape[0]:
        raise ValueError(
            f"contacts: hold index {int(c.max())} is out of range for hold_positions with "
            f"{holds.shape[0]} holds"
        )
    frames, limbs, hold = contact_events(c)
    per_contact = np.linalg.norm(x[frames, limbs] - holds[hold], axis=-1)
    mean = float(per_contact.mean()) if per_contact.size else float("nan")
    return mean, per_contact


def route_progress(contacts: ArrayLike, route: ArrayLike) -> float:
    """Progress along the route in [0, 1]: how far up the route a hand has gripped.

    Definition: k / (R - 1), where k is the largest route position (0 = first route hold,
    R - 1 = top) of any hold gripped by either hand at any frame; 0.0 if no hand ever grips a
    route hold. Positions are along the route order, not heights. A one-hold route scores 1.0
    once that hold is gripped.
    """
    r = _route(route)
    hands = _columns(_contacts(contacts), "hands")
    gripped = np.unique(hands[hands >= 0])
    positions = np.nonzero(np.isin(r, gripped))[0]
    if positions.size == 0:
        return 0.0
    if r.size == 1:
        return 1.0
    return float(positions.max() / (r.size - 1))


def route_completed(
    contacts: ArrayLike, route: ArrayLike, *, top: int | None = None, min_frames: int = 1
) -> bool:
    """Whether both hands held the top hold at once for at least `min_frames` consecutive frames.

    top: hold index of the top hold; defaults to route[-1] (scenes.types.Route.top is the last
    hold of Route.holds by convention). This is the usual climbing rule for a send: the
    finishing hold matched with both hands.
    """
    r = _route(route)
    c = _contacts(contacts)
    top_hold = int(r[-1]) if top is None else top
    if isinstance(top_hold, bool) or not isinstance(top_hold, int | np.integer) or top_hold < 0:
        raise ValueError(f"top: expected a non-negative hold index, got {top!r}")
    if isinstance(min_frames, bool) or not isinstance(min_frames, int) or min_frames < 1:
        raise ValueError(f"min_frames: expected an int >= 1, got {min_frames!r}")
    matched = (c[:, 0] == top_hold) & (c[:, 1] == top_hold)
    run = 0
    for m in matched.tolist():
        run = run + 1 if m else 0
        if run >= min_frames:
            return True
    return False


def kinematic_contacts(
    limb_positions: ArrayLike,
    hold_positions: ArrayLike,
    *,
    fps: float,
    radius_m: float = 0.12,
    max_speed_m_s: float = 0.5,
) -> np.ndarray:
    """Contacts (T, 4) inferred from a motion alone: the hold each limb rests on, -1 none.

    limb_positions: (T, 4, 3) metres (hands, feet); hold_positions: (H, 3) metres.
    Limb l is on hold h at frame t when h is the nearest hold, closer than `radius_m` (the
    scripted expert's SMPL hand/foot joints sit 7-11 cm from the centre of the hold they grip),
    and the limb moves slower than `max_speed_m_s` (central difference; one-sided at the ends),
    so a hand sweeping past a hold does not touch it. For scoring motions that carry no contact
    labels (generated ones) with the route metrics of this module.
    """
    x = float_array(limb_positions, "limb_positions", ("T", 4, 3))
    holds = float_array(hold_positions, "hold_positions", ("H", 3), min_size=0)
    rate = positive(fps, "fps")
    out = np.full(x.shape[:2], -1, dtype=np.int64)
    if holds.shape[0] == 0:
        return out
    dist = np.linalg.norm(x[:, :, None] - holds[None, None], axis=-1)  # (T, 4, H)
    nearest = dist.argmin(axis=-1)
    close = np.take_along_axis(dist, nearest[..., None], axis=-1)[..., 0] < radius_m
    speed = np.linalg.norm(np.gradient(x, axis=0), axis=-1) * rate if len(x) > 1 else 0.0
    on = close & (speed < max_speed_m_s)
    out[on] = nearest[on]
    return out
