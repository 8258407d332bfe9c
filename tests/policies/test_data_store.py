"""Shard files, manifest, checksums and atomic writes (policies.data.store)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from policies.data.store import (
    FORMAT_VERSION,
    DatasetError,
    FieldSpec,
    Manifest,
    ShardReader,
    check_shard,
    encode_shard,
    load_manifest,
    write_atomic,
    write_manifest,
    write_shard,
)

FIELDS = {
    "video": FieldSpec((5, 4, 4, 3), "uint8", per_frame=True),
    "feat": FieldSpec((5, 2), "float32", per_frame=True),
    "flag": FieldSpec((), "bool"),
    "name": FieldSpec((), "<U8"),
    "ids": FieldSpec((3,), "<U4"),
}


def _episode(i: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(i)
    return {
        "video": rng.integers(0, 256, (5, 4, 4, 3), dtype=np.uint8),
        "feat": rng.normal(size=(5, 2)).astype(np.float32),
        "flag": np.bool_(i % 2),
        "name": np.str_(f"ep{i}"),
        "ids": np.array(["a", "bb", ""], dtype="<U4"),
    }


def _manifest(records=()) -> Manifest:
    return Manifest(
        config={"seed": 0},
        fields=FIELDS,
        fps=30.0,
        width=4,
        height=4,
        frames=5,
        episodes_planned=4,
        shards=list(records),
        navenv_version="0.1.0",
    )


def test_shard_round_trip_is_exact_and_deterministic(tmp_path) -> None:
    eps = [_episode(i) for i in range(3)]
    data = encode_shard(eps, FIELDS)
    assert data == encode_shard([_episode(i) for i in range(3)], FIELDS)  # same arrays, same bytes
    rec = write_shard(tmp_path, 7, data, episodes=3, first_episode=14)
    assert rec.name == "shard-00007.npz" and rec.bytes == len(data)
    assert check_shard(tmp_path, rec) is None
    reader = ShardReader(tmp_path, rec, FIELDS)
    for i, ep in enumerate(eps):
        got = reader.read(i)
        for k, v in ep.items():
            assert got[k].dtype == np.dtype(FIELDS[k].dtype) and got[k].shape == FIELDS[k].shape
            np.testing.assert_array_equal(got[k], v)
    assert set(reader.read(1, ["flag"])) == {"flag"}
    with pytest.raises(IndexError, match="out of range"):
        reader.read(3)
    reader.close()
    # plain numpy reads it without pickle
    with np.load(tmp_path / rec.name, allow_pickle=False) as z:
        assert str(z["00002/name"]) == "ep2"


def test_encode_rejects_wrong_shapes_dtypes_and_fields() -> None:
    bad = _episode(0)
    bad["feat"] = bad["feat"].astype(np.float64)
    with pytest.raises(DatasetError, match=r"field 'feat'.*<f4"):
        encode_shard([_episode(0), bad], FIELDS)
    missing = _episode(0)
    del missing["flag"]
    with pytest.raises(DatasetError, match="missing fields \\['flag'\\]"):
        encode_shard([missing], FIELDS)
    with pytest.raises(DatasetError, match="at least one episode"):
        encode_shard([], FIELDS)
    with pytest.raises(DatasetError, match="pickle"):
        FieldSpec((2,), "object")
    with pytest.raises(DatasetError, match="frame axis"):
        FieldSpec((), "float32", per_frame=True)


def test_corrupt_shard_is_reported_with_both_checksums(tmp_path) -> None:
    rec = write_shard(tmp_path, 0, encode_shard([_episode(0)], FIELDS), 1, 0)
    raw = bytearray((tmp_path / rec.name).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / rec.name).write_bytes(bytes(raw))
    problem = check_shard(tmp_path, rec)
    assert rec.sha256 in problem and "shard-00000.npz" in problem
    with pytest.raises(DatasetError) as err:
        ShardReader(tmp_path, rec, FIELDS)
    msg = str(err.value)
    assert "shard-00000.npz" in msg and rec.sha256 in msg and "got" in msg
    (tmp_path / rec.name).unlink()
    assert "missing" in check_shard(tmp_path, rec)


def test_pickled_members_are_refused(tmp_path) -> None:
    path = tmp_path / "shard-00000.npz"
    np.savez(path, **{"00000/name": np.array([{"a": 1}], dtype=object)})
    from policies.data.store import sha256_file

    rec = write_shard(tmp_path, 0, path.read_bytes(), 1, 0)
    assert rec.sha256 == sha256_file(path)
    reader = ShardReader(tmp_path, rec, {"name": FieldSpec((1,), "<U8")})
    with pytest.raises(DatasetError, match="unreadable"):
        reader.read(0)


def test_write_atomic_leaves_old_file_on_failure(tmp_path) -> None:
    path = tmp_path / "f.bin"
    write_atomic(path, b"old")
    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]  # no temporary left


def test_manifest_round_trip_and_validation(tmp_path) -> None:
    rec = write_shard(tmp_path, 0, encode_shard([_episode(0), _episode(1)], FIELDS), 2, 0)
    man = _manifest([rec])
    write_manifest(tmp_path, man)
    back = load_manifest(tmp_path)
    assert back.fields == FIELDS and back.shards == [rec] and back.config == {"seed": 0}
    assert back.episodes == 2 and not back.complete and back.bytes == rec.bytes
    obj = json.loads((tmp_path / "manifest.json").read_text())
    assert obj["counts"]["frames"] == 10 and obj["shards"][0]["sha256"] == rec.sha256

    obj["format_version"] = FORMAT_VERSION + 1
    (tmp_path / "manifest.json").write_text(json.dumps(obj))
    with pytest.raises(DatasetError, match="format_version"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DatasetError, match="manifest.json: unreadable"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(DatasetError, match="no manifest"):
        load_manifest(tmp_path)
    obj["format_version"] = FORMAT_VERSION
    obj["shards"].append(dict(obj["shards"][0]))
    (tmp_path / "manifest.json").write_text(json.dumps(obj))
    with pytest.raises(DatasetError, match="listed twice"):
        load_manifest(tmp_path)


def test_member_timestamps_are_fixed(tmp_path) -> None:
    data = encode_shard([_episode(0)], FIELDS)
    path = tmp_path / "s.npz"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
