"""Frozen image encoders (navenv-cnn, DINOv2 from a local directory) and the token cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from navenv.cli import main
from policies.data import ClimbShards, GenerateConfig, generate
from policies.encoders import EncoderError, ImageEncoder, make_encoder
from policies.encoders.cache import (
    CacheError,
    CacheMismatchError,
    TokenCache,
    encode_dataset,
    shard_files,
)
from policies.encoders.cnn import CNNConfig, NavCNN, bytes_of_weights
from policies.encoders.frames import render_frames
from policies.pretrained import WEIGHTS_FILE, checkpoint_path
from tests.policies.test_data_standin import PLANNER

FRAMES = 5  # 1 s clips at 5 fps


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cnn() -> ImageEncoder:
    return make_encoder("navenv-cnn")


@pytest.fixture(scope="module")
def tiny_dinov2(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer DINOv2 (width 32, patch 8) saved like a real one."""
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    config = Dinov2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        patch_size=8,
        image_size=64,
    )
    out = tmp_path_factory.mktemp("dinov2") / "tiny"
    Dinov2Model(config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """4 episodes (2 climbs x 2 clips) in 2 shards, 16 x 16 pixels, by the fast stand-in planner."""
    out = tmp_path_factory.mktemp("data") / "ds"
    config = GenerateConfig(
        split="train",
        episodes=4,
        shard_size=2,
        fps=5,
        clip_seconds=1.0,
        width=16,
        height=16,
        clips_per_plan=2,
        max_context=4,
        planner=PLANNER,
    )
    generate(config, out, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def cached(dataset, cnn) -> Path:
    summary = encode_dataset(dataset, progress=False, batch=3)  # batches split shards
    assert summary.directory == dataset / "encoded" / "navenv-cnn"
    assert (summary.shards_encoded, summary.shards_skipped, summary.episodes) == (2, 0, 4)
    return summary.directory


def _frames(b: int, t: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (b, t, h, w, 3), np.uint8))


# ------------------------------------------------------------------ the encoders
def test_cnn_interface_and_shapes(cnn) -> None:
    assert isinstance(cnn, NavCNN) and cnn.name == "navenv-cnn" and cnn.dim == 64
    assert cnn.num_tokens(64, 64) == 64 and cnn.num_tokens(32, 48) == 24
    assert cnn(_frames(2, 3, 64, 64)).shape == (2, 3, 64, 64)  # (B, T, P, D)
    tokens = cnn(_frames(1, 2, 32, 48))
    assert tokens.shape == (1, 2, 24, 64) and tokens.dtype == torch.float32
    with pytest.raises(EncoderError, match="multiples of 8"):
        cnn(_frames(1, 1, 60, 64))
    with pytest.raises(EncoderError, match="uint8"):
        cnn(_frames(1, 1, 64, 64).float())
    with pytest.raises(EncoderError, match=r"\(B, T, H, W, 3\)"):
        cnn(_frames(1, 1, 64, 64)[0])
    # shipped, small, and the same frame gives the same tokens alone or in a batch
    assert (checkpoint_path("navenv_cnn") / WEIGHTS_FILE).stat().st_size < 1_000_000
    assert bytes_of_weights(cnn) < 500_000
    x = _frames(1, 4, 64, 64)
    torch.testing.assert_close(cnn(x)[:, 2:3], cnn(x[:, 2:3]), atol=1e-4, rtol=0)


def test_encoders_are_frozen(cnn, tiny_dinov2) -> None:
    for enc in (cnn, make_encoder("dinov2", path=tiny_dinov2)):
        before = {k: v.clone() for k, v in enc.state_dict().items()}
        parent = nn.ModuleDict({"enc": enc, "head": nn.Linear(2, 2)}).train()
        assert not enc.training and parent["head"].training  # .train() leaves it in eval
        assert not any(p.requires_grad for p in enc.parameters())
        out = enc(_frames(1, 2, 64, 64))
        assert not out.requires_grad and out.grad_fn is None
        loss = (parent["head"](out[..., :2])).sum()
        loss.backward()  # a trainer can backpropagate through what it computes from tokens
        assert all(p.grad is None for p in enc.parameters())
        after = enc.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before)


def test_shipped_cnn_tokens_know_depth_and_holds(cnn) -> None:
    """Linear probes on held-out (val split) frames: tokens predict each cell's mean log depth
    and hold coverage far better than the mean, and than the position embedding alone."""
    frames = render_frames("val", 48, max_scenes=2, seed=7, progress=False)
    tokens = cnn(torch.from_numpy(frames.rgb)[None])[0].numpy().reshape(-1, 64)  # (N * 64, D)

    def cells(a: np.ndarray) -> np.ndarray:  # (N, 64, 64) -> (N * 64,) mean per 8 x 8 cell
        return a.reshape(len(a), 8, 8, 8, 8).mean((2, 4)).reshape(-1)

    depth = cells(np.log(np.clip(frames.depth, 0.05, 30.0)))
    hold = cells(frames.hold.astype(np.float64))
    pos = cnn.position_embedding(8, 8).numpy()
    pos = np.tile(pos, (len(frames.rgb), 1))
    fit = np.arange(len(depth)) < 24 * 64  # first 24 frames fit, last 24 score

    def r2(x: np.ndarray, y: np.ndarray) -> float:
        x = np.concatenate([x, np.ones((len(x), 1))], axis=1).astype(np.float64)
        a = x[fit]
        w = np.linalg.solve(a.T @ a + 1e-2 * np.eye(a.shape[1]), a.T @ y[fit])
        res = y[~fit] - x[~fit] @ w
        return 1.0 - (res**2).mean() / ((y[~fit] - y[fit].mean()) ** 2).mean()

    r2_depth, r2_hold = r2(tokens, depth), r2(tokens, hold)
    assert r2_depth > 0.8 and r2_depth > r2(pos, depth) + 0.2, (r2_depth, r2(pos, depth))
    assert r2_hold > 0.3 and r2_hold > r2(pos, hold) + 0.2, (r2_hold, r2(pos, hold))


def test_dinov2_tokens_match_transformers(tiny_dinov2) -> None:
    from transformers import Dinov2Model

    enc = make_encoder("dinov2", path=tiny_dinov2)
    assert enc.name == "dinov2" and enc.dim == 32 and enc.patch == 8
    assert enc.num_tokens(64, 64) == 64 and enc.num_tokens(60, 68) == 8 * 9  # nearest multiple
    frames = _frames(2, 3, 64, 64)
    tokens = enc(frames)
    assert tokens.shape == (2, 3, 64, 32)
    ref = Dinov2Model.from_pretrained(tiny_dinov2, local_files_only=True).eval()
    x = frames.reshape(6, 64, 64, 3).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        want = ref(pixel_values=(x - mean) / std).last_hidden_state[:, 1:]  # CLS dropped
    torch.testing.assert_close(tokens.reshape(6, 64, 32), want)
    assert enc(_frames(1, 2, 60, 68)).shape == (1, 2, 72, 32)  # resized to 64 x 72
    sized = make_encoder("dinov2", path=tiny_dinov2, size=(32, 48))
    assert sized(_frames(1, 1, 64, 64)).shape == (1, 1, 24, 32)
    with pytest.raises(EncoderError, match="multiples of the patch size 8"):
        make_encoder("dinov2", path=tiny_dinov2, size=(30, 48))


def test_dinov2_directory_errors(tmp_path, tiny_dinov2) -> None:
    with pytest.raises(EncoderError, match="needs path="):
        make_encoder("dinov2")
    with pytest.raises(EncoderError) as e:
        make_encoder("dinov2", path=tmp_path / "nowhere")
    msg = str(e.value)
    assert "no such directory" in msg and "nothing is downloaded" in msg
    assert "config.json" in msg and "model.safetensors" in msg
    (tmp_path / "empty").mkdir()
    with pytest.raises(EncoderError, match="config.json is missing"):
        make_encoder("dinov2", path=tmp_path / "empty")
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "vit"}')
    with pytest.raises(EncoderError, match="model_type 'vit'"):
        make_encoder("dinov2", path=other)
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_dinov2, pickled)
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    with pytest.raises(EncoderError, match="pytorch_model.bin is a pickle"):
        make_encoder("dinov2", path=pickled)
    with pytest.raises(EncoderError, match="known encoders: navenv-cnn, dinov2"):
        make_encoder("clip")


# ------------------------------------------------------------------ the token cache
def test_cache_dedupes_and_matches_the_encoder(dataset, cached, cnn) -> None:
    meta = json.loads((cached / "meta.json").read_text())
    assert meta["tokens"] == {"P": 4, "D": 64, "dtype": "float16"}
    assert meta["encoder"]["weights_sha256"] == cnn.weights_sha256()
    assert [r["index"] for r in meta["done"]] == [0, 1]
    cache = TokenCache(cached)
    shards = ClimbShards(dataset)
    assert len(cache) == len(shards) == 4 and cache.frames == list(range(FRAMES))
    blank = cnn(torch.zeros((1, 1, 16, 16, 3), dtype=torch.uint8))[0, 0].numpy()
    for i in range(4):
        pos, local = shards.locate(i)
        reader = shards.open(pos)
        ep = reader.read(local, ["tripod_rgb", "context", "context_count"])
        reader.close()
        tripod_rows = np.load(cached / shard_files(pos, False)["tripod"])[local]
        assert len(np.unique(tripod_rows)) == 1  # the static tripod video: one frame stored
        got = cache.episode(i)
        assert got["tripod"].shape == (FRAMES, 4, 64) and got["tripod"].dtype == np.float16
        n = int(ep["context_count"])
        assert got["context_count"] == n >= 1 and got["context"].shape == (4, 4, 64)
        want = cnn(torch.from_numpy(ep["tripod_rgb"])[None])[0].numpy()
        np.testing.assert_allclose(got["tripod"], want, rtol=0, atol=4e-3)
        want = cnn(torch.from_numpy(ep["context"][:n])[None])[0].numpy()
        np.testing.assert_allclose(got["context"][:n], want, rtol=0, atol=4e-3)
        np.testing.assert_allclose(
            got["context"][n:], np.broadcast_to(blank, (4 - n, 4, 64)), atol=4e-3
        )
    tokens, index = cache.distinct(0)
    assert tokens.shape == (1, 4, 64) and index.tolist() == [0] * FRAMES
    unique = sum(r["unique_frames"] for r in meta["done"])
    assert unique < sum(r["frame_slots"] for r in meta["done"])


def test_cache_resumes_after_losing_a_shard(dataset, tmp_path) -> None:
    out = tmp_path / "cache"
    encode_dataset(dataset, out, progress=False)
    before = {p.name: p.read_bytes() for p in out.glob("shard-*.npy")}
    for name in shard_files(1, ego=False).values():
        (out / name).unlink()
    (out / ".shard-00000.tokens.npy.tmp").write_bytes(b"left by a killed run")
    summary = encode_dataset(dataset, out, progress=False)
    assert (summary.shards_encoded, summary.shards_skipped) == (1, 1)
    assert {p.name: p.read_bytes() for p in out.glob("shard-*.npy")} == before
    assert not list(out.glob(".*.tmp"))
    again = encode_dataset(dataset, out, progress=False)
    assert (again.shards_encoded, again.shards_skipped) == (0, 2)
    # a reader refuses a cache that is not complete
    meta = json.loads((out / "meta.json").read_text())
    meta["done"] = meta["done"][:1]
    (out / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CacheError, match="incomplete: 1 of 2 dataset shards"):
        TokenCache(out)


def test_cache_mismatch_raises_or_overwrites(dataset, tmp_path) -> None:
    out = tmp_path / "cache"
    encode_dataset(dataset, out, progress=False)
    torch.manual_seed(1)
    other = NavCNN(CNNConfig())  # same architecture, other weights
    with pytest.raises(CacheMismatchError, match="encoder.weights_sha256"):
        encode_dataset(dataset, out, encoder=other, progress=False)
    with pytest.raises(CacheMismatchError, match="settings.ego"):
        encode_dataset(dataset, out, ego=True, progress=False)
    summary = encode_dataset(dataset, out, encoder=other, overwrite=True, progress=False)
    assert summary.shards_encoded == 2
    assert json.loads((out / "meta.json").read_text())["encoder"]["weights_sha256"] == (
        other.weights_sha256()
    )
    meta = json.loads((out / "meta.json").read_text())
    meta["done"][0]["dataset_sha256"] = "0" * 64  # as if the dataset shard had been regenerated
    (out / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CacheMismatchError, match="shard-00000.npz changed"):
        encode_dataset(dataset, out, encoder=other, progress=False)


def test_cli_encode(dataset, tiny_dinov2, tmp_path, capsys) -> None:
    out = tmp_path / "cli"
    assert (
        main(["data", "encode", str(dataset), "--out", str(out), "--ego", "--fps-stride", "2"]) == 0
    )
    assert "encoded 2 shard(s) (4 episodes" in capsys.readouterr().out
    ep = TokenCache(out).episode(3)
    assert ep["tripod"].shape == (3, 4, 64) and ep["ego"].shape == (3, 4, 64)  # frames 0, 2, 4
    out = tmp_path / "dino"
    argv = ["data", "encode", str(dataset), "--out", str(out), "--encoder", "dinov2"]
    assert main([*argv, "--encoder-path", str(tiny_dinov2)]) == 0
    assert TokenCache(out).episode(0)["tripod"].shape == (FRAMES, 4, 32)  # 16 x 16 at patch 8
    capsys.readouterr()
    assert main(argv) == 2  # no --encoder-path: one clear line
    assert "needs path=" in capsys.readouterr().err


# ------------------------------------------------------------------ pretraining
def test_normals_from_depth_of_planes() -> None:
    from policies.encoders.frames import normals_from_depth

    n = normals_from_depth(np.full((8, 8), 2.0, np.float32), focal_px=8.0)
    np.testing.assert_allclose(
        n[1:-1, 1:-1], np.broadcast_to([0.0, 0.0, 1.0], (6, 6, 3)), atol=1e-9
    )
    assert not n[0].any() and not n[:, -1].any()  # borders have no central difference
    sky = np.full((8, 8), 30.0, np.float32)
    assert not normals_from_depth(sky, focal_px=8.0).any()


def test_pretrain_is_seeded_and_writes_a_loadable_checkpoint(tmp_path, capsys) -> None:
    from policies.encoders.pretrain import main as pretrain_main

    argv = [
        "--frames",
        "16",
        "--val-frames",
        "8",
        "--epochs",
        "1",
        "--batch",
        "8",
        "--max-scenes",
        "1",
    ]
    for name in ("a", "b"):
        assert pretrain_main(["--out", str(tmp_path / name), *argv]) == 0
    printed = capsys.readouterr().out
    assert "validation vs trivial baselines" in printed and "hold mask IoU" in printed
    a, b = (tmp_path / n / WEIGHTS_FILE for n in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()  # same seed, same weights
    card = (tmp_path / "a" / "README.md").read_text()
    assert "python -m policies.encoders.pretrain --out" in card and "trivial baseline" in card
    enc = make_encoder("navenv-cnn", path=tmp_path / "a")
    assert enc(_frames(1, 1, 16, 16)).shape == (1, 1, 4, 64)
