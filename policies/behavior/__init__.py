"""Behaviour models after Agent-to-Sim: diffusion over goals, paths and bodies (path stage here)."""

from policies.behavior.config import PathConfig
from policies.behavior.path import PathDiffusion

__all__ = ["PathConfig", "PathDiffusion"]
