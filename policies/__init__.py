"""Policies: the Policy protocol, scripted experts, trackers, datasets and generative models."""

from policies.base import Policy, RandomPolicy

__all__ = ["Policy", "RandomPolicy"]
