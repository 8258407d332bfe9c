"""Penetration depth of points into hand-made static geometry."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from benchmarks.metrics import scene
from benchmarks.metrics.scene import (
    Boxes,
    Capsules,
    Cylinders,
    Ellipsoids,
    Planes,
    Spheres,
    StaticShapes,
    max_penetration_m,
    mean_penetration_m,
    penetration_depth_m,
    quat_to_matrix,
    shapes_from_primitives,
)

UNIT_BOX = StaticShapes(boxes=Boxes(np.zeros((1, 3)), np.ones((1, 3))))


def test_point_at_depth_in_a_unit_box():
    points = np.array(
        [
            [0.8, 0.0, 0.0],  # 0.2 below the +x face
            [0.1, -0.2, -0.7],  # nearest face is -z, 0.3 away
            [0.0, 0.0, 0.0],  # centre: 1.0 from every face
            [1.0, 0.5, 0.0],  # on the surface
            [1.5, 0.0, 0.0],  # outside
        ]
    )
    depth = penetration_depth_m(points, UNIT_BOX)
    np.testing.assert_allclose(depth, [0.2, 0.3, 1.0, 0.0, 0.0], atol=1e-12)


def test_rotated_translated_box():
    rot = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    box = Boxes(np.array([[2.0, 0.0, 0.0]]), np.array([[1.0, 0.1, 0.5]]), rot[None])
    # The long (local x) axis now runs along world y.
    depth = penetration_depth_m(
        np.array([[2.0, 0.9, 0.0], [2.05, 0.0, 0.0], [2.5, 0.0, 0.0]]), StaticShapes(boxes=box)
    )
    np.testing.assert_allclose(depth, [0.1, 0.05, 0.0], atol=1e-12)


def test_sphere_capsule_cylinder_and_plane_depths():
    shapes = StaticShapes(
        spheres=Spheres(np.array([[0.0, 0.0, 5.0]]), np.array([1.0])),
        capsules=Capsules(np.array([[5.0, 0.0, 0.0]]), np.array([0.2]), np.array([0.5])),
        cylinders=Cylinders(np.array([[0.0, 5.0, 0.0]]), np.array([1.0]), np.array([0.5])),
        planes=Planes(np.array([[0.0, 0.0, -10.0]]), np.array([[0.0, 0.0, 2.0]])),
    )
    points = np.array(
        [
            [0.3, 0.0, 5.0],  # sphere: 0.7
            [5.05, 0.0, 0.6],  # capsule cap: 0.2 - |(0.05, 0, 0.1)|
            [5.0, 0.15, 0.0],  # capsule side: 0.05
            [0.9, 5.0, 0.0],  # cylinder side: 0.1
            [0.0, 5.0, 0.45],  # cylinder cap: 0.05
            [0.0, 0.0, -10.3],  # below the floor plane: 0.3
            [0.0, 0.0, 0.0],  # free space
        ]
    )
    expected = [0.7, 0.2 - np.hypot(0.05, 0.1), 0.05, 0.1, 0.05, 0.3, 0.0]
    np.testing.assert_allclose(penetration_depth_m(points, shapes), expected, atol=1e-12)


def test_deepest_shape_wins_and_output_keeps_the_leading_shape():
    shapes = StaticShapes(
        boxes=Boxes(np.zeros((2, 3)), np.array([[1.0, 1.0, 1.0], [0.5, 0.5, 3.0]])),
        planes=Planes(np.zeros((1, 3)), np.array([[0.0, 0.0, 1.0]])),
    )
    points = np.zeros((2, 3, 3))
    points[0, 0] = [0.0, 0.0, -0.9]  # box 0: 0.1, box 1: 0.5, plane: 0.9
    points[1, 2] = [0.0, 0.0, 2.0]  # only box 1 (0.5 from its sides)
    depth = penetration_depth_m(points, shapes)
    assert depth.shape == (2, 3)
    assert depth[0, 0] == pytest.approx(0.9)
    assert depth[1, 2] == pytest.approx(0.5)
    assert depth[0, 1] == pytest.approx(1.0)  # the origin: 1.0 inside box 0


def test_results_do_not_depend_on_chunking(monkeypatch):
    rng = np.random.default_rng(0)
    points = rng.uniform(-2, 2, size=(500, 3))
    shapes = StaticShapes(
        boxes=Boxes(rng.uniform(-1, 1, (4, 3)), rng.uniform(0.2, 1, (4, 3))),
        ellipsoids=Ellipsoids(rng.uniform(-1, 1, (3, 3)), rng.uniform(0.2, 1, (3, 3))),
    )
    whole = penetration_depth_m(points, shapes)
    monkeypatch.setattr(scene, "_CHUNK_PAIRS", 13)
    np.testing.assert_array_equal(penetration_depth_m(points, shapes), whole)
    assert whole.max() > 0


def test_ellipsoid_depth_is_exact_for_spheres_and_a_lower_bound_otherwise():
    sphere_like = StaticShapes(ellipsoids=Ellipsoids(np.zeros((1, 3)), np.full((1, 3), 0.5)))
    assert penetration_depth_m(np.array([0.1, 0.2, 0.0]), sphere_like) == pytest.approx(
        0.5 - np.hypot(0.1, 0.2)
    )
    radii = np.array([1.0, 0.6, 0.3])
    rot = Rotation.from_rotvec([0.2, 0.5, -0.4]).as_matrix()
    shapes = StaticShapes(ellipsoids=Ellipsoids(np.zeros((1, 3)), radii[None], rot[None]))
    # Dense surface samples: the nearest sample is at least the true distance to the surface.
    u, v = np.meshgrid(np.linspace(0, np.pi, 400), np.linspace(0, 2 * np.pi, 800))
    surface = np.stack([np.sin(u) * np.cos(v), np.sin(u) * np.sin(v), np.cos(u)], -1).reshape(-1, 3)
    surface = (surface * radii) @ rot.T
    rng = np.random.default_rng(1)
    inside = rng.uniform(-0.7, 0.7, size=(40, 3)) * radii @ rot.T
    depth = penetration_depth_m(inside, shapes)
    for p, d in zip(inside, depth, strict=True):
        sampled = np.linalg.norm(surface - p, axis=1).min()
        assert d <= sampled + 1e-9
        assert d >= 0.0
    # At the centre the bound is exact: the shortest radius.
    assert penetration_depth_m(np.zeros(3), shapes) == pytest.approx(0.3)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    half=st.lists(st.floats(0.05, 2.0), min_size=3, max_size=3),
)
def test_box_depth_matches_a_brute_force_distance_to_its_faces(seed, half):
    rng = np.random.default_rng(seed)
    rot = Rotation.random(random_state=seed).as_matrix()
    centre = rng.uniform(-1, 1, 3)
    h = np.asarray(half)
    local = rng.uniform(-1.3, 1.3, size=(50, 3)) * h
    points = local @ rot.T + centre
    depth = penetration_depth_m(points, StaticShapes(boxes=Boxes(centre[None], h[None], rot[None])))
    inside = np.all(np.abs(local) < h, axis=1)
    np.testing.assert_array_equal(depth[~inside], 0.0)
    # Inside a box the distance to the surface is the distance to the nearest face plane.
    faces = np.concatenate([h - local, local + h], axis=1).min(axis=1)
    np.testing.assert_allclose(depth[inside], faces[inside], atol=1e-9)


def test_reducers():
    depth = np.array([[0.0, 0.2], [0.0, 0.6]])
    assert mean_penetration_m(depth) == pytest.approx(0.2)
    assert max_penetration_m(depth) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="depth_m"):
        mean_penetration_m(np.array([0.1, -0.1]))
    with pytest.raises(ValueError, match="depth_m"):
        max_penetration_m(np.array([]))
    with pytest.raises(ValueError, match="depth_m"):
        max_penetration_m(np.array([0.1, np.nan]))


def _prim(type_, size, pos=(0.0, 0.0, 0.0), quat=(1.0, 0.0, 0.0, 0.0), **kw):
    """A duck-typed primitive (the attributes of scenes.types.Primitive)."""
    return SimpleNamespace(name=f"{type_}0", type=type_, size=size, pos=pos, quat=quat, **kw)


def test_shapes_from_primitives_follow_mujoco_size_semantics():
    half_turn_z = (np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4))  # +90 deg about z
    wall_quat = (np.cos(-np.pi / 4), np.sin(-np.pi / 4), 0.0, 0.0)  # local z -> world +y
    shapes = shapes_from_primitives(
        [
            _prim("box", (1.0, 0.1, 0.5), pos=(0.0, 0.0, 10.0), quat=half_turn_z),
            _prim("plane", (5.0, 5.0, 0.1), pos=(0.0, -3.0, 0.0), quat=wall_quat),
            _prim("sphere", (0.5, 0.0, 0.0), pos=(10.0, 0.0, 0.0)),
            _prim("capsule", (0.2, 0.5, 0.0), pos=(20.0, 0.0, 0.0), quat=half_turn_z),
            _prim("cylinder", (1.0, 0.5, 0.0), pos=(30.0, 0.0, 0.0)),
            _prim("ellipsoid", (1.0, 0.5, 0.25), pos=(40.0, 0.0, 0.0)),
            _prim("box", (9.0, 9.0, 9.0), collision="none"),  # visual only
        ]
    )
    assert len(shapes.boxes.center) == 1 and len(shapes.planes.point) == 1
    np.testing.assert_allclose(shapes.planes.normal, [[0.0, 1.0, 0.0]], atol=1e-12)
    points = np.array(
        [
            [0.05, 0.9, 10.0],  # box, long axis along world y: min(0.05, 0.1, 0.5)
            [0.0, -3.2, 0.0],  # 0.2 behind the wall plane
            [10.0, 0.0, 0.1],  # sphere: 0.4
            [20.0, 0.0, 0.0],  # capsule (axis along z either way): 0.2
            [30.0, 0.0, 0.3],  # cylinder cap: 0.2
            [40.0, 0.0, 0.0],  # ellipsoid centre: 0.25
            [0.0, 0.0, 0.0],  # inside the visual-only box only
        ]
    )
    expected = [0.05, 0.2, 0.4, 0.2, 0.2, 0.25, 0.0]
    np.testing.assert_allclose(penetration_depth_m(points, shapes), expected, atol=1e-12)
    with_visual = shapes_from_primitives(
        [_prim("box", (9.0, 9.0, 9.0), collision="none")], include_visual=True
    )
    assert penetration_depth_m(np.zeros(3), with_visual) == pytest.approx(9.0)


def test_scene_primitive_dataclass_converts():
    types = pytest.importorskip("scenes.types")
    prim = types.Primitive(name="floor_block", type="box", size=(2.0, 2.0, 0.5), pos=(0, 0, -0.5))
    shapes = shapes_from_primitives([prim])
    assert penetration_depth_m(np.array([0.0, 0.0, -0.1]), shapes) == pytest.approx(0.1)


def test_quat_to_matrix_matches_scipy():
    q = np.array([0.3, -0.5, 0.2, 0.7])
    expected = Rotation.from_quat(np.roll(q, -1)).as_matrix()  # scipy is (x, y, z, w)
    np.testing.assert_allclose(quat_to_matrix(q), expected, atol=1e-12)
    with pytest.raises(ValueError, match="quat"):
        quat_to_matrix([0.0, 0.0, 0.0, 0.0])


def test_bad_geometry_and_points_raise():
    with pytest.raises(ValueError, match="points"):
        penetration_depth_m(np.zeros((4, 2)), UNIT_BOX)
    with pytest.raises(ValueError, match="points: contains NaN"):
        penetration_depth_m(np.array([np.nan, 0.0, 0.0]), UNIT_BOX)
    with pytest.raises(TypeError, match="shapes"):
        penetration_depth_m(np.zeros(3), Boxes(np.zeros((1, 3)), np.ones((1, 3))))
    with pytest.raises(ValueError, match=r"Boxes\.half_extents"):
        Boxes(np.zeros((1, 3)), np.array([[1.0, 0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"Boxes\.half_extents"):
        Boxes(np.zeros((2, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"Boxes\.rotation"):
        Boxes(np.zeros((1, 3)), np.ones((1, 3)), 2.0 * np.eye(3)[None])
    with pytest.raises(ValueError, match=r"Planes\.normal"):
        Planes(np.zeros((1, 3)), np.zeros((1, 3)))
    with pytest.raises(TypeError, match=r"StaticShapes\.boxes"):
        StaticShapes(boxes=Spheres(np.zeros((1, 3)), np.ones(1)))
    with pytest.raises(ValueError, match=r"primitives\[1\].*mesh"):
        shapes_from_primitives([_prim("box", (1, 1, 1)), _prim("mesh", (1, 1, 1))])
    with pytest.raises(ValueError, match=r"primitives\[0\].*first 2 entries"):
        shapes_from_primitives([_prim("capsule", (0.1, 0.0, 0.0))])
    with pytest.raises(ValueError, match=r"primitives\[0\].*quat"):
        shapes_from_primitives([_prim("sphere", (0.1, 0, 0), quat=(0, 0, 0, 0))])
