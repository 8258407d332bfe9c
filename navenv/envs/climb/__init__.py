"""ClimbRoute-v0: everything that is the climbing env's own.

env.py (the Gymnasium env), layout.py (its action and observation layouts), config.py, observations.py
(proprioception, the route ahead), rewards.py (named terms), spawn.py (the start stance), compiled.py
(a scene compiled once, with its per-route caches), batch.py (many envs, physics on mujoco.batch threads).
What another env shares lives one level up: navenv.envs.grips, navenv.envs.ego, navenv.envs.vector,
navenv.world.
"""

from navenv.envs.climb.config import ClimbConfig, RewardWeights
from navenv.envs.climb.env import ClimbRouteEnv

__all__ = ["ClimbConfig", "ClimbRouteEnv", "RewardWeights"]
