"""Sharded episode storage: shard files, the manifest, checksums, atomic writes.

On disk a dataset is a directory::

    manifest.json          format version, generator config, navenv version, counts, per-field
                           shapes/dtypes, fps, resolution, and one record per complete shard
                           (file name, sha256, episode count, byte size, first episode index)
    shard-00000.npz        `shard_size` episodes
    shard-00001.npz        ...

A shard is a plain zip of ``.npy`` members (numpy's npz layout, readable by ``np.load(path,
allow_pickle=False)``), one member per episode and field: ``"<episode in shard, 5 digits>/<field>"``.
Members are deflate-compressed: the tripod video repeats one frame, and deflate shrinks it to
almost nothing while keeping every field a fixed-shape array. Strings are fixed-width unicode
arrays, never objects, so no member needs pickle. One member per episode (rather than one stacked
array per field) lets readers decompress a single episode, so memory does not grow with shard
size. Members carry a fixed timestamp: the same episodes give the same shard bytes.

Every file is written to a temporary name in the same directory and renamed into place, so a
killed writer leaves either the old file or the new one, never half of one. Readers check a
shard's sha256 against the manifest before its first read and raise `DatasetError` on mismatch.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scenes.atomic import write_atomic

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SHARD_PREFIX = "shard-"
SHARD_SUFFIX = ".npz"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed member timestamp: same arrays -> same bytes
_HASH_CHUNK = 1 << 20


class DatasetError(ValueError):
    """A dataset directory, manifest or shard is missing, malformed or corrupt (message says which)."""


class DatasetConfigError(DatasetError):
    """A dataset directory was written with a different generator config than the one requested."""


@dataclass(frozen=True)
class FieldSpec:
    """Shape and dtype of one per-episode array; per-frame fields have the frame axis first."""

    shape: tuple[int, ...]
    dtype: str
    per_frame: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        if any(s < 0 for s in self.shape):
            raise DatasetError(f"FieldSpec.shape={self.shape}: sizes must be >= 0")
        try:
            dt = np.dtype(self.dtype)
        except TypeError as e:
            raise DatasetError(f"FieldSpec.dtype={self.dtype!r}: not a numpy dtype ({e})") from e
        if dt.hasobject:
            raise DatasetError(f"FieldSpec.dtype={self.dtype!r}: object arrays need pickle")
        object.__setattr__(self, "dtype", dt.str)
        if self.per_frame and not self.shape:
            raise DatasetError("FieldSpec: a per-frame field needs a frame axis")

    def to_json(self) -> dict[str, Any]:
        """JSON form: {"shape": [...], "dtype": "<f4", "per_frame": bool}."""
        return {"shape": list(self.shape), "dtype": self.dtype, "per_frame": self.per_frame}

    @classmethod
    def from_json(cls, obj: dict[str, Any], where: str) -> FieldSpec:
        """Inverse of `to_json`; `where` names the place in error messages."""
        try:
            return cls(tuple(obj["shape"]), str(obj["dtype"]), bool(obj.get("per_frame", False)))
        except (KeyError, TypeError) as e:
            raise DatasetError(f"{where}: expected shape, dtype and per_frame ({e})") from e


@dataclass(frozen=True)
class ShardRecord:
    """One complete shard as the manifest lists it."""

    index: int
    name: str
    sha256: str
    episodes: int
    bytes: int
    first_episode: int

    @classmethod
    def from_json(cls, obj: dict[str, Any], where: str) -> ShardRecord:
        """Parse a manifest entry; `where` names it in error messages."""
        try:
            rec = cls(**{k: obj[k] for k in cls.__dataclass_fields__})
        except (KeyError, TypeError) as e:
            raise DatasetError(f"{where}: malformed shard record ({e})") from e
        if rec.name != shard_name(rec.index) or rec.episodes < 1 or len(rec.sha256) != 64:
            raise DatasetError(f"{where}: inconsistent shard record {obj}")
        return rec


@dataclass
class Manifest:
    """Everything a reader needs to know about a dataset directory without opening shards."""

    config: dict[str, Any]
    fields: dict[str, FieldSpec]
    fps: float
    width: int
    height: int
    frames: int  # frames per episode
    episodes_planned: int  # episodes the full dataset will have
    shards: list[ShardRecord] = field(default_factory=list)
    navenv_version: str = ""
    format_version: int = FORMAT_VERSION

    @property
    def episodes(self) -> int:
        """Episodes in complete shards."""
        return sum(s.episodes for s in self.shards)

    @property
    def complete(self) -> bool:
        """Whether every planned episode is in a complete shard."""
        return self.episodes == self.episodes_planned

    @property
    def bytes(self) -> int:
        """Total size of the complete shards."""
        return sum(s.bytes for s in self.shards)

    def to_json(self) -> dict[str, Any]:
        """The manifest.json object (counts included for people reading the file)."""
        return {
            "format_version": self.format_version,
            "navenv_version": self.navenv_version,
            "config": self.config,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "frames_per_episode": self.frames,
            "counts": {
                "episodes_planned": self.episodes_planned,
                "episodes": self.episodes,
                "frames": self.episodes * self.frames,
                "shards": len(self.shards),
                "bytes": self.bytes,
                "complete": self.complete,
            },
            "fields": {k: v.to_json() for k, v in self.fields.items()},
            "shards": [asdict(s) for s in sorted(self.shards, key=lambda s: s.index)],
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Manifest:
        """Parse and validate a manifest.json object; errors name `where` and the field."""
        if not isinstance(obj, dict):
            raise DatasetError(f"{where}: expected a JSON object")
        version = obj.get("format_version")
        if version != FORMAT_VERSION:
            raise DatasetError(
                f"{where}: format_version {version!r}; this navenv reads {FORMAT_VERSION}"
            )
        try:
            counts = obj["counts"]
            man = cls(
                config=dict(obj["config"]),
                fields={
                    k: FieldSpec.from_json(v, f"{where}: fields.{k}")
                    for k, v in obj["fields"].items()
                },
                fps=float(obj["fps"]),
                width=int(obj["width"]),
                height=int(obj["height"]),
                frames=int(obj["frames_per_episode"]),
                episodes_planned=int(counts["episodes_planned"]),
                shards=[
                    ShardRecord.from_json(s, f"{where}: shards[{i}]")
                    for i, s in enumerate(obj["shards"])
                ],
                navenv_version=str(obj.get("navenv_version", "")),
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise DatasetError(f"{where}: missing or malformed field {e}") from e
        if len({s.index for s in man.shards}) != len(man.shards):
            raise DatasetError(f"{where}: a shard is listed twice")
        man.shards.sort(key=lambda s: s.index)
        return man


def shard_name(index: int) -> str:
    """File name of shard `index`."""
    return f"{SHARD_PREFIX}{index:05d}{SHARD_SUFFIX}"


def member_name(episode_in_shard: int, field_name: str) -> str:
    """npz key of one field of one episode inside a shard."""
    return f"{episode_in_shard:05d}/{field_name}"


# ------------------------------------------------------------------ writing
def encode_shard(
    episodes: list[dict[str, np.ndarray]], fields: dict[str, FieldSpec], compresslevel: int = 6
) -> bytes:
    """The bytes of a shard holding `episodes` (each a dict with exactly the `fields`)."""
    if not episodes:
        raise DatasetError("encode_shard: a shard needs at least one episode")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i, ep in enumerate(episodes):
            missing, extra = set(fields) - set(ep), set(ep) - set(fields)
            if missing or extra:
                raise DatasetError(
                    f"episode {i} of shard: missing fields {sorted(missing)}, "
                    f"unexpected fields {sorted(extra)}"
                )
            for name, spec in fields.items():
                arr = np.asarray(ep[name])
                want = np.dtype(spec.dtype)
                if want.kind == "U" and arr.dtype.kind == "U" and arr.itemsize <= want.itemsize:
                    arr = arr.astype(want)  # narrower strings are padded to the field's width
                if arr.shape != spec.shape or arr.dtype.str != spec.dtype:
                    raise DatasetError(
                        f"episode {i} of shard, field {name!r}: expected {spec.dtype} "
                        f"{spec.shape}, got {arr.dtype.str} {arr.shape}"
                    )
                member = io.BytesIO()
                np.lib.format.write_array(member, arr, allow_pickle=False)
                info = zipfile.ZipInfo(member_name(i, name) + ".npy", date_time=_ZIP_EPOCH)
                info.external_attr = 0o644 << 16
                zf.writestr(
                    info,
                    member.getvalue(),
                    compress_type=zipfile.ZIP_DEFLATED,
                    compresslevel=compresslevel,
                )
    return buf.getvalue()


def write_shard(
    directory: str | os.PathLike, index: int, data: bytes, episodes: int, first_episode: int
) -> ShardRecord:
    """Write shard bytes atomically; returns its manifest record."""
    name = shard_name(index)
    write_atomic(Path(directory) / name, data)
    return ShardRecord(
        index=index,
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        episodes=episodes,
        bytes=len(data),
        first_episode=first_episode,
    )


def write_manifest(directory: str | os.PathLike, manifest: Manifest) -> Path:
    """Write manifest.json atomically; returns its path."""
    path = Path(directory) / MANIFEST_NAME
    text = json.dumps(manifest.to_json(), indent=1, sort_keys=False) + "\n"
    write_atomic(path, text.encode())
    return path


def resume_config(out: Path, config, log) -> Manifest:
    """`resume_manifest` for a dataset config (climbing or room: to_json / from_json, fields(),
    fps, width, height, frames, episodes): the fresh manifest is built from the config."""
    import navenv

    fresh = Manifest(
        config=config.to_json(),
        fields=config.fields(),
        fps=float(config.fps),
        width=config.width,
        height=config.height,
        frames=config.frames,
        episodes_planned=config.episodes,
        navenv_version=navenv.__version__,
    )
    kind = type(config)
    return resume_manifest(out, fresh, log, normalise=lambda c: kind.from_json(c).to_json())


def resume_manifest(out: Path, fresh: Manifest, log, normalise=None) -> Manifest:
    """The manifest a generation run extends: `fresh`, or `out`'s existing one with its good
    shards kept (DatasetConfigError naming every differing key when the config differs).
    `normalise` maps a stored config to today's form (fields added since take defaults)."""
    if not (Path(out) / MANIFEST_NAME).exists():
        return fresh
    old = load_manifest(out)
    if normalise is not None:
        try:
            old.config = normalise(old.config)
        except (TypeError, ValueError):
            pass  # unknown or invalid keys: the comparison below names them
    if old.config != fresh.config:
        diff = sorted(
            k
            for k in set(old.config) | set(fresh.config)
            if old.config.get(k) != fresh.config.get(k)
        )
        detail = ", ".join(f"{k}: {old.config.get(k)!r} -> {fresh.config.get(k)!r}" for k in diff)
        raise DatasetConfigError(
            f"{out}: holds a dataset generated with a different config ({detail}); "
            "rerun with the original arguments to resume, or choose another --out"
        )
    if old.navenv_version != fresh.navenv_version:
        raise DatasetConfigError(
            f"{out}: written by navenv {old.navenv_version}, this is {fresh.navenv_version}; "
            "shards of two versions may differ: generate into a new directory"
        )
    for rec in old.shards:
        problem = check_shard(out, rec)
        if problem:
            log(f"{problem}: regenerating it")
        else:
            fresh.shards.append(rec)
    return fresh


# ------------------------------------------------------------------ reading
def load_manifest(directory: str | os.PathLike) -> Manifest:
    """Read and validate `directory`/manifest.json (DatasetError if missing or malformed)."""
    path = Path(directory) / MANIFEST_NAME
    if not Path(directory).is_dir():
        raise DatasetError(f"{directory}: not a directory (expected a dataset directory)")
    if not path.is_file():
        raise DatasetError(
            f"{path}: no manifest; not a dataset written by `navenv data generate` "
            "(or no shard has completed yet)"
        )
    try:
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"{path}: unreadable manifest ({e})") from e
    return Manifest.from_json(obj, str(path))


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks (memory independent of its size)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def check_shard(directory: str | os.PathLike, record: ShardRecord) -> str | None:
    """None if the shard file exists with the recorded size and sha256, else what is wrong."""
    path = Path(directory) / record.name
    if not path.is_file():
        return f"shard {path}: missing"
    size = path.stat().st_size
    if size != record.bytes:
        return f"shard {path}: {size} bytes, manifest says {record.bytes}"
    actual = sha256_file(path)
    if actual != record.sha256:
        return f"shard {path}: sha256 mismatch: expected {record.sha256}, got {actual}"
    return None


class ShardReader:
    """One open shard; `read(i, fields)` decompresses only episode i's requested members."""

    def __init__(
        self,
        directory: str | os.PathLike,
        record: ShardRecord,
        fields: dict[str, FieldSpec],
        verify: bool = True,
    ) -> None:
        """Open shard `record` of `directory`; with `verify` its sha256 is checked first."""
        self.path = Path(directory) / record.name
        self.record = record
        self.fields = fields
        if verify:
            problem = check_shard(directory, record)
            if problem:
                raise DatasetError(
                    f"{problem}; the file is corrupt or was replaced. Delete it and rerun "
                    "`navenv data generate` with the same arguments to regenerate it"
                )
        try:
            self._npz = np.load(self.path, allow_pickle=False)
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise DatasetError(f"shard {self.path}: not a readable shard ({e})") from e

    def read(self, episode: int, fields: list[str] | None = None) -> dict[str, np.ndarray]:
        """Arrays of episode `episode` (index within the shard) for `fields` (default: all)."""
        if not 0 <= episode < self.record.episodes:
            raise IndexError(
                f"shard {self.path}: episode {episode} out of range [0, {self.record.episodes})"
            )
        out = {}
        for name in fields if fields is not None else list(self.fields):
            spec = self.fields[name]
            try:
                arr = self._npz[member_name(episode, name)]
            except KeyError as e:
                raise DatasetError(
                    f"shard {self.path}: episode {episode} lacks field {name!r}"
                ) from e
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
                raise DatasetError(
                    f"shard {self.path}: episode {episode} field {name!r} unreadable ({e})"
                ) from e
            if arr.shape != spec.shape or arr.dtype.str != spec.dtype:
                raise DatasetError(
                    f"shard {self.path}: episode {episode} field {name!r} is {arr.dtype.str} "
                    f"{arr.shape}, manifest says {spec.dtype} {spec.shape}"
                )
            out[name] = arr
        return out

    def close(self) -> None:
        """Close the underlying zip file."""
        self._npz.close()
