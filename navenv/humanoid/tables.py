"""Per-joint tables of the humanoid: ranges of motion, actuator gains and torque limits, and
segment sizes. Values are data, with their sources; the builder only reads them.

Axes are the body frame's (x = the body's left, y = back, z = up; the body faces -y) and the
hinges are nested x, y, z, so e.g. a positive x rotation of the hip swings the thigh backward
(extension) and a positive x rotation of the spine bends the trunk forward (flexion).
"""

from __future__ import annotations

# ---------------------------------------------------------------------------- ranges of motion
# Degrees, (min, max) per axis x, y, z, for the LEFT side; right-side y and z ranges are mirrored
# (negated and swapped) because mirroring x flips the sense of rotations about y and z.
# Sources: normal adult active ranges of the American Academy of Orthopaedic Surgeons (1965) as
# tabulated in Norkin & White, *Measurement of Joint Motion*, 5th ed. (2016), and Soucie et al.
# (2011, Haemophilia 17:500) for hips/knees/ankles; trunk and neck totals are split over SMPL's
# three spine joints and the neck/head pair. Small "laxity" ranges (+-5..15 deg) on axes a real
# joint barely moves keep the tracker able to follow mocap retargeting residue.
JOINT_RANGES_DEG: dict[
    str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
] = {
    # hip: flexion 120 / extension 30 (x); abduction 45 / adduction 30 (y); rotation 45 (z)
    "left_hip": ((-125.0, 30.0), (-45.0, 30.0), (-45.0, 45.0)),
    # knee: flexion 140 (x, backward), near-fixed in y/z
    "left_knee": ((-5.0, 145.0), (-8.0, 8.0), (-15.0, 15.0)),
    # ankle: dorsiflexion 20 / plantarflexion 50 (x); inversion/eversion (y); abduction (z)
    "left_ankle": ((-25.0, 55.0), (-25.0, 25.0), (-25.0, 25.0)),
    # toes: extension 45 / flexion 20
    "left_foot": ((-45.0, 25.0), (-10.0, 10.0), (-10.0, 10.0)),
    # lumbar + thoracic: flexion 80 / extension 30, lateral 35, rotation 45, split over 3 joints
    "spine1": ((-15.0, 35.0), (-20.0, 20.0), (-20.0, 20.0)),
    "spine2": ((-10.0, 30.0), (-15.0, 15.0), (-20.0, 20.0)),
    "spine3": ((-10.0, 25.0), (-15.0, 15.0), (-20.0, 20.0)),
    # cervical: flexion 45 / extension 45, lateral 45, rotation 60, split over neck and head
    "neck": ((-30.0, 30.0), (-25.0, 25.0), (-35.0, 35.0)),
    "head": ((-25.0, 25.0), (-20.0, 20.0), (-35.0, 35.0)),
    # clavicle: elevation/depression and protraction/retraction (~ +-20)
    "left_collar": ((-15.0, 15.0), (-25.0, 15.0), (-20.0, 20.0)),
    # shoulder, arm along +x in the T-pose: twist (x), lower(+)/raise(-) in the frontal plane (y),
    # swing backward(+)/forward(-) (z): abduction 180 (with the clavicle), flexion 180, extension 60
    "left_shoulder": ((-90.0, 90.0), (-110.0, 100.0), (-135.0, 60.0)),
    # elbow: flexion 150 toward the front (-z for the left arm); pronation/supination on x
    "left_elbow": ((-90.0, 90.0), (-10.0, 10.0), (-150.0, 5.0)),
    # wrist, palm down: flexion 80 (down, +y) / extension 70; radial 20 / ulnar 30 deviation (z)
    "left_wrist": ((-20.0, 20.0), (-70.0, 80.0), (-30.0, 30.0)),
    # fingers as one segment: curl 90 (down)
    "left_hand": ((-10.0, 10.0), (-20.0, 90.0), (-10.0, 10.0)),
}

# ---------------------------------------------------------------------------- actuators
# Peak isometric joint torques (N m) of a young adult, the actuator force limits. Sources: lower
# limb and trunk from Anderson, Madigan & Nussbaum (2007, J Biomech 40:3105) and Winter (2009,
# ch. 5); upper limb from Holzbaur, Murray & Delp (2005, Ann Biomed Eng 33:829) model strengths;
# neck from Vasavada, Li & Delp (1998, Spine 23:412). Position gains kp (N m / rad) are set to
# torque / 0.05 rad, i.e. a joint reaches its peak torque at a 0.05 rad (2.9 deg) tracking error,
# which keeps the gain ratios between joints equal to their strength ratios (as SMPLSim/PHC's
# per-joint stiffness tables do) and is stiff enough that a PD-tracked walk sags by millimetres
# under body weight, not centimetres; kv comes from a per-joint damping ratio (MuJoCo's dampratio,
# integrated implicitly).
PEAK_TORQUE_NM: dict[str, float] = {
    "left_hip": 250.0,
    "left_knee": 250.0,
    "left_ankle": 160.0,
    "left_foot": 40.0,
    "spine1": 300.0,
    "spine2": 300.0,
    "spine3": 250.0,
    "neck": 60.0,
    "head": 40.0,
    "left_collar": 120.0,
    "left_shoulder": 120.0,
    "left_elbow": 90.0,
    "left_wrist": 25.0,
    "left_hand": 15.0,
}
GAIN_ERROR_AT_PEAK_RAD = 0.05
DAMPING_RATIO = 1.0  # critically damped joints (MuJoCo's position actuator dampratio)

# ---------------------------------------------------------------------------- geometry
# Segment radii as fractions of stature, from adult segment circumferences (CAESAR survey: thigh
# ~0.56 m, calf ~0.37 m, upper arm ~0.30 m, forearm ~0.26 m at H = 1.70 m) divided by 2 pi,
# slightly reduced because capsules overlap at joints; torso widths from Winter (2009): hip breadth
# 0.191 H, chest ~0.19 H.
SEGMENT_RADIUS_FRACTION: dict[str, float] = {
    "thigh": 0.034,
    "shin": 0.025,
    "upper_arm": 0.023,
    "forearm": 0.019,
    "neck": 0.028,
    "head": 0.058,
    "pelvis": 0.050,
    "abdomen": 0.050,
    "chest": 0.058,
    "collar": 0.024,
}

# Masses: capsules cannot match a real torso's volume, so a uniform density would make the trunk
# too light. Instead each body gets its segment's share of the whole-body mass from Winter (2009,
# table 4.1: hand 0.006, forearm 0.016, upper arm 0.028, foot 0.0145, leg 0.0465, thigh 0.100,
# head and neck 0.081, trunk 0.497 split as pelvis 0.142, abdomen 0.139, thorax 0.216), for a
# body mass of REFERENCE_BMI x stature^2; MuJoCo computes each geom's inertia from its shape with
# that mass (uniform density within a segment).
REFERENCE_BMI = 22.5  # kg/m^2: about 65 kg at 1.70 m
SEGMENT_MASS_FRACTION: dict[str, float] = {
    "pelvis": 0.142,
    "spine1": 0.070,  # abdomen, lower half
    "spine2": 0.069,  # abdomen, upper half
    "spine3": 0.180,  # thorax without the shoulder girdle
    "left_collar": 0.018,  # shoulder girdle (clavicle, scapula) share of the thorax
    "neck": 0.011,
    "head": 0.070,
    "left_shoulder": 0.028,  # upper arm
    "left_elbow": 0.016,  # forearm
    "left_wrist": 0.004,  # palm
    "left_hand": 0.002,  # fingers
    "left_hip": 0.100,  # thigh
    "left_knee": 0.0465,  # shank
    "left_ankle": 0.012,  # foot without the toes
    "left_foot": 0.0025,  # toes
}
BODY_DENSITY_KG_M3 = 1010.0  # whole-body density (Winter 2009), for geoms without a mass share
HAND_LENGTH_BEYOND_JOINT = 0.058  # fraction of stature from the SMPL hand joint to fingertips
FOOT_HEEL_BEHIND_ANKLE = 0.030  # fraction of stature
FOOT_WIDTH = 0.055  # fraction of stature (Winter 2009)
SOLE_BELOW_ANKLE = 0.039  # fraction of stature (Winter 2009 ankle height)


def side_of(body: str) -> str:
    """'left', 'right' or '' (midline) for a body name."""
    return body.split("_")[0] if body.startswith(("left_", "right_")) else ""


def _table_key(body: str) -> str:
    return "left_" + body[len("right_") :] if body.startswith("right_") else body


def joint_range_deg(body: str) -> tuple[tuple[float, float], ...]:
    """(min, max) degrees for the x, y and z hinges of `body`, mirrored for the right side."""
    rx, ry, rz = JOINT_RANGES_DEG[_table_key(body)]
    if side_of(body) == "right":
        ry, rz = (-ry[1], -ry[0]), (-rz[1], -rz[0])
    return rx, ry, rz


def mass_fraction(body: str) -> float:
    """Share of the whole-body mass carried by `body` (mirrored for the right side)."""
    return SEGMENT_MASS_FRACTION[_table_key(body)]


def peak_torque(body: str) -> float:
    """Peak torque (N m) of each of `body`'s hinges."""
    return PEAK_TORQUE_NM[_table_key(body)]
