"""Route-adherence metrics on hand-made contact timelines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import kendalltau

from benchmarks.metrics.route import (
    LIMB_NAMES,
    contact_distance_m,
    contact_events,
    holds_touched_in_order,
    order_correctness,
    route_completed,
    route_precision_recall,
    route_progress,
    touched_holds,
)

LH, RH, LF, RF = range(4)
ROUTE = np.array([0, 1, 2, 3])


def _timeline(frames: int, **limbs: dict[int, int]) -> np.ndarray:
    """(T, 4) contacts from {limb name: {frame: hold}}; a limb keeps a hold until changed."""
    c = np.full((frames, 4), -1, dtype=np.int64)
    for name, changes in limbs.items():
        col = LIMB_NAMES.index(name)
        for frame, hold in sorted(changes.items()):
            c[frame:, col] = hold
    return c


def _out_of_order() -> np.ndarray:
    """Hands first touch holds 0, 2, 1, 3 (in that order) of route [0, 1, 2, 3]."""
    return _timeline(
        8,
        left_hand={0: 0, 2: 2, 6: 3},
        right_hand={4: 1},
    )


def test_limb_order_matches_the_scene_format():
    assert LIMB_NAMES == ("left_hand", "right_hand", "left_foot", "right_foot")


def test_out_of_order_touches_give_known_order_precision_and_recall():
    c = _out_of_order()
    np.testing.assert_array_equal(holds_touched_in_order(c, ROUTE), [0, 2, 1, 3])
    assert route_precision_recall(c, ROUTE) == (1.0, 1.0)
    assert order_correctness(c, ROUTE) == pytest.approx(2 / 3)
    assert order_correctness(c, ROUTE, method="kendall") == pytest.approx(5 / 6)
    assert order_correctness(c, ROUTE, method="lis") == pytest.approx(3 / 4)


def test_in_order_route_scores_one_and_skipped_holds_only_lower_recall():
    c = _timeline(6, left_hand={0: 0, 2: 3}, right_hand={1: 0})
    np.testing.assert_array_equal(holds_touched_in_order(c, ROUTE), [0, 3])
    assert route_precision_recall(c, ROUTE) == (1.0, 0.5)
    for method in ("consecutive", "kendall", "lis"):
        assert order_correctness(c, ROUTE, method=method) == 1.0


def test_off_route_holds_lower_precision_and_limbs_select_who_counts():
    c = _out_of_order()
    c[3:, RF] = 7  # a foot stands on a hold that is not on the route
    np.testing.assert_array_equal(touched_holds(c), [0, 2, 7, 1, 3])
    np.testing.assert_array_equal(holds_touched_in_order(c, ROUTE), [0, 2, 1, 3])
    assert route_precision_recall(c, ROUTE) == (0.8, 1.0)
    assert route_precision_recall(c, ROUTE, limbs="hands") == (1.0, 1.0)
    assert route_precision_recall(c, ROUTE, limbs="feet") == (0.0, 0.0)


def test_simultaneous_first_touches_are_ordered_by_the_route():
    route = np.array([4, 1, 6])
    c = _timeline(4, left_hand={0: 1, 2: 6}, right_hand={0: 4})
    np.testing.assert_array_equal(holds_touched_in_order(c, route), [4, 1, 6])
    assert order_correctness(c, route) == 1.0
    np.testing.assert_array_equal(touched_holds(c), [1, 4, 6])  # ties by hold index


def test_nothing_touched():
    c = np.full((5, 4), -1)
    assert holds_touched_in_order(c, ROUTE).size == 0
    assert route_precision_recall(c, ROUTE) == (0.0, 0.0)
    assert order_correctness(c, ROUTE) == 1.0
    assert route_progress(c, ROUTE) == 0.0
    assert not route_completed(c, ROUTE)


def test_order_scores_match_independent_definitions_on_all_permutations():
    route = np.arange(5)
    for perm in itertools.permutations(range(5)):
        c = np.full((5, 4), -1)
        c[:, LH] = perm  # hold perm[t] first touched at frame t
        kendall = order_correctness(c, route, method="kendall")
        assert kendall == pytest.approx((kendalltau(range(5), perm).statistic + 1) / 2)
        lis = max(
            len(sub)
            for r in range(1, 6)
            for sub in itertools.combinations(perm, r)
            if list(sub) == sorted(sub)
        )
        assert order_correctness(c, route, method="lis") == pytest.approx(lis / 5)
        ups = sum(a < b for a, b in itertools.pairwise(perm))
        assert order_correctness(c, route) == pytest.approx(ups / 4)


def test_contact_events_mark_onsets_and_hold_switches():
    c = _timeline(6, left_hand={0: 0, 2: 2}, right_foot={1: 5, 3: -1, 4: 5})
    frames, limbs, holds = contact_events(c)
    np.testing.assert_array_equal(frames, [0, 1, 2, 4])
    np.testing.assert_array_equal(limbs, [LH, RF, LH, RF])
    np.testing.assert_array_equal(holds, [0, 5, 2, 5])


def test_contact_distance_is_measured_at_contact_onset():
    hold_positions = np.array([[0.0, 0.0, 1.0], [0.5, 0.0, 1.5]])
    c = _timeline(4, left_hand={1: 0}, right_hand={2: 1})
    limbs = np.zeros((4, 4, 3))
    limbs[1, LH] = [0.0, 0.03, 1.04]  # 5 cm from hold 0
    limbs[2, LH] = [9.0, 9.0, 9.0]  # later frames of the same contact do not count
    limbs[2, RH] = [0.5, 0.0, 1.5]  # exactly on hold 1
    mean, per_contact = contact_distance_m(limbs, c, hold_positions)
    np.testing.assert_allclose(per_contact, [0.05, 0.0], atol=1e-12)
    assert mean == pytest.approx(0.025)
    mean, per_contact = contact_distance_m(limbs, np.full((4, 4), -1), hold_positions)
    assert np.isnan(mean) and per_contact.shape == (0,)


def test_route_progress_counts_hands_along_the_route_order():
    c = _timeline(5, left_hand={0: 0, 3: 2}, right_hand={0: 1}, left_foot={0: 3})
    assert route_progress(c, ROUTE) == pytest.approx(2 / 3)  # the foot on 3 does not count
    assert route_progress(_out_of_order(), ROUTE) == 1.0
    assert route_progress(_timeline(2, right_hand={1: 9}), np.array([9])) == 1.0


def test_route_completed_needs_both_hands_on_top_at_once():
    alternating = _timeline(4, left_hand={0: 3, 1: 2}, right_hand={0: 2, 1: 3})
    assert not route_completed(alternating, ROUTE)
    matched = _timeline(6, left_hand={0: 2, 2: 3}, right_hand={0: 1, 3: 3, 5: 2})
    assert route_completed(matched, ROUTE)
    assert route_completed(matched, ROUTE, min_frames=2)
    assert not route_completed(matched, ROUTE, min_frames=3)
    assert not route_completed(matched, ROUTE, top=2)
    assert route_completed(_timeline(2, left_hand={0: 2}, right_hand={1: 2}), ROUTE, top=2)


@pytest.mark.parametrize(
    ("contacts", "route", "match"),
    [
        (np.zeros((3, 3), dtype=int), ROUTE, "contacts"),
        (np.zeros((3, 4)), ROUTE, "contacts: expected an integer array"),
        (np.full((3, 4), -2), ROUTE, "contacts: value -2"),
        (np.zeros((3, 4), dtype=int), np.array([0, 1, 1]), "route: hold indices must be distinct"),
        (np.zeros((3, 4), dtype=int), np.array([], dtype=int), "route: expected at least one"),
        (np.zeros((3, 4), dtype=int), np.array([[0, 1]]), "route"),
        (np.zeros((3, 4), dtype=int), np.array([0.0, 1.0]), "route: expected an integer array"),
    ],
)
def test_bad_inputs_raise_naming_the_argument(contacts, route, match):
    with pytest.raises(ValueError, match=match):
        route_precision_recall(contacts, route)


def test_bad_options_and_sizes_raise():
    c = _out_of_order()
    with pytest.raises(ValueError, match="limbs"):
        touched_holds(c, limbs="tail")
    with pytest.raises(ValueError, match="method"):
        order_correctness(c, ROUTE, method="spearman")
    with pytest.raises(ValueError, match="hold_positions"):
        contact_distance_m(np.zeros((8, 4, 3)), c, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="limb_positions"):
        contact_distance_m(np.zeros((7, 4, 3)), c, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="min_frames"):
        route_completed(c, ROUTE, min_frames=0)
    with pytest.raises(ValueError, match="top"):
        route_completed(c, ROUTE, top=-1)


def test_kinematic_contacts_need_a_near_hold_and_a_still_limb():
    from benchmarks.metrics import kinematic_contacts

    holds = np.array([[0.0, 0.0, 1.0], [0.5, 0.0, 1.5]])
    t = 7
    limbs = np.full((t, 4, 3), 10.0)  # far from every hold
    limbs[:, 0] = [0.05, 0.0, 1.0]  # left hand rests 5 cm from hold 0
    limbs[:, 1] = np.linspace([0.5, -0.6, 1.5], [0.5, 0.6, 1.5], t)  # through hold 1 at 2 m/s
    c = kinematic_contacts(limbs, holds, fps=10.0)
    assert c.shape == (t, 4)
    assert (c[:, 0] == 0).all()
    assert (c[:, 1] == -1).all()  # 2 m/s through the hold: not a touch
    assert (c[:, 2:] == -1).all()
    slow = kinematic_contacts(limbs, holds, fps=0.1)  # the same path, 100 times slower
    assert slow[3, 1] == 1 and (slow[:, 1] == 1).sum() == 1  # at rest there: a touch
    assert (kinematic_contacts(limbs, np.zeros((0, 3)), fps=10.0) == -1).all()
    with pytest.raises(ValueError, match="fps"):
        kinematic_contacts(limbs, holds, fps=0.0)
