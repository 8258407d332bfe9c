"""Launched by torchrun from test_climb_diffusion_train.py: a few tiny DDP steps on gloo.

Each rank writes its final weights' digest to OUT/rank<r>.json, so the test can compare them.
"""

import json
import sys
from pathlib import Path

import torch


def main() -> None:
    data, out = sys.argv[1], Path(sys.argv[2])
    from policies.climb_diffusion.config import ClimbDiffusionConfig
    from policies.climb_diffusion.train import train

    torch.set_num_threads(1)
    cfg = ClimbDiffusionConfig.preset(
        "tiny",
        frames=8,
        fps=10.0,
        max_context=4,
        max_known=3,
        steps=3,
        batch_size=4,
        warmup_steps=1,
    )
    result = train(cfg, data, out / "run", progress=False, checkpoint_every=100, eval_every=100)
    rank = (
        torch.distributed.get_rank()
        if torch.distributed.is_initialized()
        else int(__import__("os").environ.get("RANK", "0"))
    )
    (out / f"rank{rank}.json").write_text(json.dumps({"sha": result.weights_sha256}))


if __name__ == "__main__":
    main()
