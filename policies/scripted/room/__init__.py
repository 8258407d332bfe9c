"""Scripted behaviour for RoomNav-v0: agent profiles, the RoomAgent policy and its MotionPlayer."""

from policies.scripted.room.agent import RoomAgent
from policies.scripted.room.player import MotionPlayer
from policies.scripted.room.profile import MOODS, AgentProfile

__all__ = ["MOODS", "AgentProfile", "MotionPlayer", "RoomAgent"]
