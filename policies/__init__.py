"""Policies: the Policy protocol and registry, scripted experts, trackers, datasets, learned methods.

`make_policy(name, env)` makes any registered policy (built-ins, ``navenv.policies`` entry points,
``module:Class``; see `policies.registry`). `load_pretrained` / `save_pretrained` read and write
learned methods' checkpoints (`policies.pretrained`); they are imported on first use, so
``import policies`` imports neither torch nor any policy implementation.
"""

from typing import Any

from policies.base import Policy, RandomPolicy
from policies.registry import (
    PolicyRegistryError,
    list_policies,
    make_policy,
    policy_env_kwargs,
    register,
    register_policy,
)

# names served lazily from policies.pretrained (see __getattr__)
_PRETRAINED = ("CheckpointError", "load_pretrained", "register_method", "save_pretrained")
# names served lazily from policies.tracking (it imports MuJoCo)
_TRACKING = ("Reference", "RootEstimator", "Tracker", "TrackerConfig")

__all__ = [
    "CheckpointError",
    "Policy",
    "PolicyRegistryError",
    "RandomPolicy",
    "Reference",
    "RootEstimator",
    "Tracker",
    "TrackerConfig",
    "list_policies",
    "load_pretrained",
    "make_policy",
    "policy_env_kwargs",
    "register",
    "register_method",
    "register_policy",
    "save_pretrained",
]


def __getattr__(name: str) -> Any:
    if name in _PRETRAINED:
        from policies import pretrained

        return getattr(pretrained, name)
    if name in _TRACKING:
        from policies import tracking

        return getattr(tracking, name)
    raise AttributeError(f"module 'policies' has no attribute {name!r}")
