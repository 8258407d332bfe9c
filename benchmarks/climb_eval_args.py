"""Arguments of `navenv eval climb-diffusion`, import-free so `navenv --help` stays instant."""

from __future__ import annotations

import argparse

SPLITS = ("val", "test_iid", "test_novel_geometry", "test_novel_holds")
"""benchmarks.climb_eval.EvalConfig.splits (tests keep them in step)."""


def add_eval_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the arguments of `navenv eval climb-diffusion` to p."""
    p.add_argument("--split", nargs="+", default=list(SPLITS), dest="splits")
    p.add_argument("--episodes", type=int, default=64)
    p.add_argument("--samples", type=int, default=4, help="K samples per window")
    p.add_argument(
        "--model",
        nargs="+",
        default=["climb_diffusion_small"],
        help="checkpoints (shipped name or directory), as [LABEL=]PATH[@key=value,...] where the "
        "keys override sampling: sampler, sample_steps, guidance",
    )
    p.add_argument("--train-data", required=True, help="training dataset (for the baselines)")
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    return p
