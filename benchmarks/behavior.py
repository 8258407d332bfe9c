"""`navenv bench behavior`: ATS's forecasting table on held-out rooms (goal, path, orient, joints).

For every test dataset (room data of rooms no model trained on: `rooms_test_iid`, and
`rooms_test_novel` with layouts of another kind), `windows` windows spread over the set are
forecast K = 16 times by each model and scored best-of-K (`benchmarks.metrics.forecast`):
goal (m, the root 5.6 s ahead), path (m, 56 root positions), orientation (rad, geodesic of the
root over 56 frames) and joints (m, 24 joints in the body's own frame). Stochastic models are
scored over `trials` independent draws (ATS: 12) and the mean is reported. Rows: the full
goal -> path -> body chain, the one-stage baseline, the chain with the scene, the observer or
the past switched off (each stage retrained without it), constant velocity, and the nearest
training clip; ATS's published rows are printed beside ours (other data: the ordering is what
can reproduce). Writes OUT/results.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.metrics.forecast import min_ade_k, min_ade_orientation_rad

K = 16
TRIALS = 12
COLUMNS = ("goal", "path", "orient", "joints")
UNITS = {"goal": "m", "path": "m", "orient": "rad", "joints": "m"}
# ATS (arXiv 2410.16259), table of minADE over K = 16 (goal m / path m / orient rad / joints m):
ATS_PUBLISHED = {
    "ATS": (0.448, 0.234, 0.550, 0.237),
    "ATS one-stage": (1.322, 0.575, 0.879, 0.263),
    "ATS w/o scene": (0.784, 0.340, 0.678, 0.243),
}
# rows of our models: name -> the run folders of (goal, path, body) or ("onestage",)
CHAINS = {
    "full": ("goal", "path", "body"),
    "one-stage": ("onestage",),
    "w/o scene": ("goal_noscene", "path_noscene", "body_noscene"),
    "w/o observer": ("goal_noobs", "path_noobs", "body_noobs"),
    "w/o past": ("goal_nopast", "path_nopast", "body_nopast"),
}


def score(samples: dict, gt: dict) -> dict[str, float]:
    """Best-of-K figures of samples {goal (N,K,3), path (N,K,56,3), body (N,K,56,144) or
    None} against the windows' truth {goal, path, body}."""
    from navenv.body.rotations import rot6d_to_matrix
    from policies.behavior.room_data import ego_joints

    def np_(x):
        return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)

    g, p = np_(samples["goal"]), np_(samples["path"])
    out = {
        "goal": min_ade_k(g[:, :, None], np_(gt["goal"])[:, None]),
        "path": min_ade_k(p, np_(gt["path"])),
    }
    if samples.get("body") is not None:
        b, tb = np_(samples["body"]), np_(gt["body"])
        out["orient"] = min_ade_orientation_rad(
            rot6d_to_matrix(b[..., :6]), rot6d_to_matrix(tb[..., :6])
        )
        n, k, h = b.shape[:3]
        out["joints"] = min_ade_k(
            ego_joints(b).reshape(n, k, h * 24, 3), ego_joints(tb).reshape(n, h * 24, 3)
        )
    return out


def constant_velocity(batch: dict) -> dict:
    """Deterministic baseline: the last past step's velocity held for 56 frames; the root
    orientation and pose of now held too (one sample)."""
    past = batch["past"]  # (N, 8, 4)
    v = (past[:, -1, :2] - past[:, -3, :2]) / 2.0  # per frame, agent frame
    steps = torch.arange(1, 57, dtype=torch.float32)[None, :, None]
    xy = past[:, -1, None, :2] + v[:, None] * steps
    path = torch.cat([xy, torch.zeros_like(xy[..., :1])], dim=-1)
    body = batch["pose"][:, None].expand(-1, 56, -1)
    return {"goal": path[:, None, -1], "path": path[:, None], "body": body[:, None]}


class NearestClip:
    """Deterministic baseline: the future of the training window whose past track and body now
    are nearest (each block standardised), the motion library's nearest clip."""

    def __init__(self, train) -> None:
        self.train = train
        f = self._raw(train.past, train.pose)
        self.mean, self.std = f.mean(0), f.std(0) + 1e-6
        self.feat = (f - self.mean) / self.std

    @staticmethod
    def _raw(past: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        return torch.cat([past.flatten(1), pose], dim=1)

    def sample(self, batch: dict) -> dict:
        """One sample per window (the nearest training window's future)."""
        q = (self._raw(batch["past"], batch["pose"]) - self.mean) / self.std
        idx = torch.cdist(q, self.feat).argmin(dim=1)
        t = self.train
        return {
            "goal": t.goal[idx][:, None],
            "path": t.path[idx][:, None],
            "body": t.body[idx][:, None],
        }


def _chain(runs: Path | None, names: tuple[str, ...]):
    """The model of a row from run folders (runs/NAME/model), or the shipped checkpoints."""
    from policies.behavior.hierarchy import SHIPPED, BehaviorModel, OneStage

    def src(name: str):
        if runs is None:
            return SHIPPED[name] if name in SHIPPED else None
        d = runs / name / "model"
        unfinished = (runs / name / "checkpoint").is_dir() and not (
            runs / name / "summary.json"
        ).exists()
        return d if d.is_dir() and not unfinished else None  # never a run still training

    parts = [src(n) for n in names]
    if len(names) == 1:
        return OneStage(parts[0]) if parts[0] is not None else None
    if parts[0] is None or parts[1] is None:
        return None
    return BehaviorModel(parts[0], parts[1], parts[2])


def run_behavior(
    data: list[str | Path],
    runs: str | Path | None = None,
    train_data: str | Path | None = None,
    out: str | Path | None = None,
    k: int = K,
    trials: int = TRIALS,
    windows: int = 128,
    seed: int = 0,
    steps: int | None = None,
    rows: list[str] | None = None,
) -> dict:
    """Score every row on every test dataset; returns (and writes OUT/results.json) the table."""
    from policies.behavior.room_data import load_room_tensors

    runs = Path(runs) if runs is not None else None
    models = {}
    for name, names in CHAINS.items():
        if rows is not None and name not in rows:
            continue
        m = _chain(runs, names)
        if m is not None:
            models[name] = m
    nearest = NearestClip(load_room_tensors(train_data)) if train_data else None
    result = {"k": k, "trials": trials, "windows": windows, "steps": steps, "splits": {}}
    for d in data:
        test = load_room_tensors(d)
        idx = test.spread(windows)
        batch = test.batch(idx)
        split = {}
        for name, model in models.items():
            t0 = time.perf_counter()
            per = [
                score(model.sample(batch, k, seed + 1000 * i, steps), batch) for i in range(trials)
            ]
            split[name] = _mean(per) | {"seconds": time.perf_counter() - t0}
        split["constant velocity"] = score(constant_velocity(batch), batch)
        if nearest is not None:
            split["nearest clip"] = score(nearest.sample(batch), batch)
        result["splits"][Path(d).name] = {"windows": len(idx), "rows": split}
    if out is not None:
        o = Path(out)
        o.mkdir(parents=True, exist_ok=True)
        tmp = o / "results.json.tmp"
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        tmp.replace(o / "results.json")
    return result


def _mean(rows: list[dict]) -> dict:
    keys = rows[0].keys()
    out = {c: float(np.mean([r[c] for r in rows])) for c in keys}
    out.update({f"{c}_std": float(np.std([r[c] for r in rows])) for c in keys})
    return out


def table(result: dict) -> str:
    """The results as text, ATS's published rows below ours."""
    head = " | ".join(f"{c} ({UNITS[c]})" for c in COLUMNS)
    sampler = "DDPM 50" if not result.get("steps") else f"DDIM {result['steps']}"
    lines = [
        f"minADE, best of K = {result['k']}, mean of {result['trials']} trials, "
        f"{result['windows']} windows per split (8 past -> 56 future frames at 10 fps), {sampler}"
    ]
    for split, s in result["splits"].items():
        lines += ["", f"{split} ({s['windows']} windows)", f"| row | {head} |", "|---" * 5 + "|"]
        for name, r in s["rows"].items():
            cells = " | ".join(f"{r[c]:.3f}" if c in r else "-" for c in COLUMNS)
            lines.append(f"| {name} | {cells} |")
    lines += ["", "Published (ATS, its own data; the ordering is what can reproduce):"]
    for name, vals in ATS_PUBLISHED.items():
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    return "\n".join(lines)
