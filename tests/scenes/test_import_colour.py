"""An imported wall's colour comes from the wall's own vertices, not from a mix of the holds'."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from scenes.importer import import_mesh, surface_colour
from scenes.types import Hold

DATA = Path(__file__).resolve().parents[1] / "data" / "meshes"


def _fixture_module():
    spec = importlib.util.spec_from_file_location("mesh_fixtures", DATA / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MF = _fixture_module()


@pytest.mark.parametrize("holds", ["detect", "none"])
def test_grey_wall_with_coloured_holds_stays_grey(tmp_path, holds):
    # grey wall, red/blue/green/yellow hold vertices (and wooden volumes); the holds are meshed
    # densely, so most vertices are not grey and a per-channel median gave magenta (0.8, 0.3, 0.78)
    wall = MF.build_wall()
    MF.write_ply(tmp_path / "coloured.ply", wall["vertices"], wall["colors"], wall["faces"])
    assert np.mean(np.all(np.isclose(wall["colors"], MF.GREY), axis=1)) < 0.5
    scene = import_mesh(
        tmp_path / "coloured.ply", holds=holds, out_dir=tmp_path / "out", collision="none"
    )
    rgba = np.array(scene.geometry[0].rgba)
    assert scene.geometry[0].name == "wall"
    np.testing.assert_allclose(rgba[:3], MF.GREY, atol=0.01)
    assert rgba[3] == 1.0
    # a colour that really occurs on the mesh (8-bit PLY colours)
    assert np.abs(wall["colors"] - rgba[:3]).max(axis=1).min() < 0.01


def _grid(n: int, colour_of) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An n x n vertex grid on the x-z plane (1 m square), two triangles per cell, coloured."""
    x, z = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    v = np.stack([x.ravel(), np.zeros(n * n), z.ravel()], axis=1)
    i = np.arange(n * n).reshape(n, n)[:-1, :-1].ravel()
    f = np.concatenate([np.stack([i, i + 1, i + n], 1), np.stack([i + 1, i + n + 1, i + n], 1)])
    return v, f, np.array([colour_of(p) for p in v])


def test_hold_vertices_are_left_out():
    grey, red = (0.5, 0.5, 0.5), (0.9, 0.1, 0.1)
    centre = np.array([0.5, 0.0, 0.5])
    # a big red disc (most of the area) around a "hold" at the centre, grey elsewhere
    v, f, c = _grid(41, lambda p: red if np.linalg.norm(p - centre) < 0.45 else grey)
    assert surface_colour(v, f, c) == (*red, 1.0)
    hold = Hold("h0", tuple(centre), (0.0, 1.0, 0.0), 0.3, "jug")
    assert surface_colour(v, f, c, [hold]) == (*grey, 1.0)


def test_colour_is_the_mean_of_the_heaviest_bin_not_a_mix():
    # equal thirds of red, green and blue plus slightly more grey with small noise: the grey wins
    rng = np.random.default_rng(0)
    v, f, _ = _grid(30, lambda p: (0, 0, 0))
    band = np.minimum((v[:, 0] * 4).astype(int), 3)
    base = np.array([(0.9, 0.1, 0.1), (0.1, 0.8, 0.2), (0.1, 0.3, 0.9), (0.6, 0.6, 0.6)])[band]
    base[v[:, 0] > 0.7] = (0.6, 0.6, 0.6)
    c = base + rng.uniform(-0.01, 0.01, base.shape)
    rgba = surface_colour(v, f, c)
    np.testing.assert_allclose(rgba[:3], (0.6, 0.6, 0.6), atol=0.005)
