"""PD-tracked physical replay of a Motion by the humanoid, with a residual root wrench ("assist").

The hinges follow the reference through their position actuators. MuJoCo's position actuator
applies ``kp (ctrl - q) - kv qdot``; setting ``ctrl = q_ref + (kv / kp) qdot_ref`` turns that into
a PD law on both angle and velocity, ``kp (q_ref - q) + kv (qdot_ref - qdot)``, with no lag.

The root has no actuator (a human has none either): a residual wrench on the pelvis, a PD law
toward the reference root pose, makes up for what the joints cannot do alone (balance under
retargeting error, missing contacts). Its size is reported as `assist` so a physically honest
replay is one with small assist; this is the "residual force control" of Yuan & Kitani (NeurIPS
2020) in its simplest form. The PD law and its gains live in navenv.humanoid.assist (shared with
the policies' tracker).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from navenv.body.kinematics import forward_kinematics
from navenv.body.motion import Motion
from navenv.body.rotations import matrix_to_axis_angle
from navenv.body.skeleton import Skeleton
from navenv.humanoid.assist import RootAssist
from navenv.humanoid.builder import HUMANOID_BIT, SCENE_BIT, HumanoidConfig, build_humanoid
from navenv.humanoid.index import HumanoidIndex
from navenv.humanoid.pose import joint_angles, root_qpos


@dataclass
class TrackingResult:
    """What a tracked replay produced."""

    reference_joints: np.ndarray  # (T, 24, 3) metres
    simulated_joints: np.ndarray  # (T, 24, 3) metres
    mpjpe_mm: float  # mean per-joint position error, global (not root-aligned), mm
    assist_force_mean: float  # mean residual root force norm, N
    assist_torque_mean: float  # mean residual root torque norm, N m
    body_weight: float  # N, for scale: assist_force_mean / body_weight is the assist ratio
    qpos: np.ndarray  # (T, nq) simulated configurations at the motion's frames


def add_floor(spec: mujoco.MjSpec, friction: float = 1.0) -> None:
    """A static floor plane at z = 0 that collides with the humanoid."""
    spec.worldbody.add_geom(
        name="floor",
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[50, 50, 0.1],
        contype=SCENE_BIT,
        conaffinity=HUMANOID_BIT,
        friction=[friction, 0.005, 0.0001],
        rgba=[0.5, 0.5, 0.5, 1.0],
    )


def track_motion(
    motion: Motion,
    skeleton: Skeleton | None = None,
    *,
    assist: RootAssist | None = None,
    config: HumanoidConfig | None = None,
) -> TrackingResult:
    """Replay `motion` physically on a floor with PD tracking and a residual root wrench."""
    skeleton = skeleton or Skeleton.builtin(motion.betas)
    assist = assist or RootAssist()
    spec = build_humanoid(skeleton, config)
    add_floor(spec)
    model = spec.compile()
    data = mujoco.MjData(model)
    idx = HumanoidIndex.from_model(model)
    dt = model.opt.timestep
    steps_per_frame = max(1, round(1.0 / (motion.fps * dt)))
    ref = (
        motion.resample(1.0 / (steps_per_frame * dt))
        if abs(motion.fps * steps_per_frame * dt - 1) > 1e-9
        else motion
    )
    ref = ref.resample(1.0 / dt)  # one reference frame per physics step
    q_ref = joint_angles(ref, idx.hinge_range)  # (N, 69)
    qd_ref = np.gradient(q_ref, dt, axis=0)
    root_ref = root_qpos(skeleton, ref.transl, ref.global_orient)  # (N, 7)
    v_ref = np.gradient(root_ref[:, :3], dt, axis=0)
    # world angular velocity from successive orientations
    rel = ref.global_orient[1:] @ np.swapaxes(ref.global_orient[:-1], -1, -2)
    w_ref = np.concatenate([matrix_to_axis_angle(rel) / dt, np.zeros((1, 3))])
    kp = model.actuator_gainprm[idx.actuators, 0]
    kv = -model.actuator_biasprm[idx.actuators, 2]
    pelvis = idx.bodies[0]

    # The wrench's damping acts through the root dofs' own damping, which MuJoCo integrates
    # implicitly (stable at any gain); the stiffness and the velocity feed-forward stay explicit.
    root_dofs = np.arange(idx.root_qvel.start, idx.root_qvel.stop)
    model.dof_damping[root_dofs[:3]] = assist.kd_force
    model.dof_damping[root_dofs[3:]] = assist.kd_torque

    data.qpos[idx.root_qpos] = root_ref[0]
    data.qpos[idx.hinge_qpos] = q_ref[0]
    data.qvel[idx.root_qvel.start : idx.root_qvel.start + 3] = v_ref[0]
    data.qvel[idx.hinge_qvel] = qd_ref[0]
    mujoco.mj_forward(model, data)

    n = len(ref)
    forces, torques, qpos_log = [], [], []
    record_every = steps_per_frame
    for t in range(n):
        if t % record_every == 0:
            qpos_log.append(data.qpos.copy())
        data.ctrl[idx.actuators] = q_ref[t] + (kv / kp) * qd_ref[t]
        pelvis_rot = data.xmat[pelvis].reshape(3, 3)
        ang_vel_world = pelvis_rot @ data.qvel[idx.root_qvel][3:]
        # the full PD wrench, for the record (clipped to the assist limits)
        f, tau = assist.wrench(
            pos=data.qpos[idx.root_qpos][:3],
            vel=data.qvel[idx.root_qvel][:3],
            rot=pelvis_rot,
            angvel=ang_vel_world,
            pos_ref=root_ref[t, :3],
            vel_ref=v_ref[t],
            rot_ref=ref.global_orient[t],
            angvel_ref=w_ref[t],
        )
        # what is applied explicitly: the wrench minus the damping the root dofs already apply
        data.xfrc_applied[pelvis, :3] = f + assist.kd_force * data.qvel[idx.root_qvel][:3]
        data.xfrc_applied[pelvis, 3:] = tau + assist.kd_torque * ang_vel_world
        forces.append(np.linalg.norm(f))
        torques.append(np.linalg.norm(tau))
        mujoco.mj_step(model, data)

    qpos = np.asarray(qpos_log)
    sim_joints = _joints_from_qpos(model, qpos, idx)
    ref_joints = forward_kinematics(skeleton, ref.slice(0, None, record_every))
    k = min(len(sim_joints), len(ref_joints))
    err = np.linalg.norm(sim_joints[:k] - ref_joints[:k], axis=-1).mean() * 1000.0
    weight = float(model.body_subtreemass[pelvis] * -model.opt.gravity[2])
    return TrackingResult(
        reference_joints=ref_joints[:k],
        simulated_joints=sim_joints[:k],
        mpjpe_mm=float(err),
        assist_force_mean=float(np.mean(forces)),
        assist_torque_mean=float(np.mean(torques)),
        body_weight=weight,
        qpos=qpos[:k],
    )


def _joints_from_qpos(model: mujoco.MjModel, qpos: np.ndarray, idx: HumanoidIndex) -> np.ndarray:
    data = mujoco.MjData(model)
    out = np.empty((len(qpos), len(idx.bodies), 3))
    for i, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        out[i] = data.xpos[idx.bodies]
    return out
