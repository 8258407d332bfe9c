"""Physics speed of navenv's SMPL humanoid against Gymnasium's Humanoid-v5, at equal timestep.

Both models stand on a floor and step with raw ``mujoco.mj_step`` (no env overhead) under random
controls held for 16 steps, for the same number of steps, in one process, one thread each.

    OMP_NUM_THREADS=1 python benchmarks/perf_humanoid.py [--steps 20000]
"""

from __future__ import annotations

import argparse
import time

import mujoco
import numpy as np


def steps_per_second(model: mujoco.MjModel, qpos0: np.ndarray, steps: int, seed: int = 0) -> float:
    """Raw mj_step rate for `model` from `qpos0` under piecewise-constant random controls."""
    data = mujoco.MjData(model)
    data.qpos[:] = qpos0
    rng = np.random.default_rng(seed)
    lo, hi = model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1]
    controls = rng.uniform(lo, hi, size=(steps // 16 + 1, model.nu)) * 0.3
    mujoco.mj_forward(model, data)
    start = time.perf_counter()
    for i in range(steps):
        if i % 16 == 0:
            data.ctrl[:] = controls[i // 16]
        mujoco.mj_step(model, data)
        if (
            i % 480 == 479
        ):  # restart when fallen so both models spend the run in contact-rich states
            data.qpos[:] = qpos0
            data.qvel[:] = 0.0
    return steps / (time.perf_counter() - start)


def navenv_model(timestep: float) -> tuple[mujoco.MjModel, np.ndarray]:
    """navenv's humanoid on a floor."""
    from navenv.body import Skeleton
    from navenv.humanoid import HumanoidConfig, build_humanoid
    from navenv.humanoid.replay import add_floor

    spec = build_humanoid(Skeleton.builtin(), HumanoidConfig(timestep=timestep))
    add_floor(spec)
    model = spec.compile()
    qpos0 = model.qpos0.copy()
    qpos0[2] = Skeleton.builtin().offsets[0][2] + 0.002
    return model, qpos0


def gymnasium_model(timestep: float) -> tuple[mujoco.MjModel, np.ndarray]:
    """Gymnasium's Humanoid-v5 model, with its timestep set to ours."""
    import gymnasium as gym

    env = gym.make("Humanoid-v5")
    model = env.unwrapped.model
    model.opt.timestep = timestep
    return model, env.unwrapped.init_qpos.copy()


def main() -> None:
    """Measure both rates and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--timestep", type=float, default=1.0 / 480.0)
    args = parser.parse_args()
    ours, q_ours = navenv_model(args.timestep)
    ref, q_ref = gymnasium_model(args.timestep)
    steps_per_second(ours, q_ours, 2000)  # warm up caches
    r_ours = steps_per_second(ours, q_ours, args.steps)
    r_ref = steps_per_second(ref, q_ref, args.steps)
    print(f"timestep {args.timestep:.6f} s, {args.steps} steps each")
    print(f"{'model':<28}{'DoF':>6}{'actuators':>11}{'steps/s':>12}")
    print(f"{'navenv SMPL humanoid':<28}{ours.nv:>6}{ours.nu:>11}{r_ours:>12,.0f}")
    print(f"{'Gymnasium Humanoid-v5':<28}{ref.nv:>6}{ref.nu:>11}{r_ref:>12,.0f}")
    print(f"ratio navenv / Humanoid-v5: {r_ours / r_ref:.2f}")


if __name__ == "__main__":
    main()
