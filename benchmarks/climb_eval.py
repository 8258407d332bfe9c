"""`navenv eval climb-diffusion`: offline video-to-motion evaluation, as SABR-CLIMB does it.

For each split, the scripted expert climbs the split's evaluation episodes twice (plan seeds
differing by `OTHER_SEED_OFFSET`, same scenes, routes and clips); windows of the first run are
the references. From each window's tripod video and route prompt every method samples K motions,
scored against the expert's motion with `benchmarks.metrics`:

- movement adherence: global MPJPE (mm, no alignment: where the body is on the wall matters),
  root-relative MPJPE and PA-MPJPE (mm), each best-of-K and mean over K;
- route adherence: holds touched (kinematic contacts, `kinematic_contacts`) against the holds
  the expert touched in the window, precision / recall / order, and limb-to-hold distance (cm) at
  the frames where the expert's contacts begin;
- plausibility: joint penetration into the wall (cm, deepest joint centre), contact-limb skating
  (m/s), jerk (m/s^3).

Methods: the diffusion model(s), nearest-neighbour retrieval and the mean motion (fitted on the
training windows), and the expert itself on the other seed (matched window by window: the floor
of what adherence can mean, since the expert varies by seed). Results go to DIR/results.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.metrics import (
    contact_distance_m,
    mean_jerk_m_s3,
    mpjpe_mm,
    order_correctness,
    pa_mpjpe_mm,
    penetration_depth_m,
    route_precision_recall,
    shapes_from_primitives,
    skating_speed_m_s,
)
from benchmarks.metrics.route import kinematic_contacts
from benchmarks.scoring import json_ready

OTHER_SEED_OFFSET = 1
EVAL_SEED = 1000
"""Task seed of evaluation episodes (training sets use other seeds)."""
LIMB_JOINTS = ("left_hand", "right_hand", "left_foot", "right_foot")
METRICS: tuple[tuple[str, str, str], ...] = (
    ("mpjpe_mm", "MPJPE (mm)", "{:.0f}"),
    ("mpjpe_mean_k_mm", "MPJPE mean-K", "{:.0f}"),
    ("root_mpjpe_mm", "root-rel MPJPE", "{:.0f}"),
    ("pa_mpjpe_mm", "PA-MPJPE", "{:.0f}"),
    ("route_precision", "precision", "{:.2f}"),
    ("route_recall", "recall", "{:.2f}"),
    ("order", "order", "{:.2f}"),
    ("contact_dist_cm", "contact dist (cm)", "{:.1f}"),
    ("penetration_cm", "penetr. (cm)", "{:.1f}"),
    ("skating_m_s", "skating (m/s)", "{:.2f}"),
    ("jerk_m_s3", "jerk (m/s^3)", "{:.0f}"),
)


@dataclass
class EvalConfig:
    """What an evaluation run covers."""

    splits: tuple[str, ...] = ("val", "test_iid", "test_novel_geometry", "test_novel_holds")
    episodes: int = 64
    """Evaluation episodes (5 s clips) per split."""
    samples: int = 4
    """K: samples per window (best-of-K and mean over K)."""
    workers: int = 0
    """Generation workers (0: one per core)."""
    seed: int = 0
    """Sampling seed."""
    width: int = 64
    """Video size of the evaluation episodes (pixels): the training data's."""
    height: int = 64
    clip_seconds: float = 5.0
    """Seconds per evaluation episode (a clip of a climb, as in the training data)."""
    planner: str = ""
    """"module:function" of the expert (empty: the scripted expert)."""


def episodes_dir(out: Path, split: str, offset: int) -> Path:
    """Where a split's evaluation episodes (plan seed offset `offset`) are generated."""
    return out / "episodes" / f"{split}-seed{offset}"


def generate_split(out: Path, split: str, cfg: EvalConfig, fps: float, progress: bool) -> None:
    """The split's evaluation episodes, twice (plan seed offsets 0 and 1); resumes.

    A directory that already holds a complete set of this split's evaluation episodes at this
    fps is used as it is, whatever its episode count (a run with more episodes than asked for
    is reused rather than refused).
    """
    from policies.data.generate import GenerateConfig, generate
    from policies.data.store import load_manifest

    extra = {"planner": cfg.planner} if cfg.planner else {}
    for offset in (0, OTHER_SEED_OFFSET):
        target = episodes_dir(out, split, offset)
        if (target / "manifest.json").exists():
            man = load_manifest(target)
            c = man.config
            same = (c.get("split"), c.get("seed"), c.get("plan_seed_offset", 0)) == (
                split,
                EVAL_SEED,
                offset,
            )
            if man.complete and same and float(c.get("fps")) == float(fps):
                continue
        gcfg = GenerateConfig(
            split=split,
            episodes=cfg.episodes,
            fps=fps,
            seed=EVAL_SEED,
            plan_seed_offset=offset,
            width=cfg.width,
            height=cfg.height,
            clip_seconds=cfg.clip_seconds,
            **extra,
        )
        generate(gcfg, target, workers=cfg.workers, progress=progress)


# ------------------------------------------------------------------ scoring
def _limb_columns() -> list[int]:
    from navenv.body.joints import JOINT_INDEX

    return [JOINT_INDEX[n] for n in LIMB_JOINTS]


class SceneShapes:
    """Static collision shapes of each evaluation scene (for penetration), built once."""

    def __init__(self) -> None:
        self._shapes: dict[str, object] = {}

    def __call__(self, scene_name: str):
        if scene_name not in self._shapes:
            import scenes

            scene = scenes.load(scene_name)
            prims = [g for g in scene.geometry if getattr(g, "type", "mesh") != "mesh"]
            self._shapes[scene_name] = shapes_from_primitives(prims)
        return self._shapes[scene_name]


def score_window(
    samples: np.ndarray,
    gt: np.ndarray,
    contacts: np.ndarray,
    holds: np.ndarray,
    shapes,
    fps: float,
) -> dict[str, float]:
    """Metrics of K sampled joint sequences (K, T, 24, 3) against the expert's (T, 24, 3).

    contacts (T, 4): the expert's; holds (H, 3): the scene's holds. Best-of-K for the motion
    errors (min over samples, then reported alongside the mean over samples); the other metrics
    are means over samples.
    """
    limbs = _limb_columns()
    gt_prompt = np.unique(contacts[contacts >= 0])
    glob = np.array([mpjpe_mm(s, gt, align="none") for s in samples])
    rows = {
        "mpjpe_mm": float(glob.min()),
        "mpjpe_mean_k_mm": float(glob.mean()),
        "root_mpjpe_mm": float(min(mpjpe_mm(s, gt, align="root") for s in samples)),
        "pa_mpjpe_mm": float(min(pa_mpjpe_mm(s, gt) for s in samples)),
    }
    per: dict[str, list[float]] = {k: [] for k in ("route_precision", "route_recall", "order")}
    per.update(contact_dist_cm=[], penetration_cm=[], skating_m_s=[], jerk_m_s3=[])
    for s in samples:
        limb = s[:, limbs]  # (T, 4, 3)
        pred = kinematic_contacts(limb, holds, fps=fps)
        if gt_prompt.size:
            p, r = route_precision_recall(pred, gt_prompt)
            per["route_precision"].append(p)
            per["route_recall"].append(r)
            if (pred >= 0).any():
                per["order"].append(order_correctness(pred, gt_prompt, method="lis"))
        dist, _ = contact_distance_m(limb, contacts, holds)
        if np.isfinite(dist):
            per["contact_dist_cm"].append(100.0 * dist)
        per["penetration_cm"].append(100.0 * float(penetration_depth_m(s, shapes).max()))
        per["skating_m_s"].append(skating_speed_m_s(limb, pred >= 0, fps=fps, up=(0.0, -1.0, 0.0)))
        per["jerk_m_s3"].append(mean_jerk_m_s3(s, fps=fps))
    for k, v in per.items():
        rows[k] = float(np.mean(v)) if v else float("nan")
    return rows


def evaluate_split(
    methods: dict[str, object],
    windows,
    other,
    *,
    samples: int,
    seed: int,
    fps: float,
    progress: bool = True,
    batch_size: int = 16,
) -> dict[str, dict[str, float]]:
    """Mean metrics per method over a split's windows (and how many windows each scored)."""
    from policies.climb_diffusion.kinematics import feature_joints

    shapes = SceneShapes()
    gt_joints = [
        feature_joints(windows.motion[i].numpy(), windows.betas[i].numpy())
        for i in range(len(windows))
    ]
    rows: dict[str, list[dict]] = {name: [] for name in methods}
    for name, method in methods.items():
        bar = tqdm(total=len(windows), desc=f"eval {name}", unit="win", disable=not progress)
        for lo in range(0, len(windows), batch_size):
            idx = np.arange(lo, min(lo + batch_size, len(windows)))
            batch = windows.batch(idx)
            if hasattr(method, "config"):
                feats = method.sample(batch, num_samples=samples, seed=seed + lo)
            else:
                feats = method.sample(batch, num_samples=samples)
            feats = feats.numpy()
            for j, i in enumerate(idx):
                joints = feature_joints(feats[j], windows.betas[i].numpy())
                holds = windows.holds[int(windows.episode[i])]
                rows[name].append(
                    score_window(
                        joints,
                        gt_joints[i],
                        windows.contacts[i],
                        holds,
                        shapes(windows.keys[i][0]),
                        fps,
                    )
                )
            bar.update(len(idx))
        bar.close()
    if other is not None:
        where = {k: i for i, k in enumerate(other.keys)}
        matched = [(i, where[k]) for i, k in enumerate(windows.keys) if k in where]
        rows["expert_other_seed"] = []
        for i, j in matched:
            joints = feature_joints(other.motion[j].numpy(), other.betas[j].numpy())[None]
            holds = windows.holds[int(windows.episode[i])]
            rows["expert_other_seed"].append(
                score_window(
                    joints,
                    gt_joints[i],
                    windows.contacts[i],
                    holds,
                    shapes(windows.keys[i][0]),
                    fps,
                )
            )
    out = {}
    for name, rs in rows.items():
        summary = {"windows": len(rs)}
        for key, _, _ in METRICS:
            vals = np.array([r[key] for r in rs], dtype=float)
            summary[key] = float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")
        out[name] = summary
    return out


def markdown_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """| split | method | windows | metrics... | rows."""
    head = "| split | method | windows | " + " | ".join(h for _, h, _ in METRICS) + " |"
    lines = [head, "|" + "---|" * (len(METRICS) + 3)]
    for split, methods in results.items():
        for name, m in methods.items():
            cells = [
                "-" if not np.isfinite(m.get(k, np.nan)) else fmt.format(m[k])
                for k, _, fmt in METRICS
            ]
            lines.append(f"| {split} | {name} | {m['windows']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SAMPLING_FIELDS = ("sampler", "sample_steps", "guidance")
"""ClimbDiffusionConfig fields a model spec may override at evaluation (`PATH@key=value,...`)."""


def parse_model_spec(spec: str) -> tuple[str, str, dict[str, object]]:
    """(label, checkpoint, sampling overrides) of a `--model` spec `[LABEL=]PATH[@key=value,...]`,
    e.g. `g2=climb_diffusion_small@guidance=2,sample_steps=20`; keys from SAMPLING_FIELDS, so a
    sampler setting can be selected on val without retraining."""
    label, sep, rest = spec.partition("=")
    if not sep or "@" in label:  # no label: the '=' (if any) belongs to an override
        label, rest = "", spec
    path, _, opts = rest.partition("@")
    if not path:
        raise ValueError(f"--model {spec!r}: no checkpoint path")
    casts = {"sampler": str, "sample_steps": int, "guidance": float}
    overrides: dict[str, object] = {}
    for item in filter(None, opts.split(",")):
        key, sep, value = item.partition("=")
        if not sep or key not in casts:
            raise ValueError(
                f"--model {spec!r}: bad sampling override {item!r}; accepted: "
                + ", ".join(f"{k}=VALUE" for k in SAMPLING_FIELDS)
            )
        try:
            overrides[key] = casts[key](value)
        except ValueError:
            raise ValueError(f"--model {spec!r}: {key}={value!r} is not a number") from None
    return label or Path(path).name + (f"@{opts}" if opts else ""), rest, overrides


def run_eval(
    models: dict[str, str | os.PathLike],
    train_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    cfg: EvalConfig,
    *,
    progress: bool = True,
) -> dict:
    """Evaluate `models` (label -> checkpoint spec `PATH[@key=value,...]`, parse_model_spec)
    and the baselines on every split; writes
    out_dir/results.json and out_dir/results.md and returns the results."""
    from policies.climb_diffusion.baselines import MeanMotion, NearestNeighbour
    from policies.climb_diffusion.data import load_windows
    from policies.pretrained import load_pretrained

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    loaded = {}
    for label, path in models.items():
        _, spec, overrides = parse_model_spec(str(path))
        loaded[label] = load_pretrained(spec.partition("@")[0])
        if overrides:  # sampler settings only: the weights and the architecture are the file's
            loaded[label].config = loaded[label].config.updated(**overrides)
    if not loaded:
        raise ValueError("run_eval: no model to evaluate (pass at least one checkpoint)")
    ref = next(iter(loaded.values())).config
    for label, policy in loaded.items():
        if (policy.config.frames, policy.config.fps) != (ref.frames, ref.fps):
            raise ValueError(f"model {label!r}: frames/fps differ from the first model's")
    encoder = next(iter(loaded.values())).encoder
    # baselines see the route prompt the "all" context mode gives, like the model does
    base_cfg = ref.updated(context="all")
    train_w = load_windows(train_dir, base_cfg, encoder=encoder, progress=progress)
    baselines = {"nearest_neighbour": NearestNeighbour(train_w), "mean_motion": MeanMotion(train_w)}
    results: dict[str, dict] = {}
    t0 = time.perf_counter()
    for split in cfg.splits:
        generate_split(out, split, cfg, ref.fps, progress)
        per_method: dict[str, dict] = {}
        eval_dirs = {o: episodes_dir(out, split, o) for o in (0, OTHER_SEED_OFFSET)}
        for label, policy in loaded.items():
            w = load_windows(
                eval_dirs[0],
                policy.config,
                encoder=encoder,
                window_stride=ref.frames,
                progress=False,
            )
            per_method.update(
                evaluate_split(
                    {label: policy},
                    w,
                    None,
                    samples=cfg.samples,
                    seed=cfg.seed,
                    fps=ref.fps,
                    progress=progress,
                )
            )
        w = load_windows(
            eval_dirs[0], base_cfg, encoder=encoder, window_stride=ref.frames, progress=False
        )
        other = load_windows(
            eval_dirs[OTHER_SEED_OFFSET],
            base_cfg,
            encoder=encoder,
            window_stride=ref.frames,
            progress=False,
        )
        per_method.update(
            evaluate_split(
                baselines,
                w,
                other,
                samples=cfg.samples,
                seed=cfg.seed,
                fps=ref.fps,
                progress=progress,
            )
        )
        results[split] = per_method
    payload = {
        "config": {**cfg.__dict__, "splits": list(cfg.splits)},
        "models": {k: str(v) for k, v in models.items()},
        "parameters": {k: p.num_parameters() for k, p in loaded.items()},
        "train_dir": str(train_dir),
        "seconds": time.perf_counter() - t0,
        "results": results,
    }
    (out / "results.json").write_text(json.dumps(json_ready(payload), indent=2) + "\n")
    (out / "results.md").write_text(markdown_table(results) + "\n")
    return payload


def main(argv: list[str] | None = None) -> int:
    """`navenv eval climb-diffusion`; returns the exit status."""
    import argparse

    p = argparse.ArgumentParser(prog="navenv eval climb-diffusion")
    from benchmarks.climb_eval_args import add_eval_arguments

    add_eval_arguments(p)
    return run_from_args(p.parse_args(argv))


def run_from_args(args) -> int:
    """Run the evaluation the parsed arguments describe and print its table."""
    models = {}
    for m in args.model:
        label, spec, _ = parse_model_spec(m)
        models[label] = spec
    cfg = EvalConfig(tuple(args.splits), args.episodes, args.samples, args.workers, args.seed)
    payload = run_eval(models, args.train_data, args.out, cfg)
    print(markdown_table(payload["results"]))
    print(f"wrote {Path(args.out) / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
