"""The scripted climber: plans a route (stances, whole-body IK keyframes, smooth timing) and
climbs it in ClimbRoute, replaying the plan (kinematic control) or tracking it (physics)."""

from policies.scripted.climber import ScriptedClimber
from policies.scripted.planner import ClimbPlan, IKWeights, Keyframe, PlannerConfig, plan_climb
from policies.scripted.sequence import climb_sequence, derive_moves
from policies.scripted.trajectory import TimingLimits

__all__ = [
    "ClimbPlan",
    "IKWeights",
    "Keyframe",
    "PlannerConfig",
    "ScriptedClimber",
    "TimingLimits",
    "climb_sequence",
    "derive_moves",
    "plan_climb",
]
