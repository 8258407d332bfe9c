"""What a dataset contains (`GenerateConfig`) and its episode tasks (`make_tasks`).

Tasks are derived from (split, episodes, seed) alone: plan group g picks a scene (the split's
scenes are visited in seeded random order, every scene once per round), a route draw (resolved as
``routes[draw % len(routes)]`` once the scene is built; the worker moves on to ``draw + 1`` and
``seed + 1`` while a plan sinks deeper than `max_penetration_m`) and a plan seed; its
`clips_per_plan` consecutive episodes are clips spread evenly over that one plan, so a worker plans
once and cuts several clips. Tasks for N episodes are a prefix of those for N + k.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

import numpy as np

from policies.data.episode import episode_fields

DEFAULT_PLANNER = "policies.scripted:plan_climb"


@dataclass
class GenerateConfig:
    """What a dataset contains; every field is saved in the manifest and must match on resume."""

    split: str = "train"
    """Scene split (scenes.splits) whose walls are climbed."""
    episodes: int = 32
    """Episodes (clips) in the dataset."""
    shard_size: int = 16
    """Episodes per shard file."""
    width: int = 64
    """Video width (pixels) of every camera."""
    height: int = 64
    """Video height (pixels)."""
    fps: float = 30.0
    """Frames per second of the stored clips (sampled from the plan's timeline)."""
    seed: int = 0
    """Seed of the task list (scenes, routes, plan seeds)."""
    clip_seconds: float = 5.0
    """Clip duration (s); frames per episode = round(clip_seconds * fps)."""
    clips_per_plan: int = 4
    """Clips cut from each planned climb (spread evenly over it)."""
    max_context: int = 16
    """Context frames per episode (holds touched beyond this are dropped)."""
    max_route_holds: int = 48
    """Padded length of the route arrays."""
    max_scene_holds: int = 256
    """Padded length of the scene hold arrays."""
    planner: str = DEFAULT_PLANNER
    """"module:function" with plan_climb's signature, imported in each worker; it is called
    with `config=PlannerConfig(attempts=1)`: rather than redraw a sunk plan on the same route,
    a plan group moves on to another route (`max_penetration_m`), which is cheaper and as good
    for data whose routes are drawn at random anyway."""
    max_penetration_m: float | None = 0.02
    """A plan with a frame deeper than this (m, into the scene or the body itself) is replaced
    by a plan of the scene's next route (next plan seed), up to `plan_tries` plans, so stored
    climbs keep within the expert's tolerance; None keeps every plan."""
    plan_tries: int = 4
    """Plans drawn per plan group at most; when all sink, the shallowest is kept (its
    episodes' `plan_penetration` says how deep)."""
    compresslevel: int = 6
    """Deflate level of shard members (0 = stored, 9 = smallest)."""
    plan_seed_offset: int = 0
    """Added to every drawn plan seed: the same scenes and routes climbed by the expert on
    other seeds (an evaluation's "expert on another seed" reference)."""

    def __post_init__(self) -> None:
        from scenes import splits

        walls = [n for n in splits.names() if splits.get(n)[0].generator == "wall"]
        if self.split not in walls:
            raise ValueError(
                f"split={self.split!r}: expected a climbing-wall split, one of {walls}"
            )
        self.fps, self.clip_seconds = (
            float(self.fps),
            float(self.clip_seconds),
        )  # 30 == 30.0 on resume
        for name in ("episodes", "shard_size", "width", "height", "clips_per_plan", "plan_tries"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"GenerateConfig.{name}={value!r}: expected an int >= 1")
        if self.width < 8 or self.height < 8:
            raise ValueError(f"GenerateConfig: width/height {self.width}x{self.height}: >= 8 px")
        for name in ("max_context", "max_route_holds", "max_scene_holds"):
            if getattr(self, name) < 1:
                raise ValueError(f"GenerateConfig.{name}: expected >= 1")
        if not (math.isfinite(self.fps) and 0 < self.fps <= 240):
            raise ValueError(f"GenerateConfig.fps={self.fps!r}: expected 0 < fps <= 240")
        if not (math.isfinite(self.clip_seconds) and self.clip_seconds > 0):
            raise ValueError(f"GenerateConfig.clip_seconds={self.clip_seconds!r}: expected > 0")
        if self.frames < 2:
            raise ValueError(
                f"GenerateConfig: clip_seconds * fps = {self.clip_seconds * self.fps:g}: "
                "a clip needs at least 2 frames"
            )
        depth = self.max_penetration_m
        if depth is not None:
            if isinstance(depth, bool) or not isinstance(depth, int | float):
                raise ValueError(
                    f"GenerateConfig.max_penetration_m={depth!r}: expected metres or None"
                )
            self.max_penetration_m = float(depth)
            if not (math.isfinite(depth) and depth >= 0):
                raise ValueError(
                    f"GenerateConfig.max_penetration_m={depth!r}: expected finite metres >= 0 "
                    "(None keeps every plan)"
                )
        if ":" not in self.planner:
            raise ValueError(f"GenerateConfig.planner={self.planner!r}: expected 'module:function'")
        if not 0 <= self.compresslevel <= 9:
            raise ValueError(f"GenerateConfig.compresslevel={self.compresslevel}: expected 0..9")

    @property
    def frames(self) -> int:
        """Frames per episode."""
        return round(self.clip_seconds * self.fps)

    @property
    def num_shards(self) -> int:
        """Number of shard files."""
        return -(-self.episodes // self.shard_size)

    def fields(self):
        """Per-episode field specs for this config."""
        return episode_fields(
            self.frames,
            self.width,
            self.height,
            self.max_context,
            self.max_route_holds,
            self.max_scene_holds,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible dict of every field."""
        return {k: (float(v) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> GenerateConfig:
        """Inverse of `to_json` (unknown keys are an error)."""
        known = {f.name for f in dataclass_fields(cls)}
        unknown = set(obj) - known
        if unknown:
            raise ValueError(f"GenerateConfig: unknown keys {sorted(unknown)}")
        return cls(**obj)


@dataclass(frozen=True)
class EpisodeTask:
    """One episode: clip `clip_index` of the plan (scene, route draw, plan seed)."""

    episode: int
    scene_index: int  # into splits.get(split)
    scene_name: str  # the split entry's name, e.g. "train/003"
    route_draw: int  # route = scene.routes[route_draw % len(scene.routes)]
    plan_seed: int
    clip_index: int


def make_tasks(config: GenerateConfig) -> list[EpisodeTask]:
    """The dataset's episode tasks, a pure function of (split, episodes, seed, clips_per_plan)."""
    from scenes import splits

    specs = splits.get(config.split)
    rng = np.random.default_rng([config.seed, zlib.crc32(config.split.encode())])
    tasks: list[EpisodeTask] = []
    order = np.arange(0)
    for g in range(-(-config.episodes // config.clips_per_plan)):
        if g % len(specs) == 0:  # a fresh permutation each round: every scene once per round
            order = rng.permutation(len(specs))
        scene = int(order[g % len(specs)])
        route_draw, plan_seed = (int(x) for x in rng.integers(0, 2**31 - 1, size=2))
        plan_seed += config.plan_seed_offset
        for c in range(config.clips_per_plan):
            e = g * config.clips_per_plan + c
            if e < config.episodes:
                tasks.append(EpisodeTask(e, scene, specs[scene].name, route_draw, plan_seed, c))
    return tasks


# ------------------------------------------------------------------ one worker's state
