"""Tracking: motion (a Reference of root poses, hinge angles and grips) -> ClimbRoute actions.

reference.py (Reference: the frames, sampled at any time), estimator.py (RootEstimator: the root
state from an observation; reading its named fields), limbs.py (limb feedback through each limb's
hinge chain), support.py (gravity feed-forward), gating.py (when to wait for a grip, which grip
channels open), actions.py (actions through the env's action layout, kinematic_action),
config.py (TrackerConfig) and tracker.py (Tracker, which puts them together). The residual root
wrench's PD law is navenv's (navenv.humanoid.assist).
"""

from navenv.envs.climb.layout import ASSIST_MODES
from policies.tracking.actions import kinematic_action
from policies.tracking.config import TrackerConfig
from policies.tracking.estimator import RootEstimator, RootState, gripping, split_obs
from policies.tracking.reference import Reference, next_contacts
from policies.tracking.tracker import Tracker

__all__ = [
    "ASSIST_MODES",
    "Reference",
    "RootEstimator",
    "RootState",
    "Tracker",
    "TrackerConfig",
    "gripping",
    "kinematic_action",
    "next_contacts",
    "split_obs",
]
