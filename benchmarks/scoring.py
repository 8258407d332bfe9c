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
    return {
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


def summarise(records: list[EpisodeRecord]) -> dict[tuple[str, str], dict[str, float]]:
    """Mean of every metric per (split, policy), NaNs ignored; plus the episode count."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in records:
        groups[(rec.task.split, rec.task.policy)].append(score_episode(rec))
    out = {}
    for key, rows in groups.items():
        summary = {"episodes": len(rows)}
        for metric in rows[0]:
            values = np.array([r[metric] for r in rows], dtype=float)
            summary[metric] = (
                float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            )
        out[key] = summary
    return out


def markdown_table(summary: dict[tuple[str, str], dict[str, float]]) -> str:
    """A markdown table: one row per (split, policy)."""
    head = "| split | policy | " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    sep = "|" + "---|" * (len(COLUMNS) + 2)
    rows = [head, sep]
    for (split, policy), values in summary.items():
        cells = []
        for key, _, fmt in COLUMNS:
            v = values.get(key, float("nan"))
            cells.append(
                "-"
                if isinstance(v, float) and not np.isfinite(v)
                else fmt.format(int(v) if fmt == "{:d}" else v)
            )
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
