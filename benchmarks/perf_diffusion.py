"""Sampling speed of ClimbDiffusion: one 2 s clip on one CPU thread, against real time and
against MuJoCo simulating the same 2 s of the humanoid, measured in the same run.

    python -m benchmarks.perf_diffusion [--model climb_diffusion_small] [--clips 20]

Prints ms per clip (the whole sampler: DDIM steps, guidance if configured, un-normalising) and
ms per denoiser forward, with their ratios to the clip's duration and to 2 s of raw physics
(navenv's humanoid at its default timestep, `benchmarks.perf_humanoid`). The tokens come from the
shipped encoder on a real tripod frame and context frames of one evaluation episode when a
dataset is given (--data), else from random frames: the denoiser's cost does not depend on
pixel values.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def clip_batch(policy, seed: int = 0) -> dict[str, torch.Tensor]:
    """One condition: a static tripod video and a full route prompt of encoded frames."""
    cfg = policy.config
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 255, size=(1, 1 + cfg.max_context, 64, 64, 3), dtype=np.uint8)
    with torch.no_grad():
        tok = policy.encoder(torch.from_numpy(frames)).float()  # (1, 1 + C, P, D)
    t = cfg.frames
    return {
        "motion": torch.zeros(1, t, 147),
        "known_mask": torch.zeros(1, t, dtype=torch.bool),
        "video": tok[:, :1],
        "video_index": torch.zeros(1, t, dtype=torch.long),
        "context": tok[:, 1:],
        "context_mask": torch.ones(1, cfg.max_context, dtype=torch.bool),
        "context_pos": torch.from_numpy(rng.normal(size=(1, cfg.max_context, 3))).float(),
        "anchor": torch.zeros(1, 3),
        "betas": torch.zeros(1, 10),
    }


def time_sampling(policy, batch, clips: int) -> tuple[float, float]:
    """(ms per clip, ms per denoiser forward), median over `clips` samples."""
    forwards = [0]
    inner = policy.model.forward

    def counted(*a, **k):
        forwards[0] += 1
        return inner(*a, **k)

    policy.model.forward = counted
    try:
        policy.sample(batch, seed=0)  # warm up
        forwards[0] = 0
        times = []
        for i in range(clips):
            t0 = time.perf_counter()
            policy.sample(batch, seed=i)
            times.append(time.perf_counter() - t0)
    finally:
        policy.model.forward = inner
    per_clip = float(np.median(times)) * 1000.0
    return per_clip, per_clip / (forwards[0] / clips)


def physics_ms(seconds: float) -> float:
    """Milliseconds MuJoCo takes to simulate `seconds` of the humanoid (raw mj_step)."""
    from benchmarks.perf_humanoid import navenv_model, steps_per_second
    from navenv.humanoid import HumanoidConfig

    dt = HumanoidConfig().timestep
    model, q0 = navenv_model(dt)
    steps = round(seconds / dt)
    steps_per_second(model, q0, 500)
    return 1000.0 * steps / steps_per_second(model, q0, steps)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="climb_diffusion_small", help="checkpoint name or dir")
    p.add_argument("--clips", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from policies.pretrained import load_pretrained

    policy = load_pretrained(args.model)
    cfg = policy.config
    batch = clip_batch(policy)
    per_clip, per_fwd = time_sampling(policy, batch, args.clips)
    clip_s = cfg.frames / cfg.fps
    phys = physics_ms(clip_s)
    print(
        f"{args.model}: {policy.num_parameters():,} parameters, {cfg.frames} frames at "
        f"{cfg.fps:g} fps ({clip_s:g} s), {cfg.sampler} x {cfg.sample_steps} steps, guidance "
        f"{cfg.guidance:g}, {args.threads} thread(s)"
    )
    print(f"{'':<30}{'ms':>10}{'x real time':>14}{'x physics':>12}")
    print(
        f"{'sample one clip':<30}{per_clip:>10.1f}{per_clip / (1000 * clip_s):>14.3f}"
        f"{per_clip / phys:>12.2f}"
    )
    print(
        f"{'one denoiser forward':<30}{per_fwd:>10.2f}{per_fwd / (1000 * clip_s):>14.4f}"
        f"{per_fwd / phys:>12.3f}"
    )
    print(f"{'reference: MuJoCo, 2 s physics':<30}{phys:>10.1f}")
    print(f"target: <= 100 ms per clip on one core -> {'met' if per_clip <= 100 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
