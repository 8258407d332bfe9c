"""Episode records -> metric rows -> per (split, policy) summaries, with benchmarks.metrics."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from benchmarks.harness import EpisodeRecord
from benchmarks.metrics import (
    contact_distance_m,
    mpjpe_mm,
    order_correctness,
    pa_mpjpe_mm,
    route_precision_recall,
)

# Columns of the summary table: key, header, format
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("episodes", "episodes", "{:d}"),
    ("completion", "completion", "{:.0%}"),
    ("route_progress", "progress", "{:.2f}"),
    ("holds_reached", "holds reached", "{:.1f}"),
    ("falls", "falls", "{:.0%}"),
    ("assist_bw", "assist (BW)", "{:.3f}"),
    ("route_precision", "route precision", "{:.2f}"),
    ("route_recall", "route recall", "{:.2f}"),
    ("order", "hold order", "{:.2f}"),
    ("contact_dist_cm", "contact dist (cm)", "{:.1f}"),
    ("mpjpe_plan_mm", "MPJPE to plan (mm)", "{:.0f}"),
    ("mpjpe_expert_mm", "MPJPE to expert (mm)", "{:.0f}"),
    ("pa_mpjpe_expert_mm", "PA-MPJPE to expert (mm)", "{:.0f}"),
)


def score_episode(rec: EpisodeRecord) -> dict[str, float]:
    """Metrics of one episode (NaN where a metric does not apply)."""
    precision, recall = route_precision_recall(rec.grips, rec.route_holds, limbs="all")
    touched_any = (rec.grips >= 0).any()
    order = (
        order_correctness(rec.grips, rec.route_holds, limbs="hands", method="lis")
        if touched_any
        else np.nan
    )
    limb_pos = _limb_positions(rec.joints)
    dist, _ = contact_distance_m(limb_pos, rec.grips, rec.hold_positions)
    mpjpe = np.nan
    if rec.reference_joints is not None:
        n = min(len(rec.joints), len(rec.reference_joints))
        mpjpe = mpjpe_mm(rec.joints[:n], rec.reference_joints[:n], align="none")
    adherence = {"mpjpe_expert_mm": np.nan, "pa_mpjpe_expert_mm": np.nan}
    if rec.expert_joints is not None:  # --adherence: the expert's plan, same route and seed
        n = min(len(rec.joints), len(rec.expert_joints))
        adherence = {
            "mpjpe_expert_mm": float(mpjpe_mm(rec.joints[:n], rec.expert_joints[:n], align="none")),
            "pa_mpjpe_expert_mm": float(pa_mpjpe_mm(rec.joints[:n], rec.expert_joints[:n])),
        }
    return {
        **adherence,
        "completion": float(rec.success),
        "route_progress": rec.route_progress,
        "holds_reached": float(rec.holds_reached),
        "falls": float(rec.fell),
        "assist_bw": rec.mean_assist,
        "route_precision": float(precision),
        "route_recall": float(recall),
        "order": float(order),
        "contact_dist_cm": float(dist) * 100.0,
        "mpjpe_plan_mm": float(mpjpe),
        "steps": float(rec.steps),
        "max_penetration_cm": rec.max_penetration * 100.0,
        "wall_seconds": rec.wall_seconds,
    }


def _limb_positions(joints: np.ndarray) -> np.ndarray:
    """(T, 4, 3) positions of the hands and feet (SMPL hand and foot joints), metres."""
    from navenv.body.joints import JOINT_INDEX

    cols = [JOINT_INDEX[n] for n in ("left_hand", "right_hand", "left_foot", "right_foot")]
    return joints[:, cols]


CI_LEVEL = 0.95
"""Confidence level of the bootstrap intervals in summaries."""
CI_COLUMNS: tuple[str, ...] = ("completion", "route_progress", "mpjpe_plan_mm")
"""Columns the markdown table prints with their interval."""


def bootstrap_ci(
    values: np.ndarray, level: float = CI_LEVEL, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (NaNs dropped) over episodes:
    (low, high), NaNs when no value is finite. Seeded, so a report repeats."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not 0.0 < level < 1.0:
        raise ValueError(f"bootstrap_ci: level={level}: expected 0 < level < 1")
    if len(v) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(resamples, len(v)))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def summarise(records: list[EpisodeRecord]) -> dict[tuple[str, str], dict[str, float]]:
    """Mean of every metric per (split, policy), NaNs ignored, each with its 95% bootstrap
    interval over episodes (`METRIC_ci`: [low, high]); plus the episode count."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in records:
        groups[(rec.task.split, rec.task.label)].append(score_episode(rec))
    out = {}
    for key, rows in groups.items():
        summary: dict = {"episodes": len(rows)}
        for metric in rows[0]:
            values = np.array([r[metric] for r in rows], dtype=float)
            summary[metric] = (
                float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            )
            summary[f"{metric}_ci"] = list(bootstrap_ci(values))
        out[key] = summary
    return out


def generalisation(
    summary: dict[tuple[str, str], dict], metric: str = "completion", base: str = "train"
) -> dict[str, dict[str, float]]:
    """policy -> {split: value on `base` minus value on split} for every other split the
    policy ran on (positive: worse off the training scenes, for a higher-is-better metric)."""
    out: dict[str, dict[str, float]] = {}
    for (split, policy), values in summary.items():
        if split == base or (base, policy) not in summary:
            continue
        out.setdefault(policy, {})[split] = summary[(base, policy)][metric] - values[metric]
    return out


def generalisation_table(summary: dict[tuple[str, str], dict], base: str = "train") -> str:
    """Markdown: per policy, the drop in completion and route progress from `base` to each split."""
    comp, prog = (
        generalisation(summary, "completion", base),
        generalisation(summary, "route_progress", base),
    )
    if not comp:
        return ""
    splits = sorted({s for per in comp.values() for s in per})
    head = "| policy | " + " | ".join(f"{s}: completion / progress drop" for s in splits) + " |"
    rows = [head, "|" + "---|" * (len(splits) + 1)]
    for policy, per in comp.items():
        cells = [f"{per[s]:+.0%} / {prog[policy][s]:+.2f}" if s in per else "-" for s in splits]
        rows.append(f"| {policy} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def compare(now: dict[str, dict], before: dict[str, dict], metrics: tuple[str, ...]) -> str:
    """Markdown: `metric now (change)` per `split/policy` present in both summaries
    (results.json "summary" dicts)."""
    keys = [k for k in now if k in before]
    if not keys:
        return "no split/policy in common with the earlier run"
    rows = ["| split/policy | " + " | ".join(metrics) + " |", "|" + "---|" * (len(metrics) + 1)]
    for k in keys:
        cells = []
        for m in metrics:
            a, b = now[k].get(m), before[k].get(m)
            if a is None or b is None:
                cells.append("-" if a is None else f"{a:.3g} (new)")
            else:
                cells.append(f"{a:.3g} ({a - b:+.3g})")
        rows.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def markdown_table(summary: dict[tuple[str, str], dict[str, float]]) -> str:
    """A markdown table: one row per (split, policy); CI_COLUMNS with their 95% interval."""
    head = "| split | policy | " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    sep = "|" + "---|" * (len(COLUMNS) + 2)
    rows = [head, sep]
    for (split, policy), values in summary.items():
        cells = []
        for key, _, fmt in COLUMNS:
            v = values.get(key, float("nan"))
            if isinstance(v, float) and not np.isfinite(v):
                cells.append("-")
                continue
            cell = fmt.format(int(v) if fmt == "{:d}" else v)
            ci = values.get(f"{key}_ci")
            if key in CI_COLUMNS and ci is not None and np.isfinite(ci).all() and ci[0] != ci[1]:
                cell += " [" + fmt.format(ci[0]) + ", " + fmt.format(ci[1]) + "]"
            cells.append(cell)
        rows.append(f"| {split} | {policy} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def json_ready(value: Any) -> Any:
    """`value` with dicts, lists and tuples rebuilt, numpy scalars as Python numbers and every
    non-finite float (NaN: a metric with no value) as None, for strict JSON (null)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_ready(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value
