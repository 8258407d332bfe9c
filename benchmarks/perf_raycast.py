"""Frames/s of the CPU ray-cast camera on a climbing scene, against MuJoCo's OpenGL renderer.

Run single-threaded, as the target (>= 2,000 frames/s at 64x64 on one core) is stated:

    OMP_NUM_THREADS=1 taskset -c 0 python -m benchmarks.perf_raycast --seconds 3

The world is representative of the climbing env: a floor plane, a 4 m x 4.5 m wall of three
panels (the middle one overhanging), 150 holds (ellipsoids and boxes), 5 volumes and a 24-capsule
humanoid standing 1.6 m from the wall, one hand reaching up into view, with an ego camera at its
eyes looking at the wall. Every frame renders a different humanoid pose (a pool of MjData made
beforehand), so moving geoms cost what they cost in an env. The reference is `mujoco.Renderer`
(MUJOCO_GL=egl; software Mesa on a machine without a GPU) at the same camera and resolution,
measured in the same run; without a GL context the ratio column reads n/a. The ray-cast rows
compare its primitive tracers (`backend=`: the compiled numba one, the numpy one, mj_multiRay);
the time the numba tracer took to compile, or to load from numba's cache, is printed first. The
last rows time the ego camera of the `ClimbRoute-v0` env itself (reset with seed 0), per tracer.

Each frame is timed on its own; the table reports 1 / median frame time and 1 / 10th-percentile
frame time, which a loaded machine (other processes preempting this one) distorts much less than
a mean.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported: it binds its GL backend

import mujoco
import numpy as np

from navenv.render.backends import load_jit
from navenv.render.raycast import RayCastCamera

# SMPL-like joints (m) of a climber facing +y (the wall): (parent, position, capsule radius).
_JOINTS: dict[str, tuple[str | None, tuple[float, float, float], float]] = {
    "pelvis": (None, (0.0, 0.0, 0.95), 0.09),
    "l_hip": ("pelvis", (-0.09, 0.0, 0.88), 0.07),
    "r_hip": ("pelvis", (0.09, 0.0, 0.88), 0.07),
    "spine1": ("pelvis", (0.0, 0.0, 1.05), 0.1),
    "l_knee": ("l_hip", (-0.11, 0.05, 0.5), 0.05),
    "r_knee": ("r_hip", (0.11, 0.05, 0.5), 0.05),
    "spine2": ("spine1", (0.0, 0.0, 1.18), 0.1),
    "l_ankle": ("l_knee", (-0.12, 0.0, 0.09), 0.04),
    "r_ankle": ("r_knee", (0.12, 0.0, 0.09), 0.04),
    "spine3": ("spine2", (0.0, 0.0, 1.3), 0.11),
    "l_foot": ("l_ankle", (-0.13, 0.12, 0.03), 0.03),
    "r_foot": ("r_ankle", (0.13, 0.12, 0.03), 0.03),
    "neck": ("spine3", (0.0, 0.0, 1.5), 0.05),
    "l_collar": ("spine3", (-0.07, 0.0, 1.42), 0.05),
    "r_collar": ("spine3", (0.07, 0.0, 1.42), 0.05),
    "head": ("neck", (0.0, 0.0, 1.6), 0.09),
    "l_shoulder": ("l_collar", (-0.18, 0.0, 1.43), 0.05),
    "r_shoulder": ("r_collar", (0.18, 0.0, 1.43), 0.05),
    "l_elbow": ("l_shoulder", (-0.25, 0.22, 1.7), 0.04),  # reaching up to the wall, in view
    "r_elbow": ("r_shoulder", (0.32, 0.12, 1.2), 0.04),
    "l_wrist": ("l_elbow", (-0.3, 0.45, 1.92), 0.035),
    "r_wrist": ("r_elbow", (0.38, 0.3, 1.08), 0.035),
    "l_hand": ("l_wrist", (-0.31, 0.53, 2.0), 0.03),
    "r_hand": ("r_wrist", (0.39, 0.37, 1.02), 0.03),
}
_STAND = np.array([0.0, -1.7, 0.0])  # humanoid offset: its eyes end up 1.6 m from the wall (y=0)


def _quat(mat: np.ndarray) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(mat, dtype=float).reshape(-1))
    return quat


def _rot_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _add_wall(world: mujoco.MjsBody, rng: np.random.Generator, n_holds: int) -> None:
    """Three 4 m x 1.5 m panels (the middle one overhanging 15 deg), holds and volumes."""
    panels = []  # (bottom-edge centre of the front face, rotation; local z runs up the panel)
    bottom = np.zeros(3)
    for tilt in (0.0, math.radians(15.0), 0.0):
        rot = _rot_x(tilt)  # leans towards -y, over the climber
        world.add_geom(
            type=mujoco.mjtGeom.mjGEOM_BOX, size=[2.0, 0.05, 0.75],
            pos=bottom + rot @ [0.0, 0.05, 0.75], quat=_quat(rot), rgba=[0.82, 0.76, 0.62, 1],
        )  # fmt: skip
        panels.append((bottom, rot))
        bottom = bottom + rot @ [0.0, 0.0, 1.5]
    for i in range(n_holds):
        origin, rot = panels[rng.integers(0, 3)]
        pos = origin + rot @ [rng.uniform(-1.9, 1.9), 0.0, rng.uniform(0.1, 1.4)]
        spin = rng.uniform(0.0, 2.0 * math.pi)
        c, s = math.cos(spin), math.sin(spin)
        hold_rot = rot @ np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        world.add_geom(
            type=mujoco.mjtGeom.mjGEOM_ELLIPSOID if i % 2 else mujoco.mjtGeom.mjGEOM_BOX,
            size=rng.uniform([0.03, 0.015, 0.02], [0.07, 0.035, 0.045]), pos=pos,
            quat=_quat(hold_rot), rgba=[*rng.uniform(0.1, 0.95, 3), 1.0],
        )  # fmt: skip
    for _ in range(5):
        origin, rot = panels[rng.integers(0, 3)]
        size = rng.uniform([0.2, 0.1, 0.15], [0.4, 0.2, 0.3])
        world.add_geom(
            type=mujoco.mjtGeom.mjGEOM_BOX, size=size, quat=_quat(rot), rgba=[0.25, 0.45, 0.8, 1],
            pos=origin + rot @ [rng.uniform(-1.5, 1.5), -0.5 * size[1], rng.uniform(0.3, 1.2)],
        )  # fmt: skip


def _add_climber(world: mujoco.MjsBody) -> None:
    """24 bodies with ball joints and one capsule each, and the ego camera on the head."""
    bodies: dict[str, mujoco.MjsBody] = {}
    for name, (parent, pos, radius) in _JOINTS.items():
        rel = np.array(pos) - (np.array(_JOINTS[parent][1]) if parent else -_STAND)
        body = (bodies[parent] if parent else world).add_body(name=name, pos=rel)
        if parent:
            body.add_joint(type=mujoco.mjtJoint.mjJNT_BALL)
        else:
            body.add_freejoint()
        bodies[name] = body
        child = next((c for c, (p, _, _) in _JOINTS.items() if p == name), None)
        tip = np.array(_JOINTS[child][1]) - pos if child and name != "head" else [0, 0, 0.12]
        body.add_geom(
            type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0, *(0.8 * np.asarray(tip))],
            size=[radius, 0, 0], rgba=[0.85, 0.65, 0.55, 1],
        )  # fmt: skip
    # At the eyes, just in front of the head capsule, looking at the wall 10 deg up.
    tilt = math.radians(10.0)
    fwd = np.array([0.0, math.cos(tilt), math.sin(tilt)])
    up = np.array([0.0, -math.sin(tilt), math.cos(tilt)])
    cam_rot = np.stack([np.cross(fwd, up), up, -fwd], axis=1)
    bodies["head"].add_camera(name="ego", pos=[0.0, 0.1, 0.06], quat=_quat(cam_rot), fovy=90.0)


def build_climbing_world(seed: int = 0, n_holds: int = 150) -> mujoco.MjModel:
    """The benchmark world (see the module docstring); same seed -> same model."""
    rng = np.random.default_rng(seed)
    spec = mujoco.MjSpec()
    spec.visual.global_.offwidth = spec.visual.global_.offheight = 256
    world = spec.worldbody
    world.add_light(pos=[0.0, -4.0, 6.0], dir=[0.0, 0.6, -1.0], castshadow=True)
    world.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[8, 8, 0.1], rgba=[0.45, 0.47, 0.5, 1])
    _add_wall(world, rng, n_holds)
    _add_climber(world)
    return spec.compile()


def pose_pool(model: mujoco.MjModel, n: int, seed: int = 0) -> list[mujoco.MjData]:
    """`n` MjData with the humanoid's ball joints perturbed (up to ~0.15 rad), kinematics done."""
    rng = np.random.default_rng(seed)
    pool = []
    for _ in range(n):
        data = mujoco.MjData(model)
        for j in range(model.njnt):
            if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_BALL:
                adr = model.jnt_qposadr[j]
                axis = rng.normal(size=3)
                angle = float(rng.uniform(0.0, 0.15))
                mujoco.mju_axisAngle2Quat(
                    data.qpos[adr : adr + 4], axis / np.linalg.norm(axis), angle
                )
        mujoco.mj_forward(model, data)
        pool.append(data)
    return pool


def frames_per_s(
    render: Callable[[mujoco.MjData], object], pool: list, seconds: float
) -> tuple[float, float]:
    """1 / (median, 10th-percentile) time of one `render(data)`, cycling through `pool`."""
    for data in pool[:5]:
        render(data)
    times: list[float] = []
    clock = time.perf_counter
    end = clock() + seconds
    while clock() < end:
        for data in pool:
            start = clock()
            render(data)
            times.append(clock() - start)
    return 1.0 / float(np.median(times)), 1.0 / float(np.percentile(times, 10))


def gl_frames_per_s(
    model: mujoco.MjModel, pool: list, size: int, shadows: bool, seconds: float
) -> tuple[float, float] | str:
    """mujoco.Renderer frames/s (update_scene + render) on the ego camera, or why not."""
    try:
        renderer = mujoco.Renderer(model, size, size)
    except Exception as exc:  # any backend failure just means: no reference here
        return f"unavailable ({type(exc).__name__}: {str(exc).splitlines()[0][:50]})"
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
    option = mujoco.MjvOption()

    def frame(data: mujoco.MjData) -> None:
        renderer.update_scene(data, "ego", option)
        renderer.render()

    try:
        return frames_per_s(frame, pool, seconds)
    finally:
        renderer.close()


def climb_env_frames_per_s(backend: str, seconds: float) -> tuple[tuple[float, float], str]:
    """Frames/s (as `frames_per_s`) and "WxH" of a copy of `ClimbRoute-v0`'s ego camera
    (obs="ego", reset(seed=0)) with the given tracer."""
    import gymnasium as gym

    import navenv  # noqa: F401  (registers the env ids)

    env = gym.make("ClimbRoute-v0", obs="ego")
    env.reset(seed=0)
    ego = env.unwrapped.ego_camera
    cam = RayCastCamera(
        ego.model, ego.width, ego.height, ego.fovy_deg, camera=ego.camera_id,
        bodyexclude=ego.bodyexclude, backend=backend,
    )  # fmt: skip
    buf = np.empty((cam.height, cam.width, 3), np.uint8)
    try:
        rate = frames_per_s(lambda data: cam.render(data, out=buf), [env.unwrapped.data], seconds)
        return rate, f"{cam.width}x{cam.height}"
    finally:
        env.close()


def main() -> None:
    """Print the frames/s table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per row (s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model = build_climbing_world(args.seed)
    pool = pose_pool(model, 50, args.seed)
    head = model.body("head").id
    print(f"world: {model.ngeom} geoms ({model.nbody} bodies), ego camera 1.6 m from the wall")
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    cpus = len(os.sched_getaffinity(0))
    print(f"OMP_NUM_THREADS={threads}, CPUs usable: {cpus}, MUJOCO_GL={os.environ['MUJOCO_GL']}")
    start = time.perf_counter()
    jit, why = load_jit()
    took = time.perf_counter() - start
    print(
        f"numba tracer + shader: {f'ready in {took:.2f} s (import, compile or cache load)' if jit else why}"
    )
    tracers = ["numba", "numpy"] if jit else ["numpy"]
    print("frames/s: 1 / median frame time, and 1 / 10th-percentile frame time (what an unloaded")
    print("core gives when other processes preempt this one); x GL: median ratio to GL, no shadows")
    print(f"\n{'res':>7}  {'renderer':<31} {'median':>8} {'p10':>8} {'x GL':>7}")
    for size in (64, 128):
        rows: list[tuple[str, tuple[float, float] | str]] = []
        cases = [
            (f"raycast {b}, head excluded", {"bodyexclude": head, "backend": b}) for b in tracers
        ]
        cases += [(f"raycast {b}, whole body", {"backend": b}) for b in tracers]
        cases.append(("raycast, mj_multiRay only", {"bodyexclude": head, "backend": "mujoco"}))
        for name, kwargs in cases:
            cam = RayCastCamera(model, size, size, camera="ego", **kwargs)
            rows.append((name, frames_per_s(cam.render, pool, args.seconds)))
        gl = gl_frames_per_s(model, pool, size, False, args.seconds)
        rows.append(("mujoco.Renderer GL, no shadows", gl))
        rows.append(("mujoco.Renderer GL, shadows", gl_frames_per_s(model, pool, size, True, 1.0)))
        for name, rate in rows:
            if isinstance(rate, str):
                print(f"{size:>3}x{size:<3}  {name:<31} {rate}")
                continue
            ratio = f"{rate[0] / gl[0]:7.2f}" if isinstance(gl, tuple) else "    n/a"
            print(f"{size:>3}x{size:<3}  {name:<31} {rate[0]:8.0f} {rate[1]:8.0f} {ratio}")
    for backend in tracers:
        rate, res = climb_env_frames_per_s(backend, args.seconds)
        name = f"ClimbRoute-v0 ego, {backend}"
        print(f"{res:>7}  {name:<31} {rate[0]:8.0f} {rate[1]:8.0f}     n/a")


if __name__ == "__main__":
    main()
