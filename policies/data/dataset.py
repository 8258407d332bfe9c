"""Reading a sharded climbing dataset: index, map-style and streaming PyTorch datasets.

Memory never depends on the dataset's size: readers open shards lazily (a small LRU of open zip
handles for the map-style dataset, one shard at a time for the streaming one) and decompress only
the members of the episode being read. Each shard's sha256 is checked against the manifest when
this process first opens it; a mismatch raises `DatasetError` naming the shard and both digests.

Items are dicts: numeric fields as torch tensors (per-frame fields cut to the window, if any) and
string fields as Python str, plus "window_start" (int) when windows are used; the default collate
function batches them.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from policies.data.store import (
    DatasetError,
    FieldSpec,
    Manifest,
    ShardReader,
    ShardRecord,
    check_shard,
    load_manifest,
)


class ClimbShards:
    """The index of a dataset directory: manifest, shards, fields, and shard readers."""

    def __init__(self, directory: str | os.PathLike, verify: bool = True) -> None:
        """Read the manifest of `directory`; `verify`: check each shard's sha256 on first open."""
        self.directory = Path(directory)
        self.manifest: Manifest = load_manifest(self.directory)
        self.verify = verify
        self._verified: set[int] = set()
        self.shards: list[ShardRecord] = list(self.manifest.shards)
        self._starts = np.cumsum([0] + [s.episodes for s in self.shards])

    @property
    def fields(self) -> dict[str, FieldSpec]:
        """Stored fields and their specs."""
        return self.manifest.fields

    @property
    def num_episodes(self) -> int:
        """Episodes in complete shards."""
        return int(self._starts[-1])

    def __len__(self) -> int:
        return self.num_episodes

    def locate(self, episode: int) -> tuple[int, int]:
        """(position in `shards`, episode within the shard) of the i-th stored episode."""
        if not 0 <= episode < self.num_episodes:
            raise IndexError(f"episode {episode} out of range [0, {self.num_episodes})")
        k = int(np.searchsorted(self._starts, episode, side="right")) - 1
        return k, episode - int(self._starts[k])

    def open(self, position: int) -> ShardReader:
        """A reader of shards[position] (its checksum verified once per instance and process)."""
        rec = self.shards[position]
        verify = self.verify and position not in self._verified
        reader = ShardReader(self.directory, rec, self.fields, verify=verify)
        self._verified.add(position)
        return reader

    def verify_all(self) -> list[str]:
        """Check every shard's size and sha256 up front; returns the problems (empty: all good)."""
        problems = [p for rec in self.shards if (p := check_shard(self.directory, rec))]
        if not problems:
            self._verified.update(range(len(self.shards)))
        return problems

    def check_fields(self, fields: list[str] | None) -> list[str]:
        """`fields` validated against the stored ones (None: all)."""
        if fields is None:
            return list(self.fields)
        unknown = [f for f in fields if f not in self.fields]
        if unknown:
            raise KeyError(f"fields {unknown} not in the dataset; stored: {sorted(self.fields)}")
        return list(fields)

    def columns(self, fields: list[str]) -> dict[str, np.ndarray]:
        """Each of `fields` over every stored episode, stacked (E, *shape): for small fields."""
        fields = self.check_fields(fields)
        rows: dict[str, list[np.ndarray]] = {f: [] for f in fields}
        for pos, rec in enumerate(self.shards):
            reader = self.open(pos)
            try:
                for i in range(rec.episodes):
                    for f, arr in reader.read(i, fields).items():
                        rows[f].append(arr)
            finally:
                reader.close()
        return {
            f: np.stack(v) if v else np.empty((0, *self.fields[f].shape), self.fields[f].dtype)
            for f, v in rows.items()
        }

    def __getstate__(self) -> dict[str, Any]:
        # DataLoader workers re-verify in their own process: a shard may change between forks.
        return {**self.__dict__, "_verified": set()}


def _windows(frames: int, window: int | None, stride: int | None) -> list[int]:
    """Window start frames of one episode (one window, start 0, without a window)."""
    if window is None:
        return [0]
    if not 1 <= window <= frames:
        raise ValueError(f"window={window}: expected 1 <= window <= {frames} (frames per episode)")
    stride = stride or window
    if stride < 1:
        raise ValueError(f"stride={stride}: expected >= 1")
    return list(range(0, frames - window + 1, stride))


def _to_item(
    arrays: dict[str, np.ndarray], fields: dict[str, FieldSpec], start: int, window: int | None
) -> dict[str, Any]:
    """Arrays -> tensors (str for strings), per-frame fields cut to [start, start + window)."""
    item: dict[str, Any] = {}
    for name, arr in arrays.items():
        if window is not None and fields[name].per_frame:
            arr = arr[start : start + window]
        if arr.dtype.kind == "U":
            item[name] = str(arr) if arr.ndim == 0 else arr.tolist()
        else:
            item[name] = torch.from_numpy(arr if arr.flags.c_contiguous else arr.copy())
    if window is not None:
        item["window_start"] = start
    return item


class ClimbDataset(Dataset):
    """Map-style dataset: item i is episode i (or its i-th window), read from its shard."""

    def __init__(
        self,
        directory: str | os.PathLike,
        fields: list[str] | None = None,
        window: int | None = None,
        stride: int | None = None,
        max_open_shards: int = 4,
        verify: bool = True,
    ) -> None:
        """fields: stored fields to load (None: all); window/stride: frames per item and step
        between windows (None: whole episodes); max_open_shards: LRU size of open shard files."""
        self.shards = ClimbShards(directory, verify=verify)
        self.fields = self.shards.check_fields(fields)
        self.window = window
        self.starts = _windows(self.shards.manifest.frames, window, stride)
        if max_open_shards < 1:
            raise ValueError(f"max_open_shards={max_open_shards}: expected >= 1")
        self.max_open_shards = max_open_shards
        self._open: OrderedDict[int, ShardReader] = OrderedDict()

    def __len__(self) -> int:
        return self.shards.num_episodes * len(self.starts)

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for a dataset of {len(self)} items")
        i %= len(self)
        episode, w = divmod(i, len(self.starts))
        pos, local = self.shards.locate(episode)
        arrays = self._reader(pos).read(local, self.fields)
        return _to_item(arrays, self.shards.fields, self.starts[w], self.window)

    def _reader(self, pos: int) -> ShardReader:
        if pos in self._open:
            self._open.move_to_end(pos)
            return self._open[pos]
        reader = self.shards.open(pos)
        self._open[pos] = reader
        while len(self._open) > self.max_open_shards:
            self._open.popitem(last=False)[1].close()
        return reader

    def __getstate__(self) -> dict[str, Any]:
        # open zip handles do not cross process boundaries; each worker opens its own
        return {**self.__dict__, "_open": OrderedDict()}


def _dist_rank_world(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """(rank, world size): the arguments, else torch.distributed's if initialised, else (0, 1)."""
    if rank is None or world_size is None:
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            rank = dist.get_rank() if rank is None else rank
            world_size = dist.get_world_size() if world_size is None else world_size
        else:
            rank = 0 if rank is None else rank
            world_size = 1 if world_size is None else world_size
    if not 0 <= rank < world_size:
        raise ValueError(f"rank={rank}, world_size={world_size}: expected 0 <= rank < world_size")
    return rank, world_size


class ClimbIterableDataset(IterableDataset):
    """Streaming dataset: shards are split across distributed ranks and DataLoader workers.

    Consumer c of C (c = rank * workers + worker id) reads shards c, c + C, c + 2C, ... of the
    epoch's shard order, so every episode is read exactly once per epoch across all consumers
    (consumers may get different counts when C does not divide the number of shards).
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        fields: list[str] | None = None,
        window: int | None = None,
        stride: int | None = None,
        shuffle_shards: bool = True,
        shuffle_episodes: bool = True,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        verify: bool = True,
    ) -> None:
        """shuffle_*: seeded by (seed, epoch) (call `set_epoch` each epoch); rank/world_size:
        default from torch.distributed when it is initialised, else a single process."""
        self.shards = ClimbShards(directory, verify=verify)
        self.fields = self.shards.check_fields(fields)
        self.window = window
        self.starts = _windows(self.shards.manifest.frames, window, stride)
        self.shuffle_shards, self.shuffle_episodes = shuffle_shards, shuffle_episodes
        self.seed = int(seed)
        self.epoch = 0
        self.rank, self.world_size = _dist_rank_world(rank, world_size)

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for a new epoch (same seed and epoch -> same order)."""
        self.epoch = int(epoch)

    def shard_order(self) -> list[int]:
        """Positions of the shards in this epoch's order (the same for every consumer)."""
        n = len(self.shards.shards)
        if not self.shuffle_shards:
            return list(range(n))
        return np.random.default_rng([self.seed, self.epoch]).permutation(n).tolist()

    def assigned_shards(self, worker_id: int = 0, num_workers: int = 1) -> list[int]:
        """Shard positions read by one (rank, worker) consumer in this epoch."""
        consumer = self.rank * num_workers + worker_id
        return self.shard_order()[consumer :: self.world_size * num_workers]

    def __iter__(self):
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        for pos in self.assigned_shards(wid, nw):
            reader = self.shards.open(pos)
            try:
                order = np.arange(reader.record.episodes)
                if self.shuffle_episodes:
                    rng = np.random.default_rng([self.seed, self.epoch, pos])
                    order = rng.permutation(order)
                for local in order:
                    arrays = reader.read(int(local), self.fields)
                    for start in self.starts:
                        yield _to_item(arrays, self.shards.fields, start, self.window)
            finally:
                reader.close()

    def __len__(self) -> int:
        """Items in the whole dataset (all consumers together)."""
        return self.shards.num_episodes * len(self.starts)


def field_summary(shards: ClimbShards) -> list[str]:
    """One line per stored field: name, shape and dtype."""
    if not shards.fields:
        raise DatasetError(f"{shards.directory}: the manifest lists no fields")
    return [f"{k:18s} {v.shape!s:24s} {v.dtype}" for k, v in shards.fields.items()]


def plan_summary(shards: ClimbShards) -> str | None:
    """One line on the plans the episodes were cut from: how many reach the top, how many come
    from a route tried after the drawn one sank, how many still sink deeper than the dataset's
    `max_penetration_m`; None for a dataset without those fields (written before navenv 0.2)."""
    wanted = ["success", "plan_try", "plan_penetration"]
    if shards.num_episodes == 0 or any(f not in shards.fields for f in wanted):
        return None
    cols = shards.columns(wanted)
    success, tries, deepest = cols["success"], cols["plan_try"], cols["plan_penetration"]
    limit = shards.manifest.config.get("max_penetration_m")
    over = "no limit" if limit is None else f"{int((deepest > limit).sum())} deeper than {limit} m"
    return (
        f"plans: {int(success.sum())}/{len(success)} episodes from climbs that reach the top; "
        f"{int((tries > 0).sum())} from a route tried after the drawn one sank; "
        f"{over}; deepest {1000 * float(deepest.max()):.0f} mm"
    )
