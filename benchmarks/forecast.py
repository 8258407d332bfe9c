"""`navenv bench forecast`: best-of-K pedestrian forecasting on any folder of ETH/UCY tracks.

Every *.txt file of the folder is scored on its own with the standard protocol (8 observed ->
12 predicted steps at 2.5 Hz, sliding windows, best of K = 20, ADE / FDE in metres) by a path
model (a checkpoint directory, or the shipped one) and by constant velocity, measured in the same
run. Prints a table beside the published figures and writes OUT/results.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from benchmarks.metrics.forecast import min_ade_k, min_fde_k

DEFAULT_MODEL = "behavior_path_ucy"
K = 20
# Published best-of-20 averages over ETH, HOTEL, UNIV, ZARA1, ZARA2 (ADE / FDE, m), for reference:
# different training data and scenes, so only the ordering is comparable.
PUBLISHED = {
    "Social-GAN (Gupta et al. 2018)": (0.58, 1.18),
    "Trajectron++ (as published)": (0.21, 0.41),
    "Trajectron++ (after the authors' fix)": (0.32, 0.55),
    "MID (Gu et al. 2022)": (0.21, 0.38),
    "LED (Mao et al. 2023)": (0.21, 0.33),
}


def run_forecast(
    tracks: str | Path,
    model: str | None = None,
    out: str | Path | None = None,
    k: int = K,
    seed: int = 0,
) -> dict:
    """Score every track file in `tracks` (a folder or one file); returns (and writes) results."""
    from navenv.tracks import constant_velocity, load_track_dir, load_tracks, scene_group, windows
    from policies.pretrained import load_pretrained

    path = Path(tracks)
    files = load_track_dir(path) if path.is_dir() else [load_tracks(path)]
    net = load_pretrained(model or DEFAULT_MODEL)
    cfg = net.config
    rows = []
    for f in files:
        w = windows(f, obs_len=cfg.past, pred_len=cfg.horizon, max_neighbours=cfg.max_neighbours)
        if not len(w.obs):
            rows.append({"file": f.name, "scene": scene_group(f.scene), "windows": 0})
            continue
        t0 = time.perf_counter()
        pred = net.forecast(w.obs, _pad(w.neighbours, cfg.max_neighbours), k=k, seed=seed)
        secs = time.perf_counter() - t0
        cv = constant_velocity(w.obs, cfg.horizon)[:, None]
        rows.append(
            {
                "file": f.name,
                "scene": scene_group(f.scene),
                "windows": len(w.obs),
                "k": k,
                "ade": min_ade_k(pred, w.fut),
                "fde": min_fde_k(pred, w.fut),
                "cv_ade": min_ade_k(cv, w.fut),
                "cv_fde": min_fde_k(cv, w.fut),
                "seconds": secs,
            }
        )
    scored = [r for r in rows if r["windows"]]
    result = {
        "tracks": str(path),
        "model": model or DEFAULT_MODEL,
        "protocol": f"{cfg.past} -> {cfg.horizon} steps at 2.5 Hz, best of {k}, ADE/FDE m",
        "files": rows,
        "mean": {
            key: float(np.mean([r[key] for r in scored]))
            for key in ("ade", "fde", "cv_ade", "cv_fde")
        }
        if scored
        else {},
        "published": {name: {"ade": a, "fde": b} for name, (a, b) in PUBLISHED.items()},
    }
    if out is not None:
        from scenes.atomic import write_atomic

        Path(out).mkdir(parents=True, exist_ok=True)
        write_atomic(Path(out) / "results.json", (json.dumps(result, indent=1) + "\n").encode())
    return result


def _pad(nbr: np.ndarray, m: int) -> np.ndarray:
    if nbr.shape[1] >= m:
        return nbr[:, :m]
    pad = np.full((len(nbr), m - nbr.shape[1], *nbr.shape[2:]), np.nan)
    return np.concatenate([nbr, pad], axis=1)


def table(result: dict) -> str:
    """Markdown table of a `run_forecast` result."""
    lines = [
        f"{result['protocol']}; model {result['model']}",
        "",
        "| file | scene | windows | ADE | FDE | const. vel. ADE | const. vel. FDE |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["files"]:
        if not r["windows"]:
            lines.append(f"| {r['file']} | {r['scene']} | 0 | - | - | - | - |")
            continue
        lines.append(
            f"| {r['file']} | {r['scene']} | {r['windows']} | {r['ade']:.3f} | {r['fde']:.3f} "
            f"| {r['cv_ade']:.3f} | {r['cv_fde']:.3f} |"
        )
    if result["mean"]:
        m = result["mean"]
        lines.append(
            f"| mean | | | {m['ade']:.3f} | {m['fde']:.3f} | {m['cv_ade']:.3f} | {m['cv_fde']:.3f} |"
        )
    lines += ["", "Published (best of 20, averaged over ETH/UCY; other data, for reference):"]
    lines += [f"- {n}: {v['ade']:.2f} / {v['fde']:.2f}" for n, v in result["published"].items()]
    return "\n".join(lines)
