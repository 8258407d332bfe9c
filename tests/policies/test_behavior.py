"""Behaviour models: the temporal U-Net's control branch, the path forecaster, its ablations,
agent frames, and the forecast benchmark on a hand-made track file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from policies.behavior import PathConfig, PathDiffusion
from policies.behavior.path import agent_frames, to_agent, to_world
from policies.behavior.unet import TemporalUNet


def test_control_branch_is_a_no_op_at_init_and_not_after_training():
    torch.manual_seed(0)
    net = TemporalUNet(2, 8, channels=(16, 32), step_dim=16, control_dim=3)
    x, t, c = torch.randn(4, 12, 2), torch.randint(0, 50, (4,)), torch.randn(4, 8)
    ctrl = torch.randn(4, 12, 3)
    torch.testing.assert_close(net(x, t, c), net(x, t, c, control=ctrl))
    opt = torch.optim.Adam(net.control.parameters(), lr=1e-2)
    for _ in range(5):
        loss = (net(x, t, c, control=ctrl) - 1.0).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (net(x, t, c) - net(x, t, c, control=ctrl)).abs().max() > 1e-4
    with pytest.raises(ValueError, match="control branch"):
        TemporalUNet(2, 8, channels=(16, 32), step_dim=16)(x, t, c, control=ctrl)


def test_agent_frame_puts_the_last_step_along_x_and_round_trips():
    obs = np.cumsum(np.tile([[0.0, 0.4]], (8, 1)), axis=0)[None] + [3.0, -1.0]  # walking +y
    origin, rot = agent_frames(obs)
    local = to_agent(obs, origin, rot)
    np.testing.assert_allclose(local[0, -1], 0.0, atol=1e-12)
    np.testing.assert_allclose(local[0, -2], [-0.4, 0.0], atol=1e-12)
    np.testing.assert_allclose(to_world(local, origin, rot), obs, atol=1e-12)
    still = np.zeros((1, 8, 2))
    assert np.allclose(agent_frames(still)[1], np.eye(2))


def _batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    speed = rng.uniform(0.3, 0.6, n)
    past = np.stack(
        [np.column_stack([speed[i] * (np.arange(8) - 7), np.zeros(8)]) for i in range(n)]
    )
    fut = np.stack(
        [
            np.column_stack([speed[i] * np.arange(1, 13), 0.1 * np.arange(1, 13) ** 1.2])
            for i in range(n)
        ]
    )
    nbr = np.full((n, 8, 8, 2), np.nan)
    nbr[:, 0] = past + np.array([0.0, 1.5])
    return (torch.as_tensor(a, dtype=torch.float32) for a in (past, fut, nbr))


def test_path_model_overfits_a_batch():
    torch.manual_seed(0)
    past, fut, nbr = _batch()
    model = PathDiffusion(PathConfig(size="tiny", cond_drop=0.0, sample_steps=50))
    model.norm.fit(fut.reshape(len(fut), -1))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(400):
        loss = model.loss(past, fut, nbr, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    samples = model.sample_agent(past, nbr, k=4).numpy()  # (B, K, H, 2)
    err = np.linalg.norm(samples - fut.numpy()[:, None], axis=-1).mean(-1).min(-1)
    spread = np.linalg.norm(fut.numpy() - fut.numpy().mean(0), axis=-1).mean()
    assert err.mean() < 0.35 * spread, (err.mean(), spread)


@pytest.mark.parametrize("flag", ["use_past", "use_neighbours"])
def test_ablation_flags_remove_their_inputs(flag):
    torch.manual_seed(0)
    past, _, nbr = _batch()
    model = PathDiffusion(PathConfig(size="tiny", **{flag: False}))
    base = model.condition(past, nbr)
    noisy_past = past + torch.randn_like(past) if flag == "use_past" else past
    noisy_nbr = nbr + torch.randn_like(nbr) if flag == "use_neighbours" else nbr
    torch.testing.assert_close(model.condition(noisy_past, noisy_nbr), base)
    # and the input that is on does change the condition
    other = model.condition(past + 1.0, nbr + 1.0)
    assert (other - base).abs().max() > 1e-6


def test_forecast_benchmark_on_hand_made_straight_walkers(tmp_path):
    from benchmarks.forecast import run_forecast
    from policies.pretrained import save_pretrained

    lines = []
    for ped in (1, 2):
        for k in range(25):
            lines.append(f"{10 * k}\t{ped}\t{0.4 * k:.3f}\t{2.0 * ped:.3f}")
    (tmp_path / "tracks").mkdir()
    (tmp_path / "tracks" / "straight.txt").write_text("\n".join(lines) + "\n")
    model = PathDiffusion(PathConfig(size="tiny", sample_steps=5))
    model.norm.fit(torch.randn(16, 24))
    save_pretrained(model, tmp_path / "ckpt", card="untrained, for the protocol test")
    r = run_forecast(tmp_path / "tracks", str(tmp_path / "ckpt"), tmp_path / "out", k=3)
    row = r["files"][0]
    assert row["windows"] == 2 * (25 - 20 + 1) and row["k"] == 3
    assert row["cv_ade"] == pytest.approx(0.0, abs=1e-9) and row["cv_fde"] == pytest.approx(
        0.0, abs=1e-9
    )
    assert row["ade"] <= row["fde"] + 1e-9 or row["ade"] > 0
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert (
        saved["files"][0]["windows"] == 12
        and "Social-GAN (Gupta et al. 2018)" in saved["published"]
    )


def test_shipped_path_model_forecasts_with_the_default_checkpoint(tmp_path):
    from benchmarks.forecast import DEFAULT_MODEL, run_forecast
    from policies.pretrained import shipped_checkpoints

    assert DEFAULT_MODEL in shipped_checkpoints()
    rows = [f"{10 * k}\t1\t{0.5 * k:.3f}\t1.000" for k in range(21)]
    rows += [f"{10 * k}\t2\t{10 - 0.4 * k:.3f}\t3.000" for k in range(21)]
    (tmp_path / "two.txt").write_text("\n".join(rows) + "\n")
    r = run_forecast(tmp_path / "two.txt", k=20)
    row = r["files"][0]
    assert row["windows"] == 4 and row["scene"] == "two"
    # straight walkers: a trained forecaster's best of 20 is within a metre at the end
    assert row["fde"] < 1.0 and np.isfinite(row["ade"])
