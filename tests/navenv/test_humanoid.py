"""The MuJoCo humanoid: structure, FK equivalence with the body model, ranges, tracking."""

import mujoco
import numpy as np
import pytest

from navenv.body import SMPL_JOINT_NAMES, Motion, Skeleton, forward_kinematics
from navenv.body.rotations import axis_angle_to_matrix, euler_xyz_to_matrix
from navenv.humanoid import (
    HumanoidConfig,
    HumanoidIndex,
    build_humanoid,
    joint_angles,
    motion_from_qpos,
    names,
    set_pose,
)
from navenv.humanoid.replay import add_floor, track_motion
from navenv.humanoid.tables import joint_range_deg


def compiled(skeleton=None):
    spec = build_humanoid(skeleton or Skeleton.builtin())
    model = spec.compile()
    return model, mujoco.MjData(model)


def random_motion(t=16, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return Motion(
        fps=30.0,
        transl=rng.normal(size=(t, 3)),
        global_orient=axis_angle_to_matrix(rng.normal(size=(t, 3))),
        body_pose=axis_angle_to_matrix(rng.normal(size=(t, 23, 3)) * scale),
        betas=np.zeros(10),
    )


def test_structure_matches_smpl():
    model, _ = compiled()
    # MuJoCo numbers bodies depth-first; HumanoidIndex gives them back in SMPL order by name
    idx = HumanoidIndex.from_model(model)
    assert model.nbody == 25
    assert [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) for b in idx.bodies] == list(
        SMPL_JOINT_NAMES
    )
    assert model.nq == 7 + 69 and model.nv == 6 + 69 and model.nu == 69
    assert [
        mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, a) for a in idx.actuators
    ] == list(names.ACTUATOR_NAMES)
    for limb in names.LIMBS:
        assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, names.GRIP_SITES[limb]) >= 0
    assert idx.ego_camera >= 0


@pytest.mark.parametrize(
    "betas", [None, np.full(10, 2.0), np.array([1.0, -2, 0.5, 0, 0, 0, 0, 0, 0, 0])]
)
def test_forward_kinematics_equals_mujoco(betas):
    skeleton = Skeleton.builtin(betas)
    model, data = compiled(skeleton)
    idx = HumanoidIndex.from_model(model)
    motion = random_motion(seed=3)
    fk = forward_kinematics(skeleton, motion)
    angles = joint_angles(motion)
    for t in range(len(motion)):
        set_pose(model, data, motion, t, skeleton, idx, angles)
        np.testing.assert_allclose(data.xpos[idx.bodies], fk[t], atol=1e-6)
        np.testing.assert_allclose(
            data.xmat[idx.bodies[0]].reshape(3, 3), motion.global_orient[t], atol=1e-9
        )


def test_joint_angles_reproduce_rotations_and_qpos_round_trips():
    motion = random_motion(seed=1)
    model, data = compiled()
    idx = HumanoidIndex.from_model(model)
    angles = joint_angles(motion, idx.hinge_range)
    np.testing.assert_allclose(
        euler_xyz_to_matrix(angles.reshape(-1, 23, 3)),
        motion.body_pose.reshape(-1, 23, 3, 3),
        atol=1e-9,
    )
    qpos = []
    for t in range(len(motion)):
        set_pose(model, data, motion, t, Skeleton.builtin(), idx, angles)
        qpos.append(data.qpos.copy())
    back = motion_from_qpos(np.array(qpos), idx, Skeleton.builtin(), motion.fps)
    np.testing.assert_allclose(back.body_pose, motion.body_pose, atol=1e-9)
    np.testing.assert_allclose(back.transl, motion.transl, atol=1e-12)


def test_joint_angles_of_a_body_pose_slice_match_those_of_the_motion():
    # MotionPlayer converts slices of body_pose, continuing from the frame before each slice
    motion = random_motion(t=20, seed=2)
    idx = HumanoidIndex.from_model(compiled()[0])
    whole = joint_angles(motion, idx.hinge_range)
    first = joint_angles(motion.body_pose[:10], idx.hinge_range)
    rest = joint_angles(motion.body_pose[10:], idx.hinge_range, start=first[-1])
    np.testing.assert_array_equal(first, whole[:10])
    np.testing.assert_array_equal(rest, joint_angles(motion.slice(10), idx.hinge_range, first[-1]))


def test_joint_angles_are_continuous():
    # a slow full turn of one joint must not jump by 2 pi between frames
    t = np.linspace(0, 2 * np.pi, 90)
    bp = np.zeros((90, 23, 3))
    bp[:, 15, 0] = t  # left shoulder twist through a full turn
    m = Motion(
        30.0,
        np.zeros((90, 3)),
        np.tile(np.eye(3), (90, 1, 1)),
        axis_angle_to_matrix(bp),
        np.zeros(10),
    )
    angles = joint_angles(m)
    assert np.abs(np.diff(angles, axis=0)).max() < 0.2


@pytest.mark.parametrize("beta", [-3.0, -1.5, 0.0, 1.5, 3.0])
def test_compiles_over_beta_range(beta):
    skeleton = Skeleton.builtin(np.full(10, beta))
    model, data = compiled(skeleton)
    mass = model.body_subtreemass[1]
    assert 15 < mass < 250
    mujoco.mj_forward(model, data)
    assert data.ncon == 0  # no self-contact in the rest pose


def test_mass_and_ranges_are_human():
    model, _ = compiled()
    assert 60 < model.body_subtreemass[1] < 85  # 1.70 m adult
    kx, ky, _ = joint_range_deg("left_knee")
    assert kx[1] >= 130 and ky[1] <= 10
    # right side mirrors the left in y and z
    assert joint_range_deg("right_shoulder")[1] == tuple(
        -v for v in reversed(joint_range_deg("left_shoulder")[1])
    )


def test_density_mass_model_integrates_the_shapes():
    """mass_model="density": MuJoCo's masses are the density times each geom's volume."""
    light = build_humanoid(config=HumanoidConfig(mass_model="density", density=1000.0)).compile()
    heavy = build_humanoid(config=HumanoidConfig(mass_model="density", density=2000.0)).compile()
    np.testing.assert_allclose(heavy.body_mass, 2.0 * light.body_mass, rtol=1e-9)
    hand = mujoco.mj_name2id(light, mujoco.mjtObj.mjOBJ_BODY, "left_hand")
    (geom,) = np.flatnonzero(light.geom_bodyid == hand)
    assert light.geom_type[geom] == mujoco.mjtGeom.mjGEOM_BOX
    assert light.body_mass[hand] == pytest.approx(1000.0 * 8 * np.prod(light.geom_size[geom]))
    assert 45 < light.body_subtreemass[1] < 70  # the shapes fill most of a 1.70 m body
    for bad in ({"mass_model": "volume"}, {"density": 0.0}, {"density": float("nan")}):
        with pytest.raises(ValueError, match="mass_model|density"):
            HumanoidConfig(**bad)


def test_pd_standing_with_floor_is_stable():
    spec = build_humanoid()
    add_floor(spec)
    model = spec.compile()
    data = mujoco.MjData(model)
    idx = HumanoidIndex.from_model(model)
    data.qpos[idx.root_qpos] = [0, 0, Skeleton.builtin().offsets[0][2] + 0.002, 1, 0, 0, 0]
    for _ in range(480):
        mujoco.mj_step(model, data)
    assert np.isfinite(data.qpos).all()
    assert data.qpos[2] > 0.8  # still upright after one second


def test_tracking_synthetic_motion_low_error_and_assist():
    n = 60
    t = np.arange(n) / 30.0
    bp = np.zeros((n, 23, 3))
    bp[:, 15, 1] = 1.2 + 0.3 * np.sin(2 * np.pi * t)  # left arm waves at the side
    bp[:, 16, 1] = -1.2
    bp[:, 17, 2] = -0.5 * (1 + np.sin(2 * np.pi * t))  # left elbow bends
    m = Motion(
        30.0,
        np.zeros((n, 3)),
        np.tile(np.eye(3), (n, 1, 1)),
        axis_angle_to_matrix(bp),
        np.zeros(10),
    )
    r = track_motion(m)
    assert r.mpjpe_mm < 30.0
    assert r.assist_force_mean < 0.1 * r.body_weight


def test_root_wrench_is_a_pd_law_and_the_assist_clips_it():
    """The one PD root wrench (replay's RootAssist, the tracker's gains): hand-made errors."""
    from navenv.humanoid.assist import RootAssist, RootGains

    quarter = axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
    pose = dict(
        pos=np.zeros(3),
        vel=np.array([1.0, 0.0, 0.0]),
        rot=np.eye(3),
        angvel=np.zeros(3),
        pos_ref=np.array([0.0, 0.0, 0.1]),
        vel_ref=np.zeros(3),
        rot_ref=quarter,
        angvel_ref=np.array([0.0, 0.0, 2.0]),
    )
    force, torque = RootGains(100.0, 10.0, 4.0, 0.5).wrench(**pose)
    np.testing.assert_allclose(force, [-10.0, 0.0, 10.0])  # 100 N/m * 0.1 m up, 10 N s/m * -1 m/s
    np.testing.assert_allclose(torque, [0.0, 0.0, 4.0 * np.pi / 2 + 0.5 * 2.0])
    f, tau = RootAssist(100.0, 10.0, 4.0, 0.5, max_force=5.0, max_torque=100.0).wrench(**pose)
    np.testing.assert_allclose(f, force * 5.0 / np.linalg.norm(force))
    np.testing.assert_allclose(tau, torque)
    with pytest.raises(ValueError, match="kd_force"):
        RootGains(1.0, -1.0, 1.0, 1.0)


def test_pd_tracked_cmu_walk_stays_close_with_small_assist():
    """The foundation invariant: a physical replay of real mocap, root assist reported."""
    from navenv.humanoid.grounding import level_ground
    from navenv.mocap import load_amc

    result = load_amc("tests/data/mocap/02.asf", "tests/data/mocap/02_01.amc", return_result=True)
    walk, report = level_ground(result.motion.resample(30.0), result.skeleton)
    assert report["tilt_deg"] < 5.0
    tracked = track_motion(walk, result.skeleton)
    assert tracked.mpjpe_mm < 30.0
    assert tracked.assist_force_mean < 0.25 * tracked.body_weight
    # the humanoid really walked: the pelvis covered the reference's distance
    start, end = tracked.simulated_joints[0, 0, :2], tracked.simulated_joints[-1, 0, :2]
    ref = np.linalg.norm(tracked.reference_joints[-1, 0, :2] - tracked.reference_joints[0, 0, :2])
    assert np.linalg.norm(end - start) == pytest.approx(ref, rel=0.1)


def test_climber_dims_match_the_skeleton_and_generate_climbable_routes():
    import scenes
    from navenv.envs.climb.env import ClimbRouteEnv
    from navenv.humanoid import climber_dims

    short = Skeleton.builtin([-1.5])  # a 1.57 m climber
    dims = climber_dims(short)
    assert dims.stature == pytest.approx(short.stature)
    assert dims.arm_length == pytest.approx(short.arm_length())
    assert climber_dims(Skeleton.builtin()).arm_length > dims.arm_length
    wall = scenes.generate_wall(11, climber=dims)
    env = ClimbRouteEnv(scene=wall, obs="state", skeleton=short)
    _, info = env.reset(seed=0)
    assert info["spawn_error"] < 0.03  # the start stance fits this climber
