"""RoomNav-v0: people moving through rooms, filmed by an observer (see env.py)."""

from navenv.envs.room.config import OBSERVER_MODES, RoomConfig, RoomRewardWeights
from navenv.envs.room.env import RoomNavEnv

__all__ = ["OBSERVER_MODES", "RoomConfig", "RoomNavEnv", "RoomRewardWeights"]
