"""Named accessors into a compiled model that holds the humanoid: qpos/qvel addresses, actuator,
body, site and camera ids, all looked up by the names in `navenv.humanoid.names`."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from navenv.humanoid import names


def _id(model: mujoco.MjModel, objtype: mujoco.mjtObj, name: str) -> int:
    i = mujoco.mj_name2id(model, objtype, name)
    if i < 0:
        raise KeyError(f"model has no {objtype.name.removeprefix('mjOBJ_').lower()} named {name!r}")
    return i


@dataclass(frozen=True, eq=False)
class HumanoidIndex:
    """Where the humanoid lives in a compiled MjModel."""

    root_qpos: slice  # 7: position (3) and quaternion (4, w x y z)
    root_qvel: slice  # 6: linear (3, world) and angular (3, local) velocity
    hinge_qpos: np.ndarray  # (69,) qpos addresses in names.HINGE_NAMES order
    hinge_qvel: np.ndarray  # (69,) dof addresses
    actuators: np.ndarray  # (69,) actuator ids
    hinge_range: np.ndarray  # (69, 2) radians
    bodies: np.ndarray  # (24,) body ids in SMPL order
    grip_sites: np.ndarray  # (4,) site ids in names.LIMBS order
    grip_bodies: np.ndarray  # (4,) body ids in names.LIMBS order
    ego_camera: int
    head_body: int
    geoms: np.ndarray  # ids of every geom of the humanoid

    def geom_mask(self, ngeom: int) -> np.ndarray:
        """(ngeom,) bool: True on the humanoid's geoms (contact and depth checks)."""
        mask = np.zeros(ngeom, bool)
        mask[self.geoms] = True
        return mask

    @classmethod
    def from_model(cls, model: mujoco.MjModel, prefix: str = "") -> HumanoidIndex:
        """Look every humanoid element up by name (KeyError if the model lacks one)."""
        J, B, A, S, C = (
            mujoco.mjtObj.mjOBJ_JOINT,
            mujoco.mjtObj.mjOBJ_BODY,
            mujoco.mjtObj.mjOBJ_ACTUATOR,
            mujoco.mjtObj.mjOBJ_SITE,
            mujoco.mjtObj.mjOBJ_CAMERA,
        )
        root = _id(model, J, prefix + names.ROOT_JOINT)
        hinges = np.array([_id(model, J, prefix + n) for n in names.HINGE_NAMES])
        bodies = np.array([_id(model, B, prefix + n) for n in names.BODY_NAMES])
        qa, va = int(model.jnt_qposadr[root]), int(model.jnt_dofadr[root])
        return cls(
            root_qpos=slice(qa, qa + 7),
            root_qvel=slice(va, va + 6),
            hinge_qpos=model.jnt_qposadr[hinges].copy(),
            hinge_qvel=model.jnt_dofadr[hinges].copy(),
            actuators=np.array([_id(model, A, prefix + n) for n in names.ACTUATOR_NAMES]),
            hinge_range=model.jnt_range[hinges].copy(),
            bodies=bodies,
            grip_sites=np.array([_id(model, S, prefix + names.GRIP_SITES[l]) for l in names.LIMBS]),
            grip_bodies=np.array(
                [_id(model, B, prefix + names.GRIP_BODIES[l]) for l in names.LIMBS]
            ),
            ego_camera=_id(model, C, prefix + names.EGO_CAMERA),
            head_body=_id(model, B, prefix + names.HEAD_BODY),
            geoms=np.flatnonzero(np.isin(model.geom_bodyid, bodies)),
        )
