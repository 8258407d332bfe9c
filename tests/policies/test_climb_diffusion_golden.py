"""Golden output of the shipped ClimbDiffusion checkpoint: a fixed condition, a fixed seed,
the same motion. A deliberate change to the model or its weights regenerates it:

    python -m tests.policies.test_climb_diffusion_golden --regenerate
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "climb_diffusion_small.npz"
CHECKPOINT = "climb_diffusion_small"


def golden_sample() -> tuple[np.ndarray, dict]:
    """(features (2, 1, T, 147), the policy's config as a dict) for the fixed condition."""
    from benchmarks.perf_diffusion import clip_batch
    from policies.pretrained import load_pretrained

    torch.set_num_threads(1)
    policy = load_pretrained(CHECKPOINT)
    batch = clip_batch(policy, seed=0)
    two = {k: torch.cat([v, v]) for k, v in batch.items()}
    two["context_mask"][1, 2:] = False  # a shorter route prompt for the second condition
    return policy.sample(two, num_samples=1, seed=0).numpy(), vars(policy.config)


def test_shipped_checkpoint_reproduces_its_golden_output():
    got, _ = golden_sample()
    want = np.load(GOLDEN)["features"]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
    assert not np.allclose(got[0], got[1])  # the prompt matters


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        features, _ = golden_sample()
        np.savez_compressed(GOLDEN, features=features.astype(np.float32))
        print(f"wrote {GOLDEN} {features.shape}")
