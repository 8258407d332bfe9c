"""Build the MuJoCo humanoid (an MjSpec) from a Skeleton.

24 bodies in SMPL order named like the SMPL joints, a free root joint on the pelvis and three
nested hinges (x, y, z) in every other body, so that a body's local rotation is exactly
``Rx @ Ry @ Rz`` (navenv.body.rotations' Euler XYZ): joint angles map one-to-one to SMPL
rotations, and MuJoCo's body positions equal `navenv.body.forward_kinematics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from navenv.body.joints import JOINT_INDEX, NUM_JOINTS, SMPL_PARENTS
from navenv.body.rotations import matrix_to_quat
from navenv.body.skeleton import Skeleton
from navenv.humanoid import names, tables

# Collision bitmasks shared with navenv.world: humanoid geoms and static scene geoms.
HUMANOID_BIT = 1
SCENE_BIT = 2

HUMANOID_RGBA = (0.85, 0.62, 0.48, 1.0)
MASS_MODELS = ("segments", "density")
EGO_FOVY_DEG = 90.0


@dataclass
class HumanoidConfig:
    """Options of the humanoid build."""

    self_collision: bool = True
    """Collide the humanoid's geoms with each other (bodies within two hops excluded)."""
    armature: float = 0.02
    """Hinge armature (kg m^2): reflected rotor inertia that also steadies stiff PD joints."""
    friction: float = 1.0
    """Sliding friction of the humanoid's geoms."""
    timestep: float = 1.0 / 480.0
    """Physics timestep (s) when this spec is the whole model."""
    prefix: str = ""
    """Prefix for every name (for several humanoids in one world)."""
    mass_model: str = "segments"
    """How body masses are set: "segments" (default): each body carries its share of the whole
    body mass (Winter's segment mass fractions x REFERENCE_BMI x stature^2, ~65 kg at 1.70 m),
    spread uniformly over its geoms; "density": every geom gets `density` and MuJoCo derives
    the masses from the capsule/box volumes (lighter, ~55 kg at 1.70 m, as the shapes do not
    fill the body; the trunk comes out too light and the thighs too heavy)."""
    density: float = tables.BODY_DENSITY_KG_M3
    """kg/m^3, used with mass_model="density" (Winter's whole-body density by default)."""

    def __post_init__(self) -> None:
        if self.armature < 0 or self.friction < 0 or self.timestep <= 0:
            raise ValueError(
                f"HumanoidConfig: negative armature/friction or non-positive timestep: {self}"
            )
        if self.mass_model not in MASS_MODELS:
            raise ValueError(
                f"HumanoidConfig.mass_model={self.mass_model!r}: expected one of {MASS_MODELS}"
            )
        if not np.isfinite(self.density) or self.density <= 0:
            raise ValueError(f"HumanoidConfig.density={self.density}: expected a positive kg/m^3")


def build_humanoid(
    skeleton: Skeleton | None = None, config: HumanoidConfig | None = None
) -> mujoco.MjSpec:
    """A standalone MjSpec holding only the humanoid (no floor), at 480 Hz with implicit damping."""
    spec = mujoco.MjSpec()
    spec.modelname = "navenv_humanoid"
    cfg = config or HumanoidConfig()
    configure_options(spec, cfg.timestep)
    add_humanoid(spec, skeleton or Skeleton.builtin(), cfg)
    return spec


def configure_options(spec: mujoco.MjSpec, timestep: float) -> None:
    """Physics options navenv uses for every world (implicit integrator for stiff PD joints)."""
    spec.option.timestep = timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.iterations = 30
    spec.option.ls_iterations = 10
    spec.compiler.degree = False  # every angle in radians
    spec.compiler.autolimits = True


def add_humanoid(
    spec: mujoco.MjSpec, skeleton: Skeleton, config: HumanoidConfig | None = None
) -> None:
    """Add the humanoid (bodies, geoms, joints, actuators, sites, ego camera) to `spec`."""
    cfg = config or HumanoidConfig()
    p = cfg.prefix
    stature = skeleton.stature
    bodies: list[mujoco.MjsBody] = []
    for i, name in enumerate(names.BODY_NAMES):
        parent = spec.worldbody if i == 0 else bodies[SMPL_PARENTS[i]]
        body = parent.add_body(name=p + name, pos=skeleton.offsets[i].tolist())
        bodies.append(body)
        if i == 0:
            body.add_freejoint(name=p + names.ROOT_JOINT)
        else:
            _add_hinges(spec, body, name, cfg)
        _add_geoms(body, name, skeleton, stature, cfg)
    _add_sites_and_camera(bodies, skeleton, stature, p)
    if cfg.self_collision:
        _exclude_near_pairs(spec, p)


def _add_hinges(spec: mujoco.MjSpec, body: mujoco.MjsBody, name: str, cfg: HumanoidConfig) -> None:
    """Three nested hinges x, y, z with ROM limits, and a position actuator on each."""
    kp = tables.peak_torque(name) / tables.GAIN_ERROR_AT_PEAK_RAD
    torque = tables.peak_torque(name)
    for axis, rng in zip(names.HINGE_AXES, tables.joint_range_deg(name)):
        jname = cfg.prefix + names.hinge_name(name, axis)
        lo, hi = np.deg2rad(rng)
        body.add_joint(
            name=jname,
            type=mujoco.mjtJoint.mjJNT_HINGE,
            axis=[float(axis == "x"), float(axis == "y"), float(axis == "z")],
            range=[lo, hi],
            limited=mujoco.mjtLimited.mjLIMITED_TRUE,
            armature=cfg.armature,
        )
        act = spec.add_actuator(name=jname, target=jname, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=kp, dampratio=tables.DAMPING_RATIO)
        act.ctrlrange = [lo, hi]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-torque, torque]
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE


def _geom(body: mujoco.MjsBody, cfg: HumanoidConfig, **kw) -> mujoco.MjsGeom:
    g = body.add_geom(**kw)
    g.density = cfg.density  # with mass_model="segments", replaced by the segment mass
    g.rgba = HUMANOID_RGBA
    g.friction = [cfg.friction, 0.005, 0.0001]
    g.contype = HUMANOID_BIT
    g.conaffinity = SCENE_BIT | (HUMANOID_BIT if cfg.self_collision else 0)
    g.condim = 3
    return g


def _capsule(body, cfg, a, b, radius, name):
    return _geom(
        body,
        cfg,
        name=name,
        type=mujoco.mjtGeom.mjGEOM_CAPSULE,
        fromto=[*a, *b],
        size=[radius, 0, 0],
    )


def _box(body, cfg, lo, hi, name):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return _geom(
        body,
        cfg,
        name=name,
        type=mujoco.mjtGeom.mjGEOM_BOX,
        pos=((lo + hi) / 2).tolist(),
        size=((hi - lo) / 2).tolist(),
    )


def _child_offset(skeleton: Skeleton, child: str) -> np.ndarray:
    return skeleton.offsets[JOINT_INDEX[child]]


def _add_geoms(body, name: str, skel: Skeleton, h: float, cfg: HumanoidConfig) -> None:
    """Collision/visual geoms of one body, sized from the skeleton (fractions of stature h)."""
    before = len(body.geoms)
    _add_segment_geoms(body, name, skel, h, cfg)
    if cfg.mass_model == "density":
        return  # MuJoCo integrates cfg.density over each geom
    mass = tables.mass_fraction(name) * tables.REFERENCE_BMI * h * h
    new = body.geoms[before:]
    for g in new:
        g.mass = mass / len(new)


def _add_segment_geoms(body, name: str, skel: Skeleton, h: float, cfg: HumanoidConfig) -> None:
    """The shapes of one body's segment."""
    r = {k: v * h for k, v in tables.SEGMENT_RADIUS_FRACTION.items()}
    gname = cfg.prefix + name
    side = tables.side_of(name)
    sx = 1.0 if side != "right" else -1.0  # lateral direction of this side
    o = np.zeros(3)
    if name == "pelvis":
        lh = _child_offset(skel, "left_hip")
        z = 0.5 * lh[2] + 0.01 * h
        half = 0.045 * h  # hip breadth 0.191 H (Winter 2009) = 2 (half + radius)
        _capsule(body, cfg, [half, 0.005 * h, z], [-half, 0.005 * h, z], r["pelvis"], gname)
    elif name in ("spine1", "spine2", "spine3"):
        child = {"spine1": "spine2", "spine2": "spine3", "spine3": "neck"}[name]
        c = _child_offset(skel, child)
        radius = r["chest"] if name == "spine3" else r["abdomen"]
        z = 0.5 * c[2] if name != "spine3" else 0.35 * c[2]
        half = {"spine1": 0.035, "spine2": 0.035, "spine3": 0.04}[
            name
        ] * h  # waist ~0.29 m, chest ~0.33 m wide
        _capsule(body, cfg, [half, c[1] / 2, z], [-half, c[1] / 2, z], radius, gname)
    elif name == "neck":
        _capsule(body, cfg, o, 0.8 * _child_offset(skel, "head"), r["neck"], gname)
    elif name == "head":
        _geom(
            body,
            cfg,
            name=gname,
            type=mujoco.mjtGeom.mjGEOM_SPHERE,
            pos=[0, -0.008 * h, 0.04 * h],
            size=[r["head"], 0, 0],
        )
    elif name.endswith("collar"):
        c = _child_offset(skel, side + "_shoulder")
        _capsule(body, cfg, 0.25 * c, 0.75 * c, r["collar"], gname)
    elif name.endswith("shoulder"):
        _capsule(body, cfg, o, _child_offset(skel, side + "_elbow"), r["upper_arm"], gname)
    elif name.endswith("elbow"):
        _capsule(body, cfg, o, _child_offset(skel, side + "_wrist"), r["forearm"], gname)
    elif name.endswith("wrist"):  # palm: a flat box from the wrist to the knuckles
        c = _child_offset(skel, side + "_hand")
        _box(
            body,
            cfg,
            [min(0, c[0]), -0.027 * h, -0.008 * h],
            [max(0, c[0]), 0.02 * h, 0.008 * h],
            gname,
        )
    elif name.endswith("hand"):  # fingers, straight, to the fingertips
        tip = sx * tables.HAND_LENGTH_BEYOND_JOINT * h
        _box(
            body,
            cfg,
            [min(0, tip), -0.027 * h, -0.007 * h],
            [max(0, tip), 0.02 * h, 0.007 * h],
            gname,
        )
    elif name.endswith("hip"):
        _capsule(body, cfg, o, _child_offset(skel, side + "_knee"), r["thigh"], gname)
    elif name.endswith("knee"):
        _capsule(body, cfg, o, 0.94 * _child_offset(skel, side + "_ankle"), r["shin"], gname)
    elif name.endswith("ankle"):  # foot from heel to the ball of the foot
        ball = _child_offset(skel, side + "_foot")
        sole = -tables.SOLE_BELOW_ANKLE * h
        w = 0.5 * tables.FOOT_WIDTH * h
        _box(
            body,
            cfg,
            [ball[0] - w, ball[1], sole],
            [ball[0] + w, tables.FOOT_HEEL_BEHIND_ANKLE * h, -0.008 * h],
            gname,
        )
    elif name.endswith("foot"):  # toes
        sole = -tables.SOLE_BELOW_ANKLE * h - _child_offset(skel, side + "_foot")[2]
        w = 0.5 * tables.FOOT_WIDTH * h
        _box(body, cfg, [-w, -0.032 * h, sole], [w, 0.0, sole + 0.018 * h], gname)
    else:  # pragma: no cover - every SMPL joint is handled above
        raise AssertionError(name)


def _add_sites_and_camera(bodies: list, skel: Skeleton, h: float, p: str) -> None:
    """Grip sites (palms, balls of the feet) and the ego camera mount on the head."""
    by_name = dict(zip(names.BODY_NAMES, bodies))
    for limb in ("left_hand", "right_hand"):
        sx = 1.0 if limb.startswith("left") else -1.0
        by_name[limb].add_site(
            name=p + names.GRIP_SITES[limb],
            pos=[sx * 0.025 * h, 0.0, -0.012 * h],
            size=[0.012, 0, 0],
        )
    for limb in ("left_foot", "right_foot"):  # climbers stand on the tips of their toes
        sole = -tables.SOLE_BELOW_ANKLE * h - skel.offsets[JOINT_INDEX[limb]][2]
        by_name[limb].add_site(
            name=p + names.GRIP_SITES[limb],
            pos=[0.0, -0.03 * h, sole + 0.004 * h],
            size=[0.012, 0, 0],
        )
    head = by_name[names.HEAD_BODY]
    eye = [0.0, -0.062 * h, 0.041 * h]  # between the eyes, at the front of the head sphere
    head.add_site(name=p + names.EGO_MOUNT_SITE, pos=eye, size=[0.01, 0, 0])
    # MuJoCo cameras look along their -z with +y up: map camera (x, y, z) to body (-x, z, y)
    cam_rot = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    head.add_camera(
        name=p + names.EGO_CAMERA, pos=eye, quat=matrix_to_quat(cam_rot).tolist(), fovy=EGO_FOVY_DEG
    )


def _tree_distance(a: int, b: int) -> int:
    def chain(i):
        out = []
        while i >= 0:
            out.append(i)
            i = SMPL_PARENTS[i]
        return out

    ca, cb = chain(a), chain(b)
    common = next(i for i in ca if i in cb)
    return ca.index(common) + cb.index(common)


def _exclude_near_pairs(spec: mujoco.MjSpec, p: str) -> None:
    """No self-contacts between bodies within two hops: their capsules overlap at rest by design."""
    for a in range(NUM_JOINTS):
        for b in range(a + 1, NUM_JOINTS):
            if _tree_distance(a, b) <= 2:
                spec.add_exclude(
                    bodyname1=p + names.BODY_NAMES[a], bodyname2=p + names.BODY_NAMES[b]
                )
