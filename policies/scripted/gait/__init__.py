"""Walking bodies for scripted agents: a motion-capture gait library and path-following synthesis.

`MotionLibrary` holds walk cycles and an idle pose cut from real CMU captures (shipped as
``assets/cmu_walk.npz``); `walk_along` turns a floor path into a `navenv.body.Motion` with that
gait and planted feet, `stand` and `turn_in_place` cover the rest, and `sit` and `reach` use
furniture (`affordances`); `foot_skate_m_s` measures how much planted feet slide.

Names are imported on first use (PEP 562), so ``python -m policies.scripted.gait.library``
runs the library module once, as a script.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "SKATE_BOUND_M_S": "synth",
    "GaitCycle": "cycle",
    "IdlePose": "cycle",
    "MotionLibrary": "library",
    "build_default_library": "library",
    "detect_contacts": "contacts",
    "foot_skate_m_s": "contacts",
    "reach": "affordances",
    "sit": "affordances",
    "sit_back_m": "affordances",
    "stand": "synth",
    "turn_in_place": "synth",
    "walk_along": "synth",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
