"""The room behaviour dataset: fields, determinism, resume, windows, videos, bad config."""

from __future__ import annotations

import numpy as np
import pytest

from policies.data.room import (
    FUTURE_FRAMES,
    PAST_FRAMES,
    RoomDataConfig,
    RoomWindows,
    generate_room_data,
)
from policies.data.store import DatasetConfigError, load_manifest

SHORT = dict(split="rooms_val", episodes=2, shard_size=1, episode_seconds=8.0)


def test_generate_store_resume_and_cut_windows(tmp_path):
    cfg = RoomDataConfig(**SHORT)
    r = generate_room_data(cfg, tmp_path / "a", progress=False)
    assert r["episodes"] == 2 and r["episode_minutes_per_minute"] > 0
    man = load_manifest(tmp_path / "a")
    assert man.episodes == 2 and man.frames == 80 and man.config["env"] == "room"
    # Determinism: the same config gives the same bytes.
    generate_room_data(cfg, tmp_path / "b", progress=False)
    a = sorted((tmp_path / "a").glob("shard-*"))
    b = sorted((tmp_path / "b").glob("shard-*"))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    # Resume: a lost shard is regenerated, the other kept; a changed config is refused.
    a[1].unlink()
    again = generate_room_data(cfg, tmp_path / "a", progress=False)
    assert again["episodes"] == 1 and a[1].read_bytes() == b[1].read_bytes()
    with pytest.raises(DatasetConfigError, match="episode_seconds"):
        generate_room_data(
            RoomDataConfig(**{**SHORT, "episode_seconds": 9.0}), tmp_path / "a", progress=False
        )

    windows = RoomWindows(tmp_path / "a", stride=4)
    assert len(windows) == 2 * len(range(0, 80 - 64 + 1, 4))
    w = windows[0]
    assert w["root_xy"].shape == (PAST_FRAMES + FUTURE_FRAMES, 2)
    assert w["rot6d"].shape == (64, 24, 6) and w["occupancy_cm"].shape == (64, 64)
    assert w["goal"][3] >= 0  # a real goal, not padding
    ep = windows._readers[windows.index[0][0].name].read(0)
    # the agent walks: the root moves at a walking pace, feet take turns
    speed = np.linalg.norm(np.diff(ep["root_xy"], axis=0), axis=1) * 10.0
    assert 0.3 < speed.max() < 2.0
    assert ep["contacts"].any(axis=1).all() and not ep["contacts"].all()
    # the observer moves or stands by its behaviour, and is never inside the agent
    gap = np.linalg.norm(ep["observer"][:, :2] - ep["root_xy"], axis=1)
    assert gap.min() > 0.5


def test_videos_are_stored_when_asked(tmp_path):
    cfg = RoomDataConfig(**{**SHORT, "episodes": 1, "videos": True, "width": 16, "height": 16})
    generate_room_data(cfg, tmp_path, progress=False)
    man = load_manifest(tmp_path)
    assert man.fields["ego_rgb"].shape == (80, 16, 16, 3)
    from policies.data.store import ShardReader

    data = ShardReader(tmp_path, man.shards[0], man.fields).read(0, ["ego_rgb", "observer_rgb"])
    assert data["ego_rgb"].std() > 1 and data["observer_rgb"].std() > 1


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"split": "train"}, "room split"),
        ({"episodes": 0}, "episodes"),
        ({"episode_seconds": 3.0}, "fewer than 64"),
        ({"fps": 7.0, "episode_seconds": 20.0}, "divisor"),
    ],
)
def test_bad_config_is_named(bad, match):
    with pytest.raises(ValueError, match=match):
        RoomDataConfig(**{**SHORT, **bad})


def test_observer_in_way_stands_on_the_agents_shortest_path(tmp_path):
    from policies.data.room import IN_WAY_M
    from policies.data.store import ShardReader

    cfg = RoomDataConfig(**{**SHORT, "split": "rooms_train", "episodes": 4, "observer_in_way": 1.0})
    generate_room_data(cfg, tmp_path / "w", progress=False)
    man = load_manifest(tmp_path / "w")
    placed = 0
    for rec in man.shards:
        ep = ShardReader(tmp_path / "w", rec, man.fields).read(0)
        ob = ep["observer"][:, :2]
        if str(ep["observer_mode"]) != "stand" or np.ptp(ob, axis=0).max() > 1e-6:
            continue  # a way too short to stand on keeps the observer the env drew
        placed += 1
        gap = np.linalg.norm(ob[0] - ep["root_xy"][0])
        assert 1.0 < gap <= IN_WAY_M + 0.05  # on the way, 1.8 m along it
        # the scripted agent steps around it rather than through it
        assert np.linalg.norm(ep["root_xy"] - ob, axis=1).min() > 0.5
    assert placed >= 1
    with pytest.raises(ValueError, match="observer_in_way"):
        RoomDataConfig(**{**SHORT, "observer_in_way": 1.5})
