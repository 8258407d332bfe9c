"""Property: the gym fixture turned any way (random rotations, axis swaps and mirrors), written in
any of metres, centimetres, millimetres or inches, imports to the same sectors and heights."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from scenes.importer import import_mesh
from tests.scenes import gym_fixtures as gf

# every signed permutation of the axes: rotations by quarter turns, and their mirror images
AXIS_SWAPS = [
    np.diag(signs)[list(perm)]
    for perm in itertools.permutations(range(3))
    for signs in itertools.product((1.0, -1.0), repeat=3)
]
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}


def _summary(scene) -> list[tuple]:
    """What must not depend on how the file was turned or scaled: per sector, sorted."""
    return sorted(
        (s.kind, round(s.angle_deg), round(s.width, 1), round(s.height, 2), round(s.area))
        for s in scene.sectors
    )


def _import(transform: np.ndarray, unit: str) -> object:
    with tempfile.TemporaryDirectory() as tmp:
        path = gf.write_gym_obj(
            Path(tmp) / "gym.obj", unit_m=UNITS[unit], transform=transform, n_unused=500
        )
        return import_mesh(
            path, scale="auto", holds="none", collision="none", out_dir=Path(tmp) / "out"
        )


@pytest.fixture(scope="module")
def baseline():
    return _import(np.eye(3), "m")


def test_baseline_matches_the_fixture(baseline):
    kinds = sorted(t["kind"] for t in gf.GYM_SECTORS.values())
    assert [s[0] for s in sorted(_summary(baseline), key=lambda x: x[0])] == kinds


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    swap=st.integers(0, len(AXIS_SWAPS) - 1),
    turn=st.integers(0, 2**16),
    oblique=st.booleans(),
    unit=st.sampled_from(sorted(UNITS)),
)
def test_rotations_axis_swaps_and_units_give_the_same_sectors(baseline, swap, turn, oblique, unit):
    transform = AXIS_SWAPS[swap]
    if oblique:  # a scan not aligned with any axis at all
        transform = Rotation.random(random_state=turn).as_matrix() @ transform
    scene = _import(transform, unit)
    assert _summary(scene) == _summary(baseline)
    assert scene.metadata.params["resolved_scale"] == pytest.approx(UNITS[unit])
    floor = scene.metadata.params["floor"]
    assert floor["wall_height_m"] == pytest.approx(3.5, abs=1e-6)
    assert floor["flipped_winding"] == (np.linalg.det(transform) < 0)
    up = np.asarray(floor["up_in_file"])
    np.testing.assert_allclose(up, transform @ [0.0, 1.0, 0.0], atol=1e-6)
    z = np.array([s.height for s in scene.sectors])
    assert np.all(z <= 3.5 + 1e-6) and scene.spawn is not None
