"""Route setter and hold placement: reachability of every move, route structure, grades, spacing."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

import scenes
from scenes.placement import HOLD_BASE_SIZE_M, estimate_area
from scenes.route_setter import (
    MIN_HAND_HOLDS,
    ClimberDims,
    grade_from_moves,
    place_holds,
    route_stances,
    set_routes,
    stance_reachable,
)
from scenes.types import LIMBS, Hold

SHORT = ClimberDims.from_stature(1.5)


@cache
def walls() -> tuple[tuple[scenes.Scene, ClimberDims], ...]:
    """Generated walls of every profile (and one for a short climber), with their climber."""
    out = [
        (scenes.generate_wall(s, profile=p), ClimberDims())
        for s, p in enumerate(["vertical", "slab", "overhang", "multi_panel", "overhang"])
    ]
    out.append(
        (scenes.generate_wall(9, profile="multi_panel", angle_deg=40.0, n_volumes=5), ClimberDims())
    )
    out.append((scenes.generate_wall(3, climber=SHORT), SHORT))
    return tuple(out)


def _pos(scene: scenes.Scene, hold_id: str) -> np.ndarray:
    return np.array(scene.hold(hold_id).position)


def test_every_stance_of_every_route_is_reachable() -> None:
    n_routes = 0
    for scene, cl in walls():
        for route in scene.routes:
            n_routes += 1
            stances = route_stances(route)
            assert len(stances) == len(route.moves) + 1
            for st in stances:
                assert set(st) == set(LIMBS)
                assert stance_reachable(cl, {k: scene.hold(v) for k, v in st.items()})
                # Model-free necessary conditions from the body's segment lengths.
                lh, rh, lf, rf = (_pos(scene, st[k]) for k in LIMBS)
                assert np.linalg.norm(lh - rh) <= 2 * cl.hand_reach + cl.shoulder_width + 1e-9
                assert np.linalg.norm(lf - rf) <= 2 * cl.leg_length + cl.hip_width + 1e-9
                trunk = math.hypot(cl.torso_length, (cl.shoulder_width + cl.hip_width) / 2)
                for hand in (lh, rh):
                    for foot in (lf, rf):
                        assert np.linalg.norm(hand - foot) <= cl.hand_reach + trunk + cl.leg_length
    assert n_routes >= 15


def test_route_structure() -> None:
    for scene, cl in walls():
        assert scene.routes, scene.name
        hand_max = max(h.position[2] for h in scene.holds if h.kind != "foothold")
        hands_by_route = []
        for route in scene.routes:
            start = route.start
            assert set(start) == set(LIMBS)
            for limb in ("left_hand", "right_hand"):
                z = scene.hold(start[limb]).position[2]
                assert cl.shoulder_height - 0.3 <= z <= cl.shoulder_height + 0.35
            for limb in ("left_foot", "right_foot"):
                assert 0.1 <= scene.hold(start[limb]).position[2] <= 0.75
            assert start["left_foot"] != start["right_foot"]
            # ordered start -> top, top last, both hands end on it, near the top of the wall
            assert route.holds[: len(set(start.values()))] == list(dict.fromkeys(start.values()))
            assert route.holds[-1] == route.top
            final = route_stances(route)[-1]
            assert final["left_hand"] == final["right_hand"] == route.top
            assert scene.hold(route.top).position[2] >= hand_max - 0.5
            hands = {v for st in route_stances(route) for k, v in st.items() if "hand" in k}
            assert len(hands) >= MIN_HAND_HOLDS
            assert all(scene.hold(h).kind != "foothold" for h in hands)
            assert set(route.holds) == {v for st in route_stances(route) for v in st.values()}
            hands_by_route.append(hands)
        for i, a in enumerate(hands_by_route):  # hand holds are never shared between routes
            for b in hands_by_route[i + 1 :]:
                assert not a & b
        assert len({r.rgba for r in scene.routes}) == len(scene.routes)
        assert len({r.id for r in scene.routes}) == len(scene.routes)


def test_hold_colours_follow_first_route() -> None:
    for scene, _ in walls():
        owner: dict[str, tuple] = {}
        for r in scene.routes:
            for h in r.holds:
                owner.setdefault(h, r.rgba)
        for h in scene.holds:
            if h.id in owner:
                assert h.rgba == owner[h.id]
            else:
                assert h.rgba not in {r.rgba for r in scene.routes}


def test_stored_grade_matches_formula() -> None:
    for scene, cl in walls():
        for route in scene.routes:
            ratios, cur = [], dict(route.start)
            for limb, hid in route.moves:
                if "hand" in limb:
                    ratios.append(
                        np.linalg.norm(_pos(scene, hid) - _pos(scene, cur[limb])) / cl.arm_length
                    )
                cur[limb] = hid
            hands = {v for st in route_stances(route) for k, v in st.items() if "hand" in k}
            assert route.grade == grade_from_moves(
                ratios, [scene.hold(h).kind for h in sorted(hands)]
            )
            assert route.name.endswith(route.grade)


def test_grades_monotone_in_move_distance_and_hold_kind() -> None:
    rng = np.random.default_rng(0)
    v = lambda g: int(g[1:])  # noqa: E731
    assert grade_from_moves([0.6, 0.6, 0.6], ["jug"]) == "V0"
    assert grade_from_moves([1.3, 1.3, 1.3], ["crimp"]) == "V8"
    assert grade_from_moves([3.0], ["crimp"]) == "V10"
    kinds = ["jug", "pinch", "sloper", "crimp"]
    for _ in range(300):
        ratios = list(rng.uniform(0.3, 1.6, size=rng.integers(1, 12)))
        hk = list(rng.choice(kinds, size=rng.integers(1, 10)))
        g = v(grade_from_moves(ratios, hk))
        longer = [r * rng.uniform(1.0, 1.5) for r in ratios]
        assert v(grade_from_moves(longer, hk)) >= g
        i = int(rng.integers(len(ratios)))
        assert v(grade_from_moves([*ratios[:i], ratios[i] + 0.3, *ratios[i + 1 :]], hk)) >= g
        harder = ["crimp" if k == "jug" else k for k in hk]
        assert v(grade_from_moves(ratios, harder)) >= g
    grades = [v(grade_from_moves([r] * 3, ["pinch"])) for r in np.linspace(0.3, 2.0, 40)]
    assert grades == sorted(grades) and grades[0] < grades[-1]
    with pytest.raises(ValueError, match="foothold"):
        grade_from_moves([1.0], ["foothold"])


def _h(i: str, x: float, z: float, kind: str = "jug") -> Hold:
    return Hold(i, (x, 0.05, z), (0.0, 1.0, 0.0), 0.05, kind)


def test_stance_reachable_hand_made_cases() -> None:
    cl = ClimberDims()
    easy = {
        "left_hand": _h("a", 0.25, 1.9),
        "right_hand": _h("b", -0.25, 1.9),
        "left_foot": _h("c", 0.2, 0.5),
        "right_foot": _h("d", -0.2, 0.5),
    }
    assert stance_reachable(cl, easy)
    far = dict(easy, left_hand=_h("a", 0.25, 3.5), right_hand=_h("b", -0.25, 3.5))
    assert not stance_reachable(cl, far)
    wide = dict(easy, left_hand=_h("a", 1.6, 1.9), right_hand=_h("b", -1.6, 1.9))
    assert not stance_reachable(cl, wide)
    feet_high = dict(easy, left_foot=_h("c", 0.2, 2.3), right_foot=_h("d", -0.2, 2.3))
    assert not stance_reachable(cl, feet_high)
    # a taller climber reaches what a shorter one cannot
    stretch = dict(
        easy,
        left_hand=_h("a", 0.2, 2.35),
        right_hand=_h("b", -0.2, 2.35),
        left_foot=_h("c", 0.2, 0.3),
        right_foot=_h("d", -0.2, 0.3),
    )
    assert stance_reachable(ClimberDims.from_stature(2.0), stretch)
    assert not stance_reachable(SHORT, stretch)
    with pytest.raises(ValueError, match="left_foot"):
        stance_reachable(cl, {"left_hand": easy["left_hand"], "right_hand": easy["right_hand"]})


def test_climber_dims() -> None:
    d = ClimberDims()
    f = ClimberDims.from_stature(1.75)
    assert all(math.isclose(getattr(d, k), getattr(f, k)) for k in d.to_dict())
    assert math.isclose(d.arm_length, 0.44 * 1.75) and math.isclose(d.leg_length, 0.53 * 1.75)
    assert d.hand_reach < d.arm_length and d.shoulder_height < d.stature
    with pytest.raises(ValueError, match="arm_length"):
        ClimberDims(arm_length=-1.0)
    with pytest.raises(ValueError, match="stature"):
        ClimberDims(stature=1.0)
    with pytest.raises(ValueError, match="from_stature"):
        ClimberDims.from_stature(7.0)


def _plane(
    n: int, rng: np.random.Generator, tilt_deg: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    a = math.radians(tilt_deg)
    u, nrm = np.array([0.0, math.sin(a), math.cos(a)]), np.array([0.0, math.cos(a), -math.sin(a)])
    x, s = rng.uniform(-1.5, 1.5, n), rng.uniform(0.0, 2.0, n)
    return np.outer(x, [1.0, 0.0, 0.0]) + np.outer(s, u) + 0.01, np.tile(nrm, (n, 1))


def test_estimate_area_on_planes() -> None:
    rng = np.random.default_rng(1)
    for tilt in (0.0, 20.0, 45.0):
        pts, nrm = _plane(60_000, rng, tilt)
        assert estimate_area(pts, nrm, 0.1) == pytest.approx(6.0, rel=0.12)


def test_place_holds_spacing_surface_kinds_determinism() -> None:
    pts, nrm = _plane(20_000, np.random.default_rng(2), 10.0)
    mix = {"jug": 1.0, "crimp": 1.0, "foothold": 0.0}
    holds = place_holds(
        pts,
        nrm,
        np.random.default_rng(5),
        density=6.0,
        kind_mix=mix,
        size_scale=1.2,
        min_spacing=0.25,
        area_m2=6.0,
    )
    assert len(holds) == 36
    again = place_holds(
        pts,
        nrm,
        np.random.default_rng(5),
        density=6.0,
        kind_mix=mix,
        size_scale=1.2,
        min_spacing=0.25,
        area_m2=6.0,
    )
    assert holds == again
    assert {h.kind for h in holds} == {"jug", "crimp"}
    assert [h.id for h in holds] == [f"h{i:03d}" for i in range(len(holds))]
    zs = [h.position[2] for h in holds]
    assert zs == sorted(zs)
    normal = nrm[0]
    for h in holds:
        assert np.allclose(h.normal, normal)
        base = 1.2 * HOLD_BASE_SIZE_M[h.kind]
        assert 0.85 * base - 1e-4 <= h.size <= 1.15 * base + 1e-4
        # the hold sits on the plane: its centre is size/2 out along the normal
        offset = np.dot(np.array(h.position) - 0.01, normal)
        assert offset == pytest.approx(h.size / 2, abs=2e-4)
    p = np.array([h.position for h in holds])
    r = np.array([h.size for h in holds])
    d = np.linalg.norm(p[:, None] - p[None], axis=-1) + np.eye(len(p)) * 9
    need = np.maximum(0.25, r[:, None] + r[None] + 0.02)
    assert (d >= need - 1e-3).all()
    # the estimated area gives roughly the same count
    est = place_holds(
        pts, nrm, np.random.default_rng(5), density=6.0, kind_mix=mix, min_spacing=0.25
    )
    assert 30 <= len(est) <= 42


def test_place_holds_rejects_bad_input() -> None:
    pts, nrm = _plane(100, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="kind_mix"):
        place_holds(pts, nrm, rng, kind_mix={"bucket": 1.0})
    with pytest.raises(ValueError, match="density"):
        place_holds(pts, nrm, rng, density=-1.0)
    with pytest.raises(ValueError, match=r"palette\[0\]"):
        place_holds(pts, nrm, rng, palette=[(2.0, 0.0, 0.0, 1.0)])
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        place_holds(pts[:, :2], nrm, rng)
    assert place_holds(pts[:0], nrm[:0], rng) == []


def test_set_routes_degenerate_inputs() -> None:
    rng = np.random.default_rng(0)
    assert set_routes([], 3, rng) == []
    feet_only = [_h(f"f{i}", 0.0, 0.3 * i, "foothold") for i in range(10)]
    assert set_routes(feet_only, 2, rng) == []
    with pytest.raises(ValueError, match="n_routes"):
        set_routes(feet_only, 11, rng)
    # a sparse wall fits fewer routes than asked, and recolour=False leaves colours alone
    scene = scenes.generate_wall(4, width=2.0, n_routes=1)
    holds = [Hold(h.id, h.position, h.normal, h.size, h.kind) for h in scene.holds]
    before = [h.rgba for h in holds]
    routes = set_routes(holds, 10, np.random.default_rng(1), recolour=False)
    assert 1 <= len(routes) < 10
    assert [h.rgba for h in holds] == before
