"""`BehaviorModel`: ATS's chain goal -> path -> body, and the one-stage baseline beside it.

`sample(batch, k)` draws K goals, one path per goal (the goal steering the path stage's control
branch), one body per path (the path steering the body stage's), all in the agent frame of
`policies.behavior.room_data`; a given goal (B, 3) replaces the goal stage (goal-conditioned
behaviour: a policy that must reach a place). `OneStage` samples path and body together from the
conditions alone; both return the same dict, so benchmarks score them alike.
"""

from __future__ import annotations

import torch

from policies.behavior.stages import StageDiffusion

SHIPPED = {
    "goal": "behavior_goal",
    "path": "behavior_path_room",
    "body": "behavior_body",
    "onestage": "behavior_onestage",
}


def _load(stage: str, source) -> StageDiffusion:
    from policies.pretrained import load_pretrained

    m = source if isinstance(source, StageDiffusion) else load_pretrained(source)
    if not isinstance(m, StageDiffusion) or m.config.stage != stage:
        got = getattr(getattr(m, "config", None), "stage", type(m).__name__)
        raise ValueError(f"{source!r}: expected a behaviour {stage!r} stage, got {got!r}")
    return m.eval()


def _repeat(batch: dict, k: int) -> dict:
    return {n: v.repeat_interleave(k, dim=0) for n, v in batch.items()}


class BehaviorModel:
    """The three stages chained (see the module doc)."""

    def __init__(self, goal, path, body=None) -> None:
        self.goal, self.path = _load("goal", goal), _load("path", path)
        self.body = None if body is None else _load("body", body)  # None: goal and path only

    @classmethod
    def shipped(cls) -> BehaviorModel:
        """The checkpoints shipped with navenv."""
        return cls(SHIPPED["goal"], SHIPPED["path"], SHIPPED["body"])

    @torch.no_grad()
    def sample(
        self,
        batch: dict,
        k: int = 1,
        seed: int = 0,
        steps: int | None = None,
        goal: torch.Tensor | None = None,
        scene_guidance: float = 0.0,
    ) -> dict[str, torch.Tensor]:
        """goal (B, K, 3), path (B, K, 56, 3), body (B, K, 56, 144) (None without a body stage)
        for the conditions in `batch` (past, observer, scene, pose); `goal` (B, 3) fixes the
        goals instead; `scene_guidance` steers the paths off the scene crop's occupied cells
        (`StageDiffusion.sample`; 0: off)."""
        b = len(batch["past"])
        if goal is None:
            goals = self.goal.sample(batch, k, seed, steps)[:, :, 0]  # (B, K, 3)
        else:
            goals = goal[:, None].expand(b, k, 3)
        chain = _repeat(batch, k)
        chain["goal"] = goals.reshape(b * k, 3)
        paths = self.path.sample(chain, 1, seed + 1, steps, scene_guidance)[:, 0]  # (B K, 56, 3)
        chain["path"] = paths
        out = {"goal": goals, "path": paths.reshape(b, k, *paths.shape[1:]), "body": None}
        if self.body is not None:
            bodies = self.body.sample(chain, 1, seed + 2, steps)[:, 0]  # (B K, 56, 144)
            out["body"] = bodies.reshape(b, k, *bodies.shape[1:])
        return out


class OneStage:
    """The one-stage baseline: path and body straight from the conditions."""

    def __init__(self, model) -> None:
        self.model = _load("onestage", model)

    @torch.no_grad()
    def sample(self, batch: dict, k: int = 1, seed: int = 0, steps: int | None = None) -> dict:
        """The same dict as BehaviorModel.sample (the goal is the path's last frame)."""
        x = self.model.sample(batch, k, seed, steps)  # (B, K, 56, 147)
        return {"goal": x[:, :, -1, :3], "path": x[..., :3], "body": x[..., 3:]}
