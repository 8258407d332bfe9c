"""Who a scripted room agent is: its liking for places, its mood, its pace, its personal space.

ATS learns behaviour with structure: agents go to some places more than others, at some times
more than others, and keep their distance from the person filming. `AgentProfile.draw(rng)`
draws one agent: a Dirichlet liking over the goal labels, a mood (a time of day that multiplies
the liking of the places that time favours), a walking speed, a personal distance, dwell times,
how often it takes a detour or glances at the observer, and how often it sits on a seat or
reaches to a surface or shelf it goes to (`policies.scripted.room.uses`). Seeds vary all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenes.navigation import GOAL_LABELS

MOODS: dict[str, dict[str, float]] = {
    "morning": {"table": 3.0, "bowl": 3.0, "door": 2.0, "shelf": 1.5},
    "afternoon": {"desk": 3.0, "chair": 2.5, "shelf": 2.0, "wardrobe": 1.5},
    "evening": {"sofa": 3.0, "bed": 3.0, "wardrobe": 1.5},
}
LIKING_CONCENTRATION = 0.7  # Dirichlet alpha: below 1, each agent has a few favourite places
SPEED_M_S = (0.8, 1.4)
PERSONAL_M = (0.9, 1.5)
DWELL_S = (1.0, 4.0)
SIT_P = (0.2, 0.8)  # per agent: some sit down at most seats they go to, some at few
REACH_P = (0.2, 0.8)


@dataclass(frozen=True)
class AgentProfile:
    """One scripted agent's preferences (see the module doc)."""

    liking: tuple[float, ...]  # per GOAL_LABELS entry, sums to 1
    mood: str
    speed: float  # m/s
    personal_m: float  # distance it keeps from the observer
    dwell_s: tuple[float, float]  # seconds it stays at a goal, range
    detour_p: float  # chance a walk goes through a random waypoint
    glance_p: float  # chance it turns toward the observer when it stops
    sit_p: float = 0.0  # chance it sits down at a goal that is a seat (chair, sofa, bed)
    reach_p: float = 0.0  # chance it reaches to a goal's top or front (table, desk, shelf, ...)

    @classmethod
    def draw(cls, rng: np.random.Generator, mood: str | None = None) -> AgentProfile:
        """A random agent; `mood` fixes its time of day (one of MOODS)."""
        if mood is not None and mood not in MOODS:
            raise ValueError(f"mood={mood!r}: expected one of {sorted(MOODS)}")
        liking = rng.dirichlet(np.full(len(GOAL_LABELS), LIKING_CONCENTRATION))
        lo = float(rng.uniform(*DWELL_S))
        # Use chances come from a child stream: rng's own draws, here and after, stay what they
        # were before agents sat or reached, so a seed's agent differs only where it uses things.
        uses = rng.spawn(1)[0]
        return cls(
            liking=tuple(float(v) for v in liking),
            mood=mood or str(rng.choice(sorted(MOODS))),
            speed=float(rng.uniform(*SPEED_M_S)),
            personal_m=float(rng.uniform(*PERSONAL_M)),
            dwell_s=(lo, lo + float(rng.uniform(0.5, 3.0))),
            detour_p=float(rng.uniform(0.1, 0.5)),
            glance_p=float(rng.uniform(0.2, 0.8)),
            sit_p=float(uses.uniform(*SIT_P)),
            reach_p=float(uses.uniform(*REACH_P)),
        )

    def goal_weights(self, labels: list[str]) -> np.ndarray:
        """Normalised weights of goals with these labels (liking times mood)."""
        boost = MOODS[self.mood]
        w = np.array(
            [self.liking[GOAL_LABELS.index(lab)] * boost.get(lab, 1.0) for lab in labels], float
        )
        w = np.maximum(w, 1e-6)
        return w / w.sum()
