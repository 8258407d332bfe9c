"""Pure metric functions on numpy arrays, each with its unit in its name or docstring.

- motion: MPJPE / PA-MPJPE / acceleration error (mm), jerk (m/s^3), skating (m/s, ratio).
- scene: penetration depth of points into static geometry (m).
- route: climbing-route adherence (holds touched, order, precision/recall, progress).
- forecast: best-of-K minADE / minFDE (m) and geodesic minADE (rad), ATS / ETH-UCY style.

Depends on numpy and scipy, and on navenv.penetration for the one definition of depth.
"""

from benchmarks.metrics.forecast import (
    geodesic_angle_rad,
    min_ade_joint_angles_rad,
    min_ade_k,
    min_ade_orientation_rad,
    min_fde_k,
)
from benchmarks.metrics.motion import (
    accel_error_mm,
    mean_jerk_m_s3,
    mpjpe_mm,
    pa_mpjpe_mm,
    procrustes_align,
    skating_ratio,
    skating_speed_m_s,
)
from benchmarks.metrics.route import (
    LIMB_NAMES,
    contact_distance_m,
    contact_events,
    holds_touched_in_order,
    kinematic_contacts,
    order_correctness,
    route_completed,
    route_precision_recall,
    route_progress,
    touched_holds,
)
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

__all__ = [
    "LIMB_NAMES",
    "Boxes",
    "Capsules",
    "Cylinders",
    "Ellipsoids",
    "Planes",
    "Spheres",
    "StaticShapes",
    "accel_error_mm",
    "contact_distance_m",
    "contact_events",
    "geodesic_angle_rad",
    "holds_touched_in_order",
    "kinematic_contacts",
    "max_penetration_m",
    "mean_jerk_m_s3",
    "mean_penetration_m",
    "min_ade_joint_angles_rad",
    "min_ade_k",
    "min_ade_orientation_rad",
    "min_fde_k",
    "mpjpe_mm",
    "order_correctness",
    "pa_mpjpe_mm",
    "penetration_depth_m",
    "procrustes_align",
    "quat_to_matrix",
    "route_completed",
    "route_precision_recall",
    "route_progress",
    "shapes_from_primitives",
    "skating_ratio",
    "skating_speed_m_s",
    "touched_holds",
]
