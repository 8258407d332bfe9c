"""The policy registry: policy names -> fresh policies, and how the env must be made for each.

A name resolves, in this order, from
1. policies registered in this process (`register_policy`, or the `@register` decorator);
2. navenv's built-ins: "random", "scripted_kinematic", "scripted_physics", "bc",
   "climb_diffusion_kinematic", "climb_diffusion_physics", "ppo", "retrieval_kinematic",
   "retrieval_physics";
3. installed packages, through the ``navenv.policies`` entry-point group
   (``importlib.metadata``): in a plugin's ``pyproject.toml``::

       [project.entry-points."navenv.policies"]
       my_policy = "my_package.policy:MyPolicy"

4. a ``module.path:ClassName`` string, imported on demand (any importable object).

Factory protocol: a factory is any callable (a class or a function) that is called as
``factory(env=env, **kwargs)`` and returns a `policies.Policy` (``reset(*, seed, info)`` and
``act(obs)``). ``env`` is the Gymnasium env the policy will act in, made with the policy's
env kwargs; it may be None (a factory that needs the env then raises ValueError). The env
kwargs (how ``gym.make("ClimbRoute-v0", ...)`` must be called: obs, control, assist) come from
the registration's ``env_kwargs``, else the factory's ``env_kwargs`` attribute, else
``{"obs": "state"}``.

Built-ins are registered by name only: nothing under policies.scripted (nor torch) is imported
until one is made, so ``import policies`` stays cheap. Names registered at run time exist in
this process only; worker processes (the benchmark's) see built-ins, entry points and
``module:Class`` names, so a plugin meant for ``navenv bench`` uses one of those.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ENTRY_POINT_GROUP = "navenv.policies"
"""The entry-point group third-party packages register policies under."""

DEFAULT_ENV_KWARGS: Mapping[str, Any] = {"obs": "state"}
"""Env kwargs of a policy that states none."""

PolicyFactory = Callable[..., Any]
"""``factory(env=env, **kwargs) -> Policy`` (see the module doc)."""


class PolicyRegistryError(ValueError):
    """A policy name that does not resolve, or a registration/plugin that is broken."""


@dataclass(frozen=True)
class PolicySpec:
    """One resolved policy: its factory, the env kwargs it needs, and where it came from."""

    name: str
    factory: PolicyFactory
    env_kwargs: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_ENV_KWARGS))
    description: str = ""
    source: str = "registered"
    """"builtin", "registered", "entry point NAME (distribution DIST)" or "module:Class"."""


# ---------------------------------------------------------------- built-in factories
# Each imports its policy when called, so registering them costs nothing.
def _make_random(env=None, **kwargs) -> Any:
    if env is None:
        raise ValueError("policy 'random' needs the env (it samples the env's action space)")
    from policies.base import RandomPolicy

    return RandomPolicy(env.action_space, **kwargs)


def _scripted(control: str, assist: str) -> PolicyFactory:
    def make(env=None, **kwargs) -> Any:
        from policies.scripted import ScriptedClimber

        if env is None:
            return ScriptedClimber(control=control, assist=assist, **kwargs)
        return ScriptedClimber(
            control=env.unwrapped.control, action_space=env.action_space, **kwargs
        )

    return make


def _make_bc(env=None, **kwargs) -> Any:
    from policies.bc.policy import bc_policy

    return bc_policy(env=env, **kwargs)


def _climb_diffusion(control: str, assist: str, retrieval: bool = False) -> PolicyFactory:
    def make(env=None, **kwargs) -> Any:
        from policies.climb_diffusion.policy import ClimbDiffusionPolicy

        if retrieval:
            kwargs.setdefault("retrieval", True)
        if env is None:
            return ClimbDiffusionPolicy(control=control, assist=assist, **kwargs)
        return ClimbDiffusionPolicy(
            control=env.unwrapped.control, action_space=env.action_space, **kwargs
        )

    return make


def _make_ppo(env=None, **kwargs) -> Any:
    from policies.ppo import PpoPolicy

    return PpoPolicy(env=env, **kwargs)


_BUILTINS: dict[str, PolicySpec] = {
    spec.name: spec
    for spec in (
        PolicySpec(
            "random",
            _make_random,
            {"obs": "state", "control": "physics"},
            "uniform random actions (a baseline)",
            "builtin",
        ),
        PolicySpec(
            "scripted_kinematic",
            _scripted("kinematic", "none"),
            {"obs": "state", "control": "kinematic"},
            "the scripted expert replaying its plan (kinematic root)",
            "builtin",
        ),
        PolicySpec(
            "scripted_physics",
            _scripted("physics", "residual"),
            {"obs": "state", "control": "physics", "assist": "residual"},
            "the scripted expert tracking its plan in physics, residual root assist",
            "builtin",
        ),
        PolicySpec(
            "bc",
            _make_bc,
            {"obs": "state", "control": "physics", "assist": "residual"},
            "behaviour cloning of the scripted expert (policies.bc; checkpoint=DIR or shipped)",
            "builtin",
        ),
        PolicySpec(
            "climb_diffusion_kinematic",
            _climb_diffusion("kinematic", "none"),
            {"obs": "state", "control": "kinematic"},
            "the shipped ClimbDiffusion model, receding horizon, kinematic root (model=CKPT)",
            "builtin",
        ),
        PolicySpec(
            "climb_diffusion_physics",
            _climb_diffusion("physics", "residual"),
            {"obs": "state", "control": "physics", "assist": "residual"},
            "the shipped ClimbDiffusion model tracked in physics, residual root assist",
            "builtin",
        ),
        PolicySpec(
            "ppo",
            _make_ppo,
            {"obs": "state", "control": "physics", "assist": "none"},
            "the shipped SB3 PPO (examples/train_ppo.py --ship; checkpoint=DIR for another)",
            "builtin",
        ),
        PolicySpec(
            "retrieval_kinematic",
            _climb_diffusion("kinematic", "none", retrieval=True),
            {"obs": "state", "control": "kinematic"},
            "nearest-neighbour retrieval of training windows in the diffusion policy's loop "
            "(data=DIR or $NAVENV_RETRIEVAL_DATA, default data/climb_train)",
            "builtin",
        ),
        PolicySpec(
            "retrieval_physics",
            _climb_diffusion("physics", "residual", retrieval=True),
            {"obs": "state", "control": "physics", "assist": "residual"},
            "nearest-neighbour retrieval in the diffusion policy's loop, physics, residual assist",
            "builtin",
        ),
    )
}
_REGISTERED: dict[str, PolicySpec] = {}


# ---------------------------------------------------------------- registration
def register_policy(
    name: str,
    factory: PolicyFactory,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    description: str = "",
    overwrite: bool = False,
) -> PolicySpec:
    """Register `factory` under `name` in this process; returns its spec."""
    if not isinstance(name, str) or not name or ":" in name:
        raise PolicyRegistryError(
            f"policy name {name!r}: expected a non-empty string without ':' "
            "(':' marks a module:Class name)"
        )
    if not callable(factory):
        raise PolicyRegistryError(f"policy {name!r}: factory {factory!r} is not callable")
    if not overwrite and (name in _REGISTERED or name in _BUILTINS):
        raise PolicyRegistryError(
            f"policy {name!r} is already registered; pass overwrite=True to replace it"
        )
    spec = PolicySpec(name, factory, _env_kwargs_of(factory, env_kwargs), description)
    _REGISTERED[name] = spec
    return spec


def register(
    name: str,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    description: str = "",
    overwrite: bool = False,
) -> Callable[[PolicyFactory], PolicyFactory]:
    """Decorator form of `register_policy`: ``@register("mine", env_kwargs={...})``."""

    def decorate(factory: PolicyFactory) -> PolicyFactory:
        register_policy(
            name, factory, env_kwargs=env_kwargs, description=description, overwrite=overwrite
        )
        return factory

    return decorate


def unregister_policy(name: str) -> None:
    """Forget a policy registered with `register_policy` (built-ins and plugins stay)."""
    _REGISTERED.pop(name, None)


# ---------------------------------------------------------------- lookup
def list_policies() -> list[str]:
    """Every policy name known without importing anything: registered, built-in, entry points."""
    names = list(_REGISTERED) + [n for n in _BUILTINS if n not in _REGISTERED]
    return names + sorted({ep.name for ep in _entry_points()} - set(names))


def resolve_policy(name: str) -> PolicySpec:
    """The spec of policy `name` (a registered name, entry point or ``module:Class``)."""
    if not isinstance(name, str) or not name:
        raise PolicyRegistryError(f"policy name {name!r}: expected a non-empty string")
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in _BUILTINS:
        return _BUILTINS[name]
    eps = [ep for ep in _entry_points() if ep.name == name]
    if eps:
        return _from_entry_point(eps[0])
    if ":" in name:
        return _from_import_path(name)
    raise PolicyRegistryError(
        f"unknown policy {name!r}; known policies: {', '.join(list_policies())}. "
        "A 'module.path:ClassName' string also works (imported on demand)."
    )


def policy_env_kwargs(name: str) -> dict[str, Any]:
    """How the env must be made for policy `name` (e.g. {"obs": "state", "control": ...})."""
    return dict(resolve_policy(name).env_kwargs)


def make_policy(name: str, env=None, **kwargs) -> Any:
    """A fresh policy `name` for `env` (may be None): ``factory(env=env, **kwargs)``."""
    spec = resolve_policy(name)
    policy = spec.factory(env=env, **kwargs)
    if not (callable(getattr(policy, "reset", None)) and callable(getattr(policy, "act", None))):
        raise PolicyRegistryError(
            f"policy {name!r} ({spec.source}): its factory returned {type(policy).__name__}, "
            "which lacks reset(*, seed, info) and act(obs) (the policies.Policy protocol)"
        )
    return policy


# ---------------------------------------------------------------- plugins
def _entry_points() -> list[importlib.metadata.EntryPoint]:
    # Not cached: a package installed (or a path added) after import must be seen.
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _from_entry_point(ep: importlib.metadata.EntryPoint) -> PolicySpec:
    dist = getattr(ep.dist, "name", None) or "unknown distribution"
    where = (
        f"entry point {ep.name!r} = {ep.value!r} (group {ENTRY_POINT_GROUP}, distribution {dist})"
    )
    try:
        factory = ep.load()
    except Exception as e:
        raise PolicyRegistryError(f"{where} is broken: {type(e).__name__}: {e}") from e
    if not callable(factory):
        raise PolicyRegistryError(
            f"{where} is broken: it names a {type(factory).__name__}, "
            "expected a policy class or factory function"
        )
    kwargs = _env_kwargs_of(factory, None)
    return PolicySpec(ep.name, factory, kwargs, _doc_line(factory), where)


def _from_import_path(name: str) -> PolicySpec:
    module_name, _, attr = name.partition(":")
    if not module_name or not attr:
        raise PolicyRegistryError(f"policy {name!r}: expected 'module.path:ClassName'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as e:
        raise PolicyRegistryError(
            f"policy {name!r}: cannot import module {module_name!r} ({type(e).__name__}: {e})"
        ) from e
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise PolicyRegistryError(
                f"policy {name!r}: module {module_name!r} has no attribute {attr!r}"
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise PolicyRegistryError(
            f"policy {name!r}: {module_name}:{attr} is a {type(obj).__name__}, "
            "expected a policy class or factory function"
        )
    return PolicySpec(name, obj, _env_kwargs_of(obj, None), _doc_line(obj), "module:Class")


def _env_kwargs_of(factory: Any, explicit: Mapping[str, Any] | None) -> dict[str, Any]:
    kwargs = explicit if explicit is not None else getattr(factory, "env_kwargs", None)
    if kwargs is None:
        kwargs = DEFAULT_ENV_KWARGS
    if not isinstance(kwargs, Mapping):
        raise PolicyRegistryError(
            f"{getattr(factory, '__qualname__', factory)!r}: env_kwargs must be a mapping "
            f"(e.g. {dict(DEFAULT_ENV_KWARGS)}), got {type(kwargs).__name__}"
        )
    return dict(kwargs)


def _doc_line(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""
