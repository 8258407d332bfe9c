"""RoomNav-v0 speed, as ratios against a reference measured in the same run.

1. physics env steps/s (obs="state", holding the standing pose) vs the raw physics of the same
   model: mj_step x frame_skip on the same MjData (the limit an env can reach).
2. kinematic env steps/s (obs="state") vs mj_forward of the same poses (a kinematic step's
   physics cost).
3. obs="ego" at 64 x 64 vs obs="state" (the price of the ray-cast head camera).

Rounds alternate the two sides of each pair and the median round is reported:

    OMP_NUM_THREADS=1 python -m benchmarks.perf_room [--steps 300 --rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import mujoco
import numpy as np


def _stand(env) -> np.ndarray:
    u = env
    lo, hi = u.index.hinge_range.T
    parts = {"hinge_targets": 2 * (u._stand - lo) / (hi - lo) - 1}
    if "root_position" in u.action_layout:
        centre, half = u.world.room_box
        pos = u.data.qpos[u.index.root_qpos][:3]
        parts["root_position"] = (pos - centre) / half
        parts["root_rot6d"] = np.array([1, 0, 0, 0, 1, 0], float)
    return u.action_layout.join(**parts)


def _rate(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def _pair(a, b, n: int, rounds: int) -> tuple[float, float]:
    ra, rb = [], []
    for _ in range(rounds):
        ra.append(_rate(a, n))
        rb.append(_rate(b, n))
    return statistics.median(ra), statistics.median(rb)


def main(argv=None) -> int:
    """Print the three ratios."""
    from navenv.envs.room import RoomNavEnv

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args(argv)

    phys = RoomNavEnv(obs="state", control="physics")
    phys.reset(seed=0, options={"observer": "stand"})
    act = _stand(phys)
    m, d, skip = phys.model, phys.data, phys.config.frame_skip

    def raw() -> None:
        mujoco.mj_step(m, d, nstep=skip)

    def env_step() -> None:
        phys.step(act)

    env_rate, raw_rate = _pair(env_step, raw, a.steps, a.rounds)
    print(
        f"physics: env {env_rate:.0f} steps/s vs raw physics {raw_rate:.0f} steps/s "
        f"-> ratio {env_rate / raw_rate:.2f}"
    )

    kin = RoomNavEnv(obs="state")
    kin.reset(seed=0, options={"observer": "stand"})
    kact = _stand(kin)
    km, kd = kin.model, kin.data

    def kin_step() -> None:
        kin.step(kact)

    def fwd() -> None:
        mujoco.mj_forward(km, kd)

    k_rate, f_rate = _pair(kin_step, fwd, a.steps, a.rounds)
    print(
        f"kinematic: env {k_rate:.0f} steps/s vs mj_forward {f_rate:.0f}/s "
        f"-> ratio {k_rate / f_rate:.2f}"
    )

    ego = RoomNavEnv(obs="ego", width=64, height=64)
    ego.reset(seed=0, options={"observer": "stand"})
    eact = _stand(ego)
    e_rate, s_rate = _pair(lambda: ego.step(eact), kin_step, max(a.steps // 3, 10), a.rounds)
    print(
        f"ego 64x64: env {e_rate:.0f} steps/s vs state {s_rate:.0f} steps/s "
        f"-> ratio {e_rate / s_rate:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
