"""ClimbDiffusion training on a real (tiny) dataset: windows, exact resume, DDP on two gloo
ranks, the CLI and the validation figure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from policies.climb_diffusion.config import ClimbDiffusionConfig
from policies.climb_diffusion.data import load_windows
from policies.climb_diffusion.train import draw_windows, train
from policies.data.generate import generate
from tests.policies.test_data_standin import tiny_config

REPO = Path(__file__).resolve().parents[2]


def tiny_train(**kw) -> ClimbDiffusionConfig:
    base = dict(frames=8, fps=10.0, max_context=4, max_known=3, steps=6, batch_size=4)
    return ClimbDiffusionConfig.preset("tiny", **{**base, "warmup_steps": 2, **kw})


def cli_train(dataset, out, *extra: str, sets=(), batch_size: int = 4) -> list[str]:
    """`navenv train climb-diffusion` arguments of a tiny run on `dataset` into `out`."""
    fixed = ["frames=8", "fps=10", "max_context=4", "max_known=3", f"batch_size={batch_size}"]
    return [
        "train",
        "climb-diffusion",
        "--data",
        str(dataset),
        "--config",
        "tiny",
        "--out",
        str(out),
        *extra,
        "--set",
        *fixed,
        *sets,
    ]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Four 2 s clips of the stand-in climber at 10 fps, 16 x 16 pixels."""
    out = tmp_path_factory.mktemp("climb_data")
    generate(tiny_config(episodes=4, shard_size=2), out, workers=1, progress=False)
    return out


def test_windows_carry_the_route_prompt_and_tokens(dataset):
    cfg = tiny_train()
    w = load_windows(dataset, cfg, window_stride=4, progress=False)
    assert len(w) > 0
    assert w.motion.shape[1:] == (8, 147)
    # the tripod video of a static wall is one distinct frame per window
    assert all(len(torch.unique(row)) == 1 for row in w.video_sets)
    count = (w.context_sets >= 0).sum(dim=1)
    assert (count >= 1).all()  # every window holds a hold at its start
    # the anchor is the mean of the start holds, which lead the prompt
    first = w.context_pos[:, 0]
    assert torch.linalg.norm(first - w.anchor, dim=-1).max() < 2.0
    batch = w.batch(np.arange(len(w)), np.full(len(w), 2))
    assert batch["video"].shape[-2:] == (4, 64)  # 16 x 16 frames: 2 x 2 tokens of 64
    assert batch["known_mask"][:, :2].all() and not batch["known_mask"][:, 2:].any()


def test_resume_repeats_an_uninterrupted_run(dataset, tmp_path):
    cfg = tiny_train()
    whole = train(cfg, dataset, tmp_path / "a", val_dir=dataset, eval_every=3, progress=False)
    part = train(
        cfg, dataset, tmp_path / "b", val_dir=dataset, eval_every=3, progress=False, stop_after=4
    )
    assert part.steps == 4
    with pytest.raises(FileExistsError, match="--resume"):
        train(cfg, dataset, tmp_path / "b", progress=False)
    rest = train(
        cfg, dataset, tmp_path / "b", val_dir=dataset, eval_every=3, progress=False, resume=True
    )
    assert rest.steps == 6
    assert rest.weights_sha256 == whole.weights_sha256
    assert [h["step"] for h in rest.history] == [3, 4, 6]  # the killed run's last eval kept
    assert (tmp_path / "b" / "model" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "b" / "config.json").read_text())["steps"] == 6


def test_validation_figure_is_finite_and_model_is_selected_on_it(dataset, tmp_path):
    result = train(
        tiny_train(steps=4), dataset, tmp_path / "r", val_dir=dataset, eval_every=2, progress=False
    )
    vals = [h["val_mpjpe_mm"] for h in result.history]
    assert all(np.isfinite(v) and v > 0 for v in vals)
    assert result.best_val_mpjpe_mm == min(vals)
    assert result.best_step == result.history[int(np.argmin(vals))]["step"]


def test_validation_scores_each_sample_against_its_own_window(dataset, tmp_path):
    """validate()'s MPJPE is the mean over the windows it samples of that window's error."""
    from policies.climb_diffusion.diffusion import ClimbDiffusionModel
    from policies.climb_diffusion.kinematics import feature_joints, global_mpjpe_mm
    from policies.climb_diffusion.train import validate

    cfg = tiny_train()
    w = load_windows(dataset, cfg, window_stride=1, progress=False)
    torch.manual_seed(0)
    policy = ClimbDiffusionModel(cfg)
    policy.fit_normaliser(w.motion, w.anchor)
    with torch.no_grad():
        for p in policy.model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    idx = np.unique(np.linspace(0, len(w) - 1, 5).astype(np.int64))
    got = validate(policy, w, max_windows=5, seed=3)["val_mpjpe_mm"]
    feats = policy.sample(w.batch(idx), seed=3)[:, 0].numpy()
    want = np.mean(
        [
            global_mpjpe_mm(
                feature_joints(feats[j], w.betas[i].numpy()),
                feature_joints(w.motion[i].numpy(), w.betas[i].numpy()),
            )
            for j, i in enumerate(idx)
        ]
    )
    assert got == pytest.approx(want)


def test_ddp_two_gloo_ranks_hold_equal_weights(dataset, tmp_path):
    """torchrun --nproc_per_node=2 on CPU: both ranks end with the same weights."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--standalone",
        str(REPO / "tests" / "policies" / "ddp_train_worker.py"),
        str(dataset),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shas = [json.loads((tmp_path / f"rank{r}.json").read_text())["sha"] for r in (0, 1)]
    assert shas[0] == shas[1]
    single = train(
        tiny_train(steps=3, warmup_steps=1), dataset, tmp_path / "single", progress=False
    )
    assert single.weights_sha256 != shas[0]  # two ranks saw twice the data: a different run


def test_cli_trains_and_refuses_bad_overrides(dataset, tmp_path):
    from navenv.cli import main
    from policies.pretrained import load_pretrained

    def command(out: str, *overrides: str) -> list[str]:
        return cli_train(dataset, tmp_path / out, sets=overrides, batch_size=2)

    assert main(command("cli", "steps=2", "warmup_steps=1")) == 0
    assert load_pretrained(tmp_path / "cli" / "model").config.steps == 2
    assert main(command("cli2", "depth=3")) == 2  # one clear line, no traceback


def test_retrieval_sampler_returns_the_nearest_training_window(dataset, tmp_path):
    """Retrieval in the policy's interface: a training window's prompt retrieves a window of
    the same prompt geometry, moved to its anchor, with the known prefix kept; no dataset is a
    clear error."""
    from policies.climb_diffusion.baselines import prompt_descriptor
    from policies.climb_diffusion.diffusion import ClimbDiffusionModel
    from policies.climb_diffusion.retrieval import RetrievalSampler

    cfg = tiny_train()
    sampler = RetrievalSampler(ClimbDiffusionModel(cfg), data=dataset)
    w = load_windows(dataset, cfg, progress=False)
    idx = np.arange(len(w))
    batch = w.batch(idx, known_frames=np.full(len(w), 2))
    out = sampler.sample(batch, num_samples=1, seed=[0] * len(w), steps=3)[:, 0]
    torch.testing.assert_close(out[:, :2], batch["motion"][:, :2])
    keys = prompt_descriptor(w.context_pos, w.context_sets >= 0, w.anchor)
    for i in idx:  # some training window with the same prompt geometry, moved to i's anchor
        same = np.flatnonzero((torch.linalg.norm(keys - keys[i], dim=1) < 1e-5).numpy())
        moved = w.motion[same].clone()
        moved[..., :3] += (w.anchor[i] - w.anchor[same])[:, None]
        err = (moved[:, 2:] - out[i, 2:]).abs().amax(dim=(1, 2))
        assert float(err.min()) < 1e-5
    with pytest.raises(FileNotFoundError, match="NAVENV_RETRIEVAL_DATA"):
        RetrievalSampler(ClimbDiffusionModel(cfg), data=tmp_path)


def test_init_starts_from_a_checkpoint_and_refuses_another_architecture(dataset, tmp_path):
    """--init: the run starts from the checkpoint's weights and normaliser (under a fresh
    schedule), unlike a fresh start; a checkpoint of another width is refused."""
    from navenv.cli import main
    from policies.pretrained import load_pretrained

    def command(out: str, *extra: str, sets: tuple[str, ...] = ()) -> list[str]:
        return cli_train(dataset, tmp_path / out, *extra, sets=sets)

    assert main(command("base", sets=("steps=40", "warmup_steps=2", "lr=3e-3"))) == 0
    base = load_pretrained(tmp_path / "base" / "model")
    init = ["--init", str(tmp_path / "base" / "model")]
    assert main(command("warm", *init, sets=("steps=1", "lr=1e-9", "warmup_steps=0"))) == 0
    warm = load_pretrained(tmp_path / "warm" / "model")
    train(tiny_train(steps=1, lr=1e-9, warmup_steps=0), dataset, tmp_path / "cold", progress=False)
    cold = load_pretrained(tmp_path / "cold" / "model").state_dict()
    # a vanishing learning rate: the warm run's weights are the checkpoint's, the cold's are not
    for name, value in base.state_dict().items():
        assert torch.allclose(warm.state_dict()[name], value, atol=1e-6), name
    assert not torch.allclose(
        cold["model.motion_in.weight"], base.state_dict()["model.motion_in.weight"]
    )
    assert main(command("wide", *init, sets=("steps=1", "width=48"))) == 2  # architecture differs


def test_match_windows_and_weighted_draws():
    from dataclasses import replace

    from policies.climb_diffusion.data import match_windows

    c = np.full((3, 4, 4), -1)
    c[0, :, 0], c[0, :, 1] = 5, 6  # two hands, two holds: no match
    c[1, 2, :2] = 7  # both hands on hold 7 in one frame
    c[2, :, 0] = 3  # one hand only
    assert match_windows(c).tolist() == [False, True, False]
    with pytest.raises(ValueError, match="match_weight"):
        replace(tiny_train(), match_weight=0.0)
    # draws: uniform weights repeat the plain draw exactly; a weight of 50 on one window of 100
    # draws it about 50 / 149 of the time
    mine = np.arange(100)
    ones = np.ones(100)
    a = draw_windows(np.random.default_rng(0), mine, 64, ones)
    b = np.random.default_rng(0).choice(mine, size=64, replace=False)
    np.testing.assert_array_equal(a, b)
    heavy = np.where(mine == 99, 50.0, 1.0)
    share = (draw_windows(np.random.default_rng(0), mine, 4000, heavy) == 99).mean()
    assert abs(share - 50 / 149) < 0.03
