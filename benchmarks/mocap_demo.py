"""`navenv track FILE`: import motion capture, replay it physically on the humanoid, film it."""

from __future__ import annotations

import json
from pathlib import Path

import mujoco
import numpy as np

from navenv.body.skeleton import Skeleton
from navenv.humanoid import HumanoidIndex, build_humanoid
from navenv.humanoid.grounding import level_ground
from navenv.humanoid.replay import TrackingResult, add_floor, track_motion
from navenv.mocap import MocapReport, RetargetResult, load_amc, load_bvh
from navenv.render import make_renderer
from navenv.video import write_mp4

FPS = 30.0


def load_mocap(
    path: Path,
    asf: Path | None = None,
    *,
    reference_frame: str = "auto",
    repair_spikes: bool = False,
) -> RetargetResult:
    """Load a .bvh (or .asf + .amc) onto SMPL-24; the result's ``cleanup`` is its `MocapReport`."""
    report = MocapReport()
    options = {"reference_frame": reference_frame, "repair_spikes": repair_spikes}
    if path.suffix.lower() == ".bvh":
        return load_bvh(path, return_result=True, report=report, **options)
    if path.suffix.lower() == ".amc":
        if asf is None:
            raise ValueError(f"{path}: an .amc file needs its skeleton: pass --asf FILE.asf")
        return load_amc(asf, path, return_result=True, report=report, **options)
    raise ValueError(f"{path}: expected a .bvh or .amc file, got {path.suffix!r}")


def import_and_track(
    path: Path,
    asf: Path | None = None,
    *,
    reference_frame: str = "auto",
    repair_spikes: bool = False,
) -> tuple[TrackingResult, Skeleton, dict]:
    """Load a .bvh (or .asf + .amc), level its floor, and track it; returns the result and a summary."""
    result = load_mocap(path, asf, reference_frame=reference_frame, repair_spikes=repair_spikes)
    motion, level = level_ground(result.motion.resample(FPS), result.skeleton)
    tracked = track_motion(motion, result.skeleton)
    report = result.cleanup
    summary = {
        "file": path.name,
        "frames": len(motion),
        "seconds": round(motion.duration, 2),
        "dialect": result.dialect,
        "retarget_residual_mm": round(result.residual_mm_mean, 1),
        "floor_tilt_removed_deg": round(level["tilt_deg"], 2),
        "tracking_mpjpe_mm": round(tracked.mpjpe_mm, 1),
        "assist_body_weights": round(tracked.assist_force_mean / tracked.body_weight, 3),
        "reference_frame_dropped": report.reference_frame_dropped,
        # Spike frames count source frames (before resampling to FPS), as in the report.
        "spikes": [
            {"frame": s.frame, "joint": s.joint, "speed_m_s": round(s.speed_m_s, 2)}
            for s in report.spikes
        ],
        "spikes_repaired": {str(f): list(what) for f, what in report.repaired.items()},
        "cleanup_report": report.lines(),
    }
    return tracked, result.skeleton, summary


def render_tracking(
    tracked: TrackingResult, skeleton: Skeleton, width: int = 480, height: int = 360
) -> list[np.ndarray]:
    """Frames of the simulated humanoid from a camera that follows it."""
    spec = build_humanoid(skeleton)
    add_floor(spec)
    pelvis = spec.body("pelvis")
    pelvis.add_camera(
        name="follow",
        pos=[1.6, -1.6, 0.3],
        xyaxes=[1, 1, 0, -0.1, 0.1, 1],
        mode=mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM,
    )
    light = spec.worldbody.add_light(name="sun", pos=[0, 0, 6], dir=[0.3, 0.3, -1])
    light.type = mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
    light.castshadow = False
    spec.visual.headlight.ambient = [0.4, 0.4, 0.4]
    model = spec.compile()
    data = mujoco.MjData(model)
    HumanoidIndex.from_model(model)  # checks the model has every humanoid name
    frames = []
    with make_renderer(model, width, height) as renderer:
        for q in tracked.qpos:
            data.qpos[:] = q
            mujoco.mj_forward(model, data)
            frames.append(renderer.render(data, camera="follow"))
    return frames


def track_file(
    path: Path,
    out: Path,
    asf: Path | None = None,
    *,
    reference_frame: str = "auto",
    repair_spikes: bool = False,
) -> dict:
    """The `navenv track` command: writes out/<name>.mp4 and out/<name>.json, prints a summary
    and the mocap cleanup report (dropped reference frame, spikes: frame, joint, m/s)."""
    tracked, skeleton, summary = import_and_track(
        path, asf, reference_frame=reference_frame, repair_spikes=repair_spikes
    )
    video = write_mp4(out / f"{path.stem}.mp4", render_tracking(tracked, skeleton), FPS)
    (out / f"{path.stem}.json").write_text(json.dumps(summary, indent=2))
    print(
        f"{path.name}: {summary['frames']} frames, retarget residual {summary['retarget_residual_mm']} mm, "
        f"tracked at {summary['tracking_mpjpe_mm']} mm MPJPE with {summary['assist_body_weights']} body weights "
        f"of root assist -> {video}"
    )
    for line in summary["cleanup_report"]:
        print(f"  {line}")
    return summary
