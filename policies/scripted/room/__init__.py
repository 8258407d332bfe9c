"""Scripted behaviour for RoomNav-v0: agent profiles and the RoomAgent policy."""

from policies.scripted.room.agent import RoomAgent
from policies.scripted.room.profile import MOODS, AgentProfile

__all__ = ["MOODS", "AgentProfile", "RoomAgent"]
