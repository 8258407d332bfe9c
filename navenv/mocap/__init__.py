"""Real motion capture (BVH, ASF/AMC) parsed and retargeted onto navenv's SMPL-24 skeleton.

``load_bvh(path)`` / ``load_amc(asf, amc)`` return a `Motion` on ``Skeleton.builtin(motion.betas)``
(betas fitted to the performer), grounded so the lowest sole point of the clip is on z = 0, in
navenv's frame (z up, facing -y at identity). ``return_result=True`` gives the `RetargetResult`
with the skeleton, per-joint residuals (mm) and the mapped source joints. ``read_bvh`` /
``read_amc`` parse without retargeting; ``retarget`` works on any `SourceMotion`. Both loaders
first clean the clip (`navenv.mocap.cleanup`): a leading reference T-pose frame is dropped,
one-frame spikes are reported in a `MocapReport` (``report=``) and repaired on request.
"""

from navenv.mocap.amc import load_amc, parse_asf_amc, read_amc
from navenv.mocap.bvh import load_bvh, parse_bvh, read_bvh
from navenv.mocap.cleanup import (
    REFERENCE_FRAME_MODES,
    MocapReport,
    Spike,
    clean_source,
    detect_spikes,
    is_reference_frame,
    repair_spike_frames,
)
from navenv.mocap.mapping import DIALECTS, REQUIRED_JOINTS, Dialect, detect_dialect, resolve_mapping
from navenv.mocap.retarget import RetargetConfig, RetargetResult, detect_units_to_m, retarget
from navenv.mocap.source import MocapError, SourceMotion

__all__ = [
    "DIALECTS",
    "REFERENCE_FRAME_MODES",
    "REQUIRED_JOINTS",
    "Dialect",
    "MocapError",
    "MocapReport",
    "RetargetConfig",
    "RetargetResult",
    "SourceMotion",
    "Spike",
    "clean_source",
    "detect_dialect",
    "detect_spikes",
    "detect_units_to_m",
    "is_reference_frame",
    "load_amc",
    "load_bvh",
    "parse_asf_amc",
    "parse_bvh",
    "read_amc",
    "read_bvh",
    "repair_spike_frames",
    "resolve_mapping",
    "retarget",
]
