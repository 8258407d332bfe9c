"""Tests for navenv.render: the ray-cast camera's geometry and image conventions, its agreement
with mujoco.mj_multiRay, and the GL renderer's fallback."""

from __future__ import annotations

import importlib.util
import warnings

import mujoco
import numpy as np
import pytest

from navenv.render import (
    GLRenderer,
    RayCastCamera,
    RayCastRenderer,
    RenderError,
    ShadingConfig,
    gl_available,
    make_renderer,
)
from navenv.render import gl as gl_module
from navenv.render import raycast as raycast_module

HAS_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed")
# the analytic tracers: numba skipped where it is missing
TRACERS = ["numpy", pytest.param("numba", marks=needs_numba)]

SKY = (153 / 255, 178 / 255, 229 / 255)  # exact in 8 bits
UNIFORM_SKY = ShadingConfig(sky_rgb=SKY, horizon_rgb=SKY, checker_m=0.0)
# camera at the origin looking along world +y, with world +z up and world +x to the right
LOOK_Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
ORIGIN = np.zeros(3)


def _model(body: str, assets: str = "") -> tuple[mujoco.MjModel, mujoco.MjData]:
    xml = f"<mujoco><asset>{assets}</asset><worldbody>{body}</worldbody></mujoco>"
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


RED_BOX = '<geom name="red" type="box" pos="0 2 0" size="0.5 0.5 0.5" rgba="1 0 0 1"/>'
GREEN_WALL = '<geom name="green" type="box" pos="0 4 0" size="5 0.1 5" rgba="0 1 0 1"/>'


def _cam(model: mujoco.MjModel, size: int = 33, **kwargs) -> RayCastCamera:
    return RayCastCamera(model, size, size, 90.0, shading=UNIFORM_SKY, **kwargs)


def test_red_box_centre_red_corners_sky_and_shapes():
    model, data = _model(RED_BOX)
    rgb, depth = _cam(model).render(data, pos=ORIGIN, xmat=LOOK_Y, depth=True)
    assert rgb.shape == (33, 33, 3) and rgb.dtype == np.uint8
    assert depth.shape == (33, 33) and depth.dtype == np.float32
    r, g, b = rgb[16, 16].astype(int)
    assert r > 150 and g == 0 and b == 0
    sky = np.array([153, 178, 229], np.uint8)
    for corner in (rgb[0, 0], rgb[0, -1], rgb[-1, 0], rgb[-1, -1]):
        np.testing.assert_array_equal(corner, sky)


def test_depth_matches_analytic_distance_and_is_planar():
    model, data = _model(RED_BOX + GREEN_WALL)
    cam = _cam(model, cutoff=30.0)
    _, depth = cam.render(data, pos=ORIGIN, xmat=LOOK_Y, depth=True)
    # optical axis (odd size: the centre pixel's ray is the axis) hits the red face at y = 1.5
    assert abs(float(depth[16, 16]) - 1.5) < 1e-6
    # the green wall's face (y = 3.9) is perpendicular to the axis: planar depth is 3.9 at every
    # pixel showing it, far off-centre too, although the ray distance there is larger
    green = cam.geom_ids == model.geom("green").id
    assert green[0, 0] and green.sum() > 500
    np.testing.assert_allclose(depth[green], 3.9, atol=1e-6)


def test_geom_behind_another_is_hidden_and_bodyexclude_reveals_it():
    body = f'<body name="blocker">{RED_BOX}</body>{GREEN_WALL}'
    model, data = _model(body)
    seen = _cam(model)
    seen.render(data, pos=ORIGIN, xmat=LOOK_Y)
    assert seen.geom_ids[16, 16] == model.geom("red").id
    excluded = _cam(model, bodyexclude="blocker")
    rgb = excluded.render(data, pos=ORIGIN, xmat=LOOK_Y)
    assert excluded.geom_ids[16, 16] == model.geom("green").id
    assert model.geom("red").id not in excluded.geom_ids
    assert rgb[16, 16, 1] > 150 and rgb[16, 16, 0] == 0


def test_image_orientation_up_is_top_rows_right_is_right_columns():
    body = (
        '<geom name="up" type="sphere" pos="0 3 1" size="0.3" rgba="0 0 1 1"/>'
        '<geom name="right" type="sphere" pos="1 3 0" size="0.3" rgba="1 1 0 1"/>'
    )
    model, data = _model(body)
    cam = _cam(model)
    cam.render(data, pos=ORIGIN, xmat=LOOK_Y)
    rows, cols = np.nonzero(cam.geom_ids == model.geom("up").id)
    assert rows.size and rows.max() < 16 and abs(cols.mean() - 16) < 1
    rows, cols = np.nonzero(cam.geom_ids == model.geom("right").id)
    assert cols.size and cols.min() > 16 and abs(rows.mean() - 16) < 1


def test_named_camera_pose_and_fovy_match_explicit_pose():
    body = RED_BOX + '<camera name="eye" pos="0 0 0" xyaxes="1 0 0 0 0 1" fovy="60"/>'
    model, data = _model(body)
    named = RayCastCamera(model, 21, 15, camera="eye", shading=UNIFORM_SKY)
    assert named.fovy_deg == 60.0
    explicit = RayCastCamera(model, 21, 15, 60.0, shading=UNIFORM_SKY)
    np.testing.assert_array_equal(
        named.render(data), explicit.render(data, pos=ORIGIN, xmat=LOOK_Y)
    )


def test_render_is_deterministic_and_writes_into_out():
    model, data = _model(RED_BOX + GREEN_WALL + '<geom type="plane" pos="0 0 -1" size="0 0 1"/>')
    a = RayCastCamera(model, 40, 30, 70.0).render(data, pos=ORIGIN, xmat=LOOK_Y)
    cam = RayCastCamera(model, 40, 30, 70.0)
    out = np.zeros((30, 40, 3), np.uint8)
    assert cam.render(data, pos=ORIGIN, xmat=LOOK_Y, out=out) is out
    np.testing.assert_array_equal(a, out)
    np.testing.assert_array_equal(a, cam.render(data, pos=ORIGIN, xmat=LOOK_Y))


def test_cutoff_misses_read_cutoff_and_transparent_or_grouped_geoms_are_invisible():
    body = (
        '<geom name="red" type="box" pos="0 2 0" size="0.5 0.5 0.5" rgba="1 0 0 0"/>'
        '<geom name="blue" type="box" pos="0 3 0" size="0.5 0.1 0.5" rgba="0 0 1 1" group="3"/>'
        + GREEN_WALL
    )
    model, data = _model(body)
    cam = _cam(model)  # red: alpha 0, invisible as in mj_ray
    cam.render(data, pos=ORIGIN, xmat=LOOK_Y)
    assert cam.geom_ids[16, 16] == model.geom("blue").id
    cam = _cam(model, geomgroup=[1, 1, 1, 0, 1, 1])
    cam.render(data, pos=ORIGIN, xmat=LOOK_Y)
    assert cam.geom_ids[16, 16] == model.geom("green").id
    near = _cam(model, cutoff=2.0, geomgroup=[1, 1, 1, 0, 1, 1])
    _, depth = near.render(data, pos=ORIGIN, xmat=LOOK_Y, depth=True)
    assert (near.geom_ids == -1).all() and (depth == 2.0).all()


def test_material_colour_is_used():
    assets = '<material name="blue" rgba="0 0 1 1"/>'
    model, data = _model('<geom type="sphere" pos="0 2 0" size="0.5" material="blue"/>', assets)
    rgb = _cam(model).render(data, pos=ORIGIN, xmat=LOOK_Y)
    assert rgb[16, 16, 2] > 150 and rgb[16, 16, 0] == 0 and rgb[16, 16, 1] == 0


def test_fog_fades_far_surfaces_to_the_horizon_colour_and_checker_marks_planes():
    model, data = _model(GREEN_WALL)
    fog = ShadingConfig(sky_rgb=SKY, horizon_rgb=SKY, fog_start_m=0.5)
    rgb = RayCastCamera(model, 33, 33, 90.0, cutoff=4.0, shading=fog).render(
        data, pos=ORIGIN, xmat=LOOK_Y
    )
    # the wall is 3.9 m away: fog factor (3.9 - 0.5) / (4 - 0.5) ~ 0.97 of the sky colour
    np.testing.assert_allclose(rgb[16, 16], [153, 178, 229], atol=12)

    floor, fdata = _model('<geom type="plane" size="0 0 1" rgba="0.5 0.5 0.5 1"/>')
    down = np.eye(3)  # looking along world -z from 2 m up
    images = [
        RayCastCamera(floor, 33, 33, 60.0, shading=ShadingConfig(checker_m=size)).render(
            fdata, pos=np.array([0.1, 0.2, 2.0]), xmat=down
        )
        for size in (0.5, 0.0)
    ]
    ratio = images[0].astype(float) / images[1]
    assert np.all((np.abs(ratio - 0.88) < 0.02) | (np.abs(ratio - 1.12) < 0.02))
    assert (ratio < 1).any() and (ratio > 1).any()


def _random_scene(rng: np.random.Generator) -> tuple[mujoco.MjModel, mujoco.MjData]:
    kinds = ["box", "sphere", "ellipsoid", "capsule", "cylinder"]
    parts = ['<geom type="plane" size="0 0 1" rgba=".5 .5 .5 1"/>']
    for i in range(14):
        quat = rng.normal(size=4)
        pos = " ".join(f"{x:.3f}" for x in rng.uniform(-1.5, 1.5, 3))
        size = " ".join(f"{x:.3f}" for x in rng.uniform(0.1, 0.5, 3))
        geom = (
            '<geom type="mesh" mesh="rock" rgba="0 1 1 1"/>'
            if i % 5 == 4
            else f'<geom type="{kinds[i % 5]}" size="{size}" rgba="{i / 14:.2f} 0.5 0.2 1"/>'
        )
        parts.append(
            f'<body pos="{pos}" quat="{" ".join(f"{q:.3f}" for q in quat)}"><freejoint/>'
            f"{geom}</body>"
        )
    verts = " ".join(f"{x:.3f}" for x in rng.normal(0.0, 0.3, 36))
    return _model("".join(parts), f'<mesh name="rock" vertex="{verts}"/>')


def _random_view(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    pos = rng.uniform(-2.5, 2.5, 3)
    pos[2] = abs(pos[2]) + 0.1
    q = rng.normal(size=4)
    xmat = np.zeros(9)
    mujoco.mju_quat2Mat(xmat, q / np.linalg.norm(q))
    return pos, xmat


@pytest.mark.parametrize("tracer", TRACERS)
@pytest.mark.parametrize("seed", range(4))
def test_analytic_tracer_agrees_with_mj_multiray(seed, tracer):
    rng = np.random.default_rng(seed)
    model, data = _random_scene(rng)
    for _ in range(3):
        pos, xmat = _random_view(rng)
        views = []
        for backend in (tracer, "mujoco"):
            cam = RayCastCamera(model, 31, 23, 75.0, backend=backend, cutoff=6.0)
            rgb, depth = cam.render(data, pos=pos, xmat=xmat, depth=True)
            views.append((rgb.astype(int), depth, cam.geom_ids.copy()))
        (rgb_a, depth_a, ids_a), (rgb_m, depth_m, ids_m) = views
        np.testing.assert_allclose(depth_a, depth_m, atol=1e-5)
        same = ids_a == ids_m
        assert same.mean() > 0.99  # only exact depth ties may pick a different geom
        assert np.abs(rgb_a - rgb_m)[same].max(initial=0) <= 1


def _primitive_scene(rng: np.random.Generator) -> tuple[mujoco.MjModel, mujoco.MjData]:
    """Every primitive kind, a floor and a finite tilted plane, one invisible (alpha 0) geom,
    one in group 3 and one material colour; bodies "b0".."b15" on free joints."""
    kinds = ["box", "sphere", "ellipsoid", "capsule", "cylinder"]
    parts = [
        '<geom type="plane" size="0 0 1" rgba=".5 .5 .5 1"/>',
        '<geom type="plane" pos="0.5 -0.5 0.8" euler="0.4 -0.3 0" size="0.8 0.5 1" '
        'rgba=".3 .6 .3 1"/>',
    ]
    for i in range(16):
        quat = " ".join(f"{q:.3f}" for q in rng.normal(size=4))
        pos = " ".join(f"{x:.3f}" for x in rng.uniform(-1.5, 1.5, 3))
        size = " ".join(f"{x:.3f}" for x in rng.uniform(0.1, 0.5, 3))
        colour = 'material="paint"' if i == 3 else f'rgba="{i / 16:.2f} 0.4 0.7 {int(i != 7)}"'
        parts.append(
            f'<body name="b{i}" pos="{pos}" quat="{quat}"><freejoint/><geom type="{kinds[i % 5]}" '
            f'size="{size}" {colour} group="{3 if i == 11 else 0}"/></body>'
        )
    return _model("".join(parts), '<material name="paint" rgba="0.9 0.2 0.1 1"/>')


@needs_numba
@pytest.mark.parametrize("seed", range(3))
def test_numba_tracer_matches_numpy_tracer_exactly(seed):
    """Same geom ids, depths within 1e-9 m, normals within 1e-6 and the same image bytes (the
    compiled shader too: checker, fog, sky), from random views, cameras inside geoms and with
    bodyexclude / geomgroup / cutoff."""
    rng = np.random.default_rng(seed)
    for model, data in (_primitive_scene(rng), _random_scene(rng)):
        views = [_random_view(rng) for _ in range(4)]
        views += [(data.xpos[model.nbody - 1 - i].copy(), _random_view(rng)[1]) for i in range(3)]
        foggy = ShadingConfig(light_dir=(0.3, -0.5, -0.2), checker_m=0.3, fog_start_m=1.0)
        options = [
            {},
            {"bodyexclude": model.nbody - 2, "geomgroup": [1, 1, 1, 0, 1, 1], "cutoff": 2.5},
            {"cutoff": 4.0, "shading": foggy},
        ]
        for (pos, xmat), kwargs in ((v, o) for v in views for o in options):
            results = []
            for backend in ("numpy", "numba"):
                cam = RayCastCamera(model, 31, 23, 80.0, backend=backend, **kwargs)
                rgb, depth = cam.render(data, pos=pos, xmat=xmat, depth=True)
                assert cam.active_backend == backend
                results.append((rgb, depth, cam.geom_ids.copy(), cam._t.copy(), cam._n.copy()))
            (rgb_np, depth_np, ids_np, t_np, n_np), (rgb_nb, depth_nb, ids_nb, t_nb, n_nb) = results
            np.testing.assert_array_equal(ids_nb, ids_np)
            hit = ids_np.ravel() >= 0
            np.testing.assert_allclose(t_nb[hit], t_np[hit], rtol=0, atol=1e-9)
            np.testing.assert_allclose(n_nb[:, hit], n_np[:, hit], rtol=0, atol=1e-6)
            np.testing.assert_allclose(depth_nb, depth_np, rtol=0, atol=1e-6)  # float32
            np.testing.assert_array_equal(rgb_nb, rgb_np)


def test_backend_selection_numpy_forced_and_numba_unavailable(monkeypatch):
    model, data = _model(RED_BOX + GREEN_WALL)
    forced = _cam(model, backend="numpy")
    rgb = forced.render(data, pos=ORIGIN, xmat=LOOK_Y)
    assert forced.active_backend == "numpy" and rgb[16, 16, 0] > 150
    assert forced.geom_ids[16, 16] == model.geom("red").id
    expected = "numba" if HAS_NUMBA else "numpy"
    assert _cam(model).active_backend == expected  # auto

    # as where numba is missing or fails to compile: auto falls back, numba says why
    monkeypatch.setattr(raycast_module, "load_jit", lambda: (None, "no numba here"))
    auto = _cam(model)
    np.testing.assert_array_equal(auto.render(data, pos=ORIGIN, xmat=LOOK_Y), rgb)
    assert auto.active_backend == "numpy"
    monkeypatch.setattr(raycast_module, "numba_installed", lambda: True)
    strict = _cam(model, backend="numba")
    with pytest.raises(RenderError, match=r"backend='numba'.*no numba here"):
        strict.render(data, pos=ORIGIN, xmat=LOOK_Y)
    monkeypatch.setattr(raycast_module, "numba_installed", lambda: False)
    with pytest.raises(RenderError, match="backend='numba': numba is not installed"):
        _cam(model, backend="numba")


def test_bad_arguments_raise_render_error_naming_them():
    model, data = _model(RED_BOX + '<camera name="eye"/>')
    with pytest.raises(RenderError, match="width"):
        RayCastCamera(model, 0, 10)
    with pytest.raises(RenderError, match=r"camera='nope'.*\['eye'\]"):
        RayCastCamera(model, camera="nope")
    with pytest.raises(RenderError, match="bodyexclude"):
        RayCastCamera(model, bodyexclude=7)
    with pytest.raises(RenderError, match="backend"):
        RayCastCamera(model, backend="optix")
    with pytest.raises(RenderError, match="fovy_deg"):
        RayCastCamera(model, fovy_deg=180.0)
    with pytest.raises(RenderError, match="light_dir"):
        ShadingConfig(light_dir=(0.0, 0.0, 0.0))
    cam = RayCastCamera(model, 8, 8)
    with pytest.raises(RenderError, match="xmat"):
        cam.render(data, pos=ORIGIN, xmat=np.eye(3) * 2.0)
    with pytest.raises(RenderError, match="out"):
        cam.render(data, pos=ORIGIN, xmat=np.eye(3), out=np.zeros((8, 8, 3), np.float32))
    with pytest.raises(RenderError, match="prefer"):
        make_renderer(model, 8, 8, prefer="vulkan")


def test_raycast_renderer_uses_model_cameras_and_free_camera():
    model, data = _model(RED_BOX + '<camera name="eye" pos="0 0 0" xyaxes="1 0 0 0 0 1"/>')
    renderer = make_renderer(model, 33, 33, prefer="raycast", shading=UNIFORM_SKY)
    assert isinstance(renderer, RayCastRenderer) and renderer.kind == "raycast"
    img = renderer.render(data, "eye")
    assert img.shape == (33, 33, 3) and img[16, 16, 0] > 150
    free = renderer.render(data)  # MuJoCo's default free camera looks at the model's centre
    assert free[16, 16, 0] > 150 and free[16, 16, 1] == 0
    renderer.close()


def test_gl_failure_falls_back_to_raycast_and_warns_once(monkeypatch):
    def no_gl(*args, **kwargs):
        raise RuntimeError("Cannot create an EGL context.")

    monkeypatch.setattr(gl_module, "_make_gl", no_gl)
    monkeypatch.setattr(gl_module, "_warned", False)
    monkeypatch.setattr(gl_module, "_gl_ok", None)
    monkeypatch.setattr(gl_module, "_gl_error", None)
    model, data = _model(RED_BOX + '<camera name="eye" pos="0 0 0" xyaxes="1 0 0 0 0 1"/>')
    assert gl_available() is False
    with pytest.warns(RuntimeWarning, match="ray-cast"):
        first = make_renderer(model, 33, 33, prefer="gl")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = make_renderer(model, 33, 33, prefer="gl")
    assert isinstance(first, RayCastRenderer) and isinstance(second, RayCastRenderer)
    assert first.render(data, "eye")[16, 16, 0] > 150


@pytest.mark.skipif(not gl_available(), reason="no OpenGL context can be created here")
def test_gl_renderer_renders_the_red_box():
    model, data = _model(RED_BOX + '<camera name="eye" pos="0 0 0" xyaxes="1 0 0 0 0 1"/>')
    with make_renderer(model, 33, 33, prefer="gl") as renderer:
        assert isinstance(renderer, GLRenderer)
        img = renderer.render(data, "eye")
        assert img.shape == (33, 33, 3) and img.dtype == np.uint8
        r, g, b = img[16, 16].astype(int)
        assert r > 100 and r > g + 60 and r > b + 60
