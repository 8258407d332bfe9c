"""Plan a climb: stances, whole-body IK keyframes, then a timed, smooth motion with its contacts.

`plan_climb(scene, route, seed=...)` starts from the env's own start stance (`start_stance` on a
`compile_world` of the same skeleton and ClimbConfig, so the kinematics match the env exactly) and
follows the route's moves (`Route.moves`, see `policies.scripted.sequence`). Every move is a few
IK keyframes (`policies.scripted.keyframes`, weighed by `PlannerConfig.ik`), each warm-started
from the previous one, with the limbs that stay on their holds pinned where (and as turned as)
they gripped (`moves`):

1. shift: all four limbs on their holds while the pelvis moves part of the way (a seeded
   fraction) from where the current stance hangs it toward where the next stance will, kept
   clear of the wall and volumes behind it, with a seeded hip turn;
2. release, lift the limb off its hold along the hold's normal, carry it (through a via point
   pushed out from the wall on long moves) to a point in front of the new hold;
3. grip: the limb on the new hold's grip point, turned for it (`limb_axes`); hands sharing a
   hold sit side by side. A grip the env's grip logic would not close on the hold (the limb
   outside the capture radius, or nearer another hold) is aimed again across the hold.
Only the moving limb is ever off a hold, so three points of contact hold at every frame.

Keyframes are then timed (`timing`, with `policies.scripted.trajectory`: quintic segments within
speed and acceleration bounds, fitted into `max_duration_s`) and the frames checked (`repair`):
where interpolation between two keyframes sinks more than twice `ik.penetration_tol` into the
wall, a hold or the body, or lets a holding limb drift more than `drift_tolerance_m`, a keyframe
is solved at the worst frame and the plan re-timed (`repair_rounds` rounds; a travelling
keyframe that itself sinks is solved again with its travelling limb let free). Frames still
sunk in after that are pushed clear by a last pass of per-frame contact IK whose corrections are
fitted smoothly within the speed bounds (`policies.scripted.clearance`); keyframes at rest stay
as they are. Segments the pass cannot bend within the bounds are slowed down and cleared again
(`retime_rounds`). Depth is measured everywhere by `navenv.sinking.DepthGauge` with the scene's
rays, so a limb right through a panel (a graze to MuJoCo's contacts) counts. The contact
timeline and the grip check are `timeline`'s.

A plan still deeper than `clean_depth_m` (2 cm) somewhere, or one that misses a grip, is drawn
again, up to `attempts` (3) times in all, each draw taking further values from the seed's
generator, and the best draw is kept (success first, then clean, then the shallowest deepest
frame; `plan`): where one draw's hip turn or move order crosses the legs or drives a thigh into
an arm, another's often does not. `ClimbPlan.clean` says whether the returned plan keeps within
2 cm.

Seeded variation (`PlannerConfig` ranges): move timing, how far the body shifts, hip turn, arm,
leg and back bend of the posture prior, how far a limb lifts off the wall, and the order of
consecutive independent moves (swapped when the stance in between stays reachable); the same seed
always gives the same arrays.

Modules: `config` (PlannerConfig), `types` (Keyframe, ClimbPlan), `moves` (keyframes of each
move), `timeline` (contacts, grip check), `repair` (inserted and re-solved keyframes), `timing`
(timing, clearance and retime rounds), `plan` (plan_climb, the draws).
"""

from policies.scripted.keyframes import IKWeights
from policies.scripted.planner.config import PlannerConfig
from policies.scripted.planner.plan import plan_climb
from policies.scripted.planner.types import ClimbPlan, Keyframe

__all__ = ["ClimbPlan", "IKWeights", "Keyframe", "PlannerConfig", "plan_climb"]
