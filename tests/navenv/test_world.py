"""navenv.world: scenes compile into MuJoCo and step without warnings, alone and with the humanoid."""

import mujoco
import numpy as np
import pytest

import scenes
from navenv.humanoid import HumanoidIndex
from navenv.world import HOLD_PREFIX, compose_world, scene_spec


def step_clean(model: mujoco.MjModel, data: mujoco.MjData, steps: int) -> None:
    """Step and assert MuJoCo raised no warning of any kind."""
    for _ in range(steps):
        mujoco.mj_step(model, data)
    counts = {mujoco.mjtWarning(i).name: data.warning[i].number for i in range(len(data.warning))}
    assert not any(counts.values()), counts
    assert np.isfinite(data.qpos).all()


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    return scenes.import_mesh(
        "tests/data/meshes/wall_binary.stl", out_dir=tmp_path_factory.mktemp("scan")
    )


@pytest.mark.parametrize("source", ["wall", "room", "imported"])
def test_scene_compiles_and_steps_without_warnings(source, imported):
    scene = {
        "wall": lambda: scenes.generate_wall(5),
        "room": lambda: scenes.generate_room(5),
        "imported": lambda: imported,
    }[source]()
    model = scene_spec(scene).compile()
    data = mujoco.MjData(model)
    step_clean(model, data, 50)
    # holds are separate named geoms coloured like their route
    for hold in scene.holds[:10]:
        g = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, HOLD_PREFIX + hold.id)
        assert g >= 0
        np.testing.assert_allclose(model.geom_rgba[g], hold.rgba, atol=1e-6)
    for cam in scene.cameras:
        assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, cam.name) >= 0


@pytest.mark.parametrize("source", ["wall", "room", "imported"])
def test_scene_with_humanoid_standing_steps_without_warnings(source, imported):
    scene = {
        "wall": lambda: scenes.generate_wall(5),
        "room": lambda: scenes.generate_room(5),
        "imported": lambda: imported,
    }[source]()
    model = compose_world(scene).compile()
    data = mujoco.MjData(model)
    idx = HumanoidIndex.from_model(model)
    spawn = scene.spawn or scenes.Spawn(pos=(0.0, 2.0, 0.0))
    root = idx.root_qpos.start
    data.qpos[root : root + 3] = [spawn.pos[0], spawn.pos[1], 0.98]  # standing at the spawn
    data.ctrl[idx.actuators] = 0.0
    step_clean(model, data, 240)


def test_tripod_camera_intrinsics_match_scene():
    scene = scenes.load("wall_vertical_01")
    model = scene_spec(scene).compile()
    cam = scene.cameras[0]
    fovy = np.degrees(2 * np.arctan(0.5 * cam.height / cam.fy))
    assert model.cam_fovy[
        mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, cam.name)
    ] == pytest.approx(fovy)
