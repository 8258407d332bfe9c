"""Readers: ClimbShards, ClimbDataset (map-style), ClimbIterableDataset (streaming, sharded)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from policies.data import ClimbDataset, ClimbIterableDataset, ClimbShards, DatasetError, generate
from policies.data.cli import info
from tests.policies.test_data_standin import tiny_config


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "ds"
    generate(tiny_config(episodes=7, shard_size=2), out, workers=1, progress=False)  # 4 shards
    return out


def test_shards_index(data_dir) -> None:
    shards = ClimbShards(data_dir)
    assert len(shards) == 7 and [s.episodes for s in shards.shards] == [2, 2, 2, 1]
    assert shards.locate(0) == (0, 0) and shards.locate(5) == (2, 1) and shards.locate(6) == (3, 0)
    with pytest.raises(IndexError):
        shards.locate(7)
    assert shards.verify_all() == []


def test_map_dataset_items_and_windows(data_dir) -> None:
    ds = ClimbDataset(data_dir)
    assert len(ds) == 7
    item = ds[5]
    assert int(item["episode"]) == 5 and item["ego_rgb"].shape == (20, 16, 16, 3)
    assert item["ego_rgb"].dtype == torch.uint8 and isinstance(item["scene_name"], str)
    assert isinstance(item["route_hold_ids"], list) and item["context_count"].shape == ()
    assert int(ds[-1]["episode"]) == 6
    with pytest.raises(IndexError):
        ds[7]

    win = ClimbDataset(data_dir, fields=["features", "episode", "route_pos"], window=8, stride=4)
    assert len(win) == 7 * 4  # starts 0, 4, 8, 12
    w = win[4 * 5 + 2]
    assert set(w) == {"features", "episode", "route_pos", "window_start"}
    assert w["window_start"] == 8 and w["features"].shape == (8, 147)
    torch.testing.assert_close(w["features"], item["features"][8:16])
    assert w["route_pos"].shape == item["route_pos"].shape  # per-episode fields are not cut
    with pytest.raises(KeyError, match="nope"):
        ClimbDataset(data_dir, fields=["nope"])
    with pytest.raises(ValueError, match="window=21"):
        ClimbDataset(data_dir, window=21)


def test_map_dataset_keeps_few_shards_open(data_dir) -> None:
    ds = ClimbDataset(data_dir, fields=["episode"], max_open_shards=2)
    assert [int(ds[i]["episode"]) for i in range(7)] == list(range(7))
    assert len(ds._open) == 2
    loader = DataLoader(ds, batch_size=3, num_workers=0)
    batches = list(loader)
    assert torch.cat([b["episode"] for b in batches]).tolist() == list(range(7))


def test_corrupt_shard_raises_on_read_and_info_reports_it(data_dir, tmp_path) -> None:
    d = tmp_path / "ds"
    shutil.copytree(data_dir, d)
    raw = bytearray((d / "shard-00001.npz").read_bytes())
    raw[-50] ^= 0x01
    (d / "shard-00001.npz").write_bytes(bytes(raw))
    ds = ClimbDataset(d, fields=["episode"])
    assert int(ds[0]["episode"]) == 0  # other shards still read
    with pytest.raises(DatasetError) as err:
        ds[2]
    msg = str(err.value)
    sha = ClimbShards(d).shards[1].sha256
    assert "shard-00001.npz" in msg and sha in msg and "got" in msg
    out = io.StringIO()
    assert info(str(d), out=out) == 1
    assert "CORRUPT" in out.getvalue() and "3/4 shards OK" in out.getvalue()
    out = io.StringIO()
    assert info(str(data_dir), out=out) == 0 and "7/7 episodes" in out.getvalue()
    it = ClimbIterableDataset(d, fields=["episode"], shuffle_shards=False)
    with pytest.raises(DatasetError, match="sha256 mismatch"):
        list(it)


def _episodes(batches) -> list[int]:
    return sorted(int(e) for b in batches for e in b["episode"].reshape(-1))


def test_iterable_reads_every_episode_once_with_workers(data_dir) -> None:
    ds = ClimbIterableDataset(data_dir, fields=["episode", "features"], seed=3)
    assert _episodes(DataLoader(ds, batch_size=2)) == list(range(7))
    loader = DataLoader(ds, batch_size=None, num_workers=2)
    assert _episodes(loader) == list(range(7))


def test_iterable_splits_shards_across_ranks_and_workers(data_dir) -> None:
    seen = []
    per_consumer = []
    for rank in range(2):
        ds = ClimbIterableDataset(data_dir, fields=["episode"], seed=1, rank=rank, world_size=2)
        for wid in range(3):
            shards = ds.assigned_shards(wid, 3)
            per_consumer.append(shards)
            seen += shards
    assert sorted(seen) == [0, 1, 2, 3]  # 6 consumers, 4 shards: no duplicates, no omissions
    assert sum(1 for s in per_consumer if not s) == 2
    items = []
    for rank in range(3):
        ds = ClimbIterableDataset(data_dir, fields=["episode"], seed=1, rank=rank, world_size=3)
        items += [int(x["episode"]) for x in ds]
    assert sorted(items) == list(range(7))
    with pytest.raises(ValueError, match="rank=2, world_size=2"):
        ClimbIterableDataset(data_dir, rank=2, world_size=2)


def test_iterable_shuffle_is_seeded_per_epoch(data_dir) -> None:
    def order(seed, epoch):
        ds = ClimbIterableDataset(data_dir, fields=["episode"], seed=seed)
        ds.set_epoch(epoch)
        return [int(x["episode"]) for x in ds]

    assert order(0, 0) == order(0, 0)
    assert sorted(order(0, 0)) == list(range(7))
    assert len({tuple(order(0, e)) for e in range(4)}) > 1
    plain = ClimbIterableDataset(
        data_dir, fields=["episode"], shuffle_shards=False, shuffle_episodes=False
    )
    assert [int(x["episode"]) for x in plain] == list(range(7))
    windows = ClimbIterableDataset(data_dir, fields=["valid"], window=10, shuffle_shards=False)
    assert len(windows) == 14 and len(list(windows)) == 14
    assert np.all([x["valid"].shape == (10,) for x in windows])
