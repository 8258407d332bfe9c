"""Token cache: a dataset's frames encoded once by a frozen encoder, read back memory-mapped.

`encode_dataset(DIR)` (``navenv data encode DIR``) writes, under ``DIR/encoded/<encoder name>/``::

    meta.json                encoder (name, config, weights sha256), tokens (P, D, float16),
                             settings (ego, fps_stride, kept frames), the dataset's identity
                             (manifest config sha256, every shard's sha256) and the shards done
    blank.npy                (1, P, D) tokens of an all-black frame: what padded context slots
                             read (SABR-CLIMB pads with a stored encoder output of a blank frame)
    shard-00000.tokens.npy   (U, P, D) float16 tokens of the shard's distinct frames
    shard-00000.tripod.npy   (E, T') int32: row in tokens of each kept tripod frame
    shard-00000.context.npy  (E, C) int32: row of each context frame, -1 for padding slots
    shard-00000.ego.npy      (E, T') int32 (only with ego=True)

Frames are deduplicated by hashing their bytes (BLAKE2b, 128 bits) across the whole shard, so
the static tripod video (one rendered frame repeated) and context frames repeated by the clips of
one climb are encoded and stored once. T' = ceil(T / fps_stride): every fps_stride-th frame.

Every file is written to a temporary name and renamed into place, shard by shard, and meta.json
lists a shard only after its files are in place: a killed run resumes where it stopped (shards
listed, present and of the recorded size are skipped). A cache made by another encoder, other
weights or settings, or from a dataset whose shards changed raises `CacheMismatchError` naming
what differs, unless ``overwrite=True`` (``--overwrite``), which re-encodes everything.
`TokenCache(dir)` reads episodes back from arrays opened with ``np.load(mmap_mode="r")``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from policies.data.dataset import ClimbShards
from policies.encoders.base import ImageEncoder, make_encoder
from scenes.atomic import write_atomic

FORMAT = 1
META = "meta.json"
BLANK = "blank.npy"
KINDS = ("tripod", "context", "ego")


class CacheError(ValueError):
    """A token cache that is missing, incomplete or malformed (the message says which)."""


class CacheMismatchError(CacheError):
    """A token cache made with another encoder, other settings or from a changed dataset."""


@dataclass(frozen=True)
class EncodeSummary:
    """What an `encode_dataset` run did."""

    directory: Path
    shards_encoded: int
    shards_skipped: int
    episodes: int  # in the shards encoded by this run
    frame_slots: int  # tripod, context and ego frames those episodes refer to
    unique_frames: int  # frames actually encoded (after deduplication)
    seconds: float

    def line(self) -> str:
        """One-line human summary."""
        return (
            f"encoded {self.shards_encoded} shard(s) ({self.episodes} episodes, "
            f"{self.frame_slots} frames -> {self.unique_frames} distinct) in {self.seconds:.1f} s; "
            f"skipped {self.shards_skipped} complete shard(s); cache: {self.directory}"
        )


def shard_files(index: int, ego: bool) -> dict[str, str]:
    """File name of each array of shard `index`: tokens, tripod, context (and ego)."""
    kinds = ("tokens", *KINDS) if ego else ("tokens", "tripod", "context")
    return {k: f"shard-{index:05d}.{k}.npy" for k in kinds}


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _frame_key(frame: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(frame).tobytes(), digest_size=16).digest()


def _header(enc: ImageEncoder, shards: ClimbShards, ego: bool, fps_stride: int) -> dict[str, Any]:
    """Everything that must match for cached tokens to be reused."""
    man = shards.manifest
    return {
        "format": FORMAT,
        "encoder": {
            "name": enc.name,
            "config": enc.config_dict(),
            "weights_sha256": enc.weights_sha256(),
        },
        "tokens": {"P": enc.num_tokens(man.height, man.width), "D": enc.dim, "dtype": "float16"},
        "settings": {
            "ego": bool(ego),
            "fps_stride": int(fps_stride),
            "frames": list(range(0, man.frames, fps_stride)),
            "height": man.height,
            "width": man.width,
            "max_context": shards.fields["context"].shape[0],
        },
    }


def _dataset_identity(shards: ClimbShards) -> dict[str, Any]:
    config = json.dumps(shards.manifest.config, sort_keys=True).encode()
    return {
        "directory": str(shards.directory.resolve()),
        "manifest_config_sha256": hashlib.sha256(config).hexdigest(),
        "shards": [
            {"index": s.index, "name": s.name, "sha256": s.sha256, "episodes": s.episodes}
            for s in shards.shards
        ],
    }


def _diff(old: Any, new: Any, where: str = "") -> list[str]:
    """Dotted paths where two JSON objects differ, with both values (short)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in sorted(set(old) | set(new)):
            out += _diff(old.get(k), new.get(k), f"{where}.{k}" if where else k)
        return out
    if old == new:
        return []
    return [f"{where}: cache {str(old)[:40]!r}, now {str(new)[:40]!r}"]


def _load_meta(out: Path) -> dict[str, Any] | None:
    path = out / META
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CacheError(f"{path}: unreadable ({e}); delete the cache or pass --overwrite") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "done" not in meta:
        raise CacheError(f"{path}: not a format-{FORMAT} token cache; pass --overwrite")
    return meta


def _check_dataset(meta: dict, identity: dict, out: Path) -> None:
    """CacheMismatchError if the dataset the cache was made from has changed."""
    old, new = meta["dataset"], identity
    if old["manifest_config_sha256"] != new["manifest_config_sha256"]:
        raise CacheMismatchError(
            f"{out}: encoded from a dataset generated with another config; pass --overwrite "
            "to re-encode it"
        )
    now = {s["index"]: s["sha256"] for s in new["shards"]}
    for rec in meta["done"]:
        if now.get(rec["index"]) != rec["dataset_sha256"]:
            what = "is gone" if rec["index"] not in now else "changed (sha256 differs)"
            raise CacheMismatchError(
                f"{out}: dataset shard {rec['dataset_shard']} {what} since it was encoded; "
                "pass --overwrite to re-encode the dataset"
            )


def _clear(out: Path) -> None:
    """Remove every file a cache writes (and nothing else)."""
    for p in out.glob("shard-*.npy"):
        p.unlink()
    for name in (BLANK, META):
        (out / name).unlink(missing_ok=True)


def encode_dataset(
    dataset_dir: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    encoder: str | ImageEncoder = "navenv-cnn",
    *,
    encoder_path: str | os.PathLike | None = None,
    ego: bool = False,
    fps_stride: int = 1,
    batch: int = 64,
    device: str = "cpu",
    progress: bool = True,
    overwrite: bool = False,
) -> EncodeSummary:
    """Encode (or resume encoding) the dataset in `dataset_dir` into a token cache (default
    ``dataset_dir/encoded/<encoder name>/``); encoder: a name for `make_encoder` (with
    `encoder_path` as its path=) or a frozen `ImageEncoder`."""
    if isinstance(fps_stride, bool) or int(fps_stride) != fps_stride or fps_stride < 1:
        raise ValueError(f"fps_stride={fps_stride!r}: expected an int >= 1")
    if batch < 1:
        raise ValueError(f"batch={batch}: expected >= 1")
    start = time.perf_counter()
    shards = ClimbShards(dataset_dir)
    if isinstance(encoder, str):
        kw: dict[str, Any] = {"device": device}
        if encoder_path is not None:
            kw["path"] = encoder_path
        enc = make_encoder(encoder, **kw)
    else:
        enc = encoder.freeze()
    out = Path(out_dir) if out_dir is not None else shards.directory / "encoded" / enc.name
    header = _header(enc, shards, ego, fps_stride)
    identity = _dataset_identity(shards)
    out.mkdir(parents=True, exist_ok=True)
    for tmp in out.glob(".*.tmp"):  # left by a killed run
        tmp.unlink()
    meta = _load_meta(out)
    if meta is not None and overwrite:
        _clear(out)
        meta = None
    fresh = meta is None
    if meta is not None:
        problems = _diff({k: meta.get(k) for k in header}, header)
        if problems:
            raise CacheMismatchError(
                f"{out}: holds tokens made with other settings ({'; '.join(problems[:4])}); "
                "pass --overwrite to re-encode, or choose another output directory"
            )
        _check_dataset(meta, identity, out)
    done = {r["index"]: r for r in (meta or {}).get("done", []) if _files_ok(out, r)}
    meta = {**header, "dataset": identity, "done": sorted(done.values(), key=lambda r: r["index"])}
    if fresh or not (out / BLANK).is_file():  # a blank.npy without meta.json: not ours to trust
        s = header["settings"]
        blank = np.zeros((1, 1, s["height"], s["width"], 3), np.uint8)
        write_atomic(out / BLANK, _npy_bytes(enc(blank)[0].numpy().astype(np.float16)))
    write_atomic(out / META, (json.dumps(meta, indent=1) + "\n").encode())

    todo = [(pos, rec) for pos, rec in enumerate(shards.shards) if rec.index not in done]
    bar = tqdm(
        total=shards.num_episodes,
        initial=shards.num_episodes - sum(r.episodes for _, r in todo),
        unit="ep",
        desc=f"encode {enc.name}",
        disable=not progress,
    )
    slots = unique = 0
    try:
        for pos, rec in todo:
            record = _encode_shard(shards, pos, enc, out, header, batch)
            slots += record["frame_slots"]
            unique += record["unique_frames"]
            done[rec.index] = record
            meta["done"] = sorted(done.values(), key=lambda r: r["index"])
            write_atomic(out / META, (json.dumps(meta, indent=1) + "\n").encode())
            bar.update(rec.episodes)
    finally:
        bar.close()
    return EncodeSummary(
        directory=out,
        shards_encoded=len(todo),
        shards_skipped=len(shards.shards) - len(todo),
        episodes=sum(r.episodes for _, r in todo),
        frame_slots=slots,
        unique_frames=unique,
        seconds=time.perf_counter() - start,
    )


def _files_ok(out: Path, record: dict) -> bool:
    """Whether every file of a done shard is present with its recorded size."""
    return all(
        (out / f["name"]).is_file() and (out / f["name"]).stat().st_size == f["bytes"]
        for f in record["files"].values()
    )


def _encode_shard(
    shards: ClimbShards, pos: int, enc: ImageEncoder, out: Path, header: dict, batch: int
) -> dict[str, Any]:
    """Encode one dataset shard's distinct frames and write its arrays; returns its record."""
    rec = shards.shards[pos]
    s = header["settings"]
    ego, frames_kept = s["ego"], np.asarray(s["frames"])
    fields = ["tripod_rgb", "context", "context_count"] + (["ego_rgb"] if ego else [])
    rows: dict[bytes, int] = {}
    distinct: list[np.ndarray] = []

    def row(frame: np.ndarray) -> int:
        key = _frame_key(frame)
        if key not in rows:
            rows[key] = len(distinct)
            distinct.append(frame)
        return rows[key]

    index = {k: [] for k in KINDS if k != "ego" or ego}
    reader = shards.open(pos)
    try:
        for i in range(rec.episodes):
            ep = reader.read(i, fields)
            index["tripod"].append([row(f) for f in ep["tripod_rgb"][frames_kept]])
            n_ctx = int(ep["context_count"])
            ctx = [row(f) for f in ep["context"][:n_ctx]]
            index["context"].append(ctx + [-1] * (len(ep["context"]) - n_ctx))
            if ego:
                index["ego"].append([row(f) for f in ep["ego_rgb"][frames_kept]])
    finally:
        reader.close()
    names = shard_files(rec.index, ego)
    files: dict[str, dict[str, Any]] = {}
    for kind, idx in index.items():
        data = _npy_bytes(np.asarray(idx, dtype=np.int32))
        write_atomic(out / names[kind], data)
        files[kind] = {"name": names[kind], "bytes": len(data)}
    files["tokens"] = _write_tokens(out / names["tokens"], distinct, enc, header, batch)
    return {
        "index": rec.index,
        "dataset_shard": rec.name,
        "dataset_sha256": rec.sha256,
        "episodes": rec.episodes,
        "unique_frames": len(distinct),
        "frame_slots": sum(int((np.asarray(v) >= 0).sum()) for v in index.values()),
        "files": files,
    }


def _write_tokens(
    path: Path, frames: list[np.ndarray], enc: ImageEncoder, header: dict, batch: int
) -> dict[str, Any]:
    """Encode `frames` in batches straight into a memory-mapped temporary .npy, then rename it."""
    p, d = header["tokens"]["P"], header["tokens"]["D"]
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(len(frames), p, d))
        for s in range(0, len(frames), batch):
            chunk = torch.from_numpy(np.stack(frames[s : s + batch]))[None]  # (1, n, H, W, 3)
            arr[s : s + len(chunk[0])] = enc(chunk)[0].numpy().astype(np.float16)  # (n, P, D)
        arr.flush()
        del arr
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {"name": path.name, "bytes": path.stat().st_size}


class TokenCache:
    """Read a token cache: episode i -> tripod (T', P, D), context (C, P, D), [ego] float16."""

    def __init__(self, directory: str | os.PathLike) -> None:
        """Open the cache in `directory` (CacheError if missing or incomplete)."""
        self.directory = Path(directory)
        meta = _load_meta(self.directory)
        if meta is None:
            raise CacheError(
                f"{self.directory}: no {META}; make the cache with `navenv data encode DATASET`"
            )
        self.meta = meta
        listed = {s["index"] for s in meta["dataset"]["shards"]}
        self.records = sorted(meta["done"], key=lambda r: r["index"])
        missing = sorted(listed - {r["index"] for r in self.records})
        if missing:
            raise CacheError(
                f"{self.directory}: incomplete: {len(missing)} of {len(listed)} dataset shards "
                f"not encoded yet (first: {missing[0]}); rerun `navenv data encode` to finish"
            )
        self.ego = bool(meta["settings"]["ego"])
        self._starts = np.cumsum([0] + [r["episodes"] for r in self.records])
        self._arrays: dict[int, dict[str, np.ndarray]] = {}
        self.blank = np.load(self.directory / BLANK, mmap_mode="r")[0]  # (P, D)

    @property
    def num_tokens(self) -> int:
        """Tokens P per frame."""
        return int(self.meta["tokens"]["P"])

    @property
    def dim(self) -> int:
        """Token width D."""
        return int(self.meta["tokens"]["D"])

    @property
    def frames(self) -> list[int]:
        """Dataset frame index of each cached tripod (and ego) frame."""
        return list(self.meta["settings"]["frames"])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _shard(self, i: int) -> tuple[dict[str, np.ndarray], int]:
        if not 0 <= i < len(self):
            raise IndexError(f"episode {i} out of range [0, {len(self)})")
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        if k not in self._arrays:
            files = self.records[k]["files"]
            self._arrays[k] = {
                kind: np.load(self.directory / f["name"], mmap_mode="r", allow_pickle=False)
                for kind, f in files.items()
            }
        return self._arrays[k], i - int(self._starts[k])

    def episode(self, i: int) -> dict[str, Any]:
        """tripod (T', P, D), context (C, P, D) (padding slots: the blank frame's tokens),
        context_count, and ego (T', P, D) when cached; float16 numpy arrays."""
        arrays, local = self._shard(i)
        tokens = arrays["tokens"]
        ctx_idx = np.asarray(arrays["context"][local])
        context = tokens[np.maximum(ctx_idx, 0)]
        context[ctx_idx < 0] = self.blank
        out: dict[str, Any] = {
            "tripod": tokens[np.asarray(arrays["tripod"][local])],
            "context": context,
            "context_count": int((ctx_idx >= 0).sum()),
        }
        if self.ego:
            out["ego"] = tokens[np.asarray(arrays["ego"][local])]
        return out

    __getitem__ = episode

    def distinct(self, i: int, kind: str = "tripod") -> tuple[np.ndarray, np.ndarray]:
        """Episode i's `kind` frames compactly: distinct tokens (U, P, D) and index (T',)."""
        if kind not in ("tripod", "ego") or (kind == "ego" and not self.ego):
            raise KeyError(f"kind={kind!r}: cached video kinds: {['tripod'] + ['ego'] * self.ego}")
        arrays, local = self._shard(i)
        rows, index = np.unique(np.asarray(arrays[kind][local]), return_inverse=True)
        return arrays["tokens"][rows], index.astype(np.int64)
